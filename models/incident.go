package models

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"gorm.io/gorm"
)

// IncidentStatus is where an incident stands.
type IncidentStatus string

// Incident statuses.
const (
	IncidentInvestigating IncidentStatus = "investigating"
	IncidentIdentified    IncidentStatus = "identified"
	IncidentMonitoring    IncidentStatus = "monitoring"
	IncidentResolved      IncidentStatus = "resolved"
)

// IncidentStatuses in the order an incident moves through them.
var IncidentStatuses = []IncidentStatus{IncidentInvestigating, IncidentIdentified, IncidentMonitoring, IncidentResolved}

// Valid reports whether s is known.
func (s IncidentStatus) Valid() bool {
	for _, v := range IncidentStatuses {
		if s == v {
			return true
		}
	}
	return false
}

// Label is the status as people read it.
func (s IncidentStatus) Label() string {
	if s == "" {
		return ""
	}
	return strings.ToUpper(string(s[:1])) + string(s[1:])
}

// Impact is how bad an incident is.
type Impact string

// Impacts.
const (
	ImpactNone     Impact = "none"
	ImpactMinor    Impact = "minor"
	ImpactMajor    Impact = "major"
	ImpactCritical Impact = "critical"
)

// Impacts from least to most severe.
var Impacts = []Impact{ImpactNone, ImpactMinor, ImpactMajor, ImpactCritical}

// Valid reports whether i is known.
func (i Impact) Valid() bool {
	for _, v := range Impacts {
		if i == v {
			return true
		}
	}
	return false
}

// Label is the impact as people read it.
func (i Impact) Label() string {
	if i == "" {
		return ""
	}
	return strings.ToUpper(string(i[:1])) + string(i[1:])
}

// ImpactFor derives an impact from the worst affected component status, as
// Statuspage does when no impact is chosen.
func ImpactFor(statuses map[int64]ComponentStatus) Impact {
	worst := StatusOperational
	for _, s := range statuses {
		worst = WorstStatus(worst, s)
	}
	switch worst {
	case StatusMajorOutage:
		return ImpactCritical
	case StatusPartialOutage:
		return ImpactMajor
	case StatusDegradedPerformance:
		return ImpactMinor
	}
	return ImpactNone
}

// Text limits for incidents and maintenance.
const (
	MaxTitleLength   = 200
	MaxMessageLength = 50_000
)

// Incident is something that went wrong, with its timeline.
type Incident struct {
	ID     int64
	PageID int64
	Title  string
	Status IncidentStatus
	Impact Impact
	// ImpactExplicit is set when an admin chose the impact: it stays as
	// chosen. Otherwise it follows the affected components (ImpactFor) on
	// every update short of resolving.
	ImpactExplicit bool
	Backfilled     bool
	Postmortem     string
	PostmortemAt   *time.Time
	// TitleEditedAt is when the title was last corrected; nil: never.
	TitleEditedAt *time.Time
	StartedAt     time.Time
	MonitoringAt  *time.Time
	ResolvedAt    *time.Time
	CreatedAt     time.Time
	UpdatedAt     time.Time

	// Updates, newest first, and the affected components, by position.
	Updates    []IncidentUpdate `gorm:"-"`
	Components []Component      `gorm:"-"`
}

// IncidentUpdate is one entry of an incident's timeline.
type IncidentUpdate struct {
	ID         int64
	IncidentID int64
	Status     IncidentStatus
	Message    string
	CreatedAt  time.Time
	// EditedAt is when the message was last corrected; nil: never.
	EditedAt   *time.Time
	Components []UpdateComponent `gorm:"foreignKey:UpdateID"`
}

// UpdateComponent is a component status set with an update.
type UpdateComponent struct {
	ID            int64
	UpdateID      int64
	ComponentID   *int64
	ComponentName string
	OldStatus     ComponentStatus
	NewStatus     ComponentStatus
}

// TableName maps UpdateComponent to incident_update_components.
func (UpdateComponent) TableName() string { return "incident_update_components" }

type incidentComponent struct {
	IncidentID  int64
	ComponentID int64
}

func (incidentComponent) TableName() string { return "incident_components" }

// IncidentInput opens an incident with its first update.
type IncidentInput struct {
	Title   string
	Status  IncidentStatus
	Impact  Impact // empty: derived from the component statuses
	Message string `text:"multiline"`
	// Components maps each affected component to the status it is set to.
	Components map[int64]ComponentStatus
	// Backfill records a past, resolved incident that notifies no one.
	Backfill bool
	// Silent opens a live incident that no channel hears of: the admin
	// unticked "Notify channels". It writes no channel delivery, and no
	// event at all but the incident's own for the subscribers (unless
	// QuietSubscribers): not even the component.status_changed of the
	// statuses it sets.
	Silent bool
	// QuietSubscribers opens it without e-mailing the visitors who
	// subscribed (the admin unticked "Notify subscribers"). With Silent
	// too, no event is written at all.
	QuietSubscribers bool
	StartedAt        time.Time // back-fill only
	ResolvedAt       time.Time // back-fill only
}

// IncidentUpdateInput posts an update to an incident.
type IncidentUpdateInput struct {
	Status IncidentStatus
	// Impact, when set, is chosen: the incident keeps it from now on.
	// Empty: the impact stays chosen, or keeps following the components.
	Impact Impact
	// AutomaticImpact makes the impact follow the components again (with
	// Impact empty).
	AutomaticImpact bool
	Message         string `text:"multiline"`
	Components      map[int64]ComponentStatus
	// Silent saves and shows the update but announces it to no channel,
	// as IncidentInput.Silent.
	Silent bool
	// QuietSubscribers: as IncidentInput.QuietSubscribers.
	QuietSubscribers bool
}

// PostmortemInput is an incident's postmortem, as SetPostmortem takes it;
// the struct gives its text the checks of every input.
type PostmortemInput struct {
	Postmortem string `text:"multiline"`
}

func checkText(v *Validator, field, text string, required bool, max int) {
	n := len([]rune(text))
	if required && strings.TrimSpace(text) == "" {
		v.Add(field, "This cannot be empty.")
	}
	v.Check(n <= max, field, fmt.Sprintf("Use at most %d characters (this has %d).", max, n))
}

// loadPageComponents loads ids, all of which must belong to pageID.
func loadPageComponents(tx *gorm.DB, v *Validator, pageID int64, ids []int64) (map[int64]*Component, error) {
	out := map[int64]*Component{}
	if len(ids) == 0 {
		return out, nil
	}
	var cs []Component
	if err := tx.Where("id IN ? AND page_id = ?", ids, pageID).Find(&cs).Error; err != nil {
		return nil, err
	}
	for i := range cs {
		out[cs[i].ID] = &cs[i]
	}
	if len(out) != len(ids) {
		v.Add("components", "One of the chosen components does not exist any more. Reload and choose again.")
	}
	return out, nil
}

func sortedIDs[T any](m map[int64]T) []int64 {
	ids := make([]int64, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}

func checkComponentStatuses(v *Validator, m map[int64]ComponentStatus) {
	for _, s := range m {
		v.Check(s.Valid(), "components", "Choose one of the listed statuses for each component.")
	}
}

// CreateIncident opens an incident with its first update, sets the chosen
// component statuses, and writes incident.created and one
// component.status_changed per component, all in one transaction. A
// back-filled incident changes no component and writes no event.
func (s *Store) CreateIncident(ctx context.Context, pageID int64, in IncidentInput) (*Incident, error) {
	var v Validator
	checkInput(&v, &in)
	in.Title = strings.TrimSpace(in.Title)
	now := s.Now()
	checkText(&v, "title", in.Title, true, MaxTitleLength)
	checkText(&v, "message", in.Message, true, MaxMessageLength)
	checkComponentStatuses(&v, in.Components)
	if in.Impact != "" && !in.Impact.Valid() {
		v.Add("impact", "Choose one of the listed impacts.")
	}
	startedAt := now
	if in.Backfill {
		in.Status = IncidentResolved
		in.StartedAt, in.ResolvedAt = in.StartedAt.UTC(), in.ResolvedAt.UTC()
		v.Check(!in.StartedAt.IsZero(), "started_at", "Enter when the incident started.")
		v.Check(!in.ResolvedAt.IsZero(), "resolved_at", "Enter when the incident was resolved.")
		v.Check(in.ResolvedAt.After(in.StartedAt), "resolved_at", "The end must be after the start.")
		v.Check(!in.ResolvedAt.After(now), "resolved_at", "A back-filled incident must be over; this time is in the future.")
		startedAt = in.StartedAt
	} else {
		v.Check(in.Status.Valid(), "status", "Choose one of the listed statuses.")
		v.Check(in.Status != IncidentResolved, "status", "A new incident cannot start resolved. To record past trouble, back-fill an incident.")
	}
	explicit := in.Impact != ""
	var inc *Incident
	err := s.write(ctx, func(tx *gorm.DB) error {
		tx = notifyScope(tx, in.Silent, in.QuietSubscribers)
		comps, err := loadPageComponents(tx, &v, pageID, sortedIDs(in.Components))
		if err != nil {
			return err
		}
		if err := v.Err(); err != nil {
			return err
		}
		if !explicit {
			in.Impact = ImpactFor(publicStatuses(in.Components, comps))
		}
		inc = &Incident{PageID: pageID, Title: in.Title, Status: in.Status, Impact: in.Impact,
			ImpactExplicit: explicit, Backfilled: in.Backfill, StartedAt: startedAt}
		updateAt := startedAt
		if in.Backfill {
			inc.ResolvedAt, updateAt = &in.ResolvedAt, in.ResolvedAt
		}
		if in.Status == IncidentMonitoring {
			inc.MonitoringAt = &now
		}
		if err := tx.Create(inc).Error; err != nil {
			return err
		}
		if _, err := s.postUpdate(tx, inc, in.Status, in.Message, in.Components, comps, updateAt, !in.Backfill); err != nil {
			return err
		}
		after := incidentSnapshot(inc)
		after.Message, after.Components = in.Message, in.Components
		if in.Backfill {
			return audit(ctx, tx, change{PageID: pageID, Action: "incident.backfill", ObjectType: AuditIncident,
				ObjectID: idString(inc.ID), After: after,
				Summary: fmt.Sprintf("Back-filled incident “%s” (%s to %s).", inc.Title,
					in.StartedAt.Format(auditTimeFormat), in.ResolvedAt.Format(auditTimeFormat))})
		}
		if err := s.incidentEvent(tx, inc, EventIncidentCreated, now); err != nil {
			return err
		}
		return audit(ctx, tx, change{PageID: pageID, Action: "incident.create", ObjectType: AuditIncident,
			ObjectID: idString(inc.ID), After: after,
			Summary: fmt.Sprintf("Opened incident “%s” (%s, %s impact%s).", inc.Title, inc.Status.Label(), inc.Impact,
				notifiedSuffix(!in.Silent)+subscribersSuffix(in.QuietSubscribers))})
	})
	if err != nil {
		return nil, wrapUnlessValidation(err, "create incident")
	}
	return inc, nil
}

// postUpdate writes an update row, its component statuses and the affected
// set. With apply, component statuses really change (history and events);
// a back-fill only records them.
func (s *Store) postUpdate(tx *gorm.DB, inc *Incident, status IncidentStatus, message string,
	set map[int64]ComponentStatus, comps map[int64]*Component, at time.Time, apply bool) (*IncidentUpdate, error) {
	u := &IncidentUpdate{IncidentID: inc.ID, Status: status, Message: message, CreatedAt: at}
	if err := tx.Omit("Components").Create(u).Error; err != nil {
		return nil, err
	}
	for _, id := range sortedIDs(set) {
		c := comps[id]
		old := c.Status
		if apply {
			if _, err := s.setComponentStatus(tx, c, set[id], SourceIncident, &inc.ID); err != nil {
				return nil, err
			}
		}
		uc := UpdateComponent{UpdateID: u.ID, ComponentID: &c.ID, ComponentName: c.Name, OldStatus: old, NewStatus: set[id]}
		if err := tx.Create(&uc).Error; err != nil {
			return nil, err
		}
		u.Components = append(u.Components, uc)
		if err := tx.Where(incidentComponent{IncidentID: inc.ID, ComponentID: c.ID}).
			FirstOrCreate(&incidentComponent{IncidentID: inc.ID, ComponentID: c.ID}).Error; err != nil {
			return nil, err
		}
	}
	return u, nil
}

// PostIncidentUpdate adds an update, changing status, impact and component
// statuses; it writes incident.resolved when the incident reaches resolved,
// else incident.updated, plus one component.status_changed per component.
func (s *Store) PostIncidentUpdate(ctx context.Context, id int64, in IncidentUpdateInput) (*IncidentUpdate, error) {
	var v Validator
	checkInput(&v, &in)
	v.Check(in.Status.Valid(), "status", "Choose one of the listed statuses.")
	if in.Impact != "" && !in.Impact.Valid() {
		v.Add("impact", "Choose one of the listed impacts.")
	}
	v.Check(in.Impact == "" || !in.AutomaticImpact, "impact", "Choose an impact or automatic, not both.")
	checkText(&v, "message", in.Message, true, MaxMessageLength)
	checkComponentStatuses(&v, in.Components)
	var u *IncidentUpdate
	err := s.write(ctx, func(tx *gorm.DB) error {
		tx = notifyScope(tx, in.Silent, in.QuietSubscribers)
		var inc Incident
		if err := tx.First(&inc, id).Error; err != nil {
			return notFound(err)
		}
		comps, err := loadPageComponents(tx, &v, inc.PageID, sortedIDs(in.Components))
		if err != nil {
			return err
		}
		if err := v.Err(); err != nil {
			return err
		}
		now := s.Now()
		wasResolved := inc.Status == IncidentResolved
		before := auditIncident{Status: inc.Status, Impact: inc.Impact, Components: map[int64]ComponentStatus{}}
		for cid, c := range comps {
			before.Components[cid] = c.Status
		}
		inc.Status = in.Status
		switch {
		case in.Impact != "":
			inc.Impact, inc.ImpactExplicit = in.Impact, true
		case in.AutomaticImpact:
			inc.ImpactExplicit = false
		}
		// Resolving keeps the impact, so the history shows how bad it was
		// (the components are back to operational by then).
		if !inc.ImpactExplicit && in.Status != IncidentResolved {
			statuses, err := incidentComponentStatuses(tx, inc.ID)
			if err != nil {
				return err
			}
			for cid, st := range publicStatuses(in.Components, comps) {
				statuses[cid] = st
			}
			inc.Impact = ImpactFor(statuses)
		}
		switch {
		case in.Status == IncidentResolved && inc.ResolvedAt == nil:
			inc.ResolvedAt = &now
		case in.Status != IncidentResolved:
			inc.ResolvedAt = nil
		}
		if in.Status == IncidentMonitoring && inc.MonitoringAt == nil {
			inc.MonitoringAt = &now
		}
		inc.UpdatedAt = now
		if err := tx.Select("status", "impact", "impact_explicit", "resolved_at", "monitoring_at", "updated_at").Save(&inc).Error; err != nil {
			return err
		}
		u, err = s.postUpdate(tx, &inc, in.Status, in.Message, in.Components, comps, now, true)
		if err != nil {
			return err
		}
		typ, action := EventIncidentUpdated, "incident.update"
		summary := fmt.Sprintf("Posted an update to “%s” (%s).", inc.Title, inc.Status.Label())
		if in.Status == IncidentResolved && !wasResolved {
			typ, action = EventIncidentResolved, "incident.resolve"
			summary = fmt.Sprintf("Resolved incident “%s”.", inc.Title)
		}
		if in.Silent || in.QuietSubscribers {
			suffix := subscribersSuffix(in.QuietSubscribers)
			if in.Silent {
				suffix = notifiedSuffix(false) + suffix
			}
			summary = strings.TrimSuffix(summary, ".") + suffix + "."
		}
		if !inc.Backfilled {
			if err := s.incidentEvent(tx, &inc, typ, now); err != nil {
				return err
			}
		}
		return audit(ctx, tx, change{PageID: inc.PageID, Action: action, ObjectType: AuditIncident,
			ObjectID: idString(inc.ID), Summary: summary, Before: before,
			After: auditIncident{Status: inc.Status, Impact: inc.Impact, Message: in.Message, Components: in.Components}})
	})
	if err != nil {
		return nil, wrapUnlessValidation(err, fmt.Sprintf("update incident %d", id))
	}
	return u, nil
}

// An automatic impact follows the components the public page shows: a
// hidden component's outage must not surface as a critical incident (and
// through it the page's indicator), as it surfaces nowhere else.

// publicStatuses keeps the statuses of set whose component is visible.
func publicStatuses(set map[int64]ComponentStatus, comps map[int64]*Component) map[int64]ComponentStatus {
	out := map[int64]ComponentStatus{}
	for id, st := range set {
		if c := comps[id]; c != nil && c.Visible {
			out[id] = st
		}
	}
	return out
}

// incidentComponentStatuses is the status the incident's updates last set
// for each visible component they touched (deleted ones left out): what an
// automatic impact follows.
func incidentComponentStatuses(tx *gorm.DB, incidentID int64) (map[int64]ComponentStatus, error) {
	var rows []struct {
		ComponentID int64
		NewStatus   ComponentStatus
	}
	if err := tx.Table("incident_update_components iuc").Select("iuc.component_id, iuc.new_status").
		Joins("JOIN incident_updates iu ON iu.id = iuc.update_id").
		Joins("JOIN components c ON c.id = iuc.component_id").
		Where("iu.incident_id = ? AND c.visible = ?", incidentID, true).
		Order("iu.created_at, iu.id, iuc.id").Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("statuses set by incident %d: %w", incidentID, err)
	}
	out := map[int64]ComponentStatus{}
	for _, r := range rows {
		out[r.ComponentID] = r.NewStatus // later rows win
	}
	return out, nil
}

// ResolveIncident resolves an incident and sets its affected components
// back to operational.
func (s *Store) ResolveIncident(ctx context.Context, id int64, message string) (*IncidentUpdate, error) {
	if strings.TrimSpace(message) == "" {
		message = "This incident has been resolved."
	}
	var ids []int64
	if err := s.conn(ctx).Model(&incidentComponent{}).Where("incident_id = ?", id).Pluck("component_id", &ids).Error; err != nil {
		return nil, fmt.Errorf("resolve incident %d: %w", id, err)
	}
	set := map[int64]ComponentStatus{}
	for _, cid := range ids {
		set[cid] = StatusOperational
	}
	return s.PostIncidentUpdate(ctx, id, IncidentUpdateInput{Status: IncidentResolved, Message: message, Components: set})
}

// SetPostmortem saves (or, when empty, removes) an incident's postmortem.
func (s *Store) SetPostmortem(ctx context.Context, id int64, body string) error {
	var v Validator
	checkInput(&v, PostmortemInput{Postmortem: body})
	checkText(&v, "postmortem", body, false, MaxMessageLength)
	if err := v.Err(); err != nil {
		return err
	}
	now := s.Now()
	var at *time.Time
	if strings.TrimSpace(body) != "" {
		at = &now
	}
	err := s.write(ctx, func(tx *gorm.DB) error {
		var inc Incident
		if err := tx.First(&inc, id).Error; err != nil {
			return notFound(err)
		}
		if err := tx.Model(&Incident{}).Where("id = ?", id).
			Updates(map[string]any{"postmortem": body, "postmortem_at": at, "updated_at": now}).Error; err != nil {
			return err
		}
		summary := fmt.Sprintf("Published the postmortem of “%s”.", inc.Title)
		switch {
		case at == nil:
			summary = fmt.Sprintf("Removed the postmortem of “%s”.", inc.Title)
		case strings.TrimSpace(inc.Postmortem) != "":
			summary = fmt.Sprintf("Edited the postmortem of “%s”.", inc.Title)
		}
		return audit(ctx, tx, change{PageID: inc.PageID, Action: "incident.postmortem", ObjectType: AuditIncident,
			ObjectID: idString(inc.ID), Summary: summary,
			Before: auditPostmortem{inc.Postmortem}, After: auditPostmortem{body}})
	})
	if err != nil {
		return fmt.Errorf("save postmortem of incident %d: %w", id, err)
	}
	return nil
}

// DeleteIncident removes an incident and its timeline. Component statuses
// stay as they are.
func (s *Store) DeleteIncident(ctx context.Context, id int64) error {
	err := s.write(ctx, func(tx *gorm.DB) error {
		var inc Incident
		if err := tx.First(&inc, id).Error; err != nil {
			return notFound(err)
		}
		res := tx.Delete(&Incident{}, id)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		return audit(ctx, tx, change{PageID: inc.PageID, Action: "incident.delete", ObjectType: AuditIncident,
			ObjectID: idString(inc.ID), Summary: fmt.Sprintf("Deleted incident “%s” and its timeline.", inc.Title),
			Before: incidentSnapshot(&inc)})
	})
	if err != nil {
		return fmt.Errorf("delete incident %d: %w", id, err)
	}
	return nil
}

func (s *Store) incidentEvent(tx *gorm.DB, inc *Incident, typ EventType, at time.Time) error {
	var latest IncidentUpdate
	if err := tx.Where("incident_id = ?", inc.ID).Order("created_at DESC, id DESC").First(&latest).Error; err != nil {
		return err
	}
	return s.incidentEventWith(tx, inc, typ, latest.Message, at)
}

// incidentEventWith writes an incident event whose message is message.
func (s *Store) incidentEventWith(tx *gorm.DB, inc *Incident, typ EventType, message string, at time.Time) error {
	var names []string
	if err := tx.Model(&Component{}).
		Joins("JOIN incident_components ic ON ic.component_id = components.id").
		Where("ic.incident_id = ?", inc.ID).Order("components.name").Pluck("components.name", &names).Error; err != nil {
		return err
	}
	if names == nil {
		names = []string{}
	}
	return addEvent(tx, inc.PageID, typ, IncidentData{
		ID: inc.ID, Title: inc.Title, Status: string(inc.Status), Severity: string(inc.Impact),
		Message: message, Components: names, StartedAt: inc.StartedAt, ResolvedAt: inc.ResolvedAt,
		URL: fmt.Sprintf("%s/incidents/%d", s.pageBaseURL(tx, inc.PageID), inc.ID),
	}, at)
}
