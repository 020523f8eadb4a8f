package web_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
	"github.com/heraldstatus/herald/web/browsertest"
	"github.com/heraldstatus/herald/web/webtest"
)

// TestBrowserFormPreview fills the incident and maintenance forms in a
// real browser with the page in Europe/Berlin, presses Preview, and
// checks that the rendered Markdown shows under the field with the typed
// values kept and no script run; screenshots at phone and desktop widths,
// light and dark.
func TestBrowserFormPreview(t *testing.T) {
	srv := webtest.Start(t, models.SQLite)
	p := browsertest.Open(t, srv.URL)
	dialogs := p.WatchDialogs()
	dirs := screenshotDirs(t)
	seedStatusPage(t, srv)
	page, err := srv.Store.Page(t.Context(), models.DefaultPageID)
	modelstest.Fatal(t, err, "page")
	_, err = srv.Store.UpdatePage(t.Context(), models.DefaultPageID, models.PageInput{Name: page.Name, Description: page.Description,
		LogoURL: page.LogoURL, AccentColor: page.Accent(), TimeZone: "Europe/Berlin"})
	modelstest.Fatal(t, err, "time zone")

	p.Go("/login")
	p.Fill("#f-email", webtest.AdminEmail)
	p.Fill("#f-password", webtest.AdminPassword)
	p.Click("main form button[type=submit]")
	wantPath(t, p, "/admin")

	message := "We see **elevated errors** on the API.\n\n- EU users\n- `/v1/orders`\n\n<img src=x onerror=alert(1)> [x](javascript:alert(2))"
	shoot := screenshotter(t, p, dirs)
	shoot("incident-preview", func() {
		p.Go("/admin/incidents/new")
		p.Fill("#f-title", "Elevated API errors")
		p.Type("#f-message", message)
		p.Check("#f-backfill")
		if status := p.Click(`button[name="preview"]`); status != http.StatusOK {
			t.Errorf("preview: status %d, want 200", status)
		}
		p.WaitVisible("#p-message")
	})
	wantText(t, p, "#p-message .md strong", "elevated errors")
	if hash := browsertest.Eval[string](p, `location.hash`); hash != "#p-message" {
		t.Errorf("after Preview the address ends in %q, want #p-message (scrolls to the preview)", hash)
	}
	wantText(t, p, ".with-zone .zone", "Europe/Berlin (UTC")
	if got := browsertest.Eval[string](p, `document.querySelector("#f-title").value`); got != "Elevated API errors" {
		t.Errorf("title after preview = %q", got)
	}
	if got := browsertest.Eval[string](p, `document.querySelector("#f-message").value`); !strings.Contains(got, "onerror=alert(1)") {
		t.Errorf("message after preview = %q, want the typed text kept", got)
	}
	if !browsertest.Eval[bool](p, `document.querySelector("#f-backfill").checked && document.querySelector("#f-notify").checked`) {
		t.Error("the check boxes lost their state in the preview")
	}
	if n := browsertest.Eval[int](p, `document.querySelectorAll('#p-message [onerror], #p-message img, #p-message a[href^="javascript:" i]').length`); n != 0 {
		t.Errorf("%d dangerous elements in the preview", n)
	}
	// Publishing from the preview works.
	p.Check("#f-backfill")
	p.Click("form.form-card button.primary")
	wantText(t, p, ".flash-success", "Incident “Elevated API errors” published. No channels notified.")
	detail := p.Path()
	shoot("incident-update-preview", func() {
		p.Go(detail)
		p.Check("#f-status-identified")
		p.Type("#post-update #f-message", "Rolled back **v2.3**; error rates are *falling*.")
		p.Click(`#post-update button[name="preview"]`)
		p.WaitVisible("#p-message")
	})
	wantText(t, p, "#p-message .md strong", "v2.3")
	if !browsertest.Eval[bool](p, `document.querySelector("#f-status-identified").checked`) {
		t.Error("the update's status was lost in the preview")
	}

	shoot("maintenance-preview", func() {
		p.Go("/admin/maintenance/new")
		p.Fill("#f-title", "Database upgrade")
		p.Type("#f-message", "PostgreSQL **17**; a few seconds of read-only mode.")
		p.Click(`button[name="preview"]`)
		p.WaitVisible("#p-message")
	})
	wantText(t, p, "#p-message .md strong", "17")
	// Enter in a one-line field saves (the form's first submit button is
	// the off-screen default one), it does not preview.
	p.PressEnter("#f-title")
	wantText(t, p, ".flash-success", "Database upgrade")
	if strings.HasPrefix(p.Path(), "/admin/maintenance/new") || p.Path() == "/admin/maintenance" && browsertest.Eval[bool](p, `!!document.querySelector("#p-message")`) {
		t.Errorf("Enter in the title previewed instead of saving (now at %s)", p.Path())
	}
	assertNoDialogsOrConsoleErrors(t, p, dialogs())
}
