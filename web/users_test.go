package web_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
	"github.com/heraldstatus/herald/web/webtest"
)

var invitationLinkRE = regexp.MustCompile(`id="invitation-link"[^>]*value="([^"]+)"`)

// invite creates an invitation through the Users screen and returns the
// path of its link, read from the page that shows it once.
func invite(t *testing.T, c *webtest.Client, email string, role models.Role) string {
	t.Helper()
	res := c.Submit("/admin/users", "/admin/users/invitations", url.Values{"email": {email}, "role": {string(role)}})
	if res.Status != http.StatusSeeOther || !strings.HasSuffix(res.Location, "/created") {
		t.Fatalf("invite %s: %d %q\n%.500s", email, res.Status, res.Location, res.Body)
	}
	page := c.Get(res.Location)
	m := invitationLinkRE.FindStringSubmatch(page.Body)
	if page.Status != http.StatusOK || m == nil {
		t.Fatalf("invitation page: %d, no link\n%.500s", page.Status, page.Body)
	}
	u, err := url.Parse(html.UnescapeString(m[1]))
	if err != nil || !strings.HasPrefix(u.Path, "/invite/") {
		t.Fatalf("invitation link %q", m[1])
	}
	// Shown once: asking again sends the admin back with a notice.
	if again := c.Get(res.Location); again.Status != http.StatusSeeOther || again.Location != "/admin/users" {
		t.Fatalf("second look at the link: %d %q, want 303 to /admin/users", again.Status, again.Location)
	}
	return u.Path
}

func auditActions(t *testing.T, s *webtest.Server, action string) int {
	t.Helper()
	db, err := s.Store.SQLDB()
	modelstest.Fatal(t, err, "sql db")
	var n int
	modelstest.Fatal(t, db.QueryRowContext(context.Background(), "SELECT COUNT(*) FROM audit_log WHERE action = '"+action+"'").Scan(&n), "count %s", action)
	return n
}

// TestInvitationFlow: an admin invites by e-mail and role; the link shows
// the address and role, refuses a forged form and a weak password, then
// creates the user, signs them in with that role, and works once.
func TestInvitationFlow(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		admin := s.SetUp(t)
		list := admin.Get("/admin/users")
		if list.Status != http.StatusOK || !strings.Contains(list.Body, webtest.AdminEmail) || !strings.Contains(list.Body, ">you<") ||
			!strings.Contains(list.Body, `href="/admin/users"`) {
			t.Fatalf("users screen: %d\n%.800s", list.Status, list.Body)
		}
		link := invite(t, admin, "Dana@Example.com", models.RoleOperator)
		list = admin.Get("/admin/users")
		if !strings.Contains(list.Body, "dana@example.com") || !strings.Contains(list.Body, "Pending invitations") || !strings.Contains(list.Body, "in 6 days") {
			t.Fatalf("pending invitation not listed:\n%s", list.Body)
		}

		guest := s.NewClient(t)
		page := guest.Get(link)
		if page.Status != http.StatusOK || !strings.Contains(page.Body, "dana@example.com") || !strings.Contains(page.Body, "<strong>operator</strong>") ||
			page.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("invitation page: %d %q\n%s", page.Status, page.Header.Get("Cache-Control"), page.Body)
		}
		before := snapshotTables(t, s)
		// A forged form: no CSRF token.
		if res := guest.Post(link, url.Values{"password": {"dana's own long password"}}); res.Status != http.StatusForbidden {
			t.Fatalf("forged acceptance: %d, want 403", res.Status)
		}
		if res := guest.Submit(link, link, url.Values{"password": {"short"}}); res.Status != http.StatusUnprocessableEntity ||
			!strings.Contains(res.Body, "aria-invalid") || !strings.Contains(res.Body, "dana@example.com") {
			t.Fatalf("weak password: %d\n%s", res.Status, res.Body)
		}
		if after := snapshotTables(t, s); fmt.Sprint(after) != fmt.Sprint(before) {
			t.Fatalf("refused acceptances wrote:\n%v\n%v", before, after)
		}
		res := guest.Submit(link, link, url.Values{"password": {"dana's own long password"}})
		if res.Status != http.StatusSeeOther || res.Location != "/admin" {
			t.Fatalf("accept: %d %q\n%s", res.Status, res.Location, res.Body)
		}
		dash := guest.Get("/admin")
		if dash.Status != http.StatusOK || !strings.Contains(dash.Body, "dana@example.com") || !strings.Contains(dash.Body, "You are signed in as an operator") {
			t.Fatalf("after accepting: %d\n%.600s", dash.Status, dash.Body)
		}
		u, err := s.Store.UserByEmail(context.Background(), "dana@example.com")
		modelstest.Fatal(t, err, "invited user")
		if u.Role != models.RoleOperator || u.LastSignInAt == nil {
			t.Fatalf("user %+v", u)
		}
		if n := auditActions(t, s, "invitation.accept"); n != 1 {
			t.Fatalf("%d invitation.accept entries", n)
		}
		// Operators see no Users screen.
		if res := guest.Get("/admin/users"); res.Status != http.StatusForbidden {
			t.Fatalf("operator on /admin/users: %d", res.Status)
		}

		// The link works once.
		other := s.NewClient(t)
		before = snapshotTables(t, s)
		refused := auditActions(t, s, "invitation.refused")
		if res := other.Get(link); res.Status != http.StatusGone || !strings.Contains(res.Body, "already used") {
			t.Fatalf("reused link: %d\n%s", res.Status, res.Body)
		}
		if auditActions(t, s, "invitation.refused") != refused+1 {
			t.Fatal("the reused link was not audited")
		}
		delete(before, "audit_log")
		after := snapshotTables(t, s)
		delete(after, "audit_log")
		if fmt.Sprint(after) != fmt.Sprint(before) {
			t.Fatalf("the reused link wrote:\n%v\n%v", before, after)
		}
		if res := other.Get("/invite/not-a-real-link"); res.Status != http.StatusNotFound || !strings.Contains(res.Body, "not valid") {
			t.Fatalf("unknown link: %d\n%s", res.Status, res.Body)
		}
	})
}

// TestInvitationBadInput: invitations to addresses that are not ones, or
// already have a user in any case, or with an unknown role, are a 422 on
// the Users screen with the input kept and escaped; nothing is written.
// Viewers and operators are refused.
func TestInvitationBadInput(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		admin := s.SetUp(t)
		_, viewer := s.AddUser(t, "viewer@example.com", models.RoleViewer)
		before := snapshotTables(t, s)
		for _, tc := range []struct{ name, email, role, want string }{
			{"NUL", "a\x00b@example.com", "viewer", "U+0000"},
			{"invalid UTF-8", "a\xffb@example.com", "viewer", "UTF-8"},
			{"XSS", `<script>alert(1)</script>@example.com`, "viewer", "valid e-mail"},
			{"unknown role", "new@example.com", "root", "Choose a role"},
			{"existing user, other case", "OPS@example.COM", "viewer", "already exists"},
			{"empty", "", "viewer", "Enter an e-mail"},
			{"too long", strings.Repeat("a", 250) + "@example.com", "viewer", "at most"},
		} {
			res := admin.Submit("/admin/users", "/admin/users/invitations", url.Values{"email": {tc.email}, "role": {tc.role}})
			if res.Status != http.StatusUnprocessableEntity || !strings.Contains(res.Body, tc.want) {
				t.Errorf("%s: %d, want 422 saying %q\n%.300s", tc.name, res.Status, tc.want, res.Body)
			}
			if strings.Contains(res.Body, "<script>alert") {
				t.Errorf("%s: the input came back unescaped", tc.name)
			}
		}
		if res := viewer.Submit("/admin", "/admin/users/invitations", url.Values{"email": {"x@example.com"}, "role": {"admin"}}); res.Status != http.StatusForbidden {
			t.Errorf("viewer inviting: %d, want 403", res.Status)
		}
		if res := viewer.Get("/admin/users"); res.Status != http.StatusForbidden {
			t.Errorf("viewer on /admin/users: %d, want 403", res.Status)
		}
		after := snapshotTables(t, s)
		delete(before, "audit_log")
		delete(after, "audit_log") // the refusals are audited
		if fmt.Sprint(after) != fmt.Sprint(before) {
			t.Fatalf("refused invitations wrote:\nbefore %v\nafter  %v", before, after)
		}
	})
}

// TestDeadInvitationLinks: expired (the database says so) and revoked
// links answer 410 Gone on the page and on the form, audited, writing
// nothing else.
func TestDeadInvitationLinks(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		admin := s.SetUp(t)
		expired := invite(t, admin, "late@example.com", models.RoleViewer)
		revoked := invite(t, admin, "gone@example.com", models.RoleViewer)
		db, err := s.Store.SQLDB()
		modelstest.Fatal(t, err, "sql db")
		// Expired: its expiry moves back to when it was made.
		_, err = db.ExecContext(context.Background(), "UPDATE invitations SET expires_at = created_at WHERE email = 'late@example.com'")
		modelstest.Fatal(t, err, "expire")
		pending, err := s.Store.PendingInvitations(context.Background())
		modelstest.Fatal(t, err, "pending")
		list := admin.Get("/admin/users")
		if !strings.Contains(list.Body, "Expired") {
			t.Fatalf("the expired invitation is not marked:\n%s", list.Body)
		}
		var revokeID int64
		for _, inv := range pending {
			if inv.Email == "gone@example.com" {
				revokeID = inv.ID
			}
		}
		res := admin.Submit("/admin/users", fmt.Sprintf("/admin/invitations/%d/revoke", revokeID), nil)
		if res.Status != http.StatusSeeOther {
			t.Fatalf("revoke: %d\n%s", res.Status, res.Body)
		}
		if list := admin.Get("/admin/users"); strings.Contains(list.Body, fmt.Sprintf(`id="invitation-%d"`, revokeID)) || !strings.Contains(list.Body, "revoked: its link no longer works") {
			t.Fatalf("revoked invitation still listed, or no notice:\n%s", list.Body)
		}

		for _, tc := range []struct{ name, link, want string }{
			{"expired", expired, "expired on"},
			{"revoked", revoked, "was revoked"},
		} {
			guest := s.NewClient(t)
			csrf := guest.CSRF("/login")
			before := snapshotTables(t, s)
			refused := auditActions(t, s, "invitation.refused")
			if res := guest.Head(tc.link); res.Status != http.StatusGone {
				t.Errorf("%s HEAD: %d, want 410", tc.name, res.Status)
			}
			if res := guest.Get(tc.link); res.Status != http.StatusGone || !strings.Contains(res.Body, tc.want) {
				t.Errorf("%s page: %d, want 410 saying %q\n%s", tc.name, res.Status, tc.want, res.Body)
			}
			res := guest.Post(tc.link, url.Values{"_csrf": {csrf}, "password": {"a perfectly fine long password"}})
			if res.Status != http.StatusGone || !strings.Contains(res.Body, tc.want) {
				t.Errorf("%s form: %d, want 410 saying %q\n%s", tc.name, res.Status, tc.want, res.Body)
			}
			if n := auditActions(t, s, "invitation.refused"); n != refused+2 {
				t.Errorf("%s: %d refusals audited, want 2", tc.name, n-refused)
			}
			after := snapshotTables(t, s)
			delete(before, "audit_log")
			delete(after, "audit_log")
			if fmt.Sprint(after) != fmt.Sprint(before) {
				t.Errorf("%s link wrote:\n%v\n%v", tc.name, before, after)
			}
		}
		for _, email := range []string{"late@example.com", "gone@example.com"} {
			if _, err := s.Store.UserByEmail(context.Background(), email); err == nil {
				t.Errorf("a dead link created %s", email)
			}
		}
	})
}

// TestChangeRoleAndRemove: roles change with a select; the last admin
// can be neither demoted nor removed (409 with a friendly sentence);
// removing someone ends their sessions and revokes their tokens.
func TestChangeRoleAndRemove(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		ctx := context.Background()
		admin := s.SetUp(t)
		me, err := s.Store.UserByEmail(ctx, webtest.AdminEmail)
		modelstest.Fatal(t, err, "admin")
		lee, leeClient := s.AddUser(t, "lee@example.com", models.RoleViewer)
		_, plain, err := s.Store.CreateToken(ctx, models.DefaultPageID, models.TokenInput{Name: "lee", Scopes: []models.Scope{models.ScopeRead}}, lee.ID)
		modelstest.Fatal(t, err, "token")

		res := admin.Submit("/admin/users", fmt.Sprintf("/admin/users/%d/role", me.ID), url.Values{"role": {"viewer"}})
		if res.Status != http.StatusConflict || !strings.Contains(res.Body, "is the only admin") {
			t.Fatalf("demote the last admin: %d\n%.500s", res.Status, res.Body)
		}
		res = admin.Submit("/admin/users", fmt.Sprintf("/admin/users/%d/role", lee.ID), url.Values{"role": {"superuser"}})
		if res.Status != http.StatusUnprocessableEntity || !strings.Contains(res.Body, "Choose a role") {
			t.Fatalf("unknown role: %d", res.Status)
		}
		res = admin.Submit("/admin/users", fmt.Sprintf("/admin/users/%d/role", lee.ID), url.Values{"role": {"operator"}})
		if res.Status != http.StatusSeeOther {
			t.Fatalf("promote lee: %d\n%s", res.Status, res.Body)
		}
		if list := admin.Get("/admin/users"); !strings.Contains(list.Body, "lee@example.com is now an operator.") {
			t.Fatalf("no notice of the change:\n%s", list.Body)
		}
		if res := admin.Get(fmt.Sprintf("/admin/users/%d/remove", me.ID)); res.Status != http.StatusOK || !strings.Contains(res.Body, "danger-zone") {
			t.Fatalf("confirm page: %d", res.Status)
		}
		res = admin.Submit("/admin/users", fmt.Sprintf("/admin/users/%d/remove", me.ID), nil)
		if res.Status != http.StatusConflict || !strings.Contains(res.Body, "is the only admin") {
			t.Fatalf("remove the last admin: %d", res.Status)
		}
		confirm := admin.Get(fmt.Sprintf("/admin/users/%d/remove", lee.ID))
		if !strings.Contains(confirm.Body, "sessions end at once") {
			t.Fatalf("confirm page says nothing of sessions:\n%s", confirm.Body)
		}
		res = admin.Submit(fmt.Sprintf("/admin/users/%d/remove", lee.ID), fmt.Sprintf("/admin/users/%d/remove", lee.ID), nil)
		if res.Status != http.StatusSeeOther {
			t.Fatalf("remove lee: %d\n%s", res.Status, res.Body)
		}
		if res := leeClient.Get("/admin"); res.Status != http.StatusSeeOther {
			t.Fatalf("removed user's session: %d, want 303 to sign in", res.Status)
		}
		if res := apiCall(t, s, plain, http.MethodGet, "/api/v1/components", ""); res.Status != http.StatusUnauthorized {
			t.Fatalf("removed user's token: %d", res.Status)
		}
		if res := admin.Get(fmt.Sprintf("/admin/users/%d/remove", lee.ID)); res.Status != http.StatusNotFound {
			t.Fatalf("removed user's confirm page: %d", res.Status)
		}
	})
}
