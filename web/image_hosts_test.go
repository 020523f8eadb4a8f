package web_test

import (
	"bytes"
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/web/webtest"
)

// imageMessage holds an image of every kind the allowed-hosts rule
// judges, each named by its alt text.
const imageMessage = `Graphs of the outage:

![allowed](https://status-assets.example.com/a.png)
![subdomain](https://cdn.example.net/b.png)
![other](https://evil.example/c.png)
![relative](/assets/d.png)
![protocol-relative](//evil.example/e.png)
![shouting](HTTPS://STATUS-ASSETS.Example.COM/f.png)
![userinfo](https://status-assets.example.com@evil.example/g.png)
![script](javascript:alert(1))
![inline](data:image/png;base64,iVBORw0KGgo=)
![apex](https://example.net/h.png)`

var imgSrcRE = regexp.MustCompile(`<img[^>]*\ssrc="([^"]*)"`)

// imgSrcs lists the src of every <img> in body.
func imgSrcs(body string) []string {
	var out []string
	for _, m := range imgSrcRE.FindAllStringSubmatch(body, -1) {
		out = append(out, html.UnescapeString(m[1]))
	}
	return out
}

// checkMessageImages asserts how imageMessage shows in body, with
// status-assets.example.com and *.example.net allowed (or, when
// !allowed, nothing but Herald itself).
func checkMessageImages(t *testing.T, where, body string, allowed bool) {
	t.Helper()
	link := func(href, text string) string {
		return `<a href="` + href + `" rel="nofollow noopener noreferrer">` + text + `</a>`
	}
	wantImgs := []string{"/assets/d.png"}
	wantLinks := []string{
		link("https://evil.example/c.png", "other"),
		link("//evil.example/e.png", "protocol-relative"),
		link("https://status-assets.example.com@evil.example/g.png", "userinfo"),
		link("https://example.net/h.png", "apex"),
	}
	if allowed {
		wantImgs = append(wantImgs, "https://status-assets.example.com/a.png", "https://cdn.example.net/b.png",
			"https://STATUS-ASSETS.Example.COM/f.png")
	} else {
		wantLinks = append(wantLinks, link("https://status-assets.example.com/a.png", "allowed"),
			link("https://cdn.example.net/b.png", "subdomain"), link("https://STATUS-ASSETS.Example.COM/f.png", "shouting"))
	}
	got := imgSrcs(body)
	for _, src := range got {
		if !slices.Contains(wantImgs, src) {
			t.Errorf("%s: an image from %q", where, src)
		}
	}
	for _, src := range wantImgs {
		if !slices.Contains(got, src) {
			t.Errorf("%s: no image from %q (images: %q)", where, src, got)
		}
	}
	for _, l := range wantLinks {
		if !strings.Contains(body, l) {
			t.Errorf("%s: no %s", where, l)
		}
	}
	for _, bad := range []string{"javascript:", "data:image", "evil.example/c.png\" alt"} {
		if strings.Contains(body, bad) {
			t.Errorf("%s contains %q", where, bad)
		}
	}
	for _, alt := range []string{"script", "inline"} {
		if !strings.Contains(body, alt) {
			t.Errorf("%s lost the alt text %q", where, alt)
		}
	}
}

// imgSrcDirective is the img-src directive of res's Content-Security-Policy.
func imgSrcDirective(t *testing.T, where string, res webtest.Response) string {
	t.Helper()
	csp := res.Header.Get("Content-Security-Policy")
	for d := range strings.SplitSeq(csp, ";") {
		if d = strings.TrimSpace(d); strings.HasPrefix(d, "img-src ") {
			return d
		}
	}
	t.Fatalf("%s: no img-src in %q", where, csp)
	return ""
}

// eventually polls the visitor's path until it satisfies ok, for the
// snapshot's rebuild after a change.
func eventually(t *testing.T, c *webtest.Client, path string, ok func(webtest.Response) bool) webtest.Response {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		res := c.Get(path)
		if res.Status == http.StatusOK && ok(res) {
			return res
		}
		if time.Now().After(deadline) {
			return res
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestAllowedImageHosts(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		admin := s.SetUp(t)
		_, writer := createToken(t, admin, "Page bot", models.ScopePageWrite, models.ScopeIncidentsWrite)
		visitor := s.NewClient(t)

		// By default: Herald's own images only, and no data: images.
		for _, path := range []string{"/", "/history", "/login", "/admin"} {
			res := admin.Get(path)
			if got := imgSrcDirective(t, path, res); got != "img-src 'self'" {
				t.Errorf("%s before any setting: %q, want img-src 'self'", path, got)
			}
		}

		// Bad entries: 422 naming the entry, and nothing written.
		for _, tc := range []struct{ body, entry string }{
			{`{"image_hosts": ["ok.example", "https://evil.example"]}`, "https://evil.example"},
			{`{"image_hosts": ["evil.example/x.png"]}`, "evil.example/x.png"},
			{`{"image_hosts": ["user@evil.example"]}`, "user@evil.example"},
			{`{"image_hosts": ["evil.example:8443"]}`, "evil.example:8443"},
			{`{"image_hosts": ["evil.example; script-src *"]}`, "evil.example; script-src *"},
			{`{"image_hosts": ["203.0.113.9"]}`, "203.0.113.9"},
			{`{"image_hosts": ["a\u0000.example"]}`, ""},
		} {
			res := apiCall(t, s, writer, http.MethodPatch, "/api/v1/page", tc.body)
			wantAPIError(t, res, http.StatusUnprocessableEntity, "validation_failed", "image_hosts")
			if tc.entry != "" && !strings.Contains(res.Err.Message, "“"+tc.entry) {
				t.Errorf("%s: message %q does not name %q", tc.body, res.Err.Message, tc.entry)
			}
		}
		wantAPIError(t, apiCall(t, s, writer, http.MethodPatch, "/api/v1/page", `{"image_hosts": "a.example"}`), 400, "invalid_type", "image_hosts")
		wantAPIError(t, apiCall(t, s, writer, http.MethodPatch, "/api/v1/page", `{"image_hosts": null}`), 400, "invalid_type", "image_hosts")
		type pageHosts struct {
			Name       string   `json:"name"`
			ImageHosts []string `json:"image_hosts"`
		}
		page := decodeAPI[pageHosts](t, apiCall(t, s, writer, http.MethodGet, "/api/v1/page", ""), http.StatusOK)
		if page.ImageHosts == nil || len(page.ImageHosts) != 0 {
			t.Fatalf("GET /page after refused PATCHes: image_hosts %#v, want []", page.ImageHosts)
		}

		// The allowed list, through the API, normalised.
		page = decodeAPI[pageHosts](t, apiCall(t, s, writer, http.MethodPatch, "/api/v1/page",
			`{"page": {"image_hosts": [" Status-Assets.EXAMPLE.com", "*.example.net", "status-assets.example.com"]}}`), http.StatusOK)
		want := []string{"status-assets.example.com", "*.example.net"}
		if !slices.Equal(page.ImageHosts, want) || page.Name != "Acme Status" {
			t.Fatalf("after PATCH: %+v, want image_hosts %q and the name kept", page, want)
		}
		entries, err := s.Store.AuditEntries(t.Context(), models.AuditFilter{PageID: models.DefaultPageID, Action: "page.update"})
		if err != nil || len(entries) == 0 || entries[0].ActorName != "Page bot" ||
			!strings.Contains(entries[0].After, `"image_hosts":["status-assets.example.com","*.example.net"]`) {
			t.Fatalf("audit of the PATCH: %+v %v", entries, err)
		}

		// The OpenAPI document describes the field, read and written.
		var doc struct {
			Paths map[string]json.RawMessage `json:"paths"`
		}
		if err := json.Unmarshal([]byte(visitor.Get("/api/v1/openapi.json").Body), &doc); err != nil {
			t.Fatalf("openapi.json: %v", err)
		}
		var pagePath bytes.Buffer
		if err := json.Compact(&pagePath, doc.Paths["/page"]); err != nil {
			t.Fatalf("openapi.json /page: %v", err)
		}
		if n := strings.Count(pagePath.String(), `"image_hosts":{"items":{"type":"string"},"type":"array"}`); n < 3 {
			t.Errorf("the OpenAPI document describes image_hosts %d times on /page, want in GET, the PATCH body and its answer:\n%s", n, &pagePath)
		}

		body, err := json.Marshal(map[string]any{"name": "Graphs missing", "body": imageMessage})
		if err != nil {
			t.Fatal(err)
		}
		created := decodeAPI[struct {
			ID string `json:"id"`
		}](t, apiCall(t, s, writer, http.MethodPost, "/api/v1/incidents", string(body)), http.StatusCreated)
		permalink := "/incidents/" + created.ID
		const allowedCSP = "img-src 'self' https://status-assets.example.com https://*.example.net"

		hasImage := func(res webtest.Response) bool {
			return strings.Contains(html.UnescapeString(res.Body), `src="https://status-assets.example.com/a.png"`)
		}
		home := eventually(t, visitor, "/", hasImage)
		checkMessageImages(t, "/", home.Body, true)
		if got := imgSrcDirective(t, "/", home); got != allowedCSP {
			t.Errorf("/: %q, want %q", got, allowedCSP)
		}
		perma := visitor.Get(permalink)
		checkMessageImages(t, permalink, perma.Body, true)
		if got := imgSrcDirective(t, permalink, perma); got != allowedCSP {
			t.Errorf("%s: %q, want %q", permalink, got, allowedCSP)
		}
		for _, feed := range []string{"/history.atom", "/history.rss"} {
			res := eventually(t, visitor, feed, hasImage)
			checkMessageImages(t, feed, html.UnescapeString(res.Body), true)
		}
		adminPage := admin.Get("/admin/incidents/" + created.ID)
		checkMessageImages(t, "the admin's incident page", adminPage.Body, true)
		if got := imgSrcDirective(t, "admin", adminPage); got != "img-src 'self' https://status-assets.example.com https://*.example.net" {
			t.Errorf("admin incident page: %q", got)
		}

		// The admin's form shows the list, refuses a bad entry by name
		// and keeps what was typed; emptying it turns the images into
		// links on every surface, the snapshot rebuilt.
		form := admin.Get("/admin/settings")
		if !strings.Contains(form.Body, ">status-assets.example.com\n*.example.net</textarea>") {
			t.Errorf("the settings form does not show the list:\n%s", form.Body)
		}
		res := admin.Submit("/admin/settings", "/admin/settings", settingsForm(url.Values{"image_hosts": {"good.example\nhttp://bad.example/x"}}))
		if res.Status != http.StatusUnprocessableEntity || !strings.Contains(res.Body, `<p class="error" id="e-image_hosts">`) ||
			!strings.Contains(res.Body, "“http://bad.example/x”") || !strings.Contains(res.Body, "good.example\nhttp://bad.example/x</textarea>") {
			t.Fatalf("bad entry in the form: %d\n%s", res.Status, res.Body)
		}
		res = admin.Submit("/admin/settings", "/admin/settings", settingsForm(url.Values{"image_hosts": {""}}))
		if res.Status != http.StatusSeeOther {
			t.Fatalf("clearing the list: %d\n%s", res.Status, res.Body)
		}
		noImage := func(res webtest.Response) bool { return !hasImage(res) }
		home = eventually(t, visitor, "/", noImage)
		checkMessageImages(t, "/ after clearing", home.Body, false)
		if got := imgSrcDirective(t, "/", home); got != "img-src 'self'" {
			t.Errorf("/ after clearing: %q", got)
		}
		perma = visitor.Get(permalink)
		checkMessageImages(t, permalink+" after clearing", perma.Body, false)
		for _, feed := range []string{"/history.atom", "/history.rss"} {
			res := eventually(t, visitor, feed, noImage)
			checkMessageImages(t, feed+" after clearing", html.UnescapeString(res.Body), false)
		}

		// The logo's host is allowed where the logo shows, and nowhere
		// else.
		res = admin.Submit("/admin/settings", "/admin/settings", settingsForm(url.Values{
			"logo_url": {"https://brand.example.org/logo.svg"}, "image_hosts": {"status-assets.example.com"}}))
		if res.Status != http.StatusSeeOther {
			t.Fatalf("saving a logo: %d\n%s", res.Status, res.Body)
		}
		withLogo := "img-src 'self' https://brand.example.org https://status-assets.example.com"
		home = eventually(t, visitor, "/", func(res webtest.Response) bool { return imgSrcDirective(t, "/", res) == withLogo })
		for path, res := range map[string]webtest.Response{"/": home, "/history": visitor.Get("/history"), permalink: visitor.Get(permalink)} {
			if got := imgSrcDirective(t, path, res); got != withLogo {
				t.Errorf("%s with a logo: %q, want %q", path, got, withLogo)
			}
			if !strings.Contains(res.Body, `src="https://brand.example.org/logo.svg"`) {
				t.Errorf("%s shows no logo", path)
			}
		}
		if got := imgSrcDirective(t, "admin", admin.Get("/admin/incidents/"+created.ID)); got != "img-src 'self' https://status-assets.example.com" {
			t.Errorf("admin page with a logo: %q", got)
		}
	})
}
