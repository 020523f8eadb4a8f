package notify

import (
	"bytes"
	"encoding/json"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/markdown"
	"github.com/heraldstatus/herald/models"
)

// TestMailHeadersCannotBeInjected: CR/LF in any field that reaches a
// header (page name, incident title, links) never starts a header.
func TestMailHeadersCannotBeInjected(t *testing.T) {
	data, _ := json.Marshal(models.IncidentData{ID: 1, Title: "Down\r\nX-Injected: title", Status: "investigating",
		Message: "Body.\r\nX-Injected: body", URL: "https://status.example.com/incidents/1"})
	eventID := "evt_1"
	m := &models.SubscriberMail{
		Delivery:       models.SubscriberDelivery{ID: 7, Kind: models.MailEvent, EventID: &eventID},
		Subscriber:     models.Subscriber{ID: 3, Email: "ann@example.com"},
		Page:           models.Page{Name: "Acme\r\nBcc: eve@evil.example", TimeZone: "Europe/Paris"},
		Event:          &models.Event{ID: eventID, Type: models.EventIncidentCreated, Data: string(data), OccurredAt: time.Now()},
		PreferencesURL: "https://status.example.com/subscriptions/tok",
		UnsubscribeURL: "https://status.example.com/subscriptions/tok/unsubscribe\r\nX-Injected: link",
	}
	from := &mail.Address{Name: "Status\r\nX-Injected: from", Address: "status@example.com"}
	msg, err := buildMail(m, from, markdown.New(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := msg.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	parsed, err := mail.ReadMessage(&buf)
	if err != nil {
		t.Fatal(err)
	}
	for name := range parsed.Header {
		if strings.EqualFold(name, "Bcc") || strings.EqualFold(name, "X-Injected") {
			t.Errorf("injected header %s: %q", name, parsed.Header[name])
		}
	}
	if subj := parsed.Header.Get("Subject"); !strings.Contains(subj, "Acme Bcc: eve@evil.example: New incident: Down X-Injected: title") {
		t.Errorf("Subject %q: the line breaks should have become spaces", subj)
	}
	if got := parsed.Header["To"]; len(got) != 1 || got[0] != "<ann@example.com>" {
		t.Errorf("To %q", got)
	}

	// An address with a line break is refused, should one ever be stored.
	m.Subscriber.Email = "ann@example.com\r\nBcc: eve@evil.example"
	if _, err := buildMail(m, from, markdown.New(), time.Now()); err == nil {
		t.Error("an address with a line break was accepted")
	}
}
