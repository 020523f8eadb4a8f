package notify

import (
	"context"
	"log/slog"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/jackc/pgx/v5"
)

// Listen relays PostgreSQL notifications on models.DeliveriesChannel to
// the store's wake-up, so a delivery committed by another replica is
// attempted here within a moment. It reconnects after errors and returns
// when ctx ends. Polling remains the fallback while it is disconnected.
func Listen(ctx context.Context, store *models.Store, logger *slog.Logger) {
	if store.Engine() != models.Postgres {
		return
	}
	backoff := time.Second
	for ctx.Err() == nil {
		started := time.Now()
		err := listenOnce(ctx, store)
		if ctx.Err() != nil {
			return
		}
		if time.Since(started) > time.Minute {
			backoff = time.Second // it had been working: retry promptly
		}
		logger.Warn("delivery notifications lost; reconnecting", "error", err, "in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 30*time.Second)
	}
}

func listenOnce(ctx context.Context, store *models.Store) error {
	conn, err := pgx.Connect(ctx, store.DSN())
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+models.DeliveriesChannel); err != nil {
		return err
	}
	store.Wake() // anything committed while we were not listening
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return err
		}
		store.Wake()
	}
}
