package site

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/a-h/templ"
	"github.com/heraldstatus/herald/models"
	"github.com/labstack/echo/v4"
)

// pageKey is the echo context key of the page a public request is for.
const pageKey = "herald.site.page"

// pageContext is the page a public request is for and the path its URLs
// start with on this request ("" or "/s/{slug}").
type pageContext struct {
	Ref    models.PageRef
	Prefix string
}

// current is the page this request is for: the one ServeHost or
// ServeSlug resolved, else the default page.
func current(c echo.Context) pageContext {
	if p, ok := c.Get(pageKey).(pageContext); ok {
		return p
	}
	return pageContext{Ref: models.PageRef{ID: models.DefaultPageID}}
}

// pageID is the id of the page this request is for.
func pageID(c echo.Context) int64 { return current(c).Ref.ID }

// pagePath is p (starting with /) on the page this request is for: under
// its prefix when it is served at /s/{slug}/.
func pagePath(c echo.Context, p string) string { return current(c).Prefix + p }

// pageIndex finds pages by slug and host name. It is read again after
// any change to public data (a page's slug or host name may have
// changed), not on every request: the public hot path asks the database
// nothing and takes no lock.
type pageIndex struct {
	gen int64
	// retryAt, when set, is when to read the list again: the last read
	// failed.
	retryAt  time.Time
	bySlug   map[string]models.PageRef
	byDomain map[string]models.PageRef
	// access is who may read each page, by page id.
	access map[int64]models.PageAccess
}

// pageIndexes holds the current pageIndex; mu makes one reload at a time.
type pageIndexes struct {
	cur atomic.Pointer[pageIndex]
	mu  sync.Mutex
	// pending is closed when the background reload under way ends; nil
	// when there is none.
	pendingMu sync.Mutex
	pending   chan struct{}
}

// indexFreshWait is how long the request that finds the page list stale
// waits for its reload before it takes the previous list; requests
// arriving meanwhile take the previous one at once. Like the snapshots
// (public.Options.FreshWait), a database that does not answer never
// holds up a visitor for long.
const indexFreshWait = 250 * time.Millisecond

// indexReloadTimeout bounds a background reload of the page list.
const indexReloadTimeout = 10 * time.Second

func (h *Handler) pages(ctx context.Context) (*pageIndex, error) {
	gen := h.Store.Generation()
	prev := h.index.cur.Load()
	if prev.current(gen) {
		return prev, nil
	}
	if prev == nil {
		// The first list: nothing to fall back on, so wait for it.
		h.index.mu.Lock()
		defer h.index.mu.Unlock()
		if ix := h.index.cur.Load(); ix != nil {
			return ix, nil
		}
		return h.reloadPages(ctx, gen)
	}
	done, started := h.startPagesReload(ctx, gen)
	if !started {
		return prev, nil
	}
	timer := time.NewTimer(indexFreshWait)
	defer timer.Stop()
	select {
	case <-done:
	case <-timer.C:
	case <-ctx.Done():
	}
	return h.index.cur.Load(), nil
}

// startPagesReload reloads the page list on its own context, unless a
// reload is under way, and returns a channel closed when it ends;
// started says whether this call started it.
func (h *Handler) startPagesReload(ctx context.Context, gen int64) (<-chan struct{}, bool) {
	h.index.pendingMu.Lock()
	defer h.index.pendingMu.Unlock()
	if h.index.pending != nil {
		return h.index.pending, false
	}
	ch := make(chan struct{})
	h.index.pending = ch
	go func() {
		defer func() {
			h.index.pendingMu.Lock()
			h.index.pending = nil
			h.index.pendingMu.Unlock()
			close(ch)
		}()
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), indexReloadTimeout)
		defer cancel()
		h.index.mu.Lock()
		defer h.index.mu.Unlock()
		if h.index.cur.Load().current(gen) {
			return
		}
		if _, err := h.reloadPages(rctx, gen); err != nil {
			// A database that does not answer keeps the pages where they
			// were, their snapshots still serving (see public.Manager);
			// the list is read again in a few seconds.
			h.Logger.Warn("reload the list of status pages; using the previous one", "error", err)
			if prev := h.index.cur.Load(); prev != nil {
				stale := *prev
				stale.gen, stale.retryAt = gen, time.Now().Add(5*time.Second)
				h.index.cur.Store(&stale)
			}
		}
	}()
	return ch, true
}

// reloadPages reads the page list as of generation gen; the caller holds
// h.index.mu.
func (h *Handler) reloadPages(ctx context.Context, gen int64) (*pageIndex, error) {
	refs, err := h.Store.PageRefs(models.ReadOnly(ctx))
	if err != nil {
		return nil, err
	}
	access, err := h.Store.PagesAccess(models.ReadOnly(ctx))
	if err != nil {
		return nil, err
	}
	ix := &pageIndex{gen: gen, bySlug: map[string]models.PageRef{}, byDomain: map[string]models.PageRef{}, access: access}
	for _, r := range refs {
		ix.bySlug[r.Slug] = r
		if r.Domain != "" {
			ix.byDomain[r.Domain] = r
		}
	}
	h.index.cur.Store(ix)
	return ix, nil
}

// current reports whether ix reflects every change up to gen.
func (ix *pageIndex) current(gen int64) bool {
	return ix != nil && ix.gen == gen && (ix.retryAt.IsZero() || time.Now().Before(ix.retryAt))
}

func (ix *pageIndex) slug(s string) (models.PageRef, bool) {
	r, ok := ix.bySlug[s]
	return r, ok
}

func (ix *pageIndex) domain(d string) (models.PageRef, bool) {
	r, ok := ix.byDomain[d]
	return r, ok
}

// requestHost is the request's host name, lower case, without port.
func requestHost(r *http.Request) string {
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	return strings.TrimSuffix(strings.ToLower(host), ".")
}

// ServeHost is the middleware of the public routes at /: a request whose
// Host is a page's own host name is for that page, any other for the
// default page.
func (h *Handler) ServeHost(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		ix, err := h.pages(c.Request().Context())
		if err != nil {
			return err
		}
		if r, ok := ix.domain(requestHost(c.Request())); ok {
			c.Set(pageKey, pageContext{Ref: r})
		}
		return next(c)
	}
}

// ServeSlug is the middleware of the public routes under /s/{slug}: the
// page with that slug, or the 404 page. The default page lives at /, and
// a page with its own host name there: /s/{slug}/… redirects to them.
func (h *Handler) ServeSlug(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		ix, err := h.pages(c.Request().Context())
		if err != nil {
			return err
		}
		r, ok := ix.slug(c.Param("slug"))
		// A page's own host name serves that page alone: another page's
		// /s/{slug}/ is not there.
		if host, own := ix.domain(requestHost(c.Request())); own && (!ok || host.ID != r.ID) {
			ok = false
		}
		if !ok {
			return noPageHere()
		}
		if r.Domain != "" && requestHost(c.Request()) != r.Domain {
			// The redirect names the private page's host name: only to
			// a visitor who may read the page; to others the address is
			// as unknown as a slug no page has.
			if a, ok := ix.access[r.ID]; ok && !a.Public {
				c.Set(pageKey, pageContext{Ref: r, Prefix: r.Prefix()})
				how, err := h.hasAccess(c, a)
				if err != nil {
					return err
				}
				if how == "" {
					return noPageHere()
				}
			}
		}
		if r.ID == models.DefaultPageID || r.Domain != "" {
			rest := strings.TrimPrefix(c.Request().URL.Path, "/s/"+r.Slug)
			if rest == "" {
				rest = "/"
			}
			if q := c.Request().URL.RawQuery; q != "" {
				rest += "?" + q
			}
			if r.Domain != "" {
				rest = "https://" + r.Domain + rest
			}
			return c.Redirect(http.StatusMovedPermanently, rest)
		}
		c.Set(pageKey, pageContext{Ref: r, Prefix: r.Prefix()})
		return next(c)
	}
}

// noPageHere is the answer for an address no page is served at.
func noPageHere() error {
	return echo.NewHTTPError(http.StatusNotFound, "There is no status page at this address.")
}

// ServeSubscriber is the middleware of the subscription links
// (/subscriptions/{token}…): their answers show the subscriber's page. A
// link that matches no subscriber leaves the default page; the handler
// answers it.
func (h *Handler) ServeSubscriber(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if r, err := h.Store.SubscriptionLinkPage(models.ReadOnly(c.Request().Context()), c.Param("token")); err == nil {
			c.Set(pageKey, pageContext{Ref: r, Prefix: r.Prefix()})
		}
		return next(c)
	}
}

// RedirectToSlash sends /s/{slug} to /s/{slug}/.
func (h *Handler) RedirectToSlash(c echo.Context) error {
	return c.Redirect(http.StatusMovedPermanently, pagePath(c, "/"))
}

// render renders comp with its links on the request's page (see
// prefixLinks).
func (h *Handler) render(c echo.Context, status int, comp templ.Component) error {
	var buf bytes.Buffer
	if err := comp.Render(c.Request().Context(), &buf); err != nil {
		return err
	}
	return c.HTMLBlob(status, prefixLinks(buf.Bytes(), current(c).Prefix))
}

// prefixLinks puts prefix before every site-relative link of html
// (href, src and action values starting with one /), so the templates,
// written for the page at /, serve a page at /s/{slug}/ too. Links that
// are the same for every page (see sitewidePaths) and to other hosts
// (//…) stay as they are.
// Values written by templates are escaped, so a quote inside text never
// looks like an attribute.
func prefixLinks(html []byte, prefix string) []byte {
	if prefix == "" {
		return html
	}
	var out bytes.Buffer
	out.Grow(len(html) + len(html)/20)
	for {
		k := bytes.Index(html, []byte(`="/`))
		if k < 0 {
			out.Write(html)
			return out.Bytes()
		}
		j := k + 2 // the value's first /
		out.Write(html[:j])
		rest := html[j:]
		if linkAttr(html[:k]) && !sitewide(rest) {
			out.WriteString(prefix)
		}
		html = rest
	}
}

// sitewidePaths start the links that are the same for every page:
// Herald's assets, the subscription links, the admin and sign-in.
var sitewidePaths = [][]byte{[]byte("//"), []byte("/static/"), []byte("/subscriptions/"), []byte("/admin"),
	[]byte("/login"), []byte("/api/v1/"), []byte("/s/")}

// sitewide reports whether the link that starts value is one of them.
func sitewide(value []byte) bool {
	for _, p := range sitewidePaths {
		if bytes.HasPrefix(value, p) {
			return true
		}
	}
	return false
}

// linkAttr reports whether before ends with the name of an attribute
// holding a link.
func linkAttr(before []byte) bool {
	for _, a := range []string{" href", " src", " action"} {
		if bytes.HasSuffix(before, []byte(a)) {
			return true
		}
	}
	return false
}
