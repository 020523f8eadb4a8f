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
	m := public.NewManager(public.Options{Store: reader})
	go m.Run(runCtx)
	first, err := m.Current(ctx, models.DefaultPageID)
	modelstest.Fatal(t, err, "first snapshot")
	time.Sleep(300 * time.Millisecond) // the listener connects

	comp, err := writer.CreateComponent(ctx, models.DefaultPageID, models.ComponentInput{Name: "Replicated API", Visible: true, Status: models.StatusMajorOutage})
	modelstest.Fatal(t, err, "write through the other replica")
	written := time.Now()
	for {
		snap, err := m.Current(ctx, models.DefaultPageID)
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

	// The notification names the page: a write to another page leaves
	// this replica's default page fresh.
	bravo := modelstest.InsertPage(t, writer, "bravo", "Bravo")
	defaultGen, bravoGen := reader.PageGeneration(models.DefaultPageID), reader.PageGeneration(bravo.ID)
	_, err = writer.CreateComponent(ctx, bravo.ID, models.ComponentInput{Name: "BRAVO-API", Visible: true, Status: models.StatusOperational})
	modelstest.Fatal(t, err, "write to bravo through the other replica")
	for deadline := time.Now().Add(time.Second); reader.PageGeneration(bravo.ID) == bravoGen; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the other replica did not hear of the write to bravo")
		}
	}
	if g := reader.PageGeneration(models.DefaultPageID); g != defaultGen {
		t.Errorf("a write to bravo moved the default page's generation on the other replica: %d → %d", defaultGen, g)
	}
}

// TestSnapshotPerPage: each page has its own snapshot, built on the first
// request for it; a write to one page rebuilds that page's alone, and a
// page nobody asked for is never built.
func TestSnapshotPerPage(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		bravo := modelstest.InsertPage(t, s, "bravo", "Bravo")
		charlie := modelstest.InsertPage(t, s, "charlie", "Charlie")
		_, err := s.CreateComponent(ctx, models.DefaultPageID, models.ComponentInput{Name: "ALPHA-API", Visible: true, Status: models.StatusOperational})
		modelstest.Fatal(t, err, "component on the default page")
		m := public.NewManager(public.Options{Store: s})

		alpha, err := m.Latest(ctx, models.DefaultPageID)
		modelstest.Fatal(t, err, "default page")
		b, err := m.Latest(ctx, bravo.ID)
		modelstest.Fatal(t, err, "page bravo")
		if r, _ := b.Get("/api/v2/components.json"); strings.Contains(string(r.Body), "ALPHA-") {
			t.Errorf("page bravo's JSON shows the default page's component: %s", r.Body)
		}
		if m.Pages() != 2 || m.PageBuilds(charlie.ID) != 0 {
			t.Errorf("%d pages in memory, charlie built %d times: want 2 and 0", m.Pages(), m.PageBuilds(charlie.ID))
		}

		comp, err := s.CreateComponent(ctx, bravo.ID, models.ComponentInput{Name: "BRAVO-API", Visible: true, Status: models.StatusOperational})
		modelstest.Fatal(t, err, "component on bravo")
		_, err = s.SetComponentStatus(ctx, comp.ID, models.StatusMajorOutage, models.SourceManual, nil)
		modelstest.Fatal(t, err, "status on bravo")
		again, err := m.Current(ctx, models.DefaultPageID)
		modelstest.Fatal(t, err, "default page again")
		if again != alpha || m.PageBuilds(models.DefaultPageID) != 1 {
			t.Errorf("writes to bravo rebuilt the default page (%d builds)", m.PageBuilds(models.DefaultPageID))
		}
		b2, err := m.Current(ctx, bravo.ID)
		modelstest.Fatal(t, err, "bravo again")
		if r, _ := b2.Get("/api/v2/components.json"); !strings.Contains(string(r.Body), "BRAVO-API") || m.PageBuilds(bravo.ID) != 2 {
			t.Errorf("bravo after its writes: %d builds, components %s", m.PageBuilds(bravo.ID), r.Body)
		}

		// A write to the default page rebuilds it, not bravo.
		_, err = s.CreateComponent(ctx, models.DefaultPageID, models.ComponentInput{Name: "ALPHA-DB", Visible: true, Status: models.StatusOperational})
		modelstest.Fatal(t, err, "second component on the default page")
		if _, err := m.Current(ctx, bravo.ID); err != nil || m.PageBuilds(bravo.ID) != 2 {
			t.Errorf("a write to the default page rebuilt bravo (%d builds, %v)", m.PageBuilds(bravo.ID), err)
		}
		if _, err := m.Current(ctx, models.DefaultPageID); err != nil || m.PageBuilds(models.DefaultPageID) != 2 {
			t.Errorf("the default page after its write: %d builds, %v", m.PageBuilds(models.DefaultPageID), err)
		}

		// A page that does not exist fails and keeps nothing in memory.
		if _, err := m.Latest(ctx, 9999); err == nil {
			t.Error("a snapshot of a page that does not exist")
		}
		if m.Pages() != 2 {
			t.Errorf("%d pages in memory after asking for one that does not exist", m.Pages())
		}
	})
}
