package models

import (
	"context"
	"crypto/subtle"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"
	"gorm.io/gorm"
)

// Limits of a page's access settings.
const (
	MinPagePasswordLength = 8
	// MaxPagePasswordBytes is bcrypt's limit: it ignores what follows.
	MaxPagePasswordBytes = 72
	MaxAccessDomains     = 50
	MaxAccessCIDRs       = 100
)

// PageAccess is who may read a page: anyone when it is public; else the
// visitors who know its shared password, the signed-in team members
// (when Team is on), visitors from the IP ranges of IPAllowlist, and
// people with an address at one of EmailDomains.
type PageAccess struct {
	PageID       int64
	Public       bool
	PasswordHash string
	Team         bool
	EmailDomains []string
	IPAllowlist  []netip.Prefix
	// Generation is part of every access cookie of the page: a cookie of
	// an older generation opens nothing.
	Generation int64
}

// HasPassword says whether the page has a shared password.
func (a PageAccess) HasPassword() bool { return a.PasswordHash != "" }

// AllowsIP says whether the address ip (as c.RealIP gives it) is in the
// page's IP allowlist.
func (a PageAccess) AllowsIP(ip string) bool {
	if len(a.IPAllowlist) == 0 {
		return false
	}
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return false
	}
	addr = addr.Unmap()
	for _, p := range a.IPAllowlist {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// CheckPassword says whether password is the page's shared password. It
// takes about as long when the page has none.
func (a PageAccess) CheckPassword(password string) bool {
	if a.PasswordHash == "" || len(password) > MaxPagePasswordBytes {
		bcrypt.CompareHashAndPassword(dummyHash, []byte(password))
		return false
	}
	return bcrypt.CompareHashAndPassword([]byte(a.PasswordHash), []byte(password)) == nil
}

// AllowsEmail says whether address's domain is one of EmailDomains.
func (a PageAccess) AllowsEmail(address string) bool {
	at := strings.LastIndexByte(address, '@')
	if at < 0 {
		return false
	}
	domain := strings.ToLower(address[at+1:])
	found := false
	for _, d := range a.EmailDomains {
		if subtle.ConstantTimeCompare([]byte(d), []byte(domain)) == 1 {
			found = true
		}
	}
	return found
}

// accessRow is the pages columns of PageAccess.
type accessRow struct {
	ID                 int64
	Public             bool
	AccessPasswordHash string
	AccessTeam         bool
	AccessEmailDomains string
	AccessIPAllowlist  string `gorm:"column:access_ip_allowlist"`
	AccessGeneration   int64
}

const accessColumns = "id, public, access_password_hash, access_team, access_email_domains, access_ip_allowlist, access_generation"

func (r accessRow) access() PageAccess {
	a := PageAccess{PageID: r.ID, Public: r.Public, PasswordHash: r.AccessPasswordHash, Team: r.AccessTeam,
		EmailDomains: strings.Fields(r.AccessEmailDomains), Generation: r.AccessGeneration}
	for _, f := range strings.Fields(r.AccessIPAllowlist) {
		if p, err := netip.ParsePrefix(f); err == nil {
			a.IPAllowlist = append(a.IPAllowlist, p)
		}
	}
	return a
}

// PagesAccess loads the access settings of every page, by page id.
func (s *Store) PagesAccess(ctx context.Context) (map[int64]PageAccess, error) {
	var rows []accessRow
	if err := s.conn(ctx).Raw("SELECT " + accessColumns + " FROM pages").Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("load the access settings of the pages: %w", err)
	}
	out := make(map[int64]PageAccess, len(rows))
	for _, r := range rows {
		out[r.ID] = r.access()
	}
	return out, nil
}

// PageAccess loads the access settings of page id.
func (s *Store) PageAccess(ctx context.Context, id int64) (PageAccess, error) {
	return pageAccess(s.conn(ctx), id)
}

func pageAccess(tx *gorm.DB, id int64) (PageAccess, error) {
	var rows []accessRow
	if err := tx.Raw("SELECT "+accessColumns+" FROM pages WHERE id = ?", id).Scan(&rows).Error; err != nil {
		return PageAccess{}, fmt.Errorf("load the access settings of page %d: %w", id, err)
	}
	if len(rows) == 0 {
		return PageAccess{}, fmt.Errorf("load the access settings of page %d: %w", id, ErrNotFound)
	}
	return rows[0].access(), nil
}

// PageAccessInput is what an admin sets about who may read a page.
type PageAccessInput struct {
	// Public: anyone may read the page; the other settings are kept but
	// unused.
	Public bool
	// Password, when not empty, becomes the shared password.
	Password string
	// RemovePassword removes the shared password (Password wins).
	RemovePassword bool
	Team           bool
	EmailDomains   []string
	IPAllowlist    []string `field:"ip_allowlist"`
	// EmailLinks says whether e-mail sign-in links can be sent (SMTP is
	// configured): only then are EmailDomains a way into a private page.
	EmailLinks bool `field:"-"`
}

// normalizeAccessDomains checks e-mail domains and returns them in lower
// case, sorted, without duplicates, or says what is wrong.
func normalizeAccessDomains(in []string) ([]string, string) {
	var out []string
	for _, raw := range in {
		for _, f := range strings.FieldsFunc(raw, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == '\t' }) {
			d := strings.TrimPrefix(strings.ToLower(f), "@")
			if len(d) > MaxDomainLength {
				return nil, fmt.Sprintf("Use domains of at most %d characters.", MaxDomainLength)
			}
			labels := strings.Split(strings.TrimSuffix(d, "."), ".")
			okDomain := len(labels) >= 2
			for _, l := range labels {
				okDomain = okDomain && hostLabel(l)
			}
			if !okDomain {
				return nil, fmt.Sprintf("%q is not an e-mail domain. Enter domains such as example.com, one per line (an international name in its xn-- form).", clip(f, 60))
			}
			d = strings.TrimSuffix(d, ".")
			if !slices.Contains(out, d) {
				out = append(out, d)
			}
		}
	}
	if len(out) > MaxAccessDomains {
		return nil, fmt.Sprintf("Enter at most %d domains.", MaxAccessDomains)
	}
	slices.Sort(out)
	return out, ""
}

// normalizeAccessCIDRs checks IP ranges and returns them in canonical
// form, or says what is wrong. A lone address is a range of one.
func normalizeAccessCIDRs(in []string) ([]string, string) {
	var out []string
	for _, raw := range in {
		for _, f := range strings.FieldsFunc(raw, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == '\t' }) {
			if len(f) > 64 {
				return nil, fmt.Sprintf("%q is not an IP range. Enter ranges such as 203.0.113.0/24 or 2001:db8::/32, one per line.", clip(f, 60))
			}
			var p netip.Prefix
			if strings.Contains(f, "/") {
				var err error
				if p, err = netip.ParsePrefix(f); err != nil {
					return nil, fmt.Sprintf("%q is not an IP range. Enter ranges such as 203.0.113.0/24 or 2001:db8::/32, one per line.", clip(f, 60))
				}
				if p.Addr().Zone() != "" {
					return nil, fmt.Sprintf("%q: leave out the zone (%%%s).", clip(f, 60), p.Addr().Zone())
				}
				if m := p.Masked(); m != p {
					return nil, fmt.Sprintf("%q has bits set past its prefix length; did you mean %s?", clip(f, 60), m)
				}
			} else {
				a, err := netip.ParseAddr(f)
				if err != nil || a.Zone() != "" {
					return nil, fmt.Sprintf("%q is not an IP address or range. Enter ranges such as 203.0.113.0/24 or 2001:db8::/32, one per line.", clip(f, 60))
				}
				p = netip.PrefixFrom(a, a.BitLen())
			}
			if a := p.Addr(); a.Is4In6() {
				p = netip.PrefixFrom(a.Unmap(), max(0, p.Bits()-96))
			}
			if s := p.String(); !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	if len(out) > MaxAccessCIDRs {
		return nil, fmt.Sprintf("Enter at most %d ranges.", MaxAccessCIDRs)
	}
	return out, ""
}

// clip shortens s, valid UTF-8, to at most n characters for a message.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

// auditAccess is a page's access settings as the audit log shows them:
// never the password or its hash.
type auditAccess struct {
	Public       bool     `json:"public"`
	HasPassword  bool     `json:"has_password"`
	Team         bool     `json:"team"`
	EmailDomains []string `json:"email_domains"`
	IPAllowlist  []string `json:"ip_allowlist"`
}

func accessSnapshot(a PageAccess) auditAccess {
	out := auditAccess{Public: a.Public, HasPassword: a.HasPassword(), Team: a.Team,
		EmailDomains: append([]string{}, a.EmailDomains...), IPAllowlist: []string{}}
	for _, p := range a.IPAllowlist {
		out.IPAllowlist = append(out.IPAllowlist, p.String())
	}
	return out
}

// SetPageAccess saves who may read page id, audited as page.access. A
// private page needs a way in: a password, the team, an IP range or (when
// e-mail links can be sent) an e-mail domain. A new or removed password,
// a change of e-mail domains, or making a public page private, signs out
// every visitor who signed in before (see PageAccess.Generation) and
// revokes the feed links visitors made.
func (s *Store) SetPageAccess(ctx context.Context, id int64, in PageAccessInput) (PageAccess, error) {
	var v Validator
	checkInput(&v, &in)
	if err := v.Err(); err != nil {
		return PageAccess{}, err
	}
	if in.Password != "" {
		switch {
		case utf8.RuneCountInString(in.Password) < MinPagePasswordLength:
			v.Add("password", fmt.Sprintf("Use a password of at least %d characters.", MinPagePasswordLength))
		case len(in.Password) > MaxPagePasswordBytes:
			v.Add("password", fmt.Sprintf("Use a password of at most %d bytes (about %d letters).", MaxPagePasswordBytes, MaxPagePasswordBytes))
		case strings.TrimSpace(in.Password) != in.Password:
			v.Add("password", "Leave out the spaces at the start and end of the password.")
		}
	}
	domains, msg := normalizeAccessDomains(in.EmailDomains)
	if msg != "" {
		v.Add("email_domains", msg)
	}
	cidrs, msg := normalizeAccessCIDRs(in.IPAllowlist)
	if msg != "" {
		v.Add("ip_allowlist", msg)
	}
	if err := v.Err(); err != nil {
		return PageAccess{}, err
	}
	hash := ""
	if in.Password != "" {
		h, err := hashPassword(in.Password)
		if err != nil {
			return PageAccess{}, err
		}
		hash = h
	}
	var after PageAccess
	err := s.write(ctx, func(tx *gorm.DB) error {
		before, err := pageAccess(tx, id)
		if err != nil {
			return err
		}
		after = before
		after.Public, after.Team, after.EmailDomains = in.Public, in.Team, domains
		after.IPAllowlist = nil
		for _, c := range cidrs {
			after.IPAllowlist = append(after.IPAllowlist, netip.MustParsePrefix(c))
		}
		switch {
		case hash != "":
			after.PasswordHash = hash
		case in.RemovePassword:
			after.PasswordHash = ""
		}
		if !after.Public && !after.HasPassword() && !after.Team && len(after.IPAllowlist) == 0 && (!in.EmailLinks || len(domains) == 0) {
			v.Add("public", "A private page needs a way in: set a password, let the team in, or list IP ranges"+
				map[bool]string{true: " or e-mail domains", false: ""}[in.EmailLinks]+".")
			return v.Err()
		}
		revoked := int64(0)
		if after.PasswordHash != before.PasswordHash || (before.Public && !after.Public) ||
			!slices.Equal(after.EmailDomains, before.EmailDomains) {
			after.Generation = before.Generation + 1
			// Signing everyone out ends the feed links they made too:
			// whoever lost the way in loses the feeds with it.
			res := tx.Model(&PageFeedToken{}).Where("page_id = ? AND revoked_at IS NULL", id).Update("revoked_at", s.Now().UTC())
			if res.Error != nil {
				return fmt.Errorf("revoke the feed links: %w", res.Error)
			}
			revoked = res.RowsAffected
		}
		if err := tx.Exec(`UPDATE pages SET public = ?, access_password_hash = ?, access_team = ?, access_email_domains = ?,
			access_ip_allowlist = ?, access_generation = ?, updated_at = ? WHERE id = ?`,
			after.Public, after.PasswordHash, after.Team, strings.Join(domains, " "), strings.Join(cidrs, " "),
			after.Generation, s.Now().UTC(), id).Error; err != nil {
			return err
		}
		summary := "Made the status page public."
		switch {
		case !after.Public && before.Public:
			summary = "Made the status page private."
		case !after.Public:
			summary = "Changed who may read the private status page."
		case !before.Public:
			summary = "Made the status page public."
		default:
			summary = "Changed the access settings of the public status page."
		}
		if after.PasswordHash != before.PasswordHash {
			if after.HasPassword() {
				summary += " Set a new shared password."
			} else {
				summary += " Removed the shared password."
			}
		}
		if revoked > 0 {
			summary += fmt.Sprintf(" Revoked %d visitor feed link%s.", revoked, map[bool]string{true: "", false: "s"}[revoked == 1])
		}
		return audit(ctx, tx, change{PageID: id, Action: "page.access", ObjectType: AuditPage, ObjectID: idString(id),
			Summary: summary, Before: accessSnapshot(before), After: accessSnapshot(after)})
	})
	if err != nil {
		return PageAccess{}, fmt.Errorf("set the access settings of page %d: %w", id, err)
	}
	return after, nil
}
