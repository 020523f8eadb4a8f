package api

import "github.com/heraldstatus/herald/handlers/serve"

// Handler serves the admin JSON API.
type Handler struct {
	*serve.Base
}

// New builds a Handler on base.
func New(base *serve.Base) *Handler {
	return &Handler{Base: base}
}
