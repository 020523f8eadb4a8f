package models_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
)

// Real-shaped incoming-webhook URLs (made-up credentials) and how they
// are shown.
var maskCases = []struct {
	name    string
	typ     models.ChannelType
	url     string
	want    string
	secrets []string
}{
	{"Teams", models.ChannelWebhook,
		"https://contoso.webhook.office.com/webhookb2/7aa49aa6-7840-443d-806c-08ebe8f59966@c662313f-14fc-43a2-9a7a-d2e27f4f3478/IncomingWebhook/8592f62b50cf41b9b93ba0c0a00a0b88/6ac4f4e5-8e3b-4b38-9d7e-1a2b3c4d5e6f",
		"https://contoso.webhook.office.com/webhookb2/••••/IncomingWebhook/••••/••••",
		[]string{"7aa49aa6-7840", "c662313f-14fc", "8592f62b50cf41b9b93ba0c0a00a0b88", "6ac4f4e5-8e3b"}},
	{"Mattermost", models.ChannelWebhook,
		"https://chat.example.com/hooks/xi3pd8g4cfbqdruzf5dejmbuhe",
		"https://chat.example.com/hooks/••••",
		[]string{"xi3pd8g4cfbqdruzf5dejmbuhe"}},
	{"Google Chat", models.ChannelWebhook,
		"https://chat.googleapis.com/v1/spaces/AAAAbcDEf12/messages?key=AIzaSyDdI0hCZtE6vySjMm-WEfRq3CPzqKqqsHI&token=x8Qp3mLr2Tb9vWc4Yd7Zf1Gh5Jk0Nm6Pq3Rs8Tu%3D",
		"https://chat.googleapis.com/v1/spaces/AAAAbcDEf12/messages?key=••••&token=••••",
		[]string{"AIzaSyDdI0hCZtE6vySjMm-WEfRq3CPzqKqqsHI", "x8Qp3mLr2Tb9vWc4Yd7Zf1Gh5Jk0Nm6Pq3Rs8Tu"}},
	{"Rocket.Chat", models.ChannelWebhook,
		"https://rocket.example.com/hooks/6a3b9YpQkTzXw2Rd7/Xy9KpLmN3qRsTuVw2xYz5AbCdEfGhIjK8LmNoPqRsTuVwXyZ12",
		"https://rocket.example.com/hooks/••••/••••",
		[]string{"6a3b9YpQkTzXw2Rd7", "Xy9KpLmN3qRsTuVw2xYz5AbCdEfGhIjK8LmNoPqRsTuVwXyZ12"}},
	{"Discord through a custom webhook", models.ChannelWebhook,
		"https://discord.com/api/webhooks/1234567890123456789/AbCdEf-GhIjKlMnOp_QrStUvWxYz0123456789abcdefGHIJKL",
		"https://discord.com/api/webhooks/••••/••••",
		[]string{"1234567890123456789", "AbCdEf-GhIjKlMnOp_QrStUvWxYz0123456789abcdefGHIJKL"}},
	{"Slack through a custom webhook", models.ChannelWebhook,
		"https://hooks.slack.com/services/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",
		"https://hooks.slack.com/services/T0AAAAAAA/B0BBBBBBB/••••",
		[]string{"kT5vQ9zL2mN8pR4sW7xY1bC3"}},
	{"Power Automate workflow", models.ChannelWebhook,
		"https://prod-12.westeurope.logic.azure.com:443/workflows/0a1b2c3d4e5f60718293a4b5c6d7e8f9/triggers/manual/paths/invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=Qm9vZ2llV29vZ2llQm9vZ2llV29vZ2ll",
		"https://prod-12.westeurope.logic.azure.com:443/workflows/••••/triggers/manual/paths/invoke?api-version=••••&sig=••••&sp=••••&sv=••••",
		[]string{"0a1b2c3d4e5f60718293a4b5c6d7e8f9", "Qm9vZ2llV29vZ2llQm9vZ2llV29vZ2ll"}},
	{"base64url token", models.ChannelWebhook,
		"https://hooks.example.net/in/Zk_3-aQx9Lm2Pt7Rw4Yb",
		"https://hooks.example.net/in/••••",
		[]string{"Zk_3-aQx9Lm2Pt7Rw4Yb"}},
	{"user and password", models.ChannelWebhook,
		"https://bot:s3cretPass@example.com/hook",
		"https://••••@example.com/hook",
		[]string{"s3cretPass"}},
	{"a plain URL stays readable", models.ChannelWebhook,
		"https://example.com/hooks/incoming",
		"https://example.com/hooks/incoming", nil},
	{"readable words, dates and versions", models.ChannelWebhook,
		"https://example.com/v1/IncomingWebhook/webhookb2/status-notifications/2024-01-15-release/Status-Page-2024",
		"https://example.com/v1/IncomingWebhook/webhookb2/status-notifications/2024-01-15-release/Status-Page-2024", nil},
	{"Slack", models.ChannelSlack,
		"https://hooks.slack.com/services/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",
		"https://hooks.slack.com/services/••••",
		[]string{"T0AAAAAAA", "kT5vQ9zL2mN8pR4sW7xY1bC3"}},
	{"Discord", models.ChannelDiscord,
		"https://discord.com/api/webhooks/1234567890123456789/AbCdEf-GhIjKlMnOp_QrStUvWxYz0123456789abcdefGHIJKL",
		"https://discord.com/api/webhooks/••••",
		[]string{"1234567890123456789", "AbCdEf-GhIjKlMnOp"}},
}

func TestMaskURL(t *testing.T) {
	for _, tc := range maskCases {
		got := models.MaskURL(tc.typ, tc.url)
		if got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, got, tc.want)
		}
		if again := models.MaskURL(tc.typ, got); again != got {
			t.Errorf("%s: masking the hint again gives %s", tc.name, again)
		}
		// Hints stored before path segments were masked kept the path.
		if tc.typ == models.ChannelWebhook {
			old := strings.SplitN(tc.url, "?", 2)[0]
			if again := models.MaskURL(tc.typ, old); strings.Contains(again, "?") || !strings.HasPrefix(tc.want, again) {
				t.Errorf("%s: an old hint %s masks to %s", tc.name, old, again)
			}
		}
		// An error message or an answer quoting the URL, or part of it.
		msg := fmt.Sprintf(`Post %q: parse error; the receiver said: no hook at %s`, tc.url, strings.TrimPrefix(tc.url, "https://"))
		redacted := models.RedactURL(tc.typ, tc.url, msg)
		for _, secret := range tc.secrets {
			if strings.Contains(got, secret) || strings.Contains(redacted, secret) {
				t.Errorf("%s: %q shows in %s or %s", tc.name, secret, got, redacted)
			}
		}
	}
	if got := models.MaskURL(models.ChannelWebhook, "not a URL"); got != models.MaskedValue {
		t.Errorf("a URL without a host masks to %q", got)
	}
}

// TestStoredURLsAreMaskedWhenRead: hints, logged request URLs and audit
// snapshots written by older versions (with webhook paths in clear) are
// masked by today's rules whenever they are read, on both engines; the
// rows themselves stay as written.
func TestStoredURLsAreMaskedWhenRead(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		const token = "xi3pd8g4cfbqdruzf5dejmbuhe"
		const raw = "https://chat.example.com/hooks/" + token
		const oldHint = "https://chat.example.com/hooks/" + token + "?channel=••••"
		c := newChannel(t, s, models.ChannelInput{URL: raw + "?channel=ops"})
		if c.URLHint != "https://chat.example.com/hooks/••••?channel=••••" {
			t.Errorf("hint %q", c.URLHint)
		}
		db, err := s.SQLDB()
		modelstest.Fatal(t, err, "sql db")
		ph := func(q string) string {
			if s.Engine() == models.Postgres {
				for i := 1; strings.Contains(q, "?"); i++ {
					q = strings.Replace(q, "?", fmt.Sprintf("$%d", i), 1)
				}
			}
			return q
		}
		exec := func(q string, args ...any) {
			t.Helper()
			_, err := db.ExecContext(ctx, ph(q), args...)
			modelstest.Fatal(t, err, "exec %s", q)
		}
		// What an older version wrote.
		exec("UPDATE channels SET url_hint = ? WHERE id = ?", oldHint, c.ID)
		d, err := s.CreateTestDelivery(ctx, c, models.EventIncidentCreated, `{}`, time.Minute)
		modelstest.Fatal(t, err, "delivery")
		exec(`INSERT INTO delivery_attempts (delivery_id, number, started_at, request_url, request_headers, request_body,
			response_status, response_headers, response_body, duration_ms, error_class, error, outcome)
			VALUES (?, 1, ?, ?, '{}', '', 200, '{}', '', 1, '', '', 'delivered')`, d.ID, time.Now().UTC(), oldHint)
		snapshot := `{"id":1,"type":"webhook","name":"Chat","url":"` + oldHint + `","events":[],"retry_schedule":"","enabled":true}`
		exec(`INSERT INTO audit_log (page_id, at, actor_type, actor_name, ip, action, object_type, object_id, summary, "before", "after")
			VALUES (1, ?, 'system', 'old version', '', 'channel.update', 'channel', ?, 'Old entry.', ?, ?)`,
			time.Now().UTC(), fmt.Sprint(c.ID), snapshot, snapshot)

		got, err := s.Channel(ctx, c.ID)
		modelstest.Fatal(t, err, "channel")
		list, err := s.Channels(ctx, models.DefaultPageID)
		modelstest.Fatal(t, err, "channels")
		byID, err := s.ChannelsByID(ctx, []int64{c.ID})
		modelstest.Fatal(t, err, "channels by id")
		as, err := s.DeliveryAttempts(ctx, d.ID)
		modelstest.Fatal(t, err, "attempts")
		entries, err := s.AuditEntries(ctx, models.AuditFilter{ObjectType: models.AuditChannel})
		modelstest.Fatal(t, err, "audit")
		var shown []string
		shown = append(shown, got.URLHint, list[0].URLHint, byID[c.ID].URLHint)
		for _, a := range as {
			shown = append(shown, a.RequestURL)
		}
		for _, e := range entries {
			one, err := s.AuditEntry(ctx, e.ID)
			modelstest.Fatal(t, err, "audit entry")
			shown = append(shown, e.Before, e.After, one.Before, one.After)
		}
		for _, text := range shown {
			if strings.Contains(text, token) {
				t.Errorf("the token is shown: %s", text)
			}
		}
		if len(as) != 1 || as[0].RequestURL != "https://chat.example.com/hooks/••••?channel=••••" {
			t.Errorf("attempts %+v", as)
		}
		var stored string
		modelstest.Fatal(t, db.QueryRowContext(ctx, ph(`SELECT "after" FROM audit_log WHERE actor_name = ?`), "old version").Scan(&stored), "raw audit row")
		if stored != snapshot {
			t.Errorf("the audit row itself changed: %s", stored)
		}
	})
}
