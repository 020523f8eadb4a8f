package models

import (
	"time"
)

// The audit log stores objects as these snapshots, not as the models
// themselves: snake_case JSON, only what an admin can set or see, and no
// credential in plaintext. A channel's URL appears as its masked hint,
// header values and signing secrets as MaskedValue.

type auditComponent struct {
	ID          int64           `json:"id"`
	Name        string          `json:"name"`
	Description string          `json:"description"`
	GroupID     *int64          `json:"group_id"`
	Visible     bool            `json:"visible"`
	Status      ComponentStatus `json:"status"`
}

func componentSnapshot(c *Component) auditComponent {
	return auditComponent{ID: c.ID, Name: c.Name, Description: c.Description, GroupID: c.GroupID,
		Visible: c.Visible, Status: c.Status}
}

type auditGroup struct {
	ID        int64  `json:"id"`
	Name      string `json:"name"`
	Collapsed bool   `json:"collapsed"`
}

func groupSnapshot(g *Group) auditGroup {
	return auditGroup{ID: g.ID, Name: g.Name, Collapsed: g.Collapsed}
}

type auditPosition struct {
	Position int `json:"position"`
}

type auditIncident struct {
	ID         int64          `json:"id,omitempty"`
	Title      string         `json:"title,omitempty"`
	Status     IncidentStatus `json:"status"`
	Impact     Impact         `json:"impact"`
	Backfilled bool           `json:"backfilled,omitempty"`
	StartedAt  *time.Time     `json:"started_at,omitempty"`
	ResolvedAt *time.Time     `json:"resolved_at,omitempty"`
	Message    string         `json:"message,omitempty"`
	// Components maps component ids to their statuses.
	Components map[int64]ComponentStatus `json:"components,omitempty"`
}

func incidentSnapshot(inc *Incident) auditIncident {
	started := inc.StartedAt
	return auditIncident{ID: inc.ID, Title: inc.Title, Status: inc.Status, Impact: inc.Impact,
		Backfilled: inc.Backfilled, StartedAt: &started, ResolvedAt: inc.ResolvedAt}
}

type auditPostmortem struct {
	Postmortem string `json:"postmortem"`
}

type auditMaintenance struct {
	ID             int64             `json:"id"`
	Title          string            `json:"title"`
	Message        string            `json:"message"`
	Status         MaintenanceStatus `json:"status"`
	WindowStart    time.Time         `json:"window_start"`
	WindowEnd      time.Time         `json:"window_end"`
	SetMaintenance bool              `json:"set_maintenance"`
	ComponentIDs   []int64           `json:"component_ids"`
}

func maintenanceSnapshot(m *Maintenance, componentIDs []int64) auditMaintenance {
	if componentIDs == nil {
		componentIDs = []int64{}
	}
	return auditMaintenance{ID: m.ID, Title: m.Title, Message: m.Message, Status: m.Status,
		WindowStart: m.WindowStart, WindowEnd: m.WindowEnd, SetMaintenance: m.SetMaintenance,
		ComponentIDs: componentIDs}
}

// auditMaintenanceState is the part of a window a transition changes.
type auditMaintenanceState struct {
	Status      MaintenanceStatus `json:"status"`
	WindowEnd   *time.Time        `json:"window_end,omitempty"`
	StartedAt   *time.Time        `json:"started_at,omitempty"`
	CompletedAt *time.Time        `json:"completed_at,omitempty"`
}

// auditTimeFormat writes times in summaries.
const auditTimeFormat = "2006-01-02 15:04 UTC"

type auditChannel struct {
	ID   int64       `json:"id"`
	Type ChannelType `json:"type"`
	Name string      `json:"name"`
	// URL is the masked hint, never the URL.
	URL string `json:"url"`
	// Headers are "Name: ••••" lines.
	Headers             []string   `json:"headers,omitempty"`
	Secret              string     `json:"secret,omitempty"`
	PreviousSecretUntil *time.Time `json:"previous_secret_until,omitempty"`
	Events              []string   `json:"events"`
	RetrySchedule       string     `json:"retry_schedule"`
	Enabled             bool       `json:"enabled"`
	DisabledReason      string     `json:"disabled_reason,omitempty"`
}

func channelSnapshot(c *Channel) auditChannel {
	a := auditChannel{ID: c.ID, Type: c.Type, Name: c.Name, URL: c.URLHint, Events: []string{},
		RetrySchedule: c.RetrySchedule, Enabled: c.Enabled, DisabledReason: c.DisabledReason}
	for _, h := range c.Headers {
		a.Headers = append(a.Headers, h.Name+": "+MaskedValue)
	}
	if c.Type == ChannelWebhook {
		a.Secret = MaskedValue
	}
	a.PreviousSecretUntil = c.PreviousSecretUntil
	for _, e := range c.EventList() {
		a.Events = append(a.Events, string(e))
	}
	return a
}

type auditSecret struct {
	Secret              string     `json:"secret"`
	PreviousSecretUntil *time.Time `json:"previous_secret_until"`
}

type auditEnabled struct {
	Enabled        bool   `json:"enabled"`
	DisabledReason string `json:"disabled_reason,omitempty"`
}

type auditDelivery struct {
	DeliveryID string    `json:"delivery_id"`
	Event      EventType `json:"event"`
	State      string    `json:"state,omitempty"`
	Attempts   int       `json:"attempts,omitempty"`
}

type auditPage struct {
	Slug        string   `json:"slug"`
	Name        string   `json:"name"`
	Description string   `json:"description"`
	LogoURL     string   `json:"logo_url"`
	AccentColor string   `json:"accent_color"`
	TimeZone    string   `json:"time_zone"`
	ImageHosts  []string `json:"image_hosts"`
}

func pageSnapshot(p *Page) auditPage {
	return auditPage{Slug: p.Slug, Name: p.Name, Description: p.Description, LogoURL: p.LogoURL, AccentColor: p.Accent(), TimeZone: p.TimeZone,
		ImageHosts: p.ImageHostList()} // [] when none: strings.Fields never returns nil
}

type auditUser struct {
	ID        int64  `json:"id"`
	Email     string `json:"email"`
	Role      Role   `json:"role"`
	TwoFactor bool   `json:"two_factor"`
}

// userAuditSnapshot is a user as the audit log shows them: never a
// password hash or a TOTP secret.
func userAuditSnapshot(u *User) auditUser {
	return auditUser{ID: u.ID, Email: u.Email, Role: u.Role, TwoFactor: u.TwoFactor()}
}
