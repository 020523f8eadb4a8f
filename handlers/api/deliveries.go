package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/heraldstatus/herald/handlers/serve"
	"github.com/heraldstatus/herald/models"
	"github.com/labstack/echo/v4"
)

const deliveryGone = "That delivery does not exist."

// apiDelivery is one event (or test) to one channel. Its id is the
// X-Request-ID (and webhook-id) of every attempt, replays included.
type apiDelivery struct {
	ID        string `json:"id"`
	ChannelID string `json:"channel_id"`
	// EventID is the outbox event delivered; null for test sends.
	EventID   *string `json:"event_id"`
	EventType string  `json:"event_type"`
	State     string  `json:"state"`
	// Attempts counts the attempts made so far.
	Attempts      int     `json:"attempts"`
	Test          bool    `json:"test"`
	LastStatus    *int    `json:"last_status"`
	LastError     *string `json:"last_error"`
	NextAttemptAt *string `json:"next_attempt_at"`
	CreatedAt     string  `json:"created_at"`
	CompletedAt   *string `json:"completed_at"`
}

// apiAttempt is one logged attempt, credentials masked as in the log.
type apiAttempt struct {
	Number     int                 `json:"number"`
	StartedAt  string              `json:"started_at"`
	DurationMS int                 `json:"duration_ms"`
	Request    apiAttemptRequest   `json:"request"`
	Response   *apiAttemptResponse `json:"response"` // null: no HTTP answer
	ErrorClass *string             `json:"error_class"`
	Error      *string             `json:"error"`
	Outcome    string              `json:"outcome"`
}

type apiAttemptRequest struct {
	URL     string              `json:"url"`
	Headers map[string][]string `json:"headers"`
	Body    string              `json:"body"`
}

type apiAttemptResponse struct {
	Status  int                 `json:"status"`
	Headers map[string][]string `json:"headers"`
	Body    string              `json:"body"`
}

func deliveryJSON(d *models.Delivery) apiDelivery {
	out := apiDelivery{ID: d.ID, ChannelID: formatAPIID(d.ChannelID), EventID: d.EventID, EventType: string(d.EventType),
		State: string(d.State), Attempts: d.Attempts, Test: d.Test, LastError: nonEmpty(d.LastError),
		CreatedAt: formatAPITime(d.CreatedAt), CompletedAt: apiTimePtr(d.CompletedAt)}
	if d.LastStatus != 0 {
		status := d.LastStatus
		out.LastStatus = &status
	}
	if due := d.Due(); !due.IsZero() && !d.State.Final() {
		out.NextAttemptAt = apiTimePtr(&due)
	}
	return out
}

func attemptJSON(a models.DeliveryAttempt) apiAttempt {
	outcome := a.Outcome
	if outcome == "" {
		outcome = string(models.DeliveryFailed)
	}
	out := apiAttempt{Number: a.Number, StartedAt: formatAPITime(a.StartedAt), DurationMS: a.DurationMS,
		Request:    apiAttemptRequest{URL: a.RequestURL, Headers: headerMap(a.RequestHeaders), Body: a.RequestBody},
		ErrorClass: nonEmpty(a.ErrorClass), Error: nonEmpty(a.Error), Outcome: outcome}
	if a.ResponseStatus != 0 {
		out.Response = &apiAttemptResponse{Status: a.ResponseStatus, Headers: headerMap(a.ResponseHeaders), Body: a.ResponseBody}
	}
	return out
}

// headerMap decodes the log's {"Name": ["value", …]}; never null.
func headerMap(raw string) map[string][]string {
	hs := map[string][]string{}
	if err := json.Unmarshal([]byte(raw), &hs); err != nil || hs == nil {
		return map[string][]string{}
	}
	return hs
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// apiDeliveryAnswer wraps a delivery, as the test and replay endpoints
// answer.
type apiDeliveryAnswer struct {
	Delivery apiDelivery `json:"delivery"`
}

// apiDeliveryDetail is a delivery with every attempt, first first.
type apiDeliveryDetail struct {
	Delivery apiDelivery  `json:"delivery"`
	Attempts []apiAttempt `json:"attempts"`
}

// channelDelivery reads :id and :did and loads the delivery, which must
// belong to that channel, of the token's page.
func (h *Handler) channelDelivery(c echo.Context) (*models.Channel, *models.Delivery, error) {
	id, ok := apiPathID(c, "id")
	if !ok {
		return nil, nil, &serve.Problem{Status: http.StatusNotFound, Code: "not_found", Message: channelGone}
	}
	gone := &serve.Problem{Status: http.StatusNotFound, Code: "not_found", Message: deliveryGone}
	did := c.Param("did")
	if !strings.HasPrefix(did, "dlv_") || len(did) > 64 {
		return nil, nil, gone
	}
	cn, err := h.pageChannel(c, id)
	if errors.Is(err, models.ErrNotFound) {
		return nil, nil, &serve.Problem{Status: http.StatusNotFound, Code: "not_found", Message: channelGone}
	}
	if err != nil {
		return nil, nil, err
	}
	d, err := h.Store.Delivery(c.Request().Context(), did)
	if errors.Is(err, models.ErrNotFound) || err == nil && d.ChannelID != cn.ID {
		return nil, nil, gone
	}
	if err != nil {
		return nil, nil, err
	}
	return cn, d, nil
}

// APIListDeliveries is GET /api/v1/channels/:id/deliveries: newest first,
// filtered by state, event (type), from and to, paginated with page and
// per_page, a Link header and X-Total-Count.
func (h *Handler) APIListDeliveries(c echo.Context) error {
	id, ok := apiPathID(c, "id")
	if !ok {
		return serve.JSONError(c, http.StatusNotFound, "not_found", channelGone, "")
	}
	page, query, err := readListQuery(c, "state", "event", "from", "to")
	if err != nil {
		return h.apiFail(c, err, "")
	}
	f, err := deliveryListFilter(query)
	if err != nil {
		return h.apiFail(c, err, "")
	}
	ctx := c.Request().Context()
	cn, err := h.pageChannel(c, id)
	if err != nil {
		return h.apiFail(c, err, channelGone)
	}
	f.ChannelID = cn.ID
	total, err := h.Store.CountDeliveries(ctx, f)
	if err != nil {
		return h.apiFail(c, err, channelGone)
	}
	out := []apiDelivery{}
	if int64(page.offset()) < total {
		f.Limit, f.Offset = page.PerPage, page.offset()
		list, err := h.Store.Deliveries(ctx, f)
		if err != nil {
			return h.apiFail(c, err, channelGone)
		}
		for i := range list {
			out = append(out, deliveryJSON(&list[i]))
		}
	}
	setListHeaders(c, page, int(total), query)
	return c.JSON(http.StatusOK, out)
}

// deliveryListFilter reads the delivery log's filters; a value it cannot
// use is a 400 naming the parameter.
func deliveryListFilter(query url.Values) (models.DeliveryFilter, error) {
	var f models.DeliveryFilter
	if s := query.Get("state"); s != "" {
		if !slices.Contains(models.DeliveryStates, models.DeliveryState(s)) {
			return f, queryProblem("invalid_parameter", "state", "“state” must be one of: pending, retrying, delivered, failed, skipped.")
		}
		f.State = models.DeliveryState(s)
	}
	if e := query.Get("event"); e != "" {
		if !slices.Contains(models.EventTypes, models.EventType(e)) {
			return f, queryProblem("invalid_parameter", "event", fmt.Sprintf("“%s” is not an event type. Use one of: %s.", serve.Clip(e), eventTypeNames()))
		}
		f.EventType = models.EventType(e)
	}
	var err error
	if s := query.Get("from"); s != "" {
		if f.From, _, err = queryTime("from", s); err != nil {
			return f, err
		}
	}
	if s := query.Get("to"); s != "" {
		to, dateOnly, err := queryTime("to", s)
		if err != nil {
			return f, err
		}
		if dateOnly {
			to = to.AddDate(0, 0, 1) // the whole end day
		}
		if !f.From.IsZero() && !to.After(f.From) {
			return f, queryProblem("invalid_parameter", "to", "“to” must be after “from”.")
		}
		f.To = to
	}
	return f, nil
}

// queryTime reads an RFC 3339 time or a YYYY-MM-DD date (midnight UTC);
// dateOnly says which. The "+" of an offset that arrived unescaped, as a
// space, is put back.
func queryTime(name, s string) (t time.Time, dateOnly bool, err error) {
	if t, err := time.ParseInLocation(time.DateOnly, s, time.UTC); err == nil {
		return t, true, nil
	}
	if t, err := time.Parse(time.RFC3339, strings.ReplaceAll(s, " ", "+")); err == nil {
		return t.UTC(), false, nil
	}
	return time.Time{}, false, queryProblem("invalid_parameter", name,
		fmt.Sprintf("“%s” must be a date such as 2026-01-14 or a time such as 2026-01-14T12:00:00Z, not “%s”.", name, serve.Clip(s)))
}

// APIShowDelivery is GET /api/v1/channels/:id/deliveries/:did: the
// delivery with every attempt.
func (h *Handler) APIShowDelivery(c echo.Context) error {
	_, d, err := h.channelDelivery(c)
	if err != nil {
		return h.apiFail(c, err, deliveryGone)
	}
	attempts, err := h.Store.DeliveryAttempts(c.Request().Context(), d.ID)
	if err != nil {
		return h.apiFail(c, err, deliveryGone)
	}
	out := apiDeliveryDetail{Delivery: deliveryJSON(d), Attempts: make([]apiAttempt, len(attempts))}
	for i, a := range attempts {
		out.Attempts[i] = attemptJSON(a)
	}
	return c.JSON(http.StatusOK, out)
}

// APIReplayDelivery is POST /api/v1/channels/:id/deliveries/:did/replay:
// one more attempt, queued now, with the same X-Request-ID and a fresh
// signature. 202: the worker sends it within seconds (once the channel is
// enabled).
func (h *Handler) APIReplayDelivery(c echo.Context) error {
	// It takes no body; a malformed one is refused, not ignored.
	if err := decodeNoFields(c); err != nil {
		return h.apiFail(c, err, "")
	}
	_, d, err := h.channelDelivery(c)
	if err != nil {
		return h.apiFail(c, err, deliveryGone)
	}
	ctx := c.Request().Context()
	err = h.Store.ReplayDelivery(ctx, d.ID)
	if errors.Is(err, models.ErrConflict) {
		return serve.JSONError(c, http.StatusConflict, "delivery_in_flight",
			"An attempt of this delivery is under way. Replay it once it has finished.", "")
	}
	if err != nil {
		return h.apiFail(c, err, deliveryGone)
	}
	if d, err = h.Store.Delivery(ctx, d.ID); err != nil {
		return h.apiFail(c, err, deliveryGone)
	}
	return c.JSON(http.StatusAccepted, apiDeliveryAnswer{Delivery: deliveryJSON(d)})
}
