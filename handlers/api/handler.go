package api

import "github.com/heraldstatus/herald/handlers/serve"

// Handler serves the admin JSON API.
type Handler struct {
	*serve.Base
	// EmailLinks says whether private pages send sign-in links by e-mail
	// (SMTP is configured): only then are e-mail domains a way in.
	EmailLinks bool
}

// New builds a Handler on base.
func New(base *serve.Base) *Handler {
	return &Handler{Base: base}
}
