package web_test

import (
	"bufio"
	"fmt"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// TestPackageLayering reads the import lines of every Go file (tests
// included) under handlers/ and views/, and of the layers below them,
// straight from the source tree, and fails on any import STYLE.md §1
// forbids:
//
//   - handlers/serve is the shared package of the handlers; every other
//     package under handlers/ is an audience (admin, api, site). An
//     audience imports no other audience, and no views package but
//     views/layout and its own views/<audience>. handlers/serve imports
//     no audience and no views package but views/layout.
//   - No package under handlers/ imports web or cmd (web → handlers,
//     never back).
//   - views/layout is the shared views package; every other package under
//     views/ is an audience. Views import only the standard library,
//     github.com/a-h/templ and, for an audience, views/layout: no models,
//     no handlers, no sibling audience. views/layout imports no other
//     views package.
//   - models, notify, public, markdown, static, vault, schedule and sso import
//     nothing from handlers/, views/ or web (no upward imports).
//
// Packages added later under handlers/ or views/ are checked by the same
// rules without changing this test.
func TestPackageLayering(t *testing.T) {
	root := ".."
	imports, err := packageImports(root, layeredDirs...)
	if err != nil {
		t.Fatal(err)
	}
	if len(imports["handlers/serve"]) == 0 || len(imports["views/layout"]) == 0 {
		t.Fatalf("found no imports in handlers/serve or views/layout under %s: is the test run from web/?", root)
	}
	failures, err := layeringFailures(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range failures {
		t.Error(f)
	}
}

// layeredDirs are the folders whose packages TestPackageLayering checks.
var layeredDirs = []string{"handlers", "views", "models", "notify", "public", "markdown", "static", "vault", "schedule", "sso"}

// layeringFailures lists, for the module at root, each import that breaks
// the rules of TestPackageLayering, as "file imports path: why".
func layeringFailures(root string) ([]string, error) {
	module, err := modulePath(filepath.Join(root, "go.mod"))
	if err != nil {
		return nil, err
	}
	rel := func(imp string) (string, bool) {
		if imp == module {
			return "", true
		}
		return strings.CutPrefix(imp, module+"/")
	}
	under := func(pkg, dir string) bool { return pkg == dir || strings.HasPrefix(pkg, dir+"/") }
	stdlib := func(imp string) bool { return !strings.Contains(strings.Split(imp, "/")[0], ".") }
	templ := func(imp string) bool { return under(imp, "github.com/a-h/templ") }

	// audience is the audience a package under handlers/ or views/
	// serves: "admin" for handlers/admin; "" for the shared packages.
	audience := func(pkg string) string {
		parts := strings.Split(pkg, "/")
		if len(parts) < 2 || pkg == "handlers/serve" || pkg == "views/layout" {
			return ""
		}
		return parts[1]
	}

	// rule says why pkg may not import imp, or "" when it may.
	rule := func(pkg, imp string) string {
		target, internal := rel(imp)
		switch {
		case under(pkg, "handlers"):
			switch {
			case !internal:
				return ""
			case under(target, "web") || under(target, "cmd"):
				return "handlers never import web or cmd: web imports handlers"
			case under(target, "handlers") && target != "handlers/serve" && audience(target) != audience(pkg):
				if audience(pkg) == "" {
					return "handlers/serve is shared: it imports no audience package"
				}
				return "an audience package never imports another; what both need belongs in handlers/serve"
			case under(target, "views") && target != "views/layout" && audience(target) != audience(pkg):
				return "handlers import views/layout and their own audience's views only"
			}
			return ""
		case under(pkg, "views"):
			switch {
			case stdlib(imp) || templ(imp):
				return ""
			case target == "views/layout" && pkg != "views/layout":
				return ""
			case internal && under(target, "views") && audience(pkg) != "":
				return "an audience's views never import another's; what both print belongs in views/layout"
			}
			return "views import only templ, the standard library and views/layout"
		}
		if internal && (under(target, "handlers") || under(target, "views") || under(target, "web")) {
			return "no upward imports: " + pkg + " is below handlers, views and web"
		}
		return ""
	}

	imports, err := packageImports(root, layeredDirs...)
	if err != nil {
		return nil, err
	}
	var out []string
	for pkg, lines := range imports {
		for _, imp := range lines {
			if why := rule(pkg, imp.path); why != "" {
				out = append(out, fmt.Sprintf("%s imports %s: %s", imp.file, imp.path, why))
			}
		}
	}
	sort.Strings(out)
	return out, nil
}

// TestPackageLayeringRules checks the rules on imports made up for the
// purpose, so a rule that quietly allows everything fails here.
func TestPackageLayeringRules(t *testing.T) {
	root := t.TempDir()
	files := map[string]string{
		"go.mod":                     "module example.com/herald\n",
		"handlers/serve/serve.go":    `package serve; import _ "example.com/herald/handlers/admin"`,
		"handlers/admin/admin.go":    `package admin; import (_ "example.com/herald/handlers/site"; _ "example.com/herald/handlers/serve"; _ "example.com/herald/views/admin")`,
		"handlers/api/api.go":        `package api; import (_ "example.com/herald/web"; _ "example.com/herald/views/site")`,
		"handlers/site/site.go":      `package site; import (_ "example.com/herald/views/site"; _ "example.com/herald/views/layout"; _ "example.com/herald/models")`,
		"views/layout/layout.go":     `package layout; import (_ "strings"; _ "github.com/a-h/templ"; _ "example.com/herald/views/admin")`,
		"views/admin/admin.go":       `package admin; import (_ "example.com/herald/views/site"; _ "example.com/herald/views/layout")`,
		"views/site/site.go":         `package site; import (_ "example.com/herald/models"; _ "github.com/a-h/templ/runtime")`,
		"views/site/site_test.go":    `package site; import _ "github.com/labstack/echo/v4"`,
		"models/models.go":           `package models; import _ "example.com/herald/handlers/serve"`,
		"notify/notify.go":           `package notify; import _ "example.com/herald/models"`,
		"handlers/serve/serve_ok.go": `package serve; import (_ "example.com/herald/views/layout"; _ "example.com/herald/models")`,
	}
	for name, body := range files {
		path := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(body+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	failures, err := layeringFailures(root)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"handlers/admin/admin.go imports example.com/herald/handlers/site",
		"handlers/api/api.go imports example.com/herald/views/site",
		"handlers/api/api.go imports example.com/herald/web",
		"handlers/serve/serve.go imports example.com/herald/handlers/admin",
		"models/models.go imports example.com/herald/handlers/serve",
		"views/admin/admin.go imports example.com/herald/views/site",
		"views/layout/layout.go imports example.com/herald/views/admin",
		"views/site/site.go imports example.com/herald/models",
		"views/site/site_test.go imports github.com/labstack/echo/v4",
	}
	var got []string
	for _, f := range failures {
		got = append(got, strings.SplitN(f, ":", 2)[0])
	}
	if !slices.Equal(got, want) {
		t.Errorf("failures:\n%s\nwant exactly:\n%s", strings.Join(failures, "\n"), strings.Join(want, "\n"))
	}
}

type importLine struct{ file, path string }

// packageImports maps each package directory under dirs (relative to
// root, slash-separated) to the imports of its Go files. A folder that
// does not exist has no packages.
func packageImports(root string, dirs ...string) (map[string][]importLine, error) {
	out := map[string][]importLine{}
	fset := token.NewFileSet()
	for _, dir := range dirs {
		top := filepath.Join(root, dir)
		err := filepath.WalkDir(top, func(path string, d os.DirEntry, err error) error {
			if err != nil {
				if os.IsNotExist(err) && path == top {
					return filepath.SkipDir
				}
				return err
			}
			if d.IsDir() || !strings.HasSuffix(path, ".go") {
				return nil
			}
			f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
			if err != nil {
				return err
			}
			name, err := filepath.Rel(root, path)
			if err != nil {
				return err
			}
			name = filepath.ToSlash(name)
			pkg := filepath.ToSlash(filepath.Dir(name))
			for _, spec := range f.Imports {
				imp, err := strconv.Unquote(spec.Path.Value)
				if err != nil {
					return fmt.Errorf("%s: %w", name, err)
				}
				out[pkg] = append(out[pkg], importLine{file: name, path: imp})
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("read imports under %s: %w", dir, err)
		}
	}
	return out, nil
}

// modulePath reads the module line of go.mod.
func modulePath(gomod string) (string, error) {
	f, err := os.Open(gomod)
	if err != nil {
		return "", fmt.Errorf("read module path: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if m, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "module "); ok {
			return strings.TrimSpace(m), nil
		}
	}
	return "", fmt.Errorf("no module line in %s", gomod)
}
