package notify

import (
	"net/http"
	"strconv"
	"testing"
	"time"
)

func TestRateLimitVerdicts(t *testing.T) {
	now := time.Date(2026, 1, 14, 12, 0, 0, 0, time.UTC)
	h := func(kv ...string) http.Header {
		out := http.Header{}
		for i := 0; i+1 < len(kv); i += 2 {
			out.Set(kv[i], kv[i+1])
		}
		return out
	}
	cases := []struct {
		name        string
		kind        string
		status      int
		header      http.Header
		rateLimited bool
		refill      time.Duration
	}{
		{"429 pauses the channel", "webhook", 429, h("Retry-After", "3"), true, 0},
		{"429 without Retry-After too", "slack", 429, nil, true, 0},
		{"503 with Retry-After pauses", "webhook", 503, h("Retry-After", "2"), true, 0},
		{"503 without Retry-After is a failure", "webhook", 503, nil, false, 0},
		{"500 with Retry-After is a failure", "webhook", 500, h("Retry-After", "2"), false, 0},
		{"discord bucket empty", "discord", 204, h("X-RateLimit-Remaining", "0", "X-RateLimit-Reset-After", "1.250"), false, 1250 * time.Millisecond},
		{"discord bucket not empty", "discord", 204, h("X-RateLimit-Remaining", "1", "X-RateLimit-Reset-After", "1.250"), false, 0},
		{"reset as a unix time, from the receiver's Date", "webhook", 200,
			h("X-RateLimit-Remaining", "0", "X-RateLimit-Reset", strconv.FormatInt(now.Add(30*time.Second).Unix(), 10), "Date", now.Format(http.TimeFormat)),
			false, 30 * time.Second},
		{"empty bucket without a reset", "webhook", 200, h("X-RateLimit-Remaining", "0"), false, 0},
		{"garbage headers", "discord", 200, h("X-RateLimit-Remaining", "none", "X-RateLimit-Reset-After", "soon"), false, 0},
		{"negative reset", "discord", 200, h("X-RateLimit-Remaining", "0", "X-RateLimit-Reset-After", "-5"), false, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := classifyResponse(tc.kind, tc.status, tc.header, nil, now)
			if v.RateLimited != tc.rateLimited || v.Refill != tc.refill {
				t.Errorf("RateLimited %v, Refill %s; want %v, %s", v.RateLimited, v.Refill, tc.rateLimited, tc.refill)
			}
		})
	}
}
