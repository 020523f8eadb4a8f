package api

import (
	"context"
	"net/http"
	"time"

	"github.com/heraldstatus/herald/handlers/serve"
	"github.com/heraldstatus/herald/models"
	"github.com/labstack/echo/v4"
)

const channelGone = "That channel does not exist."

// apiChannel is a notification channel as the API shows it. Credentials
// never appear in it: url is the masked hint the admin shows, header
// values read "••••", and the plaintext signing secret is only in the
// answer that makes one (create, rotate-secret), once.
type apiChannel struct {
	ID             string            `json:"id"`
	PageID         string            `json:"page_id"`
	Type           string            `json:"type"`
	Name           string            `json:"name"`
	URL            string            `json:"url"`
	Events         []string          `json:"events"`
	Enabled        bool              `json:"enabled"`
	DisabledReason *string           `json:"disabled_reason"`
	DisabledAt     *string           `json:"disabled_at"`
	FailedEvents   int               `json:"failed_events"`
	Headers        map[string]string `json:"headers"`
	RetrySchedule  []string          `json:"retry_schedule"`
	// PreviousSecretExpiresAt is when the rotated-out secret stops
	// signing, while it still does.
	PreviousSecretExpiresAt *string `json:"previous_secret_expires_at"`
	// Unreadable: the stored URL and secrets cannot be decrypted with
	// this server's secret key; PATCH a url to repair the channel.
	Unreadable bool   `json:"unreadable"`
	CreatedAt  string `json:"created_at"`
	UpdatedAt  string `json:"updated_at"`
	// SigningSecret is set only in the answers of create and
	// rotate-secret.
	SigningSecret string `json:"signing_secret,omitempty"`
	// Warnings, in the answers of create and update, say when deliveries
	// to the saved URL will be refused by the egress policy.
	Warnings []string `json:"warnings,omitempty"`
}

func channelJSON(cn *models.Channel, now time.Time) apiChannel {
	out := apiChannel{ID: formatAPIID(cn.ID), PageID: formatAPIID(cn.PageID), Type: string(cn.Type), Name: cn.Name,
		URL: cn.URLHint, Events: []string{}, Enabled: cn.Enabled, FailedEvents: cn.FailedEvents,
		Headers: map[string]string{}, Unreadable: cn.Unreadable,
		CreatedAt: formatAPITime(cn.CreatedAt), UpdatedAt: formatAPITime(cn.UpdatedAt)}
	for _, e := range cn.EventList() {
		out.Events = append(out.Events, string(e))
	}
	for _, hd := range cn.Headers {
		out.Headers[hd.Name] = models.MaskedValue
	}
	for _, d := range cn.Schedule() {
		out.RetrySchedule = append(out.RetrySchedule, models.FormatRetrySchedule([]time.Duration{d}))
	}
	if !cn.Enabled {
		reason := cn.DisabledReason
		out.DisabledReason = &reason
	}
	out.DisabledAt = apiTimePtr(cn.DisabledAt)
	if cn.Type == models.ChannelWebhook && cn.PreviousSecretUntil != nil && cn.PreviousSecretUntil.After(now) {
		out.PreviousSecretExpiresAt = apiTimePtr(cn.PreviousSecretUntil)
	}
	return out
}

// apiTimePtr writes an optional time: null when there is none.
func apiTimePtr(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := formatAPITime(*t)
	return &s
}

// pageChannel loads a channel of the token's page; those of other pages,
// and webhook subscribers' channels, do not exist for it.
func (h *Handler) pageChannel(c echo.Context, id int64) (*models.Channel, error) {
	cn, err := h.Store.AdminChannel(c.Request().Context(), id)
	if err != nil {
		return nil, err
	}
	if !tokenReaches(c, cn.PageID) {
		return nil, models.ErrNotFound
	}
	return cn, nil
}

// egressWarnings says, as the admin form does, when the egress policy
// would refuse the address rawURL resolves to. The channel is saved all
// the same: the address may change, or the admin may allow it.
func (h *Handler) egressWarnings(c echo.Context, rawURL string) []string {
	if rawURL == "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), 3*time.Second)
	defer cancel()
	if w := h.Egress.Warning(ctx, rawURL); w != "" {
		return []string{w}
	}
	return nil
}

// APIListChannels is GET /api/v1/channels.
func (h *Handler) APIListChannels(c echo.Context) error {
	pageID, err := h.listPage(c)
	if err != nil {
		return h.apiFail(c, err, "")
	}
	chans, err := h.Store.Channels(c.Request().Context(), pageID)
	if err != nil {
		return h.apiFail(c, err, channelGone)
	}
	now := h.Now()
	out := make([]apiChannel, len(chans))
	for i := range chans {
		out[i] = channelJSON(&chans[i], now)
	}
	return c.JSON(http.StatusOK, out)
}

// APIShowChannel is GET /api/v1/channels/:id.
func (h *Handler) APIShowChannel(c echo.Context) error {
	id, ok := apiPathID(c, "id")
	if !ok {
		return serve.JSONError(c, http.StatusNotFound, "not_found", channelGone, "")
	}
	cn, err := h.pageChannel(c, id)
	if err != nil {
		return h.apiFail(c, err, channelGone)
	}
	return c.JSON(http.StatusOK, channelJSON(cn, h.Now()))
}

// APICreateChannel is POST /api/v1/channels. The answer of a webhook
// channel carries its signing secret: the only time the API shows it.
func (h *Handler) APICreateChannel(c echo.Context) error {
	var body channelBody
	if err := decodeJSON(c, &body); err != nil {
		return h.apiFail(c, err, "")
	}
	pageID, err := h.createPage(c, body.PageID)
	if err != nil {
		return h.apiFail(c, err, "")
	}
	req, err := body.input(nil)
	if err != nil {
		return h.apiFail(c, err, "")
	}
	// Resolve the host before writing: with an Idempotency-Key the write
	// is a transaction that lasts until the answer, and a slow DNS lookup
	// must not hold it (on SQLite, the only connection) open.
	warnings := h.egressWarnings(c, req.in.URL)
	cn, err := h.Store.CreateChannel(c.Request().Context(), pageID, req.in)
	if err != nil {
		return h.apiFail(c, req.hints(err), "")
	}
	c.Response().Header().Set("Location", apiPrefix+"/channels/"+formatAPIID(cn.ID))
	out := channelJSON(cn, h.Now())
	out.SigningSecret, out.Warnings = cn.Secret, warnings
	return c.JSON(http.StatusCreated, out)
}

// APIUpdateChannel is PATCH /api/v1/channels/:id: only the fields sent
// change. A body with only "enabled" is the admin's one-click enable or
// disable.
func (h *Handler) APIUpdateChannel(c echo.Context) error {
	id, ok := apiPathID(c, "id")
	if !ok {
		return serve.JSONError(c, http.StatusNotFound, "not_found", channelGone, "")
	}
	var body channelBody
	if err := decodeJSON(c, &body); err != nil {
		return h.apiFail(c, err, "")
	}
	if err := noPageMove(body.PageID); err != nil {
		return h.apiFail(c, err, "")
	}
	ctx := c.Request().Context()
	cn, err := h.pageChannel(c, id)
	if err != nil {
		return h.apiFail(c, err, channelGone)
	}
	var warnings []string
	switch {
	case body.enabledOnly():
		// Setting the state it already has changes nothing (and writes
		// no audit row).
		if body.Enabled.Value != cn.Enabled {
			err = h.Store.SetChannelEnabled(ctx, id, body.Enabled.Value)
		}
	case !body.empty():
		req, rerr := body.input(cn)
		if rerr != nil {
			return h.apiFail(c, rerr, channelGone)
		}
		var saved *models.Channel
		if saved, err = h.Store.UpdateChannel(ctx, id, req.in); err != nil {
			err = req.hints(err)
		} else if req.in.URL != "" {
			warnings = h.egressWarnings(c, saved.URL)
		}
	}
	if err != nil {
		return h.apiFail(c, err, channelGone)
	}
	if cn, err = h.Store.Channel(ctx, id); err != nil {
		return h.apiFail(c, err, channelGone)
	}
	out := channelJSON(cn, h.Now())
	out.Warnings = warnings
	return c.JSON(http.StatusOK, out)
}

// APIDeleteChannel is DELETE /api/v1/channels/:id: the channel goes with
// its deliveries and their log.
func (h *Handler) APIDeleteChannel(c echo.Context) error {
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
	if err := h.Store.DeleteChannel(c.Request().Context(), id); err != nil {
		return h.apiFail(c, err, channelGone)
	}
	return c.NoContent(http.StatusNoContent)
}
