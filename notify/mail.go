package notify

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// SMTPConfig is where subscribers' e-mails go: HERALD_SMTP_URL and
// HERALD_SMTP_FROM.
type SMTPConfig struct {
	// URL is smtp://[user:pass@]host[:port] (STARTTLS when the server
	// offers it; default port 587) or smtps://… (TLS from the start;
	// default port 465).
	URL string
	// From is the sender, "Name <address>" or a bare address.
	From string
	// TLS configures TLS to the server; nil uses the system's roots.
	TLS *tls.Config
	// Batch is the most e-mails claimed at once (default 500); FanOut
	// the most subscribers expanded per transaction (default 1000).
	Batch, FanOut int
	// Connections is how many SMTP connections send at once
	// (HERALD_SMTP_CONNECTIONS, default 4). A small batch uses one: a
	// second connection opens only for every perConnection e-mails due.
	Connections int
	// Poll is how often to look for work when no wake-up arrives
	// (default: the engine's Poll).
	Poll time.Duration
	// Idle closes the connection after this long unused (default 30 s,
	// at most half the engine's Timeout).
	Idle time.Duration
}

// smtpServer is SMTPConfig.URL taken apart.
type smtpServer struct {
	host       string
	port       int
	ssl        bool
	user, pass string
}

// CheckSMTPURL checks HERALD_SMTP_URL at start. Its message names the
// problem, never the password.
func CheckSMTPURL(raw string) error {
	_, err := parseSMTPURL(raw)
	return err
}

// CheckSMTPFrom checks HERALD_SMTP_FROM at start.
func CheckSMTPFrom(from string) error {
	_, err := parseFrom(from)
	return err
}

func parseSMTPURL(raw string) (smtpServer, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return smtpServer{}, errors.New("want smtp://user:pass@host:port or smtps://user:pass@host:port")
	}
	var s smtpServer
	switch u.Scheme {
	case "smtp":
		s.port = 587
	case "smtps":
		s.port, s.ssl = 465, true
	default:
		return smtpServer{}, fmt.Errorf("want an smtp:// or smtps:// URL, got scheme %q", u.Scheme)
	}
	s.host = u.Hostname()
	if s.host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return smtpServer{}, errors.New("want smtp://user:pass@host:port, with no path or query")
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return smtpServer{}, fmt.Errorf("want a port from 1 to 65535, got %q", p)
		}
		s.port = n
	}
	if u.User != nil {
		s.user = u.User.Username()
		s.pass, _ = u.User.Password()
	}
	return s, nil
}

// parseFrom checks the sender; it is the one header value taken from the
// configuration, so a line break in it is refused here, at start.
func parseFrom(from string) (*mail.Address, error) {
	if strings.ContainsAny(from, "\r\n") {
		return nil, errors.New("must be one line")
	}
	a, err := mail.ParseAddress(from)
	if err != nil {
		return nil, fmt.Errorf("want an address such as \"Example status <status@example.com>\", got %q", from)
	}
	return a, nil
}

// mailConn is one SMTP connection, reused for many messages and closed
// when idle or after an error that may have broken it.
type mailConn struct {
	server  smtpServer
	tls     *tls.Config
	timeout time.Duration
	client  *gomail.Client
	lastUse time.Time
}

// open dials unless a connection is up already.
func (c *mailConn) open(ctx context.Context) error {
	if c.client != nil {
		return nil
	}
	opts := []gomail.Option{gomail.WithPort(c.server.port), gomail.WithTimeout(c.timeout),
		gomail.WithTLSPolicy(gomail.TLSOpportunistic),
		// No NOOP before each message: a connection that died is found
		// by the message itself, which send then retries once.
		gomail.WithoutNoop()}
	if c.server.ssl {
		opts = append(opts, gomail.WithSSL())
	}
	if c.tls != nil {
		opts = append(opts, gomail.WithTLSConfig(c.tls))
	} else {
		opts = append(opts, gomail.WithTLSConfig(&tls.Config{ServerName: c.server.host, MinVersion: tls.VersionTLS12}))
	}
	if c.server.user != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(c.server.user), gomail.WithPassword(c.server.pass))
	}
	client, err := gomail.NewClient(c.server.host, opts...)
	if err != nil {
		return fmt.Errorf("smtp client for %s: %w", net.JoinHostPort(c.server.host, strconv.Itoa(c.server.port)), err)
	}
	dialCtx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	if err := client.DialWithContext(dialCtx); err != nil {
		return fmt.Errorf("connect to smtp %s: %w", net.JoinHostPort(c.server.host, strconv.Itoa(c.server.port)), err)
	}
	c.client = client
	return nil
}

// close ends the connection, politely if it still works.
func (c *mailConn) close() {
	if c.client != nil {
		_ = c.client.Close()
		c.client = nil
	}
}

// sendOutcome classifies an answer: a 5xx refusal is permanent, a 4xx one
// temporary; anything else (no answer, a broken connection) is retried
// on a new connection.
type sendOutcome struct {
	code      int
	permanent bool
	broken    bool
}

func classifySend(err error) sendOutcome {
	var se *gomail.SendError
	if errors.As(err, &se) {
		code := se.ErrorCode()
		switch {
		case code >= 500 && code < 600:
			return sendOutcome{code: code, permanent: true}
		case code >= 400 && code < 500:
			return sendOutcome{code: code}
		}
		return sendOutcome{code: code, broken: true}
	}
	return sendOutcome{broken: true}
}

// send sends one message over the connection, dialling first if needed.
// A reused connection that turns out broken (the server closed it while
// idle) is replaced and the message tried once more on the new one.
func (c *mailConn) send(ctx context.Context, m *gomail.Msg) (sendOutcome, error) {
	reused := c.client != nil
	if err := c.open(ctx); err != nil {
		return sendOutcome{broken: true}, err
	}
	err := c.client.Send(m)
	c.lastUse = time.Now()
	if err == nil {
		return sendOutcome{}, nil
	}
	o := classifySend(err)
	if o.broken {
		c.close()
		if reused {
			return c.send(ctx, m)
		}
	}
	return o, err
}
