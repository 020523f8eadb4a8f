package admin

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/heraldstatus/herald/handlers/serve"
	"github.com/heraldstatus/herald/models"
	views "github.com/heraldstatus/herald/views/admin"
	"github.com/heraldstatus/herald/views/layout"
	"github.com/labstack/echo/v4"
)

// ShowChannel is a channel's page: notices, settings, signing secret, the
// test panel and the delivery log (filtered by the query string).
func (h *Handler) ShowChannel(c echo.Context) error {
	id, err := serve.PathID(c, "id")
	if err != nil {
		return err
	}
	cn, err := h.Store.Channel(c.Request().Context(), id)
	if err != nil {
		return err
	}
	ch, err := h.adminChrome(c, cn.Name, "channels")
	if err != nil {
		return err
	}
	return h.renderChannelPage(c, http.StatusOK, ch, cn, views.TestPanel{Event: string(models.EventIncidentCreated)})
}

func (h *Handler) renderChannelPage(c echo.Context, status int, ch layout.Chrome, cn *models.Channel, test views.TestPanel) error {
	ch.Script = h.Assets.URL("js/copy.js")
	v := views.ChannelPageView{Chrome: ch, Channel: channelSummary(cn), Test: test}
	v.Test.Available = h.Notifier != nil
	for _, e := range models.EventTypes {
		v.Test.Events = append(v.Test.Events, layout.Option{Value: string(e), Label: string(e)})
	}
	// A webhook subscriber's channel shows its delivery log only: its
	// secret is the visitor's, and the visitor manages it.
	if cn.Type == models.ChannelWebhook && !cn.Unreadable && cn.SubscriberID == nil {
		v.Secret = &views.SecretView{Secret: cn.Secret, Window: durationWords(h.Rotation)}
		if cn.PreviousSecret != "" && cn.PreviousSecretUntil != nil && cn.PreviousSecretUntil.After(h.Now()) {
			v.Secret.PreviousUntil = &layout.Time{At: *cn.PreviousSecretUntil}
		}
	}
	var err error
	if v.Deliveries, err = h.deliveryLog(c, cn.ID); err != nil {
		return err
	}
	skipped, err := h.Store.CountDeliveries(c.Request().Context(), models.DeliveryFilter{ChannelID: cn.ID, State: models.DeliverySkipped})
	if err != nil {
		return err
	}
	v.Skipped = int(skipped)
	return serve.Render(c, status, views.ChannelPage(v))
}

func channelSummary(cn *models.Channel) views.ChannelSummary {
	s := views.ChannelSummary{ID: cn.ID, Name: cn.Name, Type: string(cn.Type), TypeLabel: cn.Type.Label(),
		URLHint: cn.URLHint, Events: eventsSummary(cn.EventList()), RetrySchedule: models.FormatRetrySchedule(cn.Schedule()),
		Enabled: cn.Enabled, DisabledReason: cn.DisabledReason, DisabledAt: serve.TimePtr(cn.DisabledAt),
		FailedEvents: cn.FailedEvents, Created: layout.Time{At: cn.CreatedAt}, Unreadable: cn.Unreadable}
	if cn.SubscriberID != nil {
		s.SubscriberID = *cn.SubscriberID
	}
	if cn.RetrySchedule == "" {
		s.RetrySchedule += " (default)"
	}
	for _, hd := range cn.Headers {
		s.HeaderNames = append(s.HeaderNames, hd.Name)
	}
	return s
}

// durationWords writes a rotation window for people: "24 hours", "7 days".
func durationWords(d time.Duration) string {
	switch {
	case d >= 48*time.Hour && d%(24*time.Hour) == 0:
		return plural(int(d/(24*time.Hour)), "day")
	case d >= time.Hour && d%time.Hour == 0:
		return plural(int(d/time.Hour), "hour")
	case d >= time.Minute:
		return plural(int(d/time.Minute), "minute")
	}
	return d.String()
}

// SendChannelTest sends a sample event to the channel at once and shows the
// page again with the request and the answer (no redirect: the result is
// on this page only).
func (h *Handler) SendChannelTest(c echo.Context) error {
	ctx := c.Request().Context()
	id, err := serve.PathID(c, "id")
	if err != nil {
		return err
	}
	cn, err := h.Store.AdminChannel(ctx, id)
	if err != nil {
		return err
	}
	if h.Notifier == nil {
		return h.RedirectWithFlash(c, channelPath(id), "error", "Test sends are not available on this server.")
	}
	test := views.TestPanel{Event: c.FormValue("event")}
	res, err := h.Notifier.SendTest(ctx, cn, models.EventType(test.Event))
	var ve *models.ValidationError
	if errors.As(err, &ve) {
		ch, err := h.adminChrome(c, cn.Name, "channels")
		if err != nil {
			return err
		}
		test.Error = ve.Fields["event"]
		return h.renderChannelPage(c, http.StatusUnprocessableEntity, ch, cn, test)
	}
	if err != nil {
		return err
	}
	ch, err := h.adminChrome(c, cn.Name, "channels")
	if err != nil {
		return err
	}
	a := attemptView(res.Attempt)
	ch.Flashes = append(ch.Flashes, testFlash(a))
	test.Result = &views.TestResultView{DeliveryURL: deliveryPath(id, res.Delivery.ID), Attempt: a}
	// The channel may have changed: a receiver saying the webhook is gone
	// disables it.
	if cn, err = h.Store.AdminChannel(ctx, id); err != nil {
		return err
	}
	return h.renderChannelPage(c, http.StatusOK, ch, cn, test)
}

// RedirectChannelTest sends a reload of a test result, which would
// otherwise ask to send the form again, back to the channel's page.
func (h *Handler) RedirectChannelTest(c echo.Context) error {
	id, err := serve.PathID(c, "id")
	if err != nil {
		return err
	}
	return serve.SeeOther(c, channelPath(id)+"#test")
}

// testFlash sums up a test send: "Test sent: HTTP 200 in 12 ms". A test
// is never retried, so a second attempt is the plain fallback sent after
// Slack or Discord refused the full message.
func testFlash(a views.AttemptView) layout.Flash {
	switch {
	case a.Number > 1 && a.Response.Code != 0 && a.Response.OK:
		return layout.Flash{Kind: "warning", Text: fmt.Sprintf("The full message was refused as invalid; the plain-text fallback was sent: HTTP %d in %s. Open the delivery for both attempts.", a.Response.Code, a.Duration)}
	case a.Response.Code != 0 && a.Response.OK:
		return layout.Flash{Kind: "success", Text: fmt.Sprintf("Test sent: HTTP %d in %s.", a.Response.Code, a.Duration)}
	case a.Response.Code != 0:
		return layout.Flash{Kind: "error", Text: fmt.Sprintf("Test failed: the receiver answered HTTP %d in %s.", a.Response.Code, a.Duration)}
	}
	return layout.Flash{Kind: "error", Text: "Test failed: " + a.Error}
}

// EnableChannel re-enables a channel: one click from its notice.
func (h *Handler) EnableChannel(c echo.Context) error {
	return h.setChannelEnabled(c, true, "Channel “%s” re-enabled. Deliveries waiting for it go out now.")
}

// SendSkippedDeliveries sends what a channel skipped while it was
// disabled: one click from its notice, oldest event first.
func (h *Handler) SendSkippedDeliveries(c echo.Context) error {
	ctx := c.Request().Context()
	id, err := serve.PathID(c, "id")
	if err != nil {
		return err
	}
	cn, err := h.Store.AdminChannel(ctx, id)
	if err != nil {
		return err
	}
	next := channelPath(id)
	if n := c.FormValue("next"); n != "" {
		next = safeNext(n)
	}
	n, err := h.Store.QueueSkippedDeliveries(ctx, id)
	switch {
	case errors.Is(err, models.ErrChannelDisabled):
		return h.RedirectWithFlash(c, next, "error", fmt.Sprintf("Channel “%s” is disabled. Re-enable it first, then send what it skipped.", cn.Name))
	case err != nil:
		return err
	case n == 0:
		return h.RedirectWithFlash(c, next, "success", fmt.Sprintf("Channel “%s” has no skipped notifications to send.", cn.Name))
	}
	return h.RedirectWithFlash(c, next, "success", fmt.Sprintf("Sending the %s of “%s”, oldest first. Follow them in the delivery log.",
		plural(n, "skipped notification"), cn.Name))
}

// DisableChannel stops a channel's notifications until it is enabled.
func (h *Handler) DisableChannel(c echo.Context) error {
	return h.setChannelEnabled(c, false, "Channel “%s” disabled. It receives nothing until you enable it again.")
}

func (h *Handler) setChannelEnabled(c echo.Context, enabled bool, msg string) error {
	ctx := c.Request().Context()
	id, err := serve.PathID(c, "id")
	if err != nil {
		return err
	}
	cn, err := h.Store.AdminChannel(ctx, id)
	if err != nil {
		return err
	}
	if err := h.Store.SetChannelEnabled(ctx, id, enabled); err != nil {
		return err
	}
	next := channelPath(id)
	if n := c.FormValue("next"); n != "" {
		next = safeNext(n)
	}
	msg = fmt.Sprintf(msg, cn.Name)
	if enabled {
		skipped, err := h.Store.CountDeliveries(ctx, models.DeliveryFilter{ChannelID: id, State: models.DeliverySkipped})
		if err != nil {
			return err
		}
		if skipped > 0 {
			msg += fmt.Sprintf(" It skipped %s while it was off; %s not sent unless you choose to.",
				plural(int(skipped), "notification"), pluralWord(int(skipped), "it is", "they are"))
		}
	}
	return h.RedirectWithFlash(c, next, "success", msg)
}

// ConfirmRotateSecret explains a rotation before it happens.
func (h *Handler) ConfirmRotateSecret(c echo.Context) error {
	id, err := serve.PathID(c, "id")
	if err != nil {
		return err
	}
	cn, err := h.Store.AdminChannel(c.Request().Context(), id)
	if err != nil {
		return err
	}
	if cn.Type != models.ChannelWebhook {
		return serve.ErrNotFound
	}
	ch, err := h.adminChrome(c, "Rotate secret of "+cn.Name, "channels")
	if err != nil {
		return err
	}
	return serve.Render(c, http.StatusOK, views.ConfirmPage(views.ConfirmView{
		Chrome:   ch,
		Question: fmt.Sprintf("Rotate the signing secret of “%s”?", cn.Name),
		Detail: fmt.Sprintf("Herald makes a new secret at once. For the next %s both secrets sign every request, "+
			"so your receiver keeps verifying while you give it the new one; after that only the new secret signs.",
			durationWords(h.Rotation)),
		Action:  channelPath(id) + "/rotate",
		Confirm: "Rotate secret",
		Cancel:  channelPath(id),
	}))
}

// RotateChannelSecret gives a webhook channel a new signing secret.
func (h *Handler) RotateChannelSecret(c echo.Context) error {
	id, err := serve.PathID(c, "id")
	if err != nil {
		return err
	}
	cn, err := h.Store.RotateChannelSecret(c.Request().Context(), id, h.Rotation)
	var ve *models.ValidationError
	if errors.As(err, &ve) {
		return h.RedirectWithFlash(c, channelPath(id), "error", "Only webhook channels have a signing secret.")
	}
	if errors.Is(err, models.ErrNoSealer) {
		return h.RedirectWithFlash(c, channelPath(id), "error", "Herald cannot read this channel's secrets with its secret key. Edit the channel and enter its URL again first.")
	}
	if err != nil {
		return err
	}
	msg := "Secret rotated. Only the new secret signs from now on."
	if cn.PreviousSecretUntil != nil {
		msg = fmt.Sprintf("Secret rotated. The previous secret keeps signing until %s.", layout.Time{At: *cn.PreviousSecretUntil}.Human())
	}
	return h.RedirectWithFlash(c, channelPath(id)+"#secret-heading", "success", msg)
}

func pluralWord(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
