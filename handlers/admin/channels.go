package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/heraldstatus/herald/handlers/serve"
	"github.com/heraldstatus/herald/models"
	views "github.com/heraldstatus/herald/views/admin"
	"github.com/heraldstatus/herald/views/layout"
	"github.com/labstack/echo/v4"
)

func channelPath(id int64) string { return fmt.Sprintf("/admin/channels/%d", id) }

// eventHelp says when each event fires, beside its checkbox.
var eventHelp = map[models.EventType]string{
	models.EventIncidentCreated:        "an incident is opened",
	models.EventIncidentUpdated:        "an incident gets an update",
	models.EventIncidentResolved:       "an incident is resolved",
	models.EventMaintenanceScheduled:   "maintenance is scheduled",
	models.EventMaintenanceStarted:     "maintenance begins",
	models.EventMaintenanceUpdated:     "maintenance gets an update or a new end",
	models.EventMaintenanceCompleted:   "maintenance ends",
	models.EventComponentStatusChanged: "a component changes status",
	models.EventComponentCreated:       "a component is added",
	models.EventComponentDeleted:       "a component is removed",
}

// ListChannels shows the page's notification channels.
func (h *Handler) ListChannels(c echo.Context) error {
	ch, err := h.adminChrome(c, "Channels", "channels")
	if err != nil {
		return err
	}
	health, err := h.channelHealth(c.Request().Context(), pageID(c))
	if err != nil {
		return err
	}
	return serve.Render(c, http.StatusOK, views.AdminChannelsPage(views.AdminChannelsView{Chrome: ch, Rows: health.rows}))
}

// channelHealthView is the page's channels with their newest delivery, a
// notice for each disabled one, and an offer to send what each enabled
// one skipped while it was disabled.
type channelHealthView struct {
	rows    []views.ChannelRow
	notices []views.ChannelNoticeView
	skipped []views.SkippedNoticeView
}

func (h *Handler) channelHealth(ctx context.Context, pageID int64) (channelHealthView, error) {
	var out channelHealthView
	chans, err := h.Store.Channels(ctx, pageID)
	if err != nil {
		return out, err
	}
	skipped, err := h.Store.SkippedCounts(ctx, pageID)
	if err != nil {
		return out, err
	}
	now := h.Now()
	for _, cn := range chans {
		row := views.ChannelRow{ID: cn.ID, Name: cn.Name, TypeLabel: cn.Type.Label(), URLHint: cn.URLHint,
			Events: eventsSummary(cn.EventList()), Enabled: cn.Enabled, DisabledReason: cn.DisabledReason,
			Failing: cn.FailedEvents, Skipped: skipped[cn.ID]}
		last, err := h.Store.Deliveries(ctx, models.DeliveryFilter{ChannelID: cn.ID, Limit: 1})
		if err != nil {
			return out, err
		}
		if len(last) == 1 {
			st := deliveryStateView(last[0].State)
			row.Last, row.LastAt, row.LastAgo = &st, layout.Time{At: last[0].CreatedAt}, relativeTime(now, last[0].CreatedAt)
		}
		out.rows = append(out.rows, row)
		switch {
		case !cn.Enabled:
			out.notices = append(out.notices, views.ChannelNoticeView{ID: cn.ID, Name: cn.Name, Reason: cn.DisabledReason,
				Since: serve.TimePtr(cn.DisabledAt), Next: "/admin", Skipped: skipped[cn.ID]})
		case skipped[cn.ID] > 0:
			out.skipped = append(out.skipped, views.SkippedNoticeView{ID: cn.ID, Name: cn.Name, Count: skipped[cn.ID], Next: "/admin"})
		}
	}
	return out, nil
}

func eventsSummary(es []models.EventType) string {
	if len(es) == 0 {
		return "All events"
	}
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = string(e)
	}
	return strings.Join(parts, ", ")
}

func deliveryStateView(s models.DeliveryState) layout.Status {
	label := strings.ReplaceAll(string(s), "_", " ") // rate_limited, an attempt's outcome
	if label != "" {
		label = strings.ToUpper(label[:1]) + label[1:]
	}
	return layout.Status{Slug: string(s), Label: label}
}

// NewChannel shows an empty channel form.
func (h *Handler) NewChannel(c echo.Context) error {
	return h.renderChannelForm(c, http.StatusOK, views.ChannelFormView{Type: string(models.ChannelWebhook), Enabled: true}, nil)
}

// EditChannel shows a channel's form. Credentials stay masked: the URL
// field is empty (left so, it keeps the saved URL) and header values read
// ••••.
func (h *Handler) EditChannel(c echo.Context) error {
	id, err := serve.PathID(c, "id")
	if err != nil {
		return err
	}
	cn, err := h.Store.AdminChannel(c.Request().Context(), id)
	if err != nil {
		return err
	}
	v := views.ChannelFormView{ID: cn.ID, Type: string(cn.Type), Name: cn.Name, URLHint: cn.URLHint,
		Unreadable: cn.Unreadable, Enabled: cn.Enabled, Headers: models.FormatHeaders(cn.Headers, true),
		RetrySchedule: cn.RetrySchedule}
	return h.renderChannelForm(c, http.StatusOK, v, cn.EventList())
}

func (h *Handler) renderChannelForm(c echo.Context, status int, v views.ChannelFormView, picked []models.EventType) error {
	title := "New channel"
	if v.ID != 0 {
		title = "Edit " + v.Name
	}
	ch, err := h.adminChrome(c, title, "channels")
	if err != nil {
		return err
	}
	v.Chrome = ch
	v.TypeLabel = models.ChannelType(v.Type).Label()
	for _, t := range models.ChannelTypes {
		v.Types = append(v.Types, layout.Option{Value: string(t), Label: t.Label()})
	}
	for _, e := range models.EventTypes {
		v.Events = append(v.Events, views.EventChoice{Value: string(e), Help: eventHelp[e], Checked: slices.Contains(picked, e)})
	}
	v.DefaultSchedule = models.FormatRetrySchedule(models.DefaultRetrySchedule)
	return serve.Render(c, status, views.ChannelFormPage(v))
}

// channelForm reads the channel form. Headers belong to webhooks only: the
// field may still arrive after the type was switched, and is then dropped.
func channelForm(c echo.Context, typ models.ChannelType) (models.ChannelInput, views.ChannelFormView, []models.EventType) {
	v := views.ChannelFormView{
		Type:          string(typ),
		Name:          c.FormValue("name"),
		URL:           strings.TrimSpace(c.FormValue("url")),
		Enabled:       c.FormValue("enabled") == "1",
		Headers:       c.FormValue("headers"),
		RetrySchedule: c.FormValue("retry_schedule"),
	}
	if typ != models.ChannelWebhook {
		v.Headers = ""
	}
	var events []models.EventType
	if form, err := c.FormParams(); err == nil {
		for _, e := range form["events"] {
			events = append(events, models.EventType(e))
		}
	}
	in := models.ChannelInput{Type: typ, Name: v.Name, URL: v.URL, Events: events, Enabled: v.Enabled,
		HeadersText: v.Headers, RetrySchedule: v.RetrySchedule}
	return in, v, events
}

// CreateChannel saves a new channel and opens its page, where a webhook's
// signing secret is shown.
func (h *Handler) CreateChannel(c echo.Context) error {
	in, v, picked := channelForm(c, models.ChannelType(c.FormValue("type")))
	cn, err := h.Store.CreateChannel(c.Request().Context(), pageID(c), in)
	if err != nil {
		return h.channelFormError(c, v, picked, err)
	}
	msg := fmt.Sprintf("Channel “%s” created.", cn.Name)
	if cn.Type == models.ChannelWebhook {
		msg += " Give your receiver the signing secret below so it can verify requests."
	}
	return h.redirectAfterSave(c, channelPath(cn.ID), msg, cn.URL)
}

// UpdateChannel saves a channel's form.
func (h *Handler) UpdateChannel(c echo.Context) error {
	ctx := c.Request().Context()
	id, err := serve.PathID(c, "id")
	if err != nil {
		return err
	}
	old, err := h.Store.AdminChannel(ctx, id)
	if err != nil {
		return err
	}
	in, v, picked := channelForm(c, old.Type)
	v.ID, v.URLHint, v.Unreadable = id, old.URLHint, old.Unreadable
	cn, err := h.Store.UpdateChannel(ctx, id, in)
	if err != nil {
		return h.channelFormError(c, v, picked, err)
	}
	checkURL := ""
	if in.URL != "" {
		checkURL = cn.URL
	}
	return h.redirectAfterSave(c, channelPath(id), fmt.Sprintf("Channel “%s” saved.", cn.Name), checkURL)
}

func (h *Handler) channelFormError(c echo.Context, v views.ChannelFormView, picked []models.EventType, err error) error {
	var ve *models.ValidationError
	if errors.As(err, &ve) {
		v.Errors = ve.Fields
		return h.renderChannelForm(c, http.StatusUnprocessableEntity, v, picked)
	}
	return err
}

// redirectAfterSave confirms a save and, when the egress policy would
// refuse the address of rawURL, warns. The channel is saved all the same:
// the address may change, or the admin may allow it.
func (h *Handler) redirectAfterSave(c echo.Context, path, msg, rawURL string) error {
	if rawURL == "" {
		return h.RedirectWithFlash(c, path, "success", msg)
	}
	h.Flash(c, "success", msg)
	ctx, cancel := context.WithTimeout(c.Request().Context(), 3*time.Second)
	defer cancel()
	if w := h.Egress.Warning(ctx, rawURL); w != "" {
		return h.RedirectWithFlash(c, path, "warning", w)
	}
	h.SaveSessionAfterChange(c)
	return serve.SeeOther(c, path)
}

// ConfirmDeleteChannel asks before deleting a channel.
func (h *Handler) ConfirmDeleteChannel(c echo.Context) error {
	id, err := serve.PathID(c, "id")
	if err != nil {
		return err
	}
	cn, err := h.Store.AdminChannel(c.Request().Context(), id)
	if err != nil {
		return err
	}
	ch, err := h.adminChrome(c, "Delete "+cn.Name, "channels")
	if err != nil {
		return err
	}
	return serve.Render(c, http.StatusOK, views.ConfirmPage(views.ConfirmView{
		Chrome:   ch,
		Question: fmt.Sprintf("Delete channel “%s”?", cn.Name),
		Detail:   "Herald stops notifying it at once, drops deliveries not yet sent and erases its delivery log. This cannot be undone.",
		Action:   channelPath(id) + "/delete",
		Confirm:  "Delete channel",
		Cancel:   channelPath(id),
	}))
}

// DeleteChannel deletes a channel after confirmation.
func (h *Handler) DeleteChannel(c echo.Context) error {
	ctx := c.Request().Context()
	id, err := serve.PathID(c, "id")
	if err != nil {
		return err
	}
	cn, err := h.Store.AdminChannel(ctx, id)
	if err != nil {
		return err
	}
	if err := h.Store.DeleteChannel(ctx, id); err != nil {
		return err
	}
	return h.RedirectWithFlash(c, "/admin/channels", "success", fmt.Sprintf("Channel “%s” deleted.", cn.Name))
}
