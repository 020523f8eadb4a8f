package web_test

import (
	"context"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
	"github.com/heraldstatus/herald/web/webtest"
)

type deliveryJSON struct {
	ID            string  `json:"id"`
	ChannelID     string  `json:"channel_id"`
	EventID       *string `json:"event_id"`
	EventType     string  `json:"event_type"`
	State         string  `json:"state"`
	Attempts      int     `json:"attempts"`
	Test          bool    `json:"test"`
	LastStatus    *int    `json:"last_status"`
	LastError     *string `json:"last_error"`
	NextAttemptAt *string `json:"next_attempt_at"`
	CreatedAt     string  `json:"created_at"`
	CompletedAt   *string `json:"completed_at"`
}

type attemptJSON struct {
	Number     int    `json:"number"`
	StartedAt  string `json:"started_at"`
	DurationMS int    `json:"duration_ms"`
	Request    struct {
		URL     string              `json:"url"`
		Headers map[string][]string `json:"headers"`
		Body    string              `json:"body"`
	} `json:"request"`
	Response *struct {
		Status  int                 `json:"status"`
		Headers map[string][]string `json:"headers"`
		Body    string              `json:"body"`
	} `json:"response"`
	ErrorClass *string `json:"error_class"`
	Error      *string `json:"error"`
	Outcome    string  `json:"outcome"`
}

type testResultJSON struct {
	Delivery deliveryJSON `json:"delivery"`
	Attempt  attemptJSON  `json:"attempt"`
}

type deliveryDetailJSON struct {
	Delivery deliveryJSON  `json:"delivery"`
	Attempts []attemptJSON `json:"attempts"`
}

func sendAPITest(t *testing.T, s *webtest.Server, token, channelID, event string) testResultJSON {
	t.Helper()
	return decodeAPI[testResultJSON](t, apiCall(t, s, token, http.MethodPost, "/api/v1/channels/"+channelID+"/test", `{"event":"`+event+`"}`), http.StatusOK)
}

func TestAPIChannelSendTest(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		_, token, reader := channelsSetUp(t, s)
		rcv := newReceiver(t, http.StatusOK, `{"received":"by-the-test-receiver"}`)
		ch := createAPIChannel(t, s, token, `{"type":"webhook","name":"Receiver","url":"`+rcv.URL+`/in?key=querysecret42","headers":{"Authorization":"Bearer sendsecret42"}}`)

		before := countChannelRows(t, s)
		res := apiCall(t, s, token, http.MethodPost, "/api/v1/channels/"+ch.ID+"/test", `{"event":"incident.created"}`)
		got := decodeAPI[testResultJSON](t, res, http.StatusOK)
		d, a := got.Delivery, got.Attempt
		if !strings.HasPrefix(d.ID, "dlv_") || d.ChannelID != ch.ID || d.EventType != "incident.created" || !d.Test || d.EventID != nil ||
			d.State != "delivered" || d.Attempts != 1 || d.LastStatus == nil || *d.LastStatus != 200 || d.NextAttemptAt != nil || d.CompletedAt == nil {
			t.Fatalf("delivery %+v", d)
		}
		if a.Number != 1 || a.Outcome != "delivered" || a.ErrorClass != nil || a.Error != nil || !apiTimeRE.MatchString(a.StartedAt) ||
			a.Response == nil || a.Response.Status != 200 || a.Response.Body != `{"received":"by-the-test-receiver"}` ||
			!slices.Equal(a.Response.Headers["X-Receiver"], []string{"test-receiver"}) {
			t.Fatalf("attempt %+v", a)
		}
		if a.Request.URL != rcv.URL+"/in?key=••••" || !slices.Equal(a.Request.Headers["Authorization"], []string{"••••"}) ||
			!slices.Equal(a.Request.Headers["X-Request-Id"], []string{d.ID}) || len(a.Request.Headers["X-Webhook-Signature"]) != 1 ||
			!strings.Contains(a.Request.Body, `"test":true`) || !strings.Contains(a.Request.Body, `"event":"incident.created"`) {
			t.Fatalf("request %+v", a.Request)
		}
		wantAbsent(t, "the test answer", res.Body, "sendsecret42", "querysecret42", ch.SigningSecret)
		reqs := rcv.requests()
		if len(reqs) != 1 || reqs[0].Body != a.Request.Body || reqs[0].Header.Get("Authorization") != "Bearer sendsecret42" {
			t.Fatalf("receiver got %+v", reqs)
		}
		if after := countChannelRows(t, s); after.deliveries != before.deliveries+1 || after.attempts != before.attempts+1 || after.audit != before.audit+1 {
			t.Fatalf("test send wrote %+v → %+v", before, after)
		}

		// A receiver answering 500: the answer shows it.
		rcv.answer(http.StatusInternalServerError, `<b>broken</b>`)
		got = sendAPITest(t, s, token, ch.ID, "component.status_changed")
		if got.Delivery.State != "failed" || got.Attempt.Response == nil || got.Attempt.Response.Status != 500 ||
			got.Attempt.Response.Body != `<b>broken</b>` || got.Attempt.ErrorClass == nil || *got.Attempt.ErrorClass != "http" || got.Attempt.Outcome != "failed" {
			t.Fatalf("failing receiver: %+v", got)
		}
		// No receiver at all: no response, the error class says why.
		gone := newReceiver(t, http.StatusOK, "")
		gone.Close()
		dead := createAPIChannel(t, s, token, `{"type":"webhook","name":"Gone","url":"`+gone.URL+`"}`)
		got = sendAPITest(t, s, token, dead.ID, "maintenance.started")
		if got.Attempt.Response != nil || got.Attempt.ErrorClass == nil || *got.Attempt.ErrorClass != "connect" || got.Attempt.Error == nil {
			t.Fatalf("closed receiver: %+v", got.Attempt)
		}

		bad := []struct {
			name, token, path, body string
			status                  int
			code, field             string
		}{
			{"unknown event", token, ch.ID, `{"event":"server.exploded"}`, 422, "validation_failed", "event"},
			{"no event", token, ch.ID, `{}`, 422, "validation_failed", "event"},
			{"event is a number", token, ch.ID, `{"event":1}`, 400, "invalid_type", "event"},
			{"unknown field", token, ch.ID, `{"event":"incident.created","count":2}`, 400, "unknown_field", "count"},
			{"malformed", token, ch.ID, `{"event"`, 400, "invalid_json", ""},
			{"missing channel", token, "99999", `{"event":"incident.created"}`, 404, "not_found", ""},
			{"non-numeric channel", token, "abc", `{"event":"incident.created"}`, 404, "not_found", ""},
			{"read scope", reader, ch.ID, `{"event":"incident.created"}`, 403, "forbidden", ""},
			{"no token", "", ch.ID, `{"event":"incident.created"}`, 401, "unauthorized", ""},
		}
		sent := len(rcv.requests())
		for _, tc := range bad {
			t.Run(tc.name, func(t *testing.T) {
				before := countChannelRows(t, s)
				wantAPIError(t, apiCall(t, s, tc.token, http.MethodPost, "/api/v1/channels/"+tc.path+"/test", tc.body), tc.status, tc.code, tc.field)
				if after := countChannelRows(t, s); after != before {
					t.Fatalf("refused request changed rows: %+v → %+v", before, after)
				}
			})
		}
		if n := len(rcv.requests()); n != sent {
			t.Fatalf("refused test sends reached the receiver %d times", n-sent)
		}
		res = apiCall(t, s, token, http.MethodPost, "/api/v1/channels/"+ch.ID+"/test", `{"event":"server.exploded"}`)
		if !strings.Contains(res.Err.Message, "incident.created, incident.updated") {
			t.Errorf("unknown event message %q", res.Err.Message)
		}

		// The same Idempotency-Key sends once and answers twice alike.
		rcv.answer(http.StatusOK, "ok")
		sent = len(rcv.requests())
		key := http.Header{"Idempotency-Key": {"test-send-1"}}
		first := apiSend(t, s, token, http.MethodPost, "/api/v1/channels/"+ch.ID+"/test", "application/json", strings.NewReader(`{"event":"incident.resolved"}`), key)
		again := apiSend(t, s, token, http.MethodPost, "/api/v1/channels/"+ch.ID+"/test", "application/json", strings.NewReader(`{"event":"incident.resolved"}`), key)
		if first.Status != http.StatusOK || again.Body != first.Body || again.Header.Get("Idempotent-Replayed") != "true" || len(rcv.requests()) != sent+1 {
			t.Fatalf("idempotent test send: %d then %d (%s), receiver got %d", first.Status, again.Status, again.Header.Get("Idempotent-Replayed"), len(rcv.requests())-sent)
		}
	})
}

var deliveryLinkRE = regexp.MustCompile(`<([^>]+)>; rel="(first|prev|next|last)"`)

// deliveryPageLinks reads a Link header into rel → URL.
func deliveryPageLinks(t *testing.T, res apiResponse) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, m := range deliveryLinkRE.FindAllStringSubmatch(res.Header.Get("Link"), -1) {
		out[m[2]] = m[1]
	}
	return out
}

func deliveryIDs(ds []deliveryJSON) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.ID
	}
	return out
}

func TestAPIDeliveriesFiltersAndPages(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		_, token, reader := channelsSetUp(t, s)
		rcv := newReceiver(t, http.StatusOK, "ok")
		ch := createAPIChannel(t, s, token, `{"type":"webhook","name":"Logged","url":"`+rcv.URL+`"}`)
		var sent []string // oldest first
		var created []string
		for i, ev := range []string{"incident.created", "incident.created", "incident.created", "component.created", "component.created"} {
			if i == 3 {
				rcv.answer(http.StatusBadGateway, "down")
			}
			d := sendAPITest(t, s, token, ch.ID, ev).Delivery
			sent, created = append(sent, d.ID), append(created, d.CreatedAt)
		}
		newest := slices.Clone(sent)
		slices.Reverse(newest)
		base := "/api/v1/channels/" + ch.ID + "/deliveries"
		list := func(query string) ([]string, apiResponse) {
			t.Helper()
			res := apiCall(t, s, reader, http.MethodGet, base+query, "")
			return deliveryIDs(decodeAPI[[]deliveryJSON](t, res, http.StatusOK)), res
		}

		// The days of the first and last delivery (the same, unless the
		// test ran over midnight UTC).
		today, lastDay := created[0][:10], created[len(created)-1][:10]
		last, err := time.Parse(time.DateOnly, lastDay)
		modelstest.Fatal(t, err, "parse %s", lastDay)
		tomorrow := last.AddDate(0, 0, 1).Format(time.DateOnly)
		hourAgo := url.QueryEscape(time.Now().UTC().Add(-time.Hour).Format(time.RFC3339))
		cases := []struct {
			name, query string
			want        []string
		}{
			{"everything, newest first", "", newest},
			{"failed", "?state=failed", newest[:2]},
			{"delivered", "?state=delivered", newest[2:]},
			{"retrying", "?state=retrying", nil},
			{"by event", "?event=incident.created", newest[2:]},
			{"by event and state", "?event=incident.created&state=failed", nil},
			{"today", "?from=" + today + "&to=" + lastDay, newest},
			{"from tomorrow", "?from=" + tomorrow, nil},
			{"to an hour ago", "?to=" + hourAgo, nil},
			{"from an hour ago, offset unescaped", "?from=" + time.Now().UTC().Add(-time.Hour).Format("2006-01-02T15:04:05") + "+00:00", newest},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				got, res := list(tc.query)
				if !slices.Equal(got, tc.want) && (len(got) != 0 || len(tc.want) != 0) {
					t.Fatalf("got %v, want %v", got, tc.want)
				}
				if res.Header.Get("X-Total-Count") != strconv.Itoa(len(tc.want)) {
					t.Fatalf("X-Total-Count %q, want %d", res.Header.Get("X-Total-Count"), len(tc.want))
				}
			})
		}

		// Pages of two: Link gives first, prev, next and last, keeping
		// the filters; following next walks the whole list.
		got, res := list("?per_page=2")
		links := deliveryPageLinks(t, res)
		if !slices.Equal(got, newest[:2]) || res.Header.Get("X-Total-Count") != "5" || links["prev"] != "" ||
			links["first"] != base+"?page=1&per_page=2" || links["next"] != base+"?page=2&per_page=2" || links["last"] != base+"?page=3&per_page=2" {
			t.Fatalf("page 1: %v, Link %q", got, res.Header.Get("Link"))
		}
		var walked []string
		for next := links["first"]; next != ""; {
			res := apiCall(t, s, reader, http.MethodGet, next, "")
			walked = append(walked, deliveryIDs(decodeAPI[[]deliveryJSON](t, res, http.StatusOK))...)
			next = deliveryPageLinks(t, res)["next"]
		}
		if !slices.Equal(walked, newest) {
			t.Fatalf("walking next: %v, want %v", walked, newest)
		}
		got, res = list("?per_page=1&page=2&state=failed")
		links = deliveryPageLinks(t, res)
		if !slices.Equal(got, newest[1:2]) || links["prev"] != base+"?page=1&per_page=1&state=failed" || links["next"] != "" ||
			links["last"] != base+"?page=2&per_page=1&state=failed" {
			t.Fatalf("filtered page 2: %v, Link %q", got, res.Header.Get("Link"))
		}
		got, res = list("?page=9")
		if len(got) != 0 || deliveryPageLinks(t, res)["prev"] != base+"?page=1&per_page=25" {
			t.Fatalf("page past the end: %v, Link %q", got, res.Header.Get("Link"))
		}
		if got, _ := list(""); len(got) != 5 {
			t.Fatalf("default page holds %d", len(got))
		}

		bad := []struct {
			name, path  string
			status      int
			code, field string
		}{
			{"unknown state", base + "?state=bogus", 400, "invalid_parameter", "state"},
			{"unknown event", base + "?event=server.exploded", 400, "invalid_parameter", "event"},
			{"bad from", base + "?from=yesterday", 400, "invalid_parameter", "from"},
			{"bad to", base + "?to=2026-13-45", 400, "invalid_parameter", "to"},
			{"to before from", base + "?from=" + tomorrow + "&to=" + lastDay, 400, "invalid_parameter", "to"},
			{"page zero", base + "?page=0", 400, "invalid_parameter", "page"},
			{"page not a number", base + "?page=x", 400, "invalid_parameter", "page"},
			{"per_page too large", base + "?per_page=101", 400, "invalid_parameter", "per_page"},
			{"unknown parameter", base + "?status=failed", 400, "unknown_parameter", "status"},
			{"repeated parameter", base + "?state=failed&state=delivered", 400, "invalid_parameter", "state"},
			{"missing channel", "/api/v1/channels/99999/deliveries", 404, "not_found", ""},
			{"non-numeric channel", "/api/v1/channels/abc/deliveries", 404, "not_found", ""},
		}
		for _, tc := range bad {
			t.Run(tc.name, func(t *testing.T) {
				wantAPIError(t, apiCall(t, s, reader, http.MethodGet, tc.path, ""), tc.status, tc.code, tc.field)
			})
		}
		wantAPIError(t, apiCall(t, s, "", http.MethodGet, base, ""), http.StatusUnauthorized, "unauthorized", "")
	})
}

func TestAPIDeliveryDetailAndReplay(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		_, token, reader := channelsSetUp(t, s)
		rcv := newReceiver(t, http.StatusBadGateway, "down")
		ch := createAPIChannel(t, s, token, `{"type":"webhook","name":"Flaky","url":"`+rcv.URL+`","headers":{"X-Api-Key":"detailsecret42"}}`)
		other := createAPIChannel(t, s, token, `{"type":"webhook","name":"Other","url":"`+rcv.URL+`"}`)
		failed := sendAPITest(t, s, token, ch.ID, "component.created").Delivery
		path := "/api/v1/channels/" + ch.ID + "/deliveries/" + failed.ID

		res := apiCall(t, s, reader, http.MethodGet, path, "")
		detail := decodeAPI[deliveryDetailJSON](t, res, http.StatusOK)
		if !reflect.DeepEqual(detail.Delivery, failed) || detail.Delivery.State != "failed" || len(detail.Attempts) != 1 {
			t.Fatalf("detail %+v, want %+v", detail, failed)
		}
		a := detail.Attempts[0]
		if a.Number != 1 || a.Outcome != "failed" || a.Response == nil || a.Response.Status != 502 || a.Response.Body != "down" ||
			a.ErrorClass == nil || *a.ErrorClass != "http" || !slices.Equal(a.Request.Headers["X-Api-Key"], []string{"••••"}) ||
			!slices.Equal(a.Request.Headers["X-Request-Id"], []string{failed.ID}) || !strings.Contains(a.Request.Body, `"component.created"`) {
			t.Fatalf("attempt %+v", a)
		}
		wantAbsent(t, "the delivery", res.Body, "detailsecret42", ch.SigningSecret)

		for _, p := range []string{
			"/api/v1/channels/" + other.ID + "/deliveries/" + failed.ID, // another channel's delivery
			"/api/v1/channels/" + ch.ID + "/deliveries/dlv_01NOPE",
			"/api/v1/channels/" + ch.ID + "/deliveries/abc",
			"/api/v1/channels/abc/deliveries/" + failed.ID,
			"/api/v1/channels/99999/deliveries/" + failed.ID,
		} {
			wantAPIError(t, apiCall(t, s, reader, http.MethodGet, p, ""), http.StatusNotFound, "not_found", "")
			before := countChannelRows(t, s)
			wantAPIError(t, apiCall(t, s, token, http.MethodPost, p+"/replay", ""), http.StatusNotFound, "not_found", "")
			if after := countChannelRows(t, s); after != before {
				t.Fatalf("refused replay %s changed rows: %+v → %+v", p, before, after)
			}
		}
		wantAPIError(t, apiCall(t, s, reader, http.MethodPost, path+"/replay", ""), http.StatusForbidden, "forbidden", "")
		wantAPIError(t, apiCall(t, s, "", http.MethodGet, path, ""), http.StatusUnauthorized, "unauthorized", "")

		// Replay: 202, queued now, sent again with the same X-Request-ID.
		rcv.answer(http.StatusOK, "ok")
		before := len(rcv.requests())
		res = apiCall(t, s, token, http.MethodPost, path+"/replay", "")
		queued := decodeAPI[struct {
			Delivery deliveryJSON `json:"delivery"`
		}](t, res, http.StatusAccepted)
		if queued.Delivery.ID != failed.ID || (queued.Delivery.State != "pending" && queued.Delivery.State != "delivered") {
			t.Fatalf("replay answer %+v", queued.Delivery)
		}
		waitDelivery(t, s, failed.ID, func(d *models.Delivery) bool { return d.State == models.DeliveryDelivered })
		reqs := rcv.requests()
		if len(reqs) != before+1 || reqs[len(reqs)-1].Header.Get("X-Request-ID") != failed.ID {
			t.Fatalf("the replay did not reach the receiver with X-Request-ID %s", failed.ID)
		}
		detail = decodeAPI[deliveryDetailJSON](t, apiCall(t, s, reader, http.MethodGet, path, ""), http.StatusOK)
		if detail.Delivery.State != "delivered" || detail.Delivery.Attempts != 2 || len(detail.Attempts) != 2 ||
			detail.Attempts[1].Number != 2 || detail.Attempts[1].Outcome != "delivered" || detail.Attempts[1].Response.Status != 200 {
			t.Fatalf("after replay %+v", detail)
		}
	})
}

// A replay while an attempt waits for the receiver is a 409, and nothing
// is queued.
func TestAPIReplayWhileInFlight(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		_, token, _ := channelsSetUp(t, s)
		rcv := newReceiver(t, http.StatusOK, "ok")
		ch := createAPIChannel(t, s, token, `{"type":"webhook","name":"Slow","url":"`+rcv.URL+`"}`)
		stored, err := s.Store.Channel(t.Context(), apiIDOf(t, ch.ID))
		modelstest.Fatal(t, err, "load channel")
		hold := make(chan struct{})
		rcv.mu.Lock()
		rcv.hold = hold
		rcv.mu.Unlock()
		done := make(chan error, 1)
		go func() {
			_, err := s.Engine.SendTest(context.Background(), stored, models.EventIncidentCreated)
			done <- err
		}()
		select {
		case <-rcv.seen:
		case <-time.After(5 * time.Second):
			t.Fatal("the test send never reached the receiver")
		}
		ds, err := s.Store.Deliveries(t.Context(), models.DeliveryFilter{ChannelID: stored.ID})
		modelstest.Fatal(t, err, "deliveries")
		before := countChannelRows(t, s)
		res := apiCall(t, s, token, http.MethodPost, "/api/v1/channels/"+ch.ID+"/deliveries/"+ds[0].ID+"/replay", "")
		after := countChannelRows(t, s)
		close(hold)
		wantAPIError(t, res, http.StatusConflict, "delivery_in_flight", "")
		if after != before {
			t.Fatalf("refused replay changed rows: %+v → %+v", before, after)
		}
		if err := <-done; err != nil {
			t.Fatalf("test send: %v", err)
		}
	})
}
