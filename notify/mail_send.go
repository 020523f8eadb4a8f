package notify

import (
	"context"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/heraldstatus/herald/models"
)

// perConnection: a batch opens one more connection (up to
// SMTPConfig.Connections) for every so many e-mails, so a handful of
// e-mails still share one connection.
const perConnection = 25

// sendDue claims due e-mails, sends them over up to cfg.Connections
// connections at once and records the results; true when it claimed any.
// The claim's leases are renewed while the batch is out.
//
// A connection sends its next e-mail only once the last one's result is
// committed, and the results waiting meanwhile, one per connection, are
// committed together (group commit): after a crash only the e-mails in
// flight, at most one per connection, may be sent again, as with a single
// connection; none is lost.
func (m *mailer) sendDue(ctx context.Context) bool {
	claimCtx, cancel := m.e.storeCall(ctx, false)
	ds, err := m.e.store.ClaimSubscriberDeliveries(claimCtx, m.cfg.Batch, m.lease())
	cancel()
	if err != nil {
		if ctx.Err() == nil {
			m.e.log.Error("claim subscriber deliveries", "error", err)
		}
		return false
	}
	if len(ds) == 0 {
		return false
	}
	loadCtx, cancel := m.e.storeCall(ctx, true)
	mails, err := m.e.store.SubscriberMails(loadCtx, ds)
	cancel()
	if err != nil {
		m.e.log.Error("load subscriber e-mails", "error", err)
		return false // the leases run out and the e-mails are claimed again
	}

	// feedCtx ends when the leases can no longer be renewed: e-mails not
	// handed out yet are left for whoever claims them next.
	feedCtx, stopFeeding := context.WithCancel(ctx)
	defer stopFeeding()
	stopRenewing := m.renewLeases(feedCtx, ds[0].LeaseToken, stopFeeding)

	results := make(chan recordRequest)
	recorded := make(chan struct{})
	go func() {
		defer close(recorded)
		m.record(ctx, results, stopFeeding)
	}()
	jobs := make(chan *models.SubscriberMail)
	render := newMailRenderer(m.from, m.md)
	senders := min(len(m.conns), (len(mails)+perConnection-1)/perConnection)
	var wg sync.WaitGroup
	for i := range senders {
		conn := &m.conns[i]
		wg.Go(func() {
			done := make(chan struct{})
			for sm := range jobs {
				results <- recordRequest{out: m.deliver(ctx, conn, render, sm), done: done}
				<-done
			}
		})
	}
feed:
	for i := range mails {
		select {
		case jobs <- &mails[i]:
		case <-feedCtx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	stopRenewing()
	close(results)
	<-recorded
	return true
}

// renewLeases renews the leases of one claim every third of a lease
// until stopped; should a renewal fail it calls giveUp, as the leases may
// run out before the batch is through.
func (m *mailer) renewLeases(ctx context.Context, token string, giveUp func()) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		lease := m.lease()
		tick := time.NewTicker(lease / 3)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			extCtx, cancel := m.e.storeCall(ctx, false)
			err := m.e.store.ExtendSubscriberLeases(extCtx, token, lease)
			cancel()
			if err != nil {
				m.e.log.Error("extend subscriber delivery leases", "error", err)
				giveUp() // the rest are claimed again when their leases run out
				return
			}
		}
	})
	return func() { close(done); wg.Wait() }
}

// recordRequest is a sender's result; done is signalled once it is
// recorded (or could not be).
type recordRequest struct {
	out  models.MailOutcome
	done chan<- struct{}
}

// record commits results as they come, those that arrive together in one
// transaction, until results is closed. It records even after ctx ends:
// the messages were accepted. Should the database fail, it calls giveUp:
// what was sent but not recorded goes again when its lease runs out (at
// least once), and nothing more is sent meanwhile.
func (m *mailer) record(ctx context.Context, results <-chan recordRequest, giveUp func()) {
	var batch []recordRequest
	for {
		r, ok := <-results
		if !ok {
			return
		}
		batch = append(batch[:0], r)
		for more := true; more; {
			select {
			case r, ok := <-results:
				if ok {
					batch = append(batch, r)
				} else {
					more = false
				}
			default:
				more = false
			}
		}
		outs := make([]models.MailOutcome, len(batch))
		for i, r := range batch {
			outs[i] = r.out
		}
		recCtx, cancel := m.e.storeCall(context.WithoutCancel(ctx), false)
		lost, err := m.e.store.RecordSubscriberAttempts(recCtx, outs)
		cancel()
		switch {
		case err != nil:
			m.e.log.Error("record subscriber e-mails", "count", len(outs), "error", err)
			giveUp()
		case lost > 0:
			m.e.log.Warn("subscriber e-mails sent after their lease ran out", "count", lost)
		}
		for _, r := range batch {
			r.done <- struct{}{}
		}
	}
}

// lease is how long a claim holds: two attempts and some, renewed while
// the batch is sent, so after a crash its e-mails wait no longer than
// that to be claimed again.
func (m *mailer) lease() time.Duration {
	return 2*m.e.cfg.Timeout + 10*time.Second
}

// deliver sends one e-mail over conn and says how it went. Logs name the
// delivery and subscriber ids, never the address.
func (m *mailer) deliver(ctx context.Context, conn *mailConn, render *mailRenderer, sm *models.SubscriberMail) models.MailOutcome {
	d := &sm.Delivery
	var r models.MailResult
	switch {
	case sm.Subscriber.State == models.SubscriberBouncing:
		r = models.MailResult{State: models.DeliverySkipped, Error: "The address bounced: skipped."}
	case d.Kind == models.MailEvent && sm.Subscriber.State != models.SubscriberActive:
		r = models.MailResult{State: models.DeliverySkipped, Error: "The subscription is not confirmed."}
	case d.Kind == models.MailConfirm && sm.ConfirmURL == "":
		r = models.MailResult{State: models.DeliverySkipped, Error: "Confirmed already."}
	default:
		r = m.attempt(ctx, conn, render, sm)
	}
	if r.State == models.DeliveryRetrying || r.State == models.DeliveryFailed {
		m.e.log.Warn("subscriber e-mail not accepted", "subscriber_delivery_id", d.ID, "subscriber_id", d.SubscriberID,
			"state", r.State, "code", r.Code, "error", r.Error)
	}
	return models.MailOutcome{Delivery: d, Result: r}
}

// attempt sends and classifies: 4xx and connection trouble retry on the
// usual schedule, 5xx is permanent.
func (m *mailer) attempt(ctx context.Context, conn *mailConn, render *mailRenderer, sm *models.SubscriberMail) models.MailResult {
	now := m.e.store.Now()
	start := time.Now()
	r := models.MailResult{StartedAt: now}
	msg, err := render.build(sm, now)
	if err != nil {
		r.State, r.Error = models.DeliveryFailed, redactAddress(err.Error(), sm.Subscriber.Email)
		return r
	}
	o, err := conn.send(ctx, msg)
	r.DurationMS = int(time.Since(start).Milliseconds())
	if err == nil {
		r.State, r.Code, r.Reply = models.DeliveryDelivered, 250, redactAddress(msg.ServerResponse(), sm.Subscriber.Email)
		return r
	}
	r.Code, r.Error = o.code, redactAddress(err.Error(), sm.Subscriber.Email)
	if o.permanent {
		r.State, r.Permanent = models.DeliveryFailed, true
		return r
	}
	schedule := models.DefaultRetrySchedule
	if next := sm.Delivery.Round() + 1; next < len(schedule) {
		r.State, r.NextAt = models.DeliveryRetrying, now.Add(schedule[next])
	} else {
		r.State = models.DeliveryFailed
	}
	return r
}

// redactAddress keeps a server's answer ("550 <ann@example.com>: no such
// user") without the address, whatever its case: subscriber addresses
// never reach a log.
func redactAddress(s, addr string) string {
	if addr == "" || s == "" {
		return s
	}
	lower, needle := strings.ToLower(s), strings.ToLower(addr)
	if len(lower) != len(s) || len(needle) != len(addr) { // case changes that move bytes: rare, slower
		return regexp.MustCompile("(?i)"+regexp.QuoteMeta(addr)).ReplaceAllLiteralString(s, "[subscriber]")
	}
	var b strings.Builder
	for {
		i := strings.Index(lower, needle)
		if i < 0 {
			break
		}
		b.WriteString(s[:i])
		b.WriteString("[subscriber]")
		s, lower = s[i+len(needle):], lower[i+len(needle):]
	}
	if b.Len() == 0 {
		return s
	}
	b.WriteString(s)
	return b.String()
}
