package notify

import (
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestClassifyResponse(t *testing.T) {
	now := time.Date(2026, 1, 14, 12, 0, 0, 0, time.UTC)
	h := func(kv ...string) http.Header {
		out := http.Header{}
		for i := 0; i+1 < len(kv); i += 2 {
			out.Set(kv[i], kv[i+1])
		}
		return out
	}
	garbage := strings.Repeat("\x00\xff<html>💥 boom\n", 20000)
	cases := []struct {
		name       string
		kind       string
		status     int
		header     http.Header
		body       string
		ok, retry  bool
		retryAfter time.Duration
		disable    bool
		reasonHas  string
		disableHas string
	}{
		{"200 is delivered", "webhook", 200, nil, "ok", true, false, 0, false, "HTTP 200", ""},
		{"204 is delivered", "discord", 204, nil, "", true, false, 0, false, "HTTP 204", ""},
		{"slack ok", "slack", 200, nil, "ok", true, false, 0, false, "HTTP 200", ""},
		{"301 is a failure naming the location", "webhook", 301, h("Location", "https://x.example/new"), "", false, true, 0, false,
			"redirect to https://x.example/new (not followed)", ""},
		{"302 without location", "slack", 302, nil, "", false, true, 0, false, "HTTP 302 redirect (not followed)", ""},
		{"500 is retried", "webhook", 500, nil, "oops", false, true, 0, false, "HTTP 500", ""},
		{"503 honours retry-after", "webhook", 503, h("Retry-After", "120"), "", false, true, 2 * time.Minute, false, "HTTP 503", ""},
		{"garbage 500 body", "discord", 500, nil, garbage, false, true, 0, false, "HTTP 500", ""},
		{"webhook 404 is retried", "webhook", 404, nil, "", false, true, 0, false, "HTTP 404", ""},
		{"webhook 400 is retried", "webhook", 400, nil, "bad", false, true, 0, false, "HTTP 400", ""},
		{"webhook 410 is retried", "webhook", 410, nil, "", false, true, 0, false, "HTTP 410", ""},

		{"429 with seconds", "webhook", 429, h("Retry-After", "30"), "", false, true, 30 * time.Second, false, "rate limited", ""},
		{"429 with an http date", "slack", 429,
			h("Retry-After", now.Add(90*time.Second).Format(http.TimeFormat), "Date", now.Format(http.TimeFormat)), "",
			false, true, 90 * time.Second, false, "rate limited", ""},
		{"429 with a past date", "webhook", 429, h("Retry-After", now.Add(-time.Hour).Format(http.TimeFormat)), "",
			false, true, 0, false, "rate limited", ""},
		{"429 without a hint", "webhook", 429, nil, "", false, true, 0, false, "rate limited", ""},
		{"429 with a bad header", "webhook", 429, h("Retry-After", "soon"), "", false, true, 0, false, "rate limited", ""},
		{"429 is not capped here", "webhook", 429, h("Retry-After", "86400"), "", false, true, 24 * time.Hour, false, "", ""},
		{"discord 429 body retry_after", "discord", 429, nil,
			`{"message": "You are being rate limited.", "retry_after": 1.5, "global": false}`,
			false, true, 1500 * time.Millisecond, false, "rate limited", ""},
		{"discord 429 larger of header and body", "discord", 429, h("Retry-After", "2"),
			`{"message": "You are being rate limited.", "retry_after": 64.57, "global": false}`,
			false, true, 64570 * time.Millisecond, false, "", ""},
		{"discord 429 header larger than body", "discord", 429, h("Retry-After", "10"), `{"retry_after": 0.25}`,
			false, true, 10 * time.Second, false, "", ""},
		{"discord 429 garbage body", "discord", 429, h("Retry-After", "3"), garbage, false, true, 3 * time.Second, false, "", ""},
		{"slack 429 body ignored", "slack", 429, nil, `{"retry_after": 50}`, false, true, 0, false, "", ""},
		{"absurd retry-after does not overflow", "discord", 429, h("Retry-After", "1e300"), `{"retry_after": -5}`,
			false, true, time.Duration(1<<63 - 1), false, "", ""},

		{"slack 404 no_service disables", "slack", 404, nil, "no_service", false, false, 0, true,
			"Slack answered 404 no_service", "Slack answered 404 no_service: the webhook was removed"},
		{"slack 404 channel_not_found disables", "slack", 404, nil, "channel_not_found", false, false, 0, true, "", "channel no longer exists"},
		{"slack 410 channel_is_archived disables", "slack", 410, nil, "channel_is_archived", false, false, 0, true,
			"", "Slack answered 410 channel_is_archived: its channel is archived"},
		{"slack 404 no_team disables", "slack", 404, nil, "no_team", false, false, 0, true, "", "workspace"},
		{"slack 404 garbage disables", "slack", 404, nil, garbage, false, false, 0, true, "", "the webhook no longer exists"},
		{"slack 403 invalid_token disables", "slack", 403, nil, "invalid_token", false, false, 0, true, "", "no longer valid"},
		{"slack 403 action_prohibited disables", "slack", 403, nil, "action_prohibited", false, false, 0, true, "", "blocked"},
		{"slack other 403 is retried", "slack", 403, nil, "posting_to_general_channel_denied", false, true, 0, false,
			"posting_to_general_channel_denied", ""},
		{"slack 400 invalid_payload", "slack", 400, nil, "invalid_payload", false, false, 0, false, "invalid payload: invalid_payload", ""},
		{"slack 400 invalid_blocks", "slack", 400, nil, "invalid_blocks", false, false, 0, false, "invalid payload: invalid_blocks", ""},
		{"slack 400 no_text", "slack", 400, nil, "no_text", false, false, 0, false, "invalid payload: no_text", ""},
		{"slack 400 empty body", "slack", 400, nil, "", false, false, 0, false, "invalid payload: HTTP 400", ""},
		{"slack 500 is retried", "slack", 500, nil, "", false, true, 0, false, "HTTP 500", ""},

		{"discord 404 unknown webhook disables", "discord", 404, nil, `{"message": "Unknown Webhook", "code": 10015}`,
			false, false, 0, true, "Discord answered 404 Unknown Webhook", "deleted"},
		{"discord 404 without its code is retried", "discord", 404, nil, "<html>not found</html>", false, true, 0, false, "404", ""},
		{"discord 401 invalid token disables", "discord", 401, nil, `{"message": "Invalid Webhook Token", "code": 50027}`,
			false, false, 0, true, "Invalid Webhook Token", "no longer valid"},
		{"discord 400 is not retried", "discord", 400, nil,
			`{"code": 50035, "errors": {"embeds": {"0": {"description": {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH"}]}}}}, "message": "Invalid Form Body"}`,
			false, false, 0, false, "invalid payload: {\"code\": 50035", ""},
		{"discord 400 garbage", "discord", 400, nil, garbage, false, false, 0, false, "invalid payload: ", ""},
		{"discord 403 is retried", "discord", 403, nil, `{"message": "Missing Permissions", "code": 50013}`, false, true, 0, false, "Missing Permissions", ""},

		{"unexpected status", "webhook", 101, nil, "", false, true, 0, false, "unexpected HTTP status 101", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			header := tc.header
			if header == nil {
				header = http.Header{}
			}
			v := classifyResponse(tc.kind, tc.status, header, []byte(tc.body), now)
			if v.OK != tc.ok || v.Retry != tc.retry || v.RetryAfter != tc.retryAfter || (v.Disable != "") != tc.disable {
				t.Errorf("verdict %+v; want ok %v, retry %v, retryAfter %v, disable %v", v, tc.ok, tc.retry, tc.retryAfter, tc.disable)
			}
			if v.InvalidPayload != strings.HasPrefix(tc.reasonHas, "invalid payload") {
				t.Errorf("InvalidPayload = %v for reason %q: only Slack's and Discord's 400s ask for the fallback", v.InvalidPayload, v.Reason)
			}
			if !strings.Contains(v.Reason, tc.reasonHas) {
				t.Errorf("reason %q lacks %q", v.Reason, tc.reasonHas)
			}
			if !strings.Contains(v.Disable, tc.disableHas) {
				t.Errorf("disable %q lacks %q", v.Disable, tc.disableHas)
			}
			if v.Reason == "" {
				t.Error("empty reason")
			}
			for _, s := range []string{v.Reason, v.Disable} {
				if !utf8.ValidString(s) || utf8.RuneCountInString(s) > 400 || strings.ContainsAny(s, "\x00\n") {
					t.Errorf("reason not short, clean text: %q", s)
				}
			}
		})
	}
}

func TestClassifyResponseExported(t *testing.T) {
	v := ClassifyResponse("discord", 429, http.Header{"Retry-After": {"5"}}, nil)
	if !v.Retry || v.RetryAfter != 5*time.Second {
		t.Errorf("got %+v", v)
	}
	if v := ClassifyResponse("slack", 200, nil, nil); !v.OK {
		t.Errorf("nil header: %+v", v)
	}
}
