// Package static embeds Herald's stylesheet and scripts and serves them under
// fingerprinted URLs, so browsers may cache them for a year.
package static

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed css js
var files embed.FS

// Assets maps asset names to fingerprinted URLs and serves them.
type Assets struct {
	urls  map[string]string // "css/herald.css" → "/static/css/herald.3f2a1c9d.css"
	byURL map[string]string // reverse
}

// New fingerprints every embedded file.
func New() (*Assets, error) {
	a := &Assets{urls: map[string]string{}, byURL: map[string]string{}}
	err := fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(files, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		ext := path.Ext(p)
		url := "/static/" + strings.TrimSuffix(p, ext) + "." + hex.EncodeToString(sum[:4]) + ext
		a.urls[p] = url
		a.byURL[url] = p
		return nil
	})
	return a, err
}

// URL returns the fingerprinted URL of name, e.g. "css/herald.css".
func (a *Assets) URL(name string) string {
	if u, ok := a.urls[name]; ok {
		return u
	}
	return "/static/" + name
}

// ServeHTTP serves an asset by its fingerprinted URL with a one-year cache.
func (a *Assets) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name, ok := a.byURL[r.URL.Path]
	if !ok {
		http.NotFound(w, r)
		return
	}
	b, err := fs.ReadFile(files, name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(b))
}
