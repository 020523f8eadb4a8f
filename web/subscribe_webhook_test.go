package web_test

import (
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
	"github.com/heraldstatus/herald/web"
	"github.com/heraldstatus/herald/web/webtest"
)

// newTLSReceiver is newReceiver over HTTPS: visitors' webhook URLs are
// https only.
func newTLSReceiver(t *testing.T, status int) *receiver {
	t.Helper()
	r := &receiver{status: status, seen: make(chan struct{}, 100)}
	r.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got = append(r.got, receivedRequest{Header: req.Header.Clone(), Body: string(b)})
		status := r.status
		r.mu.Unlock()
		r.seen <- struct{}{}
		w.WriteHeader(status)
	}))
	r.StartTLS()
	t.Cleanup(r.Close)
	return r
}

// receiverTLS trusts the certificate every httptest TLS server shares.
func receiverTLS() *tls.Config {
	probe := httptest.NewTLSServer(http.NotFoundHandler())
	defer probe.Close()
	return probe.Client().Transport.(*http.Transport).TLSClientConfig
}

// startWithHooks serves Herald, without SMTP, able to reach httptest TLS
// receivers, its links pointing at itself.
func startWithHooks(t *testing.T, engine models.Engine, configure func(*web.Config)) (*webtest.Server, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	store := modelstest.OpenWith(t, engine, models.Options{BaseURL: base})
	tlsConfig := receiverTLS()
	s := webtest.StartWith(t, webtest.Options{Store: store, Listener: ln, Configure: func(c *web.Config) {
		c.ReceiverTLS = tlsConfig
		if configure != nil {
			configure(c)
		}
	}})
	return s, base
}

// waitRequests waits until r has n requests.
func waitRequests(t *testing.T, r *receiver, n int) []receivedRequest {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if got := r.requests(); len(got) >= n {
			return got
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%d requests, want %d", len(r.requests()), n)
	return nil
}

var (
	secretRE = regexp.MustCompile(`id="signing-secret"[^>]*>(whsec_[A-Za-z0-9+/=]+)<`)
	manageRE = regexp.MustCompile(`id="manage-link">([^<]+)<`)
)

// subscribeWebhook signs url up through the form and returns the secret
// and the manage link's path, read from the answer that shows them once.
func subscribeWebhook(t *testing.T, c *webtest.Client, base string, form url.Values) (string, string) {
	t.Helper()
	r := c.Submit("/subscribe", "/subscribe/webhook", form)
	checkPrivate(t, "POST /subscribe/webhook", r)
	secret, manage := secretRE.FindStringSubmatch(r.Body), manageRE.FindStringSubmatch(r.Body)
	if r.Status != http.StatusOK || secret == nil || manage == nil || !strings.HasPrefix(manage[1], base+"/subscriptions/") {
		t.Fatalf("webhook sign-up: %d, no secret or manage link\n%s", r.Status, r.Body)
	}
	return secret[1], strings.TrimPrefix(manage[1], base)
}

// checkHookSignature fails unless req is signed with secret both ways.
func checkHookSignature(t *testing.T, req receivedRequest, secret string) {
	t.Helper()
	h := req.Header
	if h.Get("X-Webhook-Signature") != hmacHex(secret, req.Body) ||
		!strings.Contains(h.Get("webhook-signature"), standardSignature(t, secret, h.Get("webhook-id"), h.Get("webhook-timestamp"), req.Body)) {
		t.Errorf("%s is not signed with the secret shown", h.Get("X-Webhook-Event"))
	}
}

// TestPublicWebhookSubscription: a visitor subscribes a webhook from
// /subscribe (no SMTP configured), gets the secret once and a manage
// link; the verification arrives signed with it; once answered 2xx the
// subscription shows verified and an incident arrives; the subscription
// never shows as a channel in the admin or the API; the manage page
// changes components and unsubscribes, which deletes it all.
func TestPublicWebhookSubscription(t *testing.T) {
	for _, engine := range modelstest.Engines {
		t.Run(string(engine), func(t *testing.T) {
			s, base := startWithHooks(t, engine, nil)
			admin := s.SetUp(t)
			_, reader := createToken(t, admin, "Reader", models.ScopeRead)
			api := addComponent(t, s, "API", models.StatusOperational)
			addComponent(t, s, "Website", models.StatusOperational)
			rc := newTLSReceiver(t, http.StatusNoContent)
			visitor := s.NewClientFrom(t, "127.0.16.1")

			page := visitor.Get("/subscribe")
			for _, want := range []string{`action="/subscribe/webhook"`, `name="url"`, `id="hook-website"`, `id="hook-c-` + fmt.Sprint(api) + `"`} {
				if !strings.Contains(page.Body, want) {
					t.Errorf("/subscribe without SMTP lacks %s", want)
				}
			}
			if r := visitor.Post("/subscribe/webhook", url.Values{"url": {rc.URL + "/hook"}, "scope": {"all"}}); r.Status != http.StatusForbidden {
				t.Errorf("without the CSRF token: %d, want 403", r.Status)
			}

			secret, manage := subscribeWebhook(t, visitor, base, url.Values{"url": {rc.URL + "/hook"}, "scope": {"all"}})
			got := waitRequests(t, rc, 1)
			if got[0].Header.Get("X-Webhook-Event") != string(models.EventSubscriptionVerification) {
				t.Fatalf("first request %s, want the verification", got[0].Header.Get("X-Webhook-Event"))
			}
			checkHookSignature(t, got[0], secret)
			deadline := time.Now().Add(5 * time.Second)
			for !strings.Contains(visitor.Get(manage).Body, "Verified") {
				if time.Now().After(deadline) {
					t.Fatalf("the manage page never says verified:\n%s", visitor.Get(manage).Body)
				}
				time.Sleep(50 * time.Millisecond)
			}
			if strings.Contains(visitor.Get(manage).Body, secret) {
				t.Error("the manage page shows the secret again")
			}

			// Not a channel of the admin's, anywhere.
			for _, path := range []string{"/admin/channels", "/admin"} {
				if r := admin.Get(path); r.Status != http.StatusOK || strings.Contains(r.Body, "Webhook subscriber") || strings.Contains(r.Body, rc.URL) {
					t.Errorf("%s shows the webhook subscriber (%d)", path, r.Status)
				}
			}
			if r := admin.Get("/admin"); !strings.Contains(r.Body, `<p class="pad" id="webhook-subscriber-count"><strong>1</strong> subscriber receives notices by webhook.</p>`) {
				t.Error("the dashboard does not count the webhook subscriber")
			}
			// Its delivery log is readable (the channel's page, read
			// only, without the visitor's secret); nothing else is.
			subs, err := s.Store.Subscribers(t.Context(), models.SubscriberFilter{})
			modelstest.Fatal(t, err, "subscribers")
			chID, ok, err := s.Store.SubscriberChannelID(t.Context(), subs[0].ID)
			if err != nil || !ok {
				t.Fatalf("SubscriberChannelID: %v %v", ok, err)
			}
			if r := admin.Get(channelURL(chID)); r.Status != http.StatusOK || !strings.Contains(r.Body, `id="subscriber-channel"`) ||
				strings.Contains(r.Body, secret) || strings.Contains(r.Body, "/edit") || !strings.Contains(r.Body, string(models.EventSubscriptionVerification)) {
				t.Errorf("the subscriber channel's log: %d", r.Status)
			}
			// The subscriber's own admin page shows the masked receiver
			// and links to that log.
			if r := admin.Get(fmt.Sprintf("/admin/subscribers/%d", subs[0].ID)); r.Status != http.StatusOK ||
				!strings.Contains(r.Body, fmt.Sprintf(`href="%s"`, channelURL(chID))) || strings.Contains(r.Body, secret) {
				t.Errorf("the webhook subscriber's page: %d, no link to its log\n%.3000s", r.Status, r.Body)
			}
			for _, path := range []string{"/edit", "/delete", "/rotate"} {
				if r := admin.Get(channelURL(chID) + path); r.Status != http.StatusNotFound {
					t.Errorf("GET %s of the subscriber channel: %d, want 404", path, r.Status)
				}
			}
			if r := admin.Submit(channelURL(chID), channelURL(chID)+"/delete", nil); r.Status != http.StatusNotFound {
				t.Errorf("delete the subscriber channel: %d, want 404", r.Status)
			}
			if r := apiCall(t, s, reader, http.MethodGet, fmt.Sprintf("/api/v1/channels/%d", chID), ""); r.Status != http.StatusNotFound {
				t.Errorf("GET /api/v1/channels/%d: %d, want 404", chID, r.Status)
			}
			list := apiCall(t, s, reader, http.MethodGet, "/api/v1/channels", "")
			var chans []json.RawMessage
			if err := json.Unmarshal([]byte(list.Body), &chans); list.Status != http.StatusOK || err != nil || len(chans) != 0 {
				t.Errorf("/api/v1/channels: %d %s", list.Status, list.Body)
			}

			_, err = s.Store.CreateIncident(t.Context(), models.DefaultPageID, models.IncidentInput{Title: "API down", Status: models.IncidentInvestigating,
				Message: "Looking.", Components: map[int64]models.ComponentStatus{api: models.StatusMajorOutage}})
			modelstest.Fatal(t, err, "incident")
			got = waitRequests(t, rc, 2)
			if got[1].Header.Get("X-Webhook-Event") != string(models.EventIncidentCreated) {
				t.Errorf("second request %s, want incident.created", got[1].Header.Get("X-Webhook-Event"))
			}
			checkHookSignature(t, got[1], secret)

			// The manage page: components, then unsubscribe.
			if r := visitor.Post(manage, url.Values{"scope": {"some"}, "component": {fmt.Sprint(api)}}); r.Status != http.StatusOK || !strings.Contains(r.Body, "Saved.") {
				t.Errorf("save components: %d", r.Status)
			}
			subs, err = s.Store.Subscribers(t.Context(), models.SubscriberFilter{})
			modelstest.Fatal(t, err, "subscribers")
			if len(subs) != 1 || subs[0].AllComponents || len(subs[0].Components) != 1 || subs[0].Kind != models.SubscriberWebhook {
				t.Fatalf("subscribers %+v", subs)
			}
			if r := visitor.Get(manage + "/unsubscribe"); r.Status != http.StatusOK || !strings.Contains(r.Body, "webhook") {
				t.Errorf("unsubscribe page: %d", r.Status)
			}
			if r := visitor.Post(manage+"/unsubscribe", nil); r.Status != http.StatusOK || !strings.Contains(r.Body, "You are unsubscribed") {
				t.Errorf("unsubscribe: %d", r.Status)
			}
			if n := subscriberCount(t, s); n != 0 {
				t.Errorf("%d subscribers after unsubscribing", n)
			}
			if _, ok, _ := s.Store.SubscriberChannelID(t.Context(), subs[0].ID); ok {
				t.Error("the channel outlived the subscription")
			}
			if r := visitor.Get(manage); r.Status != http.StatusNotFound {
				t.Errorf("manage link after unsubscribing: %d, want 404", r.Status)
			}
		})
	}
}

// TestPublicWebhookSubscribeBadInput: what no webhook URL may be is a
// clear 422 on the form, and nothing is written.
func TestPublicWebhookSubscribeBadInput(t *testing.T) {
	for _, engine := range modelstest.Engines {
		t.Run(string(engine), func(t *testing.T) {
			// The admin allowed no loopback address here: as in production.
			s, _ := startWithHooks(t, engine, func(c *web.Config) { c.WebhookAllowCIDRs = nil })
			comp := addComponent(t, s, "API", models.StatusOperational)
			cases := []struct {
				name, url, want string
				extra           url.Values
			}{
				{"empty", "", "Enter the URL", nil},
				{"http", "http://hooks.example.com/x", "https://", nil},
				{"javascript", "javascript:alert(1)", "https://", nil},
				{"ftp", "ftp://hooks.example.com/x", "https://", nil},
				{"CR LF", "https://hooks.example.com/x\r\nX-Evil: 1", "line breaks", nil},
				{"NUL", "https://hooks.example.com/\x00x", "Enter a URL", nil},
				{"invalid UTF-8", "https://hooks.example.com/\xff", "Enter a URL", nil},
				{"10 KB", "https://hooks.example.com/" + strings.Repeat("a", 10<<10), "too long", nil},
				{"user:pass", "https://u:p@hooks.example.com/x", "user name", nil},
				{"loopback", "https://127.0.0.1:8443/x", "loopback", nil},
				{"localhost", "https://localhost/x", "loopback", nil},
				{"private", "https://10.1.2.3/x", "private", nil},
				{"private v6", "https://[fd00::1]/x", "private", nil},
				{"metadata", "https://169.254.169.254/latest", "link-local", nil},
				{"unknown component", "https://203.0.113.9/x", "Choose components", url.Values{"scope": {"some"}, "component": {"99999"}}},
				{"no component", "https://203.0.113.9/x", "at least one", url.Values{"scope": {"some"}}},
				{"bad component", "https://203.0.113.9/x", "Choose components", url.Values{"scope": {"some"}, "component": {fmt.Sprint(comp) + "x"}}},
			}
			for i, tc := range cases {
				c := s.NewClientFrom(t, fmt.Sprintf("127.0.17.%d", i+1))
				form := url.Values{"url": {tc.url}, "scope": {"all"}}
				for k, v := range tc.extra {
					form[k] = v
				}
				r := c.Submit("/subscribe", "/subscribe/webhook", form)
				if r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, tc.want) || strings.Contains(r.Body, "whsec_") {
					t.Errorf("%s: %d, want 422 saying %q\n%.300s", tc.name, r.Status, tc.want, errorLine(r.Body))
				}
				if strings.Contains(r.Body, "\x00") || strings.Contains(r.Body, "X-Evil: 1\r") {
					t.Errorf("%s: the answer echoes a control character", tc.name)
				}
			}
			if n := subscriberCount(t, s); n != 0 {
				t.Errorf("%d subscribers written", n)
			}
			if n, _ := s.Store.CountDeliveries(t.Context(), models.DeliveryFilter{}); n != 0 {
				t.Errorf("%d deliveries written", n)
			}

			// A bot filling the hidden field: an answer like any, nothing written.
			bot := s.NewClientFrom(t, "127.0.18.1")
			if r := bot.Submit("/subscribe", "/subscribe/webhook", url.Values{"url": {"https://203.0.113.9/x"}, "scope": {"all"}, "website": {"spam"}}); r.Status != http.StatusOK {
				t.Errorf("honeypot: %d, want 200", r.Status)
			}
			if n := subscriberCount(t, s); n != 0 {
				t.Errorf("the honeypot wrote %d subscribers", n)
			}
			// One client IP: signupsPerIP sign-ups an hour, e-mail and webhook together.
			flood := s.NewClientFrom(t, "127.0.18.2")
			var last int
			for range 11 {
				last = flood.Submit("/subscribe", "/subscribe/webhook", url.Values{"url": {"http://x"}, "scope": {"all"}}).Status
			}
			if last != http.StatusTooManyRequests {
				t.Errorf("the 11th sign-up from one IP: %d, want 429", last)
			}
		})
	}
}

// errorLine is the form's error, for failure messages.
func errorLine(body string) string {
	if i := strings.Index(body, `id="webhook-error"`); i >= 0 {
		return body[i:min(len(body), i+300)]
	}
	return body
}
