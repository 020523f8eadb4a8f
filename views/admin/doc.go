// Package admin holds the templ components of the admin's screens, the
// pages a signed-in admin sees under /admin, with the first-run and
// sign-in forms, and the view structs they take.
//
// It may import templ, the standard library and views/layout, never
// views/site: what both audiences print belongs in views/layout.
package admin
