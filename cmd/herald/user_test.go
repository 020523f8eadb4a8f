package main

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
)

// databaseURL is where databaseEnv points herald.
func databaseURL(env []string, dataDir string) string {
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "HERALD_DATABASE_URL="); ok {
			return v
		}
	}
	return filepath.Join(dataDir, "herald.db")
}

// withStore opens the database the commands use, for what no command
// does (turning two-factor sign-in on), and to check what they did.
func withStore(t *testing.T, env []string, dataDir string, fn func(ctx context.Context, s *models.Store)) {
	t.Helper()
	ctx := context.Background()
	s, err := models.Open(ctx, databaseURL(env, dataDir), models.Options{})
	modelstest.Fatal(t, err, "open the database")
	defer s.Close()
	fn(ctx, s)
}

var loginCSRF = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// browserSignIn signs in to a running herald as a browser would, and
// returns the client holding the session cookie.
func browserSignIn(t *testing.T, base, email, password string) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 5 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Get(base + "/login")
	if err != nil {
		t.Fatalf("GET /login: %v", err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	m := loginCSRF.FindStringSubmatch(string(body))
	if m == nil {
		t.Fatalf("no CSRF token on /login")
	}
	res, err = c.PostForm(base+"/login", url.Values{"_csrf": {m[1]}, "email": {email}, "password": {password}})
	if err != nil {
		t.Fatalf("POST /login: %v", err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in as %s: %d", email, res.StatusCode)
	}
	return c
}

func signedIn(t *testing.T, c *http.Client, base string) bool {
	t.Helper()
	res, err := c.Get(base + "/admin/account")
	if err != nil {
		t.Fatalf("GET /admin/account: %v", err)
	}
	res.Body.Close()
	return res.StatusCode == http.StatusOK
}

// TestBinaryUserCommands drives herald user create, list, reset-password
// and reset-2fa on the real binary, on both engines: a person created
// from the command line signs in, shows up in the list with their last
// sign-in, is signed out everywhere by a password reset, and gets their
// two-factor sign-in reset; every change is audited as the command line's.
func TestBinaryUserCommands(t *testing.T) {
	for _, engine := range modelstest.Engines {
		t.Run(string(engine), func(t *testing.T) {
			t.Parallel()
			dataDir := t.TempDir()
			env := databaseEnv(t, engine, dataDir)
			const password = "correct horse battery staple\n"

			for _, tc := range []struct{ args, want string }{
				{"user create --email Op@Example.com --role operator --password-stdin", "operator op@example.com created (id 1)\n"},
				{"user create --email vi@example.com --role viewer --password-stdin", "viewer vi@example.com created (id 2)\n"},
				{"admin create --email ad@example.com --password-stdin", "admin ad@example.com created (id 3)\n"},
			} {
				r := runHerald(t, env, password, strings.Fields(tc.args)...)
				if r.code != 0 || r.stdout != tc.want {
					t.Fatalf("herald %s: exit %d, stdout %q, want %q\n%s", tc.args, r.code, r.stdout, tc.want, r.stderr)
				}
				if strings.Contains(r.stdout+r.stderr, "correct horse") {
					t.Fatal("the password was echoed")
				}
			}
			list := runHerald(t, env, "", "user", "list")
			if list.code != 0 {
				t.Fatalf("user list: exit %d\n%s", list.code, list.stderr)
			}
			lines := strings.Split(strings.TrimSpace(list.stdout), "\n")
			if len(lines) != 4 || strings.Join(strings.Fields(lines[0]), " ") != "ID E-MAIL ROLE 2FA LAST SIGN-IN" {
				t.Fatalf("user list:\n%s", list.stdout)
			}
			for i, want := range []string{"3 ad@example.com admin off never", "2 vi@example.com viewer off never", "1 op@example.com operator off never"} {
				if got := strings.Join(strings.Fields(lines[i+1]), " "); !strings.Contains(strings.Join(strings.Fields(list.stdout), " "), want) {
					t.Errorf("user list lacks %q (line %d: %q):\n%s", want, i+1, got, list.stdout)
				}
			}

			// The operator signs in twice; the list shows when.
			s := startServer(t, env...)
			s.waitReady(t)
			first := browserSignIn(t, s.url, "op@example.com", "correct horse battery staple")
			second := browserSignIn(t, s.url, "op@example.com", "correct horse battery staple")
			list = runHerald(t, env, "", "user", "list")
			if !regexp.MustCompile(`1\s+op@example\.com\s+operator\s+off\s+\d{4}-\d\d-\d\d \d\d:\d\d UTC`).MatchString(list.stdout) {
				t.Errorf("user list after a sign-in:\n%s", list.stdout)
			}

			// A weak password is refused and ends nothing; a good one
			// ends both sessions.
			r := runHerald(t, env, "password12\n", "user", "reset-password", "--email", "op@example.com", "--password-stdin")
			if r.code != 1 || !strings.Contains(r.stderr, "too easy to guess") {
				t.Fatalf("reset to a weak password: exit %d, stderr %q", r.code, r.stderr)
			}
			if !signedIn(t, first, s.url) {
				t.Fatal("a refused reset signed the operator out")
			}
			r = runHerald(t, env, "a whole new passphrase\n", "user", "reset-password", "--email", "OP@example.com", "--password-stdin")
			if r.code != 0 || r.stdout != "password of op@example.com reset; 2 sessions ended\n" {
				t.Fatalf("reset-password: exit %d, stdout %q\n%s", r.code, r.stdout, r.stderr)
			}
			if signedIn(t, first, s.url) || signedIn(t, second, s.url) {
				t.Fatal("a session outlived the password reset")
			}
			if !signedIn(t, browserSignIn(t, s.url, "op@example.com", "a whole new passphrase"), s.url) {
				t.Fatal("the new password does not sign in")
			}
			s.stop(t)

			// Two-factor sign-in on (as enrolling would leave it), then
			// reset for the locked-out.
			withStore(t, env, dataDir, func(ctx context.Context, st *models.Store) {
				db, err := st.SQLDB()
				modelstest.Fatal(t, err, "sql db")
				q := "UPDATE users SET totp_secret = 'sealed', totp_enabled_at = CURRENT_TIMESTAMP WHERE email = 'vi@example.com'"
				_, err = db.ExecContext(ctx, q)
				modelstest.Fatal(t, err, "turn 2FA on")
			})
			if list := runHerald(t, env, "", "user", "list"); !regexp.MustCompile(`2\s+vi@example\.com\s+viewer\s+on\s+never`).MatchString(list.stdout) {
				t.Fatalf("user list with 2FA on:\n%s", list.stdout)
			}
			r = runHerald(t, env, "", "user", "reset-2fa", "--email", "vi@example.com")
			if r.code != 0 || !strings.HasPrefix(r.stdout, "two-factor sign-in of vi@example.com reset") {
				t.Fatalf("reset-2fa: exit %d, stdout %q\n%s", r.code, r.stdout, r.stderr)
			}
			if list := runHerald(t, env, "", "user", "list"); !regexp.MustCompile(`2\s+vi@example\.com\s+viewer\s+off\s+never`).MatchString(list.stdout) {
				t.Fatalf("user list after reset-2fa:\n%s", list.stdout)
			}
			withStore(t, env, dataDir, func(ctx context.Context, st *models.Store) {
				es, err := st.AuditEntries(ctx, models.AuditFilter{ActorName: "command line"})
				modelstest.Fatal(t, err, "audit")
				var actions []string
				for _, e := range es {
					actions = append(actions, e.Action)
				}
				got := strings.Join(actions, " ")
				for _, want := range []string{"user.create", "user.password", "user.sessions_end", "user.2fa_reset"} {
					if !strings.Contains(got, want) {
						t.Errorf("no %s audited as the command line's: %s", want, got)
					}
				}
			})
		})
	}
}

// TestBinaryUserCommandsRefuseBadInput: each mistake is one line on
// standard error, from Herald, exit 1, nothing created.
func TestBinaryUserCommandsRefuseBadInput(t *testing.T) {
	for _, engine := range modelstest.Engines {
		t.Run(string(engine), func(t *testing.T) {
			t.Parallel()
			dataDir := t.TempDir()
			env := databaseEnv(t, engine, dataDir)
			if r := runHerald(t, env, "correct horse battery staple\n", "user", "create", "--email", "op@example.com", "--role", "operator", "--password-stdin"); r.code != 0 {
				t.Fatalf("first user: %d\n%s", r.code, r.stderr)
			}
			for _, tc := range []struct {
				name, stdin, want string
				args              []string
			}{
				{"duplicate e-mail in another case", "correct horse battery staple\n", "email: A user with this e-mail already exists.",
					[]string{"user", "create", "--email", "OP@Example.COM", "--role", "viewer", "--password-stdin"}},
				{"unknown role", "correct horse battery staple\n", `"root" is not a role: choose viewer, operator or admin`,
					[]string{"user", "create", "--email", "x@example.com", "--role", "root", "--password-stdin"}},
				{"no role", "correct horse battery staple\n", "usage: herald user create --email E --role viewer|operator|admin --password-stdin",
					[]string{"user", "create", "--email", "x@example.com", "--password-stdin"}},
				{"no password-stdin", "", "usage: herald user create",
					[]string{"user", "create", "--email", "x@example.com", "--role", "viewer"}},
				{"weak password", "1234567890\n", "password: This password is too easy to guess",
					[]string{"user", "create", "--email", "x@example.com", "--role", "viewer", "--password-stdin"}},
				{"invalid UTF-8 in the e-mail", "correct horse battery staple\n", "email: This is not valid UTF-8",
					[]string{"user", "create", "--email", "x\xff@example.com", "--role", "viewer", "--password-stdin"}},
				{"control character in the password", "correct horse\x1bbattery staple\n", "password: Remove the control character U+001B",
					[]string{"user", "create", "--email", "x@example.com", "--role", "viewer", "--password-stdin"}},
				{"markup in the e-mail", "correct horse battery staple\n", "email: Enter a valid e-mail address",
					[]string{"user", "create", "--email", "<script>@example.com", "--role", "viewer", "--password-stdin"}},
				{"reset an unknown user", "a whole new passphrase\n", `no user has the e-mail address "nobody@example.com"`,
					[]string{"user", "reset-password", "--email", "nobody@example.com", "--password-stdin"}},
				{"reset without password-stdin", "", "usage: herald user reset-password --email E --password-stdin",
					[]string{"user", "reset-password", "--email", "op@example.com"}},
				{"reset 2FA of an unknown user", "", `no user has the e-mail address "nobody@example.com"`,
					[]string{"user", "reset-2fa", "--email", "nobody@example.com"}},
				{"reset 2FA without an e-mail", "", "usage: herald user reset-2fa --email E",
					[]string{"user", "reset-2fa"}},
				{"list with arguments", "", "usage: herald user list", []string{"user", "list", "everyone"}},
				{"no subcommand", "", "usage: herald user create|list|reset-password|reset-2fa", []string{"user"}},
				{"unknown subcommand", "", `unknown command "user delete"`, []string{"user", "delete"}},
			} {
				r := runHerald(t, env, tc.stdin, tc.args...)
				lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
				last := lines[len(lines)-1]
				if r.code != 1 || !strings.HasPrefix(last, "herald: ") || !strings.Contains(last, tc.want) {
					t.Errorf("%s: exit %d, stderr %q; want 1 and one line saying %q", tc.name, r.code, r.stderr, tc.want)
				}
				for _, l := range lines[:len(lines)-1] {
					if !strings.Contains(l, "migration applied") {
						t.Errorf("%s: stray line on stderr: %q", tc.name, l)
					}
				}
				if strings.Contains(r.stderr, "SELECT") || strings.Contains(r.stderr, "level=ERROR") {
					t.Errorf("%s: SQL or an ERROR log reached the output: %q", tc.name, r.stderr)
				}
			}
			list := runHerald(t, env, "", "user", "list")
			if n := len(strings.Split(strings.TrimSpace(list.stdout), "\n")); n != 2 {
				t.Fatalf("after the refused commands the list has %d lines, want a header and one user:\n%s", n, list.stdout)
			}
		})
	}
}
