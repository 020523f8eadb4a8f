package web_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
	"github.com/heraldstatus/herald/web/webtest"
)

// receiver is a webhook endpoint that records what it gets and answers as
// scripted.
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	status int
	body   string
	hold   chan struct{} // when set, requests wait for it to close
	seen   chan struct{} // gets a value as each request arrives
	got    []receivedRequest
}

type receivedRequest struct {
	Header http.Header
	Body   string
}

func newReceiver(t *testing.T, status int, body string) *receiver {
	t.Helper()
	r := &receiver{status: status, body: body, seen: make(chan struct{}, 100)}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got = append(r.got, receivedRequest{Header: req.Header.Clone(), Body: string(b)})
		status, body, hold := r.status, r.body, r.hold
		r.mu.Unlock()
		r.seen <- struct{}{}
		if hold != nil {
			<-hold
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Receiver", "test-receiver")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) answer(status int, body string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.status, r.body = status, body
}

func (r *receiver) requests() []receivedRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]receivedRequest(nil), r.got...)
}

// createChannel submits the new-channel form and returns the channel's id.
func createChannel(t *testing.T, c *webtest.Client, form url.Values) int64 {
	t.Helper()
	res := c.Submit("/admin/channels/new", "/admin/channels", form)
	return idFromLocation(t, res, "/admin/channels/")
}

func channelURL(id int64) string { return fmt.Sprintf("/admin/channels/%d", id) }

func wantBody(t *testing.T, res webtest.Response, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(res.Body, p) {
			t.Errorf("page lacks %q (status %d)", p, res.Status)
		}
	}
}

func wantNotBody(t *testing.T, res webtest.Response, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if strings.Contains(res.Body, p) {
			t.Errorf("page shows %q, which it must not", p)
		}
	}
}

func TestChannelCreateEachType(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		c := s.SetUp(t)
		if res := c.Get("/admin/channels"); res.Status != http.StatusOK || !strings.Contains(res.Body, "No channels yet") {
			t.Fatalf("empty list: status %d, want the empty state", res.Status)
		}
		rcv := newReceiver(t, http.StatusOK, `{"ok":true}`)
		xss := `<img src=x onerror=alert(1)>`

		hook := createChannel(t, c, url.Values{"type": {"webhook"}, "name": {xss}, "url": {rcv.URL + "/hook"}, "enabled": {"1"}})
		page := c.Get(channelURL(hook))
		stored, err := s.Store.Channel(t.Context(), hook)
		modelstest.Fatal(t, err, "load webhook channel")
		if !strings.HasPrefix(stored.Secret, "whsec_") || !stored.Enabled {
			t.Fatalf("webhook channel = secret %q enabled %v", stored.Secret, stored.Enabled)
		}
		wantBody(t, page, "created.", "Signing secret", `value="`+stored.Secret+`"`, "All events", "&lt;img src=x onerror=alert(1)&gt;")
		wantNotBody(t, page, xss)

		slackURL := "https://hooks.slack.com/services/T0001/B0001/slacksecrettoken"
		slack := createChannel(t, c, url.Values{"type": {"slack"}, "name": {"#ops"}, "url": {slackURL},
			"events": {"incident.created", "incident.resolved"}, "enabled": {"1"}, "headers": {"X-Ignored: yes"}})
		page = c.Get(channelURL(slack))
		wantBody(t, page, "Channel “#ops” created.", "https://hooks.slack.com/services/••••", "incident.created, incident.resolved")
		wantNotBody(t, page, "slacksecrettoken", "Signing secret")

		discordURL := "https://discord.com/api/webhooks/1234/discordsecrettoken"
		discord := createChannel(t, c, url.Values{"type": {"discord"}, "name": {"Community"}, "url": {discordURL}, "retry_schedule": {"0s, 30s, 10m"}})
		got, err := s.Store.Channel(t.Context(), discord)
		modelstest.Fatal(t, err, "load discord channel")
		if got.URL != discordURL || got.Enabled || got.RetrySchedule != "0s, 30s, 10m" {
			t.Fatalf("discord channel = %q enabled=%v schedule=%q", got.URL, got.Enabled, got.RetrySchedule)
		}
		page = c.Get(channelURL(discord))
		wantBody(t, page, "https://discord.com/api/webhooks/••••", "This channel is disabled", "0s, 30s, 10m")
		wantNotBody(t, page, "discordsecrettoken")

		list := c.Get("/admin/channels")
		wantBody(t, list, "#ops", "Community", "&lt;img src=x onerror=alert(1)&gt;", "Slack", "Discord", "Webhook",
			"incident.created, incident.resolved", "All events", "Disabled by an admin.")
		wantNotBody(t, list, xss, "slacksecrettoken", "discordsecrettoken")
		if res := s.NewClient(t).Get("/admin/channels"); res.Status != http.StatusSeeOther || !strings.HasPrefix(res.Location, "/login") {
			t.Errorf("signed-out /admin/channels: %d → %q, want a redirect to the login", res.Status, res.Location)
		}
	})
}

func TestChannelFormRejectsBadInput(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		c := s.SetUp(t)
		cases := []struct {
			name  string
			form  url.Values
			error string
			kept  string
		}{
			{"empty name", url.Values{"type": {"webhook"}, "name": {""}, "url": {"https://example.com/hook"}}, "Enter a name.", `value="https://example.com/hook"`},
			{"no url", url.Values{"type": {"webhook"}, "name": {"Kept name"}}, "Enter the URL", `value="Kept name"`},
			{"not a url", url.Values{"type": {"webhook"}, "name": {"Hook"}, "url": {"ftp://example.com"}}, "Enter a full http:// or https:// URL.", `value="ftp://example.com"`},
			{"slack over http", url.Values{"type": {"slack"}, "name": {"Slack"}, "url": {"http://hooks.slack.com/services/x"}}, "Slack webhook URLs start with https://.", `value="http://hooks.slack.com/services/x"`},
			{"unknown type", url.Values{"type": {"pager"}, "name": {"Pager"}, "url": {"https://example.com"}}, "Choose Webhook, Slack or Discord.", `value="Pager"`},
			{"bad schedule", url.Values{"type": {"webhook"}, "name": {"Hook"}, "url": {"https://example.com"}, "retry_schedule": {"soon"}}, "Write delays separated by commas", `value="soon"`},
			{"bad header", url.Values{"type": {"webhook"}, "name": {"Hook"}, "url": {"https://example.com"}, "headers": {"no colon here"}}, "write each header as Name: value", "no colon here"},
			{"reserved header", url.Values{"type": {"webhook"}, "name": {"Hook"}, "url": {"https://example.com"}, "headers": {"X-Webhook-Signature: forged"}}, "Herald sets X-Webhook-Signature itself", "forged"},
			{"unknown event", url.Values{"type": {"webhook"}, "name": {"Hook"}, "url": {"https://example.com"}, "events": {"incident.created", "server.exploded"}}, "Choose events from the list.", `value="incident.created" checked`},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				res := c.Submit("/admin/channels/new", "/admin/channels", tc.form)
				if res.Status != http.StatusUnprocessableEntity {
					t.Fatalf("status %d, want 422", res.Status)
				}
				wantBody(t, res, tc.error, tc.kept, `aria-invalid="true"`)
			})
		}
		chans, err := s.Store.Channels(t.Context(), models.DefaultPageID)
		modelstest.Fatal(t, err, "list channels")
		if len(chans) != 0 {
			t.Fatalf("bad input wrote %d channels", len(chans))
		}
	})
}

func TestChannelEditKeepsMaskedCredentials(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		c := s.SetUp(t)
		rawURL := "https://user:pw@example.com/hooks/abc?token=querysecret"
		id := createChannel(t, c, url.Values{"type": {"webhook"}, "name": {"Bridge"}, "url": {rawURL}, "enabled": {"1"},
			"headers": {"Authorization: Bearer headersecret\nX-Team: ops"}})

		edit := c.Get(channelURL(id) + "/edit")
		wantBody(t, edit, `placeholder="https://••••@example.com/hooks/abc?token=••••"`, "Leave empty to keep the saved URL.",
			"Authorization: ••••", "X-Team: ••••", `value="Bridge"`)
		wantNotBody(t, edit, "querysecret", "headersecret", "pw@")
		if !strings.Contains(edit.Body, `id="f-url" name="url" type="url" value=""`) {
			t.Error("the URL input is not empty on edit")
		}

		res := c.Submit(channelURL(id)+"/edit", channelURL(id), url.Values{"type": {"slack"}, "name": {"Bridge 2"}, "url": {""},
			"headers": {"Authorization: ••••\nX-Extra: 1"}, "events": {"component.created"}})
		if res.Status != http.StatusSeeOther || res.Location != channelURL(id) {
			t.Fatalf("save: %d → %q\n%s", res.Status, res.Location, res.Body)
		}
		got, err := s.Store.Channel(t.Context(), id)
		modelstest.Fatal(t, err, "load channel")
		if got.URL != rawURL || got.Type != models.ChannelWebhook || got.Name != "Bridge 2" || got.Enabled {
			t.Errorf("after edit: url %q type %s name %q enabled %v", got.URL, got.Type, got.Name, got.Enabled)
		}
		want := "Authorization: Bearer headersecret\nX-Extra: 1\n"
		if h := models.FormatHeaders(got.Headers, false); h != want {
			t.Errorf("headers after edit = %q, want %q", h, want)
		}
		wantBody(t, c.Get(channelURL(id)), "Channel “Bridge 2” saved.", "component.created")

		// An error keeps what was typed, and the masked hint.
		res = c.Submit(channelURL(id)+"/edit", channelURL(id), url.Values{"name": {""}, "url": {"not a url"}, "retry_schedule": {"1m"}})
		if res.Status != http.StatusUnprocessableEntity {
			t.Fatalf("bad edit: %d, want 422", res.Status)
		}
		wantBody(t, res, "Enter a name.", "Enter a full http", `value="not a url"`, `value="1m"`, "https://••••@example.com")
		if res := c.Submit(channelURL(id)+"/edit", "/admin/channels/99999", url.Values{"name": {"x"}}); res.Status != http.StatusNotFound {
			t.Errorf("edit of a missing channel: %d, want 404", res.Status)
		}
	})
}

func TestChannelRotateDisableEnableDelete(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		c := s.SetUp(t)
		id := createChannel(t, c, url.Values{"type": {"webhook"}, "name": {"Ops hook"}, "url": {"https://example.com/hook"}, "enabled": {"1"}})
		before, err := s.Store.Channel(t.Context(), id)
		modelstest.Fatal(t, err, "load channel")

		wantBody(t, c.Get(channelURL(id)+"/rotate"), "Rotate the signing secret of “Ops hook”?", "both secrets sign")
		res := c.Submit(channelURL(id)+"/rotate", channelURL(id)+"/rotate", nil)
		if res.Status != http.StatusSeeOther {
			t.Fatalf("rotate: %d", res.Status)
		}
		after, err := s.Store.Channel(t.Context(), id)
		modelstest.Fatal(t, err, "load channel")
		if after.Secret == before.Secret || after.PreviousSecret != before.Secret || after.PreviousSecretUntil == nil {
			t.Fatal("rotation did not keep the old secret beside a new one")
		}
		page := c.Get(channelURL(id))
		wantBody(t, page, "Secret rotated. The previous secret keeps signing until", `value="`+after.Secret+`"`, "Rotation in progress")
		wantNotBody(t, page, before.Secret)

		res = c.Submit(channelURL(id), channelURL(id)+"/disable", nil)
		if res.Status != http.StatusSeeOther || res.Location != channelURL(id) {
			t.Fatalf("disable: %d → %q", res.Status, res.Location)
		}
		wantBody(t, c.Get(channelURL(id)), "disabled. It receives nothing", "This channel is disabled", "Disabled by an admin.", "Re-enable")
		dash := c.Get("/admin")
		wantBody(t, dash, "Channel <a href=\"/admin/channels/"+itoa(id)+"\">Ops hook</a> is disabled", "Re-enable", `name="next" value="/admin"`)

		res = c.Submit("/admin", channelURL(id)+"/enable", url.Values{"next": {"/admin"}})
		if res.Status != http.StatusSeeOther || res.Location != "/admin" {
			t.Fatalf("re-enable from the dashboard: %d → %q", res.Status, res.Location)
		}
		dash = c.Get("/admin")
		wantBody(t, dash, "Channel “Ops hook” re-enabled.")
		wantNotBody(t, dash, "is disabled")
		if got, _ := s.Store.Channel(t.Context(), id); !got.Enabled {
			t.Fatal("channel still disabled")
		}
		// next cannot lead out of the admin.
		res = c.Submit("/admin", channelURL(id)+"/enable", url.Values{"next": {"https://evil.example"}})
		if res.Location != "/admin" {
			t.Errorf("enable with a foreign next → %q, want /admin", res.Location)
		}

		wantBody(t, c.Get(channelURL(id)+"/delete"), "Delete channel “Ops hook”?", "cannot be undone")
		res = c.Submit(channelURL(id)+"/delete", channelURL(id)+"/delete", nil)
		if res.Status != http.StatusSeeOther || res.Location != "/admin/channels" {
			t.Fatalf("delete: %d → %q", res.Status, res.Location)
		}
		wantBody(t, c.Get("/admin/channels"), "Channel “Ops hook” deleted.")
		if res := c.Get(channelURL(id)); res.Status != http.StatusNotFound {
			t.Errorf("deleted channel's page: %d, want 404", res.Status)
		}
	})
}

func TestChannelSendTest(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		c := s.SetUp(t)
		rcv := newReceiver(t, http.StatusOK, `{"received":"by-the-test-receiver"}`)
		id := createChannel(t, c, url.Values{"type": {"webhook"}, "name": {"Receiver"}, "url": {rcv.URL + "/in"}, "enabled": {"1"},
			"headers": {"Authorization: Bearer sendsecret"}})

		res := c.Submit(channelURL(id), channelURL(id)+"/test", url.Values{"event": {"incident.created"}})
		if res.Status != http.StatusOK {
			t.Fatalf("send test: %d, want 200 (the page again)\n%s", res.Status, res.Body)
		}
		wantBody(t, res, "Test sent: HTTP 200 in", `class="http-status http-ok"`, "by-the-test-receiver", "X-Receiver", "test-receiver",
			"X-Webhook-Signature", "webhook-signature", "&#34;test&#34;: true", "&#34;event&#34;: &#34;incident.created&#34;", "Authorization</dt><dd>••••")
		wantNotBody(t, res, "sendsecret")
		reqs := rcv.requests()
		if len(reqs) != 1 || !strings.Contains(reqs[0].Body, `"test":true`) || reqs[0].Header.Get("Authorization") != "Bearer sendsecret" {
			t.Fatalf("receiver got %+v", reqs)
		}

		// A receiver answering 500 with markup: red status, markup escaped.
		rcv.answer(http.StatusInternalServerError, `<script>alert("pwned")</script>`)
		res = c.Submit(channelURL(id), channelURL(id)+"/test", url.Values{"event": {"component.status_changed"}})
		if res.Status != http.StatusOK {
			t.Fatalf("send test to a failing receiver: %d", res.Status)
		}
		wantBody(t, res, "Test failed: the receiver answered HTTP 500", `class="http-status http-bad"`, "&lt;script&gt;alert(&#34;pwned&#34;)&lt;/script&gt;")
		wantNotBody(t, res, `<script>alert("pwned")`)

		// No receiver at all: the error class and message.
		gone := newReceiver(t, http.StatusOK, "")
		gone.Close()
		deadID := createChannel(t, c, url.Values{"type": {"webhook"}, "name": {"Gone"}, "url": {gone.URL}, "enabled": {"1"}})
		res = c.Submit(channelURL(deadID), channelURL(deadID)+"/test", url.Values{"event": {"maintenance.started"}})
		wantBody(t, res, "Test failed: could not connect", `<span class="tag">connect</span>`, "No answer.")

		if res := c.Get(channelURL(id) + "/test"); res.Status != http.StatusSeeOther || res.Location != channelURL(id)+"#test" {
			t.Errorf("GET of the test URL: %d → %q, want a redirect to the channel", res.Status, res.Location)
		}
		res = c.Submit(channelURL(id), channelURL(id)+"/test", url.Values{"event": {"server.exploded"}})
		if res.Status != http.StatusUnprocessableEntity || !strings.Contains(res.Body, "Choose an event type from the list.") {
			t.Errorf("unknown event: %d, want 422 with the error", res.Status)
		}
	})
}

// seedDeliveries sends one delivered test (incident.created) and one failed
// test (component.created) to a new channel and returns the channel id and
// the two deliveries.
func seedDeliveries(t *testing.T, s *webtest.Server, c *webtest.Client, rcv *receiver) (int64, models.Delivery, models.Delivery) {
	t.Helper()
	id := createChannel(t, c, url.Values{"type": {"webhook"}, "name": {"Logged"}, "url": {rcv.URL}, "enabled": {"1"}})
	rcv.answer(http.StatusOK, "ok")
	c.Submit(channelURL(id), channelURL(id)+"/test", url.Values{"event": {"incident.created"}})
	rcv.answer(http.StatusBadGateway, "down")
	c.Submit(channelURL(id), channelURL(id)+"/test", url.Values{"event": {"component.created"}})
	ds, err := s.Store.Deliveries(t.Context(), models.DeliveryFilter{ChannelID: id})
	modelstest.Fatal(t, err, "deliveries")
	if len(ds) != 2 || ds[0].State != models.DeliveryFailed || ds[1].State != models.DeliveryDelivered {
		t.Fatalf("deliveries = %+v, want one failed and one delivered", ds)
	}
	return id, ds[1], ds[0]
}

func TestDeliveryLogFilters(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		c := s.SetUp(t)
		id, ok, failed := seedDeliveries(t, s, c, newReceiver(t, http.StatusOK, "ok"))
		okRow, failedRow := `id="delivery-`+ok.ID+`"`, `id="delivery-`+failed.ID+`"`
		today := time.Now().UTC().Format(time.DateOnly)
		tomorrow := time.Now().UTC().AddDate(0, 0, 1).Format(time.DateOnly)

		cases := []struct {
			name   string
			query  string
			rows   []string
			noRows []string
			notes  []string
		}{
			{"no filter", "", []string{okRow, failedRow}, nil, nil},
			{"failed only", "?state=failed", []string{failedRow}, []string{okRow}, nil},
			{"delivered only", "?state=delivered", []string{okRow}, []string{failedRow}, nil},
			{"by event", "?event=incident.created", []string{okRow}, []string{failedRow}, nil},
			{"today", "?from=" + today + "&to=" + today, []string{okRow, failedRow}, nil, nil},
			{"from tomorrow", "?from=" + tomorrow, nil, []string{okRow, failedRow}, []string{"No deliveries match these filters."}},
			{"bad values ignored", "?state=bogus&event=%3Cb%3Eboom&from=yesterday&to=2026-13-45&page=x",
				[]string{okRow, failedRow}, []string{"<b>boom"},
				[]string{"Unknown state “bogus” ignored", "Unknown event type “&lt;b&gt;boom” ignored.", "“yesterday” is not a date", "“2026-13-45” is not a date"}},
			{"end before start", "?from=" + tomorrow + "&to=" + today, nil, []string{okRow}, []string{"The end date is before the start date"}},
			{"page past the end", "?page=9", nil, []string{okRow, failedRow}, []string{"← Newer"}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				res := c.Get(channelURL(id) + tc.query)
				if res.Status != http.StatusOK {
					t.Fatalf("status %d, want 200", res.Status)
				}
				wantBody(t, res, tc.rows...)
				wantBody(t, res, tc.notes...)
				wantNotBody(t, res, tc.noRows...)
			})
		}
		list := c.Get("/admin/channels")
		wantBody(t, list, `badge ds-failed`)
	})
}

func TestDeliveryDetailAndReplay(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		c := s.SetUp(t)
		rcv := newReceiver(t, http.StatusOK, "ok")
		id, ok, failed := seedDeliveries(t, s, c, rcv)
		other := createChannel(t, c, url.Values{"type": {"webhook"}, "name": {"Other"}, "url": {rcv.URL}, "enabled": {"1"}})

		detail := c.Get(channelURL(id) + "/deliveries/" + failed.ID)
		if detail.Status != http.StatusOK {
			t.Fatalf("detail: %d", detail.Status)
		}
		wantBody(t, detail, failed.ID, "component.created", "Attempt 1", "502", "down", "X-Request-Id", "Replay", `class="http-status http-bad"`)

		for _, path := range []string{
			channelURL(other) + "/deliveries/" + ok.ID, // another channel's delivery
			channelURL(id) + "/deliveries/dlv_01NOPE",
			channelURL(id) + "/deliveries/abc",
			"/admin/channels/abc",
			"/admin/channels/abc/edit",
			"/admin/channels/-3/delete",
			"/admin/channels/abc/deliveries/" + ok.ID,
			"/admin/channels/99999",
		} {
			if res := c.Get(path); res.Status != http.StatusNotFound {
				t.Errorf("GET %s: %d, want 404", path, res.Status)
			}
		}
		if res := c.Submit(channelURL(id), channelURL(other)+"/deliveries/"+ok.ID+"/replay", nil); res.Status != http.StatusNotFound {
			t.Errorf("replay through another channel: %d, want 404", res.Status)
		}

		rcv.answer(http.StatusOK, "ok")
		before := len(rcv.requests())
		res := c.Submit(channelURL(id)+"/deliveries/"+failed.ID, channelURL(id)+"/deliveries/"+failed.ID+"/replay", nil)
		if res.Status != http.StatusSeeOther || res.Location != channelURL(id)+"/deliveries/"+failed.ID {
			t.Fatalf("replay: %d → %q", res.Status, res.Location)
		}
		wantBody(t, c.Get(res.Location), "Replay queued.")
		d := waitDelivery(t, s, failed.ID, func(d *models.Delivery) bool { return d.State == models.DeliveryDelivered })
		if d.Attempts != 2 {
			t.Errorf("after replay the delivery has %d attempts, want 2", d.Attempts)
		}
		reqs := rcv.requests()
		if len(reqs) != before+1 || reqs[len(reqs)-1].Header.Get("X-Request-ID") != failed.ID {
			t.Errorf("replay did not reach the receiver with X-Request-ID %s", failed.ID)
		}
		wantBody(t, c.Get(channelURL(id)+"/deliveries/"+failed.ID), "Attempt 1", "Attempt 2", "badge ds-delivered")
	})
}

// TestReplayWhileInFlight replays a delivery whose attempt is still
// waiting for the receiver: a friendly refusal, not an error page.
func TestReplayWhileInFlight(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		c := s.SetUp(t)
		rcv := newReceiver(t, http.StatusOK, "ok")
		id := createChannel(t, c, url.Values{"type": {"webhook"}, "name": {"Slow"}, "url": {rcv.URL}, "enabled": {"1"}})
		ch, err := s.Store.Channel(t.Context(), id)
		modelstest.Fatal(t, err, "load channel")
		hold := make(chan struct{})
		rcv.mu.Lock()
		rcv.hold = hold
		rcv.mu.Unlock()
		done := make(chan error, 1)
		go func() {
			_, err := s.Engine.SendTest(context.Background(), ch, models.EventIncidentCreated)
			done <- err
		}()
		select {
		case <-rcv.seen:
		case <-time.After(5 * time.Second):
			t.Fatal("the test send never reached the receiver")
		}
		ds, err := s.Store.Deliveries(t.Context(), models.DeliveryFilter{ChannelID: id})
		modelstest.Fatal(t, err, "deliveries")
		path := channelURL(id) + "/deliveries/" + ds[0].ID
		res := c.Submit(path, path+"/replay", nil)
		close(hold)
		if res.Status != http.StatusSeeOther {
			t.Fatalf("replay in flight: %d, want 303", res.Status)
		}
		wantBody(t, c.Get(path), "An attempt of this delivery is under way.")
		if err := <-done; err != nil {
			t.Fatalf("test send: %v", err)
		}
	})
}

func waitDelivery(t *testing.T, s *webtest.Server, id string, ok func(*models.Delivery) bool) *models.Delivery {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		d, err := s.Store.Delivery(t.Context(), id)
		modelstest.Fatal(t, err, "load delivery")
		if ok(d) {
			return d
		}
		if time.Now().After(deadline) {
			t.Fatalf("delivery %s stuck at %s after %d attempts", id, d.State, d.Attempts)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestChannelFormsNeedCSRF(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		c := s.SetUp(t)
		id := createChannel(t, c, url.Values{"type": {"webhook"}, "name": {"Guarded"}, "url": {"https://example.com"}, "enabled": {"1"}})
		for _, path := range []string{"/admin/channels", channelURL(id), channelURL(id) + "/disable", channelURL(id) + "/enable",
			channelURL(id) + "/rotate", channelURL(id) + "/test", channelURL(id) + "/delete"} {
			res := c.Post(path, url.Values{"name": {"Forged"}, "type": {"webhook"}, "url": {"https://evil.example"}, "event": {"incident.created"}})
			if res.Status != http.StatusForbidden {
				t.Errorf("POST %s without a token: %d, want 403", path, res.Status)
			}
		}
		got, err := s.Store.Channel(t.Context(), id)
		modelstest.Fatal(t, err, "load channel")
		if got.Name != "Guarded" || !got.Enabled {
			t.Fatalf("a forged form changed the channel: %+v", got)
		}
		ds, _ := s.Store.Deliveries(t.Context(), models.DeliveryFilter{ChannelID: id})
		if len(ds) != 0 {
			t.Fatal("a forged form sent a test")
		}
	})
}

func TestChannelEgressWarning(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		c := s.SetUp(t)
		id := createChannel(t, c, url.Values{"type": {"webhook"}, "name": {"Metadata"}, "url": {"http://169.254.169.254/latest"}, "enabled": {"1"}})
		page := c.Get(channelURL(id))
		wantBody(t, page, "Channel “Metadata” created.", `class="flash flash-warning"`, "Deliveries to this URL will fail", "169.254.169.254")
		// Saving again without touching the URL says nothing more.
		c.Submit(channelURL(id)+"/edit", channelURL(id), url.Values{"name": {"Metadata 2"}, "enabled": {"1"}})
		wantNotBody(t, c.Get(channelURL(id)), "flash-warning")
		// A refused address on a test send is a clear error.
		res := c.Submit(channelURL(id), channelURL(id)+"/test", url.Values{"event": {"incident.created"}})
		wantBody(t, res, "refused by egress policy", `<span class="tag">egress</span>`)
	})
}
