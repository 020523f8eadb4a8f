package models_test

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestExpectedConflictIsNotAnError: a duplicate e-mail is an answer to the
// user ("already exists"), not a database error. It is logged at debug,
// never at ERROR with its SQL, and bound values are never logged.
func TestExpectedConflictIsNotAnError(t *testing.T) {
	for _, engine := range modelstest.Engines {
		t.Run(string(engine), func(t *testing.T) {
			for _, level := range []slog.Level{slog.LevelInfo, slog.LevelDebug} {
				var logs lockedBuffer
				logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: level}))
				s := modelstest.OpenWith(t, engine, models.Options{Logger: logger})
				if _, err := s.CreateUser(t.Context(), models.UserInput{Email: "dup@example.com", Password: "correct horse battery", Role: models.RoleAdmin}); err != nil {
					t.Fatal(err)
				}
				_, err := s.CreateUser(t.Context(), models.UserInput{Email: "dup@example.com", Password: "correct horse battery", Role: models.RoleAdmin})
				var ve *models.ValidationError
				if !errors.As(err, &ve) || !strings.Contains(ve.Fields["email"], "already exists") {
					t.Fatalf("second CreateUser: %v, want the e-mail's validation error", err)
				}
				// Slow-query warnings ("SQL executed", over 500 ms) are about
				// a loaded machine, not about the conflict: leave them out.
				var kept []string
				for _, line := range strings.Split(logs.String(), "\n") {
					if !strings.Contains(line, `msg="SQL executed"`) {
						kept = append(kept, line)
					}
				}
				out := strings.Join(kept, "\n")
				if strings.Contains(out, "level=ERROR") || strings.Contains(out, "level=WARN") {
					t.Fatalf("a duplicate e-mail was logged as a problem (%v):\n%s", level, out)
				}
				if strings.Contains(logs.String(), "dup@example.com") {
					t.Fatalf("bound values reached the log:\n%s", out)
				}
				if level == slog.LevelDebug && !strings.Contains(out, "expected database conflict") {
					t.Fatalf("at debug the conflict should be logged once:\n%s", out)
				}
				if level == slog.LevelInfo && strings.Contains(out, "INSERT") {
					t.Fatalf("SQL logged at info:\n%s", out)
				}
			}
		})
	}
}
