package web

import (
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/notify"
)

// Config is Herald's configuration, read once at start-up from flags and
// HERALD_* environment variables (flags win).
type Config struct {
	Addr        string
	DatabaseURL string
	DataDir     string
	BaseURL     string
	SecretKey   string
	LogFormat   string
	LogLevel    string
	SessionTTL  time.Duration
	// MaxBodyBytes limits every request body.
	MaxBodyBytes int64
	// ShutdownTimeout bounds graceful shutdown.
	ShutdownTimeout time.Duration
	// RequestTimeout bounds how long a request waits on the database
	// (then 503); it is also PostgreSQL's statement_timeout and the
	// deadline of a public snapshot rebuild.
	RequestTimeout time.Duration

	// Delivery of notifications (SPEC §5.4).
	WebhookTimeout      time.Duration
	WebhookAllowCIDRs   []netip.Prefix
	WebhookDenyCIDRs    []netip.Prefix
	DeliveryWorkers     int
	DeliveryRetention   time.Duration
	DeliveryPoll        time.Duration
	ChannelDisableAfter int
	RotationWindow      time.Duration
	// PublicMaxAge is the Cache-Control max-age of public responses.
	PublicMaxAge time.Duration
	// SMTPURL and SMTPFrom send subscribers' e-mails (empty URL: off).
	SMTPURL  string
	SMTPFrom string
	// SMTPConnections is how many SMTP connections send at once.
	SMTPConnections int
	// ReceiverTLS, when set, replaces the system's roots for HTTPS to
	// receivers (tests: an httptest TLS receiver). No flag sets it.
	ReceiverTLS *tls.Config
	// TrustedProxies are the reverse proxies whose X-Forwarded-For names
	// the client; none: the TCP peer is the client.
	TrustedProxies []netip.Prefix
	// MetricsToken, when set, is the bearer token GET /metrics requires;
	// empty leaves /metrics public.
	MetricsToken string

	// Single sign-on with OpenID Connect (empty issuer: off). The
	// mappings are "name=role" lists: e-mail domains and groups.
	OIDCIssuer       string
	OIDCClientID     string
	OIDCClientSecret string
	OIDCRedirectURL  string
	OIDCScopes       string
	OIDCDomains      string
	OIDCGroupsClaim  string
	OIDCGroups       string
}

// Notify is the delivery engine's configuration.
func (c Config) Notify(version string) notify.Config {
	return notify.Config{
		Timeout:      c.WebhookTimeout,
		StoreTimeout: c.RequestTimeout,
		Workers:      c.DeliveryWorkers,
		Poll:         c.DeliveryPoll,
		DisableAfter: c.ChannelDisableAfter,
		Retention:    c.DeliveryRetention,
		Policy:       c.Egress(),
		Version:      version,
		SMTP:         c.SMTP(),
		TLS:          c.ReceiverTLS,
	}
}

// SMTP is the subscribers' e-mail server, nil when none is configured.
func (c Config) SMTP() *notify.SMTPConfig {
	if c.SMTPURL == "" {
		return nil
	}
	return &notify.SMTPConfig{URL: c.SMTPURL, From: c.SMTPFrom, Connections: c.SMTPConnections}
}

// Egress is the webhook egress policy.
func (c Config) Egress() notify.Policy {
	return notify.Policy{Allow: c.WebhookAllowCIDRs, Deny: c.WebhookDenyCIDRs}
}

// setting is one configuration knob: its flag, its variable and its default.
type setting struct {
	flag, env, def, usage string
	apply                 func(c *Config, v string) error
}

// kind is what a setting takes, as -h shows it.
func (s setting) kind() string {
	switch {
	case strings.HasSuffix(s.flag, "-cidrs"), s.flag == "trusted-proxies":
		return "list"
	case s.def != "" && s.def[0] >= '0' && s.def[0] <= '9' && strings.IndexFunc(s.def, func(r rune) bool { return r < '0' || r > '9' }) < 0:
		return "int"
	case s.def != "" && isDuration(s.def):
		return "duration"
	}
	return "string"
}

func isDuration(v string) bool {
	_, err := time.ParseDuration(v)
	return err == nil && strings.IndexAny(v, "hms") >= 0
}

func settings() []setting {
	str := func(dst func(*Config) *string) func(*Config, string) error {
		return func(c *Config, v string) error { *dst(c) = v; return nil }
	}
	dur := func(dst func(*Config) *time.Duration) func(*Config, string) error {
		return func(c *Config, v string) error {
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return fmt.Errorf("want a positive duration such as 30s or 12h, got %q", v)
			}
			*dst(c) = d
			return nil
		}
	}
	cidrs := func(dst func(*Config) *[]netip.Prefix) func(*Config, string) error {
		return func(c *Config, v string) error {
			p, err := notify.ParseCIDRs(v)
			if err != nil {
				return fmt.Errorf("want CIDR ranges separated by commas, such as 127.0.0.0/8,10.1.0.0/16: %w", err)
			}
			*dst(c) = p
			return nil
		}
	}
	count := func(dst func(*Config) *int) func(*Config, string) error {
		return func(c *Config, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 10000 {
				return fmt.Errorf("want a whole number from 1 to 10000, got %q", v)
			}
			*dst(c) = n
			return nil
		}
	}
	return []setting{
		{"addr", "HERALD_ADDR", ":8080", "address to listen on", str(func(c *Config) *string { return &c.Addr })},
		{"database-url", "HERALD_DATABASE_URL", "", "postgres:// URL, or a SQLite file path (default: DATA_DIR/herald.db)", str(func(c *Config) *string { return &c.DatabaseURL })},
		{"data-dir", "HERALD_DATA_DIR", "./data", "directory for the SQLite file and the generated secret key", str(func(c *Config) *string { return &c.DataDir })},
		{"base-url", "HERALD_BASE_URL", "", "public URL of this Herald, used in links and feeds (default: http://localhost:PORT)", str(func(c *Config) *string { return &c.BaseURL })},
		{"secret-key", "HERALD_SECRET_KEY", "", "secret for cookies and encrypted channel secrets, at least 32 characters (default: generated into DATA_DIR)", str(func(c *Config) *string { return &c.SecretKey })},
		{"log-format", "HERALD_LOG_FORMAT", "text", "log format: text or json", str(func(c *Config) *string { return &c.LogFormat })},
		{"log-level", "HERALD_LOG_LEVEL", "info", "log level: debug, info, warn or error", str(func(c *Config) *string { return &c.LogLevel })},
		{"session-ttl", "HERALD_SESSION_TTL", "168h", "how long an admin stays signed in", dur(func(c *Config) *time.Duration { return &c.SessionTTL })},
		{"shutdown-timeout", "HERALD_SHUTDOWN_TIMEOUT", "15s", "how long shutdown waits for in-flight work", dur(func(c *Config) *time.Duration { return &c.ShutdownTimeout })},
		{"request-timeout", "HERALD_REQUEST_TIMEOUT", "10s", "how long a request may wait on the database before it is answered 503; also PostgreSQL's statement_timeout", dur(func(c *Config) *time.Duration { return &c.RequestTimeout })},
		{"webhook-timeout", "HERALD_WEBHOOK_TIMEOUT", "10s", "timeout of one notification attempt", dur(func(c *Config) *time.Duration { return &c.WebhookTimeout })},
		{"webhook-allow-cidrs", "HERALD_WEBHOOK_ALLOW_CIDRS", "", "address ranges notifications may reach although refused by default (loopback, link-local, multicast), e.g. 127.0.0.0/8", cidrs(func(c *Config) *[]netip.Prefix { return &c.WebhookAllowCIDRs })},
		{"webhook-deny-cidrs", "HERALD_WEBHOOK_DENY_CIDRS", "", "address ranges notifications may never reach, even inside allowed ones (deny wins), e.g. 10.0.0.0/8", cidrs(func(c *Config) *[]netip.Prefix { return &c.WebhookDenyCIDRs })},
		{"delivery-workers", "HERALD_DELIVERY_WORKERS", "32", "most notification attempts under a second old in flight at once in this process (4× as many slower ones may run beside them)", count(func(c *Config) *int { return &c.DeliveryWorkers })},
		{"delivery-poll", "HERALD_DELIVERY_POLL", "5s", "how often to look for due deliveries when no wake-up arrives", dur(func(c *Config) *time.Duration { return &c.DeliveryPoll })},
		{"delivery-retention", "HERALD_DELIVERY_RETENTION", "720h", "how long finished deliveries stay in the delivery log", dur(func(c *Config) *time.Duration { return &c.DeliveryRetention })},
		{"channel-disable-after", "HERALD_CHANNEL_DISABLE_AFTER", "10", "disable a channel after this many consecutive failed events (over at least 24 h)", count(func(c *Config) *int { return &c.ChannelDisableAfter })},
		{"public-max-age", "HERALD_PUBLIC_MAX_AGE", "10s", "how long browsers and proxies may cache the public page, JSON, feeds and badges", dur(func(c *Config) *time.Duration { return &c.PublicMaxAge })},
		{"secret-rotation-window", "HERALD_SECRET_ROTATION_WINDOW", "24h", "how long a rotated-out webhook signing secret keeps signing", dur(func(c *Config) *time.Duration { return &c.RotationWindow })},
		{"smtp-url", "HERALD_SMTP_URL", "", "SMTP server for subscribers' e-mails: smtp://user:pass@host:587 (STARTTLS when offered) or smtps://user:pass@host:465 (default: e-mail subscriptions off)", str(func(c *Config) *string { return &c.SMTPURL })},
		{"smtp-from", "HERALD_SMTP_FROM", "", "sender of subscribers' e-mails, e.g. \"Example status <status@example.com>\" (required with HERALD_SMTP_URL)", str(func(c *Config) *string { return &c.SMTPFrom })},
		{"smtp-connections", "HERALD_SMTP_CONNECTIONS", "4", "most SMTP connections sending subscribers' e-mails at once (a few e-mails share one)", count(func(c *Config) *int { return &c.SMTPConnections })},
		{"trusted-proxies", "HERALD_TRUSTED_PROXIES", "", "address ranges of the reverse proxies whose X-Forwarded-For header names the client, e.g. 10.0.0.0/8,::1/128 (default: none, the TCP peer is the client)", cidrs(func(c *Config) *[]netip.Prefix { return &c.TrustedProxies })},
		{"metrics-token", "HERALD_METRICS_TOKEN", "", "bearer token that GET /metrics requires, at least 16 characters (default: /metrics is public)", str(func(c *Config) *string { return &c.MetricsToken })},
		{"oidc-issuer", "HERALD_OIDC_ISSUER", "", "OpenID Connect issuer URL for single sign-on, e.g. https://sso.example.com/realms/acme (default: SSO off)", str(func(c *Config) *string { return &c.OIDCIssuer })},
		{"oidc-client-id", "HERALD_OIDC_CLIENT_ID", "", "client ID of Herald at the identity provider", str(func(c *Config) *string { return &c.OIDCClientID })},
		{"oidc-client-secret", "HERALD_OIDC_CLIENT_SECRET", "", "client secret of Herald at the identity provider", str(func(c *Config) *string { return &c.OIDCClientSecret })},
		{"oidc-redirect-url", "HERALD_OIDC_REDIRECT_URL", "", "callback URL to register at the provider (default: BASE_URL/auth/oidc/callback)", str(func(c *Config) *string { return &c.OIDCRedirectURL })},
		{"oidc-scopes", "HERALD_OIDC_SCOPES", "", "scopes to request, separated by spaces (default: openid email profile, and groups when HERALD_OIDC_GROUPS is set)", str(func(c *Config) *string { return &c.OIDCScopes })},
		{"oidc-domains", "HERALD_OIDC_DOMAINS", "", "verified e-mail domains allowed in, each with its role, e.g. example.com=operator,corp.example=viewer", str(func(c *Config) *string { return &c.OIDCDomains })},
		{"oidc-groups-claim", "HERALD_OIDC_GROUPS_CLAIM", "", "ID token claim that lists the user's groups (default: groups)", str(func(c *Config) *string { return &c.OIDCGroupsClaim })},
		{"oidc-groups", "HERALD_OIDC_GROUPS", "", "groups allowed in, each with its role, e.g. herald-admins=admin,oncall=operator (the highest matching role wins)", str(func(c *Config) *string { return &c.OIDCGroups })},
	}
}

// ConfigError names the setting that is wrong.
type ConfigError struct {
	Env, Flag string
	Err       error
}

func (e *ConfigError) Error() string {
	return fmt.Sprintf("invalid configuration: %s (--%s): %v", e.Env, e.Flag, e.Err)
}

// LoadConfig parses args (without the subcommand) over the environment.
func LoadConfig(name string, args []string, getenv func(string) string) (Config, *flag.FlagSet, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	load := ConfigFlags(fs, getenv)
	if err := fs.Parse(args); err != nil {
		return Config{}, fs, err
	}
	cfg, err := load()
	return cfg, fs, err
}

// ConfigFlags registers every setting on fs, with defaults taken from the
// environment, and returns the function that builds the Config once fs has
// parsed its arguments. Subcommands add their own flags to the same set.
func ConfigFlags(fs *flag.FlagSet, getenv func(string) string) func() (Config, error) {
	values := map[string]*string{}
	kinds := map[string]string{}
	all := settings()
	for _, s := range all {
		def := s.def
		if v := getenv(s.env); v != "" {
			def = v
		}
		values[s.flag] = fs.String(s.flag, def, s.usage+" ["+s.env+"]")
		kinds[s.flag] = s.kind()
	}
	fs.Usage = func() { printUsage(fs, kinds) }
	return func() (Config, error) {
		cfg := Config{MaxBodyBytes: 1 << 20}
		for _, s := range all {
			if err := s.apply(&cfg, *values[s.flag]); err != nil {
				return cfg, &ConfigError{Env: s.env, Flag: s.flag, Err: err}
			}
		}
		return cfg, cfg.validate()
	}
}

// printUsage is flag.PrintDefaults with each setting's kind (duration,
// int, list, string) in place of the string every setting is parsed from.
func printUsage(fs *flag.FlagSet, kinds map[string]string) {
	w := fs.Output()
	fmt.Fprintf(w, "Usage of %s:\n", fs.Name())
	fs.VisitAll(func(f *flag.Flag) {
		kind, usage := flag.UnquoteUsage(f)
		if k, ok := kinds[f.Name]; ok {
			kind = k
		}
		line := "  -" + f.Name
		if kind != "" {
			line += " " + kind
		}
		line += "\n    \t" + strings.ReplaceAll(usage, "\n", "\n    \t")
		if f.DefValue != "" && f.DefValue != "false" {
			if kind == "string" {
				line += fmt.Sprintf(" (default %q)", f.DefValue)
			} else {
				line += " (default " + f.DefValue + ")"
			}
		}
		fmt.Fprintln(w, line)
	})
}

func (c *Config) validate() error {
	fail := func(env, flag, format string, args ...any) error {
		return &ConfigError{Env: env, Flag: flag, Err: fmt.Errorf(format, args...)}
	}
	host, port, err := net.SplitHostPort(c.Addr)
	if err != nil || port == "" {
		return fail("HERALD_ADDR", "addr", "want host:port or :port, got %q", c.Addr)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fail("HERALD_ADDR", "addr", "want a port number from 0 to 65535, got %q", port)
	}
	if c.DataDir == "" {
		return fail("HERALD_DATA_DIR", "data-dir", "must not be empty")
	}
	if c.DatabaseURL == "" {
		c.DatabaseURL = filepath.Join(c.DataDir, "herald.db")
	}
	if strings.Contains(c.DatabaseURL, "://") && !strings.HasPrefix(c.DatabaseURL, "postgres://") &&
		!strings.HasPrefix(c.DatabaseURL, "postgresql://") && !strings.HasPrefix(c.DatabaseURL, "sqlite://") {
		return fail("HERALD_DATABASE_URL", "database-url", "want a postgres:// URL or a SQLite file path")
	}
	if c.BaseURL == "" {
		if host == "" || host == "0.0.0.0" || host == "::" {
			host = "localhost"
		}
		c.BaseURL = "http://" + net.JoinHostPort(host, port)
	}
	base, err := models.NormalizeURL(c.BaseURL, models.URLOptions{Subject: "The base URL"})
	if err != nil {
		return fail("HERALD_BASE_URL", "base-url", "want an absolute http(s) URL such as https://status.example.com, got %q: %s", c.BaseURL, err)
	}
	c.BaseURL = strings.TrimRight(base, "/")
	if c.SecretKey != "" && len(c.SecretKey) < 32 {
		return fail("HERALD_SECRET_KEY", "secret-key", "must be at least 32 characters (try: openssl rand -hex 32)")
	}
	if c.MetricsToken != "" && (len(c.MetricsToken) < 16 || strings.ContainsFunc(c.MetricsToken, func(r rune) bool { return r <= ' ' || r >= 0x7f })) {
		return fail("HERALD_METRICS_TOKEN", "metrics-token", "want at least 16 printable ASCII characters without spaces (try: openssl rand -hex 32)")
	}
	if c.SMTPURL != "" {
		if err := notify.CheckSMTPURL(c.SMTPURL); err != nil {
			return fail("HERALD_SMTP_URL", "smtp-url", "%v", err)
		}
		if err := notify.CheckSMTPFrom(c.SMTPFrom); err != nil {
			return fail("HERALD_SMTP_FROM", "smtp-from", "%v", err)
		}
	} else if c.SMTPFrom != "" {
		return fail("HERALD_SMTP_URL", "smtp-url", "must be set when HERALD_SMTP_FROM is")
	}
	if err := c.validateOIDC(); err != nil {
		return err
	}
	switch c.LogFormat {
	case "text", "json":
	default:
		return fail("HERALD_LOG_FORMAT", "log-format", "want text or json, got %q", c.LogFormat)
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return fail("HERALD_LOG_LEVEL", "log-level", "want debug, info, warn or error, got %q", c.LogLevel)
	}
	return nil
}

// SecureCookies reports whether cookies must be marked Secure.
func (c Config) SecureCookies() bool { return strings.HasPrefix(c.BaseURL, "https://") }

// IsConfigError reports whether err is a configuration problem.
func IsConfigError(err error) bool {
	var ce *ConfigError
	return errors.As(err, &ce)
}
