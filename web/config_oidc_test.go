package web

import (
	"strings"
	"testing"

	"github.com/heraldstatus/herald/models"
)

// The single sign-on settings are checked at start like the others: all
// or nothing, an absolute issuer, a mapping, and a callback URL derived
// from the base URL unless given.
func TestOIDCConfig(t *testing.T) {
	full := map[string]string{
		"HERALD_BASE_URL":           "https://status.example.com",
		"HERALD_OIDC_ISSUER":        "https://sso.example.com/realms/acme",
		"HERALD_OIDC_CLIENT_ID":     "herald",
		"HERALD_OIDC_CLIENT_SECRET": "s3cret",
		"HERALD_OIDC_DOMAINS":       "Example.com=operator, corp.example=viewer",
		"HERALD_OIDC_GROUPS":        "herald-admins=admin",
	}
	with := func(changes map[string]string) map[string]string {
		out := map[string]string{}
		for k, v := range full {
			out[k] = v
		}
		for k, v := range changes {
			out[k] = v
		}
		return out
	}
	cfg, _, err := LoadConfig("herald serve", nil, getenvFrom(full))
	if err != nil {
		t.Fatalf("full SSO configuration: %v", err)
	}
	sc := cfg.SSO()
	if !sc.Enabled() || sc.RedirectURL != "https://status.example.com/auth/oidc/callback" || sc.GroupsClaim != "groups" ||
		sc.Domains["example.com"] != models.RoleOperator || sc.Domains["corp.example"] != models.RoleViewer ||
		sc.Groups["herald-admins"] != models.RoleAdmin || strings.Join(sc.Scopes, " ") != "openid email profile groups" {
		t.Errorf("SSO config: %+v", sc)
	}
	if off, _, err := LoadConfig("herald serve", nil, getenvFrom(nil)); err != nil || off.SSO().Enabled() {
		t.Errorf("SSO without settings: enabled %v, %v", off.SSO().Enabled(), err)
	}
	given, _, err := LoadConfig("herald serve", nil, getenvFrom(with(map[string]string{
		"HERALD_OIDC_REDIRECT_URL": "https://herald.internal/auth/oidc/callback", "HERALD_OIDC_SCOPES": "openid email",
		"HERALD_OIDC_GROUPS_CLAIM": "roles"})))
	if err != nil || given.SSO().RedirectURL != "https://herald.internal/auth/oidc/callback" ||
		strings.Join(given.SSO().Scopes, " ") != "openid email" || given.SSO().GroupsClaim != "roles" {
		t.Errorf("given redirect URL, scopes and claim: %+v %v", given.SSO(), err)
	}

	bad := []struct {
		name, env string
		vars      map[string]string
	}{
		{"client ID without issuer", "HERALD_OIDC_ISSUER", map[string]string{"HERALD_OIDC_CLIENT_ID": "herald"}},
		{"issuer not a URL", "HERALD_OIDC_ISSUER", with(map[string]string{"HERALD_OIDC_ISSUER": "sso.example.com"})},
		{"no client ID", "HERALD_OIDC_CLIENT_ID", with(map[string]string{"HERALD_OIDC_CLIENT_ID": ""})},
		{"no client secret", "HERALD_OIDC_CLIENT_SECRET", with(map[string]string{"HERALD_OIDC_CLIENT_SECRET": ""})},
		{"no mapping", "HERALD_OIDC_DOMAINS", with(map[string]string{"HERALD_OIDC_DOMAINS": "", "HERALD_OIDC_GROUPS": ""})},
		{"unknown role", "HERALD_OIDC_DOMAINS", with(map[string]string{"HERALD_OIDC_DOMAINS": "example.com=owner"})},
		{"pair without role", "HERALD_OIDC_GROUPS", with(map[string]string{"HERALD_OIDC_GROUPS": "oncall"})},
		{"redirect elsewhere", "HERALD_OIDC_REDIRECT_URL", with(map[string]string{"HERALD_OIDC_REDIRECT_URL": "https://status.example.com/login"})},
	}
	for _, tc := range bad {
		_, _, err := LoadConfig("herald serve", nil, getenvFrom(tc.vars))
		if !IsConfigError(err) || !strings.Contains(err.Error(), tc.env) {
			t.Errorf("%s: error %v, want one naming %s", tc.name, err, tc.env)
		}
	}
}
