package models

import "strings"

// accentHex is each accent's colour on a light background, as the
// stylesheet's .accent-* classes give it. Pages saved before the palette
// hold "#0969da", the first migration's default: blue.
var accentHex = map[string]string{
	"#0969da": "blue",
	"#8250df": "purple",
	"#bf3989": "pink",
	"#cf222e": "red",
	"#bc4c00": "orange",
	"#1a7f37": "green",
	"#0f7b7b": "teal",
	"#59636e": "gray",
}

// AccentName is the accent that value names: one of Accents, whatever
// its case, or its #rrggbb colour (#0969DA is "blue"). It is "" for
// anything else. Pages store and the audit log records the name, so an
// accent reads the same everywhere.
func AccentName(value string) string {
	v := strings.ToLower(strings.TrimSpace(value))
	if v == "grey" {
		v = "gray"
	}
	for _, a := range Accents {
		if v == a {
			return a
		}
	}
	return accentHex[v]
}
