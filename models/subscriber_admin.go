package models

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
)

// The admin's side of visitor subscriptions: addresses shown masked or
// whole, export in batches, subscribers created already confirmed (the
// API) and removed. The CSV import is in subscriber_import.go.

// AuditSubscriber is the object type of the admin's changes to
// subscribers. Its rows carry ids and counts, never an address.
const AuditSubscriber = "subscriber"

// ErrSubscriberExists: the address is subscribed to the page already
// (pending, active or bouncing).
var ErrSubscriberExists = errors.New("this address is subscribed already")

// SubscriberKinds and SubscriberStates list the kinds and states, for
// filters.
var (
	SubscriberKinds  = []SubscriberKind{SubscriberEmail, SubscriberWebhook}
	SubscriberStates = []SubscriberState{SubscriberPending, SubscriberActive, SubscriberBouncing}
)

// Valid reports whether k is a known kind.
func (k SubscriberKind) Valid() bool { return k == SubscriberEmail || k == SubscriberWebhook }

// Valid reports whether st is a known state.
func (st SubscriberState) Valid() bool {
	return st == SubscriberPending || st == SubscriberActive || st == SubscriberBouncing
}

// Label is the state as the admin shows it.
func (st SubscriberState) Label() string {
	switch st {
	case SubscriberPending:
		return "Pending"
	case SubscriberActive:
		return "Active"
	case SubscriberBouncing:
		return "Bouncing"
	}
	return string(st)
}

// SubscriberAddress is a subscriber's address as the admin shows it: the
// e-mail address, or a webhook's URL masked as channel URLs are (its
// credentials hidden). A URL that cannot be unsealed shows as
// "webhook #id".
func (s *Store) SubscriberAddress(sub *Subscriber) string {
	if sub.Kind == SubscriberEmail {
		return sub.Email
	}
	if sub.URLSealed != "" && s.sealer != nil {
		if u, err := s.sealer.Open(sub.URLSealed); err == nil {
			return MaskURL(ChannelWebhook, u)
		}
	}
	return fmt.Sprintf("webhook #%d", sub.ID)
}

// EachSubscriberBatch calls fn with the subscribers f matches, newest
// first, batch at a time (keyset paging on the id, so a large export never
// holds every row). f's Limit and Offset are ignored.
func (s *Store) EachSubscriberBatch(ctx context.Context, f SubscriberFilter, batch int, fn func([]Subscriber) error) error {
	if batch <= 0 {
		batch = 1000
	}
	f.Limit, f.Offset = batch, 0
	for {
		list, err := s.Subscribers(ctx, f)
		if err != nil {
			return err
		}
		if len(list) == 0 {
			return nil
		}
		if err := fn(list); err != nil {
			return err
		}
		if len(list) < batch {
			return nil
		}
		f.BeforeID = list[len(list)-1].ID
	}
}

// Subscriber loads one subscriber of a page with its components.
func (s *Store) Subscriber(ctx context.Context, pageID, id int64) (*Subscriber, error) {
	list, err := s.Subscribers(ctx, SubscriberFilter{PageID: pageID, ID: id, Limit: 1})
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, ErrNotFound
	}
	return &list[0], nil
}

// auditSubscriber is a subscriber in the audit log: no address, no token.
type auditSubscriber struct {
	ID            int64           `json:"id"`
	Kind          SubscriberKind  `json:"kind"`
	State         SubscriberState `json:"state"`
	AllComponents bool            `json:"all_components"`
	Components    []int64         `json:"components,omitempty"`
}

func subscriberSnapshot(sub *Subscriber) auditSubscriber {
	return auditSubscriber{ID: sub.ID, Kind: sub.Kind, State: sub.State, AllComponents: sub.AllComponents, Components: sub.Components}
}

// newManageToken is a preferences link's secret, its hash and its sealed
// form, as Subscribe stores them.
func (s *Store) newManageToken() (hash, sealed string, err error) {
	token := newLinkToken()
	sealed, err = s.sealer.Seal(token)
	if err != nil {
		return "", "", fmt.Errorf("seal manage token: %w", err)
	}
	return HashToken(token), sealed, nil
}

// CreateConfirmedSubscriber subscribes an e-mail address already
// confirmed (an admin vouches for it): active at once, no confirmation
// e-mail. An address subscribed already is ErrSubscriberExists.
func (s *Store) CreateConfirmedSubscriber(ctx context.Context, pageID int64, in SubscribeInput) (*Subscriber, error) {
	var v Validator
	checkInput(&v, in)
	email, problem := NormalizeSubscriberEmail(in.Email)
	if problem != "" {
		v.Add("email", problem)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if s.sealer == nil {
		return nil, ErrNoSealer
	}
	hash, sealed, err := s.newManageToken()
	if err != nil {
		return nil, err
	}
	now := s.Now()
	var sub Subscriber
	err = s.transact(ctx, func(tx *gorm.DB) error {
		comps, err := subscriberComponentIDs(tx, &v, pageID, in)
		if err != nil {
			return err
		}
		var n int64
		if err := tx.Model(&Subscriber{}).Where("page_id = ? AND kind = ? AND email = ?", pageID, SubscriberEmail, email).
			Count(&n).Error; err != nil {
			return err
		}
		if n > 0 {
			return ErrSubscriberExists
		}
		sub = Subscriber{PageID: pageID, Kind: SubscriberEmail, Email: email, State: SubscriberActive,
			AllComponents: in.AllComponents, ManageTokenHash: hash, ManageTokenSealed: sealed, CreatedAt: now, ConfirmedAt: &now}
		if err := tx.Omit("Components").Create(&sub).Error; err != nil {
			return err
		}
		if err := setSubscriberComponents(tx, sub.ID, in.AllComponents, comps); err != nil {
			return err
		}
		sub.Components = comps
		return audit(ctx, tx, change{PageID: pageID, Action: "subscriber.create", ObjectType: AuditSubscriber,
			ObjectID: idString(sub.ID), Summary: fmt.Sprintf("Added e-mail subscriber %d, confirmed by the admin.", sub.ID),
			After: subscriberSnapshot(&sub)})
	})
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		err = ErrSubscriberExists // the same address at the same moment
	}
	if err != nil {
		return nil, wrapUnlessValidation(err, "create subscriber")
	}
	return &sub, nil
}

// RemoveSubscriber deletes a page's subscriber (the admin's Remove), its
// address and its queued deliveries, and audits it without the address.
func (s *Store) RemoveSubscriber(ctx context.Context, pageID, id int64) error {
	err := s.transact(ctx, func(tx *gorm.DB) error {
		var sub Subscriber
		if err := tx.Where("page_id = ? AND id = ?", pageID, id).Take(&sub).Error; err != nil {
			return notFound(err)
		}
		if err := tx.Model(&subscriberComponent{}).Where("subscriber_id = ?", id).Order("component_id").
			Pluck("component_id", &sub.Components).Error; err != nil {
			return err
		}
		if err := tx.Where("id = ?", id).Delete(&Subscriber{}).Error; err != nil {
			return err
		}
		return audit(ctx, tx, change{PageID: pageID, Action: "subscriber.delete", ObjectType: AuditSubscriber,
			ObjectID: idString(id), Summary: fmt.Sprintf("Removed %s subscriber %d.", kindWord(sub.Kind), id),
			Before: subscriberSnapshot(&sub)})
	})
	if err != nil {
		return fmt.Errorf("remove subscriber %d: %w", id, err)
	}
	return nil
}

func kindWord(k SubscriberKind) string {
	if k == SubscriberEmail {
		return "e-mail"
	}
	return string(k)
}

// SubscriberComponentNames names a subscriber's components for lists and
// exports: "All" or the names, by the page's order, joined by sep.
// Components gone since are left out.
func SubscriberComponentNames(sub *Subscriber, names map[int64]string, sep string) string {
	if sub.AllComponents {
		return "All"
	}
	var out []string
	for _, id := range sub.Components {
		if n, ok := names[id]; ok {
			out = append(out, n)
		}
	}
	return strings.Join(out, sep)
}

// formatCSVTime is a time as the export writes it: RFC 3339, UTC.
func formatCSVTime(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// SubscriberCSVHeader is the export's header row; the import reads the
// same file back (email and components).
var SubscriberCSVHeader = []string{"email", "kind", "state", "components", "created_at", "confirmed_at"}

// SubscriberCSVRecord is one export line. Cells that a spreadsheet would
// run as a formula (starting with = + - @, or a tab or CR) get a leading
// apostrophe.
func (s *Store) SubscriberCSVRecord(sub *Subscriber, names map[int64]string) []string {
	rec := []string{s.SubscriberAddress(sub), string(sub.Kind), string(sub.State),
		SubscriberComponentNames(sub, names, "; "), formatCSVTime(&sub.CreatedAt), formatCSVTime(sub.ConfirmedAt)}
	for i, cell := range rec {
		rec[i] = CSVSafe(cell)
	}
	return rec
}

// CSVSafe defuses CSV formula injection: a cell starting with = + - @
// (or tab or CR, which some spreadsheets skip before one) starts with an
// apostrophe instead.
func CSVSafe(cell string) string {
	if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
		return "'" + cell
	}
	return cell
}
