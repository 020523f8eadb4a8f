// Package markdown turns the Markdown admins write (incident updates,
// maintenance messages, postmortems) into HTML that is safe to put in a page,
// and into plain text for feeds and notifications.
//
// Rendering is two walls deep: goldmark escapes raw HTML and drops dangerous
// link destinations, then bluemonday's UGC policy removes anything that is
// still not on its allow list (scripts, event handlers, style, and URLs whose
// scheme is not http, https or mailto).
//
// Images are a privacy matter rather than a safety one: each image a
// visitor's browser loads tells its host the visitor's address. An image
// stays only when it comes from Herald itself or from a host the page
// allows (see Images); any other becomes a link to it.
package markdown

import (
	"bytes"
	"html"
	"regexp"
	"slices"
	"strings"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/text"
)

// Renderer converts Markdown. Build one with New and share it: it holds no
// per-call state and is safe for concurrent use.
type Renderer struct {
	md     goldmark.Markdown
	policy *bluemonday.Policy
	images Images
	origin origin
}

// New builds a Renderer with GitHub-flavoured extensions (tables,
// strikethrough, autolinks, task lists). Raw HTML in the source is never
// passed through. Its images stay only when relative; WithImages allows
// more.
func New() *Renderer {
	md := goldmark.New(goldmark.WithExtensions(extension.GFM))

	policy := bluemonday.UGCPolicy()
	policy.AllowURLSchemes("http", "https", "mailto")
	policy.RequireNoFollowOnLinks(true)
	// Task list items render as disabled checkboxes; nothing else of
	// <input> is allowed.
	policy.AllowAttrs("type").Matching(regexp.MustCompile(`^checkbox$`)).OnElements("input")
	policy.AllowAttrs("checked", "disabled").OnElements("input")
	// The links that images become carry this rel; no other.
	policy.AllowAttrs("rel").Matching(regexp.MustCompile(`^` + linkRel + `$`)).OnElements("a")
	return &Renderer{md: md, policy: policy}
}

// WithImages returns a Renderer like r that keeps the images im allows.
// It is cheap (the parser and sanitiser are shared): make one per page
// or per rebuild.
func (r *Renderer) WithImages(im Images) *Renderer {
	c := *r
	c.images = Images{Origin: im.Origin, Hosts: slices.Clone(im.Hosts)}
	c.origin = parseOrigin(im.Origin)
	return &c
}

// Render returns src as sanitised HTML. An empty or blank src gives "".
func (r *Renderer) Render(src string) string {
	if strings.TrimSpace(src) == "" {
		return ""
	}
	source := []byte(src)
	doc := r.md.Parser().Parse(text.NewReader(source))
	r.filterImages(doc, source)
	var buf bytes.Buffer
	if err := r.md.Renderer().Render(&buf, source, doc); err != nil {
		// goldmark only fails when the writer does; a bytes.Buffer does
		// not. Fall back to the escaped source rather than losing it.
		return "<p>" + html.EscapeString(src) + "</p>"
	}
	return strings.TrimSpace(r.policy.Sanitize(buf.String()))
}

// Plain returns the text of src without Markdown syntax: paragraphs
// separated by a blank line, list items prefixed with "- ", links followed
// by their address. Suitable for feeds, Slack or Discord text.
func (r *Renderer) Plain(src string) string {
	if strings.TrimSpace(src) == "" {
		return ""
	}
	source := []byte(src)
	doc := r.md.Parser().Parse(text.NewReader(source))
	var w plainWriter
	w.walk(doc, source)
	return w.String()
}
