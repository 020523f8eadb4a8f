package models_test

import (
	"context"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
)

// inputCall makes one models call with an input of its case's type.
type inputCall struct {
	name string
	call func(ctx context.Context, s *models.Store, in any) error
}

// inputCase is a valid input of one *Input type and every models call
// that takes it.
type inputCase struct {
	valid func(t *testing.T, s *models.Store) any
	calls []inputCall
}

// badText is what the text check refuses, with a word its message holds.
var badText = []struct{ name, value, want string }{
	{"NUL", "ab\x00c", "U+0000"},
	{"invalid UTF-8", "ab\xff\xfec", "UTF-8"},
	{"bell", "ab\x07c", "U+0007"},
	{"escape", "ab\x1b[31mc", "U+001B"},
	{"C1 control", "ab\u0085c", "U+0085"},
	{"DEL", "ab\x7fc", "U+007F"},
}

// inputCases has one entry per *Input type of package models; the test
// below fails when a type is missing, so a new input cannot skip the
// text checks.
func inputCases() map[string]inputCase {
	future := time.Now().Add(48 * time.Hour)
	// The account's inputs change an existing user's: made by valid.
	var changer, mover int64
	user := func(t *testing.T, s *models.Store, email string) int64 {
		if u, err := s.UserByEmail(context.Background(), email); err == nil {
			return u.ID
		}
		u, err := s.CreateUser(context.Background(), models.UserInput{Email: email, Password: "the first long password", Role: models.RoleViewer})
		modelstest.Fatal(t, err, "user %s", email)
		return u.ID
	}
	component := func(t *testing.T, s *models.Store) *models.Component {
		c, err := s.CreateComponent(context.Background(), models.DefaultPageID, models.ComponentInput{Name: "API", Visible: true, Status: models.StatusOperational})
		modelstest.Fatal(t, err, "component")
		return c
	}
	return map[string]inputCase{
		"ChannelInput": {
			valid: func(*testing.T, *models.Store) any {
				return models.ChannelInput{Type: models.ChannelWebhook, Name: "Hook", URL: "https://hooks.example.com/in",
					Events: []models.EventType{models.EventIncidentCreated}, Enabled: true, HeadersText: "X-Team: ops", RetrySchedule: "0s, 1m"}
			},
			calls: []inputCall{
				{"CreateChannel", func(ctx context.Context, s *models.Store, in any) error {
					_, err := s.CreateChannel(ctx, models.DefaultPageID, in.(models.ChannelInput))
					return err
				}},
				{"UpdateChannel", func(ctx context.Context, s *models.Store, in any) error {
					c, err := s.CreateChannel(ctx, models.DefaultPageID, models.ChannelInput{Type: models.ChannelWebhook, Name: "Old", URL: "https://old.example.com/", Enabled: true})
					if err != nil {
						return err
					}
					_, err = s.UpdateChannel(ctx, c.ID, in.(models.ChannelInput))
					return err
				}},
			},
		},
		"ComponentInput": {
			valid: func(*testing.T, *models.Store) any {
				return models.ComponentInput{Name: "Web", Description: "The site", Visible: true, Status: models.StatusOperational}
			},
			calls: []inputCall{
				{"CreateComponent", func(ctx context.Context, s *models.Store, in any) error {
					_, err := s.CreateComponent(ctx, models.DefaultPageID, in.(models.ComponentInput))
					return err
				}},
				{"UpdateComponent", func(ctx context.Context, s *models.Store, in any) error {
					c, err := s.CreateComponent(ctx, models.DefaultPageID, models.ComponentInput{Name: "Old", Status: models.StatusOperational})
					if err != nil {
						return err
					}
					_, err = s.UpdateComponent(ctx, c.ID, in.(models.ComponentInput))
					return err
				}},
			},
		},
		"GroupInput": {
			valid: func(*testing.T, *models.Store) any { return models.GroupInput{Name: "Core"} },
			calls: []inputCall{
				{"CreateGroup", func(ctx context.Context, s *models.Store, in any) error {
					_, err := s.CreateGroup(ctx, models.DefaultPageID, in.(models.GroupInput))
					return err
				}},
				{"UpdateGroup", func(ctx context.Context, s *models.Store, in any) error {
					g, err := s.CreateGroup(ctx, models.DefaultPageID, models.GroupInput{Name: "Old"})
					if err != nil {
						return err
					}
					_, err = s.UpdateGroup(ctx, g.ID, in.(models.GroupInput))
					return err
				}},
			},
		},
		"IncidentInput": {
			valid: func(t *testing.T, s *models.Store) any {
				c := component(t, s)
				return models.IncidentInput{Title: "Errors", Status: models.IncidentInvestigating, Impact: models.ImpactMinor,
					Message: "Looking.", Components: map[int64]models.ComponentStatus{c.ID: models.StatusDegradedPerformance}}
			},
			calls: []inputCall{{"CreateIncident", func(ctx context.Context, s *models.Store, in any) error {
				_, err := s.CreateIncident(ctx, models.DefaultPageID, in.(models.IncidentInput))
				return err
			}}},
		},
		"IncidentUpdateInput": {
			valid: func(t *testing.T, s *models.Store) any {
				c := component(t, s)
				return models.IncidentUpdateInput{Status: models.IncidentIdentified, Impact: models.ImpactMajor, Message: "Found it.",
					Components: map[int64]models.ComponentStatus{c.ID: models.StatusPartialOutage}}
			},
			calls: []inputCall{{"PostIncidentUpdate", func(ctx context.Context, s *models.Store, in any) error {
				inc, err := s.CreateIncident(ctx, models.DefaultPageID, models.IncidentInput{Title: "Old", Status: models.IncidentInvestigating, Message: "Old."})
				if err != nil {
					return err
				}
				_, err = s.PostIncidentUpdate(ctx, inc.ID, in.(models.IncidentUpdateInput))
				return err
			}}},
		},
		"IncidentTitleInput": {
			valid: func(*testing.T, *models.Store) any {
				return models.IncidentTitleInput{Title: "Corrected", Notify: true}
			},
			calls: []inputCall{{"EditIncidentTitle", func(ctx context.Context, s *models.Store, in any) error {
				inc, err := s.CreateIncident(ctx, models.DefaultPageID, models.IncidentInput{Title: "Old", Status: models.IncidentInvestigating, Message: "Old."})
				if err != nil {
					return err
				}
				_, err = s.EditIncidentTitle(ctx, inc.ID, in.(models.IncidentTitleInput))
				return err
			}}},
		},
		"UpdateMessageInput": {
			valid: func(*testing.T, *models.Store) any {
				return models.UpdateMessageInput{Message: "Corrected.\nSecond line."}
			},
			calls: []inputCall{{"EditIncidentUpdate", func(ctx context.Context, s *models.Store, in any) error {
				inc, err := s.CreateIncident(ctx, models.DefaultPageID, models.IncidentInput{Title: "Old", Status: models.IncidentInvestigating, Message: "Old."})
				if err != nil {
					return err
				}
				if inc, err = s.Incident(ctx, inc.ID); err != nil {
					return err
				}
				_, err = s.EditIncidentUpdate(ctx, inc.ID, inc.Updates[0].ID, in.(models.UpdateMessageInput))
				return err
			}}},
		},
		"PostmortemInput": {
			valid: func(*testing.T, *models.Store) any { return models.PostmortemInput{Postmortem: "What happened."} },
			calls: []inputCall{{"SetPostmortem", func(ctx context.Context, s *models.Store, in any) error {
				inc, err := s.CreateIncident(ctx, models.DefaultPageID, models.IncidentInput{Title: "Old", Status: models.IncidentInvestigating, Message: "Old."})
				if err != nil {
					return err
				}
				return s.SetPostmortem(ctx, inc.ID, in.(models.PostmortemInput).Postmortem)
			}}},
		},
		"SubscribeInput": {
			valid: func(*testing.T, *models.Store) any {
				return models.SubscribeInput{Email: "reader@example.com", AllComponents: true}
			},
			calls: []inputCall{
				{"Subscribe", func(ctx context.Context, s *models.Store, in any) error {
					return s.Subscribe(ctx, models.DefaultPageID, in.(models.SubscribeInput))
				}},
			},
		},
		"WebhookSubscribeInput": {
			valid: func(*testing.T, *models.Store) any {
				return models.WebhookSubscribeInput{URL: "https://hooks.example.com/status", AllComponents: true}
			},
			calls: []inputCall{
				{"SubscribeWebhook", func(ctx context.Context, s *models.Store, in any) error {
					_, err := s.SubscribeWebhook(ctx, models.DefaultPageID, in.(models.WebhookSubscribeInput))
					return err
				}},
			},
		},
		"MaintenanceInput": {
			valid: func(*testing.T, *models.Store) any {
				return models.MaintenanceInput{Title: "Upgrade", Message: "Short.", WindowStart: future, WindowEnd: future.Add(time.Hour)}
			},
			calls: []inputCall{
				{"ScheduleMaintenance", func(ctx context.Context, s *models.Store, in any) error {
					_, err := s.ScheduleMaintenance(ctx, models.DefaultPageID, in.(models.MaintenanceInput))
					return err
				}},
				{"UpdateMaintenance", func(ctx context.Context, s *models.Store, in any) error {
					m, err := s.ScheduleMaintenance(ctx, models.DefaultPageID, models.MaintenanceInput{Title: "Old", WindowStart: future, WindowEnd: future.Add(time.Hour)})
					if err != nil {
						return err
					}
					_, err = s.UpdateMaintenance(ctx, m.ID, in.(models.MaintenanceInput))
					return err
				}},
			},
		},
		"MaintenanceUpdateInput": {
			valid: func(*testing.T, *models.Store) any {
				return models.MaintenanceUpdateInput{Message: "Halfway.\nAll fine.", Notify: true}
			},
			calls: []inputCall{{"PostMaintenanceUpdate", func(ctx context.Context, s *models.Store, in any) error {
				m, err := s.ScheduleMaintenance(ctx, models.DefaultPageID, models.MaintenanceInput{Title: "Old", WindowStart: future, WindowEnd: future.Add(time.Hour)})
				if err != nil {
					return err
				}
				_, err = s.PostMaintenanceUpdate(ctx, m.ID, in.(models.MaintenanceUpdateInput))
				return err
			}}},
		},
		"PageInput": {
			valid: func(*testing.T, *models.Store) any {
				return models.PageInput{Name: "Acme Status", Description: "Our services.", LogoURL: "https://example.com/logo.svg",
					AccentColor: models.Accents[0], TimeZone: "Europe/Paris", ImageHosts: []string{"images.example.com"}}
			},
			calls: []inputCall{{"UpdatePage", func(ctx context.Context, s *models.Store, in any) error {
				_, err := s.UpdatePage(ctx, models.DefaultPageID, in.(models.PageInput))
				return err
			}}},
		},
		"PageNameInput": {
			valid: func(*testing.T, *models.Store) any {
				return models.PageNameInput{Name: "Internal", Slug: "text-page"}
			},
			calls: []inputCall{
				{"CreatePage", func(ctx context.Context, s *models.Store, in any) error {
					_, err := s.CreatePage(ctx, in.(models.PageNameInput))
					return err
				}},
				{"UpdatePageName", func(ctx context.Context, s *models.Store, in any) error {
					pin := in.(models.PageNameInput)
					if pin.Slug == "text-page" { // the first page keeps its own slug
						pin.Slug = "main"
					}
					_, err := s.RenamePage(ctx, models.DefaultPageID, pin)
					return err
				}},
			},
		},
		"PageAccessInput": {
			valid: func(*testing.T, *models.Store) any {
				return models.PageAccessInput{Public: false, Password: "a shared secret", Team: true,
					EmailDomains: []string{"example.com"}, IPAllowlist: []string{"203.0.113.0/24"}}
			},
			calls: []inputCall{{"SetPageAccess", func(ctx context.Context, s *models.Store, in any) error {
				_, err := s.SetPageAccess(ctx, models.DefaultPageID, in.(models.PageAccessInput))
				return err
			}}},
		},
		"TokenInput": {
			valid: func(*testing.T, *models.Store) any {
				return models.TokenInput{Name: "Deploys", Scopes: []models.Scope{models.ScopeRead}, ExpiresAt: &future}
			},
			calls: []inputCall{{"CreateToken", func(ctx context.Context, s *models.Store, in any) error {
				_, _, err := s.CreateToken(ctx, models.DefaultPageID, in.(models.TokenInput), 0)
				return err
			}}},
		},
		"SetupInput": {
			valid: func(*testing.T, *models.Store) any {
				return models.SetupInput{PageName: "Acme Status", Email: "ops@example.com", Password: "a long enough password"}
			},
			calls: []inputCall{{"CompleteSetup", func(ctx context.Context, s *models.Store, in any) error {
				_, err := s.CompleteSetup(ctx, in.(models.SetupInput))
				return err
			}}},
		},
		"InvitationInput": {
			valid: func(*testing.T, *models.Store) any {
				return models.InvitationInput{Email: "invited@example.com", Role: models.RoleViewer}
			},
			calls: []inputCall{{"CreateInvitation", func(ctx context.Context, s *models.Store, in any) error {
				_, _, err := s.CreateInvitation(ctx, in.(models.InvitationInput), 0)
				return err
			}}},
		},
		"PasswordChangeInput": {
			valid: func(t *testing.T, s *models.Store) any {
				changer = user(t, s, "changer@example.com")
				return models.PasswordChangeInput{CurrentPassword: "the first long password", NewPassword: "a long enough password"}
			},
			calls: []inputCall{{"ChangePassword", func(ctx context.Context, s *models.Store, in any) error {
				_, err := s.ChangePassword(ctx, changer, "", in.(models.PasswordChangeInput))
				return err
			}}},
		},
		"EmailChangeInput": {
			valid: func(t *testing.T, s *models.Store) any {
				mover = user(t, s, "mover@example.com")
				return models.EmailChangeInput{Email: "moved@example.com", CurrentPassword: "the first long password"}
			},
			calls: []inputCall{{"ChangeEmail", func(ctx context.Context, s *models.Store, in any) error {
				_, err := s.ChangeEmail(ctx, mover, in.(models.EmailChangeInput))
				return err
			}}},
		},
		"UserInput": {
			valid: func(*testing.T, *models.Store) any {
				return models.UserInput{Email: "second@example.com", Password: "a long enough password", Role: models.RoleOperator}
			},
			calls: []inputCall{{"CreateUser", func(ctx context.Context, s *models.Store, in any) error {
				_, err := s.CreateUser(ctx, in.(models.UserInput))
				return err
			}}},
		},
	}
}

// inputTypes lists the struct types named *Input declared in package
// models, read from its source.
func inputTypes(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	modelstest.Fatal(t, err, "glob")
	var out []string
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		modelstest.Fatal(t, err, "parse %s", name)
		ast.Inspect(f, func(n ast.Node) bool {
			if ts, ok := n.(*ast.TypeSpec); ok && strings.HasSuffix(ts.Name.Name, "Input") {
				if _, isStruct := ts.Type.(*ast.StructType); isStruct && ts.Name.IsExported() {
					out = append(out, ts.Name.Name)
				}
			}
			return true
		})
	}
	slices.Sort(out)
	return out
}

// textSlot is one place of an input that holds text: set puts a value
// there.
type textSlot struct {
	field     string
	multiline bool
	set       func(in reflect.Value, value string)
}

// textSlots finds every field of an input type that holds text, as
// models' own check does: strings, lists of strings, maps of strings.
func textSlots(t *testing.T, typ reflect.Type) []textSlot {
	var out []textSlot
	for i := range typ.NumField() {
		f := typ.Field(i)
		slot := textSlot{field: models.InputFieldName(f), multiline: f.Tag.Get("text") == "multiline"}
		switch {
		case f.Type.Kind() == reflect.String:
			slot.set = func(in reflect.Value, v string) { in.Field(i).SetString(v) }
		case f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() == reflect.String:
			slot.set = func(in reflect.Value, v string) {
				s := reflect.MakeSlice(f.Type, 1, 1)
				s.Index(0).SetString(v)
				in.Field(i).Set(s)
			}
		case f.Type.Kind() == reflect.Map && f.Type.Elem().Kind() == reflect.String:
			slot.set = func(in reflect.Value, v string) {
				old := in.Field(i)
				if old.Len() == 0 {
					t.Fatalf("%s.%s: the valid input needs an entry to spoil", typ.Name(), f.Name)
				}
				m := reflect.MakeMap(f.Type)
				for _, k := range old.MapKeys() {
					m.SetMapIndex(k, reflect.ValueOf(v).Convert(f.Type.Elem()))
				}
				in.Field(i).Set(m)
			}
		case holdsText(f.Type):
			t.Fatalf("%s.%s holds text in a shape this test cannot spoil; teach textSlots", typ.Name(), f.Name)
		default:
			continue
		}
		out = append(out, slot)
	}
	return out
}

// holdsText reports whether values of typ can carry a string.
func holdsText(typ reflect.Type) bool {
	switch typ.Kind() {
	case reflect.String, reflect.Interface:
		return true
	case reflect.Slice, reflect.Array, reflect.Pointer:
		return holdsText(typ.Elem())
	case reflect.Map:
		return holdsText(typ.Key()) || holdsText(typ.Elem())
	case reflect.Struct:
		for i := range typ.NumField() {
			if typ.Field(i).IsExported() && holdsText(typ.Field(i).Type) {
				return true
			}
		}
	}
	return false
}

func rowCounts(t *testing.T, s *models.Store) map[string]int {
	t.Helper()
	db, err := s.SQLDB()
	modelstest.Fatal(t, err, "sql db")
	out := map[string]int{}
	for _, table := range []string{"components", "component_groups", "incidents", "incident_updates", "maintenances",
		"channels", "deliveries", "events", "audit_log", "pages", "users", "api_tokens", "invitations"} {
		var n int
		modelstest.Fatal(t, db.QueryRowContext(context.Background(), "SELECT COUNT(*) FROM "+table).Scan(&n), "count %s", table)
		out[table] = n
	}
	return out
}

// TestEveryInputRefusesBadText puts NUL, bytes that are not UTF-8,
// control characters and (in single-line fields) line breaks into every
// text field of every *Input type, through every models call that takes
// it, on both engines: each is a *ValidationError naming the field, and
// nothing is written.
func TestEveryInputRefusesBadText(t *testing.T) {
	cases := inputCases()
	var names []string
	for name := range cases {
		names = append(names, name)
	}
	slices.Sort(names)
	if got := inputTypes(t); !slices.Equal(got, names) {
		t.Fatalf("package models declares the input types %v; this test covers %v: add the new ones to inputCases", got, names)
	}
	modelstest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		checked := 0
		for _, name := range names {
			tc := cases[name]
			base := tc.valid(t, s)
			slots := textSlots(t, reflect.TypeOf(base))
			if len(slots) == 0 {
				t.Errorf("%s has no text fields", name)
			}
			for _, call := range tc.calls {
				for _, slot := range slots {
					bad := badText
					if !slot.multiline {
						bad = append(slices.Clip(bad), struct{ name, value, want string }{"line break", "ab\ncd", "one line"},
							struct{ name, value, want string }{"carriage return", "ab\rcd", "one line"})
					}
					for _, b := range bad {
						in := reflect.New(reflect.TypeOf(base)).Elem()
						in.Set(reflect.ValueOf(base))
						slot.set(in, b.value)
						before := rowCounts(t, s)
						err := call.call(ctx, s, in.Interface())
						var ve *models.ValidationError
						switch {
						case !errors.As(err, &ve):
							t.Errorf("%s with %s in %s: err = %v, want a validation error", call.name, b.name, slot.field, err)
						case !strings.Contains(ve.Fields[slot.field], b.want):
							t.Errorf("%s with %s in %s: fields %v, want %q under %q", call.name, b.name, slot.field, ve.Fields, b.want, slot.field)
						}
						// Update calls create the row they update first.
						after := rowCounts(t, s)
						for table, n := range after {
							if n != before[table] && !strings.HasPrefix(call.name, "Update") && !strings.HasPrefix(call.name, "Post") && !strings.HasPrefix(call.name, "Edit") && !strings.HasPrefix(call.name, "SetPostmortem") {
								t.Errorf("%s with %s in %s: %s went from %d to %d rows", call.name, b.name, slot.field, table, before[table], n)
							}
						}
						checked++
					}
				}
			}
		}
		// The valid inputs really are valid: the refusals above are the
		// text's doing.
		for _, name := range names {
			tc := cases[name]
			for _, call := range tc.calls {
				if name == "SetupInput" || name == "UserInput" {
					continue // below, once: a second admin with the same e-mail is refused
				}
				modelstest.Fatal(t, call.call(ctx, s, tc.valid(t, s)), "%s with the valid input", call.name)
			}
		}
		// Setup needs an install without users: the account inputs' users go.
		for _, email := range []string{"changer@example.com", "moved@example.com"} {
			u, err := s.UserByEmail(ctx, email)
			modelstest.Fatal(t, err, "user %s", email)
			modelstest.Fatal(t, s.RemoveUser(ctx, u.ID), "remove %s", email)
		}
		modelstest.Fatal(t, cases["SetupInput"].calls[0].call(ctx, s, cases["SetupInput"].valid(t, s)), "setup")
		modelstest.Fatal(t, cases["UserInput"].calls[0].call(ctx, s, cases["UserInput"].valid(t, s)), "create user")
		if checked < 200 {
			t.Errorf("only %d bad inputs were checked", checked)
		}
	})
}

// TestUpdatesRefusingBadTextChangeNothing checks, on both engines, that
// a refused update leaves the row and the audit log as they were.
func TestUpdatesRefusingBadTextChangeNothing(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		c, err := s.CreateComponent(ctx, models.DefaultPageID, models.ComponentInput{Name: "API", Status: models.StatusOperational})
		modelstest.Fatal(t, err, "component")
		before := rowCounts(t, s)
		_, err = s.UpdateComponent(ctx, c.ID, models.ComponentInput{Name: "API\x00", Status: models.StatusMajorOutage})
		assertFieldError(t, err, "name")
		got, err := s.Component(ctx, c.ID)
		modelstest.Fatal(t, err, "reload")
		if got.Name != "API" || got.Status != models.StatusOperational {
			t.Errorf("the refused update changed the component: %+v", got)
		}
		if after := rowCounts(t, s); !reflect.DeepEqual(before, after) {
			t.Errorf("rows before %v, after %v", before, after)
		}
	})
}

// TestSignInWithBadTextIsBadCredentials: an e-mail no account can have
// is a wrong password, not a database error, on both engines.
func TestSignInWithBadTextIsBadCredentials(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		_, err := s.CreateUser(ctx, models.UserInput{Email: "ops@example.com", Password: "a long enough password", Role: models.RoleAdmin})
		modelstest.Fatal(t, err, "user")
		for _, email := range []string{"ops@example.com\x00", "ops\xff@example.com", "\x00"} {
			if _, err := s.Authenticate(ctx, email, "a long enough password"); !errors.Is(err, models.ErrBadCredentials) {
				t.Errorf("Authenticate(%q) = %v, want ErrBadCredentials", email, err)
			}
		}
		if _, err := s.Authenticate(ctx, "OPS@example.com", "a long enough password"); err != nil {
			t.Errorf("the right credentials: %v", err)
		}
	})
}
