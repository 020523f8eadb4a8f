package web_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/heraldstatus/herald/handlers/api"
	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/web/webtest"
)

// TestOpenAPIDocumentMatchesRoutes: every /api/v1 route is in the
// OpenAPI document, and every documented operation is a route.
func TestOpenAPIDocumentMatchesRoutes(t *testing.T) {
	srv := webtest.Start(t, models.SQLite)
	var routes []string
	for _, r := range srv.Routes {
		method, path, _ := strings.Cut(r, " ")
		if !strings.HasPrefix(path, "/api/v1/") || path == "/api/v1/*" || path == "/api/v1/openapi.json" {
			continue
		}
		if method == "PUT" || method == "HEAD" || method == "OPTIONS" || method == "CONNECT" || method == "TRACE" || method == "PROPFIND" || method == "REPORT" {
			continue // only from the catch-all's Any
		}
		routes = append(routes, r)
	}
	documented := api.APIOperations()
	slices.Sort(routes)
	slices.Sort(documented)
	for _, r := range routes {
		if !slices.Contains(documented, r) {
			t.Errorf("route %s is not in the OpenAPI document", r)
		}
	}
	for _, d := range documented {
		if !slices.Contains(routes, d) {
			t.Errorf("documented %s is not a route", d)
		}
	}

	res := srv.NewClient(t).Get("/api/v1/openapi.json")
	if res.Status != 200 {
		t.Fatalf("GET /api/v1/openapi.json: %d", res.Status)
	}
	var doc struct {
		OpenAPI string                               `json:"openapi"`
		Paths   map[string]map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal([]byte(res.Body), &doc); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi = %q", doc.OpenAPI)
	}
	n := 0
	for path, ops := range doc.Paths {
		for method, op := range ops {
			n++
			if op["operationId"] == "" || op["responses"] == nil {
				t.Errorf("%s %s lacks operationId or responses", method, path)
			}
		}
	}
	if n != len(documented) {
		t.Errorf("document has %d operations, the table %d", n, len(documented))
	}
}
