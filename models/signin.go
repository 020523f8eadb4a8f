package models

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// AuditSettings is a setting of the whole install (instance_settings):
// its sign-in rules.
const AuditSettings = "settings"

// Why a sign-in failed, as the audit log says it.
const (
	SignInBadPassword = "wrong e-mail or password"
	SignInBadCode     = "wrong two-factor code"
	SignInReusedCode  = "two-factor code already used"
)

// AuditSignInFailed records a failed sign-in: the e-mail tried (never the
// password) and why; the IP comes from the actor in ctx. One row per
// attempt, and the login limits bound the attempts. An address no
// account can have (NUL, bytes that are not UTF-8, too long) is refused
// before any lookup and not written: it is bad input.
func (s *Store) AuditSignInFailed(ctx context.Context, email, reason string) error {
	// Checked before lower-casing, which turns bad bytes into U+FFFD.
	if !validText(email) {
		return nil
	}
	if email = NormalizeEmail(email); len(email) > MaxEmailLength {
		return nil
	}
	a := ActorFrom(ctx)
	actx := WithActor(ctx, Actor{Type: ActorUser, Name: email, IP: a.IP})
	err := s.transact(ctx, func(tx *gorm.DB) error {
		return audit(actx, tx, change{PageID: DefaultPageID, Action: "access.signin_failed", ObjectType: AuditAccess,
			ObjectID: email, Summary: fmt.Sprintf("Sign-in as %s failed: %s.", email, reason)})
	})
	if err != nil {
		return fmt.Errorf("audit failed sign-in: %w", err)
	}
	return nil
}

// instanceSettings is the one row of instance_settings; this file reads
// and writes only its two-factor column.
type instanceSettings struct {
	ID         int64
	Require2FA bool `gorm:"column:require_2fa"`
	UpdatedAt  time.Time
}

func (instanceSettings) TableName() string { return "instance_settings" }

func requireTwoFactor(tx *gorm.DB) (bool, error) {
	var row instanceSettings
	if err := tx.Select("id", "require_2fa").First(&row, 1).Error; err != nil {
		return false, notFound(err)
	}
	return row.Require2FA, nil
}

// RequireTwoFactor reports whether every user must sign in with a second
// factor.
func (s *Store) RequireTwoFactor(ctx context.Context) (bool, error) {
	on, err := requireTwoFactor(s.conn(ctx))
	if err != nil {
		return false, fmt.Errorf("load two-factor requirement: %w", err)
	}
	return on, nil
}

// SetRequireTwoFactor turns the install's two-factor requirement on or
// off. Users without two-factor sign-in are sent to enrol at their next
// request; signing in keeps working for them.
func (s *Store) SetRequireTwoFactor(ctx context.Context, on bool) error {
	err := s.transact(ctx, func(tx *gorm.DB) error {
		was, err := requireTwoFactor(tx)
		if err != nil || was == on {
			return err
		}
		if err := tx.Model(&instanceSettings{}).Where("id = 1").
			Updates(map[string]any{"require_2fa": on, "updated_at": s.Now()}).Error; err != nil {
			return err
		}
		summary := "Two-factor sign-in is now required for everyone."
		if !on {
			summary = "Two-factor sign-in is no longer required."
		}
		return audit(ctx, tx, change{PageID: DefaultPageID, Action: "settings.require_2fa", ObjectType: AuditSettings,
			ObjectID: "require_2fa", Summary: summary,
			Before: map[string]bool{"require_2fa": was}, After: map[string]bool{"require_2fa": on}})
	})
	if err != nil {
		return fmt.Errorf("set two-factor requirement: %w", err)
	}
	return nil
}
