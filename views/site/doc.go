// Package site holds the templ components visitors see: the status page,
// the history archive and the permalinks of incidents and maintenance
// windows, with the view structs they take.
//
// It may import templ, the standard library and views/layout, never
// views/admin: what both audiences print belongs in views/layout.
package site
