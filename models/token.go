package models

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Scope is one permission an API token can carry.
type Scope string

// The API token scopes. Any write scope also grants ScopeRead.
const (
	ScopeRead             Scope = "read"
	ScopeComponentsWrite  Scope = "components:write"
	ScopeIncidentsWrite   Scope = "incidents:write"
	ScopeMaintenanceWrite Scope = "maintenance:write"
	ScopeChannelsWrite    Scope = "channels:write"
	ScopePageWrite        Scope = "page:write"
	ScopeUsersWrite       Scope = "users:write"
	// ScopeSubscribersRead lists visitors' subscriptions, which are
	// personal data: ScopeRead does not grant it. ScopeSubscribersWrite
	// implies it.
	ScopeSubscribersRead  Scope = "subscribers:read"
	ScopeSubscribersWrite Scope = "subscribers:write"
)

// Scopes lists every scope in the order admins pick them.
var Scopes = []Scope{ScopeRead, ScopeComponentsWrite, ScopeIncidentsWrite, ScopeMaintenanceWrite, ScopeChannelsWrite, ScopePageWrite, ScopeUsersWrite, ScopeSubscribersRead, ScopeSubscribersWrite}

// Valid reports whether s is a known scope.
func (s Scope) Valid() bool { return slices.Contains(Scopes, s) }

// TokenPrefix starts every API token, so they are easy to recognise (and
// for secret scanners to find).
const TokenPrefix = "hrd_"

// tokenDisplayLength is how many characters after TokenPrefix are kept,
// in clear, to tell tokens apart in lists.
const tokenDisplayLength = 8

// tokenUseResolution is how stale last_used_at may get: a token used
// many times a minute costs one write a minute, not one per request.
const tokenUseResolution = time.Minute

// ErrTokenInvalid is returned by AuthenticateToken for a token Herald does
// not accept. ErrTokenExpired and ErrTokenRevoked say why, and match
// ErrTokenInvalid with errors.Is.
var (
	ErrTokenInvalid = errors.New("invalid API token")
	ErrTokenExpired = fmt.Errorf("expired: %w", ErrTokenInvalid)
	ErrTokenRevoked = fmt.Errorf("revoked: %w", ErrTokenInvalid)
)

// Token is an API token. The token itself is never stored: TokenHash is
// its SHA-256 and Prefix a few characters to recognise it by.
type Token struct {
	ID              int64
	PageID          int64
	Name            string
	TokenHash       string
	Prefix          string
	Scopes          string // comma-separated, in the order of Scopes
	ExpiresAt       *time.Time
	LastUsedAt      *time.Time
	RevokedAt       *time.Time
	CreatedByUserID *int64
	CreatedAt       time.Time

	// OwnerRole is the role of the user who created the token, as
	// AuthenticateToken found it: the token never grants more. Tokens
	// without an owner (made before roles, or by tools) act as admin.
	OwnerRole Role `gorm:"-"`
}

// TableName maps Token to api_tokens.
func (Token) TableName() string { return "api_tokens" }

// ScopeList is the token's scopes.
func (t *Token) ScopeList() []Scope {
	var out []Scope
	for _, s := range strings.Split(t.Scopes, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, Scope(s))
		}
	}
	return out
}

// Role is what the token acts as: its owner's role.
func (t *Token) Role() Role {
	if t.OwnerRole == "" {
		return RoleAdmin
	}
	return t.OwnerRole
}

// Can reports whether the token grants scope: it carries it (any write
// scope implies ScopeRead, subscribers:write implies subscribers:read)
// and its owner's role still allows it.
func (t *Token) Can(scope Scope) bool {
	if !RoleAllowsScope(t.Role(), scope) {
		return false
	}
	for _, s := range t.ScopeList() {
		if s == scope || (scope == ScopeRead && strings.HasSuffix(string(s), ":write")) ||
			(scope == ScopeSubscribersRead && s == ScopeSubscribersWrite) {
			return true
		}
	}
	return false
}

// TokenState is where a token stands.
type TokenState string

// The token states.
const (
	TokenActive  TokenState = "active"
	TokenExpired TokenState = "expired"
	TokenRevoked TokenState = "revoked"
)

// State says whether the token works at now.
func (t *Token) State(now time.Time) TokenState {
	switch {
	case t.RevokedAt != nil:
		return TokenRevoked
	case t.ExpiresAt != nil && !now.Before(*t.ExpiresAt):
		return TokenExpired
	}
	return TokenActive
}

// Display is how lists show the token: its prefix and an ellipsis.
func (t *Token) Display() string { return TokenPrefix + t.Prefix + "…" }

// TokenInput is what an admin sets when creating a token.
type TokenInput struct {
	Name      string
	Scopes    []Scope
	ExpiresAt *time.Time
}

// validateToken checks in; role, when set, is the creator's: a scope
// beyond it is refused, naming the scope.
func (s *Store) validateToken(in *TokenInput, role Role) (string, error) {
	var v Validator
	checkInput(&v, in)
	in.Name = strings.TrimSpace(in.Name)
	checkName(&v, "name", in.Name)
	var picked []Scope
	for _, sc := range in.Scopes {
		switch {
		case !sc.Valid():
			v.Add("scopes", fmt.Sprintf("“%s” is not a scope. Choose from the list.", sc))
		case role != "" && !RoleAllowsScope(role, sc):
			v.Add("scopes", fmt.Sprintf("Your role, %s, cannot give a token the scope “%s”: a token never does more than its owner may.",
				strings.ToLower(role.Label()), sc))
		}
	}
	for _, sc := range Scopes {
		if slices.Contains(in.Scopes, sc) {
			picked = append(picked, sc)
		}
	}
	v.Check(len(picked) > 0, "scopes", "Choose at least one scope.")
	if in.ExpiresAt != nil {
		v.Check(in.ExpiresAt.After(s.Now()), "expires_at", "Choose an expiry in the future, or none.")
	}
	parts := make([]string, len(picked))
	for i, sc := range picked {
		parts[i] = string(sc)
	}
	return strings.Join(parts, ","), v.Err()
}

// HashToken is how a token is stored and looked up: hex SHA-256. Tokens
// carry 256 random bits, so a fast hash is enough, and comparing hashes
// leaks nothing useful through timing.
func HashToken(plaintext string) string {
	sum := sha256.Sum256([]byte(plaintext))
	return hex.EncodeToString(sum[:])
}

// newTokenSecret is TokenPrefix and 32 random bytes, base64url.
func newTokenSecret() string {
	b := make([]byte, 32)
	rand.Read(b)
	return TokenPrefix + base64.RawURLEncoding.EncodeToString(b)
}

// tokenAudit is a token as the audit log shows it: never its hash.
type tokenAudit struct {
	ID        int64      `json:"id"`
	Name      string     `json:"name"`
	Prefix    string     `json:"prefix"`
	Scopes    string     `json:"scopes"`
	ExpiresAt *time.Time `json:"expires_at"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

func tokenAuditSnapshot(t *Token) tokenAudit {
	return tokenAudit{ID: t.ID, Name: t.Name, Prefix: t.Display(), Scopes: t.Scopes, ExpiresAt: t.ExpiresAt,
		RevokedAt: t.RevokedAt}
}

// CreateToken makes a token for pageID, created by userID (0 when no
// admin is signed in). It returns the token and, once only, its plaintext.
// A scope beyond the creator's role is refused with a ValidationError
// naming it.
func (s *Store) CreateToken(ctx context.Context, pageID int64, in TokenInput, userID int64) (*Token, string, error) {
	var role Role
	if userID != 0 {
		var owner User
		if err := s.conn(ctx).Select("role").First(&owner, userID).Error; err != nil {
			return nil, "", fmt.Errorf("create token: load user %d: %w", userID, notFound(err))
		}
		role = owner.Role
	}
	scopes, err := s.validateToken(&in, role)
	if err != nil {
		return nil, "", err
	}
	plain := newTokenSecret()
	t := &Token{PageID: pageID, Name: in.Name, TokenHash: HashToken(plain),
		Prefix: plain[len(TokenPrefix) : len(TokenPrefix)+tokenDisplayLength], Scopes: scopes, CreatedAt: s.Now()}
	if in.ExpiresAt != nil {
		at := in.ExpiresAt.UTC()
		t.ExpiresAt = &at
	}
	if userID != 0 {
		t.CreatedByUserID = &userID
	}
	err = s.conn(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(t).Error; err != nil {
			return err
		}
		return audit(ctx, tx, change{PageID: pageID, Action: "token.create", ObjectType: AuditToken,
			ObjectID: idString(t.ID), Summary: fmt.Sprintf("Created API token “%s” (%s)", t.Name, t.Scopes),
			After: tokenAuditSnapshot(t)})
	})
	if err != nil {
		return nil, "", fmt.Errorf("create token %q: %w", in.Name, err)
	}
	return t, plain, nil
}

// Tokens lists a page's tokens, newest first.
func (s *Store) Tokens(ctx context.Context, pageID int64) ([]Token, error) {
	var ts []Token
	if err := s.conn(ctx).Where("page_id = ?", pageID).Order("created_at DESC, id DESC").Find(&ts).Error; err != nil {
		return nil, fmt.Errorf("list tokens of page %d: %w", pageID, err)
	}
	return ts, nil
}

// Token loads one token.
func (s *Store) Token(ctx context.Context, id int64) (*Token, error) {
	var t Token
	if err := s.conn(ctx).First(&t, id).Error; err != nil {
		return nil, fmt.Errorf("load token %d: %w", id, notFound(err))
	}
	return &t, nil
}

// RevokeToken stops a token from working, for good. Revoking a revoked
// token changes nothing.
func (s *Store) RevokeToken(ctx context.Context, id int64) error {
	err := s.conn(ctx).Transaction(func(tx *gorm.DB) error {
		var t Token
		if err := tx.First(&t, id).Error; err != nil {
			return notFound(err)
		}
		if t.RevokedAt != nil {
			return nil
		}
		before := tokenAuditSnapshot(&t)
		now := s.Now()
		if err := tx.Model(&Token{}).Where("id = ? AND revoked_at IS NULL", id).Update("revoked_at", now).Error; err != nil {
			return err
		}
		t.RevokedAt = &now
		return audit(ctx, tx, change{PageID: t.PageID, Action: "token.revoke", ObjectType: AuditToken,
			ObjectID: idString(t.ID), Summary: fmt.Sprintf("Revoked API token “%s”", t.Name),
			Before: before, After: tokenAuditSnapshot(&t)})
	})
	if err != nil {
		return fmt.Errorf("revoke token %d: %w", id, err)
	}
	return nil
}

// AuthenticateToken returns the token whose plaintext this is, or an
// error matching ErrTokenInvalid (ErrTokenExpired, ErrTokenRevoked for
// known tokens that no longer work; the token comes back with them, so the
// caller can say since when). It records the use at most once a minute
// per token.
func (s *Store) AuthenticateToken(ctx context.Context, plaintext string) (*Token, error) {
	if !strings.HasPrefix(plaintext, TokenPrefix) || len(plaintext) < len(TokenPrefix)+tokenDisplayLength {
		return nil, ErrTokenInvalid
	}
	var t Token
	// Looked up by hash, so the database never compares secrets and
	// response times say nothing about how much of a guess was right.
	err := s.conn(ctx).Where("token_hash = ?", HashToken(plaintext)).First(&t).Error
	if err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, ErrTokenInvalid
		}
		return nil, fmt.Errorf("authenticate token: %w", err)
	}
	if t.CreatedByUserID != nil {
		var owner User
		err := s.conn(ctx).Select("role").First(&owner, *t.CreatedByUserID).Error
		switch {
		case errors.Is(err, gorm.ErrRecordNotFound):
			// Removing a user revokes their tokens; one that slipped
			// through acts as no one.
			return &t, ErrTokenRevoked
		case err != nil:
			return nil, fmt.Errorf("load owner of token %d: %w", t.ID, err)
		}
		t.OwnerRole = owner.Role
	}
	now := s.Now()
	switch t.State(now) {
	case TokenRevoked:
		return &t, ErrTokenRevoked
	case TokenExpired:
		return &t, ErrTokenExpired
	}
	if t.LastUsedAt == nil || now.Sub(*t.LastUsedAt) >= tokenUseResolution {
		// Conditional: of concurrent requests (or replicas) only one
		// writes.
		res := s.conn(ctx).Model(&Token{}).
			Where("id = ? AND (last_used_at IS NULL OR last_used_at <= ?)", t.ID, now.Add(-tokenUseResolution)).
			Update("last_used_at", now)
		if res.Error != nil {
			return nil, fmt.Errorf("record use of token %d: %w", t.ID, res.Error)
		}
		t.LastUsedAt = &now
	}
	return &t, nil
}
