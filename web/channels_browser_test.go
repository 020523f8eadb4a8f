package web_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
	"github.com/heraldstatus/herald/web/browsertest"
	"github.com/heraldstatus/herald/web/webtest"
)

// TestBrowserChannelFlow adds a webhook channel in a real browser, sends a
// test to a receiver, reads the request and the answer on the page, then
// finds the delivery in the log and opens its detail.
func TestBrowserChannelFlow(t *testing.T) {
	for _, e := range modelstest.Engines {
		t.Run(string(e), func(t *testing.T) {
			srv := webtest.Start(t, e)
			rcv := newReceiver(t, http.StatusOK, `{"receipt":"herald-browser-check","accepted":true}`)
			p := browsertest.Open(t, srv.URL)
			dialogs := p.WatchDialogs()

			p.Go("/setup")
			p.Fill("#f-page_name", "Acme Status")
			p.Fill("#f-email", webtest.AdminEmail)
			p.Fill("#f-password", webtest.AdminPassword)
			p.Click("main form button[type=submit]")
			wantPath(t, p, "/admin/components")

			p.Click(`.sidebar a[href="/admin/channels"]`)
			wantPath(t, p, "/admin/channels")
			wantText(t, p, ".empty-state", "No channels yet")
			p.Click(`.page-head a[href="/admin/channels/new"]`)
			wantPath(t, p, "/admin/channels/new")
			p.Check("#f-type-webhook")
			p.Fill("#f-name", "Ops receiver")
			p.Fill("#f-url", rcv.URL+"/herald")
			p.Click("form.form-card button.primary")
			wantText(t, p, ".flash-success", "Channel “Ops receiver” created.")
			path := p.Path()
			if !strings.HasPrefix(path, "/admin/channels/") {
				t.Fatalf("after creating, browser is at %s", path)
			}
			p.WaitVisible(`button[data-copy="signing-secret"]`) // the script shows the copy button
			if secret := browsertest.Eval[string](p, `document.getElementById("signing-secret").value`); !strings.HasPrefix(secret, "whsec_") {
				t.Errorf("signing secret field reads %q", secret)
			}

			p.Choose("#f-event", "incident.created")
			if status := p.Click(".test-form button.primary"); status != http.StatusOK {
				t.Fatalf("send test: status %d, want 200", status)
			}
			wantText(t, p, ".flash-success", "Test sent: HTTP 200")
			wantText(t, p, ".test-result .request-body", `"test": true`)
			wantText(t, p, ".test-result .request-body", `"event": "incident.created"`)
			wantText(t, p, ".test-result .request-headers", "X-Webhook-Signature")
			wantText(t, p, ".test-result .response-line .http-ok", "200")
			wantText(t, p, ".test-result .response-body", "herald-browser-check")
			if n := len(rcv.requests()); n != 1 {
				t.Errorf("receiver got %d requests, want 1", n)
			}

			p.Go(path)
			wantText(t, p, ".deliveries-table tbody tr", "incident.created")
			wantText(t, p, ".deliveries-table tbody tr", "Delivered")
			wantText(t, p, ".deliveries-table tbody tr", "Test")
			p.Click(".deliveries-table tbody tr .row-actions a")
			if got := p.Path(); !strings.HasPrefix(got, path+"/deliveries/dlv_") {
				t.Fatalf("delivery detail is at %s", got)
			}
			wantText(t, p, "#attempt-1 h3", "Attempt 1")
			wantText(t, p, "#attempt-1 .response-body", "herald-browser-check")
			wantText(t, p, "#attempt-1 .request-headers", "X-Request-Id")

			assertNoDialogsOrConsoleErrors(t, p, dialogs())
		})
	}
}

// TestBrowserChannelScreenshots renders the channel screens at phone and
// desktop widths, light and dark, fails when a page is wider than the
// screen, and keeps the PNGs in HERALD_SCREENSHOT_DIR when set.
func TestBrowserChannelScreenshots(t *testing.T) {
	srv := webtest.Start(t, models.SQLite)
	p := browsertest.Open(t, srv.URL)
	dirs := screenshotDirs(t)
	seedStatusPage(t, srv)
	skippedID := seedSkipped(t, srv) // first: its events reach no other channel
	channelID, deliveryID, disabledID := seedChannels(t, srv)

	p.Go("/login")
	p.Fill("#f-email", webtest.AdminEmail)
	p.Fill("#f-password", webtest.AdminPassword)
	p.Click("main form button[type=submit]")
	wantPath(t, p, "/admin")

	shoot := screenshotter(t, p, dirs)
	page := channelURL(channelID)
	shoot("channels", func() { p.Go("/admin/channels"); p.WaitVisible(".channels-table") })
	shoot("channel", func() { p.Go(page); p.WaitVisible(".deliveries-table") })
	shoot("channel-test", func() {
		p.Go(page)
		p.Choose("#f-event", "component.status_changed")
		p.Click(".test-form button.primary")
		p.WaitVisible(".test-result")
	})
	shoot("channel-filtered", func() {
		p.Go(page + "?state=nope&from=2026-99-01&event=incident.created")
		p.WaitVisible(".filter-notes")
	})
	shoot("delivery", func() { p.Go(page + "/deliveries/" + deliveryID); p.WaitVisible("#attempt-1") })
	shoot("channel-disabled", func() { p.Go(channelURL(disabledID)); p.WaitVisible(".channel-notice") })
	shoot("channel-new", func() { p.Go("/admin/channels/new"); p.WaitVisible("#f-name") })
	shoot("channel-new-errors", func() {
		p.Go("/admin/channels/new")
		if status := p.Click("form.form-card button.primary"); status != http.StatusUnprocessableEntity {
			t.Errorf("empty channel form: status %d, want 422", status)
		}
		p.WaitVisible("#e-name")
	})
	shoot("channel-edit", func() { p.Go(page + "/edit"); p.WaitVisible("#f-headers") })
	shoot("dashboard-channels", func() { p.Go("/admin"); p.WaitVisible(".channel-notice") })
	shoot("channel-skipped", func() { p.Go(channelURL(skippedID)); p.WaitVisible(".skipped-notice") })
	shoot("dashboard-skipped", func() { p.Go("/admin"); p.WaitVisible(".skipped-notice") })
	shoot("channel-skipped-log", func() { p.Go(channelURL(skippedID) + "?state=skipped"); p.WaitVisible(".deliveries-table") })

	// One click sends what the channel skipped, and the offer goes away.
	p.Go(channelURL(skippedID))
	if status := p.Click(".skipped-notice button"); status != http.StatusOK {
		t.Errorf("send skipped: status %d after the redirect, want 200", status)
	}
	wantPath(t, p, channelURL(skippedID))
	if got := p.Text(".flash"); !strings.Contains(got, "Sending the 3 skipped notifications") {
		t.Errorf("flash after sending = %q", got)
	}
	if n := browsertest.Eval[int](p, `document.querySelectorAll(".skipped-notice").length`); n != 0 {
		t.Errorf("the offer is still shown after sending")
	}

	if problems := p.ConsoleProblems(); len(problems) > 0 {
		t.Errorf("console errors:\n%s", strings.Join(problems, "\n"))
	}
}

// seedChannels adds a webhook channel with a long URL and extra headers,
// whose receiver answers with a long HTML error, a rotated secret and a few
// deliveries; and a Slack channel disabled automatically. It returns the
// webhook channel, its failed delivery and the disabled channel.
func seedChannels(t *testing.T, srv *webtest.Server) (int64, string, int64) {
	t.Helper()
	ctx := t.Context()
	longBody := "<!doctype html><html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1><p>" +
		strings.Repeat("upstream connect error or disconnect/reset before headers. reset reason: connection termination ", 30) +
		"</p><pre>" + strings.Repeat("x", 400) + "</pre></body></html>"
	rcv := newReceiver(t, http.StatusOK, `{"ok":true,"id":"rcpt_7Hq2","queued":["slack","pagerduty","email"],"note":"`+strings.Repeat("long-value-", 30)+`"}`)
	hook, err := srv.Store.CreateChannel(ctx, models.DefaultPageID, models.ChannelInput{
		Type: models.ChannelWebhook, Name: "Operations bridge (PagerDuty + internal audit log)",
		URL:     rcv.URL + "/api/v1/integrations/herald/webhooks/incoming/7f3c2a9e-5b1d-4e8a-9c6f-2d4b8a1e3f70?token=abcdef0123456789&region=eu-west-1",
		Events:  []models.EventType{models.EventIncidentCreated, models.EventIncidentUpdated, models.EventIncidentResolved, models.EventComponentStatusChanged},
		Enabled: true, HeadersText: "Authorization: Bearer 0123456789abcdef\nX-Team: operations",
	})
	modelstest.Fatal(t, err, "create webhook channel")
	_, err = srv.Store.RotateChannelSecret(ctx, hook.ID, models.DefaultRotationWindow)
	modelstest.Fatal(t, err, "rotate")
	hook, err = srv.Store.Channel(ctx, hook.ID)
	modelstest.Fatal(t, err, "reload")
	for _, typ := range []models.EventType{models.EventIncidentCreated, models.EventComponentStatusChanged} {
		_, err := srv.Engine.SendTest(ctx, hook, typ)
		modelstest.Fatal(t, err, "test send %s", typ)
	}
	rcv.answer(http.StatusBadGateway, longBody)
	res, err := srv.Engine.SendTest(ctx, hook, models.EventIncidentResolved)
	modelstest.Fatal(t, err, "failing test send")

	slack, err := srv.Store.CreateChannel(ctx, models.DefaultPageID, models.ChannelInput{Type: models.ChannelSlack, Name: "#incidents on Slack",
		URL: "https://hooks.slack.com/services/T0000/B0000/XXXXXXXXXXXXXXXXXXXXXXXX", Enabled: true})
	modelstest.Fatal(t, err, "create slack channel")
	modelstest.Fatal(t, srv.Store.SetChannelEnabled(ctx, slack.ID, false), "disable slack")
	_, err = srv.Store.CreateChannel(ctx, models.DefaultPageID, models.ChannelInput{Type: models.ChannelDiscord, Name: "Community Discord",
		URL: "https://discord.com/api/webhooks/1234567890/abcdefghijklmnopqrstuvwxyz", Enabled: true})
	modelstest.Fatal(t, err, "create discord channel")
	return hook.ID, res.Delivery.ID, slack.ID
}

// seedSkipped adds a webhook channel that was disabled while three
// components were added, and is enabled again: its page offers to send
// the three skipped notifications.
func seedSkipped(t *testing.T, srv *webtest.Server) int64 {
	t.Helper()
	ctx := t.Context()
	rcv := newReceiver(t, http.StatusNoContent, "")
	c, err := srv.Store.CreateChannel(ctx, models.DefaultPageID, models.ChannelInput{Type: models.ChannelWebhook,
		Name: "Status updates for the customer-facing support team", Enabled: true, URL: rcv.URL + "/herald"})
	modelstest.Fatal(t, err, "create channel")
	modelstest.Fatal(t, srv.Store.SetChannelEnabled(ctx, c.ID, false), "disable")
	for _, name := range []string{"Search", "Billing", "Mobile push"} {
		_, err := srv.Store.CreateComponent(ctx, models.DefaultPageID, models.ComponentInput{Name: name, Visible: true, Status: models.StatusOperational})
		modelstest.Fatal(t, err, "component")
	}
	modelstest.Fatal(t, srv.Store.SetChannelEnabled(ctx, c.ID, true), "enable")
	return c.ID
}
