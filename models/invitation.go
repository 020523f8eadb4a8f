package models

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
)

// InvitationTTL is how long an invitation link works.
const InvitationTTL = 7 * 24 * time.Hour

// ErrInvitationInvalid is returned for an invitation link that no longer
// works; ErrInvitationExpired, ErrInvitationUsed, ErrInvitationRevoked
// and ErrInvitationTaken say why and match it with errors.Is. An unknown
// link is ErrNotFound.
var (
	ErrInvitationInvalid = errors.New("invitation no longer valid")
	ErrInvitationExpired = fmt.Errorf("expired: %w", ErrInvitationInvalid)
	ErrInvitationUsed    = fmt.Errorf("already accepted: %w", ErrInvitationInvalid)
	ErrInvitationRevoked = fmt.Errorf("revoked: %w", ErrInvitationInvalid)
	// ErrInvitationTaken: someone created an account with the invited
	// address after the invitation was sent.
	ErrInvitationTaken = fmt.Errorf("address already has an account: %w", ErrInvitationInvalid)
)

// Invitation asks someone to join the team with a role. The link's
// secret is never stored: TokenHash is its SHA-256, like API tokens.
type Invitation struct {
	ID              int64
	Email           string
	Role            Role
	TokenHash       string
	InvitedByUserID *int64
	ExpiresAt       time.Time
	AcceptedAt      *time.Time
	RevokedAt       *time.Time
	CreatedAt       time.Time
	// AllPages says whether the invited person will see every page; when
	// false, PageIDs (loaded by Invitation and PendingInvitations) are
	// the pages they will see.
	AllPages bool    `gorm:"column:all_pages;default:true"`
	PageIDs  []int64 `gorm:"-"`
}

// InvitationState is where an invitation stands.
type InvitationState string

// The invitation states.
const (
	InvitationPending  InvitationState = "pending"
	InvitationExpired  InvitationState = "expired"
	InvitationAccepted InvitationState = "accepted"
	InvitationRevoked  InvitationState = "revoked"
)

// State says whether the invitation can still be accepted at now.
func (i *Invitation) State(now time.Time) InvitationState {
	switch {
	case i.AcceptedAt != nil:
		return InvitationAccepted
	case i.RevokedAt != nil:
		return InvitationRevoked
	case !now.Before(i.ExpiresAt):
		return InvitationExpired
	}
	return InvitationPending
}

// stateErr is the error that goes with a state that is not pending.
func (i *Invitation) stateErr(now time.Time) error {
	switch i.State(now) {
	case InvitationAccepted:
		return ErrInvitationUsed
	case InvitationRevoked:
		return ErrInvitationRevoked
	case InvitationExpired:
		return ErrInvitationExpired
	}
	return nil
}

// InvitationInput is whom an admin invites, and as what.
type InvitationInput struct {
	Email string
	Role  Role
	// PageIDs limits the invited person to these pages; nil lets them
	// see every page (an empty, non-nil list is refused).
	PageIDs []int64
}

// access is the pages in names.
func (in InvitationInput) access() PageSet {
	return PageSet{All: in.PageIDs == nil, PageIDs: in.PageIDs}
}

// invitationAudit is an invitation as the audit log shows it: never its
// hash.
type invitationAudit struct {
	ID         int64      `json:"id"`
	Email      string     `json:"email"`
	Role       Role       `json:"role"`
	ExpiresAt  time.Time  `json:"expires_at"`
	AcceptedAt *time.Time `json:"accepted_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
	AllPages   bool       `json:"all_pages"`
	PageIDs    []int64    `json:"page_ids,omitempty"`
}

func invitationAuditSnapshot(i *Invitation) invitationAudit {
	return invitationAudit{ID: i.ID, Email: i.Email, Role: i.Role, ExpiresAt: i.ExpiresAt,
		AcceptedAt: i.AcceptedAt, RevokedAt: i.RevokedAt, AllPages: i.AllPages, PageIDs: i.PageIDs}
}

// userWithEmail reports whether a user has this address, in any case.
func userWithEmail(tx *gorm.DB, email string) (bool, error) {
	var n int64
	err := tx.Model(&User{}).Where("LOWER(email) = ?", strings.ToLower(email)).Count(&n).Error
	return n > 0, err
}

// CreateInvitation invites in.Email to join with in.Role for
// InvitationTTL, sent by userID (0 for none). It returns the invitation
// and, once only, the secret of its link. An address that already has a
// user, in any case, or a pending invitation, is refused.
func (s *Store) CreateInvitation(ctx context.Context, in InvitationInput, userID int64) (*Invitation, string, error) {
	var v Validator
	checkInput(&v, &in)
	in.Email = NormalizeEmail(in.Email)
	if v.Err() == nil {
		validateEmailAddress(&v, in.Email)
	}
	v.Check(in.Role.Valid(), "role", "Choose a role: viewer, operator or admin.")
	if err := v.Err(); err != nil {
		return nil, "", err
	}
	b := make([]byte, 32)
	rand.Read(b)
	plain := base64.RawURLEncoding.EncodeToString(b)
	now := s.Now()
	inv := &Invitation{Email: in.Email, Role: in.Role, TokenHash: HashToken(plain), ExpiresAt: now.Add(InvitationTTL), CreatedAt: now,
		AllPages: true}
	if userID != 0 {
		inv.InvitedByUserID = &userID
	}
	err := s.transact(ctx, func(tx *gorm.DB) error {
		if taken, err := userWithEmail(tx, in.Email); err != nil {
			return err
		} else if taken {
			return &ValidationError{Fields: map[string]string{"email": "A user with this e-mail address already exists."}}
		}
		var pending int64
		if err := tx.Model(&Invitation{}).
			Where("email = ? AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > ?", in.Email, now).
			Count(&pending).Error; err != nil {
			return err
		}
		if pending > 0 {
			return &ValidationError{Fields: map[string]string{"email": "This address already has a pending invitation. Revoke it to send a new one."}}
		}
		pages := in.access()
		if err := pages.validate(tx, &v, "page_ids"); err != nil {
			return err
		}
		if err := v.Err(); err != nil {
			return err
		}
		if err := tx.Create(inv).Error; err != nil {
			return err
		}
		if !pages.All {
			inv.AllPages, inv.PageIDs = false, pages.PageIDs
			if err := tx.Model(&Invitation{}).Where("id = ?", inv.ID).Update("all_pages", false).Error; err != nil {
				return err
			}
			for _, id := range inv.PageIDs {
				if err := tx.Exec("INSERT INTO invitation_pages (invitation_id, page_id) VALUES (?, ?)", inv.ID, id).Error; err != nil {
					return err
				}
			}
		}
		what, err := accessSummary(tx, inv.Access())
		if err != nil {
			return err
		}
		return audit(ctx, tx, change{PageID: DefaultPageID, Action: "invitation.create", ObjectType: AuditInvitation,
			ObjectID: idString(inv.ID), Summary: fmt.Sprintf("Invited %s to join as %s, for %s.", inv.Email, strings.ToLower(inv.Role.Label()), what),
			After: invitationAuditSnapshot(inv)})
	})
	if err != nil {
		return nil, "", fmt.Errorf("invite %s: %w", in.Email, err)
	}
	return inv, plain, nil
}

// PendingInvitations lists invitations neither accepted nor revoked,
// newest first; expired ones are among them until revoked.
func (s *Store) PendingInvitations(ctx context.Context) ([]Invitation, error) {
	var out []Invitation
	if err := s.conn(ctx).Where("accepted_at IS NULL AND revoked_at IS NULL").
		Order("created_at DESC, id DESC").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list invitations: %w", err)
	}
	for i := range out {
		if !out[i].AllPages {
			ids, err := invitationPageIDs(s.conn(ctx), out[i].ID)
			if err != nil {
				return nil, err
			}
			out[i].PageIDs = ids
		}
	}
	return out, nil
}

// Invitation loads one invitation.
func (s *Store) Invitation(ctx context.Context, id int64) (*Invitation, error) {
	var inv Invitation
	if err := s.conn(ctx).First(&inv, id).Error; err != nil {
		return nil, fmt.Errorf("load invitation %d: %w", id, notFound(err))
	}
	if !inv.AllPages {
		ids, err := invitationPageIDs(s.conn(ctx), id)
		if err != nil {
			return nil, err
		}
		inv.PageIDs = ids
	}
	return &inv, nil
}

// InvitationByToken loads the invitation whose link secret this is:
// ErrNotFound for none; for one that no longer works, the invitation and
// an error matching ErrInvitationInvalid that says why.
func (s *Store) InvitationByToken(ctx context.Context, plain string) (*Invitation, error) {
	var inv Invitation
	if err := s.conn(ctx).Where("token_hash = ?", HashToken(plain)).First(&inv).Error; err != nil {
		return nil, fmt.Errorf("load invitation by link: %w", notFound(err))
	}
	return &inv, inv.stateErr(s.Now())
}

// AuditInvitationRefused records that someone tried a link of inv that no
// longer works, why being the error InvitationByToken or
// AcceptInvitation returned.
func (s *Store) AuditInvitationRefused(ctx context.Context, inv *Invitation, why error) error {
	reason := "it no longer works"
	switch {
	case errors.Is(why, ErrInvitationExpired):
		reason = "it expired on " + inv.ExpiresAt.UTC().Format("Jan 2, 2006 15:04 UTC")
	case errors.Is(why, ErrInvitationUsed):
		reason = "it was already accepted"
	case errors.Is(why, ErrInvitationRevoked):
		reason = "it was revoked"
	case errors.Is(why, ErrInvitationTaken):
		reason = "the address already has an account"
	}
	return s.transact(ctx, func(tx *gorm.DB) error {
		return audit(ctx, tx, change{PageID: DefaultPageID, Action: "invitation.refused", ObjectType: AuditInvitation,
			ObjectID: idString(inv.ID), Summary: fmt.Sprintf("Refused the invitation link of %s: %s.", inv.Email, reason)})
	})
}

// AcceptInvitation creates the invited user with the invitation's role
// and password, and marks the invitation accepted, in one transaction: a
// link works once. The new user is the actor of the audit entries.
func (s *Store) AcceptInvitation(ctx context.Context, plain, password string) (*User, error) {
	inv, err := s.InvitationByToken(ctx, plain)
	if err != nil {
		return nil, err
	}
	var v Validator
	checkInput(&v, &struct{ Password string }{password})
	if v.Err() == nil {
		validatePassword(&v, inv.Email, password)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	hash, err := hashPassword(password)
	if err != nil {
		return nil, err
	}
	u := &User{Email: inv.Email, PasswordHash: hash, Role: inv.Role, AllPages: true}
	err = s.transact(ctx, func(tx *gorm.DB) error {
		now := s.Now()
		// Conditional: of two browsers accepting at once, one wins.
		res := tx.Model(&Invitation{}).
			Where("id = ? AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > ?", inv.ID, now).
			Update("accepted_at", now)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			var again Invitation
			if err := tx.First(&again, inv.ID).Error; err != nil {
				return notFound(err)
			}
			if err := again.stateErr(now); err != nil {
				return err
			}
			return ErrInvitationUsed
		}
		if taken, err := userWithEmail(tx, inv.Email); err != nil {
			return err
		} else if taken {
			return ErrInvitationTaken
		}
		if err := tx.Create(u).Error; err != nil {
			if errors.Is(err, gorm.ErrDuplicatedKey) {
				return ErrInvitationTaken
			}
			return err
		}
		// The invitation's pages as they are now, in this transaction: a
		// page deleted since is not among them, and a limited invitation
		// whose pages are all gone makes a user who sees no page.
		if err := tx.Model(&Invitation{}).Select("all_pages").Where("id = ?", inv.ID).Scan(&inv.AllPages).Error; err != nil {
			return err
		}
		if !inv.AllPages {
			ids, err := invitationPageIDs(tx, inv.ID)
			if err != nil {
				return err
			}
			u.AllPages, u.PageIDs = false, ids
			if err := writeUserPages(tx, u.ID, u.Access()); err != nil {
				return err
			}
		}
		actx := WithActor(ctx, UserActor(u.ID, u.Email, ActorFrom(ctx).IP))
		if err := audit(actx, tx, change{PageID: DefaultPageID, Action: "user.create", ObjectType: AuditUser,
			ObjectID: idString(u.ID), Summary: fmt.Sprintf("Created %s %s from an invitation.", strings.ToLower(u.Role.Label()), u.Email),
			After: userAuditSnapshot(u)}); err != nil {
			return err
		}
		before := invitationAuditSnapshot(inv)
		inv.AcceptedAt = &now
		return audit(actx, tx, change{PageID: DefaultPageID, Action: "invitation.accept", ObjectType: AuditInvitation,
			ObjectID: idString(inv.ID), Summary: fmt.Sprintf("%s accepted the invitation and joined as %s.", u.Email, strings.ToLower(u.Role.Label())),
			Before: before, After: invitationAuditSnapshot(inv)})
	})
	if err != nil {
		if errors.Is(err, ErrInvitationInvalid) {
			return nil, err
		}
		return nil, fmt.Errorf("accept invitation %d: %w", inv.ID, err)
	}
	return u, nil
}

// RevokeInvitation stops an invitation's link from working. Revoking a
// revoked invitation changes nothing; an accepted one cannot be revoked
// (ErrInvitationUsed): remove the user instead.
func (s *Store) RevokeInvitation(ctx context.Context, id int64) (*Invitation, error) {
	var inv Invitation
	err := s.transact(ctx, func(tx *gorm.DB) error {
		if err := tx.First(&inv, id).Error; err != nil {
			return notFound(err)
		}
		if inv.AcceptedAt != nil {
			return ErrInvitationUsed
		}
		if inv.RevokedAt != nil {
			return nil
		}
		before := invitationAuditSnapshot(&inv)
		now := s.Now()
		if err := tx.Model(&Invitation{}).Where("id = ? AND revoked_at IS NULL", id).Update("revoked_at", now).Error; err != nil {
			return err
		}
		inv.RevokedAt = &now
		return audit(ctx, tx, change{PageID: DefaultPageID, Action: "invitation.revoke", ObjectType: AuditInvitation,
			ObjectID: idString(id), Summary: fmt.Sprintf("Revoked the invitation of %s.", inv.Email),
			Before: before, After: invitationAuditSnapshot(&inv)})
	})
	if err != nil {
		return nil, fmt.Errorf("revoke invitation %d: %w", id, err)
	}
	return &inv, nil
}
