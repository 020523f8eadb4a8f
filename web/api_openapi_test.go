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

	// Pages (issue 16): page_ids on users and invitations, null for every
	// page; page_id on the page settings; install-wide endpoints say so.
	var full struct {
		Info  struct{ Description string } `json:"info"`
		Paths map[string]map[string]struct {
			Summary    string `json:"summary"`
			Parameters []struct {
				Name string `json:"name"`
			} `json:"parameters"`
			RequestBody struct {
				Content map[string]struct {
					Schema struct {
						Properties map[string]map[string]any `json:"properties"`
					} `json:"schema"`
				} `json:"content"`
			} `json:"requestBody"`
		} `json:"paths"`
	}
	if err := json.Unmarshal([]byte(res.Body), &full); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(full.Info.Description, "install-wide") || !strings.Contains(full.Info.Description, "the same answer as for a page that does not exist") {
		t.Errorf("info does not explain page and install-wide tokens: %s", full.Info.Description)
	}
	for _, op := range []struct{ path, method string }{{"/users", "post"}, {"/users/{id}", "patch"}} {
		prop := full.Paths[op.path][op.method].RequestBody.Content["application/json"].Schema.Properties["page_ids"]
		if types, _ := prop["type"].([]any); len(types) != 2 || types[0] != "array" || types[1] != "null" {
			t.Errorf("%s %s page_ids schema: %v", op.method, op.path, prop)
		}
	}
	for _, op := range []struct{ path, method string }{{"/users", "get"}, {"/users", "post"}, {"/users/{id}", "patch"}, {"/users/{id}", "delete"},
		{"/pages", "post"}, {"/pages/{id}", "patch"}, {"/pages/{id}", "delete"}} {
		if !strings.Contains(full.Paths[op.path][op.method].Summary, "install-wide tokens") {
			t.Errorf("%s %s does not say it needs an install-wide token", op.method, op.path)
		}
	}
	for _, method := range []string{"get", "patch"} {
		found := false
		for _, p := range full.Paths["/page"][method].Parameters {
			found = found || p.Name == "page_id"
		}
		if !found {
			t.Errorf("%s /page takes no page_id", method)
		}
	}
}
