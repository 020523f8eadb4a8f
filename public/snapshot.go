package public

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/heraldstatus/herald/markdown"
	"github.com/heraldstatus/herald/models"
)

// Resource is one public response, ready to send: the body, its gzip
// copy and a strong ETag for each (the two encodings are different
// representations, so they never share one).
type Resource struct {
	ContentType string
	Body        []byte
	Gzip        []byte
	ETag        string
	GzipETag    string
}

// compressor gzips the resources of one build with one reused writer: a
// fresh flate writer allocates about a megabyte, and a build has dozens
// of resources.
type compressor struct {
	w   *gzip.Writer
	buf bytes.Buffer
}

func (c *compressor) resource(contentType string, body []byte) (*Resource, error) {
	c.buf.Reset()
	if c.w == nil {
		w, err := gzip.NewWriterLevel(&c.buf, gzip.DefaultCompression)
		if err != nil {
			return nil, err
		}
		c.w = w
	} else {
		c.w.Reset(&c.buf)
	}
	if _, err := c.w.Write(body); err != nil {
		return nil, err
	}
	if err := c.w.Close(); err != nil {
		return nil, err
	}
	hash := sha256.Sum256(body)
	sum := hex.EncodeToString(hash[:16])
	return &Resource{ContentType: contentType, Body: body, Gzip: bytes.Clone(c.buf.Bytes()),
		ETag: `"` + sum + `"`, GzipETag: `"` + sum + `-gzip"`}, nil
}

// Snapshot is every public response of a page at one moment.
type Snapshot struct {
	// Generation is the store's change count the snapshot reflects.
	Generation int64
	BuiltAt    time.Time
	Took       time.Duration
	Data       *Data
	resources  map[string]*Resource
}

// Get returns the resource for a path such as "/", "/api/v2/summary.json"
// or "/badge.svg?component=3".
func (s *Snapshot) Get(path string) (*Resource, bool) {
	r, ok := s.resources[path]
	return r, ok
}

// BadgeKey is the snapshot path of a component's badge.
func BadgeKey(componentID int64) string {
	return "/badge.svg?component=" + strconv.FormatInt(componentID, 10)
}

// HTMLFunc renders the public HTML page of d.
type HTMLFunc func(ctx context.Context, d *Data) ([]byte, error)

// Options configure a Manager.
type Options struct {
	Store    *models.Store
	Markdown *markdown.Renderer
	HTML     HTMLFunc
	Logger   *slog.Logger
	// Refresh rebuilds even without changes, for what moves with the clock
	// (today's uptime cell, "upcoming" windows) (default 1 min).
	Refresh time.Duration
	// BuildTimeout bounds one rebuild's wait on the database (default
	// 10 s).
	BuildTimeout time.Duration
	// FreshWait is how long a request that finds the snapshot stale waits
	// for the rebuild before it takes the previous snapshot (default
	// 500 ms): long enough for a rebuild on a healthy database, short
	// enough that a stalled database never holds up the page.
	FreshWait time.Duration
}

// Manager keeps the current snapshot of every page someone asked for and
// rebuilds a page's when its data changes. A page's first snapshot is
// built on the first request for it, so pages nobody visits cost no
// memory; a write to one page leaves the snapshots of the others alone
// (see models.Store.PageGeneration).
type Manager struct {
	opts   Options
	builds atomic.Int64
	mu     sync.Mutex
	pages  map[int64]*pageSnapshots
}

// NewManager returns a Manager; call Run to keep it fresh.
func NewManager(o Options) *Manager {
	if o.Refresh <= 0 {
		o.Refresh = time.Minute
	}
	if o.BuildTimeout <= 0 {
		o.BuildTimeout = 10 * time.Second
	}
	if o.FreshWait <= 0 {
		o.FreshWait = 500 * time.Millisecond
	}
	if o.Markdown == nil {
		o.Markdown = markdown.New()
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Manager{opts: o, pages: map[int64]*pageSnapshots{}}
}

// page is the snapshots of page id, created (empty) on first use.
func (m *Manager) page(id int64) *pageSnapshots {
	m.mu.Lock()
	defer m.mu.Unlock()
	p := m.pages[id]
	if p == nil {
		p = &pageSnapshots{m: m, pageID: id}
		m.pages[id] = p
	}
	return p
}

// known returns the pages with snapshots (or being built), by id.
func (m *Manager) known() []*pageSnapshots {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]*pageSnapshots, 0, len(m.pages))
	for _, p := range m.pages {
		out = append(out, p)
	}
	return out
}

// forget drops page id's snapshots (the page is gone).
func (m *Manager) forget(p *pageSnapshots) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.pages[p.pageID] == p {
		delete(m.pages, p.pageID)
	}
}

// Builds counts rebuilds since start, of every page, for tests and
// metrics.
func (m *Manager) Builds() int64 { return m.builds.Load() }

// PageBuilds counts the rebuilds of page id's snapshot since start.
func (m *Manager) PageBuilds(id int64) int64 {
	m.mu.Lock()
	p := m.pages[id]
	m.mu.Unlock()
	if p == nil {
		return 0
	}
	return p.builds.Load()
}

// PageIDs lists the pages with a snapshot in memory (or being built).
func (m *Manager) PageIDs() []int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	ids := make([]int64, 0, len(m.pages))
	for id := range m.pages {
		ids = append(ids, id)
	}
	return ids
}

// Pages is how many pages have a snapshot in memory.
func (m *Manager) Pages() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.pages)
}

// Current returns a snapshot of page id that reflects every change this
// process knows of, as far as the database lets it: when a change has
// landed since the last build it waits, up to FreshWait, for a rebuild
// (one, however many callers are waiting: they share it), then takes the
// previous snapshot if the rebuild has not finished. Admins use it to
// see their own writes at once; visitors use Latest.
//
// Only the very first build, when there is no snapshot to fall back on,
// waits for the database, up to BuildTimeout; if it fails, so does
// Current.
func (m *Manager) Current(ctx context.Context, pageID int64) (*Snapshot, error) {
	return m.page(pageID).current(ctx)
}

// Latest returns a snapshot of page id for a visitor without making a
// crowd queue: when the snapshot is stale, the first request to notice
// starts a rebuild and waits for it up to FreshWait (so a visitor right
// after a write sees it), while requests arriving during that rebuild
// get the previous snapshot at once. Each change thus costs one rebuild,
// however many requests arrive, and a database that does not answer
// holds up no visitor for longer than FreshWait.
func (m *Manager) Latest(ctx context.Context, pageID int64) (*Snapshot, error) {
	return m.page(pageID).latest(ctx)
}

// Peek returns the current snapshot of page id, or nil, without building
// one.
func (m *Manager) Peek(pageID int64) *Snapshot {
	m.mu.Lock()
	p := m.pages[pageID]
	m.mu.Unlock()
	if p == nil {
		return nil
	}
	return p.cur.Load()
}

// Rebuild makes a new snapshot of page id now, waiting on the database
// for up to BuildTimeout.
func (m *Manager) Rebuild(ctx context.Context, pageID int64) (*Snapshot, error) {
	return m.page(pageID).rebuild(ctx)
}

// Run rebuilds the snapshot of every page in memory every Refresh, for
// what moves with the clock alone (today's uptime cell, windows that
// become due), and returns when ctx ends, once rebuilds under way have
// finished. Changes need no help from Run: the first request after a
// change starts a rebuild (see Latest). A page that no longer exists is
// dropped.
func (m *Manager) Run(ctx context.Context) {
	defer func() {
		for _, p := range m.known() {
			p.background.Wait()
		}
	}()
	refresh := time.NewTicker(m.opts.Refresh)
	defer refresh.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-refresh.C:
		}
		for _, p := range m.known() {
			_, err := p.rebuild(ctx)
			switch {
			case err == nil || ctx.Err() != nil:
			case errors.Is(err, models.ErrNotFound):
				m.forget(p)
			default:
				m.opts.Logger.Error("rebuild public snapshot", "page_id", p.pageID, "error", err)
			}
		}
	}
}

// pageSnapshots keeps one page's current snapshot.
type pageSnapshots struct {
	m      *Manager
	pageID int64
	cur    atomic.Pointer[Snapshot]
	mu     sync.Mutex // one build at a time
	builds atomic.Int64
	// pending is closed when the background rebuild under way ends; nil
	// when there is none.
	pendingMu sync.Mutex
	pending   chan struct{}
	// background counts rebuilds running on their own, so Run can wait
	// for them before it returns.
	background sync.WaitGroup
}

func (p *pageSnapshots) fresh(s *Snapshot) bool {
	return s != nil && s.Generation >= p.m.opts.Store.PageGeneration(p.pageID)
}

func (p *pageSnapshots) current(ctx context.Context) (*Snapshot, error) {
	s := p.cur.Load()
	if p.fresh(s) {
		return s, nil
	}
	if s == nil {
		return p.first(ctx)
	}
	done, _ := p.refresh(ctx)
	return p.await(ctx, done), nil
}

func (p *pageSnapshots) latest(ctx context.Context) (*Snapshot, error) {
	s := p.cur.Load()
	if s == nil {
		return p.first(ctx)
	}
	if p.fresh(s) {
		return s, nil
	}
	done, started := p.refresh(ctx)
	if !started {
		return s, nil
	}
	return p.await(ctx, done), nil
}

// first makes the first snapshot, for which there is no previous one to
// serve meanwhile. When it fails because the page does not exist, the
// page is forgotten: asking for pages that do not exist keeps nothing in
// memory.
func (p *pageSnapshots) first(ctx context.Context) (*Snapshot, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if s := p.cur.Load(); s != nil {
		return s, nil
	}
	ctx, cancel := context.WithTimeout(ctx, p.m.opts.BuildTimeout)
	defer cancel()
	s, err := p.rebuildLocked(ctx)
	if err != nil && errors.Is(err, models.ErrNotFound) {
		p.m.forget(p)
	}
	return s, err
}

// refresh starts a rebuild on its own context, unless one is under way,
// and returns a channel closed when it ends; started says whether this
// call started it. The rebuild does not belong to the request that asked
// for it: a visitor who leaves does not cancel it, and it is bounded by
// BuildTimeout, not by the visitor's patience.
func (p *pageSnapshots) refresh(ctx context.Context) (done <-chan struct{}, started bool) {
	p.pendingMu.Lock()
	defer p.pendingMu.Unlock()
	if p.pending != nil {
		return p.pending, false
	}
	ch := make(chan struct{})
	p.pending = ch
	p.background.Add(1)
	go func() {
		defer p.background.Done()
		defer func() {
			p.pendingMu.Lock()
			p.pending = nil
			p.pendingMu.Unlock()
			close(ch)
		}()
		bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), p.m.opts.BuildTimeout)
		defer cancel()
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.fresh(p.cur.Load()) {
			return // a build that finished meanwhile covers it
		}
		if _, err := p.rebuildLocked(bctx); err != nil {
			p.m.opts.Logger.Error("rebuild public snapshot; serving the previous one", "page_id", p.pageID, "error", err)
		}
	}()
	return ch, true
}

// await waits for done up to FreshWait (or until the request ends) and
// returns the newest snapshot there is.
func (p *pageSnapshots) await(ctx context.Context, done <-chan struct{}) *Snapshot {
	timer := time.NewTimer(p.m.opts.FreshWait)
	defer timer.Stop()
	select {
	case <-done:
	case <-timer.C:
	case <-ctx.Done():
	}
	return p.cur.Load()
}

func (p *pageSnapshots) rebuild(ctx context.Context) (*Snapshot, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, p.m.opts.BuildTimeout)
	defer cancel()
	return p.rebuildLocked(ctx)
}

func (p *pageSnapshots) rebuildLocked(ctx context.Context) (*Snapshot, error) {
	start := time.Now()
	s, err := p.m.build(ctx, p.pageID)
	if err != nil {
		return nil, err
	}
	s.Took = time.Since(start)
	p.cur.Store(s)
	p.builds.Add(1)
	p.m.builds.Add(1)
	return s, nil
}

func (m *Manager) build(ctx context.Context, pageID int64) (*Snapshot, error) {
	// Read the generation before the data: a change landing during the
	// build leaves the snapshot marked stale.
	gen := m.opts.Store.PageGeneration(pageID)
	now := m.opts.Store.Now()
	d, err := Load(models.ReadOnly(ctx), m.opts.Store, pageID, now)
	if err != nil {
		return nil, err
	}
	s := &Snapshot{Generation: gen, BuiltAt: now, Data: d, resources: map[string]*Resource{}}
	var gz compressor
	add := func(path, contentType string, body []byte) error {
		r, err := gz.resource(contentType, body)
		if err != nil {
			return fmt.Errorf("snapshot %s: %w", path, err)
		}
		s.resources[path] = r
		return nil
	}
	if m.opts.HTML != nil {
		html, err := m.opts.HTML(ctx, d)
		if err != nil {
			return nil, fmt.Errorf("render public page: %w", err)
		}
		if err := add("/", "text/html; charset=utf-8", html); err != nil {
			return nil, err
		}
	}
	api, err := StatuspageJSON(d)
	if err != nil {
		return nil, fmt.Errorf("render status JSON: %w", err)
	}
	for name, body := range api {
		if err := add("/api/v2/"+name, "application/json", body); err != nil {
			return nil, err
		}
	}
	if err := addFeeds(d, m.opts.Markdown, add); err != nil {
		return nil, err
	}
	if err := add(CalendarPath, "text/calendar; charset=utf-8", MaintenanceCalendar(d, m.opts.Markdown)); err != nil {
		return nil, err
	}
	if err := add("/badge.svg", "image/svg+xml", PageBadge(d)); err != nil {
		return nil, err
	}
	if err := add("/favicon.svg", "image/svg+xml", Favicon(d)); err != nil {
		return nil, err
	}
	for _, c := range d.Components {
		svg, ok := ComponentBadge(d, c.ID)
		if !ok {
			continue
		}
		if err := add(BadgeKey(c.ID), "image/svg+xml", svg); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// addFeeds adds the page's Atom and RSS feeds and those of each visible
// component, rendering every entry once for all of them.
func addFeeds(d *Data, md *markdown.Renderer, add func(path, contentType string, body []byte) error) error {
	all := feedEntries(d, md)
	scopes := []feedScope{pageFeedScope(d, all)}
	for i := range d.Components {
		scopes = append(scopes, componentFeedScope(d, &d.Components[i], all))
	}
	for _, sc := range scopes {
		atom, err := atomFeedOf(d, sc)
		if err != nil {
			return fmt.Errorf("render Atom feed %s: %w", sc.AtomPath, err)
		}
		if err := add(sc.AtomPath, "application/atom+xml; charset=utf-8", atom); err != nil {
			return err
		}
		rss, err := rssFeedOf(d, sc)
		if err != nil {
			return fmt.Errorf("render RSS feed %s: %w", sc.RSSPath, err)
		}
		if err := add(sc.RSSPath, "application/rss+xml; charset=utf-8", rss); err != nil {
			return err
		}
	}
	return nil
}
