package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
)

// TestPrivatePageEmailLinks: with SMTP set up (a real SMTP test server),
// a private page open to an e-mail domain offers "Send me a link"; an
// address at the domain gets a single-use link, any other address
// nothing, and both get the same answer; opening the link shows a button
// (mail scanners do not use it up), pressing it opens the page; a used
// link or another page's is a 410; bad addresses are refused with 422,
// never echoed as markup; a client asking too often is told to wait
// (429). On both engines.
func TestPrivatePageEmailLinks(t *testing.T) {
	for _, e := range modelstest.Engines {
		t.Run(string(e), func(t *testing.T) {
			srv, mail, base := startWithMail(t, e)
			admin := srv.SetUp(t)
			ctx := context.Background()
			staff := modelstest.InsertPage(t, srv.Store, "staff", "STAFF-Status")
			modelstest.InsertPage(t, srv.Store, "other", "OTHER-Status")
			_, err := srv.Store.CreateComponent(ctx, staff.ID, models.ComponentInput{Name: "STAFF-API", Visible: true, Status: models.StatusOperational})
			modelstest.Fatal(t, err, "component")
			if _, err := srv.Store.SetPageAccess(ctx, staff.ID, models.PageAccessInput{EmailDomains: []string{"example.com"}}); err == nil {
				t.Fatal("e-mail domains alone without e-mail links were accepted as a way in")
			}
			_, err = srv.Store.SetPageAccess(ctx, staff.ID, models.PageAccessInput{EmailDomains: []string{"example.com"}, EmailLinks: true})
			modelstest.Fatal(t, err, "make staff private to example.com")
			_, err = srv.Store.SetPageAccess(ctx, 3, models.PageAccessInput{Team: true})
			modelstest.Fatal(t, err, "make other private")

			// With e-mail set up, Settings → Access offers the domains.
			admin.Submit("/admin", "/admin/pages/current", url.Values{"page_id": {fmt.Sprint(staff.ID)}})
			if r := admin.Get("/admin/settings"); !strings.Contains(r.Body, `name="email_domains"`) || !strings.Contains(r.Body, "example.com") {
				t.Errorf("Settings → Access without the e-mail domains:\n%.3000s", r.Body)
			}

			v := visitor{peer: "127.0.0.21"}
			status, hd, body := v.do(t, http.MethodGet, base, "", "/s/staff/", nil)
			m := csrfFieldRE.FindStringSubmatch(body)
			if status != http.StatusUnauthorized || m == nil || !strings.Contains(body, `action="/s/staff/access/link"`) ||
				strings.Contains(body, `name="password"`) || strings.Contains(body, "STAFF-") {
				t.Fatalf("the sign-in form: %d\n%s", status, body)
			}
			v = v.with("Cookie", cookiesOf(hd))
			ask := func(v visitor, email string) (int, http.Header, string) {
				return v.do(t, http.MethodPost, base, "", "/s/staff/access/link", url.Values{"_csrf": {m[1]}, "email": {email}})
			}
			s1, _, known := ask(v, "Ann@Example.com")
			s2, _, unknown := ask(v, "eve@elsewhere.example")
			if s1 != http.StatusOK || s2 != http.StatusOK || known != unknown || !strings.Contains(known, "Check your inbox") {
				t.Errorf("answers differ: %d and %d\n%s\n----\n%s", s1, s2, known, unknown)
			}
			msgs := waitMailTo(t, mail, "ann@example.com", 1)
			link := linkAfter(t, msgs[0].Text, base+"/s/staff/access/link/hal_")
			if strings.Contains(msgs[0].Text, "STAFF") {
				t.Errorf("the e-mail names the page:\n%s", msgs[0].Text)
			}
			time.Sleep(300 * time.Millisecond)
			if n := len(mail.Messages()); n != 1 {
				t.Errorf("%d e-mails sent, want 1 (none to the other domain)", n)
			}
			path := strings.TrimPrefix(link, base)

			// Opening the link (as a mail scanner would) uses nothing up.
			for range 2 {
				if status, _, body := v.do(t, http.MethodGet, base, "", path, nil); status != http.StatusOK || !strings.Contains(body, "Open the page") {
					t.Fatalf("GET the link: %d\n%s", status, body)
				}
			}
			// Another page's address for the token is refused.
			other := strings.Replace(path, "/s/staff/", "/s/other/", 1)
			if status, _, _ := v.do(t, http.MethodPost, base, "", other, url.Values{"_csrf": {m[1]}}); status != http.StatusGone {
				t.Errorf("the link on another page: %d, want 410", status)
			}
			status, hd, _ = v.do(t, http.MethodPost, base, "", path, url.Values{"_csrf": {m[1]}})
			if status != http.StatusSeeOther || hd.Get("Location") != "/s/staff/" {
				t.Fatalf("use the link: %d to %q", status, hd.Get("Location"))
			}
			pageCookie := cookiesOf(hd)
			if status, _, body := (visitor{}).with("Cookie", pageCookie).do(t, http.MethodGet, base, "", "/s/staff/", nil); status != http.StatusOK || !strings.Contains(body, "STAFF-API") {
				t.Errorf("the page with the link's cookie: %d", status)
			}
			if status, _, _ := v.do(t, http.MethodPost, base, "", path, url.Values{"_csrf": {m[1]}}); status != http.StatusGone {
				t.Errorf("the link used twice: %d, want 410", status)
			}
			// Taking the domain off the list signs the visitor out.
			_, err = srv.Store.SetPageAccess(ctx, staff.ID, models.PageAccessInput{Team: true, EmailLinks: true})
			modelstest.Fatal(t, err, "remove the domain")
			waitStatus(t, visitor{}.with("Cookie", pageCookie), base, "/s/staff/", http.StatusUnauthorized, "the link's cookie after its domain went")

			// Bad addresses: 422, not echoed as markup. A new client, so
			// the rate limit below starts from zero.
			_, err = srv.Store.SetPageAccess(ctx, staff.ID, models.PageAccessInput{EmailDomains: []string{"example.com"}, EmailLinks: true})
			modelstest.Fatal(t, err, "the domain back")
			bad := visitor{peer: "127.0.0.22"}
			_, hd, body = bad.do(t, http.MethodGet, base, "", "/s/staff/", nil)
			m = csrfFieldRE.FindStringSubmatch(body)
			bad = bad.with("Cookie", cookiesOf(hd))
			for i, email := range []string{"", "nul\x00@example.com", "\xff\xfe@example.com", `<script>alert(1)</script>@example.com`, strings.Repeat("a", 300) + "@example.com"} {
				status, _, body := ask(bad, email)
				if i < 4 && status != http.StatusUnprocessableEntity {
					t.Errorf("email %.30q: status %d, want 422", email, status)
				}
				if strings.Contains(body, "<script>alert") {
					t.Errorf("email %.30q echoed as markup", email)
				}
			}
			if status, hd, _ := ask(bad, "ann@example.com"); status != http.StatusTooManyRequests || hd.Get("Retry-After") == "" {
				t.Errorf("the sixth request in 15 minutes: %d, Retry-After %q, want 429", status, hd.Get("Retry-After"))
			}
		})
	}
}
