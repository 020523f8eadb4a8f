package models

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"

	"gorm.io/gorm"
)

// SSOActor is a person signing in as email at the identity provider
// issuer, from ip: the audit log names the provider's identity
// ("sso:<issuer> <email>") for what their sign-in changes (their account
// made, linked or given the mapped role) and for refused sign-ins. It is
// a user actor (the audit log's actor types are user, token and system);
// the changes set its id to the account's.
func SSOActor(issuer, email, ip string) Actor {
	return Actor{Type: ActorUser, Name: "sso:" + issuer + " " + email, IP: ip}
}

// ErrSSOConflict is returned when the e-mail of an SSO identity belongs to
// a Herald account already linked to another identity.
var ErrSSOConflict = errors.New("the e-mail belongs to an account linked to another SSO identity")

// SSOIdentity is a verified sign-in from the identity provider and the
// role Herald's mapping gives it.
type SSOIdentity struct {
	Issuer  string
	Subject string
	Email   string
	Role    Role
}

// ssoSubject is what users.oidc_subject holds: the subject qualified by
// its issuer, so a subject of another provider configured later cannot
// match.
func ssoSubject(issuer, subject string) string { return issuer + " " + subject }

// SignInWithSSO finds the account of a verified SSO identity and brings
// its role in line with the mapping, in one transaction:
//
//   - an account linked to this issuer and subject is the one;
//   - otherwise an account with the same e-mail and no SSO link yet is
//     linked (the provider has verified the address, as an invitation
//     would have): audited as user.sso_link;
//   - otherwise a new account is created without a password (it can
//     only sign in with SSO): audited as user.create.
//
// A role that differs from the mapping's is changed (user.role), except
// that the last admin is not demoted (ErrLastAdmin). Every entry names
// the SSO identity as its actor. An account with this e-mail linked to
// another identity gives ErrSSOConflict.
func (s *Store) SignInWithSSO(ctx context.Context, in SSOIdentity) (*User, error) {
	var v Validator
	checkInput(&v, &in)
	in.Email = NormalizeEmail(in.Email)
	if addr, err := mail.ParseAddress(in.Email); err != nil || addr.Address != in.Email || len(in.Email) > MaxEmailLength {
		v.Add("email", "The identity provider sent an e-mail address Herald cannot use.")
	}
	v.Check(in.Subject != "" && in.Issuer != "", "subject", "The identity provider sent no subject.")
	v.Check(in.Role.Valid(), "role", "Choose a role: viewer, operator or admin.")
	if err := v.Err(); err != nil {
		return nil, err
	}
	subject := ssoSubject(in.Issuer, in.Subject)
	actor := SSOActor(in.Issuer, in.Email, ActorFrom(ctx).IP)
	var u User
	err := s.transact(ctx, func(tx *gorm.DB) error {
		if err := s.lockAdmins(tx); err != nil {
			return err
		}
		err := tx.Where("oidc_subject = ?", subject).First(&u).Error
		switch {
		case errors.Is(err, gorm.ErrRecordNotFound):
			err = tx.Where("email = ?", in.Email).First(&u).Error
			switch {
			case errors.Is(err, gorm.ErrRecordNotFound):
				return s.createSSOUser(ctx, tx, &u, in, subject, actor)
			case err != nil:
				return err
			case u.OIDCSubject != nil:
				return ErrSSOConflict
			}
			if err := s.linkSSOUser(ctx, tx, &u, subject, actor); err != nil {
				return err
			}
		case err != nil:
			return err
		}
		return s.mapSSORole(ctx, tx, &u, in.Role, actor)
	})
	if err != nil {
		return nil, fmt.Errorf("sign in %s with SSO: %w", in.Email, err)
	}
	return &u, nil
}

func (s *Store) createSSOUser(ctx context.Context, tx *gorm.DB, u *User, in SSOIdentity, subject string, actor Actor) error {
	*u = User{Email: in.Email, PasswordHash: "", Role: in.Role, OIDCSubject: &subject, AllPages: true}
	if err := tx.Create(u).Error; err != nil {
		return err
	}
	actor.ID = &u.ID
	return audit(WithActor(ctx, actor), tx, change{PageID: DefaultPageID, Action: "user.create", ObjectType: AuditUser,
		ObjectID: idString(u.ID), Summary: fmt.Sprintf("Created %s %s at their first sign-in with SSO.",
			strings.ToLower(u.Role.Label()), u.Email),
		After: userAuditSnapshot(u)})
}

func (s *Store) linkSSOUser(ctx context.Context, tx *gorm.DB, u *User, subject string, actor Actor) error {
	u.OIDCSubject = &subject
	u.UpdatedAt = s.Now()
	if err := tx.Model(&User{}).Where("id = ?", u.ID).
		Updates(map[string]any{"oidc_subject": subject, "updated_at": u.UpdatedAt}).Error; err != nil {
		return err
	}
	actor.ID = &u.ID
	return audit(WithActor(ctx, actor), tx, change{PageID: DefaultPageID, Action: "user.sso_link", ObjectType: AuditUser,
		ObjectID: idString(u.ID), Summary: fmt.Sprintf("Linked %s to their SSO identity (the provider verified the e-mail address).", u.Email)})
}

func (s *Store) mapSSORole(ctx context.Context, tx *gorm.DB, u *User, role Role, actor Actor) error {
	if u.Role == role {
		return nil
	}
	if u.Role == RoleAdmin {
		if n, err := otherAdmins(tx, u.ID); err != nil {
			return err
		} else if n == 0 {
			return ErrLastAdmin
		}
	}
	before := userAuditSnapshot(u)
	u.Role = role
	u.UpdatedAt = s.Now()
	if err := tx.Model(&User{}).Where("id = ?", u.ID).
		Updates(map[string]any{"role": role, "updated_at": u.UpdatedAt}).Error; err != nil {
		return err
	}
	actor.ID = &u.ID
	return audit(WithActor(ctx, actor), tx, change{PageID: DefaultPageID, Action: "user.role", ObjectType: AuditUser,
		ObjectID: idString(u.ID), Summary: fmt.Sprintf("Changed %s's role from %s to %s, as the SSO role mapping says.", u.Email,
			strings.ToLower(before.Role.Label()), strings.ToLower(role.Label())),
		Before: before, After: userAuditSnapshot(u)})
}

// AuditSSORefused records a refused SSO sign-in: who is the e-mail (or
// "unknown" before the ID token is verified), why the reason in words.
// The actor comes from ctx.
func (s *Store) AuditSSORefused(ctx context.Context, who, why string) error {
	who = strings.ToValidUTF8(strings.ReplaceAll(who, "\x00", ""), "")
	if r := []rune(who); len(r) > MaxEmailLength {
		who = string(r[:MaxEmailLength])
	}
	return s.transact(ctx, func(tx *gorm.DB) error {
		return audit(ctx, tx, change{PageID: DefaultPageID, Action: "access.sso_refused", ObjectType: AuditAccess,
			ObjectID: who, Summary: "Refused a sign-in with SSO: " + why})
	})
}

// PasswordSignIn reports whether the install lets people sign in with a
// password (instance_settings.password_sign_in).
func (s *Store) PasswordSignIn(ctx context.Context) (bool, error) {
	var on bool
	if err := s.conn(ctx).Table("instance_settings").Where("id = 1").Select("password_sign_in").Scan(&on).Error; err != nil {
		return false, fmt.Errorf("load password sign-in setting: %w", err)
	}
	return on, nil
}

// SetPasswordSignIn switches password sign-in on or off; the caller checks
// that single sign-on is configured before switching it off. The command
// line's reset-password works either way.
func (s *Store) SetPasswordSignIn(ctx context.Context, on bool) error {
	err := s.transact(ctx, func(tx *gorm.DB) error {
		var was bool
		if err := tx.Table("instance_settings").Where("id = 1").Select("password_sign_in").Scan(&was).Error; err != nil {
			return err
		}
		if was == on {
			return nil
		}
		if err := tx.Table("instance_settings").Where("id = 1").
			Updates(map[string]any{"password_sign_in": on, "updated_at": s.Now()}).Error; err != nil {
			return err
		}
		summary := "Switched password sign-in off: team members sign in with SSO."
		if on {
			summary = "Switched password sign-in back on."
		}
		return audit(ctx, tx, change{PageID: DefaultPageID, Action: "settings.password_sign_in", ObjectType: AuditSettings,
			ObjectID: "1", Summary: summary, Before: map[string]bool{"password_sign_in": was}, After: map[string]bool{"password_sign_in": on}})
	})
	if err != nil {
		return fmt.Errorf("set password sign-in to %t: %w", on, err)
	}
	return nil
}
