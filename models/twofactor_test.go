package models_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
)

// A code works once even when several sign-ins race with it: exactly one
// wins, on both engines; the same for a recovery code. Codes of the
// steps next to the current one pass (clock drift), further ones do not.
func TestSecondFactorWorksOnce(t *testing.T) {
	eachClocked(t, func(t *testing.T, s *models.Store, clock *modelstest.Clock) {
		ctx := context.Background()
		u := ok(s.CreateUser(ctx, models.UserInput{Email: "racer@example.com", Password: "another long password", Role: models.RoleOperator}))(t)
		modelstest.Fatal(t, s.StartTwoFactor(ctx, u.ID), "start")
		secret := ok(s.TwoFactorEnrolment(ctx, u.ID, "Acme: Status"))(t).Secret
		codes := ok(s.EnableTwoFactor(ctx, u.ID, totpAt(t, secret, clock.Now())))(t)
		if _, err := s.TwoFactorEnrolment(ctx, u.ID, "Acme"); !errors.Is(err, models.ErrTwoFactorOn) {
			t.Fatalf("enrolment once on: %v", err)
		}

		race := func(code string) (wins int, errs []error) {
			var mu sync.Mutex
			var wg sync.WaitGroup
			for range 6 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, err := s.CheckSecondFactor(ctx, u.ID, code)
					mu.Lock()
					defer mu.Unlock()
					if err == nil {
						wins++
					} else {
						errs = append(errs, err)
					}
				}()
			}
			wg.Wait()
			return wins, errs
		}
		clock.Add(30 * time.Second)
		wins, errs := race(totpAt(t, secret, clock.Now()))
		if wins != 1 {
			t.Fatalf("%d sign-ins won with one TOTP code, want 1: %v", wins, errs)
		}
		for _, err := range errs {
			if !errors.Is(err, models.ErrReusedCode) {
				t.Errorf("losing racer: %v, want ErrReusedCode", err)
			}
		}
		wins, errs = race(codes[0])
		if wins != 1 {
			t.Fatalf("%d sign-ins won with one recovery code, want 1: %v", wins, errs)
		}
		for _, err := range errs {
			if !errors.Is(err, models.ErrWrongCode) {
				t.Errorf("losing racer: %v, want ErrWrongCode", err)
			}
		}

		// Drift: the next step's code passes now, and then the current
		// one is older than the last used.
		clock.Add(30 * time.Second)
		if _, err := s.CheckSecondFactor(ctx, u.ID, totpAt(t, secret, clock.Now().Add(30*time.Second))); err != nil {
			t.Fatalf("next step's code: %v", err)
		}
		if _, err := s.CheckSecondFactor(ctx, u.ID, totpAt(t, secret, clock.Now())); !errors.Is(err, models.ErrReusedCode) {
			t.Fatalf("current code after the next one: %v, want ErrReusedCode", err)
		}
		clock.Add(5 * time.Minute)
		if _, err := s.CheckSecondFactor(ctx, u.ID, totpAt(t, secret, clock.Now().Add(-90*time.Second))); !errors.Is(err, models.ErrWrongCode) {
			t.Fatalf("code three steps old: %v, want ErrWrongCode", err)
		}
		var ve *models.ValidationError
		for _, bad := range []string{"", "12345", "1234567", "12a456", "\x00\x00\x00\x00\x00\x00", "abcd-efgh-ijkl-mno1"} {
			if _, err := s.CheckSecondFactor(ctx, u.ID, bad); !errors.As(err, &ve) || ve.Fields["code"] == "" {
				t.Errorf("code %q: %v, want a field error", bad, err)
			}
		}
	})
}
