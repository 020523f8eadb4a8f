package models_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
)

func eachClockedStore(t *testing.T, start time.Time, fn func(t *testing.T, s *models.Store, clock *modelstest.Clock)) {
	for _, e := range modelstest.Engines {
		t.Run(string(e), func(t *testing.T) {
			clock := modelstest.NewClock(start)
			fn(t, modelstest.OpenWith(t, e, models.Options{Now: clock.Now}), clock)
		})
	}
}

func TestTokenValidation(t *testing.T) {
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	eachClockedStore(t, start, func(t *testing.T, s *models.Store, _ *modelstest.Clock) {
		ctx := context.Background()
		past, future := start.Add(-time.Minute), start.Add(time.Hour)
		cases := []struct {
			name  string
			in    models.TokenInput
			field string
		}{
			{"no name", models.TokenInput{Name: "  ", Scopes: []models.Scope{models.ScopeRead}}, "name"},
			{"long name", models.TokenInput{Name: strings.Repeat("n", 101), Scopes: []models.Scope{models.ScopeRead}}, "name"},
			{"no scope", models.TokenInput{Name: "CI"}, "scopes"},
			{"unknown scope", models.TokenInput{Name: "CI", Scopes: []models.Scope{"admin"}}, "scopes"},
			{"past expiry", models.TokenInput{Name: "CI", Scopes: []models.Scope{models.ScopeRead}, ExpiresAt: &past}, "expires_at"},
			{"expiry now", models.TokenInput{Name: "CI", Scopes: []models.Scope{models.ScopeRead}, ExpiresAt: &start}, "expires_at"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				_, plain, err := s.CreateToken(ctx, models.DefaultPageID, tc.in, 0)
				var ve *models.ValidationError
				if !errors.As(err, &ve) || ve.Fields[tc.field] == "" {
					t.Fatalf("err = %v, want a validation error on %s", err, tc.field)
				}
				if plain != "" {
					t.Fatal("a refused token came back with a plaintext")
				}
			})
		}
		tokens, err := s.TokensFor(ctx, models.AllPagesAccess())
		modelstest.Fatal(t, err, "list")
		if len(tokens) != 0 {
			t.Fatalf("refused input stored %d tokens", len(tokens))
		}
		tok, _, err := s.CreateToken(ctx, models.DefaultPageID, models.TokenInput{Name: " Deploys ",
			Scopes: []models.Scope{models.ScopeIncidentsWrite, models.ScopeRead, models.ScopeRead}, ExpiresAt: &future}, 0)
		modelstest.Fatal(t, err, "create")
		if tok.Name != "Deploys" || tok.Scopes != "read,incidents:write" || !tok.ExpiresAt.Equal(future) || tok.CreatedByUserID != nil {
			t.Fatalf("token = %+v", tok)
		}
	})
}

func TestTokenAuthentication(t *testing.T) {
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	eachClockedStore(t, start, func(t *testing.T, s *models.Store, clock *modelstest.Clock) {
		ctx := context.Background()
		expiry := start.Add(2 * time.Hour)
		tok, plain, err := s.CreateToken(ctx, models.DefaultPageID, models.TokenInput{Name: "CI",
			Scopes: []models.Scope{models.ScopeComponentsWrite}, ExpiresAt: &expiry}, 0)
		modelstest.Fatal(t, err, "create")
		if !strings.HasPrefix(plain, "hrd_") || len(plain) != 4+43 {
			t.Fatalf("plaintext %q, want hrd_ and 43 base64url characters", plain)
		}
		if tok.Prefix != plain[4:12] || tok.TokenHash != models.HashToken(plain) || strings.Contains(tok.TokenHash, plain[4:]) {
			t.Fatalf("prefix %q hash %q", tok.Prefix, tok.TokenHash)
		}
		if !tok.Can(models.ScopeComponentsWrite) || !tok.Can(models.ScopeRead) || tok.Can(models.ScopeIncidentsWrite) {
			t.Fatal("components:write must grant itself and read, nothing else")
		}
		readOnly := models.Token{Scopes: "read"}
		if !readOnly.Can(models.ScopeRead) || readOnly.Can(models.ScopeComponentsWrite) {
			t.Fatal("read must grant only read")
		}

		for _, bad := range []string{"", "hrd_", "Bearer " + plain, plain + "x", strings.ToUpper(plain), "hrd_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"} {
			if _, err := s.AuthenticateToken(ctx, bad); !errors.Is(err, models.ErrTokenInvalid) {
				t.Errorf("AuthenticateToken(%q) = %v, want ErrTokenInvalid", bad, err)
			}
		}

		got, err := s.AuthenticateToken(ctx, plain)
		modelstest.Fatal(t, err, "authenticate")
		if got.ID != tok.ID || got.LastUsedAt == nil || !got.LastUsedAt.Equal(start) {
			t.Fatalf("authenticated %+v, want token %d used at %v", got, tok.ID, start)
		}
		// Within a minute the use is not written again.
		clock.Add(30 * time.Second)
		_, err = s.AuthenticateToken(ctx, plain)
		modelstest.Fatal(t, err, "authenticate again")
		stored, err := s.Token(ctx, tok.ID)
		modelstest.Fatal(t, err, "load")
		if !stored.LastUsedAt.Equal(start) {
			t.Fatalf("last used %v after 30 s, want still %v", stored.LastUsedAt, start)
		}
		clock.Add(31 * time.Second)
		_, err = s.AuthenticateToken(ctx, plain)
		modelstest.Fatal(t, err, "authenticate a minute later")
		stored, _ = s.Token(ctx, tok.ID)
		if !stored.LastUsedAt.Equal(start.Add(61 * time.Second)) {
			t.Fatalf("last used %v, want %v", stored.LastUsedAt, start.Add(61*time.Second))
		}

		clock.Set(expiry)
		if _, err := s.AuthenticateToken(ctx, plain); !errors.Is(err, models.ErrTokenExpired) || !errors.Is(err, models.ErrTokenInvalid) {
			t.Fatalf("at expiry: %v, want ErrTokenExpired", err)
		}
		if st := stored.State(expiry); st != models.TokenExpired {
			t.Fatalf("state at expiry = %s", st)
		}

		clock.Set(start)
		modelstest.Fatal(t, s.RevokeToken(ctx, tok.ID), "revoke")
		modelstest.Fatal(t, s.RevokeToken(ctx, tok.ID), "revoke twice")
		if _, err := s.AuthenticateToken(ctx, plain); !errors.Is(err, models.ErrTokenRevoked) {
			t.Fatalf("after revoke: %v, want ErrTokenRevoked", err)
		}
		if err := s.RevokeToken(ctx, 9999); !errors.Is(err, models.ErrNotFound) {
			t.Fatalf("revoke missing: %v, want ErrNotFound", err)
		}
	})
}
