package web_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
	"github.com/heraldstatus/herald/public"
	"github.com/heraldstatus/herald/web/webtest"
)

// fetch GETs url with headers and returns the response with its body read.
func fetch(t *testing.T, url string, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	modelstest.Fatal(t, err, "request")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	// A bare transport: the default one would add and strip gzip itself.
	resp, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
	modelstest.Fatal(t, err, "GET %s", url)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	modelstest.Fatal(t, err, "read %s", url)
	return resp, body
}

func TestPublicResponsesFromSnapshot(t *testing.T) {
	for _, engine := range modelstest.Engines {
		t.Run(string(engine), func(t *testing.T) {
			srv := webtest.Start(t, engine)
			ctx := context.Background()
			comp, err := srv.Store.CreateComponent(ctx, models.DefaultPageID, models.ComponentInput{Name: "API", Visible: true, Status: models.StatusOperational})
			modelstest.Fatal(t, err, "component")

			paths := []string{"/", "/history.atom", "/history.rss", "/badge.svg", "/badge.svg?component=" + itoa(comp.ID)}
			for _, ep := range public.StatuspageEndpoints {
				paths = append(paths, "/api/v2/"+ep)
			}
			for _, p := range paths {
				resp, body := fetch(t, srv.URL+p, nil)
				etag := resp.Header.Get("ETag")
				if resp.StatusCode != 200 || len(body) == 0 || !strings.HasPrefix(etag, `"`) {
					t.Fatalf("GET %s: %d, ETag %q, %d bytes", p, resp.StatusCode, etag, len(body))
				}
				if cc := resp.Header.Get("Cache-Control"); cc != "public, max-age=10" {
					t.Errorf("GET %s: Cache-Control %q", p, cc)
				}
				if strings.HasPrefix(p, "/api/") {
					if resp.Header.Get("Access-Control-Allow-Origin") != "*" || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
						t.Errorf("GET %s: CORS %q, type %q", p, resp.Header.Get("Access-Control-Allow-Origin"), resp.Header.Get("Content-Type"))
					}
					if !json.Valid(body) {
						t.Errorf("GET %s: not JSON", p)
					}
				}

				// Conditional GET.
				resp304, body304 := fetch(t, srv.URL+p, map[string]string{"If-None-Match": etag})
				if resp304.StatusCode != http.StatusNotModified || len(body304) != 0 || resp304.Header.Get("ETag") != etag {
					t.Errorf("GET %s with If-None-Match: %d, %d bytes", p, resp304.StatusCode, len(body304))
				}
				if r, _ := fetch(t, srv.URL+p, map[string]string{"If-None-Match": `"other"`}); r.StatusCode != 200 {
					t.Errorf("GET %s with a stale ETag: %d", p, r.StatusCode)
				}

				// Gzip: the same bytes, compressed.
				respGz, gz := fetch(t, srv.URL+p, map[string]string{"Accept-Encoding": "gzip, br"})
				if respGz.Header.Get("Content-Encoding") != "gzip" || !strings.Contains(respGz.Header.Get("Vary"), "Accept-Encoding") {
					t.Fatalf("GET %s with gzip: Content-Encoding %q", p, respGz.Header.Get("Content-Encoding"))
				}
				zr, err := gzip.NewReader(bytes.NewReader(gz))
				modelstest.Fatal(t, err, "gunzip %s", p)
				plain, err := io.ReadAll(zr)
				modelstest.Fatal(t, err, "gunzip %s", p)
				if !bytes.Equal(plain, body) {
					t.Errorf("GET %s: the gzip copy differs from the plain body", p)
				}
			}

			if resp, body := fetch(t, srv.URL+"/api/v2/nope.json", nil); resp.StatusCode != 404 || !json.Valid(body) {
				t.Errorf("unknown endpoint: %d %s", resp.StatusCode, body)
			}
			if resp, _ := fetch(t, srv.URL+"/badge.svg?component=999999", nil); resp.StatusCode != 404 {
				t.Errorf("badge of a missing component: %d", resp.StatusCode)
			}
			if resp, _ := fetch(t, srv.URL+"/badge.svg?component=abc", nil); resp.StatusCode != 404 {
				t.Errorf("badge of a non-numeric component: %d", resp.StatusCode)
			}

			// A write reaches visitors within a second, with a new ETag.
			before, _ := fetch(t, srv.URL+"/api/v2/status.json", nil)
			_, err = srv.Store.SetComponentStatus(ctx, comp.ID, models.StatusMajorOutage, models.SourceManual, nil)
			modelstest.Fatal(t, err, "outage")
			written := time.Now()
			for {
				after, body := fetch(t, srv.URL+"/api/v2/status.json", nil)
				if strings.Contains(string(body), `"indicator":"critical"`) {
					if after.Header.Get("ETag") == before.Header.Get("ETag") {
						t.Error("new content kept the old ETag")
					}
					break
				}
				if time.Since(written) > time.Second {
					t.Fatalf("the outage is not visible 1 s after the write: %s", body)
				}
				time.Sleep(10 * time.Millisecond)
			}
			if _, body := fetch(t, srv.URL+"/", nil); !strings.Contains(string(body), "Major outage") {
				t.Error("the page does not show the outage")
			}
			// A signed-in admin sees their own write on the next request.
			admin := srv.SetUp(t)
			_, err = srv.Store.SetComponentStatus(ctx, comp.ID, models.StatusPartialOutage, models.SourceManual, nil)
			modelstest.Fatal(t, err, "partial outage")
			if r := admin.Get("/"); !strings.Contains(r.Body, "Partial outage") {
				t.Error("the admin does not see the change on the next request")
			}
		})
	}
}

func TestPublicSnapshotCoalescesRebuilds(t *testing.T) {
	srv := webtest.Start(t, models.SQLite)
	ctx := context.Background()
	comp, err := srv.Store.CreateComponent(ctx, models.DefaultPageID, models.ComponentInput{Name: "API", Visible: true, Status: models.StatusOperational})
	modelstest.Fatal(t, err, "component")
	fetch(t, srv.URL+"/", nil)
	time.Sleep(200 * time.Millisecond)

	// Many requests and no writes: no rebuild at all.
	start := srv.Public.Builds()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 25 {
				fetch(t, srv.URL+"/api/v2/summary.json", nil)
			}
		})
	}
	wg.Wait()
	if n := srv.Public.Builds() - start; n != 0 {
		t.Errorf("200 requests without writes caused %d rebuilds", n)
	}

	// A burst of writes, then a crowd: one rebuild, not one per write
	// or per request.
	start = srv.Public.Builds()
	statuses := []models.ComponentStatus{models.StatusDegradedPerformance, models.StatusOperational}
	for i := range 20 {
		_, err := srv.Store.SetComponentStatus(ctx, comp.ID, statuses[i%2], models.SourceManual, nil)
		modelstest.Fatal(t, err, "write %d", i)
	}
	for range 8 {
		wg.Go(func() {
			for range 25 {
				fetch(t, srv.URL+"/api/v2/summary.json", nil)
			}
		})
	}
	wg.Wait()
	if n := srv.Public.Builds() - start; n != 1 {
		t.Errorf("20 writes then 200 requests caused %d rebuilds, want 1", n)
	}
}
