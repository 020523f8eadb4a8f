package models

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"gorm.io/gorm"
)

// MaxSlugLength bounds a page's slug: one DNS label, so a slug can
// also name a subdomain.
const MaxSlugLength = 63

// ReservedSlugs are the words a page's slug may not take: every first
// path segment Herald serves (web/routes.go; web's
// TestEveryRouteSegmentIsReserved proves the list covers them), and a
// few more kept for later.
var ReservedSlugs = []string{
	"access", "admin", "api", "auth", "badge.svg", "favicon.ico", "favicon.svg", "feed", "healthz", "history",
	"history.atom", "history.rss", "incidents", "invite", "login", "logout", "maintenance",
	"maintenance.ics", "metrics", "readyz", "s", "setup", "static", "subscribe", "subscriptions",
	// Not served today; kept for later and for clarity.
	"www", "status", "pages", "assets", "robots.txt", "sitemap.xml", "well-known", ".well-known",
}

// SlugReserved says whether slug is one of ReservedSlugs.
func SlugReserved(slug string) bool {
	for _, r := range ReservedSlugs {
		if slug == r {
			return true
		}
	}
	return false
}

// SlugProblem says what is wrong with a page slug, or "" when it is
// valid: lower-case ASCII letters, digits and hyphens, 1 to 63
// characters, neither starting nor ending with a hyphen, and not a
// reserved word. It is the only place these rules are written.
func SlugProblem(slug string) string {
	if slug == "" {
		return "Enter a slug: the page's address, such as internal or eu-west."
	}
	if len(slug) > MaxSlugLength {
		return fmt.Sprintf("Use at most %d characters.", MaxSlugLength)
	}
	for i := 0; i < len(slug); i++ {
		c := slug[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return "Use only lower-case letters a to z, digits and hyphens."
		}
	}
	if slug[0] == '-' || slug[len(slug)-1] == '-' {
		return "Start and end the slug with a letter or a digit."
	}
	if SlugReserved(slug) {
		return fmt.Sprintf("%q is an address Herald uses itself; choose another slug.", slug)
	}
	return ""
}

// Pages lists every status page, the first page first.
func (s *Store) Pages(ctx context.Context) ([]Page, error) {
	var out []Page
	if err := s.conn(ctx).Order("id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list pages: %w", err)
	}
	return out, nil
}

// PageNameInput is a page's name and slug, as the Pages screen and the
// API change them.
type PageNameInput struct {
	Name string
	Slug string
}

func (in *PageNameInput) validate(v *Validator) {
	checkInput(v, in)
	in.Name = strings.TrimSpace(in.Name)
	in.Slug = strings.TrimSpace(in.Slug)
	v.Check(in.Name != "", "name", "Give the status page a name.")
	v.Check(len([]rune(in.Name)) <= MaxPageNameLength, "name", fmt.Sprintf("Use at most %d characters.", MaxPageNameLength))
	if msg := SlugProblem(in.Slug); msg != "" {
		v.Add("slug", msg)
	}
}

// slugTaken adds a field error when another page than id has slug.
func slugTaken(tx *gorm.DB, v *Validator, id int64, slug string) error {
	var n int64
	if err := tx.Model(&Page{}).Where("slug = ? AND id <> ?", slug, id).Count(&n).Error; err != nil {
		return fmt.Errorf("check slug: %w", err)
	}
	v.Check(n == 0, "slug", "Another page already has this slug; choose another one.")
	return nil
}

// CreatePage adds a status page with name and slug; its other settings
// start as the first page's time zone, the default accent and no
// description or logo (the Settings screen edits them).
func (s *Store) CreatePage(ctx context.Context, in PageNameInput) (*Page, error) {
	var v Validator
	in.validate(&v)
	if err := v.Err(); err != nil {
		return nil, err
	}
	var p Page
	err := s.write(ctx, func(tx *gorm.DB) error {
		if err := slugTaken(tx, &v, 0, in.Slug); err != nil {
			return err
		}
		if err := v.Err(); err != nil {
			return err
		}
		var first Page
		tz := "UTC"
		if err := tx.First(&first, DefaultPageID).Error; err == nil && first.TimeZone != "" {
			tz = first.TimeZone
		}
		now := s.Now()
		p = Page{Slug: in.Slug, Name: in.Name, AccentColor: DefaultAccent, TimeZone: tz, Public: true, CreatedAt: now, UpdatedAt: now}
		if err := tx.Select("slug", "name", "description", "logo_url", "accent_color", "time_zone", "image_hosts", "public", "created_at", "updated_at").
			Create(&p).Error; err != nil {
			return err
		}
		return audit(ctx, tx, change{PageID: DefaultPageID, Action: "page.create", ObjectType: AuditPage, ObjectID: idString(p.ID),
			Summary: fmt.Sprintf("Created the status page %q (/s/%s/).", p.Name, p.Slug), After: pageSnapshot(&p)})
	})
	if err != nil {
		return nil, fmt.Errorf("create page: %w", err)
	}
	return &p, nil
}

// RenamePage changes a page's name and slug. Like the other changes of
// the Pages screen, it is audited with the first page.
func (s *Store) RenamePage(ctx context.Context, id int64, in PageNameInput) (*Page, error) {
	var v Validator
	in.validate(&v)
	if err := v.Err(); err != nil {
		return nil, err
	}
	var p Page
	err := s.write(ctx, func(tx *gorm.DB) error {
		if err := tx.First(&p, id).Error; err != nil {
			return notFound(err)
		}
		if err := slugTaken(tx, &v, id, in.Slug); err != nil {
			return err
		}
		if err := v.Err(); err != nil {
			return err
		}
		before := pageSnapshot(&p)
		p.Name, p.Slug, p.UpdatedAt = in.Name, in.Slug, s.Now()
		if err := tx.Select("name", "slug", "updated_at").Save(&p).Error; err != nil {
			return err
		}
		return audit(ctx, tx, change{PageID: DefaultPageID, Action: "page.update", ObjectType: AuditPage, ObjectID: idString(p.ID),
			Summary: fmt.Sprintf("Renamed the status page %q (/s/%s/).", p.Name, p.Slug), Before: before, After: pageSnapshot(&p)})
	})
	if err != nil {
		return nil, fmt.Errorf("rename page %d: %w", id, err)
	}
	return &p, nil
}

// ConflictError is an ErrConflict with a sentence saying why, for the
// person who asked.
type ConflictError struct{ Message string }

func (e *ConflictError) Error() string { return e.Message }

// Unwrap makes errors.Is(err, ErrConflict) true.
func (e *ConflictError) Unwrap() error { return ErrConflict }

// PageContents counts what is on a page.
type PageContents struct {
	Components, Groups, Incidents, Maintenance, Channels, Subscribers int64
}

// Empty says whether nothing is on the page.
func (c PageContents) Empty() bool { return c == PageContents{} }

// String lists the non-zero counts: "3 components, 1 incident".
func (c PageContents) String() string {
	var parts []string
	add := func(n int64, one, many string) {
		switch {
		case n == 1:
			parts = append(parts, "1 "+one)
		case n > 1:
			parts = append(parts, fmt.Sprintf("%d %s", n, many))
		}
	}
	add(c.Components, "component", "components")
	add(c.Groups, "group", "groups")
	add(c.Incidents, "incident", "incidents")
	add(c.Maintenance, "maintenance window", "maintenance windows")
	add(c.Channels, "channel", "channels")
	add(c.Subscribers, "subscriber", "subscribers")
	return strings.Join(parts, ", ")
}

func pageContents(tx *gorm.DB, id int64) (PageContents, error) {
	var c PageContents
	for _, q := range []struct {
		table string
		n     *int64
	}{{"components", &c.Components}, {"component_groups", &c.Groups}, {"incidents", &c.Incidents},
		{"maintenances", &c.Maintenance}, {"channels", &c.Channels}, {"subscribers", &c.Subscribers}} {
		if err := tx.Table(q.table).Where("page_id = ?", id).Count(q.n).Error; err != nil {
			return c, fmt.Errorf("count %s: %w", q.table, err)
		}
	}
	return c, nil
}

// PageContents counts what is on page id.
func (s *Store) PageContents(ctx context.Context, id int64) (PageContents, error) {
	return pageContents(s.conn(ctx), id)
}

// queuedOnPage counts the notifications of page id still to be sent:
// channel deliveries and subscriber e-mails or webhooks pending or
// retrying, and subscriber fan-outs not yet walked.
func queuedOnPage(tx *gorm.DB, id int64) (int64, error) {
	var total int64
	for _, q := range []struct{ table, where string }{
		{"deliveries", "page_id = ? AND due_at IS NOT NULL"},
		{"subscriber_deliveries", "page_id = ? AND due_at IS NOT NULL"},
		{"subscriber_fanouts", "page_id = ?"},
	} {
		var n int64
		if err := tx.Table(q.table).Where(q.where, id).Count(&n).Error; err != nil {
			return 0, fmt.Errorf("count %s: %w", q.table, err)
		}
		total += n
	}
	return total, nil
}

// DeletePage deletes page id and, when everything is set, all that is
// on it. It refuses (a *ConflictError) to delete the first page, a page
// with anything on it unless everything is set, and any page while
// notifications of it are still queued: deleting a page never loses a
// notification already queued; it waits until they are sent or given up.
func (s *Store) DeletePage(ctx context.Context, id int64, everything bool) error {
	if id == DefaultPageID {
		return &ConflictError{Message: "The first status page cannot be deleted: it is the one served at /."}
	}
	err := s.write(ctx, func(tx *gorm.DB) error {
		var p Page
		if err := tx.First(&p, id).Error; err != nil {
			return notFound(err)
		}
		contents, err := pageContents(tx, id)
		if err != nil {
			return err
		}
		if !contents.Empty() && !everything {
			return &ConflictError{Message: fmt.Sprintf("The page %q still has %s. Delete everything on it too, or move or delete them first.", p.Name, contents)}
		}
		queued, err := queuedOnPage(tx, id)
		if err != nil {
			return err
		}
		if queued > 0 {
			return &ConflictError{Message: fmt.Sprintf("The page %q still has %d notification(s) queued for sending. Try again once they are sent or given up (the Deliveries screen shows them).", p.Name, queued)}
		}
		// Rows without a foreign key to pages; the others cascade.
		for _, table := range []string{"subscriber_deliveries", "deliveries", "events"} {
			if err := tx.Table(table).Where("page_id = ?", id).Delete(nil).Error; err != nil {
				return fmt.Errorf("delete %s: %w", table, err)
			}
		}
		if err := tx.Delete(&Page{}, id).Error; err != nil {
			return err
		}
		summary := fmt.Sprintf("Deleted the status page %q (/s/%s/).", p.Name, p.Slug)
		if !contents.Empty() {
			summary = fmt.Sprintf("Deleted the status page %q (/s/%s/) and everything on it: %s.", p.Name, p.Slug, contents)
		}
		return audit(ctx, tx, change{PageID: DefaultPageID, Action: "page.delete", ObjectType: AuditPage, ObjectID: idString(p.ID),
			Summary: summary, Before: pageSnapshot(&p)})
	})
	if err != nil {
		var ce *ConflictError
		if errors.As(err, &ce) {
			return err
		}
		return fmt.Errorf("delete page %d: %w", id, err)
	}
	return nil
}

// pageTables maps the kinds of page-owned objects to their tables.
var pageTables = map[string]string{
	"components": "components", "groups": "component_groups", "incidents": "incidents",
	"maintenance": "maintenances", "channels": "channels", "subscribers": "subscribers",
}

// PageObjectKinds are the kinds ObjectOnPage knows: the first segment
// of their admin and API paths.
func PageObjectKinds() []string {
	return []string{"components", "groups", "incidents", "maintenance", "channels", "subscribers"}
}

// ObjectOnPage returns ErrNotFound unless the object of kind (one of
// PageObjectKinds) with id is on page pageID: a screen of one page never
// reaches another page's objects by their ids.
func (s *Store) ObjectOnPage(ctx context.Context, kind string, id, pageID int64) error {
	table, ok := pageTables[kind]
	if !ok {
		return fmt.Errorf("object on page: unknown kind %q", kind)
	}
	var n int64
	if err := s.conn(ctx).Table(table).Where("id = ? AND page_id = ?", id, pageID).Count(&n).Error; err != nil {
		return fmt.Errorf("check %s %d on page %d: %w", kind, id, pageID, err)
	}
	if n == 0 {
		return fmt.Errorf("%s %d on page %d: %w", kind, id, pageID, ErrNotFound)
	}
	return nil
}

// ObjectPage returns the id of the page the object of kind (one of
// PageObjectKinds) with id is on.
func (s *Store) ObjectPage(ctx context.Context, kind string, id int64) (int64, error) {
	table, ok := pageTables[kind]
	if !ok {
		return 0, fmt.Errorf("object page: unknown kind %q", kind)
	}
	var pageIDs []int64
	if err := s.conn(ctx).Table(table).Where("id = ?", id).Pluck("page_id", &pageIDs).Error; err != nil {
		return 0, fmt.Errorf("page of %s %d: %w", kind, id, err)
	}
	if len(pageIDs) == 0 {
		return 0, fmt.Errorf("page of %s %d: %w", kind, id, ErrNotFound)
	}
	return pageIDs[0], nil
}
