package notify

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/heraldstatus/herald/models"
)

// envelope is the body of a custom webhook request (SPEC §5.2). Data is
// the event's stored JSON, copied byte for byte.
type envelope struct {
	ID         string           `json:"id"`
	Event      models.EventType `json:"event"`
	Timestamp  time.Time        `json:"timestamp"`
	Test       bool             `json:"test"`
	StatusPage pageRef          `json:"statusPage"`
	Data       json.RawMessage  `json:"data"`
}

type pageRef struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
	Slug string `json:"slug"`
}

// outgoing is one request about to be sent: the exact bytes, and the
// headers with credentials masked for the log.
type outgoing struct {
	URL        string
	Header     http.Header
	Body       []byte
	LogURL     string
	LogHeaders http.Header
}

// buildRequest renders delivery d of event ev for channel c, at sentAt.
// The body depends only on the event, so every attempt carries the same
// body; the timestamp header and signatures are fresh on each attempt.
func buildRequest(c *models.Channel, page *models.Page, d *models.Delivery, ev models.Event, version string, sentAt time.Time) (*outgoing, error) {
	out := &outgoing{URL: c.URL, Header: http.Header{}, LogURL: models.MaskURL(c.Type, c.URL)}
	out.Header.Set("Content-Type", "application/json")
	out.Header.Set("User-Agent", "Herald-Webhook/"+version)
	var err error
	switch c.Type {
	case models.ChannelWebhook:
		out.Body, err = json.Marshal(envelope{ID: ev.ID, Event: ev.Type, Timestamp: ev.OccurredAt.UTC(), Test: d.Test,
			StatusPage: pageRef{ID: page.ID, Name: page.Name, Slug: page.Slug}, Data: json.RawMessage(ev.Data)})
		if err != nil {
			return nil, fmt.Errorf("encode webhook body: %w", err)
		}
		ts := sentAt.Unix()
		sig := Sign(c.SigningSecrets(sentAt), d.ID, ts, out.Body)
		out.Header.Set("X-Webhook-Event", string(ev.Type))
		out.Header.Set("X-Request-ID", d.ID)
		out.Header.Set("X-Webhook-Signature", sig.Hex)
		out.Header["webhook-id"] = []string{d.ID}
		out.Header["webhook-timestamp"] = []string{strconv.FormatInt(ts, 10)}
		out.Header["webhook-signature"] = []string{sig.Standard}
	case models.ChannelSlack, models.ChannelDiscord:
		n, err := NoticeFor(page.Name, ev.Type, []byte(ev.Data), ev.OccurredAt, d.Test)
		if err != nil {
			return nil, err
		}
		if c.Type == models.ChannelSlack {
			out.Body, err = SlackPayload(n)
		} else {
			out.Body, err = DiscordPayload(n)
		}
		if err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("unknown channel type %q", c.Type)
	}
	out.LogHeaders = out.Header.Clone()
	for _, h := range c.Headers {
		out.Header.Set(h.Name, h.Value)
		out.LogHeaders.Set(h.Name, models.MaskedValue)
	}
	return out, nil
}

// eventFor is the event a delivery carries: the outbox row, or for a
// test send the sample stored with it, or for a webhook subscriber's
// verification (no outbox row: it is no event of the page) the data
// stored with it.
func eventFor(d *models.Delivery, events map[string]models.Event) (models.Event, bool) {
	if d.Test || (d.EventID == nil && d.TestData != "") {
		id := "evt_" + d.ID[len("dlv_"):]
		return models.Event{ID: id, PageID: d.PageID, Type: d.EventType, Data: d.TestData, OccurredAt: d.CreatedAt}, true
	}
	if d.EventID == nil {
		return models.Event{}, false
	}
	ev, ok := events[*d.EventID]
	return ev, ok
}
