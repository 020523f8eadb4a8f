package site

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/heraldstatus/herald/handlers/serve"
	"github.com/heraldstatus/herald/public"
	"github.com/labstack/echo/v4"
)

// Public is the snapshot manager behind the public page, JSON, feeds and
// badges; the server runs it.
func (h *Handler) Public() *public.Manager { return h.public }

// ShowStatusPage serves the public page from the snapshot, with the
// Content-Security-Policy of the page it was built from: its images
// and the policy that lets them load change together.
func (h *Handler) ShowStatusPage(c echo.Context) error {
	snap, err := h.snapshot(c)
	if err != nil {
		return err
	}
	r, ok := snap.Get("/")
	if !ok {
		return echo.NewHTTPError(http.StatusNotFound, "There is nothing here.")
	}
	serve.SetPagePolicy(c, &snap.Data.Page, true)
	return h.serveResource(c, r)
}

// StatusJSON serves /api/v2/*.json, Statuspage-compatible (SPEC §6.4),
// to any origin.
func (h *Handler) StatusJSON(c echo.Context) error {
	allowAnyOrigin(c)
	snap, err := h.snapshot(c)
	if err != nil {
		return err
	}
	r, ok := snap.Get("/api/v2/" + c.Param("*"))
	if !ok {
		return c.JSON(http.StatusNotFound, map[string]any{"error": map[string]string{
			"code": "not_found", "message": "No such endpoint. See " + pagePath(c, "/api/v2/summary.json") + "."}})
	}
	return h.serveResource(c, r)
}

// Feed serves /history.atom and /history.rss, to any origin; with
// ?component={id}, the feed of one visible component. An unknown, hidden
// or malformed component is a plain-text 404: a feed reader has no use
// for the HTML error page.
func (h *Handler) Feed(c echo.Context) error {
	allowAnyOrigin(c)
	if !c.QueryParams().Has("component") {
		return h.serveSnapshot(c, feedPath(c))
	}
	id, err := strconv.ParseInt(c.QueryParam("component"), 10, 64)
	if err != nil || id <= 0 {
		return unknownComponentFeed(c)
	}
	snap, err := h.snapshot(c)
	if err != nil {
		return err
	}
	r, ok := snap.Get(public.ComponentFeedKey(feedPath(c), id))
	if !ok {
		return unknownComponentFeed(c)
	}
	return h.serveResource(c, r)
}

func unknownComponentFeed(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "no-cache")
	return c.String(http.StatusNotFound, "There is no such component on this status page.\n")
}

// Calendar serves /maintenance.ics, the maintenance windows as an
// iCalendar subscription (RFC 5545), to any origin.
func (h *Handler) Calendar(c echo.Context) error {
	allowAnyOrigin(c)
	return h.serveSnapshot(c, public.CalendarPath)
}

// Badge serves /badge.svg, or a component's with ?component={id}, to any
// origin. An unknown or hidden component gets a grey "unknown" badge with
// status 404, so an embedded image still shows something.
func (h *Handler) Badge(c echo.Context) error {
	allowAnyOrigin(c)
	key := "/badge.svg"
	if raw := c.QueryParam("component"); raw != "" {
		id, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || id <= 0 {
			return unknownBadge(c)
		}
		key = public.BadgeKey(id)
	}
	snap, err := h.snapshot(c)
	if err != nil {
		return err
	}
	r, ok := snap.Get(key)
	if !ok {
		return unknownBadge(c)
	}
	return h.serveResource(c, r)
}

// unknownBadge answers the badge of a component that does not exist.
func unknownBadge(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "no-cache")
	return c.Blob(http.StatusNotFound, "image/svg+xml", public.UnknownBadge())
}

// Favicon serves /favicon.svg, in the overall status colour.
func (h *Handler) Favicon(c echo.Context) error { return h.serveSnapshot(c, "/favicon.svg") }

// FaviconICO sends browsers that ask for /favicon.ico on their own to
// the SVG.
func (h *Handler) FaviconICO(c echo.Context) error {
	return c.Redirect(http.StatusMovedPermanently, pagePath(c, "/favicon.svg"))
}

// Preflight answers a CORS preflight (OPTIONS) for the cross-origin
// public resources: /api/v2, the feeds and the badges are read-only, so
// any origin may GET or HEAD them with any request headers.
func (h *Handler) Preflight(c echo.Context) error {
	allowAnyOrigin(c)
	hd := c.Response().Header()
	hd.Set("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS")
	if req := c.Request().Header.Get("Access-Control-Request-Headers"); req != "" {
		hd.Set("Access-Control-Allow-Headers", req)
	}
	hd.Set("Access-Control-Max-Age", "86400")
	return c.NoContent(http.StatusNoContent)
}

// allowAnyOrigin lets scripts on any site read the response and its ETag.
func allowAnyOrigin(c echo.Context) {
	hd := c.Response().Header()
	hd.Set("Access-Control-Allow-Origin", "*")
	hd.Set("Access-Control-Expose-Headers", "ETag")
}

// snapshot is the public snapshot for this request. A signed-in admin
// (who may have just changed something) waits for a rebuild that shows
// their change; visitors get the latest finished one at once, so an
// outage's crowd never queues behind a rebuild (a change reaches them
// within the rebuild time, well under a second). Neither waits more than
// public.Options.FreshWait while there is a snapshot to fall back on, so
// a database that does not answer never holds up the public page.
func (h *Handler) snapshot(c echo.Context) (*public.Snapshot, error) {
	if serve.HasSessionCookie(c) {
		return h.public.Current(c.Request().Context(), pageID(c))
	}
	return h.public.Latest(c.Request().Context(), pageID(c))
}

// serveSnapshot answers the resource key from the current snapshot.
func (h *Handler) serveSnapshot(c echo.Context, key string) error {
	snap, err := h.snapshot(c)
	if err != nil {
		return err
	}
	r, ok := snap.Get(key)
	if !ok {
		return echo.NewHTTPError(http.StatusNotFound, "There is nothing here.")
	}
	return h.serveResource(c, r)
}

// serveResource answers r: the gzip copy when the client accepts it,
// each encoding with its own strong ETag (304 on If-None-Match),
// Cache-Control public and a Content-Length.
func (h *Handler) serveResource(c echo.Context, r *public.Resource) error {
	body, etag := r.Body, r.ETag
	gz := acceptsGzip(c.Request().Header.Get("Accept-Encoding"))
	if gz {
		body, etag = r.Gzip, r.GzipETag
	}
	hd := c.Response().Header()
	hd.Set("ETag", etag)
	hd.Set("Cache-Control", h.publicCacheControl)
	hd.Set("Vary", "Accept-Encoding")
	if etagMatch(c.Request().Header.Get("If-None-Match"), etag) {
		return c.NoContent(http.StatusNotModified)
	}
	if gz {
		hd.Set("Content-Encoding", "gzip")
	}
	hd.Set("Content-Length", strconv.Itoa(len(body)))
	return c.Blob(http.StatusOK, r.ContentType, body)
}

// etagMatch implements If-None-Match's weak comparison.
func etagMatch(header, etag string) bool {
	for part := range strings.SplitSeq(header, ",") {
		part = strings.TrimPrefix(strings.TrimSpace(part), "W/")
		if part == "*" || part == etag {
			return true
		}
	}
	return false
}

// acceptsGzip reads Accept-Encoding (RFC 9110 §12.5.3): gzip (or x-gzip,
// or *) with a q-value above zero.
func acceptsGzip(header string) bool {
	star := false
	for part := range strings.SplitSeq(header, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		name = strings.ToLower(strings.TrimSpace(name))
		switch name {
		case "gzip", "x-gzip":
			return qValue(params) > 0
		case "*":
			star = qValue(params) > 0
		}
	}
	return star
}

// qValue is the q parameter of an Accept-Encoding entry; absent is 1, an
// unreadable one 0.
func qValue(params string) float64 {
	for p := range strings.SplitSeq(params, ";") {
		k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
		if ok && strings.EqualFold(strings.TrimSpace(k), "q") {
			q, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil || q < 0 {
				return 0
			}
			return q
		}
	}
	return 1
}

// feedPath is the snapshot key of the feed the route names: its path on
// the page (/history.atom or /history.rss), whatever the prefix.
func feedPath(c echo.Context) string { return strings.TrimPrefix(c.Path(), "/s/:slug") }
