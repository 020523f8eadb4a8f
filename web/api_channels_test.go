package web_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
	"github.com/heraldstatus/herald/web/webtest"
)

type channelJSON struct {
	ID                      string            `json:"id"`
	PageID                  string            `json:"page_id"`
	Type                    string            `json:"type"`
	Name                    string            `json:"name"`
	URL                     string            `json:"url"`
	Events                  []string          `json:"events"`
	Enabled                 bool              `json:"enabled"`
	DisabledReason          *string           `json:"disabled_reason"`
	DisabledAt              *string           `json:"disabled_at"`
	FailedEvents            int               `json:"failed_events"`
	Headers                 map[string]string `json:"headers"`
	RetrySchedule           []string          `json:"retry_schedule"`
	PreviousSecretExpiresAt *string           `json:"previous_secret_expires_at"`
	Unreadable              bool              `json:"unreadable"`
	CreatedAt               string            `json:"created_at"`
	UpdatedAt               string            `json:"updated_at"`
	SigningSecret           string            `json:"signing_secret"`
	Warnings                []string          `json:"warnings"`
}

var signingSecretRE = regexp.MustCompile(`^whsec_[A-Za-z0-9+/]{43}=$`)

// channelRows counts what a channel write could leave behind.
type channelRows struct{ channels, deliveries, attempts, audit int }

func countChannelRows(t *testing.T, s *webtest.Server) channelRows {
	t.Helper()
	db, err := s.Store.SQLDB()
	modelstest.Fatal(t, err, "sql db")
	var n channelRows
	for _, c := range []struct {
		table string
		into  *int
	}{{"channels", &n.channels}, {"deliveries", &n.deliveries}, {"delivery_attempts", &n.attempts}, {"audit_log", &n.audit}} {
		modelstest.Fatal(t, db.QueryRowContext(t.Context(), "SELECT COUNT(*) FROM "+c.table).Scan(c.into), "count %s", c.table)
	}
	return n
}

// channelsSetUp signs in and makes a channels:write and a read token.
func channelsSetUp(t *testing.T, s *webtest.Server) (*webtest.Client, string, string) {
	t.Helper()
	c := s.SetUp(t)
	_, write := createToken(t, c, "Channels bot", models.ScopeChannelsWrite)
	_, read := createToken(t, c, "Reader", models.ScopeRead)
	return c, write, read
}

func createAPIChannel(t *testing.T, s *webtest.Server, token, body string) channelJSON {
	t.Helper()
	return decodeAPI[channelJSON](t, apiCall(t, s, token, http.MethodPost, "/api/v1/channels", body), http.StatusCreated)
}

// wantAbsent fails when body holds any of the secrets.
func wantAbsent(t *testing.T, what, body string, secrets ...string) {
	t.Helper()
	for _, sec := range secrets {
		if strings.Contains(body, sec) {
			t.Errorf("%s shows the secret %q:\n%s", what, sec, body)
		}
	}
}

// hmacHex is X-Webhook-Signature as a receiver computes it.
func hmacHex(secret, body string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(body))
	return hex.EncodeToString(m.Sum(nil))
}

// standardSignature is webhook-signature (Standard Webhooks) for one secret.
func standardSignature(t *testing.T, secret, id, ts, body string) string {
	t.Helper()
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	modelstest.Fatal(t, err, "decode secret")
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id + "." + ts + "." + body))
	return "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
}

func TestAPIChannelsCreateReadUpdateDelete(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		_, token, reader := channelsSetUp(t, s)
		rcv := newReceiver(t, http.StatusOK, "ok")
		hookURL := strings.Replace(rcv.URL, "http://", "http://hook:urlpassword42@", 1) + "/in?token=urltoken42"

		before := countChannelRows(t, s)
		res := apiCall(t, s, token, http.MethodPost, "/api/v1/channels", `{"type":"webhook","name":" Ops receiver ","url":"`+hookURL+`",
			"events":["incident.resolved","incident.created"],"headers":{"Authorization":"Bearer headersecret42","x-team":"ops"},
			"retry_schedule":["0s","90s","2h"]}`)
		ch := decodeAPI[channelJSON](t, res, http.StatusCreated)
		host := strings.TrimPrefix(rcv.URL, "http://")
		if res.Location != "/api/v1/channels/"+ch.ID || ch.Type != "webhook" || ch.Name != "Ops receiver" || ch.PageID != "1" ||
			ch.URL != "http://••••@"+host+"/in?token=••••" || !ch.Enabled || ch.DisabledReason != nil ||
			!slices.Equal(ch.Events, []string{"incident.created", "incident.resolved"}) ||
			!slices.Equal(ch.RetrySchedule, []string{"0s", "1m30s", "2h"}) ||
			len(ch.Headers) != 2 || ch.Headers["Authorization"] != "••••" || ch.Headers["X-Team"] != "••••" ||
			!apiTimeRE.MatchString(ch.CreatedAt) || ch.PreviousSecretExpiresAt != nil || len(ch.Warnings) != 0 {
			t.Fatalf("created %+v at %q", ch, res.Location)
		}
		// The signing secret is in this answer, once.
		if !signingSecretRE.MatchString(ch.SigningSecret) {
			t.Fatalf("signing_secret %q, want whsec_ and base64 of 32 bytes", ch.SigningSecret)
		}
		wantAbsent(t, "the create answer", res.Body, "urltoken42", "urlpassword42", "headersecret42")
		if after := countChannelRows(t, s); after.channels != before.channels+1 || after.audit != before.audit+1 {
			t.Fatalf("create wrote %+v → %+v, want one channel and one audit row", before, after)
		}
		stored, err := s.Store.Channel(t.Context(), apiIDOf(t, ch.ID))
		modelstest.Fatal(t, err, "load channel")
		if stored.URL != hookURL || stored.Secret != ch.SigningSecret || len(stored.Headers) != 2 {
			t.Fatalf("stored %+v", stored)
		}

		// Defaults: enabled, every event, the default schedule; no secret
		// for Slack.
		slackRes := apiCall(t, s, token, http.MethodPost, "/api/v1/channels",
			`{"type":"slack","name":"Team chat","url":"https://hooks.slack.com/services/T0001/B0001/slacksecret42"}`)
		slack := decodeAPI[channelJSON](t, slackRes, http.StatusCreated)
		if slack.URL != "https://hooks.slack.com/services/••••" || !slack.Enabled || len(slack.Events) != 0 || slack.Events == nil ||
			len(slack.RetrySchedule) != 6 || len(slack.Headers) != 0 || strings.Contains(slackRes.Body, "signing_secret") {
			t.Fatalf("slack defaults %+v\n%s", slack, slackRes.Body)
		}

		// Reads, with the read scope, never show a credential.
		secrets := []string{"urltoken42", "urlpassword42", "headersecret42", "slacksecret42", ch.SigningSecret, "signing_secret"}
		list := apiCall(t, s, reader, http.MethodGet, "/api/v1/channels", "")
		got := decodeAPI[[]channelJSON](t, list, http.StatusOK)
		if len(got) != 2 || got[0].Name != "Ops receiver" || got[1].Name != "Team chat" {
			t.Fatalf("list %+v", got)
		}
		wantAbsent(t, "the list", list.Body, secrets...)
		one := apiCall(t, s, reader, http.MethodGet, "/api/v1/channels/"+ch.ID, "")
		wantAbsent(t, "GET", one.Body, secrets...)
		shown := decodeAPI[channelJSON](t, one, http.StatusOK)
		want := ch
		want.SigningSecret = ""
		if !reflect.DeepEqual(shown, want) {
			t.Fatalf("GET %+v, want %+v", shown, want)
		}

		// PATCH changes what is sent; url left out, or sent back masked,
		// keeps the saved URL; "••••" keeps a header's value.
		upd := decodeAPI[channelJSON](t, apiCall(t, s, token, http.MethodPatch, "/api/v1/channels/"+ch.ID, `{"name":"Ops"}`), http.StatusOK)
		if upd.Name != "Ops" || upd.URL != ch.URL || len(upd.Headers) != 2 || upd.SigningSecret != "" {
			t.Fatalf("after PATCH name: %+v", upd)
		}
		upd = decodeAPI[channelJSON](t, apiCall(t, s, token, http.MethodPatch, "/api/v1/channels/"+ch.ID,
			`{"url":"`+ch.URL+`","headers":{"Authorization":"••••","X-Extra":"1"},"events":[],"retry_schedule":[]}`), http.StatusOK)
		if len(upd.Events) != 0 || len(upd.RetrySchedule) != 6 || len(upd.Headers) != 2 || upd.Headers["X-Extra"] != "••••" {
			t.Fatalf("after PATCH headers: %+v", upd)
		}
		stored, _ = s.Store.Channel(t.Context(), stored.ID)
		if stored.URL != hookURL || stored.Secret != ch.SigningSecret || models.FormatHeaders(stored.Headers, false) != "Authorization: Bearer headersecret42\nX-Extra: 1\n" {
			t.Fatalf("after PATCH the channel holds %q %q", stored.URL, models.FormatHeaders(stored.Headers, false))
		}
		upd = decodeAPI[channelJSON](t, apiCall(t, s, token, http.MethodPatch, "/api/v1/channels/"+ch.ID, `{"url":"`+rcv.URL+`/v2","type":"webhook"}`), http.StatusOK)
		if upd.URL != rcv.URL+"/v2" || len(upd.Warnings) != 0 {
			t.Fatalf("after PATCH url: %+v", upd)
		}

		// enabled alone is the one-click switch; the same state again
		// changes nothing.
		n := countChannelRows(t, s).audit
		off := decodeAPI[channelJSON](t, apiCall(t, s, token, http.MethodPatch, "/api/v1/channels/"+ch.ID, `{"enabled":false}`), http.StatusOK)
		if off.Enabled || off.DisabledReason == nil || *off.DisabledReason != "Disabled by an admin." || off.DisabledAt == nil {
			t.Fatalf("disabled: %+v", off)
		}
		decodeAPI[channelJSON](t, apiCall(t, s, token, http.MethodPatch, "/api/v1/channels/"+ch.ID, `{"enabled":false}`), http.StatusOK)
		entries := auditRows(t, s)
		if newest := entries[len(entries)-1]; len(entries) != n+1 || newest.Action != "channel.disable" || newest.ActorName != "Channels bot" {
			t.Fatalf("audit after disabling twice: %d rows, newest %+v", len(entries)-n, newest)
		}
		on := decodeAPI[channelJSON](t, apiCall(t, s, token, http.MethodPatch, "/api/v1/channels/"+ch.ID, `{"enabled":true}`), http.StatusOK)
		if !on.Enabled || on.DisabledReason != nil || on.DisabledAt != nil {
			t.Fatalf("enabled: %+v", on)
		}
		n = countChannelRows(t, s).audit
		same := decodeAPI[channelJSON](t, apiCall(t, s, token, http.MethodPatch, "/api/v1/channels/"+ch.ID, `{}`), http.StatusOK)
		if same.Name != "Ops" || countChannelRows(t, s).audit != n {
			t.Fatalf("empty PATCH changed %+v", same)
		}

		res = apiCall(t, s, token, http.MethodDelete, "/api/v1/channels/"+slack.ID, "")
		if res.Status != http.StatusNoContent || res.Body != "" {
			t.Fatalf("DELETE: %d %q", res.Status, res.Body)
		}
		wantAPIError(t, apiCall(t, s, reader, http.MethodGet, "/api/v1/channels/"+slack.ID, ""), http.StatusNotFound, "not_found", "")
		wantAPIError(t, apiCall(t, s, token, http.MethodDelete, "/api/v1/channels/"+slack.ID, ""), http.StatusNotFound, "not_found", "")
	})
}

func apiIDOf(t *testing.T, id string) int64 {
	t.Helper()
	var n int64
	if _, err := fmt.Sscan(id, &n); err != nil || n <= 0 {
		t.Fatalf("id %q is not a positive number", id)
	}
	return n
}

// A URL whose address the egress policy refuses is saved, with a warning,
// as in the admin form.
func TestAPIChannelEgressWarning(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		_, token, _ := channelsSetUp(t, s)
		ch := createAPIChannel(t, s, token, `{"type":"webhook","name":"Metadata","url":"http://169.254.169.254/latest"}`)
		if len(ch.Warnings) != 1 || !strings.Contains(ch.Warnings[0], "Deliveries to this URL will fail") ||
			!strings.Contains(ch.Warnings[0], "169.254.169.254") {
			t.Fatalf("warnings %q", ch.Warnings)
		}
		// Saving without touching the URL says nothing more.
		upd := decodeAPI[channelJSON](t, apiCall(t, s, token, http.MethodPatch, "/api/v1/channels/"+ch.ID, `{"name":"Metadata 2"}`), http.StatusOK)
		if len(upd.Warnings) != 0 {
			t.Fatalf("warnings after a rename: %q", upd.Warnings)
		}
		res := apiCall(t, s, token, http.MethodPatch, "/api/v1/channels/"+ch.ID, `{"url":"http://0.0.0.0/hook"}`)
		if upd = decodeAPI[channelJSON](t, res, http.StatusOK); len(upd.Warnings) != 1 || upd.URL != "http://0.0.0.0/hook" {
			t.Fatalf("warnings after a new refused URL: %s", res.Body)
		}
		if get := apiCall(t, s, token, http.MethodGet, "/api/v1/channels/"+ch.ID, ""); strings.Contains(get.Body, "warnings") {
			t.Fatalf("GET carries warnings: %s", get.Body)
		}
	})
}

func TestAPIChannelsRefuseBadInput(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		c, token, reader := channelsSetUp(t, s)
		_, incidents := createToken(t, c, "Incidents", models.ScopeIncidentsWrite)
		hook := createAPIChannel(t, s, token, `{"type":"webhook","name":"Hook","url":"https://example.com/hook","headers":{"X-Key":"k1"}}`)
		slack := createAPIChannel(t, s, token, `{"type":"slack","name":"Chat","url":"https://hooks.slack.com/services/T/B/x"}`)
		item := "/api/v1/channels/" + hook.ID
		hook.SigningSecret, hook.Warnings = "", nil // only in the create answer

		// A channel of another page does not exist for this token.
		execSQL(t, s, "INSERT INTO pages (id, slug, name, created_at, updated_at) VALUES (?, ?, ?, ?, ?)", 2, "other", "Other", time.Now().UTC(), time.Now().UTC())
		foreign, err := s.Store.CreateChannel(t.Context(), 2, models.ChannelInput{Type: models.ChannelWebhook, Name: "Theirs", URL: "https://example.org/x", Enabled: true})
		modelstest.Fatal(t, err, "channel of page 2")
		theirs := fmt.Sprintf("/api/v1/channels/%d", foreign.ID)

		cases := []struct {
			name, token, method, path, body string
			status                          int
			code, field                     string
		}{
			{"malformed JSON", token, "POST", "/api/v1/channels", `{"name":`, 400, "invalid_json", ""},
			{"unknown field", token, "POST", "/api/v1/channels", `{"type":"webhook","name":"x","url":"https://a.example","secret":"mine"}`, 400, "unknown_field", "secret"},
			{"read-only field", token, "PATCH", item, `{"signing_secret":"whsec_x"}`, 400, "unknown_field", "signing_secret"},
			{"enabled is a string", token, "PATCH", item, `{"enabled":"yes"}`, 400, "invalid_type", "enabled"},
			{"events is a string", token, "PATCH", item, `{"events":"incident.created"}`, 400, "invalid_type", "events"},
			{"headers is a list", token, "PATCH", item, `{"headers":["X-A: 1"]}`, 400, "invalid_type", "headers"},
			{"header value is a number", token, "PATCH", item, `{"headers":{"X-A":1}}`, 400, "invalid_type", "headers"},
			{"retry schedule is a string", token, "PATCH", item, `{"retry_schedule":"0s, 1m"}`, 400, "invalid_type", "retry_schedule"},
			{"name is null", token, "PATCH", item, `{"name":null}`, 400, "invalid_type", "name"},
			{"unknown type", token, "POST", "/api/v1/channels", `{"type":"sms","name":"x","url":"https://a.example"}`, 422, "validation_failed", "type"},
			{"missing type", token, "POST", "/api/v1/channels", `{"name":"x","url":"https://a.example"}`, 422, "validation_failed", "type"},
			{"type change", token, "PATCH", item, `{"type":"slack"}`, 422, "validation_failed", "type"},
			{"unknown event", token, "PATCH", item, `{"events":["incident.created","server.exploded"]}`, 422, "validation_failed", "events"},
			{"missing url", token, "POST", "/api/v1/channels", `{"type":"webhook","name":"x"}`, 422, "validation_failed", "url"},
			{"invalid url", token, "POST", "/api/v1/channels", `{"type":"webhook","name":"x","url":"ftp://files.example/x"}`, 422, "validation_failed", "url"},
			{"not a url", token, "PATCH", item, `{"url":"example.com/hook"}`, 422, "validation_failed", "url"},
			{"empty url", token, "PATCH", item, `{"url":" "}`, 422, "validation_failed", "url"},
			{"masked url", token, "POST", "/api/v1/channels", `{"type":"webhook","name":"x","url":"https://a.example/?t=••••"}`, 422, "validation_failed", "url"},
			{"slack over http", token, "PATCH", "/api/v1/channels/" + slack.ID, `{"url":"http://hooks.slack.com/services/T/B/y"}`, 422, "validation_failed", "url"},
			{"reserved header", token, "PATCH", item, `{"headers":{"X-Request-ID":"mine"}}`, 422, "validation_failed", "headers"},
			{"reserved webhook- header", token, "POST", "/api/v1/channels", `{"type":"webhook","name":"x","url":"https://a.example","headers":{"webhook-id":"1"}}`, 422, "validation_failed", "headers"},
			{"invalid header name", token, "PATCH", item, `{"headers":{"Bad Header":"1"}}`, 422, "validation_failed", "headers"},
			{"header value with a line break", token, "PATCH", item, `{"headers":{"X-A":"1\r\nX-Injected: 2"}}`, 422, "validation_failed", "headers"},
			{"header twice", token, "PATCH", item, `{"headers":{"X-A":"1","x-a":"2"}}`, 422, "validation_failed", "headers"},
			{"headers on slack", token, "PATCH", "/api/v1/channels/" + slack.ID, `{"headers":{"X-A":"1"}}`, 422, "validation_failed", "headers"},
			{"bad retry delay", token, "PATCH", item, `{"retry_schedule":["0s","soon"]}`, 422, "validation_failed", "retry_schedule"},
			{"two delays in one item", token, "PATCH", item, `{"retry_schedule":["0s, 1m"]}`, 422, "validation_failed", "retry_schedule"},
			{"empty name", token, "PATCH", item, `{"name":" "}`, 422, "validation_failed", "name"},
			{"id that does not exist", token, "PATCH", "/api/v1/channels/99999", `{"name":"x"}`, 404, "not_found", ""},
			{"id that is not a number", token, "GET", "/api/v1/channels/abc", "", 404, "not_found", ""},
			{"channel of another page", token, "PATCH", theirs, `{"name":"Mine now"}`, 404, "not_found", ""},
			{"get channel of another page", reader, "GET", theirs, "", 404, "not_found", ""},
			{"delete channel of another page", token, "DELETE", theirs, "", 404, "not_found", ""},
			{"delete non-numeric", token, "DELETE", "/api/v1/channels/-1", "", 404, "not_found", ""},
			{"rotate missing", token, "POST", "/api/v1/channels/99999/rotate-secret", "", 404, "not_found", ""},
			{"rotate slack", token, "POST", "/api/v1/channels/" + slack.ID + "/rotate-secret", "", 422, "validation_failed", "type"},
			{"no token", "", "POST", "/api/v1/channels", `{"type":"webhook","name":"x","url":"https://a.example"}`, 401, "unauthorized", ""},
			{"no token to read", "", "GET", "/api/v1/channels", "", 401, "unauthorized", ""},
			{"read scope creates", reader, "POST", "/api/v1/channels", `{"type":"webhook","name":"x","url":"https://a.example"}`, 403, "forbidden", ""},
			{"read scope updates", reader, "PATCH", item, `{"name":"x"}`, 403, "forbidden", ""},
			{"read scope deletes", reader, "DELETE", item, "", 403, "forbidden", ""},
			{"read scope rotates", reader, "POST", item + "/rotate-secret", "", 403, "forbidden", ""},
			{"another write scope", incidents, "PATCH", item, `{"enabled":false}`, 403, "forbidden", ""},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				before := countChannelRows(t, s)
				wantAPIError(t, apiCall(t, s, tc.token, tc.method, tc.path, tc.body), tc.status, tc.code, tc.field)
				if after := countChannelRows(t, s); after != before {
					t.Fatalf("refused request changed rows: %+v → %+v", before, after)
				}
				now := decodeAPI[channelJSON](t, apiCall(t, s, token, http.MethodGet, item, ""), http.StatusOK)
				if !reflect.DeepEqual(now, hook) {
					t.Fatalf("refused request changed the channel: %+v", now)
				}
			})
		}
		stored, err := s.Store.Channel(t.Context(), foreign.ID)
		modelstest.Fatal(t, err, "channel of page 2")
		if stored.Name != "Theirs" {
			t.Fatalf("the other page's channel changed: %+v", stored)
		}

		// Messages speak of the API's fields and values.
		res := apiCall(t, s, token, http.MethodPost, "/api/v1/channels", `{"name":"x","colour":"red"}`)
		if !strings.Contains(res.Err.Message, "“colour”") || !strings.Contains(res.Err.Message, "type, name, url, events, enabled, headers, retry_schedule") {
			t.Errorf("unknown field message %q", res.Err.Message)
		}
		checks := []struct{ body, field, want string }{
			{`{"type":"sms","name":"x","url":"https://a.example"}`, "type", "Use one of: webhook, slack, discord."},
			{`{"type":"webhook","name":"x","url":"https://a.example","events":["server.exploded"]}`, "events", "“server.exploded” is not an event type. Use: incident.created,"},
			{`{"type":"webhook","name":"x","url":"https://a.example","headers":{"A":"1","X-Request-ID":"2"}}`, "headers", "X-Request-ID: Herald sets X-Request-Id itself."},
			{`{"type":"webhook","name":"x","url":"https://a.example","retry_schedule":["0s","soon"]}`, "retry_schedule", `List delays such as "0s", "1m", "5m": "soon" is not a duration`},
		}
		for _, ck := range checks {
			res := apiCall(t, s, token, http.MethodPost, "/api/v1/channels", ck.body)
			if res.Err.Field != ck.field || !strings.HasPrefix(res.Err.Message, ck.want) {
				t.Errorf("%s: field %q message %q, want %q…", ck.body, res.Err.Field, res.Err.Message, ck.want)
			}
		}
		res = apiCall(t, s, token, http.MethodPost, "/api/v1/channels", `{"type":"sms","name":"","url":""}`)
		if len(res.Err.Fields) != 3 || res.Err.Fields["name"] != "Enter a name." {
			t.Errorf("all invalid fields: %v", res.Err.Fields)
		}
	})
}

func TestAPIChannelRotateSecret(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		_, token, reader := channelsSetUp(t, s)
		rcv := newReceiver(t, http.StatusOK, "ok")
		ch := createAPIChannel(t, s, token, `{"type":"webhook","name":"Signed","url":"`+rcv.URL+`/in"}`)
		old := ch.SigningSecret

		before := countChannelRows(t, s)
		res := apiCall(t, s, token, http.MethodPost, "/api/v1/channels/"+ch.ID+"/rotate-secret", "")
		rot := decodeAPI[channelJSON](t, res, http.StatusOK)
		if !signingSecretRE.MatchString(rot.SigningSecret) || rot.SigningSecret == old || rot.PreviousSecretExpiresAt == nil {
			t.Fatalf("rotated: %+v", rot)
		}
		until, err := time.Parse(time.RFC3339, *rot.PreviousSecretExpiresAt)
		if err != nil || until.Sub(time.Now()) < 23*time.Hour || until.Sub(time.Now()) > 25*time.Hour {
			t.Fatalf("previous_secret_expires_at %q, want in 24 h", *rot.PreviousSecretExpiresAt)
		}
		wantAbsent(t, "the rotate answer", res.Body, old)
		entries := auditRows(t, s)
		if after := countChannelRows(t, s); after.audit != before.audit+1 || entries[len(entries)-1].Action != "channel.rotate_secret" {
			t.Fatalf("rotation wrote %+v → %+v", before, after)
		}
		get := apiCall(t, s, reader, http.MethodGet, "/api/v1/channels/"+ch.ID, "")
		wantAbsent(t, "GET after rotation", get.Body, old, rot.SigningSecret, "signing_secret")
		if shown := decodeAPI[channelJSON](t, get, http.StatusOK); shown.PreviousSecretExpiresAt == nil || *shown.PreviousSecretExpiresAt != *rot.PreviousSecretExpiresAt {
			t.Fatalf("GET after rotation: %+v", shown)
		}

		// The next send is signed with the new secret, and with the old
		// one beside it during the window.
		sent := decodeAPI[testResultJSON](t, apiCall(t, s, token, http.MethodPost, "/api/v1/channels/"+ch.ID+"/test", `{"event":"incident.created"}`), http.StatusOK)
		reqs := rcv.requests()
		if len(reqs) != 1 {
			t.Fatalf("receiver got %d requests", len(reqs))
		}
		got := reqs[0]
		if want := hmacHex(rot.SigningSecret, got.Body) + "," + hmacHex(old, got.Body); got.Header.Get("X-Webhook-Signature") != want {
			t.Fatalf("X-Webhook-Signature %q, want %q (new secret first)", got.Header.Get("X-Webhook-Signature"), want)
		}
		id, ts := got.Header.Get("webhook-id"), got.Header.Get("webhook-timestamp")
		if id != sent.Delivery.ID || got.Header.Get("webhook-signature") != standardSignature(t, rot.SigningSecret, id, ts, got.Body)+" "+standardSignature(t, old, id, ts, got.Body) {
			t.Fatalf("webhook-signature %q for id %s", got.Header.Get("webhook-signature"), id)
		}

		// Secrets sealed with another key cannot be rotated: a 409 that
		// says how to repair the channel, and nothing written.
		execSQL(t, s, "UPDATE channels SET secret_sealed = ? WHERE id = ?", "not-sealed-with-this-key", apiIDOf(t, ch.ID))
		if shown := decodeAPI[channelJSON](t, apiCall(t, s, reader, http.MethodGet, "/api/v1/channels/"+ch.ID, ""), http.StatusOK); !shown.Unreadable {
			t.Fatalf("GET of an unreadable channel: %+v", shown)
		}
		before = countChannelRows(t, s)
		wantAPIError(t, apiCall(t, s, token, http.MethodPost, "/api/v1/channels/"+ch.ID+"/rotate-secret", ""), http.StatusConflict, "channel_unreadable", "")
		wantAPIError(t, apiCall(t, s, token, http.MethodPatch, "/api/v1/channels/"+ch.ID, `{"name":"Renamed"}`), http.StatusUnprocessableEntity, "validation_failed", "url")
		if after := countChannelRows(t, s); after != before {
			t.Fatalf("refused requests on an unreadable channel changed rows: %+v → %+v", before, after)
		}
		// Entering the URL again repairs it, with a new secret.
		fixed := decodeAPI[channelJSON](t, apiCall(t, s, token, http.MethodPatch, "/api/v1/channels/"+ch.ID, `{"url":"`+rcv.URL+`/in"}`), http.StatusOK)
		if fixed.Unreadable || fixed.SigningSecret != "" {
			t.Fatalf("repaired channel %+v", fixed)
		}
	})
}
