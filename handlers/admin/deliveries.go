package admin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/heraldstatus/herald/handlers/serve"
	"github.com/heraldstatus/herald/models"
	views "github.com/heraldstatus/herald/views/admin"
	"github.com/heraldstatus/herald/views/layout"
	"github.com/labstack/echo/v4"
)

const deliveriesPerPage = 50

func deliveryPath(channelID int64, deliveryID string) string {
	return fmt.Sprintf("/admin/channels/%d/deliveries/%s", channelID, deliveryID)
}

// deliveryLog reads the log's filters from the query string and loads one
// page. Values it cannot use are ignored, and a note says so: a bad link
// still shows the log.
func (h *Handler) deliveryLog(c echo.Context, channelID int64) (views.DeliveriesView, error) {
	ctx := c.Request().Context()
	f, fv, query := deliveryFilter(c)
	f.ChannelID = channelID
	page := listPage(c)
	total, err := h.Store.CountDeliveries(ctx, f)
	if err != nil {
		return views.DeliveriesView{}, err
	}
	f.Limit, f.Offset = deliveriesPerPage, (page-1)*deliveriesPerPage
	list, err := h.Store.Deliveries(ctx, f)
	if err != nil {
		return views.DeliveriesView{}, err
	}
	v := views.DeliveriesView{Filter: fv, Total: total}
	for _, d := range list {
		v.Rows = append(v.Rows, views.DeliveryRow{ID: d.ID, URL: deliveryPath(channelID, d.ID), Event: string(d.EventType),
			Test: d.Test, At: layout.Time{At: d.CreatedAt}, State: deliveryStateView(d.State), Attempts: d.Attempts,
			LastStatus: lastStatusView(d), Duration: durationMS(d.LastDurationMS, d.Attempts > 0)})
	}
	pageURL := func(n int) string {
		q := url.Values{}
		for k, vs := range query {
			q[k] = vs
		}
		if n > 1 {
			q.Set("page", strconv.Itoa(n))
		}
		s := channelPath(channelID)
		if enc := q.Encode(); enc != "" {
			s += "?" + enc
		}
		return s + "#deliveries"
	}
	if page > 1 {
		v.Newer = pageURL(page - 1)
	}
	if int64(page*deliveriesPerPage) < total {
		v.Older = pageURL(page + 1)
	}
	return v, nil
}

// lastStatusView is the log's "Last status" of a delivery: none yet for
// one that was skipped (its note is no error of a receiver's).
func lastStatusView(d models.Delivery) views.HTTPStatus {
	if d.State == models.DeliverySkipped && d.LastStatus == 0 {
		return views.HTTPStatus{}
	}
	return views.HTTPStatus{Code: d.LastStatus, OK: d.LastStatus >= 200 && d.LastStatus < 300, Error: d.LastError}
}

func httpStatusView(code int, errText string) views.HTTPStatus {
	return views.HTTPStatus{Code: code, Text: http.StatusText(code), OK: code >= 200 && code < 300, Error: errText}
}

// durationMS writes an attempt's duration: "12 ms", "1.4 s"; "—" before
// the first attempt.
func durationMS(ms int, attempted bool) string {
	switch {
	case !attempted:
		return "—"
	case ms < 1000:
		return fmt.Sprintf("%d ms", ms)
	}
	return strconv.FormatFloat(float64(ms)/1000, 'f', 1, 64) + " s"
}

// attemptView prepares a logged attempt: headers decoded from their JSON,
// JSON bodies indented.
func attemptView(a models.DeliveryAttempt) views.AttemptView {
	outcome := a.Outcome
	if outcome == "" {
		outcome = string(models.DeliveryFailed)
	}
	v := views.AttemptView{Number: a.Number, At: layout.Time{At: a.StartedAt}, Duration: durationMS(a.DurationMS, true),
		Outcome: deliveryStateView(models.DeliveryState(outcome)), ErrorClass: a.ErrorClass, Error: a.Error,
		RequestURL: a.RequestURL, RequestHeaders: headerLines(a.RequestHeaders), RequestBody: prettyBody(a.RequestBody),
		Response: httpStatusView(a.ResponseStatus, a.Error), ResponseHeaders: headerLines(a.ResponseHeaders),
		ResponseBody: prettyBody(a.ResponseBody)}
	if a.ErrorClass == "http" && a.Error == fmt.Sprintf("HTTP %d", a.ResponseStatus) {
		v.Error = "" // says no more than the status beside it
	}
	return v
}

// headerLines decodes the log's {"Name": ["value", …]} into sorted lines.
func headerLines(raw string) []views.Header {
	if strings.TrimSpace(raw) == "" {
		return nil
	}
	var hs map[string][]string
	if err := json.Unmarshal([]byte(raw), &hs); err != nil {
		return []views.Header{{Name: "(unreadable)", Value: raw}}
	}
	names := make([]string, 0, len(hs))
	for n := range hs {
		names = append(names, n)
	}
	slices.SortFunc(names, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) })
	var out []views.Header
	for _, n := range names {
		for _, v := range hs[n] {
			out = append(out, views.Header{Name: n, Value: v})
		}
	}
	return out
}

// prettyBody indents a JSON body; anything else is shown as it came.
func prettyBody(body string) string {
	trimmed := strings.TrimSpace(body)
	if trimmed == "" || (trimmed[0] != '{' && trimmed[0] != '[') || !json.Valid([]byte(trimmed)) {
		return body
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, []byte(trimmed), "", "  "); err != nil {
		return body
	}
	return buf.String()
}

// loadDelivery reads :id and :did and loads the delivery, which must
// belong to that channel.
func (h *Handler) loadDelivery(c echo.Context) (*models.Channel, *models.Delivery, error) {
	ctx := c.Request().Context()
	id, err := serve.PathID(c, "id")
	if err != nil {
		return nil, nil, err
	}
	did := c.Param("did")
	if !strings.HasPrefix(did, "dlv_") || len(did) > 64 {
		return nil, nil, serve.ErrNotFound
	}
	cn, err := h.Store.Channel(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	d, err := h.Store.Delivery(ctx, did)
	if err != nil {
		return nil, nil, err
	}
	if d.ChannelID != cn.ID {
		return nil, nil, serve.ErrNotFound
	}
	return cn, d, nil
}

// ShowDelivery is one delivery with every attempt.
func (h *Handler) ShowDelivery(c echo.Context) error {
	cn, d, err := h.loadDelivery(c)
	if err != nil {
		return err
	}
	attempts, err := h.Store.DeliveryAttempts(c.Request().Context(), d.ID)
	if err != nil {
		return err
	}
	ch, err := h.adminChrome(c, string(d.EventType)+" delivery · "+cn.Name, "channels")
	if err != nil {
		return err
	}
	v := views.DeliveryPageView{Chrome: ch, ChannelID: cn.ID, ChannelName: cn.Name, ID: d.ID, Event: string(d.EventType),
		Test: d.Test, State: deliveryStateView(d.State), Attempts: d.Attempts, Created: layout.Time{At: d.CreatedAt},
		Completed: serve.TimePtr(d.CompletedAt)}
	if due := d.Due(); !due.IsZero() && !d.State.Final() {
		v.Due = &layout.Time{At: due}
	}
	for _, a := range attempts {
		v.List = append(v.List, attemptView(a))
	}
	return serve.Render(c, http.StatusOK, views.DeliveryPage(v))
}

// ReplayDelivery queues one more attempt of a delivery, with the same
// X-Request-ID and a fresh signature.
func (h *Handler) ReplayDelivery(c echo.Context) error {
	cn, d, err := h.loadDelivery(c)
	if err != nil {
		return err
	}
	back := deliveryPath(cn.ID, d.ID)
	err = h.Store.ReplayDelivery(c.Request().Context(), d.ID)
	if errors.Is(err, models.ErrConflict) {
		return h.RedirectWithFlash(c, back, "error", "An attempt of this delivery is under way. Replay it once it has finished.")
	}
	if err != nil {
		return err
	}
	msg := "Replay queued. Herald sends it again within seconds, with the same X-Request-ID."
	if !cn.Enabled {
		msg = "Replay queued. It goes out when the channel is enabled again."
	}
	return h.RedirectWithFlash(c, back, "success", msg)
}
