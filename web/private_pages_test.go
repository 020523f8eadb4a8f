package web_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
	"github.com/heraldstatus/herald/web"
	"github.com/heraldstatus/herald/web/webtest"
	"github.com/labstack/echo/v4"
)

// visitor is one way of asking a Herald: from a loopback address (peer,
// "" for 127.0.0.1), with headers (Cookie, X-Forwarded-For).
type visitor struct {
	peer   string
	header http.Header
	// query is added to every path check asks for (a feed token).
	query string
}

// do sends method base+path with host as the Host header ("" for the
// server's own), following no redirect.
func (v visitor) do(t *testing.T, method, base, host, path string, form url.Values) (int, http.Header, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, base+path, body)
	modelstest.Fatal(t, err, "request %s", path)
	if host != "" {
		req.Host = host
	}
	for k, vs := range v.header {
		req.Header[k] = vs
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if method == http.MethodOptions {
		req.Header.Set("Origin", "https://elsewhere.example")
		req.Header.Set("Access-Control-Request-Method", "GET")
	}
	tr := &http.Transport{}
	if v.peer != "" {
		d := &net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(v.peer)}}
		tr.DialContext = d.DialContext
	}
	defer tr.CloseIdleConnections()
	res, err := tr.RoundTrip(req)
	modelstest.Fatal(t, err, "%s %s (Host %s)", method, path, host)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	modelstest.Fatal(t, err, "read %s", path)
	return res.StatusCode, res.Header, string(b)
}

func (v visitor) with(k, val string) visitor {
	h := v.header.Clone()
	if h == nil {
		h = http.Header{}
	}
	h.Set(k, val)
	return visitor{peer: v.peer, header: h, query: v.query}
}

var csrfFieldRE = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// cookiesOf is the Cookie header that sends back the cookies res set.
func cookiesOf(hd http.Header) string {
	var parts []string
	for _, ck := range (&http.Response{Header: hd}).Cookies() {
		if ck.MaxAge >= 0 && ck.Value != "" {
			parts = append(parts, ck.Name+"="+ck.Value)
		}
	}
	return strings.Join(parts, "; ")
}

// pagePassword signs in to the private page at host+prefix with
// password and returns the status of the POST and the page's cookie
// ("name=value"), if one was set.
func pagePassword(t *testing.T, base, host, prefix, password string) (int, string, string) {
	t.Helper()
	var v visitor
	status, hd, body := v.do(t, http.MethodGet, base, host, prefix+"/access", nil)
	m := csrfFieldRE.FindStringSubmatch(body)
	if status != http.StatusUnauthorized || m == nil {
		t.Fatalf("GET %s/access (Host %s): status %d, want 401 with a form\n%.500s", prefix, host, status, body)
	}
	v = v.with("Cookie", cookiesOf(hd))
	status, hd, body = v.do(t, http.MethodPost, base, host, prefix+"/access",
		url.Values{"_csrf": {m[1]}, "password": {password}, "next": {prefix + "/history"}})
	for _, ck := range (&http.Response{Header: hd}).Cookies() {
		if strings.HasPrefix(ck.Name, "herald_page_") {
			if !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != prefix+"/" {
				t.Errorf("access cookie %+v: want HttpOnly, SameSite=Lax, Path %s/", ck, prefix)
			}
			if status != http.StatusSeeOther || hd.Get("Location") != prefix+"/history" {
				t.Errorf("right password: %d to %q, want 303 to %s/history", status, hd.Get("Location"), prefix)
			}
			return status, ck.Name + "=" + ck.Value, body
		}
	}
	return status, "", body
}

// publicRoutes are the routes of a page under /s/:slug, from the running
// server's route table (the same routes serve / on the default page and
// on a page's own host), as "METHOD /path" relative to the page.
func publicRoutes(srv *webtest.Server) []string {
	var out []string
	for _, r := range srv.Routes {
		method, path, _ := strings.Cut(r, " ")
		if rest, ok := strings.CutPrefix(path, "/s/:slug/"); ok {
			if method == echo.RouteNotFound && rest == "*" {
				// The group's catch-all: a path the page does not have.
				method, rest = http.MethodGet, "nothing-here"
			}
			out = append(out, method+" /"+rest)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// fill gives each route's parameters the page's real ids; a route with a
// parameter this test does not know fails the test, so a new route
// cannot go unchecked.
func fill(t *testing.T, route string, p markedPage) []string {
	t.Helper()
	switch {
	case strings.Contains(route, "/incidents/:id"):
		return []string{strings.Replace(route, ":id", fmt.Sprint(p.Incident), 1)}
	case strings.Contains(route, "/maintenance/:id"):
		return []string{strings.Replace(route, ":id", fmt.Sprint(p.Maintenance), 1)}
	case strings.HasSuffix(route, "/access/link/:token"):
		return []string{strings.Replace(route, ":token", "hal_unknown", 1)}
	case strings.HasSuffix(route, "/api/v2/*"):
		var out []string
		for _, name := range []string{"summary", "status", "components", "incidents", "incidents/unresolved",
			"scheduled-maintenances", "scheduled-maintenances/upcoming", "scheduled-maintenances/active"} {
			out = append(out, strings.TrimSuffix(route, "*")+name+".json")
		}
		return out
	case strings.HasSuffix(route, "/history.atom") || strings.HasSuffix(route, "/history.rss") || strings.HasSuffix(route, "/badge.svg"):
		return []string{route, route + fmt.Sprintf("?component=%d", p.Component)}
	case strings.ContainsAny(route, ":*"):
		t.Fatalf("route %s has a parameter this test does not fill", route)
	}
	return []string{route}
}

// marks are the marked strings seedMarkedPage and the page name hold.
func marks(mark string) []string {
	return []string{mark + "-Status", mark + "-Group", mark + "-API", mark + "-described", mark + "-Outage",
		mark + "-message", mark + "-Window", mark + "-work"}
}

// TestPrivatePageAccessRules: every public route of a private page, as
// the server's route table lists them, at /s/{slug}/, on the page's own
// host name, and (the default page made private) at /, answers a visitor
// without access 401 with nothing of the page and the private headers;
// each way in (the password's cookie, a team member's session, an
// allowlisted address through a trusted proxy) opens every route with the
// page's content and the same private headers, never
// Access-Control-Allow-Origin. A cookie of one page opens no other; a new
// password, or the team switch turned off, shuts out the old ways. The
// page's password form refuses wrong passwords with 401, open redirects,
// and locks an address out after 10 failures (429). On both engines.
func TestPrivatePageAccessRules(t *testing.T) {
	for _, e := range modelstest.Engines {
		t.Run(string(e), func(t *testing.T) {
			srv := webtest.StartWith(t, webtest.Options{Engine: e, Configure: func(c *web.Config) {
				// 127.0.0.9 is the reverse proxy; the others are clients.
				c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.9/32")}
			}})
			admin := srv.SetUp(t)
			ctx := context.Background()
			_, member := srv.AddUser(t, "member@example.com", models.RoleViewer)
			teamCookie := member.CookieHeader()

			bravoPage := modelstest.InsertPage(t, srv.Store, "bravo", "BRAVO-Status")
			charliePage := modelstest.InsertPage(t, srv.Store, "charlie", "CHARLIE-Status")
			_, err := srv.Store.UpdatePage(ctx, models.DefaultPageID, models.PageInput{Name: "ALPHA-Status", AccentColor: "blue", TimeZone: "UTC"})
			modelstest.Fatal(t, err, "name the default page")
			alpha := seedMarkedPage(t, srv.Store, models.DefaultPageID, "ALPHA")
			bravo := seedMarkedPage(t, srv.Store, bravoPage.ID, "BRAVO")
			charlie := seedMarkedPage(t, srv.Store, charliePage.ID, "CHARLIE")
			modelstest.Fatal(t, srv.Store.SetPageDomain(ctx, charliePage.ID, "status.charlie.example"), "charlie's domain")
			_, err = srv.Store.SetPageAccess(ctx, bravoPage.ID, models.PageAccessInput{Password: "bravo door password", Team: true, IPAllowlist: []string{"203.0.113.0/24"}})
			modelstest.Fatal(t, err, "make bravo private")
			_, err = srv.Store.SetPageAccess(ctx, charliePage.ID, models.PageAccessInput{Password: "charlie door password", Team: true, IPAllowlist: []string{"203.0.113.0/24"}})
			modelstest.Fatal(t, err, "make charlie private")

			routes := publicRoutes(srv)
			if len(routes) < 15 {
				t.Fatalf("only %d public routes found: %v", len(routes), routes)
			}
			var nobody visitor
			proxied := visitor{peer: "127.0.0.9"}
			all := func(string, string) bool { return true }
			none := func(string, string) bool { return false }
			// A feed token opens the feeds, calendar, badges and JSON.
			feeds := func(method, route string) bool {
				switch route {
				case "/history.atom", "/history.rss", "/maintenance.ics", "/badge.svg", "/api/v2/*":
					return method == http.MethodGet || method == http.MethodHead
				}
				return false
			}

			// check fetches every route of page p at host+prefix as v:
			// granted or not, with the private headers, and nothing of
			// the other pages (nor, refused, of p).
			check := func(label string, v visitor, host, prefix, mark string, p markedPage, grant func(method, route string) bool, others ...string) {
				t.Helper()
				for _, route := range routes {
					method, path, _ := strings.Cut(route, " ")
					if path == "/access" || path == "/access/sign-out" || strings.HasPrefix(path, "/access/link") {
						continue // the ways in: open to all, checked below and in TestPrivatePageEmailLinks
					}
					granted := grant(method, path)
					for _, target := range fill(t, path, p) {
						if v.query != "" {
							sep := "?"
							if strings.Contains(target, "?") {
								sep = "&"
							}
							target += sep + v.query
						}
						var form url.Values
						if method == http.MethodPost {
							form = url.Values{"email": {"x@example.com"}}
						}
						status, hd, body := v.do(t, method, srv.URL, host, prefix+target, form)
						where := fmt.Sprintf("%s: %s %s%s", label, method, prefix, target)
						if prefix == "" && strings.HasPrefix(target, "/nothing-here") {
							// At /, an unknown path is Herald's own 404,
							// which names no page.
							if status != http.StatusNotFound || strings.Contains(body, mark+"-") {
								t.Errorf("%s: status %d, want the plain 404\n%.300s", where, status, body)
							}
							continue
						}
						if hd.Get("Access-Control-Allow-Origin") != "" {
							t.Errorf("%s: Access-Control-Allow-Origin %q on a private page", where, hd.Get("Access-Control-Allow-Origin"))
						}
						if hd.Get("X-Robots-Tag") != "noindex" || !strings.Contains(strings.Join(hd.Values("Vary"), ","), "Cookie") {
							t.Errorf("%s: X-Robots-Tag %q, Vary %q", where, hd.Get("X-Robots-Tag"), hd.Values("Vary"))
						}
						leaks := others
						if !granted {
							leaks = append(slices.Clip(others), mark)
							if status != http.StatusUnauthorized {
								t.Errorf("%s without access: status %d, want 401\n%.300s", where, status, body)
							}
							if cc := hd.Get("Cache-Control"); cc != "no-store" {
								t.Errorf("%s without access: Cache-Control %q, want no-store", where, cc)
							}
						} else {
							want := http.StatusOK
							switch {
							case method == http.MethodOptions:
								want = http.StatusNoContent
							case strings.Contains(target, "/nothing-here"):
								want = http.StatusNotFound
							case strings.Contains(target, "/favicon.ico"):
								want = http.StatusMovedPermanently
							case method == http.MethodPost:
								want = http.StatusForbidden // no CSRF token: past the access check
							}
							if status != want {
								t.Errorf("%s with access: status %d, want %d\n%.300s", where, status, want, body)
							}
							if cc := hd.Get("Cache-Control"); cc != "private, no-cache" {
								t.Errorf("%s with access: Cache-Control %q, want private, no-cache", where, cc)
							}
							if method == http.MethodGet && (path == "/" || path == "/history" || strings.HasSuffix(target, "summary.json") ||
								strings.HasSuffix(target, "/history.atom") || strings.Contains(path, ":id")) && !strings.Contains(body, mark+"-") {
								t.Errorf("%s with access does not show %s:\n%.1000s", where, mark, body)
							}
						}
						for _, other := range leaks {
							for _, m := range marks(other) {
								if strings.Contains(body, m) {
									t.Errorf("%s shows %s:\n%.1500s", where, m, body)
								}
							}
						}
					}
				}
			}

			// Without access, on the page's path, on its host, and with
			// a forged X-Forwarded-For from a peer that is no proxy.
			check("bravo, nobody", nobody, "", "/s/bravo", "BRAVO", bravo, none, "ALPHA", "CHARLIE")
			check("charlie by host, nobody", nobody, "status.charlie.example", "", "CHARLIE", charlie, none, "ALPHA", "BRAVO")
			check("bravo, forged XFF", visitor{peer: "127.0.0.5"}.with("X-Forwarded-For", "203.0.113.5"), "", "/s/bravo", "BRAVO", bravo, none, "ALPHA", "CHARLIE")
			check("bravo, proxied outsider", proxied.with("X-Forwarded-For", "198.51.100.5"), "", "/s/bravo", "BRAVO", bravo, none, "ALPHA", "CHARLIE")
			// The public default page shows nothing of them.
			check0 := func(label, host, path string) {
				status, hd, body := nobody.do(t, http.MethodGet, srv.URL, host, path, nil)
				for _, m := range append(marks("BRAVO"), marks("CHARLIE")...) {
					if strings.Contains(body, m) {
						t.Errorf("%s %s shows %s", label, path, m)
					}
				}
				if status == http.StatusOK && hd.Get("X-Robots-Tag") != "" {
					t.Errorf("%s %s: public page marked %q", label, path, hd.Get("X-Robots-Tag"))
				}
			}
			// Every GET route of the public default page, from the route
			// table, and the private pages' ids on it.
			for _, route := range routes {
				method, path, _ := strings.Cut(route, " ")
				if method != http.MethodGet {
					continue
				}
				for _, target := range fill(t, path, alpha) {
					check0("the public default page", "", target)
					check0("an unknown host", "elsewhere.example", target)
				}
				for _, target := range append(fill(t, path, bravo), fill(t, path, charlie)...) {
					check0("the public default page, a private page's ids", "", target)
				}
			}
			// Another page's ids on a private page are refused before
			// they are looked at.
			for _, path := range []string{fmt.Sprintf("/s/bravo/incidents/%d", charlie.Incident), "/s/bravo/incidents/999999", "/s/bravo/nothing-here"} {
				if status, _, _ := nobody.do(t, http.MethodGet, srv.URL, "", path, nil); status != http.StatusUnauthorized && status != http.StatusNotFound {
					t.Errorf("GET %s without access: status %d", path, status)
				}
			}

			// An unknown sign-in link: 410, naming nothing of the page.
			if status, _, body := nobody.do(t, http.MethodGet, srv.URL, "", "/s/bravo/access/link/hal_nope", nil); status != http.StatusGone || strings.Contains(body, "BRAVO") {
				t.Errorf("an unknown sign-in link: %d\n%.500s", status, body)
			}

			// The 401 page is the password form, naming nothing of the
			// page, offering the password and the team's sign-in.
			status, _, body := nobody.do(t, http.MethodGet, srv.URL, "", "/s/bravo/incidents/"+fmt.Sprint(bravo.Incident), nil)
			if status != http.StatusUnauthorized || !strings.Contains(body, "This status page is private") ||
				!strings.Contains(body, `action="/s/bravo/access"`) || !strings.Contains(body, `name="next" value="/incidents/`) ||
				!strings.Contains(body, "/login?next=%2Fs%2Fbravo%2Fincidents%2F") {
				t.Errorf("the sign-in page: %d\n%s", status, body)
			}
			_, _, jsonBody := nobody.do(t, http.MethodGet, srv.URL, "", "/s/bravo/api/v2/summary.json", nil)
			if jsonBody != `{"error":{"code":"private_page","message":"This status page is private."}}`+"\n" {
				t.Errorf("summary.json without access = %q", jsonBody)
			}

			// Way in 1: the password's cookie, on the path and on the host.
			_, bravoCookie, _ := pagePassword(t, srv.URL, "", "/s/bravo", "bravo door password")
			_, charlieCookie, _ := pagePassword(t, srv.URL, "status.charlie.example", "", "charlie door password")
			if bravoCookie == "" || charlieCookie == "" {
				t.Fatalf("no access cookie: bravo %q, charlie %q", bravoCookie, charlieCookie)
			}
			check("bravo, password", nobody.with("Cookie", bravoCookie), "", "/s/bravo", "BRAVO", bravo, all, "ALPHA", "CHARLIE")
			check("charlie, password", nobody.with("Cookie", charlieCookie), "status.charlie.example", "", "CHARLIE", charlie, all, "ALPHA", "BRAVO")
			// Way in 2: a team member's session.
			check("bravo, team", nobody.with("Cookie", teamCookie), "", "/s/bravo", "BRAVO", bravo, all, "ALPHA", "CHARLIE")
			// Way in 3: an allowlisted address, as the trusted proxy says.
			check("bravo, allowlisted", proxied.with("X-Forwarded-For", "203.0.113.5"), "", "/s/bravo", "BRAVO", bravo, all, "ALPHA", "CHARLIE")
			check("charlie, allowlisted", proxied.with("X-Forwarded-For", "198.51.100.1, 203.0.113.77"), "status.charlie.example", "", "CHARLIE", charlie, all, "ALPHA", "BRAVO")

			// Way in 4: a visitor's feed token, made with the password's
			// cookie, opens the feeds, calendar, badges and JSON of its
			// page only, never the HTML; revoked, nothing, at once.
			bravoToken := feedToken(t, srv.URL, "", "/s/bravo", bravoCookie)
			check("bravo, feed token", visitor{query: "token=" + bravoToken}, "", "/s/bravo", "BRAVO", bravo, feeds, "ALPHA", "CHARLIE")
			check("charlie, bravo's feed token", visitor{query: "token=" + bravoToken}, "status.charlie.example", "", "CHARLIE", charlie, none, "ALPHA", "BRAVO")
			check("bravo, a forged feed token", visitor{query: "token=" + bravoToken[:len(bravoToken)-2] + "xx"}, "", "/s/bravo", "BRAVO", bravo, none, "ALPHA", "CHARLIE")
			// A token cannot make another token.
			if status, _, _ := (visitor{}).do(t, http.MethodGet, srv.URL, "", "/s/bravo/access/feeds?token="+bravoToken, nil); status != http.StatusUnauthorized {
				t.Errorf("the feed links page with a feed token: status %d, want 401", status)
			}
			toks, err := srv.Store.PageFeedTokens(ctx, bravoPage.ID)
			modelstest.Fatal(t, err, "feed tokens")
			if len(toks) != 1 || toks[0].Label != "Signed in to the page" || toks[0].LastUsedAt == nil {
				t.Fatalf("bravo's feed tokens: %+v", toks)
			}
			// The admin revokes it on bravo's Settings → Access; another
			// page's token id is a 404 there.
			admin.Submit("/admin", "/admin/pages/current", url.Values{"page_id": {fmt.Sprint(bravoPage.ID)}})
			if r := admin.Get("/admin/settings"); !strings.Contains(r.Body, "Signed in to the page") || !strings.Contains(r.Body, fmt.Sprintf("/admin/settings/feed-tokens/%d/revoke", toks[0].ID)) {
				t.Errorf("bravo's settings do not list the feed token:\n%.3000s", r.Body)
			}
			charlieToken := feedToken(t, srv.URL, "status.charlie.example", "", charlieCookie)
			charlieToks, err := srv.Store.PageFeedTokens(ctx, charliePage.ID)
			modelstest.Fatal(t, err, "charlie's feed tokens")
			if r := admin.Submit("/admin/settings", fmt.Sprintf("/admin/settings/feed-tokens/%d/revoke", charlieToks[0].ID), nil); r.Status != http.StatusNotFound {
				t.Errorf("revoke charlie's token on bravo's settings: status %d, want 404", r.Status)
			}
			if r := admin.Submit("/admin/settings", fmt.Sprintf("/admin/settings/feed-tokens/%d/revoke", toks[0].ID), nil); r.Status != http.StatusSeeOther {
				t.Errorf("revoke: status %d, want 303\n%.500s", r.Status, r.Body)
			}
			for _, path := range []string{"/s/bravo/history.atom", "/s/bravo/api/v2/summary.json", "/s/bravo/badge.svg"} {
				if status, _, body := (visitor{}).do(t, http.MethodGet, srv.URL, "", path+"?token="+bravoToken, nil); status != http.StatusUnauthorized || strings.Contains(body, "BRAVO-") {
					t.Errorf("%s with a revoked token: status %d, want 401", path, status)
				}
			}
			if status, _, _ := (visitor{}).do(t, http.MethodGet, srv.URL, "status.charlie.example", "/history.rss?token="+charlieToken, nil); status != http.StatusOK {
				t.Errorf("charlie's token after bravo's was revoked: status %d", status)
			}
			if entries, _ := srv.Store.AuditEntries(ctx, models.AuditFilter{Action: "page.feed_token_revoke"}); len(entries) != 1 || strings.Contains(entries[0].Summary+entries[0].After, bravoToken) {
				t.Errorf("revocation audit: %+v", entries)
			}

			// The sign-in form's team link comes back to the page after
			// signing in; the login's next never leaves Herald.
			for next, want := range map[string]string{
				fmt.Sprintf("/s/bravo/incidents/%d", bravo.Incident): fmt.Sprintf("/s/bravo/incidents/%d", bravo.Incident),
				"//evil.example/": "/admin", "/\t/evil.example": "/admin", "https://evil.example/": "/admin", "/\\evil.example": "/admin",
			} {
				c := srv.NewClient(t)
				res := c.Submit("/login", "/login", url.Values{"email": {"member@example.com"}, "password": {webtest.AdminPassword}, "next": {next}})
				if res.Status != http.StatusSeeOther || res.Location != want {
					t.Errorf("login with next %q: %d to %q, want %q", next, res.Status, res.Location, want)
				}
			}
			// A 304 is private too.
			_, hd304, _ := nobody.with("Cookie", bravoCookie).do(t, http.MethodGet, srv.URL, "", "/s/bravo/api/v2/summary.json", nil)
			status, hd304, _ = nobody.with("Cookie", bravoCookie).with("If-None-Match", hd304.Get("ETag")).do(t, http.MethodGet, srv.URL, "", "/s/bravo/api/v2/summary.json", nil)
			if status != http.StatusNotModified || hd304.Get("Cache-Control") != "private, no-cache" || hd304.Get("X-Robots-Tag") != "noindex" || hd304.Get("Access-Control-Allow-Origin") != "" {
				t.Errorf("304 of a private page: %d, headers %v", status, hd304)
			}

			// One page's cookie opens no other: as it is, and renamed.
			name, value, _ := strings.Cut(bravoCookie, "=")
			for _, ck := range []string{bravoCookie, strings.Replace(name, fmt.Sprint(bravoPage.ID), fmt.Sprint(charliePage.ID), 1) + "=" + value} {
				if status, _, _ := nobody.with("Cookie", ck).do(t, http.MethodGet, srv.URL, "status.charlie.example", "/", nil); status != http.StatusUnauthorized {
					t.Errorf("bravo's cookie %q on charlie: status %d, want 401", ck, status)
				}
			}
			// A forged or truncated cookie opens nothing.
			for _, ck := range []string{name + "=" + value[:len(value)-3] + "AAA", name + "=" + strings.Replace(value, ".", ".9", 1), name + "=junk"} {
				if status, _, _ := nobody.with("Cookie", ck).do(t, http.MethodGet, srv.URL, "", "/s/bravo/", nil); status != http.StatusUnauthorized {
					t.Errorf("forged cookie %q: status %d, want 401", ck, status)
				}
			}

			// A new password signs out the old cookie; the team switch
			// off shuts out the team.
			_, err = srv.Store.SetPageAccess(ctx, bravoPage.ID, models.PageAccessInput{Password: "bravo second password", IPAllowlist: []string{"203.0.113.0/24"}})
			modelstest.Fatal(t, err, "new password, team off")
			waitStatus(t, nobody.with("Cookie", bravoCookie), srv.URL, "/s/bravo/", http.StatusUnauthorized, "the old password's cookie")
			waitStatus(t, nobody.with("Cookie", teamCookie), srv.URL, "/s/bravo/", http.StatusUnauthorized, "the team with the switch off")
			if status, ck, _ := pagePassword(t, srv.URL, "", "/s/bravo", "bravo door password"); status != http.StatusUnauthorized || ck != "" {
				t.Errorf("the old password: status %d, cookie %q, want 401 and none", status, ck)
			}

			// The default page, private, at / and on unknown hosts.
			_, err = srv.Store.SetPageAccess(ctx, models.DefaultPageID, models.PageAccessInput{Password: "alpha door password"})
			modelstest.Fatal(t, err, "make the default page private")
			waitStatus(t, nobody, srv.URL, "/", http.StatusUnauthorized, "the private default page")
			check("default page, nobody", nobody, "", "", "ALPHA", alpha, none, "BRAVO", "CHARLIE")
			check("default page on an unknown host, nobody", nobody, "elsewhere.example", "", "ALPHA", alpha, none, "BRAVO", "CHARLIE")
			_, alphaCookie, _ := pagePassword(t, srv.URL, "", "", "alpha door password")
			check("default page, password", nobody.with("Cookie", alphaCookie), "", "", "ALPHA", alpha, all, "BRAVO", "CHARLIE")
			// The default page's cookie (Path /) opens no page under /s/.
			if status, _, _ := nobody.with("Cookie", alphaCookie).do(t, http.MethodGet, srv.URL, "", "/s/bravo/", nil); status != http.StatusUnauthorized {
				t.Errorf("the default page's cookie on bravo: status %d, want 401", status)
			}
			// /s/main/ redirects to / without a word of the page.
			if status, hd, body := nobody.do(t, http.MethodGet, srv.URL, "", "/s/main/history", nil); status != http.StatusMovedPermanently || hd.Get("Location") != "/history" || strings.Contains(body, "ALPHA") {
				t.Errorf("/s/main/history: %d to %q", status, hd.Get("Location"))
			}

			// The password form: next stays on the page; signing out
			// forgets the cookie.
			for next, want := range map[string]string{
				"/s/bravo/incidents/1": "/s/bravo/incidents/1", "/history?page=2": "/s/bravo/history?page=2",
				"https://evil.example/": "/s/bravo/", "//evil.example/": "/s/bravo/", "/\\evil.example": "/s/bravo/",
				"/s/charlie/": "/s/bravo/", "/../admin": "/s/bravo/", "javascript:alert(1)": "/s/bravo/", "/access": "/s/bravo/",
			} {
				var v visitor
				_, hd, body := v.do(t, http.MethodGet, srv.URL, "", "/s/bravo/access", nil)
				m := csrfFieldRE.FindStringSubmatch(body)
				if m == nil {
					t.Fatalf("no form on /s/bravo/access")
				}
				status, hd, _ := v.with("Cookie", cookiesOf(hd)).do(t, http.MethodPost, srv.URL, "", "/s/bravo/access",
					url.Values{"_csrf": {m[1]}, "password": {"bravo second password"}, "next": {next}})
				if status != http.StatusSeeOther || hd.Get("Location") != want {
					t.Errorf("next %q: %d to %q, want 303 to %q", next, status, hd.Get("Location"), want)
				}
			}
			_, newCookie, _ := pagePassword(t, srv.URL, "", "/s/bravo", "bravo second password")
			status, hd, _ := nobody.with("Cookie", newCookie).do(t, http.MethodPost, srv.URL, "", "/s/bravo/access/sign-out", url.Values{})
			if status != http.StatusSeeOther || !strings.Contains(hd.Get("Set-Cookie"), "Max-Age=0") {
				t.Errorf("sign out: %d, Set-Cookie %q", status, hd.Get("Set-Cookie"))
			}
			// Bad input on the form: no CSRF token, NUL, invalid UTF-8,
			// oversized, XSS: refused, never echoed.
			if status, _, _ := nobody.do(t, http.MethodPost, srv.URL, "", "/s/bravo/access", url.Values{"password": {"bravo second password"}}); status != http.StatusForbidden {
				t.Errorf("password without a CSRF token: status %d, want 403", status)
			}
			for _, pw := range []string{"bad\x00pw", "\xff\xfe", strings.Repeat("p", 5000), `<script>alert("pw")</script>`, ""} {
				status, ck, body := pagePassword(t, srv.URL, "", "/s/bravo", pw)
				if status != http.StatusUnauthorized || ck != "" || strings.Contains(body, "<script>alert") || !strings.Contains(body, "password") {
					t.Errorf("password %.20q: status %d, cookie %q", pw, status, ck)
				}
			}

			// Ten wrong passwords from one address lock it out of this
			// page's form for a while (429 with Retry-After), even with
			// the right one; other addresses and pages are not locked.
			locked := proxied.with("X-Forwarded-For", "192.0.2.44")
			var lastStatus int
			var lastHeader http.Header
			for i := range 11 {
				var v visitor = locked
				_, hd, body := v.do(t, http.MethodGet, srv.URL, "", "/s/bravo/access", nil)
				m := csrfFieldRE.FindStringSubmatch(body)
				if m == nil {
					t.Fatalf("no form on /s/bravo/access")
				}
				pw := "wrong password"
				if i == 10 {
					pw = "bravo second password"
				}
				lastStatus, lastHeader, _ = v.with("Cookie", cookiesOf(hd)).do(t, http.MethodPost, srv.URL, "", "/s/bravo/access",
					url.Values{"_csrf": {m[1]}, "password": {pw}})
			}
			if lastStatus != http.StatusTooManyRequests || lastHeader.Get("Retry-After") == "" {
				t.Errorf("after 10 wrong passwords: status %d, Retry-After %q, want 429 with one", lastStatus, lastHeader.Get("Retry-After"))
			}
			if status, ck, _ := pagePassword(t, srv.URL, "", "/s/bravo", "bravo second password"); status != http.StatusSeeOther || ck == "" {
				t.Errorf("another address after the lock: status %d", status)
			}
		})
	}
}

var feedLinkRE = regexp.MustCompile(`value="[^"]*/history\.atom\?token=([^"&]+)"`)

// feedToken makes personal feed links on the private page at
// host+prefix as the visitor with cookie, and returns their token.
func feedToken(t *testing.T, base, host, prefix, cookie string) string {
	t.Helper()
	v := visitor{}.with("Cookie", cookie)
	status, hd, body := v.do(t, http.MethodGet, base, host, prefix+"/access/feeds", nil)
	m := csrfFieldRE.FindStringSubmatch(body)
	if status != http.StatusOK || m == nil {
		t.Fatalf("GET %s/access/feeds: status %d\n%.500s", prefix, status, body)
	}
	v = v.with("Cookie", cookie+"; "+cookiesOf(hd))
	status, _, body = v.do(t, http.MethodPost, base, host, prefix+"/access/feeds", url.Values{"_csrf": {m[1]}})
	link := feedLinkRE.FindStringSubmatch(body)
	if status != http.StatusOK || link == nil {
		t.Fatalf("POST %s/access/feeds: status %d, no links\n%.1500s", prefix, status, body)
	}
	return link[1]
}

// waitStatus polls path until it answers want (the page index reloads
// within a moment of a change), failing after 3 seconds.
func waitStatus(t *testing.T, v visitor, base, path string, want int, what string) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for {
		status, _, _ := v.do(t, http.MethodGet, base, "", path, nil)
		if status == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %s answers %d, want %d", what, path, status, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
