package web

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/heraldstatus/herald/sso"
)

// validateOIDC checks the single sign-on settings: all or nothing, an
// absolute issuer URL, and a role mapping (without one nobody could sign
// in). It runs after the base URL is settled, which the default redirect
// URL derives from.
func (c *Config) validateOIDC() error {
	fail := func(env, flag, format string, args ...any) error {
		return &ConfigError{Env: env, Flag: flag, Err: fmt.Errorf(format, args...)}
	}
	if c.OIDCIssuer == "" {
		if c.OIDCClientID != "" || c.OIDCClientSecret != "" || c.OIDCDomains != "" || c.OIDCGroups != "" {
			return fail("HERALD_OIDC_ISSUER", "oidc-issuer", "must be set when other HERALD_OIDC_* settings are (or unset them to turn single sign-on off)")
		}
		return nil
	}
	if !absoluteHTTP(c.OIDCIssuer) {
		return fail("HERALD_OIDC_ISSUER", "oidc-issuer", "want the provider's absolute https:// issuer URL, such as https://sso.example.com/realms/acme, got %q", c.OIDCIssuer)
	}
	if c.OIDCClientID == "" {
		return fail("HERALD_OIDC_CLIENT_ID", "oidc-client-id", "must be set with HERALD_OIDC_ISSUER: the client ID the provider gave Herald")
	}
	if c.OIDCClientSecret == "" {
		return fail("HERALD_OIDC_CLIENT_SECRET", "oidc-client-secret", "must be set with HERALD_OIDC_ISSUER: the client secret the provider gave Herald")
	}
	if c.OIDCRedirectURL == "" {
		c.OIDCRedirectURL = c.BaseURL + "/auth/oidc/callback"
	}
	if !absoluteHTTP(c.OIDCRedirectURL) || !strings.HasSuffix(strings.SplitN(c.OIDCRedirectURL, "?", 2)[0], "/auth/oidc/callback") {
		return fail("HERALD_OIDC_REDIRECT_URL", "oidc-redirect-url", "want Herald's absolute callback URL ending in /auth/oidc/callback, got %q", c.OIDCRedirectURL)
	}
	domains, err := sso.ParseMapping(c.OIDCDomains, true)
	if err != nil {
		return fail("HERALD_OIDC_DOMAINS", "oidc-domains", "%v", err)
	}
	groups, err := sso.ParseMapping(c.OIDCGroups, false)
	if err != nil {
		return fail("HERALD_OIDC_GROUPS", "oidc-groups", "%v", err)
	}
	if len(domains) == 0 && len(groups) == 0 {
		return fail("HERALD_OIDC_DOMAINS", "oidc-domains", "single sign-on needs a role mapping: set HERALD_OIDC_DOMAINS (e.g. example.com=operator) or HERALD_OIDC_GROUPS (e.g. herald-admins=admin); without one nobody could sign in")
	}
	if c.OIDCGroupsClaim == "" {
		c.OIDCGroupsClaim = "groups"
	}
	return nil
}

func absoluteHTTP(v string) bool {
	u, err := url.Parse(v)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" && u.User == nil
}

// SSO is the single sign-on configuration; its Enabled is false when
// HERALD_OIDC_ISSUER is not set. Call it on a checked Config.
func (c Config) SSO() sso.Config {
	if c.OIDCIssuer == "" {
		return sso.Config{}
	}
	domains, _ := sso.ParseMapping(c.OIDCDomains, true)
	groups, _ := sso.ParseMapping(c.OIDCGroups, false)
	scopes := strings.Fields(c.OIDCScopes)
	if len(scopes) == 0 {
		scopes = []string{"openid", "email", "profile"}
		if len(groups) > 0 {
			scopes = append(scopes, "groups")
		}
	}
	return sso.Config{Issuer: c.OIDCIssuer, ClientID: c.OIDCClientID, ClientSecret: c.OIDCClientSecret,
		RedirectURL: c.OIDCRedirectURL, Scopes: scopes, Domains: domains, GroupsClaim: c.OIDCGroupsClaim,
		Groups: groups, Timeout: c.RequestTimeout}
}
