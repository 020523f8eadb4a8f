package models

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"gorm.io/gorm"
)

// MaxPageIDs bounds how many pages one user or invitation is limited to
// in a single request.
const MaxPageIDs = 1000

// ErrLastAllPagesAdmin is returned when a change would leave no admin
// who may see every page: someone must always be able to manage users,
// pages and sign-in settings.
var ErrLastAllPagesAdmin = fmt.Errorf("the last admin of every page cannot be limited to some pages: %w", ErrLastAdmin)

// PageSet is which status pages a team member may see: every page
// (All), or only PageIDs. A user limited to pages works on those pages
// only, in the admin and through their API tokens; only users who may
// see every page manage what belongs to the whole install (users, pages,
// sign-in settings, install-wide API tokens).
type PageSet struct {
	All     bool
	PageIDs []int64
}

// AllPagesAccess is the access of a user who may see every page.
func AllPagesAccess() PageSet { return PageSet{All: true} }

// MaySee reports whether the access reaches page pageID.
func (a PageSet) MaySee(pageID int64) bool {
	return pageID > 0 && (a.All || slices.Contains(a.PageIDs, pageID))
}

// validate checks a limited access's page ids against the pages that
// exist, in tx, under field; it sorts them.
func (a *PageSet) validate(tx *gorm.DB, v *Validator, field string) error {
	if a.All {
		a.PageIDs = nil
		return nil
	}
	switch {
	case len(a.PageIDs) == 0:
		v.Add(field, "Choose at least one page, or all pages.")
		return nil
	case len(a.PageIDs) > MaxPageIDs:
		v.Add(field, fmt.Sprintf("Choose at most %d pages, or all pages.", MaxPageIDs))
		return nil
	}
	seen := map[int64]bool{}
	for _, id := range a.PageIDs {
		if seen[id] {
			v.Add(field, fmt.Sprintf("Page %d is listed twice; list each page once.", id))
			return nil
		}
		seen[id] = true
	}
	var found []int64
	if err := tx.Model(&Page{}).Where("id IN ?", a.PageIDs).Pluck("id", &found).Error; err != nil {
		return fmt.Errorf("check pages: %w", err)
	}
	for _, id := range a.PageIDs {
		if !slices.Contains(found, id) {
			v.Add(field, fmt.Sprintf("No status page has the id %d; choose from the listed pages.", id))
			return nil
		}
	}
	slices.Sort(a.PageIDs)
	return nil
}

// MaySee reports whether the user may see page pageID.
func (u *User) MaySee(pageID int64) bool { return u.Access().MaySee(pageID) }

// Access is the pages the user may see, as loaded with the user.
func (u *User) Access() PageSet { return PageSet{All: u.AllPages, PageIDs: u.PageIDs} }

// userPageIDs lists the pages a limited user is limited to.
func userPageIDs(tx *gorm.DB, userID int64) ([]int64, error) {
	ids := []int64{}
	if err := tx.Table("user_pages").Where("user_id = ?", userID).Order("page_id").Pluck("page_id", &ids).Error; err != nil {
		return nil, fmt.Errorf("pages of user %d: %w", userID, err)
	}
	return ids, nil
}

// loadUserPages fills u.PageIDs when u is limited to some pages.
func loadUserPages(tx *gorm.DB, u *User) error {
	if u.AllPages {
		u.PageIDs = nil
		return nil
	}
	ids, err := userPageIDs(tx, u.ID)
	u.PageIDs = ids
	return err
}

// UserMaySeePage reports whether the user with userID may work on page
// pageID in the admin and, when that page is private, read it as a
// signed-in team member: a user who may see every page, or one limited
// to pages among which is pageID. An unknown user may see nothing.
func (s *Store) UserMaySeePage(ctx context.Context, userID, pageID int64) (bool, error) {
	if userID <= 0 || pageID <= 0 {
		return false, nil
	}
	var n int64
	err := s.conn(ctx).Model(&User{}).
		Where("id = ? AND (all_pages = ? OR EXISTS (SELECT 1 FROM user_pages WHERE user_pages.user_id = users.id AND user_pages.page_id = ?))",
			userID, true, pageID).
		Where("EXISTS (SELECT 1 FROM pages WHERE pages.id = ?)", pageID).
		Count(&n).Error
	if err != nil {
		return false, fmt.Errorf("may user %d see page %d: %w", userID, pageID, err)
	}
	return n > 0, nil
}

// UserPageAccess loads which pages user userID may see.
func (s *Store) UserPageAccess(ctx context.Context, userID int64) (PageSet, error) {
	u, err := s.User(ctx, userID)
	if err != nil {
		return PageSet{}, err
	}
	return u.Access(), nil
}

// PagesFor lists the pages access reaches, the first page first.
func (s *Store) PagesFor(ctx context.Context, access PageSet) ([]Page, error) {
	if access.All {
		return s.Pages(ctx)
	}
	out := []Page{}
	if len(access.PageIDs) == 0 {
		return out, nil
	}
	if err := s.conn(ctx).Where("id IN ?", access.PageIDs).Order("id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list pages of a limited user: %w", err)
	}
	return out, nil
}

// pageNames is "“Staff”, “Customers”": the pages ids name, for audit
// summaries.
func pageNames(tx *gorm.DB, ids []int64) (string, error) {
	var pages []Page
	if err := tx.Select("id", "name").Where("id IN ?", ids).Order("id").Find(&pages).Error; err != nil {
		return "", fmt.Errorf("page names: %w", err)
	}
	names := make([]string, len(pages))
	for i, p := range pages {
		names[i] = "“" + p.Name + "”"
	}
	return strings.Join(names, ", "), nil
}

// accessSummary says in words what access reaches.
func accessSummary(tx *gorm.DB, a PageSet) (string, error) {
	if a.All {
		return "every page", nil
	}
	names, err := pageNames(tx, a.PageIDs)
	if err != nil {
		return "", err
	}
	if len(a.PageIDs) == 1 {
		return "the page " + names, nil
	}
	return "the pages " + names, nil
}

// userPagesAudit is a user's page access as the audit log shows it.
type userPagesAudit struct {
	ID       int64   `json:"id"`
	Email    string  `json:"email"`
	AllPages bool    `json:"all_pages"`
	PageIDs  []int64 `json:"page_ids,omitempty"`
}

// writeUserPages stores access as userID's, replacing what was there.
func writeUserPages(tx *gorm.DB, userID int64, a PageSet) error {
	if err := tx.Exec("DELETE FROM user_pages WHERE user_id = ?", userID).Error; err != nil {
		return err
	}
	for _, id := range a.PageIDs {
		if err := tx.Exec("INSERT INTO user_pages (user_id, page_id) VALUES (?, ?)", userID, id).Error; err != nil {
			return err
		}
	}
	return tx.Model(&User{}).Where("id = ?", userID).Update("all_pages", a.All).Error
}

// SetUserPages sets which pages user id may see, at once: their next
// request, their sessions and their API tokens reach those pages only.
// The last admin who may see every page cannot be limited
// (ErrLastAllPagesAdmin).
func (s *Store) SetUserPages(ctx context.Context, id int64, access PageSet) (*User, error) {
	var u User
	err := s.transact(ctx, func(tx *gorm.DB) error {
		if err := s.lockAdmins(tx); err != nil {
			return err
		}
		if err := tx.First(&u, id).Error; err != nil {
			return notFound(err)
		}
		if err := loadUserPages(tx, &u); err != nil {
			return err
		}
		var v Validator
		if err := access.validate(tx, &v, "page_ids"); err != nil {
			return err
		}
		if err := v.Err(); err != nil {
			return err
		}
		if u.AllPages == access.All && slices.Equal(u.PageIDs, access.PageIDs) {
			return nil
		}
		if u.Role == RoleAdmin && u.AllPages && !access.All {
			if n, err := otherAdmins(tx, id); err != nil {
				return err
			} else if n == 0 {
				return ErrLastAllPagesAdmin
			}
		}
		before := userPagesAudit{ID: u.ID, Email: u.Email, AllPages: u.AllPages, PageIDs: u.PageIDs}
		if err := writeUserPages(tx, id, access); err != nil {
			return err
		}
		u.AllPages, u.PageIDs = access.All, access.PageIDs
		what, err := accessSummary(tx, access)
		if err != nil {
			return err
		}
		summary := fmt.Sprintf("Limited %s to %s.", u.Email, what)
		if access.All {
			summary = fmt.Sprintf("Let %s see every page.", u.Email)
		}
		return audit(ctx, tx, change{PageID: DefaultPageID, Action: "user.pages", ObjectType: AuditUser,
			ObjectID: idString(id), Summary: summary, Before: before,
			After: userPagesAudit{ID: u.ID, Email: u.Email, AllPages: u.AllPages, PageIDs: u.PageIDs}})
	})
	if err != nil {
		var ve *ValidationError
		if errors.As(err, &ve) {
			return nil, err
		}
		return nil, fmt.Errorf("set pages of user %d: %w", id, err)
	}
	return &u, nil
}

// UsersPageAccess maps every limited user's id to the pages they may
// see, in one query, for the Users screen and the API's user list; users
// who may see every page are absent.
func (s *Store) UsersPageAccess(ctx context.Context) (map[int64][]int64, error) {
	var rows []struct{ UserID, PageID int64 }
	if err := s.conn(ctx).Table("user_pages").Select("user_id", "page_id").Order("user_id, page_id").Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("pages of users: %w", err)
	}
	out := map[int64][]int64{}
	for _, r := range rows {
		out[r.UserID] = append(out[r.UserID], r.PageID)
	}
	return out, nil
}

// invitationPageIDs lists the pages a limited invitation names.
func invitationPageIDs(tx *gorm.DB, invitationID int64) ([]int64, error) {
	ids := []int64{}
	if err := tx.Table("invitation_pages").Where("invitation_id = ?", invitationID).Order("page_id").Pluck("page_id", &ids).Error; err != nil {
		return nil, fmt.Errorf("pages of invitation %d: %w", invitationID, err)
	}
	return ids, nil
}

// Access is the pages the invited person will see.
func (i *Invitation) Access() PageSet { return PageSet{All: i.AllPages, PageIDs: i.PageIDs} }
