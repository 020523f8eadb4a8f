package modelstest

import (
	"context"
	"sync"
	"testing"

	"github.com/heraldstatus/herald/models"
)

// Stallable is a store whose database a test can make stop answering.
type Stallable struct {
	Store *models.Store
	// Proxy stands between the store and PostgreSQL (nil on SQLite), for
	// tests that also cut the connection.
	Proxy *Proxy

	t       testing.TB
	mu      sync.Mutex
	release chan struct{}
	held    chan struct{}
}

// OpenStallable opens a migrated store on a fresh database of engine
// that Stall can make stop answering: on PostgreSQL it goes through a
// Proxy.
func OpenStallable(t testing.TB, engine models.Engine, opts models.Options) *Stallable {
	t.Helper()
	dsn := NewDatabaseURL(t, engine)
	s := &Stallable{t: t}
	if engine == models.Postgres {
		s.Proxy, dsn = ProxyPostgres(t, dsn)
	}
	s.Store = OpenURL(t, dsn, opts)
	t.Cleanup(s.Restore)
	return s
}

// Stall makes the database stop answering until Restore: on PostgreSQL
// the proxy accepts connections and forwards nothing; on SQLite a
// transaction holds the store's only connection, so every other call
// waits for it.
func (s *Stallable) Stall() {
	s.t.Helper()
	if s.Proxy != nil {
		s.Proxy.Stall()
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.release != nil {
		return
	}
	release, held := make(chan struct{}), make(chan struct{})
	s.release, s.held = release, make(chan struct{})
	acquired := make(chan error, 1)
	go func() {
		defer close(s.held)
		err := s.Store.InTransaction(context.Background(), func(context.Context) error {
			close(held)
			<-release
			return nil
		})
		acquired <- err
	}()
	select {
	case <-held:
	case err := <-acquired:
		s.t.Fatalf("stall: hold the connection: %v", err)
	}
}

// Restore lets the database answer again.
func (s *Stallable) Restore() {
	if s.Proxy != nil {
		s.Proxy.Restore()
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.release == nil {
		return
	}
	close(s.release)
	<-s.held
	s.release, s.held = nil, nil
}
