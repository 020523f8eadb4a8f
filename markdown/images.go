package markdown

import (
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/util"
	"golang.org/x/net/idna"
)

// Images says which images a Renderer shows. Every image a visitor's
// browser loads tells its host the visitor's address, so by default an
// image shows only when it comes from Herald itself; any other becomes a
// link to it, which the visitor may follow or not.
type Images struct {
	// Origin is Herald's public URL (scheme://host[:port], a path is
	// ignored): images addressed to it in full stay, like relative ones.
	Origin string
	// Hosts are the other hosts whose images stay, in lower-case ASCII
	// (punycode), as models keeps them: images.example.com, or
	// *.example.net for every subdomain of example.net (not example.net
	// itself), as a Content-Security-Policy host source means it. Their
	// images stay only over https on the standard port: what the page's
	// policy lets a browser load.
	Hosts []string
}

// linkRel marks the link an image becomes: no ranking credit, no
// window.opener, no Referer.
const linkRel = "nofollow noopener noreferrer"

// imageFate is what becomes of one image.
type imageFate int

const (
	keepImage imageFate = iota // an <img>
	keepHTTPS                  // an <img>, its protocol-relative address made https:
	asLink                     // a link to the image, named by its alt text
	asText                     // its alt text alone: the address is no link to offer
)

// origin is an Images.Origin taken apart.
type origin struct {
	scheme, hostport string
}

// parseOrigin reads Images.Origin; "" or an unreadable one is no origin.
func parseOrigin(raw string) origin {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return origin{}
	}
	return origin{scheme: u.Scheme, hostport: hostPort(u)}
}

// hostPort is u's host in lower case, with its port unless it is the
// scheme's default.
func hostPort(u *url.URL) string {
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port == "" || u.Scheme == "https" && port == "443" || u.Scheme == "http" && port == "80" {
		return host
	}
	return host + ":" + port
}

// fate decides what becomes of an image whose src the browser would get
// as dest (goldmark's escaped form).
func (r *Renderer) fate(dest string) imageFate {
	for i := 0; i < len(dest); i++ {
		// goldmark escapes spaces, controls, "\" and non-ASCII; anything
		// left of them is not a URL this code can reason about.
		if c := dest[i]; c <= ' ' || c >= utf8.RuneSelf || c == '\\' {
			return asText
		}
	}
	if dest == "" {
		return asText
	}
	u, err := url.Parse(dest)
	if err != nil {
		return asText
	}
	switch {
	case strings.HasPrefix(dest, "//"):
		// Protocol-relative: the browser takes the host from it (from
		// "///host" too, skipping slashes), so it is judged like https.
		if u.Host == "" {
			return asLink
		}
		u.Scheme = "https"
		if r.allowed(u) {
			return keepHTTPS
		}
		return asLink
	case u.Scheme == "":
		return keepImage // relative: Herald's own
	case u.Scheme != "http" && u.Scheme != "https":
		return asText // javascript:, data:, vbscript:, file:, mailto: …
	case u.Host == "" || strings.HasPrefix(strings.TrimPrefix(dest[len(u.Scheme)+1:], "//"), "/"):
		// "https:host/x.png", "https:///host/x.png": browsers read a host
		// in them that url.Parse does not; a link is harmless.
		return asLink
	case r.allowed(u):
		return keepImage
	}
	return asLink
}

// allowed reports whether an absolute http(s) image address may load:
// no user name (it hides the real host from a reader), and either
// Herald's own origin or https from a listed host on the standard port.
func (r *Renderer) allowed(u *url.URL) bool {
	if u.User != nil {
		return false
	}
	hp := hostPort(u)
	if r.origin.scheme != "" && u.Scheme == r.origin.scheme && hp == r.origin.hostport {
		return true
	}
	if u.Scheme != "https" || u.Port() != "" && u.Port() != "443" {
		return false
	}
	host := strings.ToLower(u.Hostname())
	for _, c := range host {
		if c >= utf8.RuneSelf {
			ascii, err := idna.Lookup.ToASCII(host)
			if err != nil {
				return false
			}
			host = ascii
			break
		}
	}
	for _, h := range r.images.Hosts {
		if suffix, ok := strings.CutPrefix(h, "*."); ok {
			if len(host) > len(suffix)+1 && strings.HasSuffix(host, "."+suffix) {
				return true
			}
		} else if host == h {
			return true
		}
	}
	return false
}

// filterImages rewrites doc's images that may not load: into links to
// them, named by their alt text (or their address when it is empty), or
// into their alt text alone.
func (r *Renderer) filterImages(doc ast.Node, source []byte) {
	var images []*ast.Image
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if img, ok := n.(*ast.Image); ok && entering {
			images = append(images, img)
		}
		return ast.WalkContinue, nil
	})
	for _, img := range images {
		dest := util.URLEscape(img.Destination, true)
		f := r.fate(string(dest))
		switch f {
		case keepImage:
			continue
		case keepHTTPS:
			// The renderer escapes the destination: prefix the original,
			// so the browser gets "https:" + dest.
			img.Destination = append([]byte("https:"), img.Destination...)
			continue
		}
		if f == asLink && insideLink(img) {
			f = asText // a link inside a link is no HTML
		}
		parent := img.Parent()
		if f == asText {
			for c := img.FirstChild(); c != nil; c = img.FirstChild() {
				parent.InsertBefore(parent, img, c)
			}
			parent.RemoveChild(parent, img)
			continue
		}
		link := ast.NewLink()
		link.Destination = img.Destination
		link.Title = img.Title
		link.SetAttributeString("rel", []byte(linkRel))
		empty := !hasText(img, source)
		for c := img.FirstChild(); c != nil; c = img.FirstChild() {
			link.AppendChild(link, c)
		}
		if empty {
			// No alt text: the address names the link. Escaped here and
			// written as it is (a "code" string), so no entity in it is
			// read as markup.
			name := ast.NewString(util.EscapeHTML(dest))
			name.SetCode(true)
			link.AppendChild(link, name)
		}
		parent.ReplaceChild(parent, img, link)
	}
}

// hasText reports whether n holds any text but spaces.
func hasText(n ast.Node, source []byte) bool {
	found := false
	_ = ast.Walk(n, func(c ast.Node, entering bool) (ast.WalkStatus, error) {
		var v []byte
		switch c := c.(type) {
		case *ast.Text:
			v = c.Value(source)
		case *ast.String:
			v = c.Value
		}
		if entering && strings.TrimSpace(string(v)) != "" {
			found = true
			return ast.WalkStop, nil
		}
		return ast.WalkContinue, nil
	})
	return found
}

// insideLink reports whether n is part of a link's text.
func insideLink(n ast.Node) bool {
	for p := n.Parent(); p != nil; p = p.Parent() {
		switch p.(type) {
		case *ast.Link, *ast.AutoLink:
			return true
		}
	}
	return false
}
