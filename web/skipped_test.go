package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
	"github.com/heraldstatus/herald/web/webtest"
)

// skipEvents disables channel id, commits n events while it is off and
// returns the ids of its skipped deliveries, oldest event first.
func skipEvents(t *testing.T, s *webtest.Server, c *webtest.Client, id int64, n int) []string {
	t.Helper()
	if res := c.Submit(channelURL(id), channelURL(id)+"/disable", nil); res.Status != http.StatusSeeOther {
		t.Fatalf("disable: %d", res.Status)
	}
	for i := range n {
		_, err := s.Store.CreateComponent(t.Context(), models.DefaultPageID, models.ComponentInput{
			Name: fmt.Sprintf("Missed %d", i), Status: models.StatusOperational})
		modelstest.Fatal(t, err, "component")
	}
	ds, err := s.Store.Deliveries(t.Context(), models.DeliveryFilter{ChannelID: id, State: models.DeliverySkipped})
	modelstest.Fatal(t, err, "deliveries")
	if len(ds) != n {
		t.Fatalf("%d skipped deliveries, want %d", len(ds), n)
	}
	var ids []string
	for i := len(ds) - 1; i >= 0; i-- { // the log lists newest first
		ids = append(ids, ds[i].ID)
	}
	return ids
}

// awaitRequests waits until rcv has seen n requests in all.
func awaitRequests(t *testing.T, rcv *receiver, n int) []receivedRequest {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for len(rcv.requests()) < n {
		select {
		case <-rcv.seen:
		case <-deadline:
			t.Fatalf("the receiver got %d requests, want %d", len(rcv.requests()), n)
		}
	}
	return rcv.requests()
}

func TestSkippedNotificationsFromTheAdmin(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		c := s.SetUp(t)
		rcv := newReceiver(t, http.StatusOK, "ok")
		id := createChannel(t, c, url.Values{"type": {"webhook"}, "name": {"Ops hook"}, "url": {rcv.URL}, "enabled": {"1"}})
		skipped := skipEvents(t, s, c, id, 3)

		// While disabled: counted in the red notice, not offered yet.
		page := c.Get(channelURL(id))
		wantBody(t, page, "This channel is disabled", "3 notifications skipped while it is off.")
		wantNotBody(t, page, "Send the 3 skipped notifications")
		wantBody(t, c.Get("/admin"), "3 notifications skipped while it is off.")
		// The log shows them, with their event, and filters by the state.
		log := c.Get(channelURL(id) + "?state=skipped")
		wantBody(t, log, `<option value="skipped" selected>Skipped</option>`, "3 deliveries", `class="badge ds-skipped"`, "<code>component.created</code>")
		if n := strings.Count(log.Body, `class="badge ds-skipped"`); n != 3 {
			t.Errorf("%d skipped rows in the filtered log, want 3", n)
		}
		wantBody(t, c.Get(channelURL(id)+"/deliveries/"+skipped[0]), "Not sent: the channel was disabled when this event happened.")

		// Sending while disabled is refused.
		res := c.Submit(channelURL(id), channelURL(id)+"/send-skipped", nil)
		if res.Status != http.StatusSeeOther {
			t.Fatalf("send while disabled: %d", res.Status)
		}
		wantBody(t, c.Get(res.Location), "Channel “Ops hook” is disabled. Re-enable it first")

		// Re-enabling from the dashboard sends nothing of it, and says so.
		res = c.Submit("/admin", channelURL(id)+"/enable", url.Values{"next": {"/admin"}})
		if res.Status != http.StatusSeeOther || res.Location != "/admin" {
			t.Fatalf("re-enable: %d → %q", res.Status, res.Location)
		}
		dash := c.Get("/admin")
		wantBody(t, dash, "Channel “Ops hook” re-enabled.", "It skipped 3 notifications while it was off; they are not sent unless you choose to.",
			`Channel <a href="/admin/channels/`+itoa(id)+`">Ops hook</a> skipped 3 notifications while it was disabled`,
			"Send the 3 skipped notifications", `action="/admin/channels/`+itoa(id)+`/send-skipped"`)
		_, err := s.Store.CreateComponent(t.Context(), models.DefaultPageID, models.ComponentInput{Name: "After", Status: models.StatusOperational})
		modelstest.Fatal(t, err, "component")
		awaitRequests(t, rcv, 1)
		time.Sleep(3 * 200 * time.Millisecond) // three polls of the test server's worker
		if got := rcv.requests(); len(got) != 1 {
			t.Fatalf("after re-enabling, the receiver got %d requests, want only the new event's", len(got))
		}

		page = c.Get(channelURL(id))
		wantBody(t, page, "3 notifications were skipped while this channel was disabled", "Send the 3 skipped notifications",
			`href="/admin/channels/`+itoa(id)+`?state=skipped#deliveries"`)
		wantBody(t, c.Get("/admin/channels"), "3 skipped notifications")

		// The form needs its CSRF token.
		if res := c.Post(channelURL(id)+"/send-skipped", url.Values{}); res.Status != http.StatusForbidden {
			t.Errorf("send without a token: %d, want 403", res.Status)
		}
		if n, _ := s.Store.CountDeliveries(t.Context(), models.DeliveryFilter{ChannelID: id, State: models.DeliverySkipped}); n != 3 {
			t.Fatalf("a forged form queued skipped deliveries: %d left", n)
		}

		// One click sends all three.
		res = c.Submit(channelURL(id), channelURL(id)+"/send-skipped", url.Values{"next": {channelURL(id)}})
		if res.Status != http.StatusSeeOther || res.Location != channelURL(id) {
			t.Fatalf("send skipped: %d → %q", res.Status, res.Location)
		}
		page = c.Get(res.Location)
		wantBody(t, page, "Sending the 3 skipped notifications of “Ops hook”, oldest first.")
		wantNotBody(t, page, "Send the 3 skipped notifications")
		reqs := awaitRequests(t, rcv, 4)
		var got []string
		for _, r := range reqs[1:] {
			got = append(got, r.Header.Get("X-Request-ID"))
		}
		slices.Sort(got)
		want := slices.Clone(skipped)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("the receiver got %v, want the skipped deliveries %v", got, want)
		}
		res = c.Submit(channelURL(id), channelURL(id)+"/send-skipped", nil)
		wantBody(t, c.Get(res.Location), "Channel “Ops hook” has no skipped notifications to send.")
		entries, err := s.Store.AuditEntries(t.Context(), models.AuditFilter{Action: "channel.send_skipped"})
		modelstest.Fatal(t, err, "audit")
		if len(entries) != 1 || entries[0].ActorName != webtest.AdminEmail {
			t.Errorf("audit = %+v, want one entry by the admin", entries)
		}
	})
}

func TestAPISendSkipped(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		c, write, read := channelsSetUp(t, s)
		rcv := newReceiver(t, http.StatusOK, "ok")
		id := createChannel(t, c, url.Values{"type": {"webhook"}, "name": {"Ops hook"}, "url": {rcv.URL}, "enabled": {"1"}})
		skipped := skipEvents(t, s, c, id, 2)
		path := "/api/v1/channels/" + itoa(id) + "/send-skipped"
		post := func(token, path, key string) apiResponse {
			t.Helper()
			h := http.Header{}
			if key != "" {
				h.Set("Idempotency-Key", key)
			}
			return apiSend(t, s, token, http.MethodPost, path, "", nil, h)
		}

		// The deliveries list shows them, filtered by state, with their event.
		list := decodeAPI[[]struct {
			ID, State string
			EventID   *string `json:"event_id"`
		}](t, apiCall(t, s, read, http.MethodGet, "/api/v1/channels/"+itoa(id)+"/deliveries?state=skipped", ""), http.StatusOK)
		if len(list) != 2 || list[0].State != "skipped" || list[0].EventID == nil || list[1].ID != skipped[0] {
			t.Errorf("deliveries?state=skipped = %+v", list)
		}

		wantAPIError(t, post(write, "/api/v1/channels/99999/send-skipped", ""), http.StatusNotFound, "not_found", "")
		wantAPIError(t, post(write, "/api/v1/channels/abc/send-skipped", ""), http.StatusNotFound, "not_found", "")
		res := post(write, path, "")
		wantAPIError(t, res, http.StatusConflict, "channel_disabled", "")
		if !strings.Contains(res.Err.Message, "The channel is disabled. Enable it first") {
			t.Errorf("message %q does not say what to do", res.Err.Message)
		}
		if res := post(read, path, ""); res.Status != http.StatusForbidden {
			t.Errorf("a read token: %d, want 403", res.Status)
		}
		if res := apiCall(t, s, write, http.MethodPost, path, `{"all": true}`); res.Status != http.StatusBadRequest &&
			res.Status != http.StatusUnprocessableEntity {
			t.Errorf("a body on a bodyless endpoint: %d, want 4xx", res.Status)
		}

		enabled := decodeAPI[channelJSON](t, apiCall(t, s, write, http.MethodPatch, "/api/v1/channels/"+itoa(id), `{"enabled": true}`), http.StatusOK)
		if !enabled.Enabled {
			t.Fatal("not enabled")
		}
		first := post(write, path, "send-skipped-1")
		if got := decodeAPI[struct{ Queued int }](t, first, http.StatusAccepted); got.Queued != 2 {
			t.Fatalf("queued %d, want 2", got.Queued)
		}
		again := post(write, path, "send-skipped-1")
		if again.Status != http.StatusAccepted || again.Body != first.Body || again.Header.Get("Idempotent-Replayed") != "true" {
			t.Errorf("replay with the same key: %d %s, want the first answer", again.Status, again.Body)
		}
		reqs := awaitRequests(t, rcv, 2)
		if ids := []string{reqs[0].Header.Get("X-Request-ID"), reqs[1].Header.Get("X-Request-ID")}; !slices.Contains(ids, skipped[0]) || !slices.Contains(ids, skipped[1]) {
			t.Errorf("the receiver got %v, want %v", ids, skipped)
		}
		if got := decodeAPI[struct{ Queued int }](t, post(write, path, ""), http.StatusAccepted); got.Queued != 0 {
			t.Errorf("a second send queued %d, want 0", got.Queued)
		}
	})
}
