// Package browsertest drives a headless Chromium against a running Herald,
// for tests that need a real browser: forms submitted by clicks, redirects
// followed, CSS applied, screenshots taken.
//
// Chromium is expected at ChromiumPath. When it is missing a test is skipped
// with a message, except under CI=true, where that fails.
package browsertest

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// ChromiumPath is where the browser is installed.
const ChromiumPath = "/usr/bin/chromium"

// Timeout bounds every browser test, so a hung page fails the test instead
// of the whole package run.
const Timeout = 3 * time.Minute

// New starts a fresh Chromium with its own profile and returns the context
// of its one tab. The browser stops and its profile is removed when the test
// ends.
func New(t testing.TB) context.Context {
	t.Helper()
	if _, err := os.Stat(ChromiumPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("Chromium is required under CI=true: %v", err)
		}
		t.Skipf("Chromium not found at %s (%v); install it to run browser tests", ChromiumPath, err)
	}

	// Not t.TempDir: Chromium's helper processes can still write to the
	// profile for a moment after the browser exits, and TempDir's cleanup
	// would fail the test on "directory not empty".
	profile, err := os.MkdirTemp("", "herald-chromium-")
	if err != nil {
		t.Fatalf("create Chromium profile: %v", err)
	}
	t.Cleanup(func() { removeProfile(t, profile) })

	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(ChromiumPath),
		chromedp.Flag("headless", true),
		chromedp.Flag("hide-scrollbars", true), // screenshots without a scrollbar gutter
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(profile),
	)
	t.Cleanup(cancelAlloc)
	tab, cancelTab := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		// Close the browser gracefully, and wait for it, before the profile
		// is removed.
		ctx, cancel := context.WithTimeout(tab, 10*time.Second)
		defer cancel()
		if err := chromedp.Cancel(ctx); err != nil && !errors.Is(err, context.Canceled) {
			t.Logf("close Chromium: %v", err)
		}
		cancelTab()
	})

	// The first Run starts the browser and ties its life to the context it
	// gets, so it must not carry the timeout.
	if err := chromedp.Do(tab); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	ctx, cancel := context.WithTimeout(tab, Timeout)
	t.Cleanup(cancel)
	return ctx
}

func removeProfile(t testing.TB, dir string) {
	var err error
	for range 50 {
		if err = os.RemoveAll(dir); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("remove Chromium profile %s: %v", dir, err)
}
