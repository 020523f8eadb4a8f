package web

import (
	"net/http/httptest"
	"net/netip"
	"testing"
)

// TestTrustedProxies: without HERALD_TRUSTED_PROXIES, X-Forwarded-For is
// ignored; with it, the header counts only when the TCP peer is a listed
// proxy, and is read from the right past the listed proxies only (loopback
// and private ranges are not trusted unless listed). A setting that is not
// a list of ranges is refused.
func TestTrustedProxies(t *testing.T) {
	cfg, _, err := LoadConfig("test", nil, getenvFrom(map[string]string{"HERALD_TRUSTED_PROXIES": "10.1.0.0/16, ::1/128"}))
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if len(cfg.TrustedProxies) != 2 || cfg.TrustedProxies[0] != netip.MustParsePrefix("10.1.0.0/16") {
		t.Fatalf("TrustedProxies = %v", cfg.TrustedProxies)
	}
	if _, _, err := LoadConfig("test", nil, getenvFrom(map[string]string{"HERALD_TRUSTED_PROXIES": "proxy.internal"})); !IsConfigError(err) {
		t.Fatalf("a host name as a proxy range: err = %v, want a config error", err)
	}
	cases := []struct {
		name    string
		proxies []netip.Prefix
		peer    string
		xff     string
		want    string
	}{
		{"no proxies: header ignored", nil, "10.1.2.3:5000", "203.0.113.5", "10.1.2.3"},
		{"from a trusted proxy", cfg.TrustedProxies, "10.1.2.3:5000", "203.0.113.5", "203.0.113.5"},
		{"from an untrusted peer", cfg.TrustedProxies, "198.51.100.7:5000", "203.0.113.5", "198.51.100.7"},
		{"loopback not listed", []netip.Prefix{netip.MustParsePrefix("10.1.0.0/16")}, "127.0.0.1:5000", "203.0.113.5", "127.0.0.1"},
		{"private range not listed", cfg.TrustedProxies, "192.168.1.1:5000", "203.0.113.5", "192.168.1.1"},
		{"forged left part", cfg.TrustedProxies, "10.1.2.3:5000", "192.0.2.66, 203.0.113.5", "203.0.113.5"},
		{"chain of proxies", cfg.TrustedProxies, "[::1]:5000", "203.0.113.5, 10.1.9.9", "203.0.113.5"},
		{"no header", cfg.TrustedProxies, "10.1.2.3:5000", "", "10.1.2.3"},
		{"garbage header", cfg.TrustedProxies, "10.1.2.3:5000", "not-an-ip", "10.1.2.3"},
	}
	for _, tc := range cases {
		req := httptest.NewRequest("GET", "/", nil)
		req.RemoteAddr = tc.peer
		if tc.xff != "" {
			req.Header.Set("X-Forwarded-For", tc.xff)
		}
		if got := ipExtractor(tc.proxies)(req); got != tc.want {
			t.Errorf("%s: client %q, want %q", tc.name, got, tc.want)
		}
	}
}
