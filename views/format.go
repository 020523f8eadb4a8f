package views

import (
	"strconv"
	"strings"
)

func itoa(n int) string { return strconv.Itoa(n) }

func inputType(t string) string {
	if t == "" {
		return "text"
	}
	return t
}

// describedBy links an input to its help and error paragraphs.
func describedBy(name, help, err string) string {
	var ids []string
	if help != "" {
		ids = append(ids, "h-"+name)
	}
	if err != "" {
		ids = append(ids, "e-"+name)
	}
	return strings.Join(ids, " ")
}

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }
