package notify

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/heraldstatus/herald/models"
)

// The fallback message. When Slack or Discord refuse a message as
// invalid (HTTP 400), sending it again cannot help, and the admin would
// learn of the incident from nobody. So Herald sends one short plain-text
// message instead — title, status, link — far inside every limit of both
// platforms, and fails the delivery only when that is refused as well.
//
// In the delivery log the refused message and its fallback are two
// attempts of the same delivery: the first failed ("invalid payload: …;
// a plain-text fallback follows as attempt N"), the second carries the
// fallback's request and answer and the delivery's outcome. The pair
// uses one step of the retry schedule.

// Bounds of the fallback's lines, in UTF-16 units as sent (escaped):
// about 1,450 in all, against 2,000 (Discord content) and 4,000 (Slack
// text).
const (
	fallbackHeadlineMax = 300 // the headline and the page name
	fallbackStatusMax   = 120
	fallbackURLMax      = 1000
)

type slackPlainMessage struct {
	Text        string `json:"text"`
	UnfurlLinks bool   `json:"unfurl_links"`
	UnfurlMedia bool   `json:"unfurl_media"`
}

type discordPlainMessage struct {
	Content         string                 `json:"content"`
	AllowedMentions discordAllowedMentions `json:"allowed_mentions"`
}

// FallbackPayload is the plain message sent when Slack or Discord refuse
// the full one: "Incident: API errors (Main Status)", "Status:
// Investigating" and the link, one per line. Admin text is escaped for
// Slack; Discord pings no one and shows no link preview.
func FallbackPayload(kind models.ChannelType, n Notice) ([]byte, error) {
	headline := oneLine(n.Headline)
	if headline == "" {
		headline = "Status update"
	}
	if n.Test {
		headline = "[Test] " + headline
	}
	if page := truncate(oneLine(n.PageName), fallbackHeadlineMax/3); page != "" {
		headline = truncate(headline, fallbackHeadlineMax-utf16Len(page)-3) + " (" + page + ")"
	}
	fit, link := truncate, func(u string) string { return "<" + u + ">" } // Discord: a link without a preview
	if kind == models.ChannelSlack {
		fit, link = slackEscape, slackEscaper.Replace
	}
	lines := []string{fit(headline, fallbackHeadlineMax)}
	if status := oneLine(n.Status); status != "" {
		lines = append(lines, fit("Status: "+status, fallbackStatusMax))
	}
	if u := n.linkURL(); u != "" && utf16Len(link(u)) <= fallbackURLMax {
		lines = append(lines, n.linkLabel()+": "+link(u))
	}
	text := strings.Join(lines, "\n")
	switch kind {
	case models.ChannelSlack:
		return encodeJSON(slackPlainMessage{Text: text})
	case models.ChannelDiscord:
		return encodeJSON(discordPlainMessage{Content: text, AllowedMentions: discordAllowedMentions{Parse: []string{}}})
	}
	return nil, fmt.Errorf("notify: no fallback message for %s channels", kind)
}

// try makes one attempt of delivery d and, when Slack or Discord refuse
// its message as invalid, one more with the fallback message. It returns
// the refused attempt, if any, then the last attempt and its verdict.
func (s *Sender) try(ctx context.Context, c *models.Channel, page *models.Page, d *models.Delivery, ev models.Event, number int, now time.Time) (refused []models.DeliveryAttempt, last models.DeliveryAttempt, v Verdict) {
	a, v := s.attempt(ctx, c, page, d, ev, number, now)
	if !v.InvalidPayload {
		return nil, a, v
	}
	req, err := buildFallback(c, page, d, ev, s.version)
	if err != nil {
		return nil, a, v // cannot happen for an event the full message was built from
	}
	a.Outcome = string(models.DeliveryFailed)
	a.Error += fmt.Sprintf("; a plain-text fallback follows as attempt %d", number+1)
	fb := models.DeliveryAttempt{DeliveryID: d.ID, Number: number + 1,
		StartedAt: now.Add(time.Duration(a.DurationMS) * time.Millisecond), RequestURL: req.LogURL}
	fb, fv := s.send(ctx, c, req, fb)
	if !fv.OK {
		fb.Error = "plain-text fallback: " + fb.Error
		fv.Reason = "plain-text fallback: " + fv.Reason
	}
	return []models.DeliveryAttempt{a}, fb, fv
}

// buildFallback is buildRequest with the fallback message as the body.
func buildFallback(c *models.Channel, page *models.Page, d *models.Delivery, ev models.Event, version string) (*outgoing, error) {
	n, err := NoticeFor(page.Name, ev.Type, []byte(ev.Data), ev.OccurredAt, d.Test)
	if err != nil {
		return nil, err
	}
	body, err := FallbackPayload(c.Type, n)
	if err != nil {
		return nil, err
	}
	out := &outgoing{URL: c.URL, Header: http.Header{}, Body: body, LogURL: models.MaskURL(c.Type, c.URL)}
	out.Header.Set("Content-Type", "application/json")
	out.Header.Set("User-Agent", "Herald-Webhook/"+version)
	out.LogHeaders = out.Header.Clone()
	return out, nil
}
