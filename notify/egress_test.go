package notify_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
	"github.com/heraldstatus/herald/notify"
)

func TestPolicyCheck(t *testing.T) {
	deny, err := notify.ParseCIDRs("10.0.0.0/8")
	modelstest.Fatal(t, err, "parse deny")
	allow, err := notify.ParseCIDRs("127.0.0.1, 192.168.0.0/16")
	modelstest.Fatal(t, err, "parse allow")
	cases := []struct {
		addr   string
		policy notify.Policy
		ok     bool
	}{
		{"93.184.216.34", notify.Policy{}, true},
		{"2606:2800:220:1::1", notify.Policy{}, true},
		{"10.1.2.3", notify.Policy{}, true}, // private ranges are fine by default
		{"192.168.1.10", notify.Policy{}, true},
		{"127.0.0.1", notify.Policy{}, false},
		{"127.8.8.8", notify.Policy{}, false},
		{"::1", notify.Policy{}, false},
		{"::ffff:127.0.0.1", notify.Policy{}, false}, // IPv4-mapped loopback
		{"169.254.169.254", notify.Policy{}, false},  // cloud metadata
		{"fe80::1", notify.Policy{}, false},
		{"0.0.0.0", notify.Policy{}, false},
		{"::", notify.Policy{}, false},
		{"224.0.0.1", notify.Policy{}, false},
		{"ff02::1", notify.Policy{}, false},
		{"255.255.255.255", notify.Policy{}, false},
		{"10.1.2.3", notify.Policy{Deny: deny}, false},
		{"127.0.0.1", notify.Policy{Allow: allow}, true},
		{"127.0.0.2", notify.Policy{Allow: allow}, false},
		{"::ffff:127.0.0.1", notify.Policy{Allow: allow}, true},
	}
	for _, tc := range cases {
		err := tc.policy.Check(netip.MustParseAddr(tc.addr))
		if (err == nil) != tc.ok {
			t.Errorf("Check(%s) with %+v = %v, want allowed=%v", tc.addr, tc.policy, err, tc.ok)
		}
	}
	for _, bad := range []string{"localhost", "10.0.0.0/33", "300.1.1.1"} {
		if _, err := notify.ParseCIDRs(bad); err == nil {
			t.Errorf("ParseCIDRs(%q) accepted", bad)
		}
	}
	w := notify.Policy{}.Warning(context.Background(), "http://169.254.169.254/latest/meta-data")
	if !strings.Contains(w, "link-local") {
		t.Errorf("warning for the metadata address = %q", w)
	}
	if w := (notify.Policy{}).Warning(context.Background(), "http://localhost:9/hook"); !strings.Contains(w, "loopback") {
		t.Errorf("warning for localhost = %q", w)
	}
	if w := (notify.Policy{}).Warning(context.Background(), "https://93.184.216.34/hook"); w != "" {
		t.Errorf("warning for a public address = %q", w)
	}
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
