package notify

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/heraldstatus/herald/models"
)

// MaxLoggedBody caps the response body kept in the delivery log.
const MaxLoggedBody = 16 << 10

// Error classes in the delivery log.
const (
	ErrClassEgress     = "egress"
	ErrClassDNS        = "dns"
	ErrClassConnect    = "connect"
	ErrClassTLS        = "tls"
	ErrClassTimeout    = "timeout"
	ErrClassConnection = "connection"
	ErrClassHTTP       = "http"
	ErrClassSecret     = "secret"
	ErrClassInternal   = "internal"
)

// Sender makes single HTTP attempts under the egress policy.
type Sender struct {
	client  *http.Client
	version string
}

// NewSender returns a Sender whose attempts time out after timeout and
// never follow redirects or use a proxy (a proxy would bypass the egress
// policy).
func NewSender(policy Policy, timeout time.Duration, version string, tlsConfig *tls.Config) *Sender {
	dialer := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second, Control: policy.control}
	transport := &http.Transport{
		Proxy:                 nil,
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   16,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   timeout,
		ResponseHeaderTimeout: timeout,
		TLSClientConfig:       tlsConfig,
	}
	return &Sender{
		version: version,
		client: &http.Client{
			Transport: transport,
			Timeout:   timeout,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
		},
	}
}

// Close drops idle connections.
func (s *Sender) Close() { s.client.CloseIdleConnections() }

// attemptUnredacted sends one request and returns its log row (without outcome)
// and what the answer means.
func (s *Sender) attemptUnredacted(ctx context.Context, c *models.Channel, page *models.Page, d *models.Delivery, ev models.Event, number int, now time.Time) (models.DeliveryAttempt, Verdict) {
	a := models.DeliveryAttempt{DeliveryID: d.ID, Number: number, StartedAt: now, RequestURL: models.MaskURL(c.Type, c.URL)}
	if c.Unreadable {
		a.ErrorClass, a.Error = ErrClassSecret, "the channel's stored URL and secrets cannot be decrypted with this HERALD_SECRET_KEY; edit the channel and enter them again"
		a.RequestHeaders = "{}"
		return a, Verdict{Retry: true, Reason: a.Error}
	}
	req, err := buildRequest(c, page, d, ev, s.version, now)
	if err != nil {
		a.ErrorClass, a.Error, a.RequestHeaders = ErrClassInternal, err.Error(), "{}"
		return a, Verdict{Reason: err.Error()}
	}
	return s.send(ctx, c, req, a)
}

// send makes the HTTP request req and fills in a, its log row (without
// outcome), and what the answer means.
func (s *Sender) send(ctx context.Context, c *models.Channel, req *outgoing, a models.DeliveryAttempt) (models.DeliveryAttempt, Verdict) {
	a.RequestURL = req.LogURL
	a.RequestHeaders = headersJSON(req.LogHeaders)
	a.RequestBody = string(req.Body)

	start := time.Now()
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, req.URL, bytes.NewReader(req.Body))
	if err != nil {
		a.ErrorClass, a.Error = ErrClassInternal, "build request: "+err.Error()
		return a, Verdict{Reason: a.Error}
	}
	hreq.Header = req.Header
	resp, err := s.client.Do(hreq)
	if err != nil {
		a.DurationMS = int(time.Since(start).Milliseconds())
		a.ErrorClass, a.Error = classifyError(err)
		return a, Verdict{Retry: true, Reason: a.Error}
	}
	body, readErr := io.ReadAll(io.LimitReader(resp.Body, MaxLoggedBody+1))
	resp.Body.Close()
	a.DurationMS = int(time.Since(start).Milliseconds())
	a.ResponseStatus = resp.StatusCode
	a.ResponseHeaders = headersJSON(resp.Header)
	truncated := len(body) > MaxLoggedBody
	if truncated {
		body = body[:MaxLoggedBody]
	}
	a.ResponseBody = logText(body, truncated)
	if readErr != nil {
		a.ErrorClass, a.Error = classifyError(readErr)
		a.Error = fmt.Sprintf("HTTP %d, then %s", resp.StatusCode, a.Error)
		return a, Verdict{Retry: true, Reason: a.Error}
	}
	v := ClassifyResponse(string(c.Type), resp.StatusCode, resp.Header, body)
	if !v.OK {
		a.ErrorClass, a.Error = ErrClassHTTP, v.Reason
		if a.Error == "" {
			a.Error = fmt.Sprintf("HTTP %d", resp.StatusCode)
		}
	}
	return a, v
}

// logText keeps a body readable in the log: valid UTF-8, marked when cut.
func logText(b []byte, truncated bool) string {
	for len(b) > 0 && !utf8.Valid(b) && truncated {
		b = b[:len(b)-1] // a rune cut at the cap
	}
	s := strings.ToValidUTF8(string(b), "\uFFFD")
	if truncated {
		s += "\n… (truncated at 16 KiB)"
	}
	return s
}

func headersJSON(h http.Header) string {
	b, err := json.Marshal(h)
	if err != nil {
		return "{}"
	}
	return string(b)
}

// classifyError names what went wrong below HTTP, for the log.
func classifyError(err error) (class, msg string) {
	var refused *RefusedError
	var dnsErr *net.DNSError
	var certErr *tls.CertificateVerificationError
	var unknownAuth x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var certInvalid x509.CertificateInvalidError
	var recordErr tls.RecordHeaderError
	var alert tls.AlertError
	var netErr net.Error
	var opErr *net.OpError
	switch {
	case errors.As(err, &refused):
		return ErrClassEgress, refused.Error()
	case errors.As(err, &dnsErr):
		return ErrClassDNS, "DNS lookup failed: " + dnsErr.Error()
	case errors.As(err, &certErr), errors.As(err, &unknownAuth), errors.As(err, &hostErr),
		errors.As(err, &certInvalid), errors.As(err, &recordErr), errors.As(err, &alert):
		return ErrClassTLS, "TLS failed: " + innermost(err)
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded),
		errors.As(err, &netErr) && netErr.Timeout():
		return ErrClassTimeout, "timed out: the receiver did not answer in time"
	case errors.As(err, &opErr) && opErr.Op == "dial":
		return ErrClassConnect, "could not connect: " + innermost(err)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.As(err, &opErr):
		return ErrClassConnection, "the receiver closed the connection: " + innermost(err)
	}
	return ErrClassConnection, innermost(err)
}

// innermost drops the *url.Error wrapping ("Post \"https://…\": ") which
// would repeat the unmasked URL in the log.
func innermost(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return err.Error()
}
