package api

import (
	"errors"
	"net/http"

	"github.com/heraldstatus/herald/handlers/serve"
	"github.com/heraldstatus/herald/models"
	"github.com/labstack/echo/v4"
)

// The actions on one channel beside its edits: rotating its signing
// secret, a test send, and sending what it skipped while disabled.

// APIRotateChannelSecret is POST /api/v1/channels/:id/rotate-secret: a
// new signing secret, shown this once; the previous one keeps signing
// beside it until previous_secret_expires_at.
func (h *Handler) APIRotateChannelSecret(c echo.Context) error {
	// It takes no body; a malformed one is refused, not ignored.
	if err := decodeNoFields(c); err != nil {
		return h.apiFail(c, err, "")
	}
	id, ok := apiPathID(c, "id")
	if !ok {
		return serve.JSONError(c, http.StatusNotFound, "not_found", channelGone, "")
	}
	if _, err := h.pageChannel(c, id); err != nil {
		return h.apiFail(c, err, channelGone)
	}
	cn, err := h.Store.RotateChannelSecret(c.Request().Context(), id, h.Rotation)
	var ve *models.ValidationError
	switch {
	case errors.As(err, &ve):
		return serve.JSONError(c, http.StatusUnprocessableEntity, "validation_failed",
			"Only webhook channels have a signing secret.", "type")
	case errors.Is(err, models.ErrNoSealer):
		return serve.JSONError(c, http.StatusConflict, "channel_unreadable",
			"Herald cannot read this channel's secrets with its secret key. PATCH the channel with its url first.", "")
	case err != nil:
		return h.apiFail(c, err, channelGone)
	}
	out := channelJSON(cn, h.Now())
	out.SigningSecret = cn.Secret
	return c.JSON(http.StatusOK, out)
}

// apiTestResult is a test send: its delivery and its one attempt.
type apiTestResult struct {
	Delivery apiDelivery `json:"delivery"`
	Attempt  apiAttempt  `json:"attempt"`
}

// testBody is the body of POST /api/v1/channels/:id/test.
type testBody struct {
	Event optional[string] `json:"event"`
}

// APISendChannelTest is POST /api/v1/channels/:id/test: a sample event
// sent at once, answered with the request made and the receiver's
// answer. It is logged like any delivery, marked as a test.
func (h *Handler) APISendChannelTest(c echo.Context) error {
	id, ok := apiPathID(c, "id")
	if !ok {
		return serve.JSONError(c, http.StatusNotFound, "not_found", channelGone, "")
	}
	var body testBody
	if err := decodeJSON(c, &body); err != nil {
		return h.apiFail(c, err, "")
	}
	ctx := c.Request().Context()
	cn, err := h.pageChannel(c, id)
	if err != nil {
		return h.apiFail(c, err, channelGone)
	}
	if h.Notifier == nil {
		return serve.JSONError(c, http.StatusServiceUnavailable, "unavailable", "Test sends are not available on this server.", "")
	}
	res, err := h.Notifier.SendTest(ctx, cn, models.EventType(body.Event.Value))
	var ve *models.ValidationError
	if errors.As(err, &ve) && ve.Fields["event"] != "" {
		ve.Fields["event"] = "Use one of: " + eventTypeNames() + "."
	}
	if err != nil {
		return h.apiFail(c, err, channelGone)
	}
	d, err := h.Store.Delivery(ctx, res.Delivery.ID)
	if err != nil {
		return h.apiFail(c, err, deliveryGone)
	}
	return c.JSON(http.StatusOK, apiTestResult{Delivery: deliveryJSON(d), Attempt: attemptJSON(res.Attempt)})
}

// apiSkippedAnswer is the answer of POST /api/v1/channels/:id/send-skipped.
type apiSkippedAnswer struct {
	// Queued counts the skipped deliveries queued, to go out oldest event
	// first; 0 when there were none.
	Queued int `json:"queued"`
}

// APISendSkipped is POST /api/v1/channels/:id/send-skipped: the
// deliveries of events that happened while the channel was disabled
// (state "skipped") are queued, to go out now, oldest event first.
// Enabling a channel never sends them on its own. 202; a disabled
// channel is a 409.
func (h *Handler) APISendSkipped(c echo.Context) error {
	// It takes no body; a malformed one is refused, not ignored.
	if err := decodeNoFields(c); err != nil {
		return h.apiFail(c, err, "")
	}
	id, ok := apiPathID(c, "id")
	if !ok {
		return serve.JSONError(c, http.StatusNotFound, "not_found", channelGone, "")
	}
	if _, err := h.pageChannel(c, id); err != nil {
		return h.apiFail(c, err, channelGone)
	}
	n, err := h.Store.QueueSkippedDeliveries(c.Request().Context(), id)
	if errors.Is(err, models.ErrChannelDisabled) {
		return serve.JSONError(c, http.StatusConflict, "channel_disabled",
			`The channel is disabled. Enable it first (PATCH the channel with {"enabled": true}), then send what it skipped.`, "")
	}
	if err != nil {
		return h.apiFail(c, err, channelGone)
	}
	return c.JSON(http.StatusAccepted, apiSkippedAnswer{Queued: n})
}
