package web

import (
	"errors"
	"net/netip"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func getenvFrom(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestLoadConfigDefaults(t *testing.T) {
	cfg, fs, err := LoadConfig("herald serve", nil, getenvFrom(nil))
	if err != nil {
		t.Fatalf("LoadConfig with no settings: %v", err)
	}
	want := Config{
		Addr:            ":8080",
		DatabaseURL:     filepath.Join("data", "herald.db"),
		DataDir:         "./data",
		BaseURL:         "http://localhost:8080",
		LogFormat:       "text",
		LogLevel:        "info",
		SessionTTL:      168 * time.Hour,
		MaxBodyBytes:    1 << 20,
		ShutdownTimeout: 15 * time.Second,
		RequestTimeout:  10 * time.Second,

		WebhookTimeout:      10 * time.Second,
		DeliveryWorkers:     32,
		DeliveryPoll:        5 * time.Second,
		DeliveryRetention:   720 * time.Hour,
		ChannelDisableAfter: 10,
		RotationWindow:      24 * time.Hour,
		PublicMaxAge:        10 * time.Second,
		SMTPConnections:     4,
	}
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("defaults:\n got %+v\nwant %+v", cfg, want)
	}
	if cfg.SecureCookies() {
		t.Error("SecureCookies() on the http default base URL = true, want false")
	}
	if fs.NArg() != 0 {
		t.Errorf("NArg = %d, want 0", fs.NArg())
	}
}

func TestLoadConfigSources(t *testing.T) {
	tests := []struct {
		name  string
		env   map[string]string
		args  []string
		check func(t *testing.T, c Config)
	}{
		{
			name: "environment sets every value",
			env: map[string]string{
				"HERALD_ADDR":                "127.0.0.1:9000",
				"HERALD_DATABASE_URL":        "postgres://herald@db:5432/herald?sslmode=disable",
				"HERALD_DATA_DIR":            "/var/lib/herald",
				"HERALD_BASE_URL":            "https://status.example.com/",
				"HERALD_SECRET_KEY":          strings.Repeat("x", 32),
				"HERALD_LOG_FORMAT":          "json",
				"HERALD_LOG_LEVEL":           "debug",
				"HERALD_SESSION_TTL":         "12h",
				"HERALD_SHUTDOWN_TIMEOUT":    "30s",
				"HERALD_REQUEST_TIMEOUT":     "4s",
				"HERALD_WEBHOOK_TIMEOUT":     "3s",
				"HERALD_WEBHOOK_ALLOW_CIDRS": "127.0.0.0/8, ::1",
				"HERALD_WEBHOOK_DENY_CIDRS":  "10.0.0.0/8",
			},
			check: func(t *testing.T, c Config) {
				want := Config{
					Addr:            "127.0.0.1:9000",
					DatabaseURL:     "postgres://herald@db:5432/herald?sslmode=disable",
					DataDir:         "/var/lib/herald",
					BaseURL:         "https://status.example.com",
					SecretKey:       strings.Repeat("x", 32),
					LogFormat:       "json",
					LogLevel:        "debug",
					SessionTTL:      12 * time.Hour,
					MaxBodyBytes:    1 << 20,
					ShutdownTimeout: 30 * time.Second,
					RequestTimeout:  4 * time.Second,

					WebhookTimeout:      3 * time.Second,
					WebhookAllowCIDRs:   []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")},
					WebhookDenyCIDRs:    []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")},
					DeliveryWorkers:     32,
					DeliveryPoll:        5 * time.Second,
					DeliveryRetention:   720 * time.Hour,
					ChannelDisableAfter: 10,
					RotationWindow:      24 * time.Hour,
					PublicMaxAge:        10 * time.Second,
					SMTPConnections:     4,
				}
				if !reflect.DeepEqual(c, want) {
					t.Errorf("\n got %+v\nwant %+v", c, want)
				}
			},
		},
		{
			name: "flags override the environment",
			env:  map[string]string{"HERALD_ADDR": ":9000", "HERALD_LOG_FORMAT": "json", "HERALD_SESSION_TTL": "1h"},
			args: []string{"--addr", ":7000", "-log-format=text", "--session-ttl=2h"},
			check: func(t *testing.T, c Config) {
				if c.Addr != ":7000" || c.LogFormat != "text" || c.SessionTTL != 2*time.Hour {
					t.Errorf("got addr %q, log format %q, session TTL %v; want the flags' :7000, text, 2h", c.Addr, c.LogFormat, c.SessionTTL)
				}
				if c.BaseURL != "http://localhost:7000" {
					t.Errorf("BaseURL = %q, want it derived from the flag's address", c.BaseURL)
				}
			},
		},
		{
			name: "empty variable keeps the default",
			env:  map[string]string{"HERALD_ADDR": "", "HERALD_LOG_FORMAT": ""},
			check: func(t *testing.T, c Config) {
				if c.Addr != ":8080" || c.LogFormat != "text" {
					t.Errorf("got addr %q, log format %q; want the defaults", c.Addr, c.LogFormat)
				}
			},
		},
		{
			name: "database defaults to herald.db in the data directory",
			env:  map[string]string{"HERALD_DATA_DIR": "/srv/herald"},
			check: func(t *testing.T, c Config) {
				if want := filepath.Join("/srv/herald", "herald.db"); c.DatabaseURL != want {
					t.Errorf("DatabaseURL = %q, want %q", c.DatabaseURL, want)
				}
			},
		},
		{
			name: "SQLite path and sqlite:// URL are kept",
			args: []string{"--database-url", "sqlite:///tmp/h.db"},
			check: func(t *testing.T, c Config) {
				if c.DatabaseURL != "sqlite:///tmp/h.db" {
					t.Errorf("DatabaseURL = %q", c.DatabaseURL)
				}
			},
		},
		{
			name: "postgresql:// URL is accepted",
			env:  map[string]string{"HERALD_DATABASE_URL": "postgresql://db/herald"},
			check: func(t *testing.T, c Config) {
				if c.DatabaseURL != "postgresql://db/herald" {
					t.Errorf("DatabaseURL = %q", c.DatabaseURL)
				}
			},
		},
		{
			name: "secret key of exactly 32 characters is enough",
			env:  map[string]string{"HERALD_SECRET_KEY": strings.Repeat("k", 32)},
			check: func(t *testing.T, c Config) {
				if len(c.SecretKey) != 32 {
					t.Errorf("SecretKey has %d characters", len(c.SecretKey))
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, _, err := LoadConfig("herald serve", tc.args, getenvFrom(tc.env))
			if err != nil {
				t.Fatalf("LoadConfig: %v", err)
			}
			tc.check(t, cfg)
		})
	}
}

func TestLoadConfigBaseURL(t *testing.T) {
	tests := []struct {
		name, addr, baseURL string
		want                string
		secure              bool
	}{
		{name: "port only means localhost", addr: ":8080", want: "http://localhost:8080"},
		{name: "loopback host is kept", addr: "127.0.0.1:9000", want: "http://127.0.0.1:9000"},
		{name: "IPv4 wildcard means localhost", addr: "0.0.0.0:80", want: "http://localhost:80"},
		{name: "IPv6 wildcard means localhost", addr: "[::]:8080", want: "http://localhost:8080"},
		{name: "IPv6 host is bracketed", addr: "[::1]:8080", want: "http://[::1]:8080"},
		{name: "explicit https URL wins and makes cookies secure", addr: ":8080", baseURL: "https://status.example.com", want: "https://status.example.com", secure: true},
		{name: "trailing slash is trimmed", addr: ":8080", baseURL: "https://status.example.com/", want: "https://status.example.com", secure: true},
		{name: "explicit http URL keeps cookies plain", addr: ":8080", baseURL: "http://status.internal", want: "http://status.internal"},
		{name: "host is lower-cased and an empty port dropped", addr: ":8080", baseURL: "HTTPS://Status.Example.com:/", want: "https://status.example.com", secure: true},
		{name: "international host in punycode, path encoded", addr: ":8080", baseURL: "https://bücher.example/état", want: "https://xn--bcher-kva.example/%C3%A9tat", secure: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{"HERALD_ADDR": tc.addr, "HERALD_BASE_URL": tc.baseURL}
			cfg, _, err := LoadConfig("herald serve", nil, getenvFrom(env))
			if err != nil {
				t.Fatalf("LoadConfig: %v", err)
			}
			if cfg.BaseURL != tc.want {
				t.Errorf("BaseURL = %q, want %q", cfg.BaseURL, tc.want)
			}
			if cfg.SecureCookies() != tc.secure {
				t.Errorf("SecureCookies() = %v, want %v", cfg.SecureCookies(), tc.secure)
			}
		})
	}
}

func TestLoadConfigErrorsNameTheSetting(t *testing.T) {
	tests := []struct {
		name      string
		env       map[string]string
		args      []string
		env2, flg string
	}{
		{name: "address without port", env: map[string]string{"HERALD_ADDR": "nonsense"}, env2: "HERALD_ADDR", flg: "addr"},
		{name: "address with empty port", env: map[string]string{"HERALD_ADDR": "localhost:"}, env2: "HERALD_ADDR", flg: "addr"},
		{name: "database URL of another engine", env: map[string]string{"HERALD_DATABASE_URL": "mysql://db/herald"}, env2: "HERALD_DATABASE_URL", flg: "database-url"},
		{name: "empty data directory flag", args: []string{"--data-dir="}, env2: "HERALD_DATA_DIR", flg: "data-dir"},
		{name: "base URL without scheme", env: map[string]string{"HERALD_BASE_URL": "status.example.com"}, env2: "HERALD_BASE_URL", flg: "base-url"},
		{name: "base URL with ftp scheme", env: map[string]string{"HERALD_BASE_URL": "ftp://status.example.com"}, env2: "HERALD_BASE_URL", flg: "base-url"},
		{name: "base URL with a space", env: map[string]string{"HERALD_BASE_URL": "https://status.example.com/my status"}, env2: "HERALD_BASE_URL", flg: "base-url"},
		{name: "base URL with a port out of range", env: map[string]string{"HERALD_BASE_URL": "https://status.example.com:70000"}, env2: "HERALD_BASE_URL", flg: "base-url"},
		{name: "secret key of 31 characters", env: map[string]string{"HERALD_SECRET_KEY": strings.Repeat("k", 31)}, env2: "HERALD_SECRET_KEY", flg: "secret-key"},
		{name: "log format xml", env: map[string]string{"HERALD_LOG_FORMAT": "xml"}, env2: "HERALD_LOG_FORMAT", flg: "log-format"},
		{name: "log format by flag", args: []string{"--log-format", "yaml"}, env2: "HERALD_LOG_FORMAT", flg: "log-format"},
		{name: "log level", env: map[string]string{"HERALD_LOG_LEVEL": "verbose"}, env2: "HERALD_LOG_LEVEL", flg: "log-level"},
		{name: "session TTL not a duration", env: map[string]string{"HERALD_SESSION_TTL": "a week"}, env2: "HERALD_SESSION_TTL", flg: "session-ttl"},
		{name: "session TTL negative", env: map[string]string{"HERALD_SESSION_TTL": "-1h"}, env2: "HERALD_SESSION_TTL", flg: "session-ttl"},
		{name: "shutdown timeout zero", env: map[string]string{"HERALD_SHUTDOWN_TIMEOUT": "0s"}, env2: "HERALD_SHUTDOWN_TIMEOUT", flg: "shutdown-timeout"},
		{name: "allow CIDRs not ranges", env: map[string]string{"HERALD_WEBHOOK_ALLOW_CIDRS": "localhost"}, env2: "HERALD_WEBHOOK_ALLOW_CIDRS", flg: "webhook-allow-cidrs"},
		{name: "deny CIDR bad mask", env: map[string]string{"HERALD_WEBHOOK_DENY_CIDRS": "10.0.0.0/33"}, env2: "HERALD_WEBHOOK_DENY_CIDRS", flg: "webhook-deny-cidrs"},
		{name: "workers zero", env: map[string]string{"HERALD_DELIVERY_WORKERS": "0"}, env2: "HERALD_DELIVERY_WORKERS", flg: "delivery-workers"},
		{name: "metrics token of 15 characters", env: map[string]string{"HERALD_METRICS_TOKEN": strings.Repeat("m", 15)}, env2: "HERALD_METRICS_TOKEN", flg: "metrics-token"},
		{name: "metrics token with a space", env: map[string]string{"HERALD_METRICS_TOKEN": "abcdefgh ijklmnopq"}, env2: "HERALD_METRICS_TOKEN", flg: "metrics-token"},
		{name: "SMTP URL of another scheme", env: map[string]string{"HERALD_SMTP_URL": "http://mail.example.com", "HERALD_SMTP_FROM": "s@example.com"}, env2: "HERALD_SMTP_URL", flg: "smtp-url"},
		{name: "SMTP URL with a bad port", env: map[string]string{"HERALD_SMTP_URL": "smtp://mail.example.com:99999", "HERALD_SMTP_FROM": "s@example.com"}, env2: "HERALD_SMTP_URL", flg: "smtp-url"},
		{name: "SMTP without a sender", env: map[string]string{"HERALD_SMTP_URL": "smtps://u:p@mail.example.com"}, env2: "HERALD_SMTP_FROM", flg: "smtp-from"},
		{name: "SMTP sender with a line break", env: map[string]string{"HERALD_SMTP_URL": "smtp://mail.example.com", "HERALD_SMTP_FROM": "s@example.com\r\nBcc: eve@example.com"}, env2: "HERALD_SMTP_FROM", flg: "smtp-from"},
		{name: "SMTP sender without its server", env: map[string]string{"HERALD_SMTP_FROM": "s@example.com"}, env2: "HERALD_SMTP_URL", flg: "smtp-url"},
		{name: "disable after words", env: map[string]string{"HERALD_CHANNEL_DISABLE_AFTER": "ten"}, env2: "HERALD_CHANNEL_DISABLE_AFTER", flg: "channel-disable-after"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := LoadConfig("herald serve", tc.args, getenvFrom(tc.env))
			if err == nil {
				t.Fatal("LoadConfig accepted the bad value")
			}
			var ce *ConfigError
			if !errors.As(err, &ce) || !IsConfigError(err) {
				t.Fatalf("error %v (%T) is not a *ConfigError", err, err)
			}
			if ce.Env != tc.env2 || ce.Flag != tc.flg {
				t.Errorf("error names %s/--%s, want %s/--%s", ce.Env, ce.Flag, tc.env2, tc.flg)
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.env2) || !strings.Contains(msg, "--"+tc.flg) || strings.Contains(msg, "\n") {
				t.Errorf("message %q should be one line naming %s and --%s", msg, tc.env2, tc.flg)
			}
		})
	}
}

func TestSettingsAreConsistent(t *testing.T) {
	seen := map[string]bool{}
	for _, s := range settings() {
		if !strings.HasPrefix(s.env, "HERALD_") {
			t.Errorf("setting --%s reads %s, want a HERALD_ variable", s.flag, s.env)
		}
		if want := "HERALD_" + strings.ToUpper(strings.ReplaceAll(s.flag, "-", "_")); s.env != want {
			t.Errorf("flag --%s pairs with %s, want %s", s.flag, s.env, want)
		}
		if s.usage == "" {
			t.Errorf("setting %s has no usage text", s.env)
		}
		if seen[s.env] {
			t.Errorf("setting %s is listed twice", s.env)
		}
		seen[s.env] = true
	}
	if IsConfigError(errors.New("other")) {
		t.Error("IsConfigError(plain error) = true")
	}
}
