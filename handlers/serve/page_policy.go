package serve

import (
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/heraldstatus/herald/markdown"
	"github.com/heraldstatus/herald/models"
	"github.com/labstack/echo/v4"
)

// PageMarkdown is the Markdown renderer for the messages of page p: it
// shows images from Herald itself and from the hosts p allows, and turns
// any other image into a link. A nil p allows Herald's own images only.
func (b *Base) PageMarkdown(p *models.Page) *markdown.Renderer {
	im := markdown.Images{}
	if b.Store != nil {
		im.Origin = b.Store.BaseURL()
	}
	if p != nil {
		im.Hosts = p.ImageHostList()
	}
	return b.Markdown.WithImages(im)
}

// ContentSecurityPolicy is the Content-Security-Policy of Herald's
// answers: scripts, styles and everything else from Herald alone, no
// framing; images from Herald and from imageSources (such as
// https://images.example.com). No data: images: nothing of Herald's
// needs them (the favicon and badges are served as files).
func ContentSecurityPolicy(imageSources ...string) string {
	img := "'self'"
	for _, s := range imageSources {
		img += " " + s
	}
	return "default-src 'self'; img-src " + img +
		"; style-src 'self'; script-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
}

// cspSource is what a host source may hold here: a header value with
// nothing that could end the directive (";", ",", spaces), whatever the
// database held.
var cspSource = regexp.MustCompile(`^https://[a-z0-9*][a-z0-9.-]*(:[0-9]{1,5})?$`)

// PageImageSources are the image sources of page p besides Herald
// itself: https://host for each host p allows (https://*.example.net for
// a wildcard), and, with logo, the origin of p's logo.
func PageImageSources(p *models.Page, logo bool) []string {
	var out []string
	add := func(s string) {
		if cspSource.MatchString(s) && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	if logo && p.LogoURL != "" {
		if u, err := url.Parse(p.LogoURL); err == nil && u.Scheme == "https" {
			add("https://" + strings.ToLower(u.Host))
		}
	}
	for _, h := range p.ImageHostList() {
		add("https://" + h)
	}
	return out
}

// SetPagePolicy gives the answer a Content-Security-Policy that lets it
// show page p's images (see PageImageSources), in place of the default
// one, which allows Herald's own images only.
func SetPagePolicy(c echo.Context, p *models.Page, logo bool) {
	c.Response().Header().Set("Content-Security-Policy", ContentSecurityPolicy(PageImageSources(p, logo)...))
}
