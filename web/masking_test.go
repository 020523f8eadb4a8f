package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
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

// lockedBuffer collects log lines written from several goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestWebhookTokensNeverShow makes custom webhook channels with the URL
// shapes of Mattermost, Teams, Google Chat and Rocket.Chat (tokens in the
// path and the query) towards a receiver that answers errors echoing the
// path and a redirect to the same URL, sends tests and real events, edits
// them, then looks for the tokens everywhere a URL is shown or logged: the
// channel list, channel, edit, delivery and attempt pages, the audit log,
// every API answer, the server's log, and every column of every table
// (where only the sealed URL may hold them, encrypted). Never found, on
// both engines.
func TestWebhookTokensNeverShow(t *testing.T) {
	const (
		mattermost = "xi3pd8g4cfbqdruzf5dejmbuhe"
		teamsKey   = "8592f62b50cf41b9b93ba0c0a00a0b88"
		teamsGUID  = "7aa49aa6-7840-443d-806c-08ebe8f59966"
		teamsGUID2 = "c662313f-14fc-43a2-9a7a-d2e27f4f3478"
		teamsGUID3 = "6ac4f4e5-8e3b-4b38-9d7e-1a2b3c4d5e6f"
		chatKey    = "AIzaSyDdI0hCZtE6vySjMm-WEfRq3CPzqKqqsHI"
		chatToken  = "x8Qp3mLr2Tb9vWc4Yd7Zf1Gh5Jk0Nm6Pq3Rs8Tu"
		rocketID   = "6a3b9YpQkTzXw2Rd7"
		rocketTok  = "Xy9KpLmN3qRsTuVw2xYz5AbCdEfGhIjK8LmNoPqRsTuVwXyZ12"
		password   = "hunter2-s3cret"
	)
	secrets := []string{mattermost, teamsKey, teamsGUID, teamsGUID2, teamsGUID3, chatKey, chatToken, rocketID, rocketTok, password}
	for _, engine := range modelstest.Engines {
		t.Run(string(engine), func(t *testing.T) {
			ctx := context.Background()
			var logs lockedBuffer
			s := webtest.StartWith(t, webtest.Options{Engine: engine, Log: &logs})
			var base string
			rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if strings.HasPrefix(r.URL.Path, "/redirect/") {
					w.Header().Set("Location", base+r.RequestURI)
					w.WriteHeader(http.StatusFound)
					return
				}
				w.WriteHeader(http.StatusInternalServerError)
				fmt.Fprintf(w, "no hook at %s (%s)", r.RequestURI, r.URL.Path)
			}))
			defer rc.Close()
			base = rc.URL
			c := s.SetUp(t)
			_, token := createToken(t, c, "Everything", models.Scopes...)

			// Two through the form, two through the API.
			var ids []int64
			ids = append(ids, createChannel(t, c, url.Values{"type": {"webhook"}, "name": {"Mattermost"}, "enabled": {"1"},
				"url": {rc.URL + "/hooks/" + mattermost}}))
			ids = append(ids, createChannel(t, c, url.Values{"type": {"webhook"}, "name": {"Google Chat"}, "enabled": {"1"},
				"url": {"http://bot:" + password + "@" + strings.TrimPrefix(rc.URL, "http://") + "/v1/spaces/AAAAbcDEf12/messages?key=" + chatKey + "&token=" + chatToken}}))
			// In this order: ids[2] is the Teams channel, whose URL changes below.
			for _, ch := range []struct{ name, url string }{
				{"Teams", rc.URL + "/webhookb2/" + teamsGUID + "@" + teamsGUID2 + "/IncomingWebhook/" + teamsKey + "/" + teamsGUID3},
				{"Rocket.Chat", rc.URL + "/redirect/hooks/" + rocketID + "/" + rocketTok},
			} {
				body, _ := json.Marshal(map[string]string{"type": "webhook", "name": ch.name, "url": ch.url})
				res := apiCall(t, s, token, "POST", "/api/v1/channels", string(body))
				wantSecretsAbsent(t, "POST /api/v1/channels", res.Body, secrets)
				ids = append(ids, apiIDOf(t, decodeAPI[channelJSON](t, res, http.StatusCreated).ID))
			}

			var shown []string // every page and answer, to search
			for _, id := range ids {
				shown = append(shown, c.Submit(channelURL(id), channelURL(id)+"/test", url.Values{"event": {"incident.created"}}).Body)
				shown = append(shown, apiCall(t, s, token, "POST", fmt.Sprintf("/api/v1/channels/%d/test", id), `{"event": "incident.updated"}`).Body)
			}
			// A real event to every channel, a rename and a new URL.
			shown = append(shown, apiCall(t, s, token, "POST", "/api/v1/incidents", `{"name": "Errors", "body": "Looking."}`).Body)
			c.Submit(channelURL(ids[0])+"/edit", channelURL(ids[0]), url.Values{"name": {"Mattermost ops"}, "enabled": {"1"}})
			shown = append(shown, apiCall(t, s, token, "PATCH", fmt.Sprintf("/api/v1/channels/%d", ids[2]),
				`{"url": "`+rc.URL+`/webhookb2/`+teamsGUID+`@`+teamsGUID2+`/IncomingWebhook/`+teamsKey+`/`+teamsGUID3+`?x=1"}`).Body)
			deadline := time.Now().Add(10 * time.Second)
			for _, id := range ids {
				for {
					ds, err := s.Store.Deliveries(ctx, models.DeliveryFilter{ChannelID: id})
					modelstest.Fatal(t, err, "deliveries")
					if len(ds) >= 3 && ds[0].Attempts > 0 || time.Now().After(deadline) {
						break
					}
					time.Sleep(50 * time.Millisecond)
				}
			}

			shown = append(shown, c.Get("/admin").Body, c.Get("/admin/channels").Body, c.Get("/admin/audit").Body,
				apiCall(t, s, token, "GET", "/api/v1/channels", "").Body)
			attempts := 0
			for _, id := range ids {
				shown = append(shown, c.Get(channelURL(id)).Body, c.Get(channelURL(id)+"/edit").Body,
					apiCall(t, s, token, "GET", fmt.Sprintf("/api/v1/channels/%d", id), "").Body,
					apiCall(t, s, token, "GET", fmt.Sprintf("/api/v1/channels/%d/deliveries", id), "").Body)
				ds, err := s.Store.Deliveries(ctx, models.DeliveryFilter{ChannelID: id})
				modelstest.Fatal(t, err, "deliveries")
				for _, d := range ds {
					shown = append(shown, c.Get(fmt.Sprintf("%s/deliveries/%s", channelURL(id), d.ID)).Body,
						apiCall(t, s, token, "GET", fmt.Sprintf("/api/v1/channels/%d/deliveries/%s", id, d.ID), "").Body)
					attempts += d.Attempts
				}
			}
			entries, err := s.Store.AuditEntries(ctx, models.AuditFilter{ObjectType: models.AuditChannel})
			modelstest.Fatal(t, err, "audit")
			for _, e := range entries {
				shown = append(shown, c.Get(fmt.Sprintf("/admin/audit/%d", e.ID)).Body)
			}
			if attempts < 3*len(ids) || len(entries) < 6 {
				t.Fatalf("only %d attempts and %d audit entries to look at", attempts, len(entries))
			}
			for i, text := range shown {
				wantSecretsAbsent(t, fmt.Sprintf("page or answer %d", i), text, secrets)
			}
			wantSecretsAbsent(t, "the log", logs.String(), secrets)
			if !strings.Contains(logs.String(), "delivery attempt failed") {
				t.Errorf("the failures are not in the log:\n%s", logs.String())
			}
			for _, secret := range secrets {
				if tables := tablesContaining(t, s, secret); len(tables) > 0 {
					t.Errorf("%s is stored in plaintext in %v", secret, tables)
				}
			}
			// What is shown is still useful: the hints keep host and shape.
			page := c.Get("/admin/channels").Body
			for _, hint := range []string{"/hooks/••••", "/webhookb2/••••/IncomingWebhook/••••/••••", "/v1/spaces/AAAAbcDEf12/messages?key=••••&amp;token=••••",
				"/redirect/hooks/••••/••••", "http://••••@127.0.0.1"} {
				if !strings.Contains(page, hint) {
					t.Errorf("the channel list lacks %q", hint)
				}
			}
		})
	}
}

func wantSecretsAbsent(t *testing.T, where, text string, secrets []string) {
	t.Helper()
	for _, secret := range secrets {
		if i := strings.Index(text, secret); i >= 0 {
			t.Errorf("%s shows %s: …%s…", where, secret, text[max(0, i-120):min(len(text), i+len(secret)+40)])
		}
	}
}
