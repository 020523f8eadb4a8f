package site

import (
	"testing"
	"time"
)

func TestWindowLimiter(t *testing.T) {
	l := newWindowLimiter(3, time.Minute)
	t0 := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	for i := range 3 {
		if ok, _ := l.allow("a", t0.Add(time.Duration(i)*time.Second)); !ok {
			t.Fatalf("event %d refused", i+1)
		}
	}
	if ok, wait := l.allow("a", t0.Add(10*time.Second)); ok || wait != 50*time.Second {
		t.Fatalf("the fourth event: allowed %v, wait %v; want refused, 50s", ok, wait)
	}
	if ok, _ := l.allow("b", t0.Add(10*time.Second)); !ok {
		t.Fatal("another key is refused")
	}
	// The first event leaves the window: one more fits.
	if ok, _ := l.allow("a", t0.Add(time.Minute)); !ok {
		t.Fatal("refused after the first event left the window")
	}

	// blocked and record: failures count only when recorded.
	f := newWindowLimiter(2, time.Minute)
	if w := f.blocked("k", t0); w != 0 {
		t.Fatalf("blocked before any failure: %v", w)
	}
	f.record("k", t0)
	f.record("k", t0.Add(5*time.Second))
	if w := f.blocked("k", t0.Add(20*time.Second)); w != 40*time.Second {
		t.Fatalf("blocked after two failures: %v, want 40s", w)
	}
	if w := f.blocked("k", t0.Add(61*time.Second)); w != 0 {
		t.Fatalf("still blocked after the window: %v", w)
	}
	// Quiet keys are forgotten.
	f.record("other", t0.Add(3*time.Minute))
	if _, ok := f.events["k"]; ok {
		t.Fatal("a quiet key is kept")
	}
}
