package models_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
)

// TestUserPages: a user limited to pages may see those only; the last
// admin of every page cannot be limited, demoted or removed; a deleted
// page leaves a limited user their other pages, and with none left they
// see no page (never every page); tokens reach what their owner may see.
func TestUserPages(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		admin := ok(s.CreateUser(ctx, models.UserInput{Email: "admin@example.com", Password: "a long enough password", Role: models.RoleAdmin}))(t)
		op := ok(s.CreateUser(ctx, models.UserInput{Email: "op@example.com", Password: "a long enough password", Role: models.RoleOperator}))(t)
		b := ok(s.CreatePage(ctx, models.PageNameInput{Name: "Bravo", Slug: "bravo"}))(t)
		c := ok(s.CreatePage(ctx, models.PageNameInput{Name: "Charlie", Slug: "charlie"}))(t)
		if !admin.AllPages || !op.AllPages {
			t.Fatal("new users do not see every page")
		}
		for _, id := range []int64{models.DefaultPageID, b.ID, c.ID} {
			if yes := ok(s.UserMaySeePage(ctx, op.ID, id))(t); !yes {
				t.Errorf("an unlimited user may not see page %d", id)
			}
		}
		if yes := ok(s.UserMaySeePage(ctx, op.ID, 999))(t); yes {
			t.Error("a user may see a page that does not exist")
		}
		if yes := ok(s.UserMaySeePage(ctx, 999, models.DefaultPageID))(t); yes {
			t.Error("an unknown user may see a page")
		}

		_, err := s.SetUserPages(ctx, admin.ID, models.PageSet{PageIDs: []int64{b.ID}})
		if !errors.Is(err, models.ErrLastAllPagesAdmin) || !errors.Is(err, models.ErrLastAdmin) {
			t.Fatalf("limit the last admin of every page: %v", err)
		}
		// A second admin limited to a page does not count as one of every page.
		second := ok(s.CreateUser(ctx, models.UserInput{Email: "second@example.com", Password: "a long enough password", Role: models.RoleAdmin}))(t)
		ok(s.SetUserPages(ctx, second.ID, models.PageSet{PageIDs: []int64{b.ID}}))(t)
		if _, err := s.SetUserRole(ctx, admin.ID, models.RoleViewer); !errors.Is(err, models.ErrLastAdmin) {
			t.Errorf("demote the last admin of every page: %v", err)
		}
		if err := s.RemoveUser(ctx, admin.ID); !errors.Is(err, models.ErrLastAdmin) {
			t.Errorf("remove the last admin of every page: %v", err)
		}

		u := ok(s.SetUserPages(ctx, op.ID, models.PageSet{PageIDs: []int64{c.ID, b.ID}}))(t)
		if u.AllPages || fmt.Sprint(u.PageIDs) != fmt.Sprint([]int64{b.ID, c.ID}) {
			t.Fatalf("limited user: %+v", u)
		}
		loaded := ok(s.User(ctx, op.ID))(t)
		if loaded.MaySee(models.DefaultPageID) || !loaded.MaySee(b.ID) || !loaded.MaySee(c.ID) {
			t.Errorf("loaded user's access: %+v", loaded.Access())
		}
		pages := ok(s.PagesFor(ctx, loaded.Access()))(t)
		if len(pages) != 2 || pages[0].ID != b.ID {
			t.Errorf("pages of the limited user: %+v", pages)
		}

		// Tokens: a page token of the first page reaches nothing now; an
		// install-wide one cannot be made; one of page B reaches B only.
		_, plain, err := s.CreateToken(ctx, b.ID, models.TokenInput{Name: "b", Scopes: []models.Scope{models.ScopeRead}}, op.ID)
		modelstest.Fatal(t, err, "token of B")
		tok := ok(s.AuthenticateToken(ctx, plain))(t)
		if !tok.Reaches(b.ID) || tok.Reaches(c.ID) || tok.Reaches(models.DefaultPageID) || tok.InstallWide() {
			t.Errorf("page token of a limited user: %+v", tok)
		}
		if _, _, err := s.CreateToken(ctx, models.DefaultPageID, models.TokenInput{Name: "a", Scopes: []models.Scope{models.ScopeRead}}, op.ID); err == nil {
			t.Error("a limited user made a token of a page they may not see")
		}
		if _, _, err := s.CreateToken(ctx, b.ID, models.TokenInput{Name: "all", Scopes: []models.Scope{models.ScopeRead}, AllPages: true}, op.ID); err == nil {
			t.Error("a limited user made an install-wide token")
		}
		if got := ok(s.TokensFor(ctx, loaded.Access()))(t); len(got) != 1 {
			t.Errorf("tokens a limited user manages: %d", len(got))
		}

		// Deleting a page leaves the others; deleting the last leaves none.
		modelstest.Fatal(t, s.DeletePage(ctx, c.ID, false), "delete C")
		if a := ok(s.UserPageAccess(ctx, op.ID))(t); a.All || fmt.Sprint(a.PageIDs) != fmt.Sprint([]int64{b.ID}) {
			t.Errorf("after deleting C: %+v", a)
		}
		modelstest.Fatal(t, s.DeletePage(ctx, b.ID, false), "delete B")
		a := ok(s.UserPageAccess(ctx, op.ID))(t)
		if a.All || len(a.PageIDs) != 0 || a.MaySee(models.DefaultPageID) {
			t.Errorf("after deleting every page of theirs: %+v", a)
		}
		if yes := ok(s.UserMaySeePage(ctx, op.ID, models.DefaultPageID))(t); yes {
			t.Error("a user left with no page may see the first page")
		}

		// Bad input.
		for _, tc := range []struct {
			name string
			ids  []int64
		}{{"none", []int64{}}, {"unknown", []int64{999}}, {"twice", []int64{1, 1}}, {"too many", make([]int64, models.MaxPageIDs+1)}} {
			_, err := s.SetUserPages(ctx, op.ID, models.PageSet{PageIDs: tc.ids})
			var ve *models.ValidationError
			if !errors.As(err, &ve) || ve.Fields["page_ids"] == "" {
				t.Errorf("%s: %v", tc.name, err)
			}
		}
		ok(s.SetUserPages(ctx, op.ID, models.AllPagesAccess()))(t)
		if yes := ok(s.UserMaySeePage(ctx, op.ID, models.DefaultPageID))(t); !yes {
			t.Error("every page again: may not see the first page")
		}
	})
}

// TestPagesOverviewQueries: the all-pages dashboard's data costs the
// same number of statements for 3 pages as for 53, and counts right.
func TestPagesOverviewQueries(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		addPage := func(i int) {
			p := ok(s.CreatePage(ctx, models.PageNameInput{Name: fmt.Sprintf("Page %d", i), Slug: fmt.Sprintf("page-%d", i)}))(t)
			ok(s.CreateComponent(ctx, p.ID, models.ComponentInput{Name: "API", Visible: true, Status: models.StatusDegradedPerformance}))(t)
			ok(s.CreateComponent(ctx, p.ID, models.ComponentInput{Name: "Hidden", Visible: false, Status: models.StatusMajorOutage}))(t)
			ok(s.CreateIncident(ctx, p.ID, models.IncidentInput{Title: "Slow", Status: models.IncidentInvestigating, Message: "Looking."}))(t)
			ok(s.ScheduleMaintenance(ctx, p.ID, models.MaintenanceInput{Title: "Later",
				WindowStart: time.Now().Add(time.Hour), WindowEnd: time.Now().Add(2 * time.Hour)}))(t)
		}
		for i := range 2 {
			addPage(i)
		}
		var overview []models.PageOverview
		measure := func() int64 {
			pages := ok(s.Pages(ctx))(t)
			return s.CountQueries(func() { overview = ok(s.PagesOverview(ctx, pages))(t) })
		}
		few := measure()
		if len(overview) != 3 {
			t.Fatalf("%d pages in the overview", len(overview))
		}
		o := overview[1]
		if len(o.Visible) != 1 || o.NotOperational != 2 || len(o.Unresolved) != 1 || o.Upcoming != 1 || len(o.InProgress) != 0 {
			t.Errorf("overview of a page: %+v", o)
		}
		// Queued: what the Pages screen's delete refusal counts too, here
		// the subscriber fan-outs of the incident and the window (no
		// worker runs in this test).
		db := ok(s.SQLDB())(t)
		var queued int64
		modelstest.Fatal(t, db.QueryRowContext(ctx, fmt.Sprintf(`SELECT
			(SELECT COUNT(*) FROM deliveries WHERE page_id = %[1]d AND due_at IS NOT NULL) +
			(SELECT COUNT(*) FROM subscriber_deliveries WHERE page_id = %[1]d AND due_at IS NOT NULL) +
			(SELECT COUNT(*) FROM subscriber_fanouts WHERE page_id = %[1]d)`, o.Page.ID)).Scan(&queued), "count queued")
		if queued == 0 || o.Queued != queued {
			t.Errorf("queued on page %d: %d, want %d (not 0)", o.Page.ID, o.Queued, queued)
		}
		if first := overview[0]; len(first.Visible) != 0 || first.NotOperational != 0 || len(first.Unresolved) != 0 {
			t.Errorf("overview of the empty first page: %+v", first)
		}
		for i := 2; i < 52; i++ {
			addPage(i)
		}
		many := measure()
		if len(overview) != 53 {
			t.Fatalf("%d pages in the overview", len(overview))
		}
		if few == 0 || many != few {
			t.Errorf("%d statements for 3 pages, %d for 53: want the same, more than 0", few, many)
		}
		t.Logf("%d statements for 3 pages and for 53", many)
	})
}
