package models

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// EventSubscriptionVerification is the first request a webhook subscriber
// receives: it must be answered 2xx before anything else is sent. It is
// not one of EventTypes: no channel of the admin's can ask for it.
const EventSubscriptionVerification EventType = "subscription.verification"

// VerificationData is the data of a subscription.verification event.
type VerificationData struct {
	Message string `json:"message"`
	// Events are the event types the subscription will carry.
	Events []EventType `json:"events"`
	// StatusPageURL is the page subscribed to.
	StatusPageURL string `json:"statusPageUrl"`
}

// WebhookSubscribeInput is a visitor's webhook sign-up.
type WebhookSubscribeInput struct {
	URL string `field:"url"`
	// AllComponents, else the components in Components.
	AllComponents bool
	Components    []int64
}

// WebhookSubscription is what a webhook sign-up answers, once: the
// signing secret is never shown again.
type WebhookSubscription struct {
	Subscriber Subscriber
	ChannelID  int64
	// Secret signs every request (whsec_…); ManageToken is the secret of
	// the subscription's own page (SubscriptionPreferencesPath).
	Secret      string
	ManageToken string
	// URLHint is the URL as the delivery log shows it, masked.
	URLHint string
}

// NormalizeSubscriberWebhookURL returns a visitor's webhook URL as stored
// (https only, no user name or password, see NormalizeURL) or a sentence
// saying what is wrong with it. Whether its host may be reached is the
// egress policy's to say, by the caller.
func NormalizeSubscriberWebhookURL(raw string) (string, string) {
	raw = strings.TrimSpace(raw)
	switch {
	case raw == "":
		return "", "Enter the URL of your webhook receiver."
	case len(raw) > maxURLLength:
		return "", fmt.Sprintf("That URL is too long: use at most %d characters.", maxURLLength)
	case !utf8.ValidString(raw) || strings.ContainsRune(raw, 0):
		return "", "Enter a URL such as https://example.com/hooks/status."
	case strings.ContainsAny(raw, "\r\n"):
		return "", "Enter one URL, without line breaks."
	}
	u, err := NormalizeURL(raw, URLOptions{HTTPSOnly: true, Subject: "Webhook URLs"})
	if err != nil {
		return "", err.Error()
	}
	if len(u) > maxURLLength {
		return "", fmt.Sprintf("That URL is too long once percent-encoded: use at most %d characters.", maxURLLength)
	}
	return u, ""
}

// SubscribeWebhook signs a webhook receiver up for a page's notices. In
// one transaction it writes the subscriber (pending), its hidden webhook
// channel with a new signing secret, and the verification delivery,
// which the engine sends, signed, like any other. The subscriber becomes
// active when the receiver answers it 2xx (RecordAttempt); before that
// nothing else is sent, and a subscription still pending after
// ConfirmValidity is deleted (PurgeExpiredWebhookSubscribers). Each sign-up is
// a subscription of its own, with its own secret: the answer reveals
// nothing about other subscriptions.
func (s *Store) SubscribeWebhook(ctx context.Context, pageID int64, in WebhookSubscribeInput) (*WebhookSubscription, error) {
	var v Validator
	checkInput(&v, in)
	target, problem := NormalizeSubscriberWebhookURL(in.URL)
	if problem != "" {
		v.Add("url", problem)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if s.sealer == nil {
		return nil, ErrNoSealer
	}
	now := s.Now()
	secret, manage := NewSigningSecret(), newLinkToken()
	out := &WebhookSubscription{Secret: secret, ManageToken: manage, URLHint: MaskURL(ChannelWebhook, target)}
	sealedManage, err := s.sealer.Seal(manage)
	if err != nil {
		return nil, fmt.Errorf("seal manage token: %w", err)
	}
	sealedURL, err := s.sealer.Seal(target)
	if err != nil {
		return nil, fmt.Errorf("seal webhook URL: %w", err)
	}
	sealedSecret, err := s.sealer.Seal(secret)
	if err != nil {
		return nil, fmt.Errorf("seal signing secret: %w", err)
	}
	page, err := s.Page(ctx, pageID)
	if err != nil {
		return nil, err
	}
	data, err := json.Marshal(VerificationData{
		Message: fmt.Sprintf("This receiver was subscribed to the notices of %s. Answer this request with any 2xx status to confirm; until then nothing else is sent. If you did not subscribe, answer anything else and the subscription lapses.", page.Name),
		Events:  SubscriberEventTypes, StatusPageURL: s.baseURL + "/"})
	if err != nil {
		return nil, fmt.Errorf("encode verification: %w", err)
	}
	expires := now.Add(ConfirmValidity)
	err = s.transact(ctx, func(tx *gorm.DB) error {
		comps, err := subscriberComponentIDs(tx, &v, pageID, SubscribeInput{AllComponents: in.AllComponents, Components: in.Components})
		if err != nil {
			return err
		}
		sub := Subscriber{PageID: pageID, Kind: SubscriberWebhook, URLSealed: sealedURL, SecretSealed: sealedSecret,
			State: SubscriberPending, AllComponents: in.AllComponents, ConfirmExpiresAt: &expires, ConfirmSentAt: &now,
			ManageTokenHash: HashToken(manage), ManageTokenSealed: sealedManage, CreatedAt: now}
		if err := tx.Omit("Components").Create(&sub).Error; err != nil {
			return err
		}
		if err := setSubscriberComponents(tx, sub.ID, in.AllComponents, comps); err != nil {
			return err
		}
		subID := sub.ID
		c := Channel{PageID: pageID, Type: ChannelWebhook, Name: fmt.Sprintf("Webhook subscriber %d", sub.ID),
			URLSealed: sealedURL, URLHint: out.URLHint, SecretSealed: sealedSecret, Enabled: true,
			SubscriberID: &subID, CreatedAt: now, UpdatedAt: now}
		for _, col := range []*string{&c.HeadersSealed, &c.PreviousSecretSealed} {
			if *col, err = s.sealer.Seal(""); err != nil {
				return fmt.Errorf("seal: %w", err)
			}
		}
		if err := tx.Create(&c).Error; err != nil {
			return fmt.Errorf("create subscriber channel: %w", err)
		}
		due := now.UnixMilli()
		d := Delivery{ID: NewDeliveryID(now), PageID: pageID, ChannelID: c.ID, EventType: EventSubscriptionVerification,
			TestData: string(data), State: DeliveryPending, DueAt: &due, CreatedAt: now, UpdatedAt: now}
		if err := tx.Create(&d).Error; err != nil {
			return fmt.Errorf("queue verification: %w", err)
		}
		out.Subscriber, out.ChannelID = sub, c.ID
		return wakeReplicas(tx)
	})
	if err != nil {
		return nil, fmt.Errorf("subscribe webhook: %w", err)
	}
	s.afterCommit(ctx, s.wake.Notify)
	return out, nil
}

// wakeReplicas tells every replica's engine, when tx commits, that
// deliveries are due (PostgreSQL; SQLite runs one process).
func wakeReplicas(tx *gorm.DB) error {
	if tx.Dialector.Name() != "postgres" {
		return nil
	}
	if err := tx.Exec("SELECT pg_notify(?, '')", DeliveriesChannel).Error; err != nil {
		return fmt.Errorf("notify %s: %w", DeliveriesChannel, err)
	}
	return nil
}

// activateVerified makes the subscriber whose channel answered its
// verification 2xx active, in the transaction recording that answer.
// Only events after this moment reach it (FanOutSubscribers).
func activateVerified(tx *gorm.DB, d *Delivery, r AttemptResult, at time.Time) error {
	if d.EventType != EventSubscriptionVerification || r.State != DeliveryDelivered {
		return nil
	}
	return tx.Model(&Subscriber{}).
		Where("state = ? AND id = (SELECT subscriber_id FROM channels WHERE id = ?)", SubscriberPending, d.ChannelID).
		Updates(map[string]any{"state": SubscriberActive, "confirmed_at": at, "confirm_expires_at": nil}).Error
}

// SubscriberChannelID is the id of the hidden channel that carries a
// webhook subscriber's deliveries (the key of its delivery log:
// DeliveryFilter.ChannelID), and false for a subscriber without one (an
// e-mail subscriber).
func (s *Store) SubscriberChannelID(ctx context.Context, subscriberID int64) (int64, bool, error) {
	var ids []int64
	if err := s.conn(ctx).Model(&Channel{}).Where("subscriber_id = ?", subscriberID).Limit(1).Pluck("id", &ids).Error; err != nil {
		return 0, false, fmt.Errorf("channel of subscriber %d: %w", subscriberID, err)
	}
	if len(ids) == 0 {
		return 0, false, nil
	}
	return ids[0], true, nil
}

// WebhookReceiver is a webhook subscriber's receiver as its own page
// shows it: the masked URL and how its verification went.
type WebhookReceiver struct {
	ChannelID int64
	URLHint   string
	Enabled   bool
	// Verification is the state of the verification delivery, and
	// VerificationError what its last attempt met ("" when none).
	Verification      DeliveryState
	VerificationError string
}

// SubscriberWebhookInfo describes a webhook subscriber's receiver.
func (s *Store) SubscriberWebhookInfo(ctx context.Context, subscriberID int64) (*WebhookReceiver, error) {
	var c Channel
	err := s.conn(ctx).Select("id, url_hint, enabled").Where("subscriber_id = ?", subscriberID).Take(&c).Error
	if err != nil {
		return nil, fmt.Errorf("channel of subscriber %d: %w", subscriberID, notFound(err))
	}
	out := &WebhookReceiver{ChannelID: c.ID, URLHint: c.URLHint, Enabled: c.Enabled}
	var ds []Delivery
	if err := s.conn(ctx).Select("state, last_error").Where("channel_id = ? AND event_type = ?", c.ID, EventSubscriptionVerification).
		Order("id DESC").Limit(1).Find(&ds).Error; err != nil {
		return nil, fmt.Errorf("verification of subscriber %d: %w", subscriberID, err)
	}
	if len(ds) == 1 {
		out.Verification, out.VerificationError = ds[0].State, ds[0].LastError
	}
	return out, nil
}

// PurgeExpiredWebhookSubscribers deletes webhook subscriptions whose
// receiver did not answer its verification 2xx within ConfirmValidity
// (every retry failed, or the last one is still to come), with their
// channels and deliveries, and returns how many. Such a subscription
// cannot be verified any more: the visitor subscribes again.
func (s *Store) PurgeExpiredWebhookSubscribers(ctx context.Context) (int64, error) {
	res := s.conn(ctx).Where("kind = ? AND state = ? AND confirm_expires_at < ?", SubscriberWebhook, SubscriberPending, s.Now()).
		Delete(&Subscriber{})
	if res.Error != nil {
		return 0, fmt.Errorf("purge expired webhook subscriptions: %w", res.Error)
	}
	return res.RowsAffected, nil
}

// webhookSubscriberDeliveries writes the deliveries of ev to the channels
// of the webhook subscribers ids, in FanOutSubscribers' transaction: at
// most one per (event, channel), so a second engine's copy is dropped.
// A channel turned off (its receiver kept failing) gets none.
func webhookSubscriberDeliveries(tx *gorm.DB, ev *Event, ids []int64, due int64) (int, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	var chans []Channel
	if err := tx.Select("id").Where("subscriber_id IN ? AND enabled", ids).Order("id").Find(&chans).Error; err != nil {
		return 0, fmt.Errorf("channels of webhook subscribers: %w", err)
	}
	if len(chans) == 0 {
		return 0, nil
	}
	ds := make([]Delivery, len(chans))
	for i, c := range chans {
		eventID, at := ev.ID, ev.OccurredAt
		ds[i] = Delivery{ID: NewDeliveryID(at), PageID: ev.PageID, ChannelID: c.ID, EventID: &eventID,
			EventType: ev.Type, State: DeliveryPending, DueAt: &due, CreatedAt: at, UpdatedAt: at}
	}
	// In batches: SQLite allows 32,766 parameters in one statement.
	res := tx.Clauses(clause.OnConflict{DoNothing: true}).CreateInBatches(&ds, 500)
	if res.Error != nil {
		return 0, fmt.Errorf("webhook deliveries of %s: %w", ev.ID, res.Error)
	}
	if res.RowsAffected > 0 {
		if err := wakeReplicas(tx); err != nil {
			return 0, err
		}
	}
	return int(res.RowsAffected), nil
}

// SubscriberKindCounts counts a page's subscribers by kind and state, in
// one query.
func (s *Store) SubscriberKindCounts(ctx context.Context, pageID int64) (map[SubscriberKind]map[SubscriberState]int64, error) {
	var rows []struct {
		Kind  SubscriberKind
		State SubscriberState
		N     int64
	}
	if err := s.conn(ctx).Model(&Subscriber{}).Select("kind, state, COUNT(*) AS n").
		Where("page_id = ?", pageID).Group("kind, state").Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("count subscribers of page %d by kind and state: %w", pageID, err)
	}
	out := map[SubscriberKind]map[SubscriberState]int64{SubscriberEmail: {}, SubscriberWebhook: {}}
	for _, r := range rows {
		if out[r.Kind] == nil {
			out[r.Kind] = map[SubscriberState]int64{}
		}
		out[r.Kind][r.State] = r.N
	}
	return out, nil
}
