package layout

import (
	"strconv"
	"strings"
)

// Itoa prints n.
func Itoa(n int) string { return strconv.Itoa(n) }

// InputType is an input's type attribute: t, or "text".
func InputType(t string) string {
	if t == "" {
		return "text"
	}
	return t
}

// DescribedBy links an input to its help and error paragraphs.
func DescribedBy(name, help, err string) string {
	var ids []string
	if help != "" {
		ids = append(ids, "h-"+name)
	}
	if err != "" {
		ids = append(ids, "e-"+name)
	}
	return strings.Join(ids, " ")
}

// Itoa64 prints n.
func Itoa64(n int64) string { return strconv.FormatInt(n, 10) }
