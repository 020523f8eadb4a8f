package notify

import (
	"cmp"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/heraldstatus/herald/models"
)

// Config tunes an Engine. Zero fields take the defaults.
type Config struct {
	// Timeout bounds one attempt (default 10 s).
	Timeout time.Duration
	// Workers is the most attempts in flight in this process that have
	// run for less than Grace (default 32). See Engine for every bound.
	Workers int
	// Grace is how long an attempt counts against Workers (default 1 s);
	// one still running after it counts against SlowWorkers instead.
	Grace time.Duration
	// SlowWorkers is the most attempts in flight that outlived Grace or
	// go to a channel that recently had such an attempt (default
	// 4 × Workers).
	SlowWorkers int
	// PerChannel is the most attempts in flight to one channel in this
	// process, so a slow receiver cannot take every worker (default 4).
	// Serial channels (models.ReadyChannel.Serial) have one in flight,
	// across all replicas.
	PerChannel int
	// StoreTimeout bounds each database call the engine makes (default
	// 10 s), so a database that stalls delays deliveries but never hangs
	// the engine: a claim or a record that runs out is retried, and a
	// lease that was taken runs out on its own.
	StoreTimeout time.Duration
	// Poll is the fallback interval for finding due work when no wake-up
	// arrives (default 5 s).
	Poll time.Duration
	// RetryAfterCap caps a receiver's Retry-After (default 1 h).
	RetryAfterCap time.Duration
	// RateLimitGiveUp: a delivery that has met nothing but rate limits
	// for this long fails (default 24 h).
	RateLimitGiveUp time.Duration
	// DisableAfter consecutive failed events, failing for at least
	// DisableWindow, disable a channel (defaults 10 and 24 h).
	DisableAfter  int
	DisableWindow time.Duration
	// Retention is how long finished deliveries stay in the log
	// (default 30 days).
	Retention time.Duration
	// Policy is the egress policy.
	Policy Policy
	// Version goes into the User-Agent.
	Version string
	// TLS configures HTTPS to receivers; nil uses the system's roots.
	TLS *tls.Config
	// SMTP, when set, sends subscribers' e-mails (see SMTPConfig).
	SMTP *SMTPConfig
	// FanOut is the most subscribers one transaction expands an event
	// to (default SMTP.FanOut, else 1000).
	FanOut int
	// StoreConns is the most database calls the engine makes at once
	// (default 8, under half of PostgreSQL's pool of 20): a burst of
	// deliveries recording their attempts leaves connections for the
	// admin's and the API's requests.
	StoreConns int
}

func (c *Config) defaults() {
	if c.Timeout <= 0 {
		c.Timeout = 10 * time.Second
	}
	if c.Workers <= 0 {
		c.Workers = 32
	}
	if c.Grace <= 0 {
		c.Grace = time.Second
	}
	if c.SlowWorkers <= 0 {
		c.SlowWorkers = 4 * c.Workers
	}
	if c.PerChannel <= 0 {
		c.PerChannel = 4
	}
	if c.StoreTimeout <= 0 {
		c.StoreTimeout = 10 * time.Second
	}
	if c.StoreConns <= 0 {
		c.StoreConns = 8
	}
	if c.Poll <= 0 {
		c.Poll = 5 * time.Second
	}
	if c.RetryAfterCap <= 0 {
		c.RetryAfterCap = time.Hour
	}
	if c.RateLimitGiveUp <= 0 {
		c.RateLimitGiveUp = 24 * time.Hour
	}
	if c.DisableAfter <= 0 {
		c.DisableAfter = 10
	}
	if c.DisableWindow <= 0 {
		c.DisableWindow = 24 * time.Hour
	}
	if c.Retention <= 0 {
		c.Retention = 30 * 24 * time.Hour
	}
	if c.Version == "" {
		c.Version = "dev"
	}
	if c.FanOut <= 0 && c.SMTP != nil {
		c.FanOut = c.SMTP.FanOut
	}
	if c.FanOut <= 0 {
		c.FanOut = 1000
	}
}

// Pacing and rate limits.
const (
	// SlackInterval spaces the requests to one Slack channel: Slack
	// allows about one message a second per incoming webhook. It is
	// counted from the previous answer, so requests arrive more than a
	// second apart.
	SlackInterval = time.Second
	// rateLimitWait is the pause after a 429 that names no time.
	rateLimitWait = time.Second
	// rateLimitBackoffMax caps how far a long run of rate limits
	// stretches a pause beyond what the receiver asked for (an eighth of
	// the time the delivery has been rate limited).
	rateLimitBackoffMax = 5 * time.Minute
	// slowMemory is how long a channel whose attempt outlived Grace keeps
	// counting as slow after its attempts end.
	slowMemory = time.Minute
	// batchWait gathers the slots freed by finishing attempts before
	// claiming more backlog, so a deep backlog is claimed in batches
	// rather than one claim per attempt. New work is claimed at once.
	batchWait = 2 * time.Millisecond
	// dueReuse is how long a backlogged engine trusts its last reading of
	// when the next delivery is due.
	dueReuse = 250 * time.Millisecond
)

// Engine claims due deliveries and sends them.
//
// Its attempts in flight are bounded in two pools, so that receivers
// that hang never delay a healthy channel:
//
//   - the fast pool (Workers) holds attempts younger than Grace. Its last
//     eighth is kept for channels with nothing in flight: a channel that
//     answers quickly finds a slot for its next delivery at once, however
//     many slow ones fill the rest;
//   - the slow pool (SlowWorkers) holds attempts that outlived Grace
//     (each moves there, freeing its fast slot) and every attempt to a
//     channel that had such an attempt within the last minute.
//
// A channel has at most PerChannel attempts awaiting its receiver's
// answer (serial channels one), so N hung channels hold at most
// N × PerChannel slots, in the slow pool once Grace has passed. A slot is
// given back once its attempt is recorded. In all a process never has
// more than Workers + SlowWorkers attempts in flight (160 by default): as
// many goroutines and connections, each holding one request body and at
// most MaxLoggedBody of answer, and each ended by Timeout.
type Engine struct {
	store  *models.Store
	cfg    Config
	sender *Sender
	// visitors sends to webhook subscribers' receivers, under
	// Policy.Visitor: an anonymous visitor's URL may not reach the
	// intranet the admin's channels may.
	visitors *Sender
	log      *slog.Logger
	// fanWake wakes the fan-out of events to subscribers.
	fanWake *models.Signal

	// attempts counts this process's attempts by outcome, for metrics.
	attempts [4]atomic.Int64 // delivered, retrying, failed, rate limited

	mu      sync.Mutex
	chans   map[int64]*channelLoad
	fast    int  // attempts counted in the fast pool
	slow    int  // attempts counted in the slow pool
	backlog bool // the last claim left due work behind for want of room
	// claimAt, set by the Run goroutine only, is when to claim again for
	// the backlog: finished attempts are gathered for batchWait first.
	claimAt time.Time
	// dueAt is when the next delivery may be claimed, as last read at
	// dueRead (Run goroutine only).
	dueAt, dueRead time.Time
	freed          *models.Signal
	wg             sync.WaitGroup
	// mail sends subscribers' e-mails; nil without SMTP.
	mail *mailer
	// storeSlots holds a token per database call in flight (StoreConns).
	storeSlots chan struct{}
}

// channelLoad is what this process has in flight to one channel.
type channelLoad struct {
	inflight int
	slowTill time.Time // the channel counts as slow until then
}

// slot is one attempt's place in a pool and in its channel's count.
type slot struct {
	channel  int64
	serial   bool // its channel is held until the attempt is recorded
	slow     bool // counted in the slow pool, else in the fast one
	answered bool // no longer counted against its channel
	done     bool // given back
}

// New returns an Engine; call Run to start it.
func New(store *models.Store, cfg Config, logger *slog.Logger) *Engine {
	cfg.defaults()
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	e := &Engine{store: store, cfg: cfg, sender: NewSender(cfg.Policy, cfg.Timeout, cfg.Version, cfg.TLS),
		visitors: NewSender(cfg.Policy.Visitor(), cfg.Timeout, cfg.Version, cfg.TLS),
		log:      logger, chans: map[int64]*channelLoad{}, freed: models.NewSignal(), fanWake: models.NewSignal(),
		storeSlots: make(chan struct{}, cfg.StoreConns)}
	m, err := newMailer(e, cfg.SMTP)
	if err != nil {
		// The configuration checks the same with ParseSMTP at start.
		logger.Error("subscriber e-mail off: bad SMTP settings", "error", err)
	}
	e.mail = m
	return e
}

// storeCall bounds one database call by StoreTimeout, and the engine's
// calls in flight by StoreConns: a call waits for a slot within its
// timeout (and fails with it if none frees), and cancel gives the slot
// back. Calls that only read say so, and on SQLite they then run beside
// the writer.
func (e *Engine) storeCall(ctx context.Context, readOnly bool) (context.Context, context.CancelFunc) {
	if readOnly {
		ctx = models.ReadOnly(ctx)
	}
	ctx, cancel := context.WithTimeout(ctx, e.cfg.StoreTimeout)
	select {
	case e.storeSlots <- struct{}{}:
	case <-ctx.Done():
		return ctx, cancel
	}
	var once sync.Once
	return ctx, func() {
		cancel()
		once.Do(func() { <-e.storeSlots })
	}
}

// lease is how long a claim holds: longer than any attempt can take, so
// no other worker takes a delivery while its attempt may still be running.
func (e *Engine) lease() time.Duration { return e.cfg.Timeout + 10*time.Second }

// Run delivers until ctx ends, then waits for attempts in flight (each
// bounded by the timeout) and returns.
func (e *Engine) Run(ctx context.Context) {
	defer e.sender.Close()
	defer e.visitors.Close()
	defer e.wg.Wait()
	prune := time.NewTicker(time.Hour)
	defer prune.Stop()
	e.prune(ctx)
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		e.fanOut(ctx)
	}()
	if e.mail != nil {
		e.wg.Add(1)
		go func() {
			defer e.wg.Done()
			e.mail.run(ctx)
		}()
	}
	fresh := true
	for {
		wait := e.dispatch(ctx, fresh)
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-e.store.DeliveriesDue():
			fresh = true
			e.fanWake.Notify()
			if e.mail != nil {
				e.mail.wake.Notify()
			}
		case <-e.freed.C():
			fresh = false
		case <-prune.C:
			e.prune(ctx)
			fresh = false
		case <-timer.C:
			fresh = true
		}
		timer.Stop()
	}
}

// fanOut expands events into subscribers' deliveries (e-mails, and
// deliveries to webhook subscribers' channels), a batch per transaction,
// until ctx ends. It runs whether or not SMTP is configured: the admin's
// request only queued the event (models.FanOutSubscribers).
func (e *Engine) fanOut(ctx context.Context) {
	for ctx.Err() == nil {
		callCtx, cancel := e.storeCall(ctx, false)
		_, more, err := e.store.FanOutSubscribers(callCtx, e.cfg.FanOut)
		cancel()
		if err != nil && ctx.Err() == nil {
			e.log.Error("fan out to subscribers", "error", err)
		}
		if more && err == nil {
			continue
		}
		timer := time.NewTimer(e.cfg.Poll)
		select {
		case <-ctx.Done():
		case <-e.fanWake.C():
		case <-timer.C:
		}
		timer.Stop()
	}
}

// dispatch claims and starts as much due work as there is room for, and
// returns how long to sleep before looking again. fresh is false when
// only an attempt finished: then there is nothing to look for unless the
// last claim left work behind, and that is claimed batchWait later.
func (e *Engine) dispatch(ctx context.Context, fresh bool) time.Duration {
	e.mu.Lock()
	backlog := e.backlog
	e.mu.Unlock()
	if !fresh {
		if !backlog {
			return e.nextDue(ctx, nil, false)
		}
		if e.claimAt.IsZero() {
			e.claimAt = time.Now().Add(batchWait)
		}
		if wait := time.Until(e.claimAt); wait > 0 {
			return wait
		}
	}
	e.claimAt = time.Time{}
	now := e.store.Now()
	loads := e.loads()
	var full []int64 // channels with no room left in this process
	dueCtx, cancelDue := e.storeCall(ctx, true)
	ready, due, err := e.store.DueDeliveries(dueCtx, e.cfg.PerChannel, func(c models.ReadyChannel) int {
		room := e.capacity(c, now) - loads[c.ID]
		if room <= 0 {
			full = append(full, c.ID)
		}
		return room
	})
	cancelDue()
	if err != nil {
		if ctx.Err() == nil {
			e.log.Error("find due deliveries", "error", err)
		}
		return time.Second
	}
	p := e.pick(ready, due, now)
	e.mu.Lock()
	e.backlog = len(full) > 0 || p.leftOver
	e.mu.Unlock()
	if len(p.opts.IDs) > 0 || len(p.opts.Serial) > 0 {
		p.opts.Lease = e.lease()
		claimCtx, cancelClaim := e.storeCall(ctx, false)
		ds, err := e.store.ClaimDeliveries(claimCtx, p.opts)
		cancelClaim()
		if err != nil && ctx.Err() == nil {
			e.log.Error("claim deliveries", "error", err)
		}
		// Loading what the attempts need takes a few queries: meanwhile
		// the next claim may go ahead (the slots are reserved already).
		e.wg.Add(1)
		go func() {
			defer e.wg.Done()
			e.start(ctx, ds, p)
		}()
	}
	if p.noSlot {
		return e.cfg.Poll // a finishing attempt signals freed
	}
	return e.nextDue(ctx, append(full, p.atCap...), e.backlogged())
}

// nextDue is how long until the next delivery may be claimed, leaving out
// channels without room here: a finishing attempt signals freed. With a
// backlog, when the query would scan it on every claim, the answer is
// reused for up to dueReuse.
func (e *Engine) nextDue(ctx context.Context, skip []int64, backlog bool) time.Duration {
	now := e.store.Now()
	if !backlog || time.Since(e.dueRead) >= dueReuse {
		dueCtx, cancel := e.storeCall(ctx, true)
		due, ok, err := e.store.NextDue(dueCtx, skip...)
		cancel()
		if err != nil || !ok {
			due = now.Add(e.cfg.Poll)
		}
		e.dueAt, e.dueRead = due, time.Now()
	}
	return min(max(e.dueAt.Sub(now), 5*time.Millisecond), e.cfg.Poll)
}

func (e *Engine) backlogged() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.backlog
}

// capacity is the most attempts in flight to c in this process.
func (e *Engine) capacity(c models.ReadyChannel, now time.Time) int {
	if c.Serial(now) {
		return 1
	}
	return e.cfg.PerChannel
}

// loads snapshots the attempts in flight per channel.
func (e *Engine) loads() map[int64]int {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make(map[int64]int, len(e.chans))
	for id, l := range e.chans {
		out[id] = l.inflight
	}
	return out
}

// plan is what one claim asks for, with the slots reserved for it.
type plan struct {
	opts     models.ClaimOptions
	byID     map[string]*slot // plain deliveries
	byChan   map[int64]*slot  // serial channels
	atCap    []int64          // channels this claim fills to their cap
	leftOver bool             // due work was left behind for want of room
	noSlot   bool             // due work was left behind for want of a pool slot
}

// pick chooses what to claim among the due candidates and reserves a slot
// for each. Every channel's oldest due delivery comes before any
// channel's second, then older due work first. A channel that was
// recently slow takes slow slots only; one with nothing in flight takes a
// fast slot, or a slow one when the fast pool is full; one with work in
// flight takes a fast slot only outside the reserve kept for idle
// channels.
func (e *Engine) pick(ready []models.ReadyChannel, due []models.DueDelivery, now time.Time) *plan {
	p := &plan{byID: map[string]*slot{}, byChan: map[int64]*slot{}}
	chans := make(map[int64]models.ReadyChannel, len(ready))
	for _, c := range ready {
		chans[c.ID] = c
	}
	type cand struct {
		models.DueDelivery
		rank int // place among its channel's candidates
	}
	cands := make([]cand, len(due))
	for i, d := range due { // due comes ordered by channel, then event
		cands[i].DueDelivery = d
		if i > 0 && due[i-1].ChannelID == d.ChannelID {
			cands[i].rank = cands[i-1].rank + 1
		}
	}
	slices.SortFunc(cands, func(a, b cand) int {
		return cmp.Or(cmp.Compare(a.rank, b.rank), cmp.Compare(a.DueAt, b.DueAt), strings.Compare(a.ID, b.ID))
	})

	e.mu.Lock()
	defer e.mu.Unlock()
	clock := time.Now()
	for id, l := range e.chans {
		if l.inflight == 0 && !clock.Before(l.slowTill) {
			delete(e.chans, id)
		}
	}
	freeFast, freeSlow := e.cfg.Workers-e.fast, e.cfg.SlowWorkers-e.slow
	reserve := max(1, e.cfg.Workers/8)
	for _, c := range cands {
		ch := chans[c.ChannelID]
		l := e.chans[ch.ID]
		if l == nil {
			l = &channelLoad{}
			e.chans[ch.ID] = l
		}
		capacity := e.capacity(ch, now)
		if l.inflight >= capacity {
			p.leftOver = true
			continue
		}
		var slow bool
		switch {
		case clock.Before(l.slowTill), l.inflight == 0 && freeFast == 0:
			slow = true
		case l.inflight > 0 && freeFast <= reserve:
			p.leftOver, p.noSlot = true, true
			continue
		}
		if slow && freeSlow == 0 {
			p.leftOver, p.noSlot = true, true
			continue
		}
		if slow {
			freeSlow--
			e.slow++
		} else {
			freeFast--
			e.fast++
		}
		l.inflight++
		if l.inflight >= capacity {
			p.atCap = append(p.atCap, ch.ID)
		}
		sl := &slot{channel: ch.ID, slow: slow, serial: ch.Serial(now)}
		if ch.Serial(now) {
			p.byChan[ch.ID] = sl
			p.opts.Serial = append(p.opts.Serial, ch.ID)
		} else {
			p.byID[c.ID] = sl
			p.opts.IDs = append(p.opts.IDs, c.ID)
		}
	}
	return p
}

// answered stops counting an attempt against its channel once the
// receiver has answered (after took), so the channel's next delivery can
// be claimed while this one is recorded; the pool slot stays taken until
// release. A serial channel stays held until the attempt is recorded.
func (e *Engine) answered(sl *slot, took time.Duration) {
	if sl.serial {
		return
	}
	e.mu.Lock()
	e.uncount(sl, took)
	e.mu.Unlock()
	e.freed.Notify()
}

// uncount takes sl off its channel's count; e.mu is held.
func (e *Engine) uncount(sl *slot, took time.Duration) {
	if sl.answered {
		return
	}
	sl.answered = true
	if l := e.chans[sl.channel]; l != nil {
		l.inflight--
		if took >= e.cfg.Grace {
			l.slowTill = later(l.slowTill, time.Now().Add(slowMemory))
		}
	}
}

// release gives a slot back: its attempt was recorded after took, or
// never started (took 0).
func (e *Engine) release(sl *slot, took time.Duration) {
	e.mu.Lock()
	if !sl.done {
		sl.done = true
		if sl.slow {
			e.slow--
		} else {
			e.fast--
		}
		e.uncount(sl, took)
	}
	e.mu.Unlock()
	e.freed.Notify()
}

// outlived marks the channel of an attempt that has run for Grace as
// slow, and moves the attempt to the slow pool when it has room, freeing
// its fast slot.
func (e *Engine) outlived(sl *slot) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if sl.done {
		return
	}
	if l := e.chans[sl.channel]; l != nil && !sl.answered {
		l.slowTill = later(l.slowTill, time.Now().Add(e.cfg.Timeout+slowMemory))
	}
	if !sl.slow && e.slow < e.cfg.SlowWorkers {
		sl.slow = true
		e.fast--
		e.slow++
		e.freed.Notify()
	}
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// start loads what the claimed deliveries need and sends each in its own
// goroutine, in the slot reserved for it; slots left unused are given
// back. Work it cannot load is released for a later try.
func (e *Engine) start(ctx context.Context, ds []models.Delivery, p *plan) {
	used := map[*slot]bool{}
	defer func() {
		for _, sl := range p.byID {
			if !used[sl] {
				e.release(sl, 0)
			}
		}
		for _, sl := range p.byChan {
			if !used[sl] {
				e.release(sl, 0)
			}
		}
	}()
	if len(ds) == 0 {
		return
	}
	chanIDs, eventIDs := make([]int64, 0, len(ds)), make([]string, 0, len(ds))
	for _, d := range ds {
		chanIDs = append(chanIDs, d.ChannelID)
		if d.EventID != nil {
			eventIDs = append(eventIDs, *d.EventID)
		}
	}
	loadCtx, cancelLoad := e.storeCall(ctx, true)
	defer cancelLoad()
	chans, err := e.store.ChannelsByID(loadCtx, chanIDs)
	var events map[string]models.Event
	if err == nil {
		events, err = e.store.EventsByID(loadCtx, eventIDs)
	}
	pages := map[int64]*models.Page{}
	for _, d := range ds {
		if err != nil {
			break
		}
		if pages[d.PageID] == nil {
			pages[d.PageID], err = e.store.Page(loadCtx, d.PageID)
		}
	}
	if err != nil {
		e.log.Error("load deliveries", "error", err)
		relCtx, cancelRel := e.storeCall(context.WithoutCancel(ctx), false)
		defer cancelRel()
		for i := range ds {
			_ = e.store.ReleaseDelivery(relCtx, &ds[i])
		}
		return
	}
	for i := range ds {
		d := ds[i]
		sl := p.byID[d.ID]
		if d.Serial {
			sl = p.byChan[d.ChannelID]
		}
		c, ok := chans[d.ChannelID]
		ev, evOK := eventFor(&d, events)
		if sl == nil || !ok || !evOK {
			e.log.Error("delivery without its channel or event", "delivery", d.ID)
			continue // the lease runs out; a later claim retries
		}
		used[sl] = true
		e.wg.Add(1)
		go func() {
			defer e.wg.Done()
			began := time.Now()
			if !sl.slow {
				grace := time.AfterFunc(e.cfg.Grace, func() { e.outlived(sl) })
				defer grace.Stop()
			}
			defer func() { e.release(sl, time.Since(began)) }()
			// An attempt that has begun finishes even during shutdown:
			// it is bounded by the timeout, and abandoning it would only
			// repeat it later.
			e.deliver(context.WithoutCancel(ctx), c, pages[d.PageID], &d, ev,
				func() { e.answered(sl, time.Since(began)) })
		}()
	}
}

// deliver makes one attempt (two when a chat platform refuses the
// message and gets the fallback) and records it; answered, when not nil, is
// called as soon as the receiver has answered (or failed to).
func (e *Engine) deliver(ctx context.Context, c *models.Channel, page *models.Page, d *models.Delivery, ev models.Event, answered func()) models.DeliveryAttempt {
	number := d.Attempts + 1
	sender := e.sender
	if c.SubscriberID != nil {
		sender = e.visitors
	}
	refused, a, v := sender.try(ctx, c, page, d, ev, number, e.store.Now())
	if answered != nil {
		answered()
	}
	var limitedSince time.Time
	if v.RateLimited {
		readCtx, cancel := e.storeCall(ctx, true)
		since, ok, err := e.store.RateLimitedSince(readCtx, d.ID)
		cancel()
		if err != nil {
			e.log.Error("read the delivery's rate limits", "delivery", d.ID, "error", err)
		} else if ok {
			limitedSince = since
		}
	}
	res := e.decide(c, d, v, &a, limitedSince, e.store.Now())
	res.Attempt, res.Refused = a, refused
	recCtx, cancelRec := e.storeCall(ctx, false)
	err := e.store.RecordAttempt(recCtx, d, res)
	cancelRec()
	outcome := string(res.State)
	if res.RateLimited {
		outcome = models.OutcomeRateLimited
	}
	if err == nil {
		e.attempts[outcomeIndex(outcome)].Add(1)
	}
	attrs := []any{"delivery", d.ID, "channel", c.ID, "event", string(d.EventType), "attempt", a.Number,
		"state", string(res.State), "status", a.ResponseStatus, "duration_ms", a.DurationMS}
	switch {
	case err != nil:
		e.log.Error("record delivery attempt", append(attrs, "error", err)...)
	case res.DisableChannel != "":
		e.log.Warn("channel disabled: the receiver says the webhook is gone", append(attrs, "reason", res.DisableChannel)...)
	case res.State == models.DeliveryDelivered:
		e.log.Debug("delivered", attrs...)
	case res.RateLimited:
		e.log.Info("rate limited: channel paused", append(attrs, "until", res.PauseUntil, "error", a.Error)...)
	default:
		e.log.Warn("delivery attempt failed", append(attrs, "error_class", a.ErrorClass, "error", a.Error)...)
	}
	res.Attempt.Outcome = outcome
	return res.Attempt
}

func outcomeIndex(outcome string) int {
	switch outcome {
	case string(models.DeliveryDelivered):
		return 0
	case string(models.DeliveryRetrying):
		return 1
	case models.OutcomeRateLimited:
		return 3
	}
	return 2
}

// AttemptCounts are this process's recorded attempts by outcome.
type AttemptCounts struct {
	Delivered, Retrying, Failed, RateLimited int64
}

// Attempts reports this process's recorded attempts by outcome since it
// started.
func (e *Engine) Attempts() AttemptCounts {
	return AttemptCounts{Delivered: e.attempts[0].Load(), Retrying: e.attempts[1].Load(),
		Failed: e.attempts[2].Load(), RateLimited: e.attempts[3].Load()}
}

// decide turns a verdict into the delivery's next state, at end (when the
// answer came): delivered; rate limited (the channel pauses, the schedule
// does not advance); retrying at a time from the channel's schedule (or
// the receiver's Retry-After, capped); or failed. It also paces the
// channel: Slack by SlackInterval, any receiver whose X-RateLimit bucket
// is empty until it refills. limitedSince is when the delivery's current
// run of rate limits began (zero: none yet).
func (e *Engine) decide(c *models.Channel, d *models.Delivery, v Verdict, a *models.DeliveryAttempt, limitedSince, end time.Time) models.AttemptResult {
	res := models.AttemptResult{DisableAfter: e.cfg.DisableAfter, DisableWindow: e.cfg.DisableWindow}
	if c.Type == models.ChannelSlack {
		res.NextSendAt = end.Add(SlackInterval)
	}
	if v.Refill > 0 {
		res.NextSendAt = later(res.NextSendAt, end.Add(min(v.Refill, e.cfg.RetryAfterCap)))
	}
	switch {
	case v.OK:
		res.State = models.DeliveryDelivered
		return res
	case v.Disable != "":
		res.State, res.DisableChannel = models.DeliveryFailed, v.Disable
		return res
	case v.RateLimited:
		return e.rateLimited(d, v, a, limitedSince, end, res)
	}
	schedule := c.Schedule()
	round := d.Round() + 1 // attempts made in this round, this one included
	if !v.Retry || d.Test || round >= len(schedule) {
		res.State = models.DeliveryFailed
		return res
	}
	delay := schedule[round]
	if delay > 0 {
		delay += rand.N(delay/10 + 1) // jitter: receivers do not all retry at once
	}
	if v.RetryAfter > 0 {
		delay = min(v.RetryAfter, e.cfg.RetryAfterCap)
	}
	res.State, res.NextAt = models.DeliveryRetrying, end.Add(delay)
	return res
}

// rateLimited pauses the whole channel for as long as the receiver asked
// (a second when it named no time), longer when the delivery has been
// rate limited for a while (an eighth of that time, at most
// rateLimitBackoffMax), never longer than RetryAfterCap. The delivery is
// due again when the pause ends, with its retry schedule untouched,
// unless it has met nothing but rate limits for RateLimitGiveUp: then it
// fails. A test send is never retried, but still pauses the channel.
func (e *Engine) rateLimited(d *models.Delivery, v Verdict, a *models.DeliveryAttempt, since, end time.Time, res models.AttemptResult) models.AttemptResult {
	if since.IsZero() {
		since = a.StartedAt
	}
	limited := end.Sub(since)
	wait := v.RetryAfter
	if wait <= 0 {
		wait = rateLimitWait
	}
	wait = min(max(wait, min(limited/8, rateLimitBackoffMax)), e.cfg.RetryAfterCap)
	res.PauseUntil = end.Add(wait)
	switch {
	case d.Test:
		res.State = models.DeliveryFailed
	case limited >= e.cfg.RateLimitGiveUp:
		res.State = models.DeliveryFailed
		a.Error += fmt.Sprintf("; rate limited without a break for %s: gave up", limited.Round(time.Minute))
	default:
		res.State, res.RateLimited, res.NextAt = models.DeliveryRetrying, true, res.PauseUntil
	}
	return res
}

func (e *Engine) prune(ctx context.Context) {
	pruneCtx, cancel := e.storeCall(ctx, false)
	defer cancel()
	n, err := e.store.PruneDeliveries(pruneCtx, e.store.Now().Add(-e.cfg.Retention))
	if err != nil {
		if ctx.Err() == nil {
			e.log.Error("prune delivery log", "error", err)
		}
		return
	}
	if n > 0 {
		e.log.Info("pruned delivery log", "deliveries", n, "retention", e.cfg.Retention)
	}
	m, err := e.store.PruneSubscriberDeliveries(pruneCtx, e.store.Now().Add(-e.cfg.Retention))
	if err != nil {
		if ctx.Err() == nil {
			e.log.Error("prune subscriber deliveries", "error", err)
		}
		return
	}
	if m > 0 {
		e.log.Info("pruned subscriber deliveries", "deliveries", m, "retention", e.cfg.Retention)
	}
	w, err := e.store.PurgeExpiredWebhookSubscribers(pruneCtx)
	if err != nil {
		if ctx.Err() == nil {
			e.log.Error("purge unverified webhook subscriptions", "error", err)
		}
		return
	}
	if w > 0 {
		e.log.Info("deleted unverified webhook subscriptions", "subscriptions", w)
	}
}

// TestResult is what a test send shows: the delivery and its attempt.
type TestResult struct {
	Delivery *models.Delivery
	Attempt  models.DeliveryAttempt
}

// SendTest sends a sample event of type typ to channel c at once and
// returns the request and the answer. It is logged like any delivery,
// marked as a test, and never retried on its own.
func (e *Engine) SendTest(ctx context.Context, c *models.Channel, typ models.EventType) (*TestResult, error) {
	if !slices.Contains(models.EventTypes, typ) {
		return nil, &models.ValidationError{Fields: map[string]string{"event": "Choose an event type from the list."}}
	}
	page, err := e.store.Page(ctx, c.PageID)
	if err != nil {
		return nil, err
	}
	data, err := json.Marshal(SampleData(typ, e.store.Now(), e.store.BaseURL()))
	if err != nil {
		return nil, fmt.Errorf("sample %s: %w", typ, err)
	}
	d, err := e.store.CreateTestDelivery(ctx, c, typ, string(data), e.lease())
	if err != nil {
		return nil, err
	}
	ev, _ := eventFor(d, nil)
	a := e.deliver(ctx, c, page, d, ev, nil)
	if d.LeaseToken != "" {
		return nil, errors.New("test send: the attempt could not be recorded")
	}
	return &TestResult{Delivery: d, Attempt: a}, nil
}
