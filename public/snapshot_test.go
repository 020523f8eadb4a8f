package public_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
	"github.com/heraldstatus/herald/public"
)

// TestSnapshotInvalidatedAcrossReplicas: a write through one replica's
// store shows in another replica's snapshot within a second, carried by
// PostgreSQL LISTEN/NOTIFY.
func TestSnapshotInvalidatedAcrossReplicas(t *testing.T) {
	modelstest.RequirePostgres(t)
	ctx := context.Background()
	dsn := modelstest.NewDatabaseURL(t, models.Postgres)
	open := func() *models.Store {
		s, err := models.Open(ctx, dsn, models.Options{Sealer: modelstest.TestVault(t)})
		modelstest.Fatal(t, err, "open")
		t.Cleanup(func() { s.Close() })
		return s
	}
	writer, reader := open(), open()
	_, err := writer.Migrate(ctx)
	modelstest.Fatal(t, err, "migrate")

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go reader.Listen(runCtx, slog.New(slog.DiscardHandler))
	m := public.NewManager(public.Options{Store: reader, PageID: models.DefaultPageID})
	go m.Run(runCtx)
	first, err := m.Current(ctx)
	modelstest.Fatal(t, err, "first snapshot")
	time.Sleep(300 * time.Millisecond) // the listener connects

	comp, err := writer.CreateComponent(ctx, models.DefaultPageID, models.ComponentInput{Name: "Replicated API", Visible: true, Status: models.StatusMajorOutage})
	modelstest.Fatal(t, err, "write through the other replica")
	written := time.Now()
	for {
		snap, err := m.Current(ctx)
		modelstest.Fatal(t, err, "snapshot")
		r, ok := snap.Get("/api/v2/components.json")
		if ok && strings.Contains(string(r.Body), "Replicated API") {
			if _, ok := snap.Get(public.BadgeKey(comp.ID)); !ok {
				t.Error("the new component has no badge")
			}
			t.Logf("visible on the other replica after %s", time.Since(written).Round(time.Millisecond))
			break
		}
		if time.Since(written) > time.Second {
			t.Fatalf("the other replica still serves the snapshot of %s after 1 s", first.BuiltAt)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
