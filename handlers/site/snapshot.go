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

// ShowStatusPage serves the public page from the snapshot.
func (h *Handler) ShowStatusPage(c echo.Context) error { return h.serveSnapshot(c, "/") }

// StatusJSON serves /api/v2/*.json, Statuspage-compatible (SPEC §6.4),
// to any origin.
func (h *Handler) StatusJSON(c echo.Context) error {
	c.Response().Header().Set("Access-Control-Allow-Origin", "*")
	key := "/api/v2/" + c.Param("*")
	snap, err := h.snapshot(c)
	if err != nil {
		return err
	}
	if _, ok := snap.Get(key); !ok {
		return c.JSON(http.StatusNotFound, map[string]any{"error": map[string]string{
			"code": "not_found", "message": "No such endpoint. See /api/v2/summary.json."}})
	}
	return h.serveSnapshot(c, key)
}

// Feed serves /history.atom and /history.rss.
func (h *Handler) Feed(c echo.Context) error { return h.serveSnapshot(c, c.Path()) }

// Badge serves /badge.svg, or a component's with ?component={id}.
func (h *Handler) Badge(c echo.Context) error {
	c.Response().Header().Set("Access-Control-Allow-Origin", "*")
	key := "/badge.svg"
	if raw := c.QueryParam("component"); raw != "" {
		id, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || id <= 0 {
			return echo.NewHTTPError(http.StatusNotFound, "There is no such component.")
		}
		key = public.BadgeKey(id)
	}
	return h.serveSnapshot(c, key)
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
		return h.public.Current(c.Request().Context())
	}
	return h.public.Latest(c.Request().Context())
}

// serveSnapshot answers from the current snapshot: a strong ETag (304 on
// If-None-Match), Cache-Control public, and the gzip copy when accepted.
func (h *Handler) serveSnapshot(c echo.Context, key string) error {
	snap, err := h.snapshot(c)
	if err != nil {
		return err
	}
	r, ok := snap.Get(key)
	if !ok {
		return echo.NewHTTPError(http.StatusNotFound, "There is nothing here.")
	}
	hd := c.Response().Header()
	hd.Set("ETag", r.ETag)
	hd.Set("Cache-Control", h.publicCacheControl)
	hd.Set("Vary", "Accept-Encoding")
	if etagMatch(c.Request().Header.Get("If-None-Match"), r.ETag) {
		return c.NoContent(http.StatusNotModified)
	}
	body := r.Body
	if acceptsGzip(c.Request().Header.Get("Accept-Encoding")) {
		hd.Set("Content-Encoding", "gzip")
		body = r.Gzip
	}
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

func acceptsGzip(header string) bool {
	for part := range strings.SplitSeq(header, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(name), "gzip") {
			return !strings.Contains(strings.ReplaceAll(params, " ", ""), "q=0") || strings.Contains(params, "q=0.")
		}
	}
	return false
}
