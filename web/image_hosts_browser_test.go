package web_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
	"github.com/heraldstatus/herald/web/browsertest"
	"github.com/heraldstatus/herald/web/webtest"
)

// TestBrowserImageHosts sets the allowed image hosts through the settings
// form in Chromium (a bad entry first), then opens an incident whose
// message has images from Herald, from an allowed host and from other
// hosts: Chromium reports no Content-Security-Policy violation for what
// Herald rendered (the renderer and the policy agree), and refuses an
// image from any other host or a data: image that a script adds. The
// form and the incident are shot at 375 and 1280 px, light and dark.
func TestBrowserImageHosts(t *testing.T) {
	srv := webtest.Start(t, models.SQLite)
	srv.SetUp(t)
	p := browsertest.Open(t, srv.URL)
	shoot := screenshotter(t, p, screenshotDirs(t))

	p.Go("/login")
	p.Fill("#f-email", webtest.AdminEmail)
	p.Fill("#f-password", webtest.AdminPassword)
	p.Click("main form button[type=submit]")
	wantPath(t, p, "/admin")

	shoot("settings-image-hosts-error", func() {
		p.Go("/admin/settings")
		p.Type("#f-image_hosts", "status-assets.example.com\nhttps://cdn.example.net/img")
		if status := p.Click("form.settings-form button.primary"); status != http.StatusUnprocessableEntity {
			t.Errorf("bad image host: status %d, want 422", status)
		}
		p.WaitVisible("#e-image_hosts")
	})
	wantText(t, p, "#e-image_hosts", "“https://cdn.example.net/img”: enter the host name alone")
	p.Fill("#f-image_hosts", "status-assets.example.com\n*.example.net")
	if status := p.Click("form.settings-form button.primary"); status != http.StatusOK {
		t.Fatalf("save image hosts: status %d", status)
	}
	wantText(t, p, ".flash-success", "Settings saved.")
	page, err := srv.Store.Page(t.Context(), models.DefaultPageID)
	modelstest.Fatal(t, err, "page")
	if page.ImageHosts != "status-assets.example.com *.example.net" {
		t.Fatalf("saved image hosts %q", page.ImageHosts)
	}

	inc, err := srv.Store.CreateIncident(t.Context(), models.DefaultPageID, models.IncidentInput{
		Title: "Graphs of the outage", Status: models.IncidentInvestigating,
		Message: "Our own badge: ![status badge](/badge.svg)\n\n" +
			"From the asset host: ![latency graph](https://status-assets.example.com/latency.png)\n\n" +
			"From elsewhere: ![error graph](https://graphs.evil.example/errors.png) and ![](//evil.example/raw.png)\n\n" +
			"Inline: ![pixel](data:image/png;base64,iVBORw0KGgo=)",
	})
	modelstest.Fatal(t, err, "create incident")
	permalink := fmt.Sprintf("/incidents/%d", inc.ID)
	shoot("incident-image-links", func() {
		p.Go(permalink)
		p.WaitVisible(".update")
	})
	srcs := browsertest.Eval[[]string](p, `[...document.querySelectorAll("main img")].map(i => i.getAttribute("src"))`)
	if strings.Join(srcs, " ") != "/badge.svg https://status-assets.example.com/latency.png" {
		t.Errorf("images on the permalink: %q", srcs)
	}
	// The test server is plain http, so "//" resolves to http.
	links := browsertest.Eval[[]string](p, `[...document.querySelectorAll("main a[rel='nofollow noopener noreferrer']")].map(a => a.textContent + " → " + a.href)`)
	if strings.Join(links, "; ") != "error graph → https://graphs.evil.example/errors.png; //evil.example/raw.png → http://evil.example/raw.png" {
		t.Errorf("image links on the permalink: %q", links)
	}
	if !browsertest.Eval[bool](p, `document.querySelector("main img[src='/badge.svg']").complete && document.querySelector("main img[src='/badge.svg']").naturalWidth > 0`) {
		t.Errorf("Herald's own image did not load")
	}

	// What Herald rendered broke no rule of its policy; an image a script
	// adds from another host, or as data:, is refused by the browser.
	violations := func() []string {
		var out []string
		for _, m := range p.ConsoleProblems() {
			if strings.Contains(m, "Content Security Policy") {
				out = append(out, m)
			}
		}
		return out
	}
	if v := violations(); len(v) > 0 {
		t.Fatalf("the rendered page broke its own policy:\n%s", strings.Join(v, "\n"))
	}
	browsertest.Eval[bool](p, `(() => {
		window.violations = [];
		document.addEventListener("securitypolicyviolation", e => window.violations.push(e.violatedDirective + " " + e.blockedURI));
		for (const src of ["https://graphs.evil.example/injected.png", "data:image/png;base64,iVBORw0KGgo="]) {
			const img = document.createElement("img");
			img.src = src;
			document.body.appendChild(img);
		}
		return true;
	})()`)
	deadline := time.Now().Add(5 * time.Second)
	var got []string
	for {
		got = browsertest.Eval[[]string](p, `window.violations`)
		if len(got) >= 2 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	joined := strings.Join(got, "\n")
	if !strings.Contains(joined, "img-src https://graphs.evil.example/injected.png") || !strings.Contains(joined, "img-src data") {
		t.Errorf("the browser did not refuse the injected images; violations:\n%s", joined)
	}
}
