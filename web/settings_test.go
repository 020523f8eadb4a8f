package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
	"github.com/heraldstatus/herald/web/webtest"
)

func settingsForm(overrides url.Values) url.Values {
	f := url.Values{"name": {"Acme Status"}, "description": {""}, "logo_url": {""}, "accent_color": {"blue"}, "time_zone": {"UTC"}}
	for k, v := range overrides {
		f[k] = v
	}
	return f
}

func TestSettingsRejectBadInput(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		c := s.SetUp(t)
		if res := s.NewClient(t).Get("/admin/settings"); res.Status != http.StatusSeeOther || !strings.HasPrefix(res.Location, "/login") {
			t.Fatalf("settings without a session: %d %q, want a redirect to the login", res.Status, res.Location)
		}
		form := c.Get("/admin/settings")
		for _, want := range []string{
			`<h1>Status page settings</h1>`, `value="Acme Status"`, `id="f-accent_color-blue" name="accent_color" value="blue" checked`,
			`name="time_zone" type="text" value="UTC"`, `<a href="/admin/settings" aria-current="page">Settings</a>`,
		} {
			if !strings.Contains(form.Body, want) {
				t.Errorf("the settings form lacks %q", want)
			}
		}

		cases := []struct {
			name  string
			form  url.Values
			field string
			error string
			kept  string
		}{
			{"empty name", url.Values{"name": {"  "}, "description": {"kept words"}}, "name", "Give your status page a name.", "kept words"},
			{"long description", url.Values{"description": {strings.Repeat("d", 600)}}, "description", "at most 500 characters (this has 600)", strings.Repeat("d", 600)},
			{"not a URL", url.Values{"logo_url": {"logo.png"}}, "logo_url", "Enter a full address starting with https://", `value="logo.png"`},
			{"script URL", url.Values{"logo_url": {"javascript:alert(1)"}}, "logo_url", "Enter a full address starting with https://", `value="javascript:alert(1)"`},
			{"plain http", url.Values{"logo_url": {"http://example.com/logo.png"}}, "logo_url", "only loads images over HTTPS", `value="http://example.com/logo.png"`},
			{"unknown zone", url.Values{"time_zone": {"Mars/Olympus"}, "name": {"Kept name"}}, "time_zone", "Enter a time zone from the IANA database", `value="Kept name"`},
			{"empty zone", url.Values{"time_zone": {""}}, "time_zone", "Enter a time zone", `value="Acme Status"`},
			{"unknown accent", url.Values{"accent_color": {"hotpink"}, "time_zone": {"Europe/Paris"}}, "accent_color", "Choose one of the listed colours.", `value="Europe/Paris"`},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				res := c.Submit("/admin/settings", "/admin/settings", settingsForm(tc.form))
				if res.Status != http.StatusUnprocessableEntity {
					t.Fatalf("status %d, want 422", res.Status)
				}
				if !strings.Contains(res.Body, `<p class="error" id="e-`+tc.field+`">`) || !strings.Contains(res.Body, tc.error) {
					t.Errorf("no error %q next to %s", tc.error, tc.field)
				}
				if !strings.Contains(res.Body, tc.kept) {
					t.Errorf("the form lost %q", tc.kept)
				}
			})
		}
		p, err := s.Store.Page(t.Context(), models.DefaultPageID)
		modelstest.Fatal(t, err, "page")
		if p.Name != "Acme Status" || p.TimeZone != "UTC" || p.LogoURL != "" || p.Description != "" {
			t.Fatalf("bad input changed the page: %+v", p)
		}

		// Without the CSRF token nothing is saved.
		if res := c.Post("/admin/settings", settingsForm(url.Values{"name": {"Hijacked"}})); res.Status != http.StatusForbidden {
			t.Errorf("post without CSRF: %d, want 403", res.Status)
		}
		if p, _ := s.Store.Page(t.Context(), models.DefaultPageID); p.Name != "Acme Status" {
			t.Fatalf("a forged post renamed the page to %q", p.Name)
		}
	})
}

func TestSettingsShowOnThePublicPage(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		c := s.SetUp(t)
		visitor := s.NewClient(t)
		if body := visitor.Get("/").Body; !strings.Contains(body, `<body class="public accent-blue">`) || !strings.Contains(body, `<a class="brand" href="/">Acme Status</a>`) {
			t.Fatal("the fresh page lacks the default accent or the name as brand")
		}

		name := `Acme <script>alert(1)</script>`
		desc := `We run "things" <img src=x onerror=alert(2)>`
		res := c.Submit("/admin/settings", "/admin/settings", settingsForm(url.Values{"name": {name}, "description": {desc},
			"logo_url": {"https://cdn.example.com/logo.svg?v=2&dark=1"}, "accent_color": {"Purple"}, "time_zone": {"Europe/Paris"}}))
		if res.Status != http.StatusSeeOther || res.Location != "/admin/settings" {
			t.Fatalf("save: %d %q\n%s", res.Status, res.Location, res.Body)
		}
		after := c.Get("/admin/settings")
		if !strings.Contains(after.Body, "Settings saved.") || !strings.Contains(after.Body, `value="purple" checked`) {
			t.Error("no flash, or the saved accent is not selected")
		}
		if strings.Contains(after.Body, "<script>alert(1)") {
			t.Error("the name is unescaped in the admin")
		}
		p, err := s.Store.Page(t.Context(), models.DefaultPageID)
		modelstest.Fatal(t, err, "page")
		if p.Name != name || p.Description != desc || p.AccentColor != "purple" || p.TimeZone != "Europe/Paris" {
			t.Fatalf("saved page = %+v", p)
		}

		// Visible to visitors within a second.
		var body string
		for deadline := time.Now().Add(time.Second); ; {
			body = visitor.Get("/").Body
			if strings.Contains(body, "accent-purple") || time.Now().After(deadline) {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		escapedName := `Acme &lt;script&gt;alert(1)&lt;/script&gt;`
		for _, want := range []string{
			`<body class="public accent-purple">`,
			`<title>` + escapedName + `</title>`,
			`<img class="brand-logo" src="https://cdn.example.com/logo.svg?v=2&amp;dark=1" alt="` + escapedName + `">`,
			`We run &#34;things&#34; &lt;img src=x onerror=alert(2)&gt;`,
		} {
			if !strings.Contains(body, want) {
				t.Errorf("the public page lacks %q", want)
			}
		}
		if strings.Contains(body, "<script>alert") || strings.Contains(body, "<img src=x") {
			t.Fatal("the public page carries the payloads unescaped")
		}
		if status := visitor.Get("/api/v2/status.json").Body; !strings.Contains(status, `"time_zone":"Europe/Paris"`) {
			t.Errorf("the JSON does not publish the time zone: %s", status)
		}

		// Clearing the logo brings the name back.
		res = c.Submit("/admin/settings", "/admin/settings", settingsForm(url.Values{"name": {"Acme"}}))
		if res.Status != http.StatusSeeOther {
			t.Fatalf("save: %d", res.Status)
		}
		if body := visitor.Get("/").Body; !strings.Contains(body, `<a class="brand" href="/">Acme</a>`) || strings.Contains(body, "brand-logo") {
			t.Error("without a logo the header does not show the name")
		}
	})
}
