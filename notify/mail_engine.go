package notify

import (
	"context"
	"errors"
	"net/mail"
	"regexp"
	"time"

	"github.com/heraldstatus/herald/markdown"
	"github.com/heraldstatus/herald/models"
)

// mailer sends subscribers' e-mails (the engine writes them), one
// SMTP connection reused for every message.
type mailer struct {
	e      *Engine
	cfg    SMTPConfig
	from   *mail.Address
	conn   mailConn
	md     *markdown.Renderer
	wake   *models.Signal
	broken bool // the last send found the server unreachable
}

// newMailer returns nil when no SMTP server is configured.
func newMailer(e *Engine, cfg *SMTPConfig) (*mailer, error) {
	if cfg == nil || cfg.URL == "" {
		return nil, nil
	}
	server, err := parseSMTPURL(cfg.URL)
	if err != nil {
		return nil, err
	}
	from, err := parseFrom(cfg.From)
	if err != nil {
		return nil, err
	}
	c := *cfg
	if c.Batch <= 0 {
		c.Batch = 100
	}
	if c.FanOut <= 0 {
		c.FanOut = 1000
	}
	if c.Poll <= 0 {
		c.Poll = e.cfg.Poll
	}
	if c.Idle <= 0 {
		c.Idle = 30 * time.Second
	}
	// go-mail's deadline on the connection is the attempt timeout from
	// the last message: close it before that runs out.
	c.Idle = min(c.Idle, e.cfg.Timeout/2)
	return &mailer{e: e, cfg: c, from: from, md: markdown.New(), wake: models.NewSignal(),
		conn: mailConn{server: server, tls: c.TLS, timeout: e.cfg.Timeout}}, nil
}

// run sends until ctx ends.
func (m *mailer) run(ctx context.Context) {
	defer m.conn.close()
	for ctx.Err() == nil {
		// The engine expands events into the e-mails (Engine.fanOut).
		if m.sendDue(ctx) {
			continue
		}
		if m.conn.client != nil && time.Since(m.conn.lastUse) >= m.cfg.Idle {
			m.conn.close()
		}
		timer := time.NewTimer(m.cfg.Poll)
		select {
		case <-ctx.Done():
		case <-m.wake.C():
		case <-timer.C:
		}
		timer.Stop()
	}
}

// sendDue claims due e-mails and sends them; true when it claimed any.
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
	lease, renewed := m.lease(), m.e.store.Now()
	for i := range mails {
		if ctx.Err() != nil {
			return true
		}
		if now := m.e.store.Now(); now.Sub(renewed) >= lease/2 {
			extCtx, cancel := m.e.storeCall(ctx, false)
			err := m.e.store.ExtendSubscriberLeases(extCtx, ds[0].LeaseToken, lease)
			cancel()
			if err != nil {
				m.e.log.Error("extend subscriber delivery leases", "error", err)
				return true // the rest are claimed again when their leases run out
			}
			renewed = now
		}
		m.deliver(ctx, &mails[i])
	}
	return true
}

// lease is how long a claim holds: two attempts and some, renewed while
// the batch is sent, so after a crash its e-mails wait no longer than
// that to be claimed again.
func (m *mailer) lease() time.Duration {
	return 2*m.e.cfg.Timeout + 10*time.Second
}

// deliver sends one e-mail and records how it went. Logs name the
// delivery and subscriber ids, never the address.
func (m *mailer) deliver(ctx context.Context, sm *models.SubscriberMail) {
	d := &sm.Delivery
	log := m.e.log.With("subscriber_delivery_id", d.ID, "subscriber_id", d.SubscriberID)
	var r models.MailResult
	switch {
	case sm.Subscriber.State == models.SubscriberBouncing:
		r = models.MailResult{State: models.DeliverySkipped, Error: "The address bounced: skipped."}
	case d.Kind == models.MailEvent && sm.Subscriber.State != models.SubscriberActive:
		r = models.MailResult{State: models.DeliverySkipped, Error: "The subscription is not confirmed."}
	case d.Kind == models.MailConfirm && sm.ConfirmURL == "":
		r = models.MailResult{State: models.DeliverySkipped, Error: "Confirmed already."}
	default:
		r = m.attempt(ctx, sm)
	}
	if r.State == models.DeliveryRetrying || r.State == models.DeliveryFailed {
		log.Warn("subscriber e-mail not accepted", "state", r.State, "code", r.Code, "error", r.Error)
	}
	recCtx, cancel := m.e.storeCall(context.WithoutCancel(ctx), false)
	defer cancel()
	if err := m.e.store.RecordSubscriberAttempt(recCtx, d, r); err != nil && !errors.Is(err, models.ErrLeaseLost) {
		log.Error("record subscriber e-mail", "error", err)
	}
}

// attempt sends and classifies: 4xx and connection trouble retry on the
// usual schedule, 5xx is permanent.
func (m *mailer) attempt(ctx context.Context, sm *models.SubscriberMail) models.MailResult {
	now := m.e.store.Now()
	msg, err := buildMail(sm, m.from, m.md, now)
	if err != nil {
		return models.MailResult{State: models.DeliveryFailed, Error: redactAddress(err.Error(), sm.Subscriber.Email)}
	}
	o, err := m.conn.send(ctx, msg)
	if err == nil {
		return models.MailResult{State: models.DeliveryDelivered, Code: 250}
	}
	r := models.MailResult{Code: o.code, Error: redactAddress(err.Error(), sm.Subscriber.Email)}
	if o.permanent {
		r.State, r.Permanent = models.DeliveryFailed, true
		return r
	}
	schedule := models.DefaultRetrySchedule
	if next := sm.Delivery.Attempts + 1; next < len(schedule) {
		r.State, r.NextAt = models.DeliveryRetrying, now.Add(schedule[next])
	} else {
		r.State = models.DeliveryFailed
	}
	return r
}

// redactAddress keeps a server's answer ("550 <ann@example.com>: no such
// user") without the address: subscriber addresses never reach a log.
func redactAddress(s, addr string) string {
	if addr == "" {
		return s
	}
	return regexp.MustCompile("(?i)"+regexp.QuoteMeta(addr)).ReplaceAllLiteralString(s, "[subscriber]")
}
