package models

import (
	"context"
	"fmt"
	"time"
)

// DefaultPageID is the page created by the first migration and served at /.
const DefaultPageID int64 = 1

// Page is a public status page.
type Page struct {
	ID          int64
	Slug        string
	Name        string
	Description string
	LogoURL     string
	AccentColor string
	TimeZone    string
	Public      bool
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Page loads the page with id.
func (s *Store) Page(ctx context.Context, id int64) (*Page, error) {
	var p Page
	if err := s.db.WithContext(ctx).First(&p, id).Error; err != nil {
		return nil, fmt.Errorf("load page %d: %w", id, notFound(err))
	}
	return &p, nil
}
