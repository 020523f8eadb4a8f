package notify

import (
	"context"
	"net/mail"
	"time"

	"github.com/heraldstatus/herald/markdown"
	"github.com/heraldstatus/herald/models"
)

// mailer sends subscribers' e-mails (the engine writes them, Engine.fanOut)
// over a few SMTP connections, each reused for many messages.
type mailer struct {
	e    *Engine
	cfg  SMTPConfig
	from *mail.Address
	// conns are the SMTP connections, one per sender goroutine of a
	// batch; they open when first needed and close when idle.
	conns []mailConn
	md    *markdown.Renderer
	wake  *models.Signal
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
		c.Batch = 500
	}
	if c.Connections <= 0 {
		c.Connections = 4
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
	m := &mailer{e: e, cfg: c, from: from, md: markdown.New(), wake: models.NewSignal(),
		conns: make([]mailConn, c.Connections)}
	for i := range m.conns {
		m.conns[i] = mailConn{server: server, tls: c.TLS, timeout: e.cfg.Timeout}
	}
	return m, nil
}

// run sends until ctx ends.
func (m *mailer) run(ctx context.Context) {
	defer m.closeConns(0)
	for ctx.Err() == nil {
		// The engine expands events into the e-mails (Engine.fanOut).
		if m.sendDue(ctx) {
			continue
		}
		m.closeConns(m.cfg.Idle)
		timer := time.NewTimer(m.cfg.Poll)
		select {
		case <-ctx.Done():
		case <-m.wake.C():
		case <-timer.C:
		}
		timer.Stop()
	}
}

// closeConns closes the connections unused for idle or longer (all when
// idle is zero). Only between batches: no sender is running.
func (m *mailer) closeConns(idle time.Duration) {
	for i := range m.conns {
		if c := &m.conns[i]; c.client != nil && time.Since(c.lastUse) >= idle {
			c.close()
		}
	}
}
