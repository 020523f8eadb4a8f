package notify

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/heraldstatus/herald/models"
)

// Config tunes an Engine. Zero fields take the defaults.
type Config struct {
	// Timeout bounds one attempt (default 10 s).
	Timeout time.Duration
	// Workers is the most attempts in flight in this process (default 32).
	Workers int
	// PerChannel is the most attempts in flight to one channel, so a slow
	// receiver cannot take every worker (default 4).
	PerChannel int
	// Poll is the fallback interval for finding due work when no wake-up
	// arrives (default 5 s).
	Poll time.Duration
	// RetryAfterCap caps a receiver's Retry-After (default 1 h).
	RetryAfterCap time.Duration
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
}

func (c *Config) defaults() {
	if c.Timeout <= 0 {
		c.Timeout = 10 * time.Second
	}
	if c.Workers <= 0 {
		c.Workers = 32
	}
	if c.PerChannel <= 0 {
		c.PerChannel = 4
	}
	if c.Poll <= 0 {
		c.Poll = 5 * time.Second
	}
	if c.RetryAfterCap <= 0 {
		c.RetryAfterCap = time.Hour
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
}

// Engine claims due deliveries and sends them.
type Engine struct {
	store  *models.Store
	cfg    Config
	sender *Sender
	log    *slog.Logger

	// attempts counts this process's attempts by outcome, for metrics.
	attempts [3]atomic.Int64 // delivered, retrying, failed

	mu       sync.Mutex
	inflight map[int64]int // channel id → attempts in flight
	total    int
	freed    *models.Signal
	wg       sync.WaitGroup
}

// New returns an Engine; call Run to start it.
func New(store *models.Store, cfg Config, logger *slog.Logger) *Engine {
	cfg.defaults()
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Engine{store: store, cfg: cfg, sender: NewSender(cfg.Policy, cfg.Timeout, cfg.Version, cfg.TLS),
		log: logger, inflight: map[int64]int{}, freed: models.NewSignal()}
}

// lease is how long a claim holds: longer than any attempt can take, so
// no other worker takes a delivery while its attempt may still be running.
func (e *Engine) lease() time.Duration { return e.cfg.Timeout + 10*time.Second }

// Run delivers until ctx ends, then waits for attempts in flight (each
// bounded by the timeout) and returns.
func (e *Engine) Run(ctx context.Context) {
	defer e.sender.Close()
	defer e.wg.Wait()
	prune := time.NewTicker(time.Hour)
	defer prune.Stop()
	e.prune(ctx)
	for {
		wait := e.dispatch(ctx)
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-e.store.DeliveriesDue():
		case <-e.freed.C():
		case <-prune.C:
			e.prune(ctx)
		case <-timer.C:
		}
		timer.Stop()
	}
}

// dispatch claims and starts as much due work as there is room for, and
// returns how long to sleep before looking again.
func (e *Engine) dispatch(ctx context.Context) time.Duration {
	for ctx.Err() == nil {
		free, busy, skip := e.room()
		// Claim in batches: one claim per finished attempt would make
		// the claim query the bottleneck under a backlog.
		if free == 0 || (busy > 0 && free < e.cfg.Workers/4) {
			return e.cfg.Poll // a finishing attempt signals freed
		}
		ds, err := e.store.ClaimDeliveries(ctx, models.ClaimOptions{Limit: free, PerChannel: e.cfg.PerChannel, Skip: skip, Lease: e.lease()})
		if err != nil {
			if ctx.Err() == nil {
				e.log.Error("claim deliveries", "error", err)
			}
			return time.Second
		}
		if len(ds) > 0 {
			e.start(ctx, ds)
		}
		if len(ds) < free {
			break
		}
	}
	due, ok, err := e.store.NextDue(ctx)
	if err != nil || !ok {
		return e.cfg.Poll
	}
	return min(max(time.Until(due), 5*time.Millisecond), e.cfg.Poll)
}

func (e *Engine) room() (free, busy int, skip []int64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for id, n := range e.inflight {
		if n >= e.cfg.PerChannel {
			skip = append(skip, id)
		}
	}
	return e.cfg.Workers - e.total, e.total, skip
}

// start loads what the claimed deliveries need and sends each in its own
// goroutine. Work it cannot load is released for a later try.
func (e *Engine) start(ctx context.Context, ds []models.Delivery) {
	chanIDs, eventIDs := make([]int64, 0, len(ds)), make([]string, 0, len(ds))
	for _, d := range ds {
		chanIDs = append(chanIDs, d.ChannelID)
		if d.EventID != nil {
			eventIDs = append(eventIDs, *d.EventID)
		}
	}
	chans, err := e.store.ChannelsByID(ctx, chanIDs)
	var events map[string]models.Event
	if err == nil {
		events, err = e.store.EventsByID(ctx, eventIDs)
	}
	pages := map[int64]*models.Page{}
	for _, d := range ds {
		if err != nil {
			break
		}
		if pages[d.PageID] == nil {
			pages[d.PageID], err = e.store.Page(ctx, d.PageID)
		}
	}
	if err != nil {
		e.log.Error("load deliveries", "error", err)
		for i := range ds {
			_ = e.store.ReleaseDelivery(context.WithoutCancel(ctx), &ds[i])
		}
		return
	}
	for i := range ds {
		d := ds[i]
		c, ok := chans[d.ChannelID]
		ev, evOK := eventFor(&d, events)
		if !ok || !evOK {
			e.log.Error("delivery without its channel or event", "delivery", d.ID)
			continue // the lease runs out; a later claim retries
		}
		e.mu.Lock()
		e.inflight[c.ID]++
		e.total++
		e.mu.Unlock()
		e.wg.Add(1)
		go func() {
			defer e.wg.Done()
			defer e.done(c.ID)
			// An attempt that has begun finishes even during shutdown:
			// it is bounded by the timeout, and abandoning it would only
			// repeat it later.
			e.deliver(context.WithoutCancel(ctx), c, pages[d.PageID], &d, ev)
		}()
	}
}

func (e *Engine) done(channelID int64) {
	e.mu.Lock()
	e.inflight[channelID]--
	if e.inflight[channelID] <= 0 {
		delete(e.inflight, channelID)
	}
	e.total--
	e.mu.Unlock()
	e.freed.Notify()
}

// deliver makes one attempt (two when a chat platform refuses the
// message and gets the fallback) and records it.
func (e *Engine) deliver(ctx context.Context, c *models.Channel, page *models.Page, d *models.Delivery, ev models.Event) models.DeliveryAttempt {
	number := d.Attempts + 1
	refused, a, v := e.sender.try(ctx, c, page, d, ev, number, e.store.Now())
	res := e.decide(c, d, v)
	res.Attempt, res.Refused = a, refused
	err := e.store.RecordAttempt(ctx, d, res)
	if err == nil {
		e.attempts[outcomeIndex(res.State)].Add(1)
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
	default:
		e.log.Warn("delivery attempt failed", append(attrs, "error_class", a.ErrorClass, "error", a.Error)...)
	}
	res.Attempt.Outcome = string(res.State)
	return res.Attempt
}

func outcomeIndex(s models.DeliveryState) int {
	switch s {
	case models.DeliveryDelivered:
		return 0
	case models.DeliveryRetrying:
		return 1
	}
	return 2
}

// AttemptCounts are this process's recorded attempts by outcome.
type AttemptCounts struct {
	Delivered, Retrying, Failed int64
}

// Attempts reports this process's recorded attempts by outcome since it
// started.
func (e *Engine) Attempts() AttemptCounts {
	return AttemptCounts{Delivered: e.attempts[0].Load(), Retrying: e.attempts[1].Load(), Failed: e.attempts[2].Load()}
}

// decide turns a verdict into the delivery's next state: delivered,
// retrying at a time from the channel's schedule (or the receiver's
// Retry-After, capped), or failed.
func (e *Engine) decide(c *models.Channel, d *models.Delivery, v Verdict) models.AttemptResult {
	res := models.AttemptResult{DisableAfter: e.cfg.DisableAfter, DisableWindow: e.cfg.DisableWindow}
	switch {
	case v.OK:
		res.State = models.DeliveryDelivered
		return res
	case v.Disable != "":
		res.State, res.DisableChannel = models.DeliveryFailed, v.Disable
		return res
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
	res.State, res.NextAt = models.DeliveryRetrying, e.store.Now().Add(delay)
	return res
}

func (e *Engine) prune(ctx context.Context) {
	n, err := e.store.PruneDeliveries(ctx, e.store.Now().Add(-e.cfg.Retention))
	if err != nil {
		if ctx.Err() == nil {
			e.log.Error("prune delivery log", "error", err)
		}
		return
	}
	if n > 0 {
		e.log.Info("pruned delivery log", "deliveries", n, "retention", e.cfg.Retention)
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
	a := e.deliver(ctx, c, page, d, ev)
	if d.LeaseToken != "" {
		return nil, errors.New("test send: the attempt could not be recorded")
	}
	return &TestResult{Delivery: d, Attempt: a}, nil
}
