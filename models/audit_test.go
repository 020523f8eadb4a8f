package models_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
	"github.com/pquerna/otp/totp"
)

// auditAdmin is the actor of the changes in these tests.
var auditAdmin = models.UserActor(7, "ops@example.com", "203.0.113.9")

// Secrets a channel in these tests holds; no audit row may contain them.
const (
	auditHookURL     = "https://hooker:pa55word@hooks.example.com/in?key=qwerty123"
	auditHeaderValue = "Bearer header-secret-value"
)

// auditWorld is the state the table's cases share, in order.
type auditWorld struct {
	api, db      *models.Component
	group        *models.Group
	incident     *models.Incident
	maintenance  *models.Maintenance
	channel      *models.Channel
	delivery     *models.Delivery
	tokenID      int64
	secrets      []string // plaintexts that must never be audited
	userID       int64
	secondUserID int64
	scratchComp  int64
	scratchMaint int64
	totpSecret   string // the second user's, to compute codes with
	invitationID int64
	invitation   string // link secret of a pending invitation
	sessionID    string
	pageID       int64
}

type wantRow struct {
	action string
	actor  string // actor name
}

type auditCase struct {
	name       string
	objectType string
	// setup prepares the case; what it writes is not counted.
	setup func(t *testing.T, s *models.Store, w *auditWorld, clock *modelstest.Clock)
	// act makes the change under test and returns the id of its object.
	act  func(t *testing.T, ctx context.Context, s *models.Store, w *auditWorld) int64
	want []wantRow // newest last; empty: the change must write no row
}

func user(action string) []wantRow { return []wantRow{{action, auditAdmin.Name}} }

// ok returns v, failing the test when err is set: ok(s.Create(…))(t).
func ok[T any](v T, err error) func(t *testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		modelstest.Fatal(t, err, "setup")
		return v
	}
}

var auditCases = []auditCase{
	{name: "setup creates the first admin and names the page", objectType: "",
		act: func(t *testing.T, ctx context.Context, s *models.Store, w *auditWorld) int64 {
			u := ok(s.CompleteSetup(models.WithActor(ctx, models.Actor{Type: models.ActorUser, IP: "198.51.100.4"}),
				models.SetupInput{PageName: "Acme", Email: "first@example.com", Password: "correct horse battery"}))(t)
			w.userID = u.ID
			return 0
		},
		want: []wantRow{{"user.create", "first@example.com"}, {"page.update", "first@example.com"}}},
	{name: "create user", objectType: models.AuditUser,
		act: func(t *testing.T, ctx context.Context, s *models.Store, w *auditWorld) int64 {
			w.secondUserID = ok(s.CreateUser(ctx, models.UserInput{Email: "second@example.com", Password: "another long password", Role: models.RoleAdmin}))(t).ID
			return w.secondUserID
		},
		want: user("user.create")},
	{name: "change a user's role", objectType: models.AuditUser,
		act: func(t *testing.T, ctx context.Context, s *models.Store, w *auditWorld) int64 {
			return ok(s.SetUserRole(ctx, w.secondUserID, models.RoleOperator))(t).ID
		},
		want: user("user.role")},
	{name: "set a user's password", objectType: models.AuditUser,
		act: func(t *testing.T, ctx context.Context, s *models.Store, w *auditWorld) int64 {
			modelstest.Fatal(t, s.SetPassword(ctx, w.secondUserID, "pa55word-but-much-longer-now"), "set password")
			w.secrets = append(w.secrets, "pa55word-but-much-longer-now")
			return w.secondUserID
		},
		want: user("user.password")},
	{name: "reset a user's two-factor sign-in", objectType: models.AuditUser,
		act: func(t *testing.T, ctx context.Context, s *models.Store, w *auditWorld) int64 {
			modelstest.Fatal(t, s.ResetTwoFactor(ctx, w.secondUserID), "reset 2fa")
			return w.secondUserID
		},
		want: user("user.2fa_reset")},
	{name: "turn on two-factor sign-in", objectType: models.AuditUser,
		setup: func(t *testing.T, s *models.Store, w *auditWorld, _ *modelstest.Clock) {
			modelstest.Fatal(t, s.StartTwoFactor(context.Background(), w.secondUserID), "start enrolment")
			w.totpSecret = ok(s.TwoFactorEnrolment(context.Background(), w.secondUserID, "Acme"))(t).Secret
			w.secrets = append(w.secrets, w.totpSecret)
		},
		act: func(t *testing.T, ctx context.Context, s *models.Store, w *auditWorld) int64 {
			codes := ok(s.EnableTwoFactor(ctx, w.secondUserID, totpAt(t, w.totpSecret, s.Now())))(t)
			w.secrets = append(w.secrets, codes...)
			return w.secondUserID
		},
		want: user("user.2fa_enable")},
	{name: "make new recovery codes", objectType: models.AuditUser,
		setup: func(t *testing.T, s *models.Store, w *auditWorld, clock *modelstest.Clock) {
			clock.Add(30 * time.Second)
		},
		act: func(t *testing.T, ctx context.Context, s *models.Store, w *auditWorld) int64 {
			codes := ok(s.RegenerateRecoveryCodes(ctx, w.secondUserID, "pa55word-but-much-longer-now", totpAt(t, w.totpSecret, s.Now())))(t)
			w.secrets = append(w.secrets, codes...)
			return w.secondUserID
		},
		want: user("user.2fa_recovery_codes")},
	{name: "turn off two-factor sign-in", objectType: models.AuditUser,
		setup: func(t *testing.T, s *models.Store, w *auditWorld, clock *modelstest.Clock) {
			clock.Add(30 * time.Second)
		},
		act: func(t *testing.T, ctx context.Context, s *models.Store, w *auditWorld) int64 {
			modelstest.Fatal(t, s.DisableTwoFactor(ctx, w.secondUserID, "pa55word-but-much-longer-now", totpAt(t, w.totpSecret, s.Now())), "disable")
			return w.secondUserID
		},
		want: user("user.2fa_disable")},
	{name: "a failed sign-in names the e-mail tried", objectType: "",
		act: func(t *testing.T, ctx context.Context, s *models.Store, w *auditWorld) int64 {
			modelstest.Fatal(t, s.AuditSignInFailed(ctx, "Nobody@Example.com", models.SignInBadPassword), "audit sign-in")
			return 0
		},
		want: []wantRow{{"access.signin_failed", "nobody@example.com"}}},
	{name: "require two-factor sign-in", objectType: "",
		act: func(t *testing.T, ctx context.Context, s *models.Store, w *auditWorld) int64 {
			modelstest.Fatal(t, s.SetRequireTwoFactor(ctx, true), "require")
			modelstest.Fatal(t, s.SetRequireTwoFactor(ctx, true), "require again")
			modelstest.Fatal(t, s.SetRequireTwoFactor(ctx, false), "no longer require")
			return 0
		},
		want: []wantRow{{"settings.require_2fa", auditAdmin.Name}, {"settings.require_2fa", auditAdmin.Name}}},
	{name: "a wrong current password on the account page", objectType: models.AuditUser,
		act: func(t *testing.T, ctx context.Context, s *models.Store, w *auditWorld) int64 {
			_, err := s.ChangePassword(ctx, w.secondUserID, "", models.PasswordChangeInput{CurrentPassword: "not my password at all", NewPassword: "second brand new passphrase"})
			if !errors.As(err, new(*models.ValidationError)) {
				t.Fatalf("wrong current password: %v, want a validation error", err)
			}
			return w.secondUserID
		},
		want: user("user.wrong_password")},
	{name: "change own password", objectType: models.AuditUser,
		act: func(t *testing.T, ctx context.Context, s *models.Store, w *auditWorld) int64 {
			_, err := s.ChangePassword(ctx, w.secondUserID, "", models.PasswordChangeInput{CurrentPassword: "pa55word-but-much-longer-now", NewPassword: "second brand new passphrase"})
			modelstest.Fatal(t, err, "change password")
			w.secrets = append(w.secrets, "second brand new passphrase")
			return w.secondUserID
		},
		want: user("user.password")},
	{name: "change own e-mail", objectType: models.AuditUser,
		act: func(t *testing.T, ctx context.Context, s *models.Store, w *auditWorld) int64 {
			return ok(s.ChangeEmail(ctx, w.secondUserID, models.EmailChangeInput{Email: "Second.New@Example.com", CurrentPassword: "second brand new passphrase"}))(t).ID
		},
		want: user("user.email")},
	{name: "sign out everywhere else", objectType: models.AuditUser,
		setup: func(t *testing.T, s *models.Store, w *auditWorld, _ *modelstest.Clock) {
			for range 2 {
				w.sessionID = ok(s.CreateSession(context.Background(), w.secondUserID, time.Hour, models.SessionOrigin{IP: "192.0.2.1", UserAgent: "curl/8.0"}))(t).ID
			}
		},
		act: func(t *testing.T, ctx context.Context, s *models.Store, w *auditWorld) int64 {
			if n := ok(s.EndOtherSessions(ctx, w.secondUserID, w.sessionID))(t); n != 1 {
				t.Fatalf("ended %d sessions, want 1", n)
			}
			return w.secondUserID
		},
		want: user("user.sessions_end")},
	{name: "signed in nowhere else: nothing to end", objectType: models.AuditUser,
		act: func(t *testing.T, ctx context.Context, s *models.Store, w *auditWorld) int64 {
			ok(s.EndOtherSessions(ctx, w.secondUserID, w.sessionID))(t)
			return w.secondUserID
		}},
	{name: "setting the same role again changes nothing", objectType: models.AuditUser,
		act: func(t *testing.T, ctx context.Context, s *models.Store, w *auditWorld) int64 {
			return ok(s.SetUserRole(ctx, w.secondUserID, models.RoleOperator))(t).ID
		}},
	{name: "a refused request", objectType: "",
		act: func(t *testing.T, ctx context.Context, s *models.Store, w *auditWorld) int64 {
			modelstest.Fatal(t, s.AuditDenied(ctx, "POST", "/admin/settings", models.RoleOperator, models.RoleAdmin), "audit refusal")
			return 0
		},
		want: user("access.denied")},
	{name: "create component", objectType: models.AuditComponent,
		act: func(t *testing.T, ctx context.Context, s *models.Store, w *auditWorld) int64 {
			w.api = ok(s.CreateComponent(ctx, models.DefaultPageID, models.ComponentInput{Name: "API", Visible: true, Status: models.StatusOperational}))(t)
			return w.api.ID
		},
		want: user("component.create")},
	{name: "update component", objectType: models.AuditComponent,
		setup: func(t *testing.T, s *models.Store, w *auditWorld, _ *modelstest.Clock) {
			w.db = ok(s.CreateComponent(context.Background(), models.DefaultPageID, models.ComponentInput{Name: "DB", Status: models.StatusOperational}))(t)
		},
		act: func(t *testing.T, ctx context.Context, s *models.Store, w *auditWorld) int64 {
			return ok(s.UpdateComponent(ctx, w.api.ID, models.ComponentInput{Name: "Public API", Visible: true, Status: models.StatusDegradedPerformance}))(t).ID
		},
		want: user("component.update")},
	{name: "quick status change", objectType: models.AuditComponent,
		act: func(t *testing.T, ctx context.Context, s *models.Store, w *auditWorld) int64 {
			ok(s.SetComponentStatus(ctx, w.api.ID, models.StatusOperational, models.SourceManual, nil))(t)
			return w.api.ID
		},
		want: user("component.status")},
	{name: "status set to what it is writes nothing", objectType: models.AuditComponent,
		act: func(t *testing.T, ctx context.Context, s *models.Store, w *auditWorld) int64 {
			ok(s.SetComponentStatus(ctx, w.api.ID, models.StatusOperational, models.SourceManual, nil))(t)
			return w.api.ID
		}},
	{name: "move component", objectType: models.AuditComponent,
		act: func(t *testing.T, ctx context.Context, s *models.Store, w *auditWorld) int64 {
			modelstest.Fatal(t, s.MoveComponent(ctx, w.db.ID, -1), "move")
			return w.db.ID
		},
		want: user("component.move")},
	{name: "move past the end writes nothing", objectType: models.AuditComponent,
		act: func(t *testing.T, ctx context.Context, s *models.Store, w *auditWorld) int64 {
			modelstest.Fatal(t, s.MoveComponent(ctx, w.db.ID, -1), "move")
			return w.db.ID
		}},
	{name: "delete component", objectType: models.AuditComponent,
		setup: func(t *testing.T, s *models.Store, w *auditWorld, _ *modelstest.Clock) {
			w.scratchComp = ok(s.CreateComponent(context.Background(), models.DefaultPageID, models.ComponentInput{Name: "Old", Status: models.StatusOperational}))(t).ID
		},
		act: func(t *testing.T, ctx context.Context, s *models.Store, w *auditWorld) int64 {
			modelstest.Fatal(t, s.DeleteComponent(ctx, w.scratchComp), "delete")
			return w.scratchComp
		},
		want: user("component.delete")},
	{name: "create group", objectType: models.AuditGroup,
		act: func(t *testing.T, ctx context.Context, s *models.Store, w *auditWorld) int64 {
			w.group = ok(s.CreateGroup(ctx, models.DefaultPageID, models.GroupInput{Name: "Core"}))(t)
			return w.group.ID
		},
		want: user("group.create")},
	{name: "update group", objectType: models.AuditGroup,
		act: func(t *testing.T, ctx context.Context, s *models.Store, w *auditWorld) int64 {
			return ok(s.UpdateGroup(ctx, w.group.ID, models.GroupInput{Name: "Core services", Collapsed: true}))(t).ID
		},
		want: user("group.update")},
	{name: "move group", objectType: models.AuditGroup,
		setup: func(t *testing.T, s *models.Store, w *auditWorld, _ *modelstest.Clock) {
			ok(s.CreateGroup(context.Background(), models.DefaultPageID, models.GroupInput{Name: "Edge"}))(t)
		},
		act: func(t *testing.T, ctx context.Context, s *models.Store, w *auditWorld) int64 {
			modelstest.Fatal(t, s.MoveGroup(ctx, w.group.ID, 1), "move")
			return w.group.ID
		},
		want: user("group.move")},
	{name: "delete group", objectType: models.AuditGroup,
		act: func(t *testing.T, ctx context.Context, s *models.Store, w *auditWorld) int64 {
			modelstest.Fatal(t, s.DeleteGroup(ctx, w.group.ID), "delete")
			return w.group.ID
		},
		want: user("group.delete")},
	{name: "open incident", objectType: models.AuditIncident,
		act: func(t *testing.T, ctx context.Context, s *models.Store, w *auditWorld) int64 {
			w.incident = ok(s.CreateIncident(ctx, models.DefaultPageID, models.IncidentInput{Title: "API down", Status: models.IncidentInvestigating,
				Message: "Looking", Components: map[int64]models.ComponentStatus{w.api.ID: models.StatusMajorOutage}}))(t)
			return w.incident.ID
		},
		want: user("incident.create")},
	{name: "post incident update", objectType: models.AuditIncident,
		act: func(t *testing.T, ctx context.Context, s *models.Store, w *auditWorld) int64 {
			ok(s.PostIncidentUpdate(ctx, w.incident.ID, models.IncidentUpdateInput{Status: models.IncidentIdentified, Message: "Found it"}))(t)
			return w.incident.ID
		},
		want: user("incident.update")},
	{name: "resolve incident", objectType: models.AuditIncident,
		act: func(t *testing.T, ctx context.Context, s *models.Store, w *auditWorld) int64 {
			ok(s.ResolveIncident(ctx, w.incident.ID, ""))(t)
			return w.incident.ID
		},
		want: user("incident.resolve")},
	{name: "write postmortem", objectType: models.AuditIncident,
		act: func(t *testing.T, ctx context.Context, s *models.Store, w *auditWorld) int64 {
			modelstest.Fatal(t, s.SetPostmortem(ctx, w.incident.ID, "A bad deploy."), "postmortem")
			return w.incident.ID
		},
		want: user("incident.postmortem")},
	{name: "correct incident title", objectType: models.AuditIncident,
		act: func(t *testing.T, ctx context.Context, s *models.Store, w *auditWorld) int64 {
			return ok(s.EditIncidentTitle(ctx, w.incident.ID, models.IncidentTitleInput{Title: "API is down"}))(t).ID
		},
		want: user("incident.edit")},
	{name: "correct an update's message", objectType: models.AuditIncident,
		act: func(t *testing.T, ctx context.Context, s *models.Store, w *auditWorld) int64 {
			inc := ok(s.Incident(ctx, w.incident.ID))(t)
			ok(s.EditIncidentUpdate(ctx, inc.ID, inc.Updates[len(inc.Updates)-1].ID, models.UpdateMessageInput{Message: "Looking into it", Notify: true}))(t)
			return inc.ID
		},
		want: user("incident.edit_update")},
	{name: "the same title again writes nothing", objectType: models.AuditIncident,
		act: func(t *testing.T, ctx context.Context, s *models.Store, w *auditWorld) int64 {
			return ok(s.EditIncidentTitle(ctx, w.incident.ID, models.IncidentTitleInput{Title: "API is down"}))(t).ID
		}},
	{name: "back-fill incident", objectType: models.AuditIncident,
		act: func(t *testing.T, ctx context.Context, s *models.Store, w *auditWorld) int64 {
			return ok(s.CreateIncident(ctx, models.DefaultPageID, models.IncidentInput{Title: "Last week", Message: "It happened", Backfill: true,
				StartedAt: t0.Add(-48 * time.Hour), ResolvedAt: t0.Add(-47 * time.Hour)}))(t).ID
		},
		want: user("incident.backfill")},
	{name: "delete incident", objectType: models.AuditIncident,
		act: func(t *testing.T, ctx context.Context, s *models.Store, w *auditWorld) int64 {
			modelstest.Fatal(t, s.DeleteIncident(ctx, w.incident.ID), "delete")
			return w.incident.ID
		},
		want: user("incident.delete")},
	{name: "schedule maintenance", objectType: models.AuditMaintenance,
		act: func(t *testing.T, ctx context.Context, s *models.Store, w *auditWorld) int64 {
			w.maintenance = ok(s.ScheduleMaintenance(ctx, models.DefaultPageID, models.MaintenanceInput{Title: "Upgrade", ComponentIDs: []int64{w.api.ID},
				WindowStart: t0.Add(time.Hour), WindowEnd: t0.Add(2 * time.Hour), SetMaintenance: true}))(t)
			return w.maintenance.ID
		},
		want: user("maintenance.schedule")},
	{name: "update maintenance", objectType: models.AuditMaintenance,
		act: func(t *testing.T, ctx context.Context, s *models.Store, w *auditWorld) int64 {
			return ok(s.UpdateMaintenance(ctx, w.maintenance.ID, models.MaintenanceInput{Title: "Database upgrade", ComponentIDs: []int64{w.api.ID, w.db.ID},
				WindowStart: t0.Add(time.Hour), WindowEnd: t0.Add(3 * time.Hour), SetMaintenance: true}))(t).ID
		},
		want: user("maintenance.update")},
	{name: "cancel maintenance", objectType: models.AuditMaintenance,
		setup: func(t *testing.T, s *models.Store, w *auditWorld, _ *modelstest.Clock) {
			w.scratchMaint = ok(s.ScheduleMaintenance(context.Background(), models.DefaultPageID, models.MaintenanceInput{Title: "Maybe",
				WindowStart: t0.Add(5 * time.Hour), WindowEnd: t0.Add(6 * time.Hour)}))(t).ID
		},
		act: func(t *testing.T, ctx context.Context, s *models.Store, w *auditWorld) int64 {
			modelstest.Fatal(t, s.CancelMaintenance(ctx, w.scratchMaint), "cancel")
			return w.scratchMaint
		},
		want: user("maintenance.cancel")},
	{name: "scheduler starts maintenance", objectType: models.AuditMaintenance,
		setup: func(t *testing.T, s *models.Store, w *auditWorld, clock *modelstest.Clock) {
			clock.Add(90 * time.Minute)
		},
		act: func(t *testing.T, _ context.Context, s *models.Store, w *auditWorld) int64 {
			ok(s.RunMaintenanceTransitions(context.Background()))(t)
			return w.maintenance.ID
		},
		want: []wantRow{{"maintenance.start", "scheduler"}}},
	{name: "post a maintenance update", objectType: models.AuditMaintenance,
		act: func(t *testing.T, ctx context.Context, s *models.Store, w *auditWorld) int64 {
			return ok(s.PostMaintenanceUpdate(ctx, w.maintenance.ID, models.MaintenanceUpdateInput{Message: "Halfway.", Notify: true}))(t).ID
		},
		want: user("maintenance.post_update")},
	{name: "extend maintenance in progress", objectType: models.AuditMaintenance,
		act: func(t *testing.T, ctx context.Context, s *models.Store, w *auditWorld) int64 {
			end := t0.Add(4 * time.Hour)
			return ok(s.PostMaintenanceUpdate(ctx, w.maintenance.ID, models.MaintenanceUpdateInput{WindowEnd: &end}))(t).ID
		},
		want: user("maintenance.extend")},
	{name: "end maintenance now", objectType: models.AuditMaintenance,
		act: func(t *testing.T, ctx context.Context, s *models.Store, w *auditWorld) int64 {
			modelstest.Fatal(t, s.EndMaintenanceNow(ctx, w.maintenance.ID), "end")
			return w.maintenance.ID
		},
		want: []wantRow{{"maintenance.end", auditAdmin.Name}, {"maintenance.complete", "scheduler"}}},
	{name: "create channel", objectType: models.AuditChannel,
		act: func(t *testing.T, ctx context.Context, s *models.Store, w *auditWorld) int64 {
			w.channel = ok(s.CreateChannel(ctx, models.DefaultPageID, models.ChannelInput{Type: models.ChannelWebhook, Name: "Hook",
				URL: auditHookURL, Enabled: true, HeadersText: "Authorization: " + auditHeaderValue}))(t)
			w.secrets = append(w.secrets, w.channel.Secret)
			return w.channel.ID
		},
		want: user("channel.create")},
	{name: "update channel", objectType: models.AuditChannel,
		act: func(t *testing.T, ctx context.Context, s *models.Store, w *auditWorld) int64 {
			return ok(s.UpdateChannel(ctx, w.channel.ID, models.ChannelInput{Name: "Ops hook", Enabled: true,
				HeadersText: "Authorization: " + models.MaskedValue, Events: []models.EventType{models.EventIncidentCreated}}))(t).ID
		},
		want: user("channel.update")},
	{name: "disable channel", objectType: models.AuditChannel,
		act: func(t *testing.T, ctx context.Context, s *models.Store, w *auditWorld) int64 {
			modelstest.Fatal(t, s.SetChannelEnabled(ctx, w.channel.ID, false), "disable")
			return w.channel.ID
		},
		want: user("channel.disable")},
	{name: "enable channel", objectType: models.AuditChannel,
		act: func(t *testing.T, ctx context.Context, s *models.Store, w *auditWorld) int64 {
			modelstest.Fatal(t, s.SetChannelEnabled(ctx, w.channel.ID, true), "enable")
			return w.channel.ID
		},
		want: user("channel.enable")},
	{name: "send skipped notifications", objectType: models.AuditChannel,
		setup: func(t *testing.T, s *models.Store, w *auditWorld, _ *modelstest.Clock) {
			ctx := context.Background()
			modelstest.Fatal(t, s.SetChannelEnabled(ctx, w.channel.ID, false), "disable")
			ok(s.CreateIncident(ctx, models.DefaultPageID, models.IncidentInput{Title: "While off",
				Status: models.IncidentInvestigating, Message: "Missed."}))(t)
			modelstest.Fatal(t, s.SetChannelEnabled(ctx, w.channel.ID, true), "enable")
		},
		act: func(t *testing.T, ctx context.Context, s *models.Store, w *auditWorld) int64 {
			if n := ok(s.QueueSkippedDeliveries(ctx, w.channel.ID))(t); n != 1 {
				t.Errorf("queued %d skipped deliveries, want 1", n)
			}
			return w.channel.ID
		},
		want: user("channel.send_skipped")},
	{name: "rotate signing secret", objectType: models.AuditChannel,
		act: func(t *testing.T, ctx context.Context, s *models.Store, w *auditWorld) int64 {
			c := ok(s.RotateChannelSecret(ctx, w.channel.ID, time.Hour))(t)
			w.secrets = append(w.secrets, c.Secret, c.PreviousSecret)
			return c.ID
		},
		want: user("channel.rotate_secret")},
	{name: "send test notification", objectType: models.AuditChannel,
		act: func(t *testing.T, ctx context.Context, s *models.Store, w *auditWorld) int64 {
			c := ok(s.Channel(ctx, w.channel.ID))(t)
			w.delivery = ok(s.CreateTestDelivery(ctx, c, models.EventIncidentCreated, "{}", time.Second))(t)
			return c.ID
		},
		want: user("channel.test")},
	{name: "replay delivery", objectType: models.AuditChannel,
		setup: func(t *testing.T, s *models.Store, w *auditWorld, clock *modelstest.Clock) { clock.Add(time.Minute) },
		act: func(t *testing.T, ctx context.Context, s *models.Store, w *auditWorld) int64 {
			modelstest.Fatal(t, s.ReplayDelivery(ctx, w.delivery.ID), "replay")
			return w.channel.ID
		},
		want: user("channel.replay")},
	{name: "replay subscriber e-mail", objectType: models.AuditSubscriber,
		act: func(t *testing.T, ctx context.Context, s *models.Store, w *auditWorld) int64 {
			sub, d := failedSubscriberMail(t, s, "audited@example.com")
			w.secrets = append(w.secrets, "audited@example.com") // addresses stay out of the log
			modelstest.Fatal(t, s.ReplaySubscriberDelivery(ctx, sub, d), "replay")
			return sub
		},
		want: user("subscriber.replay")},
	{name: "delivery worker disables a gone receiver", objectType: models.AuditChannel,
		setup: func(t *testing.T, s *models.Store, w *auditWorld, _ *modelstest.Clock) {
			c := ok(s.Channel(context.Background(), w.channel.ID))(t)
			w.delivery = ok(s.CreateTestDelivery(context.Background(), c, models.EventIncidentCreated, "{}", time.Minute))(t)
		},
		act: func(t *testing.T, _ context.Context, s *models.Store, w *auditWorld) int64 {
			modelstest.Fatal(t, s.RecordAttempt(context.Background(), w.delivery, models.AttemptResult{
				Attempt: models.DeliveryAttempt{Number: 1, StartedAt: t0, RequestURL: "masked", RequestHeaders: "{}", RequestBody: "{}", ResponseStatus: 410},
				State:   models.DeliveryFailed, DisableChannel: "The receiver answered 410 Gone."}), "record")
			return w.channel.ID
		},
		want: []wantRow{{"channel.disable", "notifier"}}},
	{name: "delete channel", objectType: models.AuditChannel,
		act: func(t *testing.T, ctx context.Context, s *models.Store, w *auditWorld) int64 {
			modelstest.Fatal(t, s.DeleteChannel(ctx, w.channel.ID), "delete")
			return w.channel.ID
		},
		want: user("channel.delete")},
	{name: "update page settings", objectType: models.AuditPage,
		act: func(t *testing.T, ctx context.Context, s *models.Store, w *auditWorld) int64 {
			return ok(s.UpdatePage(ctx, models.DefaultPageID, models.PageInput{Name: "Acme Status", AccentColor: "teal", TimeZone: "Europe/Paris"}))(t).ID
		},
		want: user("page.update")},
	{name: "create a page", objectType: models.AuditPage,
		act: func(t *testing.T, ctx context.Context, s *models.Store, w *auditWorld) int64 {
			w.pageID = ok(s.CreatePage(ctx, models.PageNameInput{Name: "Internal", Slug: "internal"}))(t).ID
			return w.pageID
		},
		want: user("page.create")},
	{name: "rename a page", objectType: models.AuditPage,
		act: func(t *testing.T, ctx context.Context, s *models.Store, w *auditWorld) int64 {
			return ok(s.RenamePage(ctx, w.pageID, models.PageNameInput{Name: "Staff", Slug: "staff"}))(t).ID
		},
		want: user("page.update")},
	{name: "limit a user to some pages", objectType: models.AuditUser,
		act: func(t *testing.T, ctx context.Context, s *models.Store, w *auditWorld) int64 {
			u := ok(s.SetUserPages(ctx, w.secondUserID, models.PageSet{PageIDs: []int64{w.pageID}}))(t)
			e := ok(s.AuditEntries(ctx, models.AuditFilter{Action: "user.pages", Limit: 1}))(t)
			if len(e) != 1 || !strings.HasSuffix(e[0].Summary, " to the page “Staff”.") {
				t.Errorf("summary does not name the page: %+v", e)
			}
			return u.ID
		},
		want: user("user.pages")},
	{name: "limiting a user to the same pages again writes nothing", objectType: models.AuditUser,
		act: func(t *testing.T, ctx context.Context, s *models.Store, w *auditWorld) int64 {
			return ok(s.SetUserPages(ctx, w.secondUserID, models.PageSet{PageIDs: []int64{w.pageID}}))(t).ID
		}},
	{name: "let a user see every page", objectType: models.AuditUser,
		act: func(t *testing.T, ctx context.Context, s *models.Store, w *auditWorld) int64 {
			return ok(s.SetUserPages(ctx, w.secondUserID, models.AllPagesAccess()))(t).ID
		},
		want: user("user.pages")},
	{name: "make a page private with a password", objectType: models.AuditPage,
		act: func(t *testing.T, ctx context.Context, s *models.Store, w *auditWorld) int64 {
			w.secrets = append(w.secrets, "page door password")
			ok(s.SetPageAccess(ctx, models.DefaultPageID, models.PageAccessInput{Password: "page door password", IPAllowlist: []string{"192.0.2.0/24"}}))(t)
			return models.DefaultPageID
		},
		want: user("page.access")},
	{name: "revoke a visitor's feed token", objectType: models.AuditPage,
		act: func(t *testing.T, ctx context.Context, s *models.Store, w *auditWorld) int64 {
			plain, tok, err := s.CreatePageFeedToken(ctx, models.DefaultPageID, "password")
			modelstest.Fatal(t, err, "feed token")
			w.secrets = append(w.secrets, plain, tok.TokenHash)
			modelstest.Fatal(t, s.RevokePageFeedToken(ctx, models.DefaultPageID, tok.ID), "revoke")
			return models.DefaultPageID
		},
		want: user("page.feed_token_revoke")},
	{name: "make a page public again", objectType: models.AuditPage,
		act: func(t *testing.T, ctx context.Context, s *models.Store, w *auditWorld) int64 {
			ok(s.SetPageAccess(ctx, models.DefaultPageID, models.PageAccessInput{Public: true, RemovePassword: true}))(t)
			return models.DefaultPageID
		},
		want: user("page.access")},
	{name: "delete a page", objectType: models.AuditPage,
		act: func(t *testing.T, ctx context.Context, s *models.Store, w *auditWorld) int64 {
			modelstest.Fatal(t, s.DeletePage(ctx, w.pageID, false), "delete page")
			return w.pageID
		},
		want: user("page.delete")},
	{name: "create token", objectType: models.AuditToken,
		act: func(t *testing.T, ctx context.Context, s *models.Store, w *auditWorld) int64 {
			tok, plain, err := s.CreateToken(ctx, models.DefaultPageID, models.TokenInput{Name: "deploys", Scopes: []models.Scope{models.ScopeIncidentsWrite}}, w.userID)
			modelstest.Fatal(t, err, "create token")
			w.tokenID = tok.ID
			w.secrets = append(w.secrets, plain, tok.TokenHash)
			return tok.ID
		},
		want: user("token.create")},
	{name: "revoke token", objectType: models.AuditToken,
		act: func(t *testing.T, ctx context.Context, s *models.Store, w *auditWorld) int64 {
			modelstest.Fatal(t, s.RevokeToken(ctx, w.tokenID), "revoke")
			return w.tokenID
		},
		want: user("token.revoke")},
	{name: "invite someone", objectType: models.AuditInvitation,
		act: func(t *testing.T, ctx context.Context, s *models.Store, w *auditWorld) int64 {
			inv, plain, err := s.CreateInvitation(ctx, models.InvitationInput{Email: "Third@Example.com", Role: models.RoleViewer}, w.userID)
			modelstest.Fatal(t, err, "invite")
			w.invitationID, w.invitation = inv.ID, plain
			w.secrets = append(w.secrets, plain, inv.TokenHash)
			return inv.ID
		},
		want: user("invitation.create")},
	{name: "accept an invitation", objectType: "",
		act: func(t *testing.T, ctx context.Context, s *models.Store, w *auditWorld) int64 {
			u := ok(s.AcceptInvitation(models.WithActor(context.Background(), models.Actor{Type: models.ActorUser, IP: "198.51.100.7"}),
				w.invitation, "third person's long password"))(t)
			if u.Email != "third@example.com" || u.Role != models.RoleViewer {
				t.Fatalf("accepted: %s %s", u.Email, u.Role)
			}
			w.secrets = append(w.secrets, "third person's long password")
			return 0
		},
		want: []wantRow{{"user.create", "third@example.com"}, {"invitation.accept", "third@example.com"}}},
	{name: "a used invitation link is refused", objectType: models.AuditInvitation,
		act: func(t *testing.T, ctx context.Context, s *models.Store, w *auditWorld) int64 {
			inv, err := s.InvitationByToken(ctx, w.invitation)
			if !errors.Is(err, models.ErrInvitationUsed) {
				t.Fatalf("used link: %v, want ErrInvitationUsed", err)
			}
			modelstest.Fatal(t, s.AuditInvitationRefused(ctx, inv, err), "audit refusal")
			return inv.ID
		},
		want: user("invitation.refused")},
	{name: "revoke an invitation", objectType: models.AuditInvitation,
		act: func(t *testing.T, ctx context.Context, s *models.Store, w *auditWorld) int64 {
			inv, _, err := s.CreateInvitation(ctx, models.InvitationInput{Email: "fourth@example.com", Role: models.RoleOperator}, 0)
			modelstest.Fatal(t, err, "invite")
			ok(s.RevokeInvitation(ctx, inv.ID))(t)
			return inv.ID
		},
		want: []wantRow{{"invitation.create", auditAdmin.Name}, {"invitation.revoke", auditAdmin.Name}}},
	{name: "remove a user", objectType: models.AuditUser,
		act: func(t *testing.T, ctx context.Context, s *models.Store, w *auditWorld) int64 {
			modelstest.Fatal(t, s.RemoveUser(ctx, w.secondUserID), "remove")
			return w.secondUserID
		},
		want: user("user.remove")},
	{name: "first sign-in with SSO creates the user", objectType: models.AuditUser,
		act: func(t *testing.T, ctx context.Context, s *models.Store, w *auditWorld) int64 {
			return ok(s.SignInWithSSO(ctx, models.SSOIdentity{Issuer: "https://id.example.com", Subject: "s-1", Email: "sso@example.com", Role: models.RoleViewer}))(t).ID
		},
		want: []wantRow{{"user.create", "sso:https://id.example.com sso@example.com"}}},
	{name: "the SSO mapping changes the role", objectType: models.AuditUser,
		act: func(t *testing.T, ctx context.Context, s *models.Store, w *auditWorld) int64 {
			return ok(s.SignInWithSSO(ctx, models.SSOIdentity{Issuer: "https://id.example.com", Subject: "s-1", Email: "sso@example.com", Role: models.RoleOperator}))(t).ID
		},
		want: []wantRow{{"user.role", "sso:https://id.example.com sso@example.com"}}},
	{name: "an SSO sign-in with the same role writes nothing", objectType: models.AuditUser,
		act: func(t *testing.T, ctx context.Context, s *models.Store, w *auditWorld) int64 {
			return ok(s.SignInWithSSO(ctx, models.SSOIdentity{Issuer: "https://id.example.com", Subject: "s-1", Email: "sso@example.com", Role: models.RoleOperator}))(t).ID
		}},
	{name: "SSO links a password account by its verified e-mail", objectType: models.AuditUser,
		act: func(t *testing.T, ctx context.Context, s *models.Store, w *auditWorld) int64 {
			return ok(s.SignInWithSSO(ctx, models.SSOIdentity{Issuer: "https://id.example.com", Subject: "s-2", Email: "First@example.com", Role: models.RoleAdmin}))(t).ID
		},
		want: []wantRow{{"user.sso_link", "sso:https://id.example.com first@example.com"}}},
	{name: "a refused SSO sign-in", objectType: "",
		act: func(t *testing.T, ctx context.Context, s *models.Store, w *auditWorld) int64 {
			modelstest.Fatal(t, s.AuditSSORefused(ctx, "x@elsewhere.example", "no role is mapped"), "audit refusal")
			return 0
		},
		want: user("access.sso_refused")},
	{name: "switch password sign-in off", objectType: models.AuditSettings,
		act: func(t *testing.T, ctx context.Context, s *models.Store, w *auditWorld) int64 {
			modelstest.Fatal(t, s.SetPasswordSignIn(ctx, false), "switch off")
			return 1
		},
		want: user("settings.password_sign_in")},
	{name: "switching password sign-in off again writes nothing", objectType: models.AuditSettings,
		act: func(t *testing.T, ctx context.Context, s *models.Store, w *auditWorld) int64 {
			modelstest.Fatal(t, s.SetPasswordSignIn(ctx, false), "switch off")
			return 1
		}},
	{name: "add a confirmed subscriber", objectType: models.AuditSubscriber,
		act: func(t *testing.T, ctx context.Context, s *models.Store, w *auditWorld) int64 {
			w.secrets = append(w.secrets, "audited-sub@example.com")
			return ok(s.CreateConfirmedSubscriber(ctx, models.DefaultPageID, models.SubscribeInput{Email: "audited-sub@example.com", AllComponents: true}))(t).ID
		},
		want: user("subscriber.create")},
	{name: "import subscribers", objectType: "",
		act: func(t *testing.T, ctx context.Context, s *models.Store, w *auditWorld) int64 {
			w.secrets = append(w.secrets, "imported-a@example.com", "imported-b@example.com")
			plan := ok(s.ImportSubscribers(ctx, models.DefaultPageID, []byte("email\nimported-a@example.com\nimported-b@example.com\naudited-sub@example.com\nnot an address\n")))(t)
			if plan.Added != 2 || plan.Existing != 1 || len(plan.Invalid) != 1 {
				t.Fatalf("import = %+v", plan)
			}
			return 0
		},
		want: user("subscriber.import")},
	{name: "remove a subscriber", objectType: models.AuditSubscriber,
		act: func(t *testing.T, ctx context.Context, s *models.Store, w *auditWorld) int64 {
			subs := ok(s.Subscribers(ctx, models.SubscriberFilter{Search: "audited-sub@"}))(t)
			modelstest.Fatal(t, s.RemoveSubscriber(ctx, models.DefaultPageID, subs[0].ID), "remove")
			return subs[0].ID
		},
		want: user("subscriber.delete")},
}

// totpAt is the code of secret at now, as an authenticator app shows it.
func totpAt(t *testing.T, secret string, now time.Time) string {
	t.Helper()
	code, err := totp.GenerateCode(secret, now)
	modelstest.Fatal(t, err, "totp code")
	return code
}

// Every change made through the store writes its audit rows, naming the
// action, the object and the actor from the context, and no secret.
func TestEveryChangeIsAudited(t *testing.T) {
	eachClocked(t, func(t *testing.T, s *models.Store, clock *modelstest.Clock) {
		ctx := models.WithActor(context.Background(), auditAdmin)
		w := &auditWorld{secrets: []string{"pa55word", "qwerty123", auditHeaderValue, "header-secret-value"}}
		seen := map[string]bool{}
		for _, tc := range auditCases {
			if tc.setup != nil {
				tc.setup(t, s, w, clock)
			}
			before := auditCount(t, s)
			objectID := tc.act(t, ctx, s, w)
			rows := newAuditRows(t, s, before)
			if len(rows) != len(tc.want) {
				t.Fatalf("%s: %d audit rows (%v), want %d", tc.name, len(rows), actions(rows), len(tc.want))
			}
			for i, want := range tc.want {
				r := rows[i]
				seen[want.action] = true
				if r.Action != want.action || r.ActorName != want.actor || r.PageID != models.DefaultPageID {
					t.Errorf("%s: row %d = %s by %s on page %d, want %s by %s", tc.name, i, r.Action, r.ActorName, r.PageID, want.action, want.actor)
				}
				if !strings.HasPrefix(r.Action, r.ObjectType+".") {
					t.Errorf("%s: action %s does not start with its object type %s", tc.name, r.Action, r.ObjectType)
				}
				if tc.objectType != "" && (r.ObjectType != tc.objectType || r.ObjectID != strconv.FormatInt(objectID, 10)) {
					t.Errorf("%s: object %s %s, want %s %d", tc.name, r.ObjectType, r.ObjectID, tc.objectType, objectID)
				}
				if r.Summary == "" || !r.At.Equal(clock.Now()) {
					t.Errorf("%s: summary %q at %v, want a sentence at %v", tc.name, r.Summary, r.At, clock.Now())
				}
				switch want.actor {
				case auditAdmin.Name:
					if r.ActorType != models.ActorUser || r.ActorID == nil || *r.ActorID != 7 || r.IP != auditAdmin.IP {
						t.Errorf("%s: actor %s #%v from %q, want user #7 from %s", tc.name, r.ActorType, r.ActorID, r.IP, auditAdmin.IP)
					}
				case "scheduler", "notifier":
					if r.ActorType != models.ActorSystem || r.ActorID != nil || r.IP != "" {
						t.Errorf("%s: actor %s #%v from %q, want the system", tc.name, r.ActorType, r.ActorID, r.IP)
					}
				}
			}
		}
		for _, a := range models.AuditActions {
			if !seen[a] {
				t.Errorf("no case covers %s", a)
			}
		}
		all, err := s.AuditEntries(context.Background(), models.AuditFilter{})
		modelstest.Fatal(t, err, "audit entries")
		for _, e := range all {
			for _, secret := range w.secrets {
				if secret != "" && (strings.Contains(e.Before, secret) || strings.Contains(e.After, secret) || strings.Contains(e.Summary, secret)) {
					t.Errorf("%s row %d holds the secret %q:\nbefore %s\nafter %s", e.Action, e.ID, secret, e.Before, e.After)
				}
			}
			if e.ObjectType == models.AuditChannel && strings.Contains(e.After+e.Before, "whsec_") {
				t.Errorf("%s row holds a signing secret: %s", e.Action, e.After)
			}
		}
	})
}

// The setup row is the new admin's, and the store's own changes default to
// the system.
func TestAuditActors(t *testing.T) {
	eachClocked(t, func(t *testing.T, s *models.Store, _ *modelstest.Clock) {
		ctx := context.Background()
		u, err := s.CompleteSetup(models.WithActor(ctx, models.Actor{Type: models.ActorUser, IP: "198.51.100.4"}),
			models.SetupInput{PageName: "Acme", Email: "First@Example.com", Password: "correct horse battery"})
		modelstest.Fatal(t, err, "setup")
		rows := newAuditRows(t, s, 0)
		if len(rows) != 2 || rows[0].ActorID == nil || *rows[0].ActorID != u.ID || rows[0].ActorName != "first@example.com" || rows[0].IP != "198.51.100.4" {
			t.Fatalf("setup rows = %+v, want two by user %d from 198.51.100.4", rows, u.ID)
		}
		if !strings.Contains(rows[0].After, `"email":"first@example.com"`) || strings.Contains(rows[0].After, "$2") {
			t.Fatalf("user.create after = %s, want the e-mail and no password hash", rows[0].After)
		}
		if rows[1].Before == "" || !strings.Contains(rows[1].After, `"name":"Acme"`) {
			t.Fatalf("page.update before %q after %q", rows[1].Before, rows[1].After)
		}
		_, err = s.CreateComponent(ctx, models.DefaultPageID, models.ComponentInput{Name: "API", Status: models.StatusOperational})
		modelstest.Fatal(t, err, "create")
		rows = newAuditRows(t, s, 2)
		if len(rows) != 1 || rows[0].ActorType != models.ActorSystem || rows[0].ActorName != "system" || rows[0].ActorID != nil {
			t.Fatalf("row without an actor in the context = %+v, want the system", rows)
		}
		tok := models.TokenActor(3, "deploys", "192.0.2.1")
		if tok.Type != models.ActorToken || *tok.ID != 3 || tok.Name != "deploys" || tok.IP != "192.0.2.1" {
			t.Fatalf("TokenActor = %+v", tok)
		}
	})
}

func auditCount(t *testing.T, s *models.Store) int64 {
	t.Helper()
	n, err := s.CountAuditEntries(context.Background(), models.AuditFilter{})
	modelstest.Fatal(t, err, "count audit entries")
	return n
}

// newAuditRows returns the rows after the first skip, oldest first.
func newAuditRows(t *testing.T, s *models.Store, skip int64) []models.AuditEntry {
	t.Helper()
	all, err := s.AuditEntries(context.Background(), models.AuditFilter{})
	modelstest.Fatal(t, err, "audit entries")
	var out []models.AuditEntry
	for i := len(all) - 1 - int(skip); i >= 0; i-- {
		out = append(out, all[i])
	}
	return out
}

func actions(rows []models.AuditEntry) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r.Action
	}
	return out
}

// failedSubscriberMail subscribes addr and records its confirmation
// e-mail as refused for good; it returns the subscriber and delivery ids.
func failedSubscriberMail(t *testing.T, s *models.Store, addr string) (int64, int64) {
	t.Helper()
	ctx := context.Background()
	modelstest.Fatal(t, s.Subscribe(ctx, models.DefaultPageID, models.SubscribeInput{Email: addr, AllComponents: true}), "subscribe")
	ds, err := s.ClaimSubscriberDeliveries(ctx, 10, time.Minute)
	modelstest.Fatal(t, err, "claim")
	if len(ds) != 1 {
		t.Fatalf("%d deliveries claimed, want the confirmation", len(ds))
	}
	modelstest.Fatal(t, s.RecordSubscriberAttempt(ctx, &ds[0], models.MailResult{State: models.DeliveryFailed, Permanent: true, Code: 550,
		Error: "550 5.1.1 No such user [subscriber]"}), "record")
	return ds[0].SubscriberID, ds[0].ID
}
