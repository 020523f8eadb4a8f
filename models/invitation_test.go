package models_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
)

// TestInvitationLifecycle: a link works once, for seven days, and not
// after it is revoked; addresses that have a user (in any case) or a
// pending invitation cannot be invited; a weak password writes nothing.
func TestInvitationLifecycle(t *testing.T) {
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	eachClockedStore(t, start, func(t *testing.T, s *models.Store, clock *modelstest.Clock) {
		ctx := context.Background()
		_, err := s.CreateUser(ctx, models.UserInput{Email: "ops@example.com", Password: "a long enough password", Role: models.RoleAdmin})
		modelstest.Fatal(t, err, "admin")

		for _, tc := range []struct{ name, email, role, field string }{
			{"existing user in another case", "OPS@Example.com", "viewer", "email"},
			{"unknown role", "new@example.com", "superuser", "role"},
			{"not an address", "<script>alert(1)</script>", "viewer", "email"},
			{"NUL", "a\x00@example.com", "viewer", "email"},
			{"invalid UTF-8", "a\xff@example.com", "viewer", "email"},
		} {
			_, _, err := s.CreateInvitation(ctx, models.InvitationInput{Email: tc.email, Role: models.Role(tc.role)}, 0)
			var ve *models.ValidationError
			if !errors.As(err, &ve) || ve.Fields[tc.field] == "" {
				t.Errorf("%s: %v, want a validation error on %s", tc.name, err, tc.field)
			}
		}
		if n := invitationCount(t, s); n != 0 {
			t.Fatalf("refused invitations wrote %d rows", n)
		}

		inv, plain, err := s.CreateInvitation(ctx, models.InvitationInput{Email: " Dana@Example.com ", Role: models.RoleOperator}, 0)
		modelstest.Fatal(t, err, "invite")
		if inv.Email != "dana@example.com" || !inv.ExpiresAt.Equal(start.Add(7*24*time.Hour)) || inv.TokenHash == plain {
			t.Fatalf("invitation %+v", inv)
		}
		if _, _, err := s.CreateInvitation(ctx, models.InvitationInput{Email: "DANA@example.com", Role: models.RoleViewer}, 0); err == nil {
			t.Fatal("a second pending invitation to the same address was accepted")
		}
		if _, err := s.InvitationByToken(ctx, plain+"x"); !errors.Is(err, models.ErrNotFound) {
			t.Fatalf("unknown link: %v", err)
		}
		if _, err := s.AcceptInvitation(ctx, plain, "short"); err == nil {
			t.Fatal("a weak password was accepted")
		}
		if _, err := s.UserByEmail(ctx, "dana@example.com"); !errors.Is(err, models.ErrNotFound) {
			t.Fatalf("refused acceptance created the user: %v", err)
		}

		clock.Add(7*24*time.Hour - time.Second)
		u, err := s.AcceptInvitation(ctx, plain, "dana's own long password")
		modelstest.Fatal(t, err, "accept just in time")
		if u.Role != models.RoleOperator || u.Email != "dana@example.com" {
			t.Fatalf("user %+v", u)
		}
		if _, err := s.AcceptInvitation(ctx, plain, "another long password here"); !errors.Is(err, models.ErrInvitationUsed) {
			t.Fatalf("reused link: %v, want ErrInvitationUsed", err)
		}
		if _, err := s.RevokeInvitation(ctx, inv.ID); !errors.Is(err, models.ErrInvitationUsed) {
			t.Fatalf("revoke accepted: %v", err)
		}

		late, latePlain, err := s.CreateInvitation(ctx, models.InvitationInput{Email: "lee@example.com", Role: models.RoleViewer}, 0)
		modelstest.Fatal(t, err, "invite lee")
		clock.Add(7 * 24 * time.Hour)
		if _, err := s.AcceptInvitation(ctx, latePlain, "lee's own long password"); !errors.Is(err, models.ErrInvitationExpired) {
			t.Fatalf("expired link: %v, want ErrInvitationExpired", err)
		}
		// Expired: a new invitation to the same address may go out.
		_, again, err := s.CreateInvitation(ctx, models.InvitationInput{Email: "lee@example.com", Role: models.RoleViewer}, 0)
		modelstest.Fatal(t, err, "invite lee again")
		pending, err := s.PendingInvitations(ctx)
		modelstest.Fatal(t, err, "pending")
		if len(pending) != 2 || pending[1].ID != late.ID || pending[1].State(clock.Now()) != models.InvitationExpired {
			t.Fatalf("pending %+v", pending)
		}
		revoked, err := s.RevokeInvitation(ctx, pending[0].ID)
		modelstest.Fatal(t, err, "revoke")
		if revoked.RevokedAt == nil {
			t.Fatal("not revoked")
		}
		if _, err := s.AcceptInvitation(ctx, again, "lee's own long password"); !errors.Is(err, models.ErrInvitationRevoked) {
			t.Fatalf("revoked link: %v, want ErrInvitationRevoked", err)
		}
		if _, err := s.UserByEmail(ctx, "lee@example.com"); !errors.Is(err, models.ErrNotFound) {
			t.Fatalf("a dead link created a user: %v", err)
		}

		// Someone created the account by other means meanwhile.
		_, third, err := s.CreateInvitation(ctx, models.InvitationInput{Email: "kim@example.com", Role: models.RoleViewer}, 0)
		modelstest.Fatal(t, err, "invite kim")
		_, err = s.CreateUser(ctx, models.UserInput{Email: "Kim@example.com", Password: "kim's long password here", Role: models.RoleViewer})
		modelstest.Fatal(t, err, "kim by hand")
		if _, err := s.AcceptInvitation(ctx, third, "kim's other long password"); !errors.Is(err, models.ErrInvitationTaken) {
			t.Fatalf("taken address: %v, want ErrInvitationTaken", err)
		}
	})
}

func invitationCount(t *testing.T, s *models.Store) int {
	t.Helper()
	db, err := s.SQLDB()
	modelstest.Fatal(t, err, "sql db")
	var n int
	modelstest.Fatal(t, db.QueryRowContext(context.Background(), "SELECT COUNT(*) FROM invitations").Scan(&n), "count")
	return n
}
