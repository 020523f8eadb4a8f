package notify

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	htmltemplate "html/template"
	"net/mail"
	"strings"
	"sync"
	texttemplate "text/template"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/heraldstatus/herald/markdown"
	"github.com/heraldstatus/herald/models"
)

// mailView is what the e-mail templates print: every field ready.
type mailView struct {
	PageName    string
	Accent      string
	Heading     string // "Incident: Elevated errors" or the confirmation's
	Status      string // "Investigating", "Scheduled", …
	When        string // in the page's time zone
	Components  string
	Message     string // Markdown source, for the text part
	MessageHTML htmltemplate.HTML
	Link        string // the incident or maintenance on the page
	ConfirmURL  string
	Preferences string
	Unsubscribe string
}

var mailText = texttemplate.Must(texttemplate.New("text").Parse(`{{.Heading}}
{{if .ConfirmURL}}
Someone, probably you, asked to receive {{.PageName}}'s status notices at this address.
Confirm within 48 hours by opening this link:

{{.ConfirmURL}}

If it was not you, ignore this e-mail: nothing more will be sent.
{{else}}
{{.Status}} · {{.When}}{{if .Components}}
Affects: {{.Components}}{{end}}
{{if .Message}}
{{.Message}}
{{end}}
{{.Link}}
{{end}}
--
Choose components or unsubscribe: {{.Preferences}}
`))

var mailHTML = htmltemplate.Must(htmltemplate.New("html").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{{.Heading}}</title></head>
<body style="font-family:system-ui,sans-serif;line-height:1.5;color:#1f2328;max-width:40em;margin:0 auto;padding:1em">
<p style="color:{{.Accent}};font-weight:600">{{.PageName}}</p>
<h1 style="font-size:1.3em">{{.Heading}}</h1>
{{if .ConfirmURL}}
<p>Someone, probably you, asked to receive {{.PageName}}'s status notices at this address.</p>
<p><a href="{{.ConfirmURL}}" style="color:{{.Accent}}">Confirm your subscription</a> (the link works for 48 hours).</p>
<p>If it was not you, ignore this e-mail: nothing more will be sent.</p>
{{else}}
<p><strong>{{.Status}}</strong> · {{.When}}{{if .Components}}<br>Affects: {{.Components}}{{end}}</p>
{{.MessageHTML}}
<p><a href="{{.Link}}" style="color:{{.Accent}}">View on the status page</a></p>
{{end}}
<hr>
<p style="font-size:.85em;color:#59636e"><a href="{{.Preferences}}">Choose components or unsubscribe</a></p>
</body></html>
`))

// accentColours are the e-mail colours of the page accents.
var accentColours = map[string]string{"blue": "#0969da", "purple": "#8250df", "pink": "#bf3989", "red": "#cf222e",
	"orange": "#bc4c00", "green": "#1a7f37", "teal": "#0a7d80", "gray": "#59636e"}

// headerText makes a value safe for one header line: every control
// character, CR and LF first, becomes a space, so no field can ever
// start a header of its own.
func headerText(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

// eventHeading and eventStatus name an event for people.
var eventHeading = map[models.EventType]string{
	models.EventIncidentCreated: "New incident", models.EventIncidentUpdated: "Incident update",
	models.EventIncidentResolved: "Resolved", models.EventMaintenanceScheduled: "Maintenance scheduled",
	models.EventMaintenanceStarted: "Maintenance started", models.EventMaintenanceCompleted: "Maintenance completed",
}

// mailRenderer renders subscribers' e-mails. What every recipient of an
// event shares (heading, status, times, the Markdown rendered and
// sanitised) is worked out once per event and page; only the links and
// the address differ from one message to the next. It is safe for
// concurrent use.
type mailRenderer struct {
	from *mail.Address
	md   *markdown.Renderer

	mu     sync.Mutex
	shared map[sharedKey]*sharedMail
}

// sharedKey names what a message shares with others: its page and event
// ("" for a confirmation).
type sharedKey struct {
	pageID  int64
	eventID string
}

// sharedMail is the part of a message common to every recipient.
type sharedMail struct {
	view    mailView
	subject string
	err     error
}

func newMailRenderer(from *mail.Address, md *markdown.Renderer) *mailRenderer {
	return &mailRenderer{from: from, md: md, shared: map[sharedKey]*sharedMail{}}
}

// buildMail renders one subscriber's e-mail: multipart text and HTML,
// with Message-ID, Date and RFC 8058 one-click unsubscribe headers.
func buildMail(m *models.SubscriberMail, from *mail.Address, md *markdown.Renderer, now time.Time) (*gomail.Msg, error) {
	return newMailRenderer(from, md).build(m, now)
}

// sharedPart returns, computing it on first use, what m shares with the
// other messages of its event.
func (r *mailRenderer) sharedPart(m *models.SubscriberMail) (*sharedMail, error) {
	key := sharedKey{pageID: m.Page.ID}
	switch {
	case m.Delivery.Kind == models.MailConfirm:
	case m.Event != nil:
		key.eventID = m.Event.ID
	default:
		return nil, fmt.Errorf("subscriber delivery %d has no event", m.Delivery.ID)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if sh, ok := r.shared[key]; ok {
		return sh, sh.err
	}
	sh := &sharedMail{}
	r.shared[key] = sh
	loc, err := time.LoadLocation(m.Page.TimeZone)
	if err != nil || m.Page.TimeZone == "" {
		loc = time.UTC
	}
	v := mailView{PageName: headerText(m.Page.Name), Accent: accentColours[m.Page.Accent()]}
	if v.Accent == "" {
		v.Accent = accentColours["blue"]
	}
	if key.eventID == "" {
		v.Heading = "Confirm your subscription"
		sh.subject = v.PageName + ": confirm your subscription"
	} else {
		if sh.err = eventView(&v, m.Event, r.md, loc); sh.err != nil {
			return sh, sh.err
		}
		sh.subject = v.PageName + ": " + v.Heading
	}
	sh.view = v
	return sh, nil
}

// build renders one subscriber's e-mail.
func (r *mailRenderer) build(m *models.SubscriberMail, now time.Time) (*gomail.Msg, error) {
	sh, err := r.sharedPart(m)
	if err != nil {
		return nil, err
	}
	v := sh.view
	v.Preferences, v.Unsubscribe, v.ConfirmURL = m.PreferencesURL, m.UnsubscribeURL, m.ConfirmURL
	var text, html bytes.Buffer
	if err := mailText.Execute(&text, v); err != nil {
		return nil, fmt.Errorf("render text of delivery %d: %w", m.Delivery.ID, err)
	}
	if err := mailHTML.Execute(&html, v); err != nil {
		return nil, fmt.Errorf("render html of delivery %d: %w", m.Delivery.ID, err)
	}

	from := r.from
	msg := gomail.NewMsg()
	msg.FromMailAddress(&mail.Address{Name: headerText(from.Name), Address: from.Address})
	if err := msg.To(m.Subscriber.Email); err != nil {
		return nil, fmt.Errorf("address of subscriber %d: %w", m.Subscriber.ID, err)
	}
	msg.Subject(headerText(sh.subject))
	msg.SetMessageIDWithValue(messageID(m.Delivery.ID, from.Address))
	msg.SetDateWithValue(now)
	msg.SetGenHeader("List-Unsubscribe", "<"+headerText(m.UnsubscribeURL)+">")
	msg.SetGenHeader("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")
	msg.SetGenHeader("Auto-Submitted", "auto-generated")
	msg.SetBodyString(gomail.TypeTextPlain, text.String())
	msg.AddAlternativeString(gomail.TypeTextHTML, html.String())
	return msg, nil
}

// eventView fills v from an incident or maintenance event.
func eventView(v *mailView, ev *models.Event, md *markdown.Renderer, loc *time.Location) error {
	v.Heading = eventHeading[ev.Type]
	if strings.HasPrefix(string(ev.Type), "incident.") {
		var d models.IncidentData
		if err := json.Unmarshal([]byte(ev.Data), &d); err != nil {
			return fmt.Errorf("decode %s: %w", ev.ID, err)
		}
		v.Heading += ": " + headerText(d.Title)
		v.Status, v.Message, v.Link = statusLabel(d.Status), d.Message, d.URL
		v.Components = strings.Join(d.Components, ", ")
		v.When = ev.OccurredAt.In(loc).Format("2 Jan 2006 15:04 MST")
	} else {
		var d models.MaintenanceData
		if err := json.Unmarshal([]byte(ev.Data), &d); err != nil {
			return fmt.Errorf("decode %s: %w", ev.ID, err)
		}
		v.Heading += ": " + headerText(d.Title)
		v.Status, v.Message, v.Link = statusLabel(d.Status), d.Message, d.URL
		v.Components = strings.Join(d.Components, ", ")
		v.When = d.WindowStart.In(loc).Format("2 Jan 2006 15:04") + " – " + d.WindowEnd.In(loc).Format("15:04 MST")
	}
	v.MessageHTML = htmltemplate.HTML(md.Render(v.Message)) // sanitised by the renderer, as on the page
	return nil
}

// statusLabel is "in_progress" as "In progress".
func statusLabel(s string) string {
	s = strings.ReplaceAll(s, "_", " ")
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// messageID is unique per delivery and send: <herald.DELIVERY.RANDOM@DOMAIN>.
func messageID(deliveryID int64, from string) string {
	domain := from[strings.LastIndexByte(from, '@')+1:]
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return fmt.Sprintf("herald.%d.%s@%s", deliveryID, hex.EncodeToString(b), domain)
}
