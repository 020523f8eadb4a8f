package models

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"gorm.io/gorm"
)

// SubscriberKind is how a visitor is notified.
type SubscriberKind string

// The subscriber kinds.
const (
	SubscriberEmail   SubscriberKind = "email"
	SubscriberWebhook SubscriberKind = "webhook"
)

// SubscriberState is where a subscriber stands.
type SubscriberState string

// The subscriber states: pending until the confirmation link is followed,
// active afterwards, bouncing after BounceAfter permanent failures in a
// row (then skipped).
const (
	SubscriberPending  SubscriberState = "pending"
	SubscriberActive   SubscriberState = "active"
	SubscriberBouncing SubscriberState = "bouncing"
)

// Subscription limits.
const (
	// ConfirmValidity is how long a confirmation link works.
	ConfirmValidity = 48 * time.Hour
	// ConfirmInterval: at most one confirmation e-mail per address in it.
	ConfirmInterval = time.Hour
	// BounceAfter permanent failures in a row make a subscriber bouncing.
	BounceAfter = 3
	// maxEmailLength is RFC 5321's limit on a forward path.
	maxEmailLength = 254
)

// Errors of the confirmation and preferences links. Both read the same to
// the visitor: a link never says whether an address is subscribed.
var (
	ErrSubscriptionLink    = errors.New("subscription link not valid")
	ErrSubscriptionExpired = errors.New("subscription link expired")
)

// Subscriber is a visitor subscribed to a page. Email is the normalised
// address (kind email); the webhook fields are sealed. Subscriber addresses
// are personal data: never log them.
type Subscriber struct {
	ID                 int64
	PageID             int64
	Kind               SubscriberKind
	Email              string
	URLSealed          string `gorm:"column:url_sealed"`
	SecretSealed       string
	State              SubscriberState
	AllComponents      bool
	ConfirmTokenHash   string
	ConfirmTokenSealed string
	ConfirmExpiresAt   *time.Time
	ConfirmSentAt      *time.Time
	ManageTokenHash    string
	ManageTokenSealed  string
	PermanentFailures  int
	CreatedAt          time.Time
	ConfirmedAt        *time.Time
	// Components are the chosen components' ids when AllComponents is
	// false (loaded by the functions that say so).
	Components []int64 `gorm:"-"`
}

// subscriberComponent is a row of subscriber_components.
type subscriberComponent struct {
	SubscriberID int64
	ComponentID  int64
}

func (subscriberComponent) TableName() string { return "subscriber_components" }

// SubscribeInput is a visitor's sign-up.
type SubscribeInput struct {
	Email string `field:"email"`
	// AllComponents, else the components in Components.
	AllComponents bool
	Components    []int64
}

// NormalizeSubscriberEmail returns the address as stored (NormalizeEmail)
// or a sentence saying what is wrong with it. A display name, a group, or
// anything but one bare address is refused, and so is every control
// character, so no address can carry a header into a message.
func NormalizeSubscriberEmail(raw string) (string, string) {
	addr := NormalizeEmail(raw)
	switch {
	case addr == "":
		return "", "Enter an e-mail address."
	case len(addr) > maxEmailLength:
		return "", "That address is too long."
	case strings.ContainsFunc(addr, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return "", "Enter one e-mail address, without line breaks."
	}
	parsed, err := mail.ParseAddress(addr)
	if err != nil || parsed.Name != "" || parsed.Address != addr || !strings.Contains(addr[strings.LastIndexByte(addr, '@')+1:], ".") {
		return "", "Enter an e-mail address such as name@example.com."
	}
	return addr, ""
}

// newLinkToken is 32 random bytes, base64url: the secret of a link.
func newLinkToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// Subscribe signs an address up for a page's e-mails. The answer is the
// same whether the address is new, pending or already subscribed, so the
// form tells nobody who is subscribed. A new or pending address gets a
// confirmation e-mail (queued for the notify engine), at most one per
// ConfirmInterval; nothing else is sent before it is confirmed.
func (s *Store) Subscribe(ctx context.Context, pageID int64, in SubscribeInput) error {
	var v Validator
	checkInput(&v, in)
	email, problem := NormalizeSubscriberEmail(in.Email)
	if problem != "" {
		v.Add("email", problem)
	}
	if err := v.Err(); err != nil {
		return err
	}
	if s.sealer == nil {
		return ErrNoSealer
	}
	now := s.Now()
	queued := false
	// transact, not write: a sign-up changes nothing the public page shows.
	err := s.transact(ctx, func(tx *gorm.DB) error {
		comps, err := subscriberComponentIDs(tx, &v, pageID, in)
		if err != nil {
			return err
		}
		var sub Subscriber
		err = tx.Where("page_id = ? AND kind = ? AND email = ?", pageID, SubscriberEmail, email).Take(&sub).Error
		switch {
		case errors.Is(err, gorm.ErrRecordNotFound):
			manage := newLinkToken()
			sealedManage, err := s.sealer.Seal(manage)
			if err != nil {
				return fmt.Errorf("seal manage token: %w", err)
			}
			sub = Subscriber{PageID: pageID, Kind: SubscriberEmail, Email: email, State: SubscriberPending,
				AllComponents: in.AllComponents, ManageTokenHash: HashToken(manage), ManageTokenSealed: sealedManage,
				CreatedAt: now}
			if err := tx.Omit("Components").Create(&sub).Error; err != nil {
				return err
			}
		case err != nil:
			return err
		case sub.State != SubscriberPending:
			return nil // subscribed already: nothing to send, nothing to say
		case sub.ConfirmSentAt != nil && now.Sub(*sub.ConfirmSentAt) < ConfirmInterval:
			return nil // one confirmation e-mail per address per hour
		default:
			if err := tx.Model(&Subscriber{}).Where("id = ?", sub.ID).Update("all_components", in.AllComponents).Error; err != nil {
				return err
			}
		}
		if err := setSubscriberComponents(tx, sub.ID, in.AllComponents, comps); err != nil {
			return err
		}
		queued = true
		return s.queueConfirmation(tx, &sub, now)
	})
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return nil // the same address signed up at the same moment: one row won
	}
	if err != nil {
		return fmt.Errorf("subscribe: %w", err)
	}
	if queued {
		s.afterCommit(ctx, s.wake.Notify) // the engine sends the confirmation
	}
	return nil
}

// subscriberComponentIDs checks the chosen components belong to the page.
func subscriberComponentIDs(tx *gorm.DB, v *Validator, pageID int64, in SubscribeInput) ([]int64, error) {
	if in.AllComponents {
		return nil, nil
	}
	if len(in.Components) == 0 {
		v.Add("components", "Choose at least one component, or all of them.")
		return nil, v.Err()
	}
	comps, err := loadPageComponents(tx, v, pageID, in.Components)
	if err != nil {
		return nil, err
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	return sortedIDs(comps), nil
}

// setSubscriberComponents replaces a subscriber's chosen components.
func setSubscriberComponents(tx *gorm.DB, id int64, all bool, comps []int64) error {
	if err := tx.Where("subscriber_id = ?", id).Delete(&subscriberComponent{}).Error; err != nil {
		return fmt.Errorf("clear subscriber components: %w", err)
	}
	if all || len(comps) == 0 {
		return nil
	}
	rows := make([]subscriberComponent, len(comps))
	for i, c := range comps {
		rows[i] = subscriberComponent{SubscriberID: id, ComponentID: c}
	}
	if err := tx.Create(&rows).Error; err != nil {
		return fmt.Errorf("set subscriber components: %w", err)
	}
	return nil
}

// queueConfirmation gives sub a fresh confirmation token (the previous
// link stops working) and queues the e-mail that carries it.
func (s *Store) queueConfirmation(tx *gorm.DB, sub *Subscriber, now time.Time) error {
	token := newLinkToken()
	sealed, err := s.sealer.Seal(token)
	if err != nil {
		return fmt.Errorf("seal confirmation token: %w", err)
	}
	expires := now.Add(ConfirmValidity)
	err = tx.Model(&Subscriber{}).Where("id = ?", sub.ID).Updates(map[string]any{
		"confirm_token_hash": HashToken(token), "confirm_token_sealed": sealed,
		"confirm_expires_at": expires, "confirm_sent_at": now,
	}).Error
	if err != nil {
		return fmt.Errorf("store confirmation token: %w", err)
	}
	due := now.UnixMilli()
	d := SubscriberDelivery{PageID: sub.PageID, SubscriberID: sub.ID, Kind: MailConfirm, State: DeliveryPending,
		DueAt: &due, CreatedAt: now, UpdatedAt: now}
	if err := tx.Create(&d).Error; err != nil {
		return fmt.Errorf("queue confirmation: %w", err)
	}
	return nil
}

// ConfirmSubscription activates the subscriber whose confirmation link
// carries token. A forged or used link is ErrSubscriptionLink, an old one
// ErrSubscriptionExpired.
func (s *Store) ConfirmSubscription(ctx context.Context, token string) (*Subscriber, error) {
	if token == "" || !validText(token) {
		return nil, ErrSubscriptionLink
	}
	now := s.Now()
	var sub Subscriber
	err := s.transact(ctx, func(tx *gorm.DB) error {
		err := tx.Where("confirm_token_hash = ? AND kind = ?", HashToken(token), SubscriberEmail).Take(&sub).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return ErrSubscriptionLink
		}
		if err != nil {
			return err
		}
		if sub.ConfirmExpiresAt == nil || !now.Before(*sub.ConfirmExpiresAt) {
			return ErrSubscriptionExpired
		}
		sub.State, sub.ConfirmedAt, sub.ConfirmTokenHash, sub.ConfirmTokenSealed = SubscriberActive, &now, "", ""
		return tx.Model(&Subscriber{}).Where("id = ? AND confirm_token_hash = ?", sub.ID, HashToken(token)).Updates(map[string]any{
			"state": SubscriberActive, "confirmed_at": now, "confirm_token_hash": "", "confirm_token_sealed": "",
			"confirm_expires_at": nil,
		}).Error
	})
	if err != nil {
		return nil, fmt.Errorf("confirm subscription: %w", err)
	}
	return &sub, nil
}

// SubscriberByManageToken is the subscriber whose preferences link
// carries token, with its components.
func (s *Store) SubscriberByManageToken(ctx context.Context, token string) (*Subscriber, error) {
	if token == "" || !validText(token) {
		return nil, ErrSubscriptionLink
	}
	var sub Subscriber
	err := s.conn(ctx).Where("manage_token_hash = ?", HashToken(token)).Take(&sub).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrSubscriptionLink
	}
	if err != nil {
		return nil, fmt.Errorf("subscriber by link: %w", err)
	}
	if err := s.conn(ctx).Model(&subscriberComponent{}).Where("subscriber_id = ?", sub.ID).
		Order("component_id").Pluck("component_id", &sub.Components).Error; err != nil {
		return nil, fmt.Errorf("subscriber components: %w", err)
	}
	return &sub, nil
}

// SubscriberPreferences is what a subscriber may change on the
// preferences page.
type SubscriberPreferences struct {
	AllComponents bool
	Components    []int64
}

// UpdateSubscriberPreferences changes the components of the subscriber
// whose preferences link carries token.
func (s *Store) UpdateSubscriberPreferences(ctx context.Context, token string, p SubscriberPreferences) error {
	sub, err := s.SubscriberByManageToken(ctx, token)
	if err != nil {
		return err
	}
	var v Validator
	err = s.transact(ctx, func(tx *gorm.DB) error {
		comps, err := subscriberComponentIDs(tx, &v, sub.PageID, SubscribeInput{AllComponents: p.AllComponents, Components: p.Components})
		if err != nil {
			return err
		}
		if err := tx.Model(&Subscriber{}).Where("id = ?", sub.ID).Update("all_components", p.AllComponents).Error; err != nil {
			return err
		}
		return setSubscriberComponents(tx, sub.ID, p.AllComponents, comps)
	})
	if err != nil {
		return fmt.Errorf("update subscriber %d preferences: %w", sub.ID, err)
	}
	return nil
}

// Unsubscribe deletes the subscriber whose preferences link carries
// token, its address and its queued e-mails.
func (s *Store) Unsubscribe(ctx context.Context, token string) error {
	if token == "" || !validText(token) {
		return ErrSubscriptionLink
	}
	res := s.conn(ctx).Where("manage_token_hash = ?", HashToken(token)).Delete(&Subscriber{})
	if res.Error != nil {
		return fmt.Errorf("unsubscribe: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrSubscriptionLink
	}
	return nil
}

// DeleteSubscriber removes a subscriber (the admin's Remove).
func (s *Store) DeleteSubscriber(ctx context.Context, id int64) error {
	res := s.conn(ctx).Where("id = ?", id).Delete(&Subscriber{})
	if res.Error != nil {
		return fmt.Errorf("delete subscriber %d: %w", id, res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}

// SubscriberFilter narrows Subscribers and CountSubscribers. Zero fields
// match everything.
type SubscriberFilter struct {
	PageID int64
	Kind   SubscriberKind
	State  SubscriberState
	// Search matches part of the address.
	Search string
	// Component: subscribers who receive this component's notices.
	Component int64
	// ID picks one subscriber; BeforeID keeps those with a smaller id
	// (keyset paging, newest first).
	ID       int64
	BeforeID int64
	Limit    int
	Offset   int
}

func (s *Store) subscriberQuery(ctx context.Context, f SubscriberFilter) *gorm.DB {
	q := s.conn(ctx).Model(&Subscriber{})
	if f.PageID != 0 {
		q = q.Where("page_id = ?", f.PageID)
	}
	if f.ID != 0 {
		q = q.Where("id = ?", f.ID)
	}
	if f.BeforeID != 0 {
		q = q.Where("id < ?", f.BeforeID)
	}
	if f.Kind != "" {
		q = q.Where("kind = ?", f.Kind)
	}
	if f.State != "" {
		q = q.Where("state = ?", f.State)
	}
	if f.Search != "" {
		like := "%" + strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(strings.ToLower(f.Search)) + "%"
		q = q.Where(`LOWER(email) LIKE ? ESCAPE '\'`, like) // case-insensitive on both engines
	}
	if f.Component != 0 {
		q = q.Where("all_components OR id IN (SELECT subscriber_id FROM subscriber_components WHERE component_id = ?)", f.Component)
	}
	return q
}

// Subscribers lists subscribers, newest first, with their components.
func (s *Store) Subscribers(ctx context.Context, f SubscriberFilter) ([]Subscriber, error) {
	q := s.subscriberQuery(ctx, f).Order("id DESC")
	if f.Limit > 0 {
		q = q.Limit(f.Limit).Offset(f.Offset)
	}
	var out []Subscriber
	if err := q.Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list subscribers: %w", err)
	}
	if len(out) == 0 {
		return out, nil
	}
	ids := make([]int64, len(out))
	index := make(map[int64]int, len(out))
	for i := range out {
		ids[i], index[out[i].ID] = out[i].ID, i
	}
	var rows []subscriberComponent
	if err := s.conn(ctx).Where("subscriber_id IN ?", ids).Order("component_id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list subscriber components: %w", err)
	}
	for _, r := range rows {
		i := index[r.SubscriberID]
		out[i].Components = append(out[i].Components, r.ComponentID)
	}
	return out, nil
}

// CountSubscribers counts the subscribers f matches.
func (s *Store) CountSubscribers(ctx context.Context, f SubscriberFilter) (int64, error) {
	var n int64
	if err := s.subscriberQuery(ctx, f).Count(&n).Error; err != nil {
		return 0, fmt.Errorf("count subscribers: %w", err)
	}
	return n, nil
}

// SubscriberStateCounts counts a page's subscribers by state, in one
// query.
func (s *Store) SubscriberStateCounts(ctx context.Context, pageID int64) (map[SubscriberState]int64, error) {
	var rows []struct {
		State SubscriberState
		N     int64
	}
	if err := s.conn(ctx).Model(&Subscriber{}).Select("state, COUNT(*) AS n").
		Where("page_id = ?", pageID).Group("state").Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("count subscribers of page %d by state: %w", pageID, err)
	}
	out := map[SubscriberState]int64{}
	for _, r := range rows {
		out[r.State] = r.N
	}
	return out, nil
}
