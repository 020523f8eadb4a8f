package models

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"gorm.io/gorm"
)

// PageFeedTokenPrefix starts every feed token, so one found in a log or a
// URL is recognised.
const PageFeedTokenPrefix = "hft_"

// MaxFeedTokenLabel bounds a feed token's label.
const MaxFeedTokenLabel = 200

// ErrFeedToken is the answer to a feed token that opens nothing: unknown,
// revoked, or another page's.
var ErrFeedToken = errors.New("feed token not valid for this page")

// PageFeedToken is a visitor's personal token for a private page's feeds,
// JSON, calendar and badges. Only its hash is kept.
type PageFeedToken struct {
	ID         int64
	PageID     int64
	TokenHash  string
	Label      string
	CreatedAt  time.Time
	LastUsedAt *time.Time
	RevokedAt  *time.Time
}

// Revoked says whether the token was revoked.
func (t PageFeedToken) Revoked() bool { return t.RevokedAt != nil }

// newSecret is prefix and 32 random bytes, base64url.
func newSecret(prefix string) string {
	b := make([]byte, 32)
	rand.Read(b)
	return prefix + base64.RawURLEncoding.EncodeToString(b)
}

// CreatePageFeedToken makes a feed token for page id and returns its
// plaintext, shown to the visitor once. label says how they got in
// ("password", "team member ann@example.com" …). It is the visitor's
// doing, not an admin's: not audited, and it leaves the public snapshots
// alone.
func (s *Store) CreatePageFeedToken(ctx context.Context, pageID int64, label string) (string, *PageFeedToken, error) {
	label = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, strings.ToValidUTF8(label, "?"))
	label = clip(strings.TrimSpace(label), MaxFeedTokenLabel)
	plain := newSecret(PageFeedTokenPrefix)
	t := &PageFeedToken{PageID: pageID, TokenHash: HashToken(plain), Label: label, CreatedAt: s.Now()}
	if err := s.conn(ctx).Create(t).Error; err != nil {
		return "", nil, fmt.Errorf("create a feed token of page %d: %w", pageID, err)
	}
	return plain, t, nil
}

// CheckPageFeedToken returns nil when plain is a feed token of page
// pageID that is not revoked, else ErrFeedToken. It asks the database
// every time, so a revocation counts at once on every replica, and notes
// the token's use (at most once a minute).
func (s *Store) CheckPageFeedToken(ctx context.Context, pageID int64, plain string) error {
	if !strings.HasPrefix(plain, PageFeedTokenPrefix) || len(plain) > 100 {
		return ErrFeedToken
	}
	var rows []PageFeedToken
	if err := s.conn(ctx).Where("token_hash = ? AND page_id = ? AND revoked_at IS NULL", HashToken(plain), pageID).
		Limit(1).Find(&rows).Error; err != nil {
		return fmt.Errorf("check a feed token: %w", err)
	}
	if len(rows) == 0 {
		return ErrFeedToken
	}
	now := s.Now()
	if t := rows[0]; t.LastUsedAt == nil || now.Sub(*t.LastUsedAt) > time.Minute {
		// Best effort: a read-only replica or a busy writer only loses the
		// note.
		_ = s.conn(context.WithoutCancel(ctx)).Model(&PageFeedToken{}).Where("id = ?", t.ID).Update("last_used_at", now).Error
	}
	return nil
}

// PageFeedTokens lists page id's feed tokens, newest first.
func (s *Store) PageFeedTokens(ctx context.Context, pageID int64) ([]PageFeedToken, error) {
	var out []PageFeedToken
	if err := s.conn(ctx).Where("page_id = ?", pageID).Order("created_at DESC, id DESC").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list the feed tokens of page %d: %w", pageID, err)
	}
	return out, nil
}

// RevokePageFeedToken revokes feed token id of page pageID, audited as
// page.feed_token_revoke; ErrNotFound when the page has no such token.
// Revoking it again changes nothing.
func (s *Store) RevokePageFeedToken(ctx context.Context, pageID, id int64) error {
	err := s.write(ctx, func(tx *gorm.DB) error {
		var t PageFeedToken
		if err := tx.Where("id = ? AND page_id = ?", id, pageID).First(&t).Error; err != nil {
			return notFound(err)
		}
		if t.Revoked() {
			return nil
		}
		now := s.Now()
		if err := tx.Model(&t).Update("revoked_at", now).Error; err != nil {
			return err
		}
		return audit(ctx, tx, change{PageID: pageID, Action: "page.feed_token_revoke", ObjectType: AuditPage, ObjectID: idString(pageID),
			Summary: fmt.Sprintf("Revoked a visitor's feed token (#%d, %s).", t.ID, t.Label),
			After:   map[string]any{"feed_token_id": t.ID, "label": t.Label}})
	})
	if err != nil {
		return fmt.Errorf("revoke feed token %d of page %d: %w", id, pageID, err)
	}
	return nil
}
