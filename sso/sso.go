// Package sso signs team members in with OpenID Connect: it discovers the
// identity provider, builds the authorization request (state, nonce and
// PKCE), exchanges the code, verifies the ID token and maps its e-mail
// domain or groups to a Herald role. It keeps no state of its own between
// requests: the caller stores the state, nonce and verifier in the signed
// cookie session.
package sso

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/heraldstatus/herald/models"
	"golang.org/x/oauth2"
)

// Config is what Herald needs to know about the identity provider.
type Config struct {
	Issuer       string
	ClientID     string
	ClientSecret string
	// RedirectURL is Herald's callback, as registered at the provider.
	RedirectURL string
	// Scopes requested; openid is always among them.
	Scopes []string
	// Domains maps a lower-case e-mail domain to a role.
	Domains map[string]models.Role
	// GroupsClaim names the ID token claim that lists the user's groups;
	// Groups maps a group to a role.
	GroupsClaim string
	Groups      map[string]models.Role
	// Timeout bounds each request to the provider (discovery, keys,
	// token exchange).
	Timeout time.Duration
}

// Enabled reports whether SSO is configured.
func (c Config) Enabled() bool { return c.Issuer != "" }

// ErrUnavailable is returned while the provider's discovery document
// cannot be fetched.
var ErrUnavailable = errors.New("sso: identity provider unavailable")

// ErrNonce is returned when the ID token's nonce is not the one Herald
// sent: the token was issued for another sign-in.
var ErrNonce = errors.New("sso: ID token nonce does not match")

// Client talks to one identity provider. Discovery happens at start and,
// when the provider was down then, again on the next sign-in.
type Client struct {
	cfg    Config
	http   *http.Client
	logger *slog.Logger

	mu       sync.Mutex
	provider *oidc.Provider
}

// New builds a client; it does not contact the provider (see Discover).
func New(cfg Config, logger *slog.Logger) *Client {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	return &Client{cfg: cfg, logger: logger, http: &http.Client{Timeout: cfg.Timeout}}
}

// Issuer is the provider's issuer URL.
func (c *Client) Issuer() string { return c.cfg.Issuer }

// Discover fetches the provider's discovery document, once: later calls
// return at once when an earlier one succeeded. A failure is logged and
// returned (ErrUnavailable); the next call, the next click on "Sign in
// with SSO", tries again. Calls wait for each other, so a provider that
// hangs gets one request at a time.
func (c *Client) Discover(ctx context.Context) (*oidc.Provider, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.provider != nil {
		return c.provider, nil
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	// The provider keeps this context's client for fetching its keys
	// later, not its deadline.
	p, err := oidc.NewProvider(oidc.ClientContext(ctx, c.http), c.cfg.Issuer)
	if err != nil {
		c.logger.Warn("sso provider discovery failed; sign-in with SSO is unavailable until it succeeds",
			"issuer", c.cfg.Issuer, "error", err)
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	c.provider = p
	c.logger.Info("sso provider discovered", "issuer", c.cfg.Issuer)
	return p, nil
}

func (c *Client) oauth(p *oidc.Provider) *oauth2.Config {
	scopes := append([]string{oidc.ScopeOpenID}, c.cfg.Scopes...)
	return &oauth2.Config{ClientID: c.cfg.ClientID, ClientSecret: c.cfg.ClientSecret, RedirectURL: c.cfg.RedirectURL,
		Endpoint: p.Endpoint(), Scopes: dedupe(scopes)}
}

func dedupe(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range in {
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// Attempt is one sign-in in progress: what the browser's session keeps
// between the redirect to the provider and its callback.
type Attempt struct {
	State    string
	Nonce    string
	Verifier string
}

// NewAttempt makes fresh random state, nonce and PKCE verifier.
func NewAttempt() Attempt {
	return Attempt{State: random(), Nonce: random(), Verifier: oauth2.GenerateVerifier()}
}

func random() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// AuthURL is the provider's authorization URL for a.
func (c *Client) AuthURL(ctx context.Context, a Attempt) (string, error) {
	p, err := c.Discover(ctx)
	if err != nil {
		return "", err
	}
	return c.oauth(p).AuthCodeURL(a.State, oidc.Nonce(a.Nonce), oauth2.S256ChallengeOption(a.Verifier)), nil
}

// Identity is who the provider says signed in.
type Identity struct {
	Issuer        string
	Subject       string
	Email         string
	EmailVerified bool
	Groups        []string
}

// Exchange trades code for tokens with a's PKCE verifier and verifies the
// ID token: signature, issuer, audience, expiry, then a's nonce
// (ErrNonce).
func (c *Client) Exchange(ctx context.Context, a Attempt, code string) (*Identity, error) {
	p, err := c.Discover(ctx)
	if err != nil {
		return nil, err
	}
	ctx = oidc.ClientContext(ctx, c.http)
	tok, err := c.oauth(p).Exchange(ctx, code, oauth2.VerifierOption(a.Verifier))
	if err != nil {
		return nil, fmt.Errorf("sso: exchange code: %w", err)
	}
	raw, ok := tok.Extra("id_token").(string)
	if !ok || raw == "" {
		return nil, errors.New("sso: the token response has no ID token")
	}
	idt, err := p.Verifier(&oidc.Config{ClientID: c.cfg.ClientID}).Verify(ctx, raw)
	if err != nil {
		return nil, fmt.Errorf("sso: verify ID token: %w", err)
	}
	if idt.Nonce != a.Nonce {
		return nil, ErrNonce
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return nil, fmt.Errorf("sso: read ID token claims: %w", err)
	}
	id := &Identity{Issuer: idt.Issuer, Subject: idt.Subject}
	id.Email, _ = claims["email"].(string)
	switch v := claims["email_verified"].(type) {
	case bool:
		id.EmailVerified = v
	case string: // some providers send "true"
		id.EmailVerified = v == "true"
	}
	id.Groups = stringList(claims[c.groupsClaim()])
	return id, nil
}

func (c *Client) groupsClaim() string {
	if c.cfg.GroupsClaim == "" {
		return "groups"
	}
	return c.cfg.GroupsClaim
}

// stringList reads a claim that is a list of strings or one string.
func stringList(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, x := range v {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// Role is the highest role the mapping gives id's e-mail domain or
// groups; false when none matches.
func (c *Client) Role(id *Identity) (models.Role, bool) {
	return c.cfg.role(id)
}

func (c Config) role(id *Identity) (models.Role, bool) {
	var best models.Role
	found := false
	consider := func(r models.Role, ok bool) {
		if ok && (!found || r.AtLeast(best)) {
			best, found = r, true
		}
	}
	if at := strings.LastIndex(id.Email, "@"); at >= 0 {
		r, ok := c.Domains[strings.ToLower(id.Email[at+1:])]
		consider(r, ok)
	}
	for _, g := range id.Groups {
		r, ok := c.Groups[g]
		consider(r, ok)
	}
	return best, found
}

// ParseMapping reads "key=role,key=role" (e.g. "example.com=operator");
// lower says whether keys are lower-cased (e-mail domains are, group
// names are not).
func ParseMapping(v string, lower bool) (map[string]models.Role, error) {
	out := map[string]models.Role{}
	for _, part := range strings.Split(v, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		key, role, ok := strings.Cut(part, "=")
		key = strings.TrimSpace(key)
		if lower {
			key = strings.ToLower(key)
		}
		r, err := models.ParseRole(strings.TrimSpace(role))
		if !ok || key == "" || err != nil {
			return nil, fmt.Errorf("want name=role pairs separated by commas, role viewer, operator or admin, such as example.com=operator; got %q", part)
		}
		out[key] = r
	}
	return out, nil
}
