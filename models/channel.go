package models

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"
)

// ChannelType is where a channel sends notifications.
type ChannelType string

// The channel types (SPEC §5.1).
const (
	ChannelWebhook ChannelType = "webhook"
	ChannelSlack   ChannelType = "slack"
	ChannelDiscord ChannelType = "discord"
)

// ChannelTypes lists every channel type.
var ChannelTypes = []ChannelType{ChannelWebhook, ChannelSlack, ChannelDiscord}

// Valid reports whether t is a known channel type.
func (t ChannelType) Valid() bool { return slices.Contains(ChannelTypes, t) }

// Label is the type's name for people.
func (t ChannelType) Label() string {
	switch t {
	case ChannelSlack:
		return "Slack"
	case ChannelDiscord:
		return "Discord"
	default:
		return "Webhook"
	}
}

// Defaults and limits for channels.
const (
	// DefaultRotationWindow is how long the previous signing secret keeps
	// signing after a rotation.
	DefaultRotationWindow = 24 * time.Hour
	maxHeaders            = 20
	maxURLLength          = 2048
	maxScheduleSteps      = 12
	maxScheduleStep       = 48 * time.Hour
)

// DefaultRetrySchedule is when attempts are made, measured from the
// previous attempt: immediately, then 1 min, 5 min, 30 min, 2 h, 12 h.
var DefaultRetrySchedule = []time.Duration{0, time.Minute, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 12 * time.Hour}

// Sealer encrypts channel credentials for storage.
type Sealer interface {
	Seal(plaintext string) (string, error)
	Open(sealed string) (string, error)
}

// ErrNoSealer means the store was opened without a Sealer and cannot
// read or write channel credentials.
var ErrNoSealer = errors.New("channel secrets need a secret key: the store has no sealer")

// Header is one extra request header of a webhook channel.
type Header struct {
	Name, Value string
}

// Channel is a notification target. The credential fields (URL, Headers,
// Secret, PreviousSecret) are opened from their sealed columns on load.
type Channel struct {
	ID                   int64
	PageID               int64
	Type                 ChannelType
	Name                 string
	URLSealed            string
	URLHint              string
	HeadersSealed        string
	SecretSealed         string
	PreviousSecretSealed string
	PreviousSecretUntil  *time.Time
	Events               string
	RetrySchedule        string
	Enabled              bool
	DisabledReason       string
	DisabledAt           *time.Time
	FailedEvents         int
	FailingSince         *time.Time
	// PausedUntil and NextSendAt (Unix ms) hold the channel back after a
	// rate limit and for pacing. Only the delivery engine writes them, with
	// statements of their own, so saving a channel never overwrites them.
	PausedUntil int64 `gorm:"->"`
	NextSendAt  int64 `gorm:"->"`
	// SubscriberID is set on the hidden channel that carries a visitor's
	// webhook subscription (SubscribeWebhook). Such a channel is never
	// one of the admin's: Channels leaves it out, and so does the
	// fan-out in an event's transaction.
	SubscriberID *int64
	CreatedAt    time.Time
	UpdatedAt    time.Time

	URL            string   `gorm:"-"`
	Headers        []Header `gorm:"-"`
	Secret         string   `gorm:"-"`
	PreviousSecret string   `gorm:"-"`
	// Unreadable is set when the sealed columns cannot be opened, for
	// instance after HERALD_SECRET_KEY changed.
	Unreadable bool `gorm:"-"`
}

// EventList is the events the channel wants; empty means all.
func (c *Channel) EventList() []EventType { return parseEventList(c.Events) }

// Wants reports whether the channel wants events of type t.
func (c *Channel) Wants(t EventType) bool {
	list := c.EventList()
	return len(list) == 0 || slices.Contains(list, t)
}

// Schedule is the channel's retry schedule, or the default.
func (c *Channel) Schedule() []time.Duration {
	s, err := ParseRetrySchedule(c.RetrySchedule)
	if err != nil || len(s) == 0 {
		return DefaultRetrySchedule
	}
	return s
}

// SigningSecrets are the secrets that sign a request sent at now: the
// current one first, then the previous one during its rotation window.
func (c *Channel) SigningSecrets(now time.Time) []string {
	if c.Secret == "" {
		return nil
	}
	out := []string{c.Secret}
	if c.PreviousSecret != "" && c.PreviousSecretUntil != nil && now.Before(*c.PreviousSecretUntil) {
		out = append(out, c.PreviousSecret)
	}
	return out
}

// ChannelInput is what an admin may set on a channel. An empty URL on an
// update keeps the stored one (the form shows it masked); HeadersText is
// one "Name: value" per line, where a value of "••••" keeps the stored
// value of that header.
type ChannelInput struct {
	Type          ChannelType
	Name          string
	URL           string
	Events        []EventType
	Enabled       bool
	HeadersText   string `field:"headers" text:"multiline"`
	RetrySchedule string
}

// MaskedValue stands for a stored credential in forms.
const MaskedValue = "••••"

// NewSigningSecret returns "whsec_" and the base64 of 32 random bytes.
func NewSigningSecret() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err))
	}
	return "whsec_" + base64.StdEncoding.EncodeToString(b)
}

// ParseRetrySchedule reads "0s, 1m, 5m": the delay before each attempt.
// The empty string means the default schedule and returns nil.
func ParseRetrySchedule(s string) ([]time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	var out []time.Duration
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "0" {
			part = "0s"
		}
		d, err := time.ParseDuration(part)
		if err != nil || d < 0 {
			return nil, fmt.Errorf("%q is not a duration such as 30s, 5m or 2h", part)
		}
		if d > maxScheduleStep {
			return nil, fmt.Errorf("%s is longer than %s", part, maxScheduleStep)
		}
		out = append(out, d)
	}
	if len(out) > maxScheduleSteps {
		return nil, fmt.Errorf("use at most %d attempts", maxScheduleSteps)
	}
	return out, nil
}

// FormatRetrySchedule writes a schedule the way ParseRetrySchedule reads it.
func FormatRetrySchedule(s []time.Duration) string {
	parts := make([]string, len(s))
	for i, d := range s {
		parts[i] = shortDuration(d)
	}
	return strings.Join(parts, ", ")
}

func shortDuration(d time.Duration) string {
	switch {
	case d == 0:
		return "0s"
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	default:
		return d.String()
	}
}

func parseEventList(s string) []EventType {
	var out []EventType
	for part := range strings.SplitSeq(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, EventType(part))
		}
	}
	return out
}

// ParseHeaders reads "Name: value" lines.
func ParseHeaders(text string) ([]Header, error) {
	var out []Header
	for i, line := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		name, value, ok := strings.Cut(line, ":")
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		if !ok || !validHeaderName(name) {
			return nil, fmt.Errorf("line %d: write each header as Name: value", i+1)
		}
		if reservedHeader(name) {
			return nil, fmt.Errorf("line %d: Herald sets %s itself", i+1, http.CanonicalHeaderKey(name))
		}
		if strings.ContainsAny(value, "\r\n\x00") {
			return nil, fmt.Errorf("line %d: the value contains a control character", i+1)
		}
		out = append(out, Header{Name: http.CanonicalHeaderKey(name), Value: value})
	}
	if len(out) > maxHeaders {
		return nil, fmt.Errorf("use at most %d headers", maxHeaders)
	}
	return out, nil
}

// FormatHeaders writes headers one per line; masked replaces each value
// with MaskedValue.
func FormatHeaders(hs []Header, masked bool) string {
	var b strings.Builder
	for _, h := range hs {
		v := h.Value
		if masked {
			v = MaskedValue
		}
		fmt.Fprintf(&b, "%s: %s\n", h.Name, v)
	}
	return b.String()
}

func validHeaderName(name string) bool {
	if name == "" || len(name) > 100 {
		return false
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("!#$%&'*+-.^_`|~", r)) {
			return false
		}
	}
	return true
}

func reservedHeader(name string) bool {
	n := strings.ToLower(name)
	switch n {
	case "content-type", "content-length", "host", "user-agent", "x-request-id", "connection",
		"transfer-encoding", "x-webhook-event", "x-webhook-signature":
		return true
	}
	return strings.HasPrefix(n, "webhook-")
}

func (s *Store) validateChannel(in *ChannelInput, existing *Channel) ([]Header, error) {
	var v Validator
	checkInput(&v, in)
	in.Name = strings.TrimSpace(in.Name)
	in.URL = strings.TrimSpace(in.URL)
	if existing != nil {
		in.Type = existing.Type
	}
	v.Check(in.Type.Valid(), "type", "Choose Webhook, Slack or Discord.")
	checkName(&v, "name", in.Name)
	if in.URL == "" && existing == nil {
		v.Add("url", "Enter the URL notifications are sent to.")
	}
	if in.URL != "" {
		u, msg := checkChannelURL(in.Type, in.URL)
		if msg != "" {
			v.Add("url", msg)
		}
		in.URL = u
	}
	for _, e := range in.Events {
		if !slices.Contains(EventTypes, e) {
			v.Add("events", "Choose events from the list.")
		}
	}
	var headers []Header
	if in.Type == ChannelWebhook {
		hs, err := ParseHeaders(in.HeadersText)
		if err != nil {
			v.Add("headers", err.Error())
		}
		headers = hs
		if existing != nil {
			for i, h := range headers {
				if h.Value != MaskedValue {
					continue
				}
				for _, old := range existing.Headers {
					if strings.EqualFold(old.Name, h.Name) {
						headers[i].Value = old.Value
					}
				}
			}
		}
	} else if strings.TrimSpace(in.HeadersText) != "" {
		v.Add("headers", "Extra headers apply to webhook channels only.")
	}
	if _, err := ParseRetrySchedule(in.RetrySchedule); err != nil {
		v.Add("retry_schedule", "Write delays separated by commas, such as 0s, 1m, 5m: "+err.Error()+".")
	}
	return headers, v.Err()
}

// checkChannelURL normalises a channel's URL (see NormalizeURL), or says
// what is wrong with it. Webhook URLs may carry user:password@, sent as
// Basic authentication; Slack and Discord webhook URLs are https and
// never do.
func checkChannelURL(t ChannelType, raw string) (string, string) {
	if len(raw) > maxURLLength {
		return "", fmt.Sprintf("Use at most %d characters.", maxURLLength)
	}
	if strings.Contains(raw, MaskedValue) {
		return "", "This URL is masked (it contains " + MaskedValue + "): enter the full URL."
	}
	opts := URLOptions{Userinfo: t == ChannelWebhook, Subject: "This URL"}
	if t == ChannelSlack || t == ChannelDiscord {
		opts = URLOptions{HTTPSOnly: true, Subject: t.Label() + " webhook URLs"}
	}
	u, err := NormalizeURL(raw, opts)
	if err != nil {
		return "", err.Error()
	}
	if len(u) > maxURLLength {
		return "", fmt.Sprintf("Use at most %d characters, once percent-encoded (this has %d).", maxURLLength, len(u))
	}
	return u, ""
}

func joinEvents(es []EventType) string {
	parts := make([]string, 0, len(es))
	for _, t := range EventTypes { // canonical order, no duplicates
		if slices.Contains(es, t) {
			parts = append(parts, string(t))
		}
	}
	return strings.Join(parts, ",")
}

// seal writes the credential fields of c into its sealed columns.
func (s *Store) seal(c *Channel) error {
	if s.sealer == nil {
		return ErrNoSealer
	}
	var err error
	if c.URLSealed, err = s.sealer.Seal(c.URL); err != nil {
		return err
	}
	if c.HeadersSealed, err = s.sealer.Seal(strings.TrimSpace(FormatHeaders(c.Headers, false))); err != nil {
		return err
	}
	if c.SecretSealed, err = s.sealer.Seal(c.Secret); err != nil {
		return err
	}
	if c.PreviousSecretSealed, err = s.sealer.Seal(c.PreviousSecret); err != nil {
		return err
	}
	c.URLHint = MaskURL(c.Type, c.URL)
	return nil
}

// open fills the credential fields from the sealed columns.
func (s *Store) open(c *Channel) {
	if s.sealer == nil {
		c.Unreadable = true
		return
	}
	var errs []error
	var headers string
	var err error
	c.URL, err = s.sealer.Open(c.URLSealed)
	errs = append(errs, err)
	headers, err = s.sealer.Open(c.HeadersSealed)
	errs = append(errs, err)
	c.Secret, err = s.sealer.Open(c.SecretSealed)
	errs = append(errs, err)
	c.PreviousSecret, err = s.sealer.Open(c.PreviousSecretSealed)
	errs = append(errs, err)
	if errors.Join(errs...) != nil {
		c.Unreadable = true
		return
	}
	c.Headers, _ = ParseHeaders(headers)
}

// CreateChannel adds a channel; webhook channels get a signing secret.
func (s *Store) CreateChannel(ctx context.Context, pageID int64, in ChannelInput) (*Channel, error) {
	headers, err := s.validateChannel(&in, nil)
	if err != nil {
		return nil, err
	}
	now := s.Now()
	c := &Channel{PageID: pageID, Type: in.Type, Name: in.Name, URL: in.URL, Headers: headers,
		Events: joinEvents(in.Events), RetrySchedule: normalizeSchedule(in.RetrySchedule),
		Enabled: in.Enabled, CreatedAt: now, UpdatedAt: now}
	if !in.Enabled {
		c.DisabledReason, c.DisabledAt = "Disabled by an admin.", &now
	}
	if c.Type == ChannelWebhook {
		c.Secret = NewSigningSecret()
	}
	if err := s.seal(c); err != nil {
		return nil, fmt.Errorf("create channel: %w", err)
	}
	err = s.transact(ctx, func(tx *gorm.DB) error {
		if err := tx.Create(c).Error; err != nil {
			return err
		}
		return audit(ctx, tx, change{PageID: pageID, Action: "channel.create", ObjectType: AuditChannel,
			ObjectID: idString(c.ID), Summary: fmt.Sprintf("Created %s channel “%s”.", c.Type.Label(), c.Name),
			After: channelSnapshot(c)})
	})
	if err != nil {
		return nil, fmt.Errorf("create channel: %w", err)
	}
	return c, nil
}

func normalizeSchedule(s string) string {
	d, err := ParseRetrySchedule(s)
	if err != nil || d == nil {
		return ""
	}
	return FormatRetrySchedule(d)
}

// UpdateChannel changes a channel's settings. Its type cannot change.
func (s *Store) UpdateChannel(ctx context.Context, id int64, in ChannelInput) (*Channel, error) {
	c, err := s.AdminChannel(ctx, id)
	if err != nil {
		return nil, err
	}
	if c.Unreadable {
		if in.URL == "" {
			return nil, &ValidationError{Fields: map[string]string{"url": "The stored URL cannot be read with this secret key. Enter it again."}}
		}
		c.Headers, c.Secret, c.PreviousSecret, c.PreviousSecretUntil = nil, NewSigningSecret(), "", nil
		if c.Type != ChannelWebhook {
			c.Secret = ""
		}
	}
	headers, err := s.validateChannel(&in, c)
	if err != nil {
		return nil, err
	}
	before := channelSnapshot(c)
	summary := fmt.Sprintf("Updated channel “%s”.", in.Name)
	if in.URL != "" && in.URL != c.URL {
		summary = fmt.Sprintf("Updated channel “%s”, with a new URL.", in.Name)
	}
	now := s.Now()
	c.Name = in.Name
	if in.URL != "" {
		c.URL = in.URL
	}
	c.Headers = headers
	c.Events = joinEvents(in.Events)
	c.RetrySchedule = normalizeSchedule(in.RetrySchedule)
	if in.Enabled != c.Enabled {
		s.setEnabled(c, in.Enabled, "Disabled by an admin.", now)
	}
	c.UpdatedAt = now
	if err := s.seal(c); err != nil {
		return nil, fmt.Errorf("update channel %d: %w", id, err)
	}
	err = s.transact(ctx, func(tx *gorm.DB) error {
		if err := tx.Save(c).Error; err != nil {
			return err
		}
		return audit(ctx, tx, change{PageID: c.PageID, Action: "channel.update", ObjectType: AuditChannel,
			ObjectID: idString(c.ID), Summary: summary, Before: before, After: channelSnapshot(c)})
	})
	if err != nil {
		return nil, fmt.Errorf("update channel %d: %w", id, err)
	}
	c.Unreadable = false
	return c, nil
}

func (s *Store) setEnabled(c *Channel, enabled bool, reason string, now time.Time) {
	c.Enabled = enabled
	if enabled {
		c.DisabledReason, c.DisabledAt = "", nil
		c.FailedEvents, c.FailingSince = 0, nil
		return
	}
	c.DisabledReason, c.DisabledAt = reason, &now
}

// SetChannelEnabled enables or disables a channel. Re-enabling clears the
// failure streak, and deliveries queued before it was turned off go out;
// those of events while it was off stay skipped until
// QueueSkippedDeliveries.
func (s *Store) SetChannelEnabled(ctx context.Context, id int64, enabled bool) error {
	now := s.Now()
	updates := map[string]any{"enabled": enabled, "updated_at": now}
	if enabled {
		updates["disabled_reason"], updates["disabled_at"] = "", nil
		updates["failed_events"], updates["failing_since"] = 0, nil
	} else {
		updates["disabled_reason"], updates["disabled_at"] = "Disabled by an admin.", now
	}
	err := s.transact(ctx, func(tx *gorm.DB) error {
		var c Channel
		if err := tx.Select("id", "page_id", "name", "enabled", "disabled_reason").Where("subscriber_id IS NULL").First(&c, id).Error; err != nil {
			return notFound(err)
		}
		res := tx.Model(&Channel{}).Where("id = ?", id).Updates(updates)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		action, summary := "channel.disable", fmt.Sprintf("Disabled channel “%s”.", c.Name)
		after := auditEnabled{Enabled: false, DisabledReason: "Disabled by an admin."}
		if enabled {
			action, summary = "channel.enable", fmt.Sprintf("Enabled channel “%s”.", c.Name)
			after = auditEnabled{Enabled: true}
		}
		return audit(ctx, tx, change{PageID: c.PageID, Action: action, ObjectType: AuditChannel,
			ObjectID: idString(c.ID), Summary: summary,
			Before: auditEnabled{Enabled: c.Enabled, DisabledReason: c.DisabledReason}, After: after})
	})
	if err != nil {
		return fmt.Errorf("enable channel %d: %w", id, err)
	}
	if enabled {
		s.afterCommit(ctx, s.wake.Notify)
	}
	return nil
}

// RotateChannelSecret gives a webhook channel a new signing secret; the
// old one keeps signing, beside it, for window.
func (s *Store) RotateChannelSecret(ctx context.Context, id int64, window time.Duration) (*Channel, error) {
	c, err := s.AdminChannel(ctx, id)
	if err != nil {
		return nil, err
	}
	if c.Type != ChannelWebhook {
		return nil, &ValidationError{Fields: map[string]string{"secret": "Only webhook channels have a signing secret."}}
	}
	if c.Unreadable {
		return nil, fmt.Errorf("rotate secret of channel %d: %w", id, ErrNoSealer)
	}
	before := auditSecret{Secret: MaskedValue, PreviousSecretUntil: c.PreviousSecretUntil}
	now := s.Now()
	until := now.Add(window)
	c.PreviousSecret, c.PreviousSecretUntil = c.Secret, &until
	if window <= 0 {
		c.PreviousSecret, c.PreviousSecretUntil = "", nil
	}
	c.Secret = NewSigningSecret()
	c.UpdatedAt = now
	if err := s.seal(c); err != nil {
		return nil, fmt.Errorf("rotate secret of channel %d: %w", id, err)
	}
	summary := fmt.Sprintf("Rotated the signing secret of “%s”; the old one stopped signing at once.", c.Name)
	if c.PreviousSecretUntil != nil {
		summary = fmt.Sprintf("Rotated the signing secret of “%s”; the old one also signs until %s.", c.Name,
			c.PreviousSecretUntil.UTC().Format(auditTimeFormat))
	}
	err = s.transact(ctx, func(tx *gorm.DB) error {
		if err := tx.Save(c).Error; err != nil {
			return err
		}
		return audit(ctx, tx, change{PageID: c.PageID, Action: "channel.rotate_secret", ObjectType: AuditChannel,
			ObjectID: idString(c.ID), Summary: summary, Before: before,
			After: auditSecret{Secret: MaskedValue, PreviousSecretUntil: c.PreviousSecretUntil}})
	})
	if err != nil {
		return nil, fmt.Errorf("rotate secret of channel %d: %w", id, err)
	}
	return c, nil
}

// DeleteChannel removes a channel with its deliveries and their log.
func (s *Store) DeleteChannel(ctx context.Context, id int64) error {
	err := s.transact(ctx, func(tx *gorm.DB) error {
		var c Channel
		if err := tx.Where("subscriber_id IS NULL").First(&c, id).Error; err != nil {
			return notFound(err)
		}
		s.open(&c) // for the names of its headers; the snapshot masks every value
		res := tx.Delete(&Channel{}, id)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		return audit(ctx, tx, change{PageID: c.PageID, Action: "channel.delete", ObjectType: AuditChannel,
			ObjectID: idString(c.ID), Summary: fmt.Sprintf("Deleted channel “%s” with its delivery log.", c.Name),
			Before: channelSnapshot(&c)})
	})
	if err != nil {
		return fmt.Errorf("delete channel %d: %w", id, err)
	}
	return nil
}

// AdminChannel loads one of the admin's channels: the channel of a
// webhook subscriber is ErrNotFound to the screens and API calls that
// change, test or show a channel's settings (its delivery log stays
// readable through Channel).
func (s *Store) AdminChannel(ctx context.Context, id int64) (*Channel, error) {
	c, err := s.Channel(ctx, id)
	if err != nil {
		return nil, err
	}
	if c.SubscriberID != nil {
		return nil, fmt.Errorf("load channel %d: a webhook subscriber's: %w", id, ErrNotFound)
	}
	return c, nil
}

// Channel loads one channel with its credentials opened.
func (s *Store) Channel(ctx context.Context, id int64) (*Channel, error) {
	var c Channel
	if err := s.conn(ctx).First(&c, id).Error; err != nil {
		return nil, fmt.Errorf("load channel %d: %w", id, notFound(err))
	}
	s.open(&c)
	return &c, nil
}

// Channels lists a page's channels by name: the admin's, never the
// channels of webhook subscribers.
func (s *Store) Channels(ctx context.Context, pageID int64) ([]Channel, error) {
	var cs []Channel
	if err := s.conn(ctx).Where("page_id = ? AND subscriber_id IS NULL", pageID).Order("name, id").Find(&cs).Error; err != nil {
		return nil, fmt.Errorf("list channels of page %d: %w", pageID, err)
	}
	for i := range cs {
		s.open(&cs[i])
	}
	return cs, nil
}

// fanOut creates one delivery per channel of the page that wants the
// event, inside the event's transaction: pending for an enabled channel,
// skipped for a disabled one, so the log shows what it missed and the
// admin can send it later. It returns the channels with a pending one.
// Webhook subscribers' channels are left to FanOutSubscribers, so this
// transaction stays small whatever their number.
func fanOut(tx *gorm.DB, ev *Event) ([]int64, error) {
	var chans []Channel
	if err := tx.Select("id, events, enabled").Where("page_id = ? AND subscriber_id IS NULL", ev.PageID).Find(&chans).Error; err != nil {
		return nil, fmt.Errorf("channels for %s: %w", ev.Type, err)
	}
	var ds []Delivery
	var pending []int64
	due, at := ev.OccurredAt.UnixMilli(), ev.OccurredAt
	for _, c := range chans {
		if !c.Wants(ev.Type) {
			continue
		}
		eventID := ev.ID
		d := Delivery{ID: NewDeliveryID(ev.OccurredAt), PageID: ev.PageID, ChannelID: c.ID,
			EventID: &eventID, EventType: ev.Type, State: DeliveryPending, DueAt: &due,
			CreatedAt: ev.OccurredAt, UpdatedAt: ev.OccurredAt}
		if c.Enabled {
			pending = append(pending, c.ID)
		} else {
			d.State, d.DueAt, d.CompletedAt, d.LastError = DeliverySkipped, nil, &at, skippedReason
		}
		ds = append(ds, d)
	}
	if len(ds) == 0 {
		return nil, nil
	}
	if err := tx.Create(&ds).Error; err != nil {
		return nil, fmt.Errorf("deliveries for %s: %w", ev.Type, err)
	}
	return pending, nil
}
