package models

import (
	"context"
	"errors"
	"fmt"
	"time"

	"golang.org/x/crypto/bcrypt"
	"gorm.io/gorm"
)

// What a signed-in user changes about themselves: their password and
// e-mail (each confirmed with the current password), and their sessions.

// ErrTooManyAttempts is returned when someone gave a wrong current
// password too often lately: they wait before trying again.
var ErrTooManyAttempts = errors.New("too many wrong passwords; try again later")

// Wrong current passwords on the account page: at most
// maxPasswordChecks within passwordCheckWindow per user. The count is
// read from the audit log, so it holds across replicas and restarts: a
// stolen session cannot guess the password at leisure.
const (
	maxPasswordChecks   = 5
	passwordCheckWindow = 15 * time.Minute
)

// PasswordChangeInput is what the account page's password form sends.
type PasswordChangeInput struct {
	CurrentPassword string
	NewPassword     string
}

// EmailChangeInput is a new e-mail address, confirmed with the current
// password.
type EmailChangeInput struct {
	Email           string
	CurrentPassword string
}

// checkCurrentPassword compares password with u's. A wrong one is
// audited (user.wrong_password) in its own transaction, so the record
// stays although the change it guarded does not happen; after
// maxPasswordChecks of them within passwordCheckWindow, it answers
// ErrTooManyAttempts without comparing.
func (s *Store) checkCurrentPassword(ctx context.Context, u *User, password, purpose string) error {
	if password == "" {
		return &ValidationError{Fields: map[string]string{"current_password": "Enter your current password."}}
	}
	var recent int64
	if err := s.conn(ctx).Model(&AuditEntry{}).
		Where("action = ? AND object_type = ? AND object_id = ? AND at > ?", "user.wrong_password", AuditUser,
			idString(u.ID), s.Now().Add(-passwordCheckWindow)).
		Count(&recent).Error; err != nil {
		return fmt.Errorf("count wrong passwords of user %d: %w", u.ID, err)
	}
	if recent >= maxPasswordChecks {
		return ErrTooManyAttempts
	}
	if u.PasswordHash != "" && bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(password)) == nil {
		return nil
	}
	err := s.transact(ctx, func(tx *gorm.DB) error {
		return audit(ctx, tx, change{PageID: DefaultPageID, Action: "user.wrong_password", ObjectType: AuditUser,
			ObjectID: idString(u.ID), Summary: fmt.Sprintf("Wrong current password given for %s while %s; nothing changed.", u.Email, purpose)})
	})
	if err != nil {
		return fmt.Errorf("audit wrong password of user %d: %w", u.ID, err)
	}
	return &ValidationError{Fields: map[string]string{"current_password": "That is not your current password."}}
}

// ChangePassword sets a user's new password after checking the current
// one, and ends every other session of theirs in the same transaction:
// whoever else was signed in as them is out. keepSessionID is the session
// making the change, which stays. It returns how many sessions ended.
func (s *Store) ChangePassword(ctx context.Context, userID int64, keepSessionID string, in PasswordChangeInput) (int64, error) {
	var v Validator
	checkInput(&v, &in)
	if err := v.Err(); err != nil {
		return 0, err
	}
	u, err := s.User(ctx, userID)
	if err != nil {
		return 0, err
	}
	if err := s.checkCurrentPassword(ctx, u, in.CurrentPassword, "changing their password"); err != nil {
		return 0, err
	}
	var pv Validator
	validatePassword(&pv, u.Email, in.NewPassword)
	if msg := pv.fields["password"]; msg != "" {
		v.Add("new_password", msg)
	}
	v.Check(in.NewPassword != in.CurrentPassword, "new_password", "Choose a password different from your current one.")
	if err := v.Err(); err != nil {
		return 0, err
	}
	hash, err := hashPassword(in.NewPassword)
	if err != nil {
		return 0, err
	}
	var ended int64
	err = s.transact(ctx, func(tx *gorm.DB) error {
		if err := tx.Model(&User{}).Where("id = ?", userID).
			Updates(map[string]any{"password_hash": hash, "updated_at": s.Now()}).Error; err != nil {
			return err
		}
		res := tx.Where("user_id = ? AND id <> ?", userID, keepSessionID).Delete(&Session{})
		if res.Error != nil {
			return res.Error
		}
		ended = res.RowsAffected
		return audit(ctx, tx, change{PageID: DefaultPageID, Action: "user.password", ObjectType: AuditUser,
			ObjectID: idString(userID), Summary: fmt.Sprintf("%s changed their password; %s signed out.", u.Email,
				countSessions(ended, "other session", "other sessions"))})
	})
	if err != nil {
		return 0, fmt.Errorf("change password of user %d: %w", userID, err)
	}
	return ended, nil
}

// ResetPassword sets a user's password without the old one (the
// command line's reset-password, for the locked-out) and ends all their
// sessions, in one transaction.
func (s *Store) ResetPassword(ctx context.Context, userID int64, password string) (int64, error) {
	var ended int64
	err := s.InTransaction(ctx, func(ctx context.Context) error {
		if err := s.SetPassword(ctx, userID, password); err != nil {
			return err
		}
		var err error
		ended, err = s.endSessions(ctx, userID, "", "")
		return err
	})
	if err != nil {
		return 0, err
	}
	return ended, nil
}

// ChangeEmail gives a user a new e-mail address after checking their
// current password. Addresses are compared ignoring case: one another
// user has is refused.
func (s *Store) ChangeEmail(ctx context.Context, userID int64, in EmailChangeInput) (*User, error) {
	var v Validator
	checkInput(&v, &in)
	if err := v.Err(); err != nil {
		return nil, err
	}
	email := NormalizeEmail(in.Email)
	var ev Validator
	validateCredentials(&ev, email, "")
	if msg := ev.fields["email"]; msg != "" {
		return nil, &ValidationError{Fields: map[string]string{"email": msg}}
	}
	u, err := s.User(ctx, userID)
	if err != nil {
		return nil, err
	}
	if email == u.Email {
		return nil, &ValidationError{Fields: map[string]string{"email": "That is already your e-mail address."}}
	}
	if err := s.checkCurrentPassword(ctx, u, in.CurrentPassword, "changing their e-mail address"); err != nil {
		return nil, err
	}
	taken := &ValidationError{Fields: map[string]string{"email": "Another user has this e-mail address."}}
	err = s.transact(ctx, func(tx *gorm.DB) error {
		var n int64
		if err := tx.Model(&User{}).Where("email = ? AND id <> ?", email, userID).Count(&n).Error; err != nil {
			return err
		}
		if n > 0 {
			return taken
		}
		before := userAuditSnapshot(u)
		u.Email, u.UpdatedAt = email, s.Now()
		if err := tx.Model(&User{}).Where("id = ?", userID).
			Updates(map[string]any{"email": email, "updated_at": u.UpdatedAt}).Error; err != nil {
			return err
		}
		return audit(ctx, tx, change{PageID: DefaultPageID, Action: "user.email", ObjectType: AuditUser,
			ObjectID: idString(userID), Summary: fmt.Sprintf("Changed the e-mail address of %s to %s.", before.Email, email),
			Before: before, After: userAuditSnapshot(u)})
	})
	switch {
	case errors.Is(err, gorm.ErrDuplicatedKey): // taken between the check and the update
		return nil, taken
	case errors.As(err, new(*ValidationError)):
		return nil, err
	case err != nil:
		return nil, fmt.Errorf("change e-mail of user %d: %w", userID, err)
	}
	return u, nil
}

// UserTokens lists the API tokens userID created, newest first.
func (s *Store) UserTokens(ctx context.Context, userID int64) ([]Token, error) {
	var ts []Token
	if err := s.conn(ctx).Where("created_by_user_id = ?", userID).Order("created_at DESC, id DESC").Find(&ts).Error; err != nil {
		return nil, fmt.Errorf("list tokens of user %d: %w", userID, err)
	}
	return ts, nil
}

// UserToken loads one of userID's own tokens; another's is ErrNotFound.
func (s *Store) UserToken(ctx context.Context, userID, id int64) (*Token, error) {
	var t Token
	if err := s.conn(ctx).Where("id = ? AND created_by_user_id = ?", id, userID).Take(&t).Error; err != nil {
		return nil, fmt.Errorf("load token %d of user %d: %w", id, userID, notFound(err))
	}
	return &t, nil
}

// RevokeUserToken revokes one of userID's own tokens; another's is
// ErrNotFound, and stays as it is.
func (s *Store) RevokeUserToken(ctx context.Context, userID, id int64) (*Token, error) {
	t, err := s.UserToken(ctx, userID, id)
	if err != nil {
		return nil, err
	}
	if err := s.RevokeToken(ctx, id); err != nil {
		return nil, err
	}
	return t, nil
}
