package models

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// IdempotencyWindow is how long an Idempotency-Key's answer is kept.
const IdempotencyWindow = 24 * time.Hour

// Errors of BeginIdempotent.
var (
	// ErrIdempotencyMismatch: the key was used with a different request.
	ErrIdempotencyMismatch = errors.New("idempotency key reused with a different request")
	// ErrIdempotencyInFlight: the first request with the key has not
	// finished yet.
	ErrIdempotencyInFlight = errors.New("a request with this idempotency key is in progress")
)

// IdempotentResponse is a stored answer.
type IdempotentResponse struct {
	Status      int
	ContentType string
	Location    string
	Body        string
}

type idempotencyKey struct {
	Scope       string
	Key         string
	RequestHash string
	Status      int
	ContentType string
	Location    string
	Body        string
	CreatedAt   time.Time
}

func (idempotencyKey) TableName() string { return "idempotency_keys" }

// BeginIdempotent claims key within scope for a request whose content
// hashes to requestHash. It returns the stored answer when the same
// request already completed (replay it), nil when the caller should go
// ahead (then call FinishIdempotent or AbandonIdempotent), or an error:
// ErrIdempotencyMismatch, ErrIdempotencyInFlight.
func (s *Store) BeginIdempotent(ctx context.Context, scope, key, requestHash string) (*IdempotentResponse, error) {
	now := s.Now()
	db := s.conn(ctx)
	// A key older than the window is forgotten.
	if err := db.Where("scope = ? AND key = ? AND created_at < ?", scope, key, now.Add(-IdempotencyWindow)).
		Delete(&idempotencyKey{}).Error; err != nil {
		return nil, fmt.Errorf("expire idempotency key: %w", err)
	}
	row := idempotencyKey{Scope: scope, Key: key, RequestHash: requestHash, CreatedAt: now}
	err := db.Create(&row).Error
	if err == nil {
		return nil, nil // ours: go ahead
	}
	if !errors.Is(err, gorm.ErrDuplicatedKey) {
		return nil, fmt.Errorf("claim idempotency key: %w", err)
	}
	var got idempotencyKey
	if err := db.Where("scope = ? AND key = ?", scope, key).First(&got).Error; err != nil {
		return nil, fmt.Errorf("load idempotency key: %w", notFound(err))
	}
	switch {
	case got.RequestHash != requestHash:
		return nil, ErrIdempotencyMismatch
	case got.Status == 0:
		return nil, ErrIdempotencyInFlight
	}
	body, err := s.openBody(got.Body)
	if err != nil {
		return nil, fmt.Errorf("open idempotent answer: %w", err)
	}
	return &IdempotentResponse{Status: got.Status, ContentType: got.ContentType, Location: got.Location, Body: body}, nil
}

// Answers may carry secrets (a new webhook's signing secret), so they
// are sealed like channel credentials.
func (s *Store) sealBody(body string) (string, error) {
	if s.sealer == nil {
		return "", ErrNoSealer
	}
	return s.sealer.Seal(body)
}

func (s *Store) openBody(sealed string) (string, error) {
	if s.sealer == nil {
		return "", ErrNoSealer
	}
	return s.sealer.Open(sealed)
}

// FinishIdempotent stores the answer to replay for key.
func (s *Store) FinishIdempotent(ctx context.Context, scope, key string, r IdempotentResponse) error {
	body, err := s.sealBody(r.Body)
	if err != nil {
		return fmt.Errorf("store idempotent answer: %w", err)
	}
	r.Body = body
	err = s.conn(ctx).Model(&idempotencyKey{}).Where("scope = ? AND key = ?", scope, key).
		Updates(map[string]any{"status": r.Status, "content_type": r.ContentType, "location": r.Location, "body": r.Body}).Error
	if err != nil {
		return fmt.Errorf("store idempotent answer: %w", err)
	}
	return nil
}

// AbandonIdempotent releases key after a request that changed nothing
// (a 5xx), so the client may retry it.
func (s *Store) AbandonIdempotent(ctx context.Context, scope, key string) error {
	if err := s.conn(ctx).Where("scope = ? AND key = ? AND status = 0", scope, key).
		Delete(&idempotencyKey{}).Error; err != nil {
		return fmt.Errorf("release idempotency key: %w", err)
	}
	return nil
}
