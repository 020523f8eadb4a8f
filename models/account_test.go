package models_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
)

const accountPassword = "correct horse battery"

// accountUser is a user with accountPassword and two sessions: the one
// "in use" and another.
func accountUser(t *testing.T, s *models.Store, email string, role models.Role) (u *models.User, current, other *models.Session) {
	t.Helper()
	ctx := context.Background()
	u, err := s.CreateUser(ctx, models.UserInput{Email: email, Password: accountPassword, Role: role})
	modelstest.Fatal(t, err, "user")
	current, err = s.CreateSession(ctx, u.ID, time.Hour, models.SessionOrigin{IP: "192.0.2.1", UserAgent: "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"})
	modelstest.Fatal(t, err, "session")
	other, err = s.CreateSession(ctx, u.ID, time.Hour, models.SessionOrigin{IP: "198.51.100.7", UserAgent: "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"})
	modelstest.Fatal(t, err, "session")
	return u, current, other
}

func wantFieldError(t *testing.T, err error, field, want string) {
	t.Helper()
	var ve *models.ValidationError
	if !errors.As(err, &ve) || !strings.Contains(ve.Fields[field], want) {
		t.Fatalf("err = %v, want %q under %s", err, want, field)
	}
}

func auditActions(t *testing.T, s *models.Store, action string) int {
	t.Helper()
	es, err := s.AuditEntries(context.Background(), models.AuditFilter{Action: action})
	modelstest.Fatal(t, err, "audit")
	return len(es)
}

// TestChangePassword: the current password is required and a wrong one
// is audited; the new one meets the same strength rule as everywhere;
// on success the other sessions end and this one stays.
func TestChangePassword(t *testing.T) {
	eachClocked(t, func(t *testing.T, s *models.Store, clock *modelstest.Clock) {
		ctx := context.Background()
		u, current, other := accountUser(t, s, "ana@example.com", models.RoleViewer)
		change := func(cur, next string) error {
			_, err := s.ChangePassword(ctx, u.ID, current.ID, models.PasswordChangeInput{CurrentPassword: cur, NewPassword: next})
			return err
		}
		wantFieldError(t, change("", "a brand new passphrase"), "current_password", "Enter your current password")
		wantFieldError(t, change("not my password", "a brand new passphrase"), "current_password", "not your current password")
		if n := auditActions(t, s, "user.wrong_password"); n != 1 {
			t.Fatalf("%d user.wrong_password entries, want 1", n)
		}
		wantFieldError(t, change(accountPassword, "1234567890"), "new_password", "too easy to guess")
		wantFieldError(t, change(accountPassword, "ana@example.com"), "new_password", "too easy to guess")
		wantFieldError(t, change(accountPassword, "short"), "new_password", "at least 10")
		wantFieldError(t, change(accountPassword, accountPassword), "new_password", "different from your current")
		if _, err := s.Authenticate(ctx, "ana@example.com", accountPassword); err != nil {
			t.Fatalf("after refused changes the old password fails: %v", err)
		}

		ended, err := s.ChangePassword(ctx, u.ID, current.ID, models.PasswordChangeInput{CurrentPassword: accountPassword, NewPassword: "a brand new passphrase"})
		modelstest.Fatal(t, err, "change password")
		if ended != 1 {
			t.Fatalf("ended %d sessions, want 1", ended)
		}
		if _, err := s.SessionUser(ctx, current.ID); err != nil {
			t.Fatalf("the session that changed the password ended: %v", err)
		}
		if _, err := s.SessionUser(ctx, other.ID); !errors.Is(err, models.ErrNotFound) {
			t.Fatalf("the other session: %v, want it ended", err)
		}
		if _, err := s.Authenticate(ctx, "ana@example.com", accountPassword); !errors.Is(err, models.ErrBadCredentials) {
			t.Fatalf("old password after the change: %v", err)
		}
		if _, err := s.Authenticate(ctx, "ana@example.com", "a brand new passphrase"); err != nil {
			t.Fatalf("new password: %v", err)
		}
		es, err := s.AuditEntries(ctx, models.AuditFilter{Action: "user.password"})
		modelstest.Fatal(t, err, "audit")
		if len(es) != 1 || !strings.Contains(es[0].Summary, "1 other session signed out") || strings.Contains(es[0].Summary+es[0].After, "brand new") {
			t.Fatalf("user.password entries: %+v", es)
		}
	})
}

// TestWrongPasswordsAreLimited: five wrong current passwords within 15
// minutes, and the sixth try is refused without being compared, even
// with the right password; later it works again.
func TestWrongPasswordsAreLimited(t *testing.T) {
	eachClocked(t, func(t *testing.T, s *models.Store, clock *modelstest.Clock) {
		ctx := context.Background()
		u, _, _ := accountUser(t, s, "ana@example.com", models.RoleOperator)
		for i := range 5 {
			_, err := s.ChangeEmail(ctx, u.ID, models.EmailChangeInput{Email: "new@example.com", CurrentPassword: "guess number " + string(rune('a'+i))})
			wantFieldError(t, err, "current_password", "not your current password")
			clock.Add(time.Minute)
		}
		_, err := s.ChangePassword(ctx, u.ID, "", models.PasswordChangeInput{CurrentPassword: accountPassword, NewPassword: "a brand new passphrase"})
		if !errors.Is(err, models.ErrTooManyAttempts) {
			t.Fatalf("sixth try: %v, want ErrTooManyAttempts", err)
		}
		clock.Add(11 * time.Minute) // the first wrong one is now 15 minutes old
		_, err = s.ChangePassword(ctx, u.ID, "", models.PasswordChangeInput{CurrentPassword: accountPassword, NewPassword: "a brand new passphrase"})
		modelstest.Fatal(t, err, "change after the window")
	})
}

// TestChangeEmail: the password is required, the address is checked,
// and one another user has (in any case) is refused.
func TestChangeEmail(t *testing.T) {
	eachClocked(t, func(t *testing.T, s *models.Store, clock *modelstest.Clock) {
		ctx := context.Background()
		u, _, _ := accountUser(t, s, "ana@example.com", models.RoleViewer)
		accountUser(t, s, "bo@example.com", models.RoleViewer)
		change := func(email, password string) (*models.User, error) {
			return s.ChangeEmail(ctx, u.ID, models.EmailChangeInput{Email: email, CurrentPassword: password})
		}
		_, err := change("BO@Example.com", accountPassword)
		wantFieldError(t, err, "email", "Another user has this e-mail address")
		_, err = change("not an address", accountPassword)
		wantFieldError(t, err, "email", "valid e-mail address")
		_, err = change("<script>alert(1)</script>@example.com", accountPassword)
		wantFieldError(t, err, "email", "valid e-mail address")
		_, err = change("Ana@Example.com", accountPassword)
		wantFieldError(t, err, "email", "already your e-mail address")
		_, err = change("ana.new@example.com", "wrong password")
		wantFieldError(t, err, "current_password", "not your current password")
		if auditActions(t, s, "user.email") != 0 {
			t.Fatal("a refused change was audited as done")
		}
		got, err := change(" Ana.New@Example.com ", accountPassword)
		modelstest.Fatal(t, err, "change e-mail")
		if got.Email != "ana.new@example.com" {
			t.Fatalf("new e-mail %q", got.Email)
		}
		if _, err := s.Authenticate(ctx, "ANA.NEW@example.com", accountPassword); err != nil {
			t.Fatalf("sign in with the new address: %v", err)
		}
		if _, err := s.Authenticate(ctx, "ana@example.com", accountPassword); !errors.Is(err, models.ErrBadCredentials) {
			t.Fatalf("sign in with the old address: %v", err)
		}
		es, err := s.AuditEntries(ctx, models.AuditFilter{Action: "user.email"})
		modelstest.Fatal(t, err, "audit")
		if len(es) != 1 || !strings.Contains(es[0].Before, "ana@example.com") || !strings.Contains(es[0].After, "ana.new@example.com") {
			t.Fatalf("user.email entries: %+v", es)
		}
	})
}

// TestSessionsListAndEnd: a user's sessions are listed with where they
// came from; last_seen_at moves at most once a minute; one session can
// be ended by its handle, never the one in use, never another user's.
func TestSessionsListAndEnd(t *testing.T) {
	eachClocked(t, func(t *testing.T, s *models.Store, clock *modelstest.Clock) {
		ctx := context.Background()
		u, current, other := accountUser(t, s, "ana@example.com", models.RoleViewer)
		_, _, stranger := accountUser(t, s, "bo@example.com", models.RoleViewer)

		seen := func(id string) time.Time {
			t.Helper()
			ss, err := s.UserSessions(ctx, u.ID)
			modelstest.Fatal(t, err, "sessions")
			for _, x := range ss {
				if x.ID == id {
					return *x.LastSeenAt
				}
			}
			t.Fatalf("session not listed")
			return time.Time{}
		}
		start := clock.Now()
		clock.Add(30 * time.Second)
		_, err := s.SessionUser(ctx, current.ID)
		modelstest.Fatal(t, err, "session user")
		if got := seen(current.ID); !got.Equal(start) {
			t.Fatalf("last seen moved after 30 s to %v; want one write a minute", got)
		}
		clock.Add(45 * time.Second)
		_, err = s.SessionUser(ctx, current.ID)
		modelstest.Fatal(t, err, "session user")
		if got := seen(current.ID); !got.Equal(clock.Now()) {
			t.Fatalf("last seen %v after 75 s, want %v", got, clock.Now())
		}

		ss, err := s.UserSessions(ctx, u.ID)
		modelstest.Fatal(t, err, "sessions")
		if len(ss) != 2 || ss[0].ID != current.ID || ss[0].Browser() != "Firefox on Linux" || ss[1].Browser() != "Safari on iPhone" || ss[1].IP != "198.51.100.7" {
			t.Fatalf("sessions: %+v", ss)
		}
		if err := s.EndUserSession(ctx, u.ID, current.ID, current.Handle()); !errors.Is(err, models.ErrCurrentSession) {
			t.Fatalf("end the session in use: %v", err)
		}
		if err := s.EndUserSession(ctx, u.ID, current.ID, stranger.Handle()); !errors.Is(err, models.ErrNotFound) {
			t.Fatalf("end another user's session: %v", err)
		}
		if _, err := s.SessionUser(ctx, stranger.ID); err != nil {
			t.Fatalf("the other user's session ended: %v", err)
		}
		modelstest.Fatal(t, s.EndUserSession(ctx, u.ID, current.ID, other.Handle()), "end the other session")
		if _, err := s.SessionUser(ctx, other.ID); !errors.Is(err, models.ErrNotFound) {
			t.Fatalf("ended session still works: %v", err)
		}
		es, err := s.AuditEntries(ctx, models.AuditFilter{Action: "user.sessions_end"})
		modelstest.Fatal(t, err, "audit")
		if len(es) != 1 || !strings.Contains(es[0].Summary, "Safari on iPhone from 198.51.100.7") {
			t.Fatalf("user.sessions_end entries: %+v", es)
		}
		if strings.Contains(current.Handle(), current.ID) || len(current.Handle()) != 16 {
			t.Fatalf("handle %q", current.Handle())
		}
	})
}

// TestResetPasswordEndsEverySession: the command line's reset signs the
// user out everywhere.
func TestResetPasswordEndsEverySession(t *testing.T) {
	eachClocked(t, func(t *testing.T, s *models.Store, _ *modelstest.Clock) {
		ctx := context.Background()
		u, current, other := accountUser(t, s, "ana@example.com", models.RoleViewer)
		_, err := s.ResetPassword(ctx, u.ID, "weak")
		wantFieldError(t, err, "password", "at least 10")
		if _, err := s.SessionUser(ctx, current.ID); err != nil {
			t.Fatalf("a refused reset ended a session: %v", err)
		}
		ended, err := s.ResetPassword(ctx, u.ID, "a brand new passphrase")
		modelstest.Fatal(t, err, "reset")
		if ended != 2 {
			t.Fatalf("ended %d, want 2", ended)
		}
		for _, sess := range []*models.Session{current, other} {
			if _, err := s.SessionUser(ctx, sess.ID); !errors.Is(err, models.ErrNotFound) {
				t.Fatalf("session survived the reset: %v", err)
			}
		}
		if _, err := s.Authenticate(ctx, "ana@example.com", "a brand new passphrase"); err != nil {
			t.Fatalf("new password: %v", err)
		}
	})
}

// TestTokensNeverExceedTheirCreatorsRole: CreateToken refuses a scope
// beyond the creator's role, naming it; a user sees and revokes only
// their own tokens.
func TestTokensNeverExceedTheirCreatorsRole(t *testing.T) {
	eachClocked(t, func(t *testing.T, s *models.Store, _ *modelstest.Clock) {
		ctx := context.Background()
		viewer, _, _ := accountUser(t, s, "vi@example.com", models.RoleViewer)
		operator, _, _ := accountUser(t, s, "op@example.com", models.RoleOperator)
		admin, _, _ := accountUser(t, s, "ad@example.com", models.RoleAdmin)
		for _, tc := range []struct {
			user  *models.User
			scope models.Scope
		}{
			{viewer, models.ScopeComponentsWrite},
			{viewer, models.ScopeIncidentsWrite},
			{operator, models.ScopePageWrite},
			{operator, models.ScopeUsersWrite},
		} {
			_, _, err := s.CreateToken(ctx, models.DefaultPageID, models.TokenInput{Name: "t", Scopes: []models.Scope{models.ScopeRead, tc.scope}}, tc.user.ID)
			wantFieldError(t, err, "scopes", "“"+string(tc.scope)+"”")
		}
		if n := auditActions(t, s, "token.create"); n != 0 {
			t.Fatalf("refused tokens were created: %d", n)
		}
		for _, u := range []*models.User{viewer, operator, admin} {
			_, _, err := s.CreateToken(ctx, models.DefaultPageID, models.TokenInput{Name: "mine", Scopes: models.ScopesFor(u.Role)}, u.ID)
			modelstest.Fatal(t, err, "token with every scope of %s", u.Role)
		}
		mine, err := s.UserTokens(ctx, operator.ID)
		modelstest.Fatal(t, err, "own tokens")
		if len(mine) != 1 || !strings.Contains(mine[0].Scopes, "channels:write") {
			t.Fatalf("operator's tokens: %+v", mine)
		}
		adminTokens, err := s.UserTokens(ctx, admin.ID)
		modelstest.Fatal(t, err, "admin's tokens")
		if _, err := s.RevokeUserToken(ctx, operator.ID, adminTokens[0].ID); !errors.Is(err, models.ErrNotFound) {
			t.Fatalf("operator revokes the admin's token: %v", err)
		}
		if got, _ := s.Token(ctx, adminTokens[0].ID); got.RevokedAt != nil {
			t.Fatal("another's token was revoked")
		}
		_, err = s.RevokeUserToken(ctx, operator.ID, mine[0].ID)
		modelstest.Fatal(t, err, "revoke own")
		if got, _ := s.Token(ctx, mine[0].ID); got.RevokedAt == nil {
			t.Fatal("own token not revoked")
		}
	})
}

func TestBrowserInPlainWords(t *testing.T) {
	for ua, want := range map[string]string{
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36":               "Chrome on Windows",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0": "Edge on Windows",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15":            "Safari on macOS",
		"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36":         "Chrome on Android",
		"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/126.0.0.0 Safari/537.36":                 "Headless Chrome on Linux",
		"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0":                                                        "Firefox on Linux",
		"Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36":                "Chrome on ChromeOS",
		"curl/8.5.0":          "curl",
		"Go-http-client/1.1":  "a Go program",
		"":                    "Unknown browser",
		"<script>x</script>":  "Unknown browser",
		"SomeBot/1.0 (Linux)": "Unknown browser on Linux",
	} {
		if got := models.Browser(ua); got != want {
			t.Errorf("Browser(%q) = %q, want %q", ua, got, want)
		}
	}
}
