package notify

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Verdict is what a receiver's answer means for the delivery.
type Verdict struct {
	OK         bool          // 2xx
	Retry      bool          // failed and may be retried later
	RetryAfter time.Duration // the receiver asked us to wait this long (0 = no request)
	// RateLimited: the receiver refused the request for its rate limit
	// (429, or 503 with a Retry-After): the whole channel waits
	// RetryAfter, and the try is no failed attempt.
	RateLimited bool
	// Refill: the receiver's rate-limit bucket is empty
	// (X-RateLimit-Remaining: 0) and refills after this long
	// (X-RateLimit-Reset-After, as Discord sends): send nothing before.
	Refill time.Duration
	// InvalidPayload: Slack or Discord refused the message itself (400).
	// Sending it again cannot help; a plain fallback message may.
	InvalidPayload bool
	Disable        string // non-empty: the webhook is gone; the reason shown to the admin, e.g. "Slack answered 410 channel_is_archived: the webhook no longer exists"
	Reason         string // short human explanation for the delivery log, e.g. "HTTP 500", "redirect to https://x (not followed)", "invalid payload: <slack error text>"
}

// Channel kinds, as models.ChannelType spells them.
const (
	kindWebhook = "webhook"
	kindSlack   = "slack"
	kindDiscord = "discord"
)

// quoteMax bounds what a reason quotes from a receiver's answer.
const quoteMax = 200

// parseMax bounds how much of a body is read as JSON: the answers we look
// for are small, and a huge body is not one of them.
const parseMax = 64 << 10

// ClassifyResponse interprets an HTTP answer from a receiver of the given kind.
//
// Redirects are failures that may be retried (they are never followed).
// 429 and 5xx honour Retry-After (seconds or an HTTP date, measured from
// the answer's Date header when there is one) and, from Discord, the
// body's retry_after; the longer wins, uncapped: the engine caps. A 429,
// and a 503 that names a wait, are RateLimited: the engine pauses the
// whole channel. On any answer, X-RateLimit-Remaining: 0 sets Refill from
// X-RateLimit-Reset-After (or X-RateLimit-Reset). Answers
// that mean the webhook is gone (Slack 404/410 and some 403s, Discord
// Unknown Webhook and Invalid Webhook Token) disable the channel; invalid
// payloads (Slack and Discord 400) are not retried: the engine sends a
// plain fallback message instead (see fallback.go). Everything else that
// failed is retried.
func ClassifyResponse(kind string, status int, header http.Header, body []byte) Verdict {
	return classifyResponse(kind, status, header, body, time.Now())
}

func classifyResponse(kind string, status int, header http.Header, body []byte, now time.Time) Verdict {
	v := classifyStatus(kind, status, header, body, now)
	v.Refill = bucketRefill(header, now)
	return v
}

func classifyStatus(kind string, status int, header http.Header, body []byte, now time.Time) Verdict {
	switch {
	case status >= 200 && status <= 299:
		return Verdict{OK: true, Reason: fmt.Sprintf("HTTP %d", status)}
	case status >= 300 && status <= 399:
		reason := fmt.Sprintf("HTTP %d redirect (not followed)", status)
		if loc := quote([]byte(header.Get("Location"))); loc != "" {
			reason = fmt.Sprintf("HTTP %d redirect to %s (not followed)", status, loc)
		}
		return Verdict{Retry: true, Reason: reason}
	case status == http.StatusTooManyRequests:
		wait := retryAfter(kind, header, body, now)
		reason := "rate limited (HTTP 429)"
		if wait > 0 {
			reason += ", asked to wait " + wait.String()
		}
		return Verdict{Retry: true, RetryAfter: wait, RateLimited: true, Reason: reason}
	case status >= 500 && status <= 599:
		wait := retryAfter(kind, header, body, now)
		if status == http.StatusServiceUnavailable && wait > 0 {
			return Verdict{Retry: true, RetryAfter: wait, RateLimited: true,
				Reason: "HTTP 503, asked to wait " + wait.String()}
		}
		return Verdict{Retry: true, RetryAfter: wait, Reason: fmt.Sprintf("HTTP %d", status)}
	case status >= 400 && status <= 499:
		switch kind {
		case kindSlack:
			return classifySlack(status, body)
		case kindDiscord:
			return classifyDiscord(status, body)
		}
		return Verdict{Retry: true, Reason: fmt.Sprintf("HTTP %d", status)}
	}
	return Verdict{Retry: true, Reason: fmt.Sprintf("unexpected HTTP status %d", status)}
}

// slackGone explains, per Slack's error text, why an incoming webhook is
// gone for good.
var slackGone = map[string]string{
	"no_service":          "the webhook was removed or disabled in Slack",
	"no_team":             "the Slack workspace no longer exists",
	"team_disabled":       "the Slack workspace is disabled",
	"channel_not_found":   "its channel no longer exists",
	"channel_is_archived": "its channel is archived",
	"invalid_token":       "the webhook URL is no longer valid",
	"action_prohibited":   "a Slack admin has blocked this webhook",
}

func classifySlack(status int, body []byte) Verdict {
	code := quote(body)
	answered := fmt.Sprintf("Slack answered %d", status)
	if code != "" {
		answered += " " + code
	}
	why, known := slackGone[strings.TrimSpace(string(body))]
	switch {
	case status == http.StatusNotFound || status == http.StatusGone || known:
		if !known {
			why = "the webhook no longer exists"
		}
		return Verdict{Disable: answered + ": " + why + ". Create a new incoming webhook in Slack and update this channel.",
			Reason: answered}
	case status == http.StatusBadRequest:
		return Verdict{Reason: "invalid payload: " + orStatus(code, status), InvalidPayload: true}
	}
	return Verdict{Retry: true, Reason: answered}
}

// discordError is the JSON body of Discord's error answers.
type discordError struct {
	Message    string   `json:"message"`
	Code       int      `json:"code"`
	RetryAfter *float64 `json:"retry_after"`
}

// Discord's JSON error codes that mean the webhook is gone.
const (
	discordUnknownWebhook      = 10015
	discordInvalidWebhookToken = 50027
)

func classifyDiscord(status int, body []byte) Verdict {
	var de discordError
	parsed := len(body) <= parseMax && json.Unmarshal(body, &de) == nil
	answered := fmt.Sprintf("Discord answered %d", status)
	if parsed && de.Message != "" {
		answered += " " + quote([]byte(de.Message))
	}
	switch {
	case status == http.StatusNotFound && parsed && (de.Code == discordUnknownWebhook || de.Message == "Unknown Webhook"):
		return Verdict{Disable: answered + ": the webhook was deleted in Discord. Create a new webhook and update this channel.",
			Reason: answered}
	case status == http.StatusUnauthorized:
		// The token is part of the URL: no retry can fix a wrong one.
		return Verdict{Disable: answered + ": the webhook URL is no longer valid. Copy the webhook URL from Discord again and update this channel.",
			Reason: answered}
	case status == http.StatusBadRequest:
		return Verdict{Reason: "invalid payload: " + orStatus(quote(body), status), InvalidPayload: true}
	}
	return Verdict{Retry: true, Reason: answered}
}

// retryAfter is how long the receiver asked us to wait: the Retry-After
// header or, from Discord, the JSON body's retry_after, whichever is longer.
func retryAfter(kind string, header http.Header, body []byte, now time.Time) time.Duration {
	wait := headerRetryAfter(header, now)
	if kind == kindDiscord && len(body) <= parseMax {
		var de discordError
		if json.Unmarshal(body, &de) == nil && de.RetryAfter != nil {
			wait = max(wait, seconds(*de.RetryAfter))
		}
	}
	return wait
}

// bucketRefill reads X-RateLimit-Remaining and, when it is 0, how long
// until the bucket refills: X-RateLimit-Reset-After (seconds, Discord) or
// else X-RateLimit-Reset (a Unix time in seconds). Zero when the bucket is
// not empty or the headers say nothing usable.
func bucketRefill(header http.Header, now time.Time) time.Duration {
	remaining, err := strconv.ParseFloat(strings.TrimSpace(header.Get("X-RateLimit-Remaining")), 64)
	if err != nil || remaining > 0 {
		return 0
	}
	if after, err := strconv.ParseFloat(strings.TrimSpace(header.Get("X-RateLimit-Reset-After")), 64); err == nil {
		return seconds(after)
	}
	if at, err := strconv.ParseFloat(strings.TrimSpace(header.Get("X-RateLimit-Reset")), 64); err == nil {
		if date, err := http.ParseTime(header.Get("Date")); err == nil {
			now = date
		}
		return seconds(at - float64(now.UnixNano())/float64(time.Second))
	}
	return 0
}

func headerRetryAfter(header http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(header.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil {
		return seconds(s)
	}
	at, err := http.ParseTime(v)
	if err != nil {
		return 0
	}
	// Measure from the receiver's own clock when it says what it is, so a
	// skewed clock on either side does not matter.
	if date, err := http.ParseTime(header.Get("Date")); err == nil {
		now = date
	}
	return max(at.Sub(now), 0)
}

// seconds converts a count of seconds from a receiver, which may be
// fractional, negative or absurd, into a duration that does not overflow.
func seconds(s float64) time.Duration {
	switch {
	case math.IsNaN(s) || s <= 0:
		return 0
	case s >= float64(math.MaxInt64)/float64(time.Second):
		return time.Duration(math.MaxInt64)
	}
	return time.Duration(math.Ceil(s * float64(time.Second)))
}

// quote is a receiver's answer made safe for a one-line reason: valid
// UTF-8, no control characters, at most quoteMax characters.
func quote(b []byte) string {
	if len(b) > 4*quoteMax+8 {
		b = b[:4*quoteMax+8] // enough bytes for quoteMax runes
	}
	return truncate(oneLine(string(b)), quoteMax)
}

func orStatus(text string, status int) string {
	if text == "" {
		return fmt.Sprintf("HTTP %d", status)
	}
	return text
}
