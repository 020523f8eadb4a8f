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
	// AllPages makes the token install-wide: it reaches every page its
	// owner may see, and PageID is only the page list and create
	// endpoints use when the request names none (the first page).
	// Otherwise the token reaches page PageID alone.
	AllPages bool

	// OwnerAccess is the pages the token's owner may see, as
	// AuthenticateToken found them: the token never reaches another page,
	// so narrowing a user narrows their tokens at once.
	OwnerAccess PageSet `gorm:"-"`
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

// Reaches reports whether the token may reach the objects of page
// pageID: its own page (every page, for an install-wide token) when its
// owner may see it.
func (t *Token) Reaches(pageID int64) bool {
	return (t.AllPages || t.PageID == pageID) && t.OwnerAccess.MaySee(pageID)
}

// InstallWide reports whether the token reaches every page: only such a
// token manages what belongs to the whole install (users, pages).
func (t *Token) InstallWide() bool { return t.AllPages && t.OwnerAccess.All }

// DefaultPage is the page the token's list and create endpoints use when
// the request names none: its own page; for an install-wide token the
// first page its owner may see. ok is false when it reaches no page (its
// owner was limited to other pages since).
func (t *Token) DefaultPage() (id int64, ok bool) {
	if !t.AllPages || t.OwnerAccess.All {
		return t.PageID, t.Reaches(t.PageID)
	}
	if len(t.OwnerAccess.PageIDs) == 0 {
		return 0, false
	}
	return t.OwnerAccess.PageIDs[0], true
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
	// AllPages makes an install-wide token; only a user who may see every
	// page makes one.
	AllPages bool
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
	PageID    int64      `json:"page_id,omitempty"`
	AllPages  bool       `json:"all_pages"`
}

func tokenAuditSnapshot(t *Token) tokenAudit {
	a := tokenAudit{ID: t.ID, Name: t.Name, Prefix: t.Display(), Scopes: t.Scopes, ExpiresAt: t.ExpiresAt,
		RevokedAt: t.RevokedAt, AllPages: t.AllPages}
	if !t.AllPages {
		a.PageID = t.PageID
	}
	return a
}

// CreateToken makes a token for pageID (or, with in.AllPages, an
// install-wide one whose default page is the first page), created by
// userID (0 when no admin is signed in). It returns the token and, once
// only, its plaintext. A scope beyond the creator's role, a page the
// creator may not see, or an install-wide token of a creator limited to
// some pages is refused with a ValidationError naming the field.
func (s *Store) CreateToken(ctx context.Context, pageID int64, in TokenInput, userID int64) (*Token, string, error) {
	var role Role
	access := AllPagesAccess()
	if userID != 0 {
		owner, err := s.User(ctx, userID)
		if err != nil {
			return nil, "", fmt.Errorf("create token: %w", err)
		}
		role, access = owner.Role, owner.Access()
	}
	if in.AllPages {
		pageID = DefaultPageID
	}
	scopes, err := s.validateToken(&in, role)
	var ve *ValidationError
	if err != nil && !errors.As(err, &ve) {
		return nil, "", err
	}
	switch {
	case in.AllPages && !access.All:
		ve = addField(ve, "page", "Your account is limited to some pages: make a token for one of them, not for all pages.")
	case !in.AllPages && !access.MaySee(pageID):
		ve = addField(ve, "page", "Choose one of your pages for the token.")
	case !in.AllPages:
		if _, err := s.Page(ctx, pageID); errors.Is(err, ErrNotFound) {
			ve = addField(ve, "page", "That page no longer exists; choose another.")
		} else if err != nil {
			return nil, "", err
		}
	}
	if ve != nil {
		return nil, "", ve
	}
	plain := newTokenSecret()
	t := &Token{PageID: pageID, AllPages: in.AllPages, Name: in.Name, TokenHash: HashToken(plain),
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

// TokensFor lists the tokens someone with access manages, newest
// first: every token for a user who may see every page; a limited
// user's, only the tokens of their pages (never install-wide ones).
func (s *Store) TokensFor(ctx context.Context, access PageSet) ([]Token, error) {
	q := s.conn(ctx).Order("created_at DESC, id DESC")
	if !access.All {
		if len(access.PageIDs) == 0 {
			return []Token{}, nil
		}
		q = q.Where("all_pages = ? AND page_id IN ?", false, access.PageIDs)
	}
	var ts []Token
	if err := q.Find(&ts).Error; err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	return ts, nil
}

// ManagedBy reports whether someone with access manages the token: it
// is among TokensFor(access).
func (t *Token) ManagedBy(access PageSet) bool {
	return access.All || !t.AllPages && access.MaySee(t.PageID)
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
		err := s.conn(ctx).Select("role", "all_pages").First(&owner, *t.CreatedByUserID).Error
		switch {
		case errors.Is(err, gorm.ErrRecordNotFound):
			// Removing a user revokes their tokens; one that slipped
			// through acts as no one.
			return &t, ErrTokenRevoked
		case err != nil:
			return nil, fmt.Errorf("load owner of token %d: %w", t.ID, err)
		}
		t.OwnerRole = owner.Role
		t.OwnerAccess = PageSet{All: owner.AllPages}
		if !owner.AllPages {
			if t.OwnerAccess.PageIDs, err = userPageIDs(s.conn(ctx), *t.CreatedByUserID); err != nil {
				return nil, fmt.Errorf("load owner of token %d: %w", t.ID, err)
			}
		}
	} else {
		t.OwnerAccess = AllPagesAccess()
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
