package web_test

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/heraldstatus/herald/models/modelstest"
	"github.com/heraldstatus/herald/web"
	"github.com/heraldstatus/herald/web/webtest"
)

// TestChannelFormEgressSentences runs Herald with 127.0.0.0/8 allowed
// and 127.0.0.1/32 denied, on both engines: the channel form and the API
// warn in one correct sentence, for an IP literal and for a host name,
// naming the denied range and not advising to allow it; a test send to a
// receiver on 127.0.0.1 is refused at connect time and says why; a
// link-local address still advises HERALD_WEBHOOK_ALLOW_CIDRS.
func TestChannelFormEgressSentences(t *testing.T) {
	for _, engine := range modelstest.Engines {
		t.Run(string(engine), func(t *testing.T) {
			s := webtest.StartWith(t, webtest.Options{Engine: engine, Configure: func(cfg *web.Config) {
				cfg.WebhookDenyCIDRs = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
			}})
			var got atomic.Int32
			rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { got.Add(1); w.WriteHeader(204) }))
			defer rc.Close()
			c := s.SetUp(t)
			_, port, _ := strings.Cut(strings.TrimPrefix(rc.URL, "http://"), ":")
			cases := []struct{ url, want string }{
				{rc.URL + "/hook", "Deliveries to this URL will fail: 127.0.0.1 is in 127.0.0.1/32, a range HERALD_WEBHOOK_DENY_CIDRS denies."},
				{"http://localhost:" + port + "/hook", "Deliveries to this URL will fail: localhost resolves to 127.0.0.1, which is in 127.0.0.1/32, a range HERALD_WEBHOOK_DENY_CIDRS denies."},
				{"http://169.254.169.254/latest", "Deliveries to this URL will fail: 169.254.169.254 is a link-local address. To send them, allow it with HERALD_WEBHOOK_ALLOW_CIDRS."},
			}
			for _, tc := range cases {
				id := createChannel(t, c, url.Values{"type": {"webhook"}, "name": {"Hook"}, "url": {tc.url}, "enabled": {"1"}})
				page := c.Get(channelURL(id))
				wantBody(t, page, `class="flash flash-warning"`, tc.want)
				if strings.Contains(tc.want, "DENY") {
					wantNotBody(t, page, "ALLOW_CIDRS")
				}
			}
			id := createChannel(t, c, url.Values{"type": {"webhook"}, "name": {"Local"}, "url": {rc.URL + "/hook"}, "enabled": {"1"}})
			res := c.Submit(channelURL(id), channelURL(id)+"/test", url.Values{"event": {"incident.created"}})
			wantBody(t, res, "refused by egress policy: 127.0.0.1 is in 127.0.0.1/32, a range HERALD_WEBHOOK_DENY_CIDRS denies", `<span class="tag">egress</span>`)
			if n := got.Load(); n != 0 {
				t.Errorf("the denied receiver got %d requests", n)
			}
		})
	}
}
