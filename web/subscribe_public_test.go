package web_test

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
	"github.com/heraldstatus/herald/notify/smtptest"
	"github.com/heraldstatus/herald/web"
	"github.com/heraldstatus/herald/web/webtest"
)

// startWithMail serves Herald with SMTP configured to a real SMTP server
// started here, links in e-mails pointing at the server itself.
func startWithMail(t *testing.T, engine models.Engine) (*webtest.Server, *smtptest.Server, string) {
	t.Helper()
	mail := smtptest.StartPlain(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	store := modelstest.OpenWith(t, engine, models.Options{BaseURL: base})
	s := webtest.StartWith(t, webtest.Options{Store: store, Listener: ln, Configure: func(c *web.Config) {
		c.SMTPURL, c.SMTPFrom = mail.URL(), "Acme status <status@example.com>"
	}})
	return s, mail, base
}

// mailsTo are the messages addressed to addr.
func mailsTo(msgs []smtptest.Msg, addr string) []smtptest.Msg {
	var out []smtptest.Msg
	for _, m := range msgs {
		for _, r := range m.Rcpts {
			if r == addr {
				out = append(out, m)
			}
		}
	}
	return out
}

// waitMailTo waits until n messages to addr arrived.
func waitMailTo(t *testing.T, mail *smtptest.Server, addr string, n int) []smtptest.Msg {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if got := mailsTo(mail.Messages(), addr); len(got) >= n {
			return got
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%d messages to the subscriber, want %d", len(mailsTo(mail.Messages(), addr)), n)
	return nil
}

// linkAfter is the first link in text that starts with prefix.
func linkAfter(t *testing.T, text, prefix string) string {
	t.Helper()
	i := strings.Index(text, prefix)
	if i < 0 {
		t.Fatalf("no link %s… in:\n%s", prefix, text)
	}
	end := strings.IndexAny(text[i:], " \r\n>\"")
	if end < 0 {
		return text[i:]
	}
	return text[i : i+end]
}

// subscribeForm posts the sign-up form with the page's CSRF token.
func subscribeForm(c *webtest.Client, form url.Values) webtest.Response {
	return c.Submit("/subscribe", "/subscribe", form)
}

func subscriberCount(t *testing.T, s *webtest.Server) int64 {
	t.Helper()
	n, err := s.Store.CountSubscribers(t.Context(), models.SubscriberFilter{PageID: models.DefaultPageID})
	modelstest.Fatal(t, err, "count subscribers")
	return n
}

const sentText = "Check your inbox to confirm"

func checkPrivate(t *testing.T, what string, r webtest.Response) {
	t.Helper()
	if r.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("%s: Cache-Control %q, want no-store", what, r.Header.Get("Cache-Control"))
	}
	if r.Header.Get("Content-Security-Policy") == "" {
		t.Errorf("%s: no Content-Security-Policy", what)
	}
}

// The whole journey over HTTP: sign up, the confirmation e-mail, confirm,
// an incident's e-mail, preferences, one-click unsubscribe.
func TestPublicSubscriptionJourney(t *testing.T) {
	for _, engine := range modelstest.Engines {
		t.Run(string(engine), func(t *testing.T) {
			s, mail, base := startWithMail(t, engine)
			api := addComponent(t, s, "API", models.StatusOperational)
			web := addComponent(t, s, "Website", models.StatusOperational)
			hidden, err := s.Store.CreateComponent(t.Context(), models.DefaultPageID, models.ComponentInput{Name: "Internal DB", Status: models.StatusOperational})
			modelstest.Fatal(t, err, "hidden component")
			visitor := s.NewClientFrom(t, "127.0.15.1")

			// The header's Subscribe leads to the form; the feeds are there too.
			home := visitor.Get("/")
			if !strings.Contains(home.Body, `href="/subscribe"`) {
				t.Fatal("the public page has no Subscribe link to /subscribe")
			}
			page := visitor.Get("/subscribe")
			checkPrivate(t, "GET /subscribe", page)
			for _, want := range []string{`name="email"`, `name="website"`, "<details", `value="` + fmt.Sprint(api) + `"`, `href="/history.atom"`} {
				if !strings.Contains(page.Body, want) {
					t.Errorf("/subscribe lacks %s", want)
				}
			}
			if strings.Contains(page.Body, "Internal DB") {
				t.Error("/subscribe offers a hidden component")
			}

			// Without the CSRF token: refused, nothing written.
			if r := visitor.Post("/subscribe", url.Values{"email": {"x@example.com"}, "scope": {"all"}}); r.Status != http.StatusForbidden {
				t.Errorf("sign-up without CSRF token: %d, want 403", r.Status)
			}

			const addr = "reader@example.com"
			r := subscribeForm(visitor, url.Values{"email": {"Reader@Example.com"}, "scope": {"some"}, "component": {fmt.Sprint(api)}})
			if r.Status != http.StatusOK || !strings.Contains(r.Body, sentText) {
				t.Fatalf("sign-up: %d\n%s", r.Status, r.Body)
			}
			checkPrivate(t, "POST /subscribe", r)
			if strings.Contains(strings.ToLower(r.Body), addr) {
				t.Error("the sign-up answer echoes the address")
			}
			// A component the page hides cannot be chosen.
			if r := subscribeForm(visitor, url.Values{"email": {"other@example.com"}, "scope": {"some"}, "component": {fmt.Sprint(hidden.ID)}}); r.Status != http.StatusUnprocessableEntity {
				t.Errorf("hidden component: %d, want 422", r.Status)
			}

			confirmMail := waitMailTo(t, mail, addr, 1)[0]
			confirm := linkAfter(t, confirmMail.Text, base+"/subscriptions/confirm/")
			path := strings.TrimPrefix(confirm, base)
			// Opening the link (a mail scanner, or the person) changes nothing.
			show := visitor.Get(path)
			if show.Status != http.StatusOK || !strings.Contains(show.Body, `action="`+path+`"`) {
				t.Fatalf("confirmation page: %d\n%s", show.Status, show.Body)
			}
			checkPrivate(t, "GET confirm", show)
			if subs, _ := s.Store.Subscribers(t.Context(), models.SubscriberFilter{}); len(subs) != 1 || subs[0].State != models.SubscriberPending {
				t.Fatalf("after GET on the link: %+v, want one pending subscriber", subs)
			}
			if r := visitor.Post(path, nil); r.Status != http.StatusOK || !strings.Contains(r.Body, "You are subscribed") {
				t.Fatalf("confirm: %d\n%s", r.Status, r.Body)
			}
			if r := visitor.Post(path, nil); r.Status != http.StatusNotFound {
				t.Errorf("confirming twice: %d, want 404", r.Status)
			}

			// An incident on another component sends nothing; one on API does.
			_, err = s.Store.CreateIncident(t.Context(), models.DefaultPageID, models.IncidentInput{Title: "Website slow",
				Status: models.IncidentInvestigating, Message: "Looking.", Components: map[int64]models.ComponentStatus{web: models.StatusDegradedPerformance}})
			modelstest.Fatal(t, err, "incident on Website")
			_, err = s.Store.CreateIncident(t.Context(), models.DefaultPageID, models.IncidentInput{Title: "API errors",
				Status: models.IncidentInvestigating, Message: "Looking into it.", Components: map[int64]models.ComponentStatus{api: models.StatusMajorOutage}})
			modelstest.Fatal(t, err, "incident on API")
			notice := waitMailTo(t, mail, addr, 2)[1]
			if !strings.Contains(notice.Header.Get("Subject"), "API errors") {
				t.Errorf("subscriber's e-mail subject %q, want the API incident", notice.Header.Get("Subject"))
			}
			time.Sleep(500 * time.Millisecond)
			if n := len(mailsTo(mail.Messages(), addr)); n != 2 {
				t.Errorf("%d messages to the subscriber, want 2 (the Website incident is not theirs)", n)
			}

			// Preferences: the visitor's own address, change to all components.
			prefs := strings.TrimPrefix(linkAfter(t, notice.Text, base+"/subscriptions/"), base)
			stranger := s.NewClientFrom(t, "127.0.15.2")
			p := stranger.Get(prefs)
			if p.Status != http.StatusOK || !strings.Contains(p.Body, addr) {
				t.Fatalf("preferences: %d\n%s", p.Status, p.Body)
			}
			checkPrivate(t, "preferences", p)
			if r := stranger.Post(prefs, url.Values{"scope": {"some"}}); r.Status != http.StatusUnprocessableEntity {
				t.Errorf("no component chosen: %d, want 422", r.Status)
			}
			if r := stranger.Post(prefs, url.Values{"scope": {"all"}}); r.Status != http.StatusOK || !strings.Contains(r.Body, "Saved.") {
				t.Fatalf("save preferences: %d\n%s", r.Status, r.Body)
			}
			if subs, _ := s.Store.Subscribers(t.Context(), models.SubscriberFilter{}); len(subs) != 1 || !subs[0].AllComponents {
				t.Fatalf("after saving all components: %+v", subs)
			}

			// RFC 8058: the List-Unsubscribe URL, GET shows a button, POST
			// List-Unsubscribe=One-Click without cookies unsubscribes.
			unsub := strings.Trim(notice.Header.Get("List-Unsubscribe"), "<>")
			if !strings.HasPrefix(unsub, base+"/subscriptions/") {
				t.Fatalf("List-Unsubscribe %q", unsub)
			}
			g := stranger.Get(strings.TrimPrefix(unsub, base))
			if g.Status != http.StatusOK || !strings.Contains(g.Body, "<button") || subscriberCount(t, s) != 1 {
				t.Fatalf("GET unsubscribe: %d, subscribers %d", g.Status, subscriberCount(t, s))
			}
			res, err := http.Post(unsub, "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusOK || res.Header.Get("Cache-Control") != "no-store" {
				t.Fatalf("one-click unsubscribe: %d, Cache-Control %q", res.StatusCode, res.Header.Get("Cache-Control"))
			}
			if n := subscriberCount(t, s); n != 0 {
				t.Fatalf("%d subscribers after unsubscribing, want 0: the address must be gone", n)
			}
			if r := stranger.Get(prefs); r.Status != http.StatusNotFound {
				t.Errorf("preferences after unsubscribing: %d, want 404", r.Status)
			}
		})
	}
}

// The sign-up answers the same for a new, a waiting and a subscribed
// address; the honeypot pretends; bad input is a clear 422 and writes
// nothing.
func TestPublicSubscribeAnswersAndBadInput(t *testing.T) {
	for _, engine := range modelstest.Engines {
		t.Run(string(engine), func(t *testing.T) {
			s, mail, _ := startWithMail(t, engine)
			visitor := s.NewClientFrom(t, "127.0.15.3")
			form := func(email string) url.Values { return url.Values{"email": {email}, "scope": {"all"}} }

			newAnswer := subscribeForm(visitor, form("a@example.com"))
			pendingAnswer := subscribeForm(visitor, form("a@example.com"))
			waitMailTo(t, mail, "a@example.com", 1)
			subs, err := s.Store.Subscribers(t.Context(), models.SubscriberFilter{})
			modelstest.Fatal(t, err, "subscribers")
			if len(subs) != 1 {
				t.Fatalf("%d subscribers, want 1", len(subs))
			}
			// Confirm through the store's own link, then ask again.
			msg := mailsTo(mail.Messages(), "a@example.com")[0]
			token := linkAfter(t, msg.Text, "/subscriptions/confirm/")
			_, err = s.Store.ConfirmSubscription(t.Context(), token[strings.LastIndexByte(token, '/')+1:])
			modelstest.Fatal(t, err, "confirm")
			activeAnswer := subscribeForm(visitor, form("a@example.com"))
			for name, r := range map[string]webtest.Response{"new": newAnswer, "pending": pendingAnswer, "active": activeAnswer} {
				if r.Status != http.StatusOK || !strings.Contains(r.Body, sentText) || strings.Contains(r.Body, "a@example.com") {
					t.Errorf("%s address: %d, want 200 with %q and no address", name, r.Status, sentText)
				}
			}
			if stripCSRF(newAnswer.Body) != stripCSRF(pendingAnswer.Body) || stripCSRF(newAnswer.Body) != stripCSRF(activeAnswer.Body) {
				t.Error("the answers to a new, a pending and an active address differ")
			}
			time.Sleep(700 * time.Millisecond)
			if n := len(mailsTo(mail.Messages(), "a@example.com")); n != 1 {
				t.Errorf("%d confirmation e-mails, want 1 (one an hour; none once subscribed)", n)
			}

			// Honeypot: the same answer, nothing written, nothing sent.
			bot := form("bot@example.com")
			bot.Set("website", "http://spam.example")
			if r := subscribeForm(visitor, bot); r.Status != http.StatusOK || !strings.Contains(r.Body, sentText) {
				t.Errorf("honeypot: %d, want the usual answer", r.Status)
			}

			// Another address: every sign-up counts against the IP's limit.
			visitor = s.NewClientFrom(t, "127.0.15.8")
			for name, email := range map[string]string{
				"NUL":           "a\x00b@example.com",
				"invalid UTF-8": "a\xffb@example.com",
				"CR/LF":         "x@example.com\r\nBcc: victim@example.com",
				"300 chars":     strings.Repeat("a", 288) + "@example.com",
				"no domain":     "nobody",
				"display name":  "Eve <eve@example.com>",
				"empty":         "",
			} {
				r := subscribeForm(visitor, form(email))
				if r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, `role="alert"`) {
					t.Errorf("%s: %d, want 422 with a message", name, r.Status)
				}
			}
			if r := subscribeForm(visitor, url.Values{"email": {"c@example.com"}, "scope": {"some"}, "component": {"x1"}}); r.Status != http.StatusUnprocessableEntity {
				t.Errorf("bad component id: %d, want 422", r.Status)
			}
			if n := subscriberCount(t, s); n != 1 {
				t.Errorf("%d subscribers after the honeypot and bad input, want 1", n)
			}
			time.Sleep(500 * time.Millisecond)
			if n := len(mail.Messages()); n != 1 {
				t.Errorf("%d e-mails sent, want 1", n)
			}
		})
	}
}

// stripCSRF drops the form token, the only part of two answers that may
// differ.
func stripCSRF(body string) string {
	i := strings.Index(body, `name="_csrf" value="`)
	if i < 0 {
		return body
	}
	j := strings.Index(body[i+20:], `"`)
	return body[:i] + body[i+20+j:]
}

// Forged, used and expired links are clear 4xx pages that change nothing.
func TestPublicSubscriptionLinks(t *testing.T) {
	for _, engine := range modelstest.Engines {
		t.Run(string(engine), func(t *testing.T) {
			clock := modelstest.NewClock(time.Now().UTC())
			mail := smtptest.StartPlain(t)
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			store := modelstest.OpenWith(t, engine, models.Options{BaseURL: "http://" + ln.Addr().String(), Now: clock.Now})
			s := webtest.StartWith(t, webtest.Options{Store: store, Listener: ln, Configure: func(c *web.Config) {
				c.SMTPURL, c.SMTPFrom = mail.URL(), "status@example.com"
			}})
			visitor := s.NewClientFrom(t, "127.0.15.4")
			if r := subscribeForm(visitor, url.Values{"email": {"late@example.com"}, "scope": {"all"}}); r.Status != http.StatusOK {
				t.Fatalf("sign-up: %d", r.Status)
			}
			msg := waitMailTo(t, mail, "late@example.com", 1)[0]
			confirm := linkAfter(t, msg.Text, "/subscriptions/confirm/")
			confirm = confirm[strings.Index(confirm, "/subscriptions/"):]
			forged := "/subscriptions/confirm/" + strings.Repeat("A", 43)
			for _, p := range []string{forged, "/subscriptions/" + strings.Repeat("B", 43), "/subscriptions/" + strings.Repeat("C", 43) + "/unsubscribe"} {
				if r := visitor.Post(p, url.Values{"List-Unsubscribe": {"One-Click"}}); r.Status != http.StatusNotFound || r.Header.Get("Cache-Control") != "no-store" {
					t.Errorf("POST %s: %d (Cache-Control %q), want 404 no-store", p, r.Status, r.Header.Get("Cache-Control"))
				}
			}
			if r := visitor.Get("/subscriptions/" + strings.Repeat("B", 43)); r.Status != http.StatusNotFound {
				t.Errorf("forged preferences link: %d, want 404", r.Status)
			}
			clock.Add(models.ConfirmValidity + time.Minute)
			if r := visitor.Post(confirm, nil); r.Status != http.StatusGone || !strings.Contains(r.Body, "expired") {
				t.Errorf("expired link: %d, want 410\n%s", r.Status, r.Body)
			}
			subs, err := s.Store.Subscribers(t.Context(), models.SubscriberFilter{})
			modelstest.Fatal(t, err, "subscribers")
			if len(subs) != 1 || subs[0].State != models.SubscriberPending {
				t.Errorf("after forged and expired links: %+v, want one pending subscriber", subs)
			}
		})
	}
}

// Sign-ups per client IP are limited; another IP is not.
func TestPublicSubscribeRateLimit(t *testing.T) {
	for _, engine := range modelstest.Engines {
		t.Run(string(engine), func(t *testing.T) {
			s, _, _ := startWithMail(t, engine)
			flood := s.NewClientFrom(t, "127.0.15.5")
			for i := range 10 {
				if r := subscribeForm(flood, url.Values{"email": {fmt.Sprintf("n%d@example.com", i)}, "scope": {"all"}}); r.Status != http.StatusOK {
					t.Fatalf("sign-up %d: %d", i, r.Status)
				}
			}
			r := subscribeForm(flood, url.Values{"email": {"n10@example.com"}, "scope": {"all"}})
			if r.Status != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" {
				t.Fatalf("11th sign-up from one IP: %d, Retry-After %q, want 429 with Retry-After", r.Status, r.Header.Get("Retry-After"))
			}
			if n := subscriberCount(t, s); n != 10 {
				t.Errorf("%d subscribers, want 10", n)
			}
			other := s.NewClientFrom(t, "127.0.15.6")
			if r := subscribeForm(other, url.Values{"email": {"n10@example.com"}, "scope": {"all"}}); r.Status != http.StatusOK {
				t.Errorf("another IP: %d, want 200", r.Status)
			}
		})
	}
}

// Without SMTP, /subscribe offers the feeds and no form, and the POST is
// refused.
func TestPublicSubscribeWithoutSMTP(t *testing.T) {
	s := webtest.Start(t, models.SQLite)
	c := s.NewClientFrom(t, "127.0.15.7")
	r := c.Get("/subscribe")
	if r.Status != http.StatusOK || strings.Contains(r.Body, `name="email"`) || !strings.Contains(r.Body, `href="/history.atom"`) {
		t.Fatalf("/subscribe without SMTP: %d\n%s", r.Status, r.Body)
	}
	if r := c.Post("/subscribe", url.Values{"email": {"a@example.com"}}); r.Status/100 != 4 {
		t.Errorf("POST /subscribe without SMTP: %d, want 4xx", r.Status)
	}
}
