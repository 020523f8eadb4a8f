package web_test

import (
	"html"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
	"github.com/heraldstatus/herald/notify/smtptest"
	"github.com/heraldstatus/herald/web"
	"github.com/heraldstatus/herald/web/webtest"
)

// TestSubscriberSecretsStayOutOfLogs walks everything that handles a
// subscriber's address or link tokens (sign-up, refused sign-ups, the
// confirmation e-mail and link, preferences, an incident's e-mail, one-click
// unsubscribe, the admin's search, import and remove, the API's create and
// list) with the server's and the engine's log captured: no address and
// no link token is in it, on both engines.
func TestSubscriberSecretsStayOutOfLogs(t *testing.T) {
	for _, engine := range modelstest.Engines {
		t.Run(string(engine), func(t *testing.T) {
			mail := smtptest.StartPlain(t)
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			modelstest.Fatal(t, err, "listen")
			base := "http://" + ln.Addr().String()
			logs := &lockedBuffer{}
			store := modelstest.OpenWith(t, engine, models.Options{BaseURL: base})
			s := webtest.StartWith(t, webtest.Options{Store: store, Listener: ln, Log: logs, Configure: func(c *web.Config) {
				c.SMTPURL, c.SMTPFrom = mail.URL(), "Acme status <status@example.com>"
			}})
			admin := s.SetUp(t)
			api := addComponent(t, s, "API", models.StatusOperational)
			visitor := s.NewClientFrom(t, "127.0.16.1")

			const addr = "private.reader@example.com"
			secrets := []string{addr, "bad..dots@example.com", "imported.one@example.org", "api.made@example.net"}
			if r := subscribeForm(visitor, url.Values{"email": {addr}, "scope": {"all"}}); r.Status != http.StatusOK {
				t.Fatalf("sign-up: %d", r.Status)
			}
			if r := subscribeForm(visitor, url.Values{"email": {"bad..dots@example.com\r\nBcc: x@example.com"}, "scope": {"all"}}); r.Status != http.StatusUnprocessableEntity {
				t.Errorf("header injection: %d, want 422", r.Status)
			}
			confirm := strings.TrimPrefix(linkAfter(t, waitMailTo(t, mail, addr, 1)[0].Text, base+"/subscriptions/confirm/"), base)
			token := strings.TrimPrefix(confirm, "/subscriptions/confirm/")
			secrets = append(secrets, token)
			visitor.Get(confirm)
			if r := visitor.Post(confirm, nil); r.Status != http.StatusOK {
				t.Fatalf("confirm: %d", r.Status)
			}
			_, err = s.Store.CreateIncident(t.Context(), models.DefaultPageID, models.IncidentInput{Title: "API errors",
				Status: models.IncidentInvestigating, Message: "Looking.", Components: map[int64]models.ComponentStatus{api: models.StatusMajorOutage}})
			modelstest.Fatal(t, err, "incident")
			notice := waitMailTo(t, mail, addr, 2)[1]
			manageToken := strings.Split(strings.TrimPrefix(linkAfter(t, notice.Text, base+"/subscriptions/"), base+"/subscriptions/"), "/")[0]
			secrets = append(secrets, manageToken)
			prefs := "/subscriptions/" + manageToken
			if r := visitor.Get(prefs); r.Status != http.StatusOK {
				t.Fatalf("preferences: %d", r.Status)
			}
			visitor.Get(prefs + "/unsubscribe")

			// The admin's side.
			admin.Get("/admin/subscribers?q=" + url.QueryEscape(addr))
			res := upload(t, admin, "moving.csv", []byte("email\nimported.one@example.org\nnot an address\n"), true)
			if m := importDataRE.FindStringSubmatch(res.Body); m != nil {
				admin.Submit("/admin/subscribers/import", "/admin/subscribers/import", url.Values{"confirm": {"1"}, "data": {html.UnescapeString(m[1])}})
			} else {
				t.Fatalf("import dry run: %d", res.Status)
			}
			_, tok := createToken(t, admin, "subscribers", models.ScopeSubscribersRead, models.ScopeSubscribersWrite)
			if r := apiCall(t, s, tok, http.MethodPost, "/api/v1/subscribers", `{"email":"api.made@example.net"}`); r.Status != http.StatusCreated {
				t.Errorf("API create: %d %s", r.Status, r.Body)
			}
			apiCall(t, s, tok, http.MethodPost, "/api/v1/subscribers", `{"email":"api.made@example.net"}`) // 409
			apiCall(t, s, tok, http.MethodGet, "/api/v1/subscribers?q=api.made", "")

			// One-click unsubscribe, as a mail provider sends it.
			if r := visitor.Post(prefs+"/unsubscribe", url.Values{"List-Unsubscribe": {"One-Click"}}); r.Status != http.StatusOK {
				t.Errorf("one-click unsubscribe: %d", r.Status)
			}

			if n := subscriberCount(t, s); n != 2 {
				t.Errorf("%d subscribers after unsubscribing, want the 2 the admin added", n)
			}
			out := logs.String()
			if !strings.Contains(out, "/subscriptions/:token") {
				t.Fatalf("the log shows no subscription request at all:\n%s", out)
			}
			for _, secret := range secrets {
				if strings.Contains(strings.ToLower(out), strings.ToLower(secret)) {
					t.Errorf("the log holds %q", secret)
				}
			}
		})
	}
}
