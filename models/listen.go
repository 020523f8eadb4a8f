package models

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
)

// ChangesChannel is the PostgreSQL NOTIFY channel announcing changes to
// public data, so every replica rebuilds its public snapshot.
const ChangesChannel = "herald_changes"

// Listen relays PostgreSQL notifications from other replicas to this
// store's signals: DeliveriesChannel to DeliveriesDue, ChangesChannel to
// Changed. It reconnects after errors and returns when ctx ends; on
// SQLite (one process) it returns at once. Polling stays the fallback
// while it is disconnected.
func (s *Store) Listen(ctx context.Context, logger *slog.Logger) {
	if s.engine != Postgres {
		return
	}
	backoff := time.Second
	for ctx.Err() == nil {
		started := time.Now()
		err := s.listenOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		if time.Since(started) > time.Minute {
			backoff = time.Second // it had been working: retry promptly
		}
		logger.Warn("database notifications lost; reconnecting", "error", err, "in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 30*time.Second)
	}
}

func (s *Store) listenOnce(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, s.dsn)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	for _, ch := range []string{DeliveriesChannel, ChangesChannel} {
		if _, err := conn.Exec(ctx, "LISTEN "+ch); err != nil {
			return err
		}
	}
	// Anything committed while nobody listened.
	s.wake.Notify()
	s.markChanged(nil)
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		switch n.Channel {
		case DeliveriesChannel:
			s.wake.Notify()
		case ChangesChannel:
			s.markChanged(parseChangedPages(n.Payload))
		}
	}
}
