package models

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"gorm.io/gorm"
)

// ErrLastAdmin is returned when a change would leave the install without
// an admin.
var ErrLastAdmin = errors.New("the last admin can be neither removed nor demoted")

// Users lists every team member, by e-mail.
func (s *Store) Users(ctx context.Context) ([]User, error) {
	var us []User
	if err := s.conn(ctx).Order("email").Find(&us).Error; err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return us, nil
}

// User loads one user.
func (s *Store) User(ctx context.Context, id int64) (*User, error) {
	var u User
	if err := s.conn(ctx).First(&u, id).Error; err != nil {
		return nil, fmt.Errorf("load user %d: %w", id, notFound(err))
	}
	if err := loadUserPages(s.conn(ctx), &u); err != nil {
		return nil, err
	}
	return &u, nil
}

// UserByEmail loads the user with this e-mail address (any case).
func (s *Store) UserByEmail(ctx context.Context, email string) (*User, error) {
	email = NormalizeEmail(email)
	if !validText(email) {
		return nil, fmt.Errorf("load user %q: %w", email, ErrNotFound)
	}
	var u User
	if err := s.conn(ctx).Where("email = ?", email).First(&u).Error; err != nil {
		return nil, fmt.Errorf("load user %s: %w", email, notFound(err))
	}
	return &u, nil
}

// lockAdmins keeps two concurrent demotions or removals from each
// believing the other admin remains. SQLite transactions already write
// one at a time.
func (s *Store) lockAdmins(tx *gorm.DB) error {
	if s.engine != Postgres {
		return nil
	}
	return tx.Exec("LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE").Error
}

// otherAdmins counts the admins other than id who may see every page:
// only they manage users, pages and sign-in settings, so Herald always
// keeps one.
func otherAdmins(tx *gorm.DB, id int64) (int64, error) {
	var n int64
	err := tx.Model(&User{}).Where("role = ? AND id <> ? AND all_pages = ?", RoleAdmin, id, true).Count(&n).Error
	return n, err
}

// SetUserRole changes a user's role, at once: their next request and their
// API tokens act with the new role. The last admin cannot be demoted.
func (s *Store) SetUserRole(ctx context.Context, id int64, role Role) (*User, error) {
	if !role.Valid() {
		return nil, &ValidationError{Fields: map[string]string{"role": "Choose a role: viewer, operator or admin."}}
	}
	var u User
	err := s.transact(ctx, func(tx *gorm.DB) error {
		if err := s.lockAdmins(tx); err != nil {
			return err
		}
		if err := tx.First(&u, id).Error; err != nil {
			return notFound(err)
		}
		if u.Role == role {
			return nil
		}
		if u.Role == RoleAdmin && u.AllPages {
			if n, err := otherAdmins(tx, id); err != nil {
				return err
			} else if n == 0 {
				return ErrLastAdmin
			}
		}
		before := userAuditSnapshot(&u)
		u.Role = role
		u.UpdatedAt = s.Now()
		if err := tx.Model(&User{}).Where("id = ?", id).
			Updates(map[string]any{"role": role, "updated_at": u.UpdatedAt}).Error; err != nil {
			return err
		}
		return audit(ctx, tx, change{PageID: DefaultPageID, Action: "user.role", ObjectType: AuditUser,
			ObjectID: idString(id), Summary: fmt.Sprintf("Changed %s's role from %s to %s.", u.Email,
				strings.ToLower(before.Role.Label()), strings.ToLower(role.Label())),
			Before: before, After: userAuditSnapshot(&u)})
	})
	if err != nil {
		return nil, fmt.Errorf("set role of user %d: %w", id, err)
	}
	return &u, nil
}

// RemoveUser deletes a user: their sessions end and their API tokens are
// revoked in the same transaction. The last admin cannot be removed.
func (s *Store) RemoveUser(ctx context.Context, id int64) error {
	err := s.transact(ctx, func(tx *gorm.DB) error {
		if err := s.lockAdmins(tx); err != nil {
			return err
		}
		var u User
		if err := tx.First(&u, id).Error; err != nil {
			return notFound(err)
		}
		if u.Role == RoleAdmin && u.AllPages {
			if n, err := otherAdmins(tx, id); err != nil {
				return err
			} else if n == 0 {
				return ErrLastAdmin
			}
		}
		now := s.Now()
		// Revoked before the row goes: the foreign key would leave the
		// tokens without an owner, and ownerless tokens act as admin.
		if err := tx.Model(&Token{}).Where("created_by_user_id = ? AND revoked_at IS NULL", id).
			Update("revoked_at", now).Error; err != nil {
			return err
		}
		if err := tx.Where("user_id = ?", id).Delete(&Session{}).Error; err != nil {
			return err
		}
		if err := tx.Delete(&User{}, id).Error; err != nil {
			return err
		}
		return audit(ctx, tx, change{PageID: DefaultPageID, Action: "user.remove", ObjectType: AuditUser,
			ObjectID: idString(id), Summary: fmt.Sprintf("Removed %s %s; their sessions ended and their API tokens were revoked.",
				strings.ToLower(u.Role.Label()), u.Email),
			Before: userAuditSnapshot(&u)})
	})
	if err != nil {
		return fmt.Errorf("remove user %d: %w", id, err)
	}
	return nil
}

// AuditDenied records a request refused because the role of whoever sent
// it (role; "" for no one) lacks min. The actor comes from ctx.
func (s *Store) AuditDenied(ctx context.Context, method, route string, role, min Role) error {
	who := string(role)
	if who == "" {
		who = "no role"
	}
	return s.transact(ctx, func(tx *gorm.DB) error {
		return audit(ctx, tx, change{PageID: DefaultPageID, Action: "access.denied", ObjectType: AuditAccess,
			ObjectID: method + " " + route,
			Summary:  fmt.Sprintf("Refused %s %s: it needs %s, the role is %s.", method, route, min, who)})
	})
}

// SetPassword replaces a user's password (the command line's
// reset-password, and the account page once the old one is checked). The
// user's other sessions are not ended here; callers decide.
func (s *Store) SetPassword(ctx context.Context, id int64, password string) error {
	var v Validator
	checkInput(&v, &struct{ Password string }{password})
	err := s.transact(ctx, func(tx *gorm.DB) error {
		var u User
		if err := tx.First(&u, id).Error; err != nil {
			return notFound(err)
		}
		validatePassword(&v, u.Email, password)
		if err := v.Err(); err != nil {
			return err
		}
		hash, err := hashPassword(password)
		if err != nil {
			return err
		}
		if err := tx.Model(&User{}).Where("id = ?", id).
			Updates(map[string]any{"password_hash": hash, "updated_at": s.Now()}).Error; err != nil {
			return err
		}
		return audit(ctx, tx, change{PageID: DefaultPageID, Action: "user.password", ObjectType: AuditUser,
			ObjectID: idString(id), Summary: fmt.Sprintf("Set a new password for %s.", u.Email)})
	})
	if err != nil {
		return fmt.Errorf("set password of user %d: %w", id, err)
	}
	return nil
}

// ResetTwoFactor turns a user's two-factor sign-in off and forgets their
// TOTP secret and recovery codes, for someone locked out; they enrol
// again (and must, when the install requires it).
func (s *Store) ResetTwoFactor(ctx context.Context, id int64) error {
	err := s.transact(ctx, func(tx *gorm.DB) error {
		var u User
		if err := tx.First(&u, id).Error; err != nil {
			return notFound(err)
		}
		before := userAuditSnapshot(&u)
		if err := tx.Model(&User{}).Where("id = ?", id).Updates(map[string]any{
			"totp_secret": "", "totp_enabled_at": nil, "totp_last_step": 0, "updated_at": s.Now()}).Error; err != nil {
			return err
		}
		if err := tx.Exec("DELETE FROM recovery_codes WHERE user_id = ?", id).Error; err != nil {
			return err
		}
		u.TOTPSecret, u.TOTPEnabledAt = "", nil
		return audit(ctx, tx, change{PageID: DefaultPageID, Action: "user.2fa_reset", ObjectType: AuditUser,
			ObjectID: idString(id), Summary: fmt.Sprintf("Reset two-factor sign-in of %s.", u.Email),
			Before: before, After: userAuditSnapshot(&u)})
	})
	if err != nil {
		return fmt.Errorf("reset two-factor sign-in of user %d: %w", id, err)
	}
	return nil
}
