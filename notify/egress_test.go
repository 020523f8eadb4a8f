package notify_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
	"github.com/heraldstatus/herald/notify"
)

func mustCIDRs(t *testing.T, s string) []netip.Prefix {
	t.Helper()
	p, err := notify.ParseCIDRs(s)
	modelstest.Fatal(t, err, "parse %q", s)
	return p
}

// TestPolicyCheck: defaults, allow, deny, and deny winning over allow
// whichever range is wider, IPv4-mapped IPv6 judged as IPv4.
func TestPolicyCheck(t *testing.T) {
	none := notify.Policy{}
	denyPrivate := notify.Policy{Deny: mustCIDRs(t, "10.0.0.0/8")}
	allowSome := notify.Policy{Allow: mustCIDRs(t, "127.0.0.1, 192.168.0.0/16")}
	denyInsideAllow := notify.Policy{Allow: mustCIDRs(t, "127.0.0.0/8, 10.0.0.0/8"), Deny: mustCIDRs(t, "127.0.0.1/32, 10.9.0.0/16")}
	allowInsideDeny := notify.Policy{Allow: mustCIDRs(t, "10.1.0.0/16, 127.0.0.1"), Deny: mustCIDRs(t, "10.0.0.0/8, 127.0.0.0/8")}
	mappedDeny := notify.Policy{Deny: mustCIDRs(t, "::ffff:10.0.0.0/104")}
	linkLocal := notify.Policy{Allow: mustCIDRs(t, "fe80::/10"), Deny: mustCIDRs(t, "fe80::dead/128")}
	cases := []struct {
		name   string
		addr   string
		policy notify.Policy
		ok     bool
	}{
		{"public IPv4", "93.184.216.34", none, true},
		{"public IPv6", "2606:2800:220:1::1", none, true},
		{"private ranges are fine by default", "10.1.2.3", none, true},
		{"private 192.168", "192.168.1.10", none, true},
		{"loopback", "127.0.0.1", none, false},
		{"all of 127/8", "127.8.8.8", none, false},
		{"IPv6 loopback", "::1", none, false},
		{"IPv4-mapped loopback", "::ffff:127.0.0.1", none, false},
		{"cloud metadata", "169.254.169.254", none, false},
		{"IPv4-mapped metadata", "::ffff:169.254.169.254", none, false},
		{"IPv6 link-local", "fe80::1", none, false},
		{"unspecified", "0.0.0.0", none, false},
		{"IPv6 unspecified", "::", none, false},
		{"this network", "0.1.2.3", none, false},
		{"multicast", "224.0.0.1", none, false},
		{"IPv6 multicast", "ff02::1", none, false},
		{"broadcast", "255.255.255.255", none, false},
		{"denied private", "10.1.2.3", denyPrivate, false},
		{"IPv4-mapped denied private", "::ffff:10.1.2.3", denyPrivate, false},
		{"outside the denied range", "11.1.2.3", denyPrivate, true},
		{"allowed loopback", "127.0.0.1", allowSome, true},
		{"loopback beside the allowed one", "127.0.0.2", allowSome, false},
		{"IPv4-mapped allowed loopback", "::ffff:127.0.0.1", allowSome, true},
		{"deny inside allow: denied", "127.0.0.1", denyInsideAllow, false},
		{"deny inside allow: IPv4-mapped, denied", "::ffff:127.0.0.1", denyInsideAllow, false},
		{"deny inside allow: the rest allowed", "127.0.0.2", denyInsideAllow, true},
		{"deny inside allowed private range", "10.9.8.7", denyInsideAllow, false},
		{"allowed private range around it", "10.8.8.7", denyInsideAllow, true},
		{"allow inside deny: deny wins", "10.1.2.3", allowInsideDeny, false},
		{"allow inside deny: a single address, deny wins", "127.0.0.1", allowInsideDeny, false},
		{"deny given as IPv4-mapped IPv6", "10.1.2.3", mappedDeny, false},
		{"deny given as IPv4-mapped IPv6, mapped address", "::ffff:10.1.2.3", mappedDeny, false},
		{"allowed link-local", "fe80::1", linkLocal, true},
		{"denied link-local with a zone", "fe80::dead%eth0", linkLocal, false},
	}
	for _, tc := range cases {
		err := tc.policy.Check(netip.MustParseAddr(tc.addr))
		if (err == nil) != tc.ok {
			t.Errorf("%s: Check(%s) = %v, want allowed=%v", tc.name, tc.addr, err, tc.ok)
		}
	}
	for _, bad := range []string{"localhost", "10.0.0.0/33", "300.1.1.1"} {
		if _, err := notify.ParseCIDRs(bad); err == nil {
			t.Errorf("ParseCIDRs(%q) accepted", bad)
		}
	}
}

// TestPolicyMessages: a range the admin denied says so and does not
// advise allowing it; a default refusal advises
// HERALD_WEBHOOK_ALLOW_CIDRS; the form's warning is one correct sentence
// for an IP literal and for a host name.
func TestPolicyMessages(t *testing.T) {
	ctx := context.Background()
	deny := notify.Policy{Allow: mustCIDRs(t, "127.0.0.0/8, ::1"), Deny: mustCIDRs(t, "127.0.0.1/32, 10.0.0.0/8")}
	errs := []struct {
		policy notify.Policy
		addr   string
		want   string
	}{
		{notify.Policy{}, "127.0.0.1", "refused by egress policy: 127.0.0.1 is a loopback address (allow it with HERALD_WEBHOOK_ALLOW_CIDRS)"},
		{notify.Policy{}, "::ffff:169.254.169.254", "refused by egress policy: 169.254.169.254 is a link-local address (allow it with HERALD_WEBHOOK_ALLOW_CIDRS)"},
		{notify.Policy{}, "0.0.0.7", "refused by egress policy: 0.0.0.7 is an address in 0.0.0.0/8 (“this network”) (allow it with HERALD_WEBHOOK_ALLOW_CIDRS)"},
		{deny, "127.0.0.1", "refused by egress policy: 127.0.0.1 is in 127.0.0.1/32, a range HERALD_WEBHOOK_DENY_CIDRS denies"},
		{deny, "10.1.2.3", "refused by egress policy: 10.1.2.3 is in 10.0.0.0/8, a range HERALD_WEBHOOK_DENY_CIDRS denies"},
	}
	for _, tc := range errs {
		err := tc.policy.Check(netip.MustParseAddr(tc.addr))
		if err == nil || err.Error() != tc.want {
			t.Errorf("Check(%s) = %v\nwant %s", tc.addr, err, tc.want)
		}
	}
	// localhost resolves to 127.0.0.1 on every machine the tests run on,
	// maybe to ::1 too; the warning names the first refused address.
	warnings := []struct {
		policy notify.Policy
		url    string
		want   []string
	}{
		{notify.Policy{}, "http://169.254.169.254/latest/meta-data", []string{
			"Deliveries to this URL will fail: 169.254.169.254 is a link-local address. To send them, allow it with HERALD_WEBHOOK_ALLOW_CIDRS."}},
		{notify.Policy{}, "http://[::1]:9/hook", []string{
			"Deliveries to this URL will fail: ::1 is a loopback address. To send them, allow it with HERALD_WEBHOOK_ALLOW_CIDRS."}},
		{deny, "https://10.1.2.3/hook", []string{
			"Deliveries to this URL will fail: 10.1.2.3 is in 10.0.0.0/8, a range HERALD_WEBHOOK_DENY_CIDRS denies."}},
		{notify.Policy{}, "http://localhost:9/hook", []string{
			"Deliveries to this URL will fail: localhost resolves to 127.0.0.1, a loopback address. To send them, allow it with HERALD_WEBHOOK_ALLOW_CIDRS.",
			"Deliveries to this URL will fail: localhost resolves to ::1, a loopback address. To send them, allow it with HERALD_WEBHOOK_ALLOW_CIDRS."}},
		{deny, "http://localhost:9/hook", []string{
			"Deliveries to this URL will fail: localhost resolves to 127.0.0.1, which is in 127.0.0.1/32, a range HERALD_WEBHOOK_DENY_CIDRS denies."}},
		{notify.Policy{}, "https://93.184.216.34/hook", []string{""}},
		{deny, "http://127.0.0.2/hook", []string{""}},
	}
	for _, tc := range warnings {
		if got := tc.policy.Warning(ctx, tc.url); !slices.Contains(tc.want, got) {
			t.Errorf("Warning(%s) = %q\nwant one of %q", tc.url, got, tc.want)
		}
	}
}

// TestEgressDenyWinsAtConnectTime: a receiver on 127.0.0.1 with
// 127.0.0.0/8 allowed and 127.0.0.1/32 denied gets nothing, on both
// engines; the attempt and the log say the address is in the denied
// range, without advising to allow it.
func TestEgressDenyWinsAtConnectTime(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, s *models.Store) {
		rc := newReceiver(t, nil)
		if !strings.HasPrefix(rc.URL, "http://127.0.0.1:") {
			t.Fatalf("the receiver is not on 127.0.0.1: %s", rc.URL)
		}
		c := addChannel(t, s, models.ChannelWebhook, rc.URL+"/hook", "0s")
		var logs safeBuffer
		policy := notify.Policy{Allow: mustCIDRs(t, "127.0.0.0/8"), Deny: mustCIDRs(t, "127.0.0.1/32")}
		e := notify.New(s, notify.Config{Timeout: time.Second, Policy: policy}, slog.New(slog.NewTextHandler(&logs, nil)))
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); e.Run(ctx) }()
		t.Cleanup(func() { cancel(); <-done })

		fire(t, s, "API")
		d := waitFinal(t, s, c.ID, 5*time.Second)
		as := attempts(t, s, d)
		const want = "refused by egress policy: 127.0.0.1 is in 127.0.0.1/32, a range HERALD_WEBHOOK_DENY_CIDRS denies"
		if d.State != models.DeliveryFailed || len(as) != 1 || as[0].ErrorClass != notify.ErrClassEgress || as[0].Error != want {
			t.Fatalf("delivery %+v attempts %+v", d, as)
		}
		if n := len(rc.requests()); n != 0 {
			t.Errorf("the receiver got %d requests", n)
		}
		if !strings.Contains(logs.String(), want) || strings.Contains(logs.String(), "ALLOW_CIDRS") {
			t.Errorf("the log does not carry the refusal as it is:\n%s", logs.String())
		}
	})
}

func TestEgressRefusesLoopbackByDefault(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, s *models.Store) {
		rc := newReceiver(t, nil)
		c := addChannel(t, s, models.ChannelWebhook, rc.URL, "0s")
		var logs safeBuffer
		e := notify.New(s, notify.Config{Timeout: time.Second}, slog.New(slog.NewTextHandler(&logs, nil)))
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); e.Run(ctx) }()
		t.Cleanup(func() { cancel(); <-done })

		fire(t, s, "API")
		d := waitFinal(t, s, c.ID, 5*time.Second)
		as := attempts(t, s, d)
		if d.State != models.DeliveryFailed || len(as) != 1 || as[0].ErrorClass != notify.ErrClassEgress ||
			!strings.Contains(as[0].Error, "refused by egress policy: 127.0.0.1 is a loopback address") {
			t.Fatalf("delivery %+v attempts %+v", d, as)
		}
		if n := len(rc.requests()); n != 0 {
			t.Errorf("the receiver got %d requests", n)
		}
		if !strings.Contains(logs.String(), "refused by egress policy") {
			t.Errorf("the refusal is not in the log:\n%s", logs.String())
		}
	})
}

func TestSendTest(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		rc := newReceiver(t, nil)
		c := addChannel(t, s, models.ChannelWebhook, rc.URL, "")
		e := startEngine(t, s, notify.Config{})
		for _, typ := range models.EventTypes {
			res, err := e.SendTest(ctx, c, typ)
			modelstest.Fatal(t, err, "send test %s", typ)
			if res.Attempt.ResponseStatus != 200 || res.Delivery.State != models.DeliveryDelivered ||
				!strings.Contains(res.Attempt.RequestBody, `"test":true`) ||
				!strings.Contains(res.Attempt.RequestBody, `"event":"`+string(typ)+`"`) {
				t.Errorf("%s: %+v", typ, res.Attempt)
			}
			got := rc.next(t, time.Second)
			if got.Header.Get("X-Request-ID") != res.Delivery.ID || !verifyHex(c.Secret, got.Body, got.Header.Get("X-Webhook-Signature")) {
				t.Errorf("%s: the receiver got %v", typ, got.Header)
			}
		}
		ds, err := s.Deliveries(ctx, models.DeliveryFilter{ChannelID: c.ID})
		modelstest.Fatal(t, err, "deliveries")
		if len(ds) != len(models.EventTypes) || !ds[0].Test {
			t.Errorf("test sends logged: %d, first %+v", len(ds), ds[0])
		}
		if _, err := e.SendTest(ctx, c, "incident.exploded"); err == nil {
			t.Error("a test of an unknown event type was sent")
		}
	})
}

// safeBuffer is a bytes.Buffer for concurrent log writes.
type safeBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *safeBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *safeBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
