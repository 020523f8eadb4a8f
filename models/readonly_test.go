package models_test

import (
	"context"
	"testing"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
)

// Reads made with a ReadOnly context see every committed change and, on
// SQLite, do not queue behind a transaction holding the single writer
// connection: the public page's rebuild and the delivery engine's loads
// run beside the admins' writes. A write with such a context is refused
// on SQLite rather than silently taking the writer's place.
func TestReadOnlyReadsBesideTheWriter(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		_, err := s.CreateComponent(ctx, models.DefaultPageID, models.ComponentInput{Name: "API", Status: models.StatusOperational})
		modelstest.Fatal(t, err, "create component")

		held, release, finished := make(chan struct{}), make(chan struct{}), make(chan error, 1)
		go func() {
			finished <- s.InTransaction(ctx, func(ctx context.Context) error {
				if _, err := s.CreateComponent(ctx, models.DefaultPageID, models.ComponentInput{Name: "Uncommitted", Status: models.StatusOperational}); err != nil {
					return err
				}
				close(held)
				<-release
				return nil
			})
		}()
		<-held

		readCtx, cancel := context.WithTimeout(models.ReadOnly(ctx), 2*time.Second)
		defer cancel()
		cs, err := s.Components(readCtx, models.DefaultPageID)
		modelstest.Fatal(t, err, "read beside an open write transaction")
		if len(cs) != 1 || cs[0].Name != "API" {
			t.Errorf("read %d components (%v), want only the committed one", len(cs), cs)
		}

		close(release)
		modelstest.Fatal(t, <-finished, "write transaction")
		cs, err = s.Components(models.ReadOnly(ctx), models.DefaultPageID)
		modelstest.Fatal(t, err, "read after commit")
		if len(cs) != 2 {
			t.Errorf("after the commit a read sees %d components, want 2", len(cs))
		}

		if s.Engine() == models.SQLite {
			_, err := s.CreateComponent(models.ReadOnly(ctx), models.DefaultPageID, models.ComponentInput{Name: "Refused", Status: models.StatusOperational})
			if err == nil {
				t.Error("a write with a ReadOnly context succeeded on SQLite")
			}
		}
	})
}
