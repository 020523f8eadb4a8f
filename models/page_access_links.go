package models

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// PageAccessLinkPrefix starts every e-mailed sign-in link's token.
const PageAccessLinkPrefix = "hal_"

// PageAccessLinkTTL is how long an e-mailed sign-in link works.
const PageAccessLinkTTL = 15 * time.Minute

// ErrAccessLink is the answer to a sign-in link that opens nothing:
// unknown, used, expired, or another page's.
var ErrAccessLink = errors.New("sign-in link not valid")

// pageAccessLink is a row of page_access_links.
type pageAccessLink struct {
	ID        int64
	PageID    int64
	TokenHash string
	Email     string
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    *time.Time
}

func (pageAccessLink) TableName() string { return "page_access_links" }

// CreatePageAccessLink makes a single-use sign-in link to page id for
// email, valid PageAccessLinkTTL, and returns its token, to be e-mailed
// (only its hash is kept). Expired links of every page go at the same
// time. The caller has checked that email may read the page.
func (s *Store) CreatePageAccessLink(ctx context.Context, pageID int64, email string) (string, error) {
	now := s.Now()
	db := s.conn(ctx)
	if err := db.Where("expires_at < ?", now.Add(-time.Hour)).Delete(&pageAccessLink{}).Error; err != nil {
		return "", fmt.Errorf("delete expired sign-in links: %w", err)
	}
	plain := newSecret(PageAccessLinkPrefix)
	l := pageAccessLink{PageID: pageID, TokenHash: HashToken(plain), Email: email, CreatedAt: now, ExpiresAt: now.Add(PageAccessLinkTTL)}
	if err := db.Create(&l).Error; err != nil {
		return "", fmt.Errorf("create a sign-in link to page %d: %w", pageID, err)
	}
	return plain, nil
}

// CheckPageAccessLink returns ErrAccessLink unless plain is an unused,
// unexpired sign-in link to page pageID; it does not use it up.
func (s *Store) CheckPageAccessLink(ctx context.Context, pageID int64, plain string) error {
	if len(plain) > 100 {
		return ErrAccessLink
	}
	var n int64
	if err := s.conn(ctx).Model(&pageAccessLink{}).Where("token_hash = ? AND page_id = ? AND used_at IS NULL AND expires_at > ?",
		HashToken(plain), pageID, s.Now()).Count(&n).Error; err != nil {
		return fmt.Errorf("check a sign-in link: %w", err)
	}
	if n == 0 {
		return ErrAccessLink
	}
	return nil
}

// UsePageAccessLink uses up the sign-in link plain to page pageID and
// returns the address it was sent to; ErrAccessLink when it is unknown,
// used, expired or another page's. Of two uses at once, one wins.
func (s *Store) UsePageAccessLink(ctx context.Context, pageID int64, plain string) (string, error) {
	if len(plain) > 100 {
		return "", ErrAccessLink
	}
	now := s.Now()
	h := HashToken(plain)
	res := s.conn(ctx).Model(&pageAccessLink{}).Where("token_hash = ? AND page_id = ? AND used_at IS NULL AND expires_at > ?", h, pageID, now).
		Update("used_at", now)
	if res.Error != nil {
		return "", fmt.Errorf("use a sign-in link: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return "", ErrAccessLink
	}
	var l pageAccessLink
	if err := s.conn(ctx).Where("token_hash = ?", h).First(&l).Error; err != nil {
		return "", fmt.Errorf("load a used sign-in link: %w", err)
	}
	return l.Email, nil
}
