package models

import (
	"context"
	"fmt"
	"net/netip"
	"strings"

	"gorm.io/gorm"
)

// MaxDomainLength is the longest host name a page may have (RFC 1035).
const MaxDomainLength = 253

// PageRef is what the public side needs to find a page from a request:
// its slug (served at /s/{slug}/) and its own host name, if any.
type PageRef struct {
	ID     int64
	Slug   string
	Domain string // "" when the page has none
}

// Prefix is the path every public URL of the page starts with when it is
// served on Herald's own host: "" for the default page and for a page
// with its own host name (served at / there), "/s/{slug}" otherwise.
func (r PageRef) Prefix() string {
	if r.ID == DefaultPageID || r.Domain != "" {
		return ""
	}
	return "/s/" + r.Slug
}

// PageRefs lists every page's id, slug and host name.
func (s *Store) PageRefs(ctx context.Context) ([]PageRef, error) {
	var rows []struct {
		ID     int64
		Slug   string
		Domain *string
	}
	if err := s.conn(ctx).Raw("SELECT id, slug, domain FROM pages ORDER BY id").Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("list pages: %w", err)
	}
	out := make([]PageRef, len(rows))
	for i, r := range rows {
		out[i] = PageRef{ID: r.ID, Slug: r.Slug}
		if r.Domain != nil {
			out[i].Domain = *r.Domain
		}
	}
	return out, nil
}

// PageRef loads the slug and host name of page id.
func (s *Store) PageRef(ctx context.Context, id int64) (PageRef, error) {
	return pageRef(s.conn(ctx), id)
}

func pageRef(tx *gorm.DB, id int64) (PageRef, error) {
	var row struct {
		Slug   string
		Domain *string
	}
	res := tx.Raw("SELECT slug, domain FROM pages WHERE id = ?", id).Scan(&row)
	if res.Error != nil {
		return PageRef{}, fmt.Errorf("load page %d: %w", id, res.Error)
	}
	if res.RowsAffected == 0 {
		return PageRef{}, fmt.Errorf("load page %d: %w", id, ErrNotFound)
	}
	r := PageRef{ID: id, Slug: row.Slug}
	if row.Domain != nil {
		r.Domain = *row.Domain
	}
	return r, nil
}

// PageBaseURL is the public URL of a page, no trailing slash: https:// and
// its host name when it has one, else Herald's base URL with the page's
// prefix. Links in its feeds, JSON, calendar, e-mails and notifications
// start with it.
func (s *Store) PageBaseURL(r PageRef) string {
	if r.Domain != "" {
		return "https://" + r.Domain
	}
	return s.baseURL + r.Prefix()
}

// pageBaseURL is PageBaseURL of page id, read inside tx; Herald's base
// URL when the page cannot be read (a link to the default page beats
// none).
func (s *Store) pageBaseURL(tx *gorm.DB, id int64) string {
	r, err := pageRef(tx, id)
	if err != nil {
		return s.baseURL
	}
	return s.PageBaseURL(r)
}

// NormalizeDomain checks a page's host name and returns it in lower case,
// or says what is wrong. Empty means none.
func NormalizeDomain(raw string) (string, string) {
	d := strings.ToLower(strings.TrimSpace(raw))
	d = strings.TrimSuffix(d, ".")
	switch {
	case d == "":
		return "", ""
	case len(d) > MaxDomainLength:
		return "", fmt.Sprintf("Use a host name of at most %d characters.", MaxDomainLength)
	case strings.Contains(d, "://") || strings.ContainsAny(d, "/?#@"):
		return "", "Enter the host name alone, such as status.example.com: no https://, no path."
	case strings.Contains(d, ":") || strings.HasPrefix(d, "["):
		if _, err := netip.ParseAddr(strings.Trim(d, "[]")); err == nil {
			return "", "Enter a host name, such as status.example.com, not an IP address."
		}
		return "", "Enter the host name without a port, such as status.example.com."
	}
	if _, err := netip.ParseAddr(d); err == nil {
		return "", "Enter a host name, such as status.example.com, not an IP address."
	}
	labels := strings.Split(d, ".")
	if len(labels) < 2 {
		return "", "Enter a full host name, such as status.example.com."
	}
	for _, l := range labels {
		if !hostLabel(l) {
			return "", "Enter a host name of letters, digits and hyphens, such as status.example.com (an international name in its xn-- form)."
		}
	}
	return d, ""
}

// hostLabel reports whether l is a DNS label: 1 to 63 ASCII letters,
// digits and hyphens, not starting or ending with a hyphen.
func hostLabel(l string) bool {
	if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
		return false
	}
	for _, c := range []byte(l) {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// SetPageDomain gives page id its own host name, or none when domain is
// empty, audited as page.update. Another page's host name is refused.
func (s *Store) SetPageDomain(ctx context.Context, id int64, domain string) error {
	d, msg := NormalizeDomain(domain)
	if msg != "" {
		var v Validator
		v.Add("domain", msg)
		return v.Err()
	}
	err := s.write(ctx, func(tx *gorm.DB) error {
		before, err := pageRef(tx, id)
		if err != nil {
			return err
		}
		if before.Domain == d {
			return nil
		}
		if d != "" {
			var n int64
			if err := tx.Raw("SELECT COUNT(*) FROM pages WHERE domain = ? AND id <> ?", d, id).Scan(&n).Error; err != nil {
				return err
			}
			if n > 0 {
				var v Validator
				v.Add("domain", "Another status page already has this host name.")
				return v.Err()
			}
		}
		var value any
		if d != "" {
			value = d
		}
		if err := tx.Exec("UPDATE pages SET domain = ?, updated_at = ? WHERE id = ?", value, s.Now().UTC(), id).Error; err != nil {
			return err
		}
		summary := "Set the status page's host name to " + d + "."
		if d == "" {
			summary = "Removed the status page's host name."
		}
		return audit(ctx, tx, change{PageID: id, Action: "page.update", ObjectType: AuditPage, ObjectID: idString(id),
			Summary: summary, Before: map[string]string{"domain": before.Domain}, After: map[string]string{"domain": d}})
	})
	if err != nil {
		return fmt.Errorf("set the host name of page %d: %w", id, err)
	}
	return nil
}

// SubscriptionLinkPage is the page of the subscriber whose confirmation
// or preferences link carries token: the page its answers show.
// ErrSubscriptionLink when no subscriber has it.
func (s *Store) SubscriptionLinkPage(ctx context.Context, token string) (PageRef, error) {
	if token == "" || !validText(token) {
		return PageRef{}, ErrSubscriptionLink
	}
	var ids []int64
	h := HashToken(token)
	err := s.conn(ctx).Model(&Subscriber{}).Where("manage_token_hash = ? OR confirm_token_hash = ?", h, h).Limit(1).Pluck("page_id", &ids).Error
	if err != nil {
		return PageRef{}, fmt.Errorf("find the page of a subscription link: %w", err)
	}
	if len(ids) == 0 {
		return PageRef{}, ErrSubscriptionLink
	}
	return s.PageRef(ctx, ids[0])
}
