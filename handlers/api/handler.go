package api

import (
	"time"

	"github.com/heraldstatus/herald/handlers/serve"
	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/notify"
)

// Options configure a Handler.
type Options struct {
	// Base is the store and logger every audience shares.
	Base *serve.Base
	// Notifier sends test notifications; nil disables test sends.
	Notifier *notify.Engine
	// Egress is the delivery egress policy, for warnings in answers.
	Egress notify.Policy
	// RotationWindow is how long a rotated-out signing secret keeps
	// signing; 0 means models.DefaultRotationWindow.
	RotationWindow time.Duration
}

// Handler serves the admin JSON API.
type Handler struct {
	*serve.Base
	notifier *notify.Engine
	egress   notify.Policy
	rotation time.Duration
}

// New builds a Handler.
func New(o Options) *Handler {
	rotation := o.RotationWindow
	if rotation == 0 {
		rotation = models.DefaultRotationWindow
	}
	return &Handler{Base: o.Base, notifier: o.Notifier, egress: o.Egress, rotation: rotation}
}
