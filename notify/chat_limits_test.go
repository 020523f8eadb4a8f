package notify_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
	"github.com/heraldstatus/herald/notify"
)

// chatStandIn is a Slack or Discord incoming webhook over HTTPS that
// applies limits as the platform does, in UTF-16 units: a payload over
// one gets the platform's 400, anything else is posted (Slack "ok",
// Discord 204).
func chatStandIn(t *testing.T, kind models.ChannelType, violations func([]byte) []string) *receiver {
	t.Helper()
	var rc *receiver
	rc = newTLSReceiver(t, func(w http.ResponseWriter, _ *http.Request, n int) {
		body := rc.requests()[n-1].Body
		v := violations(body)
		switch {
		case len(v) > 0 && kind == models.ChannelSlack:
			w.WriteHeader(http.StatusBadRequest)
			w.Write([]byte("invalid_blocks"))
		case len(v) > 0:
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			json.NewEncoder(w).Encode(map[string]any{"code": 50035, "message": "Invalid Form Body", "errors": v})
		case kind == models.ChannelSlack:
			w.Write([]byte("ok"))
		default:
			w.WriteHeader(http.StatusNoContent)
		}
	})
	return rc
}

func documentedLimits(kind models.ChannelType) func([]byte) []string {
	if kind == models.ChannelSlack {
		return func(b []byte) []string { return notify.SlackViolations(b, notify.SlackDocumented) }
	}
	return func(b []byte) []string { return notify.DiscordViolations(b, notify.DiscordDocumented) }
}

// tightenedLimits are the limits of a platform that lowered them since
// Herald was built: the full message no longer fits, a short one does.
func tightenedLimits(kind models.ChannelType) func([]byte) []string {
	if kind == models.ChannelSlack {
		l := notify.SlackDocumented
		l.Section, l.Header = 500, 60
		return func(b []byte) []string { return notify.SlackViolations(b, l) }
	}
	l := notify.DiscordDocumented
	l.Description, l.Title = 500, 100
	return func(b []byte) []string { return notify.DiscordViolations(b, l) }
}

func testTLS() *http.Transport {
	// Every httptest TLS server uses the same certificate, so one
	// server's client configuration trusts them all.
	probe := httptest.NewTLSServer(http.NotFoundHandler())
	defer probe.Close()
	return probe.Client().Transport.(*http.Transport)
}

var chatKinds = []models.ChannelType{models.ChannelSlack, models.ChannelDiscord}

// openIncident commits an incident whose title and message are far over
// the chat limits when counted as Slack and Discord count: emoji and
// astral CJK are two UTF-16 units each.
func openIncident(t *testing.T, s *models.Store) *models.Incident {
	t.Helper()
	title := strings.Repeat("😀", 150) + strings.Repeat("𠀋", 50)                 // 200 characters, 400 units
	msg := strings.Repeat("Database 😀 down 𠀋 漢字 é\u0301 👨\u200d👩\u200d👧 ", 300) // ~9,000 characters, ~12,000 units
	inc, err := s.CreateIncident(context.Background(), models.DefaultPageID, models.IncidentInput{
		Title: title, Status: models.IncidentInvestigating, Impact: models.ImpactMajor, Message: msg})
	modelstest.Fatal(t, err, "create incident")
	return inc
}

// TestChatMessagesFitAsPlatformsCount: a message in emoji and astral
// CJK, over every limit, reaches stand-ins that count in UTF-16 units
// as the full message, at the first attempt.
func TestChatMessagesFitAsPlatformsCount(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, s *models.Store) {
		startEngine(t, s, notify.Config{TLS: testTLS().TLSClientConfig})
		rcs, chans := map[models.ChannelType]*receiver{}, map[models.ChannelType]*models.Channel{}
		for _, kind := range chatKinds {
			rcs[kind] = chatStandIn(t, kind, documentedLimits(kind))
			chans[kind] = addChannel(t, s, kind, rcs[kind].URL+"/hooks/T000/B000/xyz", "0s")
		}
		openIncident(t, s)
		for _, kind := range chatKinds {
			d := waitFinal(t, s, chans[kind].ID, 10*time.Second)
			reqs := rcs[kind].requests()
			if d.State != models.DeliveryDelivered || d.Attempts != 1 || len(reqs) != 1 {
				t.Fatalf("%s: delivery %s after %d attempts, %d requests: %s", kind, d.State, d.Attempts, len(reqs), d.LastError)
			}
			full := `"blocks"`
			if kind == models.ChannelDiscord {
				full = `"embeds"`
			}
			if !strings.Contains(string(reqs[0].Body), full) || !strings.Contains(string(reqs[0].Body), "…") {
				t.Errorf("%s: not the full message, cut: %.300s", kind, reqs[0].Body)
			}
		}
	})
}

// TestChatFallbackWhenPlatformRefuses: when Slack or Discord still
// answer 400, one short plain message follows as the next attempt, and
// the delivery succeeds with it; when that is refused too, the delivery
// fails after those two requests.
func TestChatFallbackWhenPlatformRefuses(t *testing.T) {
	eachWithBaseURL(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		startEngine(t, s, notify.Config{TLS: testTLS().TLSClientConfig})
		rcs, chans := map[models.ChannelType]*receiver{}, map[models.ChannelType]*models.Channel{}
		for _, kind := range chatKinds {
			rcs[kind] = chatStandIn(t, kind, tightenedLimits(kind))
			chans[kind] = addChannel(t, s, kind, rcs[kind].URL+"/hooks/T000/B000/xyz", "0s, 1m")
		}
		refuseAll := chatStandIn(t, models.ChannelDiscord, func([]byte) []string { return []string{"refused"} })
		gone := addChannel(t, s, models.ChannelDiscord, refuseAll.URL+"/api/webhooks/1/abc", "0s, 1m")

		inc := openIncident(t, s)
		for _, kind := range chatKinds {
			d := waitFinal(t, s, chans[kind].ID, 10*time.Second)
			reqs := rcs[kind].requests()
			if d.State != models.DeliveryDelivered || d.Attempts != 2 || len(reqs) != 2 {
				t.Fatalf("%s: delivery %s after %d attempts and %d requests, want delivered by the fallback: %s",
					kind, d.State, d.Attempts, len(reqs), d.LastError)
			}
			var plain struct {
				Text, Content string
				Blocks        any
				Embeds        any
				Attachments   any
			}
			if err := json.Unmarshal(reqs[1].Body, &plain); err != nil {
				t.Fatal(err)
			}
			text := plain.Text + plain.Content
			if plain.Blocks != nil || plain.Embeds != nil || plain.Attachments != nil ||
				!strings.Contains(text, "Incident: 😀😀") || !strings.Contains(text, "Status: Investigating") ||
				!strings.Contains(text, fmt.Sprintf("%s/incidents/%d", s.BaseURL(), inc.ID)) || notify.UTF16Len(text) > 1500 {
				t.Errorf("%s: fallback is not title, status and link in plain text: %s", kind, reqs[1].Body)
			}
			as := attempts(t, s, d)
			if len(as) != 2 || as[0].ResponseStatus != 400 || as[0].Outcome != "failed" ||
				!strings.Contains(as[0].Error, "invalid payload") || !strings.Contains(as[0].Error, "fallback follows as attempt 2") ||
				as[1].Outcome != "delivered" || as[1].RequestBody != string(reqs[1].Body) || as[1].Number != 2 {
				t.Errorf("%s: delivery log %+v", kind, as)
			}
			ds, err := s.Delivery(ctx, d.ID)
			modelstest.Fatal(t, err, "delivery")
			if ds.Round() != 1 {
				t.Errorf("%s: the refused message and its fallback used %d steps of the retry schedule, want 1", kind, ds.Round())
			}
		}

		d := waitFinal(t, s, gone.ID, 10*time.Second)
		as := attempts(t, s, d)
		if d.State != models.DeliveryFailed || len(as) != 2 || len(refuseAll.requests()) != 2 ||
			!strings.Contains(d.LastError, "plain-text fallback: invalid payload") {
			t.Errorf("refused twice: delivery %s, %d attempts, %d requests, %q", d.State, len(as), len(refuseAll.requests()), d.LastError)
		}
	})
}

// eachWithBaseURL is modelstest.Each with a base URL, so events carry
// links.
func eachWithBaseURL(t *testing.T, fn func(t *testing.T, s *models.Store)) {
	for _, engine := range modelstest.Engines {
		t.Run(string(engine), func(t *testing.T) {
			fn(t, modelstest.OpenWith(t, engine, models.Options{BaseURL: "https://status.example.com"}))
		})
	}
}
