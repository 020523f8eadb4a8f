package models

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm/clause"
)

// IdempotencyWindow is how long an Idempotency-Key's answer is kept.
const IdempotencyWindow = 24 * time.Hour

// Errors of Idempotently and ClaimIdempotent.
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
	// Status is 0 while the claim is in flight (ClaimIdempotent only: a
	// claim made by Idempotently commits with its answer or not at all).
	Status      int
	ContentType string
	Location    string
	Body        string
	CreatedAt   time.Time
}

func (idempotencyKey) TableName() string { return "idempotency_keys" }

// errNotStored rolls back a unit whose answer is a 5xx.
var errNotStored = errors.New("idempotent answer not stored")

// Idempotently runs a request under key, within scope, as one unit of
// work: the claim of the key, everything run does with the context it
// receives, and the answer run returns commit together, or nothing does.
// So a request that fails or is cancelled half-way (its context ends)
// leaves the key free, and one that committed always has its answer.
//
// When the same request (same requestHash) already committed, run is not
// called: the stored answer comes back with replayed true. A concurrent
// request with the same key waits for the first one's commit on
// PostgreSQL (the claim is a row lock), and for the single connection on
// SQLite, then gets its answer. The same key with another request is
// ErrIdempotencyMismatch.
//
// An answer of 500 or more (or none: status 0) is returned but neither
// stored nor committed:
// nothing it did stays, so a retry with the same key tries again.
//
// run must make every database call with the context it receives: on
// SQLite a call on another context waits for the connection the unit
// holds.
func (s *Store) Idempotently(ctx context.Context, scope, key, requestHash string,
	run func(ctx context.Context) (IdempotentResponse, error)) (answer IdempotentResponse, replayed bool, err error) {
	err = s.InTransaction(ctx, func(ctx context.Context) error {
		stored, err := s.claimIdempotent(ctx, scope, key, requestHash, 0)
		if err != nil {
			return err
		}
		if stored != nil {
			answer, replayed = *stored, true
			return nil
		}
		if answer, err = run(ctx); err != nil {
			return err
		}
		if answer.Status >= 500 || answer.Status < 100 {
			return errNotStored
		}
		return s.FinishIdempotent(ctx, scope, key, answer)
	})
	switch {
	case errors.Is(err, errNotStored):
		return answer, false, nil
	case err != nil:
		return IdempotentResponse{}, false, err
	}
	return answer, replayed, nil
}

// ClaimIdempotent claims key within scope, in a transaction of its own,
// for a request that cannot run inside one (it waits on something else
// than the database: a test send). It returns the stored answer when the
// same request already completed (replay it), nil when the caller should
// go ahead (then call FinishIdempotent or AbandonIdempotent), or
// ErrIdempotencyMismatch, ErrIdempotencyInFlight.
//
// A claim is in flight for lease: one older than that was abandoned (its
// request died before releasing it) and is taken over.
func (s *Store) ClaimIdempotent(ctx context.Context, scope, key, requestHash string, lease time.Duration) (*IdempotentResponse, error) {
	return s.claimIdempotent(ctx, scope, key, requestHash, lease)
}

func (s *Store) claimIdempotent(ctx context.Context, scope, key, requestHash string, lease time.Duration) (*IdempotentResponse, error) {
	now := s.Now()
	db := s.conn(ctx)
	// A key older than the window is forgotten.
	if err := db.Where("scope = ? AND key = ? AND created_at < ?", scope, key, now.Add(-IdempotencyWindow)).
		Delete(&idempotencyKey{}).Error; err != nil {
		return nil, fmt.Errorf("expire idempotency key: %w", err)
	}
	// On PostgreSQL this waits while another transaction holds an
	// uncommitted claim of the same key, then does nothing if it
	// committed. No error either way, so the transaction stays usable.
	row := idempotencyKey{Scope: scope, Key: key, RequestHash: requestHash, CreatedAt: now}
	res := db.Clauses(clause.OnConflict{DoNothing: true}).Create(&row)
	if res.Error != nil {
		return nil, fmt.Errorf("claim idempotency key: %w", res.Error)
	}
	if res.RowsAffected == 1 {
		return nil, nil // ours: go ahead
	}
	var got idempotencyKey
	if err := db.Where("scope = ? AND key = ?", scope, key).First(&got).Error; err != nil {
		return nil, fmt.Errorf("load idempotency key: %w", notFound(err))
	}
	if got.Status == 0 {
		// Abandoned claims (older than the lease) are taken over; the
		// conditional update lets only one request win.
		took := db.Model(&idempotencyKey{}).
			Where("scope = ? AND key = ? AND status = 0 AND created_at <= ?", scope, key, now.Add(-lease)).
			Updates(map[string]any{"request_hash": requestHash, "created_at": now})
		if took.Error != nil {
			return nil, fmt.Errorf("take over idempotency key: %w", took.Error)
		}
		if took.RowsAffected == 1 {
			return nil, nil
		}
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

// AbandonIdempotent releases a claim of ClaimIdempotent after a request
// that changed nothing (a 5xx), so the client may retry it.
func (s *Store) AbandonIdempotent(ctx context.Context, scope, key string) error {
	if err := s.conn(ctx).Where("scope = ? AND key = ? AND status = 0", scope, key).
		Delete(&idempotencyKey{}).Error; err != nil {
		return fmt.Errorf("release idempotency key: %w", err)
	}
	return nil
}
