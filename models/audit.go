package models

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Actor types: who made a change.
const (
	ActorUser   = "user"
	ActorToken  = "token"
	ActorSystem = "system"
)

// Actor is who makes a change: a signed-in admin, an API token, or Herald
// itself. Handlers put it into the request context with WithActor; models
// read it back when they write the audit row.
type Actor struct {
	Type string // ActorUser, ActorToken or ActorSystem
	ID   *int64 // the user's or token's id; nil for the system
	Name string // the user's e-mail, the token's name, or "scheduler"
	IP   string
}

type actorKey struct{}

// WithActor returns ctx carrying a, for the changes made with it.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the actor in ctx; without one, Herald itself.
func ActorFrom(ctx context.Context) Actor {
	if a, ok := ctx.Value(actorKey{}).(Actor); ok && a.Type != "" {
		return a
	}
	return Actor{Type: ActorSystem, Name: "system"}
}

// UserActor is a signed-in admin acting from ip.
func UserActor(id int64, email, ip string) Actor {
	return Actor{Type: ActorUser, ID: &id, Name: email, IP: ip}
}

// TokenActor is an API token acting from ip.
func TokenActor(id int64, name, ip string) Actor {
	return Actor{Type: ActorToken, ID: &id, Name: name, IP: ip}
}

// SchedulerActor is Herald's scheduler, which starts and completes
// maintenance windows.
func SchedulerActor() Actor { return Actor{Type: ActorSystem, Name: "scheduler"} }

// NotifierActor is Herald's delivery worker, which disables channels
// whose receiver is gone or keeps failing.
func NotifierActor() Actor { return Actor{Type: ActorSystem, Name: "notifier"} }

// AuditEntry is one row of the append-only audit log. Before and After
// are JSON snapshots of the object, secrets masked; either may be empty.
type AuditEntry struct {
	ID         int64
	PageID     int64
	At         time.Time
	ActorType  string
	ActorID    *int64
	ActorName  string
	IP         string
	Action     string
	ObjectType string
	ObjectID   string
	Summary    string
	Before     string
	After      string

	// ObjectExists is set by AuditEntries when the object is still there
	// (so a screen can link to it).
	ObjectExists bool `gorm:"-"`
}

// TableName maps AuditEntry to audit_log.
func (AuditEntry) TableName() string { return "audit_log" }

// Audited object types. Every action starts with its object type and a dot.
const (
	AuditComponent   = "component"
	AuditGroup       = "group"
	AuditIncident    = "incident"
	AuditMaintenance = "maintenance"
	AuditChannel     = "channel"
	AuditPage        = "page"
	AuditUser        = "user"
	AuditToken       = "token"
	// AuditAccess records what was refused: a route a role may not use,
	// a failed sign-in. Its object id is the route or the e-mail tried.
	AuditAccess = "access"
	// AuditInvitation is an invitation to join the team.
	AuditInvitation = "invitation"
)

// installWideAuditTypes are the object types that belong to the whole
// install, whichever page records them (see AuditFilter.PageOnly).
var installWideAuditTypes = []string{AuditUser, AuditInvitation, AuditAccess}

// PageOnly reports whether e belongs to page pageID itself, not to the
// whole install (see AuditFilter.PageOnly).
func (e *AuditEntry) PageOnly(pageID int64) bool {
	if slices.Contains(installWideAuditTypes, e.ObjectType) {
		return false
	}
	return e.ObjectType != AuditPage || e.ObjectID == idString(pageID)
}

// AuditObjectTypes lists the object types, for filters.
var AuditObjectTypes = []string{AuditComponent, AuditGroup, AuditIncident, AuditMaintenance, AuditChannel, AuditPage, AuditUser, AuditToken, AuditInvitation, AuditSubscriber, AuditAccess, AuditSettings}

// AuditActions lists every action the log records, for filters.
var AuditActions = []string{
	"component.create", "component.update", "component.status", "component.move", "component.delete",
	"group.create", "group.update", "group.move", "group.delete",
	"incident.create", "incident.backfill", "incident.update", "incident.resolve", "incident.postmortem", "incident.delete",
	"incident.edit", "incident.edit_update",
	"maintenance.schedule", "maintenance.update", "maintenance.cancel", "maintenance.end", "maintenance.start", "maintenance.complete",
	"maintenance.post_update", "maintenance.extend",
	"channel.create", "channel.update", "channel.enable", "channel.disable", "channel.rotate_secret", "channel.delete",
	"channel.test", "channel.replay", "channel.send_skipped",
	"page.create", "page.update", "page.delete", "page.access", "page.feed_token_revoke",
	"token.create", "token.revoke",
	"user.create", "user.role", "user.pages", "user.remove", "user.password", "user.2fa_reset",
	"user.2fa_enable", "user.2fa_disable", "user.2fa_recovery_codes",
	"settings.require_2fa",
	"access.denied", "access.signin_failed",
	// Single sign-on
	"user.sso_link", "access.sso_refused", "settings.password_sign_in",
	"invitation.create", "invitation.accept", "invitation.revoke", "invitation.refused",
	"user.email", "user.wrong_password", "user.sessions_end",
	// Visitors' subscriptions, as the admin changes them (ids and counts,
	// never an address).
	"subscriber.create", "subscriber.import", "subscriber.delete", "subscriber.replay",
}

// change is what one audit row records; the actor and time come from the
// context and the clock.
type change struct {
	PageID     int64
	Action     string
	ObjectType string
	ObjectID   string
	Summary    string
	// Before and After are marshalled to JSON; nil writes ''. Pass the
	// masked snapshots of audit_snapshot.go, never a model holding secrets.
	Before, After any
}

// audit writes the audit row of a change inside tx, the change's own
// transaction: if the change rolls back, so does its row.
func audit(ctx context.Context, tx *gorm.DB, c change) error {
	before, err := auditJSON(c.Before)
	if err != nil {
		return fmt.Errorf("audit %s: encode before: %w", c.Action, err)
	}
	after, err := auditJSON(c.After)
	if err != nil {
		return fmt.Errorf("audit %s: encode after: %w", c.Action, err)
	}
	noteChangedPage(tx, c.PageID)
	if c.ObjectType == AuditPage {
		// Pages are audited with the first page (the Pages screen is
		// install-wide), but the page changed is the object itself: its
		// name and slug are in its own snapshot.
		if id, err := strconv.ParseInt(c.ObjectID, 10, 64); err == nil {
			noteChangedPage(tx, id)
		}
	}
	a := ActorFrom(ctx)
	e := AuditEntry{PageID: c.PageID, At: tx.NowFunc(), ActorType: a.Type, ActorID: a.ID, ActorName: a.Name,
		IP: a.IP, Action: c.Action, ObjectType: c.ObjectType, ObjectID: c.ObjectID, Summary: c.Summary,
		Before: before, After: after}
	if err := tx.Create(&e).Error; err != nil {
		return fmt.Errorf("audit %s: %w", c.Action, err)
	}
	return nil
}

func auditJSON(v any) (string, error) {
	if v == nil {
		return "", nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

func idString(id int64) string { return strconv.FormatInt(id, 10) }

// AuditFilter narrows AuditEntries. Zero fields match everything.
type AuditFilter struct {
	PageID int64
	// PageOnly leaves out what belongs to the whole install though it is
	// recorded with the first page: users, invitations, refused access
	// and other pages' creation, renaming and deletion. The log of a
	// user limited to some pages is read with it.
	PageOnly   bool
	ObjectType string
	ObjectID   string
	Action     string
	// ActorName matches any part of the actor's name, ignoring case.
	ActorName string
	From, To  time.Time // From ≤ at < To
	Limit     int
	Offset    int
}

func (s *Store) auditQuery(ctx context.Context, f AuditFilter) *gorm.DB {
	q := s.conn(ctx).Model(&AuditEntry{})
	if f.PageID != 0 {
		q = q.Where("page_id = ?", f.PageID)
	}
	if f.PageOnly {
		q = q.Where("object_type NOT IN ?", installWideAuditTypes).
			Where("(object_type <> ? OR object_id = ?)", AuditPage, idString(f.PageID))
	}
	if f.ObjectType != "" {
		q = q.Where("object_type = ?", f.ObjectType)
	}
	if f.ObjectID != "" {
		q = q.Where("object_id = ?", f.ObjectID)
	}
	if f.Action != "" {
		q = q.Where("action = ?", f.Action)
	}
	if name := strings.TrimSpace(f.ActorName); name != "" {
		q = q.Where(`LOWER(actor_name) LIKE ? ESCAPE '\'`, "%"+escapeLike(strings.ToLower(name))+"%")
	}
	if !f.From.IsZero() {
		q = q.Where("at >= ?", f.From.UTC())
	}
	if !f.To.IsZero() {
		q = q.Where("at < ?", f.To.UTC())
	}
	return q
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// AuditEntries lists audit rows, newest first, and marks those whose
// object still exists.
func (s *Store) AuditEntries(ctx context.Context, f AuditFilter) ([]AuditEntry, error) {
	q := s.auditQuery(ctx, f).Order("at DESC, id DESC")
	if f.Limit > 0 {
		q = q.Limit(f.Limit).Offset(f.Offset)
	}
	var out []AuditEntry
	if err := q.Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list audit entries: %w", err)
	}
	if err := s.markExisting(ctx, out); err != nil {
		return nil, fmt.Errorf("list audit entries: %w", err)
	}
	return out, nil
}

// CountAuditEntries counts the rows AuditEntries would list without a
// limit.
func (s *Store) CountAuditEntries(ctx context.Context, f AuditFilter) (int64, error) {
	var n int64
	if err := s.auditQuery(ctx, f).Count(&n).Error; err != nil {
		return 0, fmt.Errorf("count audit entries: %w", err)
	}
	return n, nil
}

// AuditEntry loads one audit row.
func (s *Store) AuditEntry(ctx context.Context, id int64) (*AuditEntry, error) {
	var e AuditEntry
	if err := s.conn(ctx).First(&e, id).Error; err != nil {
		return nil, fmt.Errorf("load audit entry %d: %w", id, notFound(err))
	}
	list := []AuditEntry{e}
	if err := s.markExisting(ctx, list); err != nil {
		return nil, fmt.Errorf("load audit entry %d: %w", id, err)
	}
	return &list[0], nil
}

// auditTables maps object types with numeric ids to their tables.
var auditTables = map[string]string{
	AuditComponent:   "components",
	AuditGroup:       "component_groups",
	AuditIncident:    "incidents",
	AuditMaintenance: "maintenances",
	AuditChannel:     "channels",
	AuditPage:        "pages",
	AuditUser:        "users",
	AuditToken:       "api_tokens",
	AuditInvitation:  "invitations",
}

// markExisting sets ObjectExists with one query per object type.
func (s *Store) markExisting(ctx context.Context, list []AuditEntry) error {
	ids := map[string][]int64{}
	for _, e := range list {
		if _, ok := auditTables[e.ObjectType]; !ok {
			continue
		}
		if id, err := strconv.ParseInt(e.ObjectID, 10, 64); err == nil {
			ids[e.ObjectType] = append(ids[e.ObjectType], id)
		}
	}
	exists := map[string]bool{}
	for typ, typeIDs := range ids {
		var found []int64
		if err := s.conn(ctx).Table(auditTables[typ]).Where("id IN ?", uniqueIDs(typeIDs)).
			Pluck("id", &found).Error; err != nil {
			return err
		}
		for _, id := range found {
			exists[typ+":"+idString(id)] = true
		}
	}
	for i := range list {
		list[i].ObjectExists = exists[list[i].ObjectType+":"+list[i].ObjectID]
	}
	return nil
}
