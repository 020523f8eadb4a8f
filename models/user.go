package models

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"
	"gorm.io/gorm"
)

// Password and e-mail limits. bcrypt reads at most 72 bytes, so longer
// passwords are refused rather than silently truncated.
const (
	MinPasswordLength = 10
	MaxPasswordBytes  = 72
	MaxEmailLength    = 254
)

// ErrBadCredentials is returned when an e-mail and password do not match.
var ErrBadCredentials = errors.New("bad credentials")

// ErrSetupDone is returned when the first admin already exists.
var ErrSetupDone = errors.New("setup already done")

// User is a team member's account.
type User struct {
	ID           int64
	Email        string
	PasswordHash string // "" for users who sign in only with SSO
	Role         Role
	LastSignInAt *time.Time
	// TOTPSecret is the vault-sealed TOTP secret ("" = none);
	// TOTPEnabledAt says since when two-factor sign-in is on (nil = off);
	// TOTPLastStep is the last time step a code was accepted for.
	TOTPSecret    string     `gorm:"column:totp_secret"`
	TOTPEnabledAt *time.Time `gorm:"column:totp_enabled_at"`
	TOTPLastStep  int64      `gorm:"column:totp_last_step"`
	// OIDCSubject is the identity provider's subject of an SSO user.
	OIDCSubject *string `gorm:"column:oidc_subject"`
	// AllPages says whether the user may see every status page; when
	// false, PageIDs (loaded with the user by User and SessionUser) are
	// the only pages they may see. New users see every page unless
	// limited afterwards.
	AllPages  bool    `gorm:"column:all_pages;default:true"`
	PageIDs   []int64 `gorm:"-"`
	CreatedAt time.Time
	UpdatedAt time.Time
}

// TwoFactor reports whether the user signs in with a second factor.
func (u *User) TwoFactor() bool { return u.TOTPEnabledAt != nil }

// Can reports whether the user's role has the powers of min.
func (u *User) Can(min Role) bool { return u.Role.AtLeast(min) }

// NormalizeEmail trims and lower-cases an address for storage and lookup.
func NormalizeEmail(email string) string {
	return strings.ToLower(strings.TrimSpace(email))
}

// validateCredentials checks an e-mail and password; inputs are further
// words the password must not be built from, such as the page's name.
func validateCredentials(v *Validator, email, password string, inputs ...string) {
	validateEmailAddress(v, email)
	validatePassword(v, email, password, inputs...)
}

// validateEmailAddress checks a normalised e-mail address.
func validateEmailAddress(v *Validator, email string) {
	switch {
	case email == "":
		v.Add("email", "Enter an e-mail address.")
	case len(email) > MaxEmailLength:
		v.Add("email", fmt.Sprintf("An e-mail address has at most %d characters.", MaxEmailLength))
	default:
		addr, err := mail.ParseAddress(email)
		if err != nil || addr.Address != email || !strings.Contains(email, "@") {
			v.Add("email", "Enter a valid e-mail address, like ops@example.com.")
		}
	}
}

// validatePassword checks a password's length and strength; inputs are
// words it must not be built from.
func validatePassword(v *Validator, email, password string, inputs ...string) {
	switch {
	case len([]rune(password)) < MinPasswordLength:
		v.Add("password", fmt.Sprintf("Use at least %d characters.", MinPasswordLength))
	case len(password) > MaxPasswordBytes:
		v.Add("password", fmt.Sprintf("Use at most %d bytes.", MaxPasswordBytes))
	default:
		if why := weakPassword(password, append(inputs, email)...); why != "" {
			v.Add("password", why)
		}
	}
}

func hashPassword(password string) (string, error) {
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return string(h), nil
}

// HasUsers reports whether any admin exists (setup is done).
func (s *Store) HasUsers(ctx context.Context) (bool, error) {
	var n int64
	if err := s.conn(ctx).Model(&User{}).Limit(1).Count(&n).Error; err != nil {
		return false, fmt.Errorf("count users: %w", err)
	}
	return n > 0, nil
}

// SetupInput is what the first-run form asks for.
type SetupInput struct {
	PageName string
	Email    string
	Password string
}

// MaxPageNameLength bounds a status page's name.
const MaxPageNameLength = 100

// CompleteSetup creates the first admin and names the default page, only
// while no user exists; afterwards it returns ErrSetupDone.
func (s *Store) CompleteSetup(ctx context.Context, in SetupInput) (*User, error) {
	var v Validator
	checkInput(&v, &in)
	in.PageName = strings.TrimSpace(in.PageName)
	in.Email = NormalizeEmail(in.Email)
	v.Check(in.PageName != "", "page_name", "Give your status page a name.")
	v.Check(len([]rune(in.PageName)) <= MaxPageNameLength, "page_name", fmt.Sprintf("Use at most %d characters.", MaxPageNameLength))
	validateCredentials(&v, in.Email, in.Password, in.PageName)
	if err := v.Err(); err != nil {
		return nil, err
	}
	hash, err := hashPassword(in.Password)
	if err != nil {
		return nil, err
	}
	u := &User{Email: in.Email, PasswordHash: hash, Role: RoleAdmin, AllPages: true}
	err = s.conn(ctx).Transaction(func(tx *gorm.DB) error {
		if s.engine == Postgres {
			// Two browsers racing through /setup must not both win.
			if err := tx.Exec("LOCK TABLE users IN EXCLUSIVE MODE").Error; err != nil {
				return err
			}
		}
		var n int64
		if err := tx.Model(&User{}).Count(&n).Error; err != nil {
			return err
		}
		if n > 0 {
			return ErrSetupDone
		}
		var page Page
		if err := tx.First(&page, DefaultPageID).Error; err != nil {
			return notFound(err)
		}
		if err := tx.Create(u).Error; err != nil {
			return err
		}
		if err := tx.Model(&Page{}).Where("id = ?", DefaultPageID).
			Updates(map[string]any{"name": in.PageName, "updated_at": s.Now()}).Error; err != nil {
			return err
		}
		// The new admin did this, from wherever the setup form came.
		actx := WithActor(ctx, UserActor(u.ID, u.Email, ActorFrom(ctx).IP))
		if err := audit(actx, tx, change{PageID: DefaultPageID, Action: "user.create", ObjectType: AuditUser,
			ObjectID: idString(u.ID), Summary: fmt.Sprintf("Created the first admin, %s, during setup.", u.Email),
			After: userAuditSnapshot(u)}); err != nil {
			return err
		}
		before := pageSnapshot(&page)
		page.Name = in.PageName
		return audit(actx, tx, change{PageID: DefaultPageID, Action: "page.update", ObjectType: AuditPage,
			ObjectID: idString(DefaultPageID), Summary: fmt.Sprintf("Named the status page “%s” during setup.", in.PageName),
			Before: before, After: pageSnapshot(&page)})
	})
	if err != nil {
		return nil, fmt.Errorf("complete setup: %w", err)
	}
	s.published(ctx) // the page got its name
	return u, nil
}

// UserInput is a new user's e-mail, password and role, as CreateUser
// takes them.
type UserInput struct {
	Email    string
	Password string
	Role     Role
}

// CreateUser adds a team member with a password.
func (s *Store) CreateUser(ctx context.Context, in UserInput) (*User, error) {
	var v Validator
	checkInput(&v, &in)
	in.Email = NormalizeEmail(in.Email)
	validateCredentials(&v, in.Email, in.Password)
	v.Check(in.Role.Valid(), "role", "Choose a role: viewer, operator or admin.")
	if err := v.Err(); err != nil {
		return nil, err
	}
	hash, err := hashPassword(in.Password)
	if err != nil {
		return nil, err
	}
	u := &User{Email: in.Email, PasswordHash: hash, Role: in.Role, AllPages: true}
	err = s.transact(ctx, func(tx *gorm.DB) error {
		if err := tx.Create(u).Error; err != nil {
			return err
		}
		return audit(ctx, tx, change{PageID: DefaultPageID, Action: "user.create", ObjectType: AuditUser,
			ObjectID: idString(u.ID), Summary: fmt.Sprintf("Created %s %s.", strings.ToLower(u.Role.Label()), u.Email),
			After: userAuditSnapshot(u)})
	})
	if err != nil {
		if errors.Is(err, gorm.ErrDuplicatedKey) {
			return nil, &ValidationError{Fields: map[string]string{"email": "A user with this e-mail already exists."}}
		}
		return nil, fmt.Errorf("create user %s: %w", in.Email, err)
	}
	return u, nil
}

// dummyHash keeps Authenticate's timing the same for unknown e-mails.
var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("herald-timing-equaliser"), bcrypt.DefaultCost)

// Authenticate returns the user whose e-mail and password match, or
// ErrBadCredentials.
func (s *Store) Authenticate(ctx context.Context, email, password string) (*User, error) {
	email = NormalizeEmail(email)
	if !validText(email) { // no such address can exist; PostgreSQL would refuse a NUL
		bcrypt.CompareHashAndPassword(dummyHash, []byte(password))
		return nil, ErrBadCredentials
	}
	var u User
	err := s.conn(ctx).Where("email = ?", email).First(&u).Error
	if err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			bcrypt.CompareHashAndPassword(dummyHash, []byte(password))
			return nil, ErrBadCredentials
		}
		return nil, fmt.Errorf("authenticate %s: %w", email, err)
	}
	if bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(password)) != nil {
		return nil, ErrBadCredentials
	}
	return &u, nil
}

// Session is a signed-in browser. The cookie holds only its id, so signing
// out deletes the row and the cookie is worthless from then on.
type Session struct {
	ID         string
	UserID     int64
	IP         string
	UserAgent  string
	CreatedAt  time.Time
	ExpiresAt  time.Time
	LastSeenAt *time.Time
}

// SessionOrigin is where a sign-in came from, kept with its session.
type SessionOrigin struct {
	IP        string
	UserAgent string
}

// maxUserAgent bounds the stored User-Agent.
const maxUserAgent = 300

// TableName maps Session to user_sessions.
func (Session) TableName() string { return "user_sessions" }

// CreateSession starts a session for userID lasting ttl, signed in from
// origin, and records the sign-in on the user.
func (s *Store) CreateSession(ctx context.Context, userID int64, ttl time.Duration, origin SessionOrigin) (*Session, error) {
	b := make([]byte, 32)
	rand.Read(b)
	now := s.Now()
	ua := strings.ToValidUTF8(origin.UserAgent, "")
	if r := []rune(ua); len(r) > maxUserAgent {
		ua = string(r[:maxUserAgent])
	}
	ua = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, ua)
	sess := &Session{ID: base64.RawURLEncoding.EncodeToString(b), UserID: userID, IP: origin.IP, UserAgent: ua,
		CreatedAt: now, ExpiresAt: now.Add(ttl), LastSeenAt: &now}
	err := s.conn(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Where("expires_at < ?", now).Delete(&Session{}).Error; err != nil {
			return err
		}
		if err := tx.Create(sess).Error; err != nil {
			return err
		}
		return tx.Model(&User{}).Where("id = ?", userID).Update("last_sign_in_at", now).Error
	})
	if err != nil {
		return nil, fmt.Errorf("create session for user %d: %w", userID, err)
	}
	return sess, nil
}

// SessionUser returns the user signed in with session id, or ErrNotFound
// when the session does not exist or has expired.
// It records when the session was last seen, at most once a minute.
func (s *Store) SessionUser(ctx context.Context, sessionID string) (*User, error) {
	var sess Session
	err := s.conn(ctx).Select("user_id", "last_seen_at").
		Where("id = ? AND expires_at > ?", sessionID, s.Now()).Take(&sess).Error
	if err != nil {
		return nil, fmt.Errorf("load session: %w", notFound(err))
	}
	var u User
	if err := s.conn(ctx).First(&u, sess.UserID).Error; err != nil {
		return nil, fmt.Errorf("load session user: %w", notFound(err))
	}
	// Read on every request: a change of the user's pages applies to
	// their sessions at once.
	if err := loadUserPages(s.conn(ctx), &u); err != nil {
		return nil, err
	}
	if err := s.seeSession(ctx, sessionID, sess.LastSeenAt); err != nil {
		return nil, err
	}
	return &u, nil
}

// DeleteSession signs a session out.
func (s *Store) DeleteSession(ctx context.Context, sessionID string) error {
	if err := s.conn(ctx).Where("id = ?", sessionID).Delete(&Session{}).Error; err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}
