package models

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	_ "time/tzdata"

	"gorm.io/gorm" // time zones validate on hosts without /usr/share/zoneinfo
)

// DefaultPageID is the page created by the first migration and served at /.
const DefaultPageID int64 = 1

// Limits of the status page settings.
const (
	MaxPageDescriptionLength = 500
	MaxLogoURLLength         = 2000
)

// Accents are the colours a page may take for its links and brand. They
// are named, not free hex values: the Content-Security-Policy allows no
// inline styles, so the stylesheet carries one class per accent
// (accent-blue …).
var Accents = []string{"blue", "purple", "pink", "red", "orange", "green", "teal", "gray"}

// DefaultAccent is the accent of a page that never chose one.
const DefaultAccent = "blue"

// Page is a public status page.
type Page struct {
	ID          int64
	Slug        string
	Name        string
	Description string
	LogoURL     string
	// AccentColor holds the name of one of Accents. Rows from before the
	// palette hold the migration's default, "#0969da" (blue).
	AccentColor string
	TimeZone    string
	Public      bool
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Accent is the page's accent name, DefaultAccent when unset or unknown.
func (p Page) Accent() string {
	if a := AccentName(p.AccentColor); a != "" {
		return a
	}
	return DefaultAccent
}

// Page loads the page with id.
func (s *Store) Page(ctx context.Context, id int64) (*Page, error) {
	var p Page
	if err := s.conn(ctx).First(&p, id).Error; err != nil {
		return nil, fmt.Errorf("load page %d: %w", id, notFound(err))
	}
	return &p, nil
}

// PageInput is what an admin may set on the status page.
type PageInput struct {
	Name        string
	Description string `text:"multiline"`
	LogoURL     string // absolute https URL, or empty for the name as brand
	AccentColor string // one of Accents, or its #rrggbb (see AccentName)
	TimeZone    string // IANA name, such as Europe/Paris
}

func (in *PageInput) validate() error {
	var v Validator
	checkInput(&v, in)
	in.Name = strings.TrimSpace(in.Name)
	in.Description = strings.TrimSpace(in.Description)
	in.LogoURL = strings.TrimSpace(in.LogoURL)
	if a := AccentName(in.AccentColor); a != "" {
		in.AccentColor = a // saved as its name, whichever way it was written
	}
	in.TimeZone = strings.TrimSpace(in.TimeZone)
	v.Check(in.Name != "", "name", "Give your status page a name.")
	v.Check(len([]rune(in.Name)) <= MaxPageNameLength, "name", fmt.Sprintf("Use at most %d characters.", MaxPageNameLength))
	n := len([]rune(in.Description))
	v.Check(n <= MaxPageDescriptionLength, "description",
		fmt.Sprintf("Use at most %d characters (this has %d).", MaxPageDescriptionLength, n))
	logo, msg := checkLogoURL(in.LogoURL)
	if msg != "" {
		v.Add("logo_url", msg)
	}
	in.LogoURL = logo
	v.Check(slices.Contains(Accents, in.AccentColor), "accent_color", "Choose one of the listed colours.")
	if in.TimeZone == "" {
		v.Add("time_zone", "Enter a time zone, such as UTC or Europe/Paris.")
	} else if _, err := time.LoadLocation(in.TimeZone); err != nil || in.TimeZone == "Local" {
		v.Add("time_zone", "Enter a time zone from the IANA database, such as UTC, Europe/Paris or America/New_York.")
	}
	return v.Err()
}

// checkLogoURL normalises a logo address (see NormalizeURL), or says
// what is wrong with it. Only https is accepted: the page's
// Content-Security-Policy loads images over https (or from Herald
// itself), so an http logo would never show; and no user:password, which
// every visitor would see.
func checkLogoURL(raw string) (string, string) {
	if raw == "" {
		return "", ""
	}
	if len(raw) > MaxLogoURLLength {
		return "", fmt.Sprintf("Use an address of at most %d characters.", MaxLogoURLLength)
	}
	scheme, _, ok := strings.Cut(strings.ToLower(raw), "://")
	switch {
	case !ok || scheme != "https" && scheme != "http":
		return "", "Enter a full address starting with https://, such as https://example.com/logo.svg."
	case scheme == "http":
		return "", "Use an https:// address: the status page only loads images over HTTPS."
	}
	u, err := NormalizeURL(raw, URLOptions{HTTPSOnly: true, Subject: "The logo address"})
	if err != nil {
		return "", err.Error()
	}
	if len(u) > MaxLogoURLLength {
		return "", fmt.Sprintf("Use an address of at most %d characters, once percent-encoded (this has %d).", MaxLogoURLLength, len(u))
	}
	return u, ""
}

// UpdatePage saves the status page settings and refreshes the public
// page.
func (s *Store) UpdatePage(ctx context.Context, id int64, in PageInput) (*Page, error) {
	if err := in.validate(); err != nil {
		return nil, err
	}
	var p Page
	err := s.write(ctx, func(tx *gorm.DB) error {
		if err := tx.First(&p, id).Error; err != nil {
			return notFound(err)
		}
		before := pageSnapshot(&p)
		p.Name, p.Description, p.LogoURL, p.AccentColor, p.TimeZone = in.Name, in.Description, in.LogoURL, in.AccentColor, in.TimeZone
		p.UpdatedAt = s.Now()
		if err := tx.Select("name", "description", "logo_url", "accent_color", "time_zone", "updated_at").Save(&p).Error; err != nil {
			return err
		}
		return audit(ctx, tx, change{PageID: p.ID, Action: "page.update", ObjectType: AuditPage, ObjectID: idString(p.ID),
			Summary: "Updated the status page settings.", Before: before, After: pageSnapshot(&p)})
	})
	if err != nil {
		return nil, fmt.Errorf("update page %d: %w", id, err)
	}
	return &p, nil
}
