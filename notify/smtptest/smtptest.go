// Package smtptest runs a real SMTP server on 127.0.0.1 for tests: it
// offers STARTTLS, parses every message it accepts (headers, MIME parts)
// and answers RCPT TO as a test scripts.
package smtptest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// Msg is one message as the SMTP server received and parsed it.
type Msg struct {
	From       string
	Rcpts      []string
	Raw        []byte
	Header     mail.Header
	Text, HTML string
	TLS        bool
}

// Server is a real SMTP server on 127.0.0.1 that offers STARTTLS,
// parses every message it accepts, and answers RCPT as scripted.
type Server struct {
	t        testing.TB
	addr     string
	roots    *x509.CertPool
	mu       sync.Mutex
	msgs     []Msg
	conns    map[string]bool
	problems []string
	rcptSeen map[string]int
	rcpt     func(to string, n int) *smtp.SMTPError
	arrived  chan struct{}
}

// Start starts a server that offers STARTTLS; it stops when the test
// ends, failing it if a message was malformed.
func Start(t testing.TB) *Server { return start(t, true) }

// StartPlain starts a server without STARTTLS.
func StartPlain(t testing.TB) *Server { return start(t, false) }

func start(t testing.TB, offerTLS bool) *Server {
	t.Helper()
	cert, roots := selfSigned(t)
	s := &Server{t: t, roots: roots, rcptSeen: map[string]int{}, conns: map[string]bool{}, arrived: make(chan struct{}, 1)}
	srv := smtp.NewServer(s)
	srv.Domain = "127.0.0.1"
	if offerTLS {
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
	}
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.addr = ln.Addr().String()
	go srv.Serve(ln)
	t.Cleanup(func() {
		srv.Close()
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, p := range s.problems {
			t.Errorf("smtp server: %s", p)
		}
	})
	return s
}

// URL is the server's smtp:// URL.
func (s *Server) URL() string { return "smtp://" + s.addr }

// TLS is the client configuration that trusts the server's certificate.
func (s *Server) TLS() *tls.Config {
	return &tls.Config{RootCAs: s.roots, ServerName: "127.0.0.1"}
}

// NewSession is go-smtp's Backend.
func (s *Server) NewSession(c *smtp.Conn) (smtp.Session, error) {
	s.mu.Lock()
	s.conns[c.Conn().RemoteAddr().String()] = true // EHLO after STARTTLS starts a new session
	s.mu.Unlock()
	return &smtpSession{s: s, c: c}, nil
}

// Messages returns a copy of what arrived.
func (s *Server) Messages() []Msg {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Msg(nil), s.msgs...)
}

// Connections is how many connections were opened.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// RcptCount is how many times RCPT TO named to.
func (s *Server) RcptCount(to string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rcptSeen[to]
}

// SetRcpt scripts the answers to RCPT TO: f gets the address and how
// many times it was named so far (this one included); nil accepts.
func (s *Server) SetRcpt(f func(to string, n int) *smtp.SMTPError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rcpt = f
}

// WaitFor waits until n messages arrived and returns them.
func (s *Server) WaitFor(n int, within time.Duration) []Msg {
	s.t.Helper()
	deadline := time.After(within)
	for {
		if got := s.Messages(); len(got) >= n {
			return got
		}
		select {
		case <-s.arrived:
		case <-deadline:
			s.t.Fatalf("smtp server: %d messages arrived, want %d", len(s.Messages()), n)
		}
	}
}

type smtpSession struct {
	s     *Server
	c     *smtp.Conn
	from  string
	rcpts []string
}

func (x *smtpSession) Mail(from string, _ *smtp.MailOptions) error {
	x.from = from
	return nil
}

func (x *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	x.s.mu.Lock()
	x.s.rcptSeen[to]++
	n, script := x.s.rcptSeen[to], x.s.rcpt
	x.s.mu.Unlock()
	if script != nil {
		if err := script(to, n); err != nil {
			return err
		}
	}
	x.rcpts = append(x.rcpts, to)
	return nil
}

func (x *smtpSession) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	_, tlsOn := x.c.TLSConnectionState()
	m, problem := parseMail(raw)
	m.From, m.Rcpts, m.TLS = x.from, append([]string(nil), x.rcpts...), tlsOn
	x.s.mu.Lock()
	if problem != "" {
		x.s.problems = append(x.s.problems, problem)
	}
	x.s.msgs = append(x.s.msgs, m)
	x.s.mu.Unlock()
	select {
	case x.s.arrived <- struct{}{}:
	default:
	}
	return nil
}

func (x *smtpSession) Reset()        { x.from, x.rcpts = "", nil }
func (x *smtpSession) Logout() error { return nil }

// NoticeHeader marks a one-off notice (notify.SendNotice), which has no
// List-Unsubscribe headers.
const NoticeHeader = "X-Herald-Notice"

// parseMail checks one message's structure: headers, multipart/alternative
// with a text and an HTML part. It returns what it found and a problem.
func parseMail(raw []byte) (Msg, string) {
	m := Msg{Raw: raw}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return m, fmt.Sprintf("unparsable message: %v", err)
	}
	m.Header = msg.Header
	headers := []string{"Message-Id", "Date", "From", "To", "Subject", "List-Unsubscribe", "List-Unsubscribe-Post"}
	if msg.Header.Get(NoticeHeader) != "" {
		// A one-off notice (a sign-in link) is sent to no subscriber:
		// there is nothing to unsubscribe from.
		headers = headers[:5]
	}
	for _, h := range headers {
		if len(msg.Header[h]) != 1 {
			return m, fmt.Sprintf("header %s appears %d times", h, len(msg.Header[h]))
		}
	}
	if _, err := msg.Header.Date(); err != nil {
		return m, fmt.Sprintf("bad Date: %v", err)
	}
	if id := msg.Header.Get("Message-Id"); !strings.HasPrefix(id, "<") || !strings.HasSuffix(id, ">") || !strings.Contains(id, "@") {
		return m, fmt.Sprintf("bad Message-ID %q", id)
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		return m, fmt.Sprintf("Content-Type %q, want multipart/alternative", msg.Header.Get("Content-Type"))
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return m, fmt.Sprintf("bad part: %v", err)
		}
		body, err := io.ReadAll(p) // quoted-printable is decoded by NextPart
		if err != nil {
			return m, fmt.Sprintf("bad part body: %v", err)
		}
		pt, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		switch pt {
		case "text/plain":
			m.Text = string(body)
		case "text/html":
			m.HTML = string(body)
		default:
			return m, fmt.Sprintf("unexpected part %s", pt)
		}
	}
	if m.Text == "" || m.HTML == "" {
		return m, "message lacks a text or an HTML part"
	}
	return m, ""
}

// selfSigned is a certificate for 127.0.0.1 and a pool that trusts it.
func selfSigned(t testing.TB) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}
