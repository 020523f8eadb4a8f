package models_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
)

// The dry run and the import read a file the same way: a header naming
// the columns, components by name, and every bad line reported with its
// number and reason; the dry run writes nothing.
func TestSubscriberImportDryRunThenImport(t *testing.T) {
	eachClocked(t, func(t *testing.T, s *models.Store, clock *modelstest.Clock) {
		ctx := models.WithActor(context.Background(), auditAdmin)
		api, err := s.CreateComponent(ctx, models.DefaultPageID, models.ComponentInput{Name: "API", Visible: true, Status: models.StatusOperational})
		modelstest.Fatal(t, err, "component")
		db, err := s.CreateComponent(ctx, models.DefaultPageID, models.ComponentInput{Name: "Database", Visible: true, Status: models.StatusOperational})
		modelstest.Fatal(t, err, "component")
		_, err = s.CreateConfirmedSubscriber(ctx, models.DefaultPageID, models.SubscribeInput{Email: "old@example.com", AllComponents: true})
		modelstest.Fatal(t, err, "existing subscriber")

		file := "\xef\xbb\xbfName,Email,Components\r\n" + // line 1: header, with a byte-order mark
			"Ann,Ann@Example.com,API; database\r\n" + // 2: added, two components
			"Bob,bob@example.com,\r\n" + // 3: added, all components
			"Ann again,ann@example.COM,All\r\n" + // 4: duplicate of line 2
			"Old,old@example.com,All\r\n" + // 5: subscribed already
			"\"Eve\",\"eve@example.com\r\nBcc: x@example.com\",All\r\n" + // 6-7: a line break in the address
			"Nul,nul\x00@example.com,All\r\n" + // 8: NUL
			"Bad,bad\xff@example.com,All\r\n" + // 9: invalid UTF-8
			"Xss,<script>alert(1)</script>@example.com,All\r\n" + // 10: not an address
			"Who,who@example.com,Billing;API\r\n" + // 11: unknown component
			"Nobody\r\n" + // 12: no address column
			"Carol,carol@example.com,API\r\n" // 13: added, one component
		plan, err := s.PlanSubscriberImport(ctx, models.DefaultPageID, []byte(file))
		modelstest.Fatal(t, err, "dry run")
		if plan.Added != 3 || plan.Existing != 1 {
			t.Fatalf("dry run: %d added, %d existing, want 3 and 1 (%+v)", plan.Added, plan.Existing, plan.Invalid)
		}
		want := map[int]string{4: "same address as line 2", 6: "line break", 8: "NUL", 9: "UTF-8", 10: "e-mail address", 11: "Unknown component", 12: "no address"}
		if len(plan.Invalid) != len(want) {
			t.Fatalf("invalid lines = %+v, want lines %v", plan.Invalid, want)
		}
		for _, p := range plan.Invalid {
			if w, ok := want[p.Line]; !ok || !strings.Contains(p.Reason, w) {
				t.Errorf("line %d: %q, want it to say %q", p.Line, p.Reason, w)
			}
		}
		if len(plan.UnknownComponents) != 1 || plan.UnknownComponents[0] != "Billing" {
			t.Errorf("unknown components = %v", plan.UnknownComponents)
		}
		if n, _ := s.CountSubscribers(ctx, models.SubscriberFilter{}); n != 1 {
			t.Fatalf("the dry run wrote subscribers: %d", n)
		}

		clock.Add(time.Minute)
		done, err := s.ImportSubscribers(ctx, models.DefaultPageID, []byte(file))
		modelstest.Fatal(t, err, "import")
		if done.Added != 3 || done.Existing != 1 || len(done.Invalid) != 7 {
			t.Fatalf("import = %+v", done)
		}
		subs, err := s.Subscribers(ctx, models.SubscriberFilter{State: models.SubscriberActive})
		modelstest.Fatal(t, err, "list")
		got := map[string]models.Subscriber{}
		for _, sub := range subs {
			got[sub.Email] = sub
			if sub.ConfirmedAt == nil || sub.ManageTokenHash == "" || sub.ManageTokenSealed == "" || sub.ConfirmTokenHash != "" {
				t.Errorf("%s imported without confirmation time or manage token: %+v", sub.Email, sub)
			}
		}
		if a := got["ann@example.com"]; a.AllComponents || fmt.Sprint(a.Components) != fmt.Sprint([]int64{api.ID, db.ID}) {
			t.Errorf("ann = all %v, components %v", a.AllComponents, a.Components)
		}
		if b := got["bob@example.com"]; !b.AllComponents {
			t.Errorf("bob = %+v, want all components", b)
		}
		if c := got["carol@example.com"]; c.AllComponents || fmt.Sprint(c.Components) != fmt.Sprint([]int64{api.ID}) {
			t.Errorf("carol = %+v", c)
		}
		// No confirmation e-mail for imported addresses.
		if n, _ := s.CountSubscriberDeliveries(ctx, "", ""); n != 0 {
			t.Errorf("the import queued %d e-mails", n)
		}
		// Their preferences links work like everybody's.
		if _, err := s.SubscriberByManageToken(ctx, "forged"); !errors.Is(err, models.ErrSubscriptionLink) {
			t.Errorf("forged link: %v", err)
		}
		// The same file again adds nothing.
		again, err := s.ImportSubscribers(ctx, models.DefaultPageID, []byte(file))
		modelstest.Fatal(t, err, "import again")
		if again.Added != 0 || again.Existing != 4 {
			t.Errorf("second import = %+v", again)
		}
		// Search is case-insensitive, on both engines.
		if list, _ := s.Subscribers(ctx, models.SubscriberFilter{Search: "CAROL@EX"}); len(list) != 1 {
			t.Errorf("search CAROL@EX found %d", len(list))
		}
		if n, _ := s.CountSubscribers(ctx, models.SubscriberFilter{Component: db.ID}); n != 3 { // ann, bob (all), old (all)
			t.Errorf("subscribers of Database = %d, want 3", n)
		}
	})
}

// A file that is not a readable CSV is refused whole: nothing is written.
func TestSubscriberImportRefusesBadFiles(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := models.WithActor(context.Background(), auditAdmin)
		for name, file := range map[string]string{
			"unbalanced quotes": "email\nann@example.com\n\"bob@example.com,All\ncarol@example.com\n",
			"bare quote":        "email\nann@exa\"mple.com\n",
			"binary":            "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x06\x00\x00\x00",
			"empty":             " \n\n",
			"oversize":          "email\n" + strings.Repeat("someone@example.com\n", models.MaxImportBytes/20+1),
		} {
			_, err := s.PlanSubscriberImport(ctx, models.DefaultPageID, []byte(file))
			var fe *models.ErrImportFile
			if !errors.As(err, &fe) || fe.Problem == "" {
				t.Errorf("%s: dry run error %v, want a file problem", name, err)
			}
			_, err = s.ImportSubscribers(ctx, models.DefaultPageID, []byte(file))
			if !errors.As(err, &fe) {
				t.Errorf("%s: import error %v, want a file problem", name, err)
			}
		}
		if n, _ := s.CountSubscribers(ctx, models.SubscriberFilter{}); n != 0 {
			t.Fatalf("bad files wrote %d subscribers", n)
		}
		if n := auditCount(t, s); n != 0 {
			t.Fatalf("bad files wrote %d audit rows", n)
		}
	})
}

// 10,000 addresses import in one transaction of bulk INSERTs, and the
// export reads them back in batches.
func TestSubscriberImportTenThousand(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := models.WithActor(context.Background(), auditAdmin)
		var b strings.Builder
		b.WriteString("email\n")
		for i := range 10_000 {
			fmt.Fprintf(&b, "user%05d@example.com\n", i)
		}
		start := time.Now()
		plan, err := s.ImportSubscribers(ctx, models.DefaultPageID, []byte(b.String()))
		modelstest.Fatal(t, err, "import")
		t.Logf("imported %d subscribers in %v", plan.Added, time.Since(start).Round(time.Millisecond))
		if plan.Added != 10_000 {
			t.Fatalf("added %d", plan.Added)
		}
		if n := auditCount(t, s); n != 1 {
			t.Fatalf("%d audit rows, want one for the whole import", n)
		}
		seen, batches := map[int64]bool{}, 0
		err = s.EachSubscriberBatch(ctx, models.SubscriberFilter{PageID: models.DefaultPageID}, 3000, func(list []models.Subscriber) error {
			batches++
			for _, sub := range list {
				if seen[sub.ID] {
					return fmt.Errorf("subscriber %d twice", sub.ID)
				}
				seen[sub.ID] = true
			}
			return nil
		})
		modelstest.Fatal(t, err, "each")
		if len(seen) != 10_000 || batches != 4 {
			t.Fatalf("export read %d subscribers in %d batches, want 10000 in 4", len(seen), batches)
		}
	})
}

// CreateConfirmedSubscriber: active at once, no e-mail; an address
// subscribed already and bad input are refused, nothing written.
func TestCreateConfirmedSubscriber(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := models.WithActor(context.Background(), auditAdmin)
		api, _ := s.CreateComponent(ctx, models.DefaultPageID, models.ComponentInput{Name: "API", Visible: true, Status: models.StatusOperational})
		sub, err := s.CreateConfirmedSubscriber(ctx, models.DefaultPageID, models.SubscribeInput{Email: " Dan@Example.com", Components: []int64{api.ID}})
		modelstest.Fatal(t, err, "create")
		if sub.State != models.SubscriberActive || sub.ConfirmedAt == nil || sub.Email != "dan@example.com" {
			t.Fatalf("created %+v", sub)
		}
		if _, err := s.CreateConfirmedSubscriber(ctx, models.DefaultPageID, models.SubscribeInput{Email: "DAN@example.com", AllComponents: true}); !errors.Is(err, models.ErrSubscriberExists) {
			t.Fatalf("second create: %v", err)
		}
		for _, in := range []models.SubscribeInput{
			{Email: "a@example.com\r\nBcc: b@example.com", AllComponents: true},
			{Email: "a\x00@example.com", AllComponents: true},
			{Email: "a\xff@example.com", AllComponents: true},
			{Email: "not an address", AllComponents: true},
			{Email: "e@example.com", Components: []int64{api.ID + 999}},
			{Email: "e@example.com"},
		} {
			_, err := s.CreateConfirmedSubscriber(ctx, models.DefaultPageID, in)
			var ve *models.ValidationError
			if !errors.As(err, &ve) {
				t.Errorf("%q: %v, want a validation error", in.Email, err)
			}
		}
		if n, _ := s.CountSubscribers(ctx, models.SubscriberFilter{}); n != 1 {
			t.Fatalf("%d subscribers, want 1", n)
		}
		if n, _ := s.CountSubscriberDeliveries(ctx, "", ""); n != 0 {
			t.Fatalf("%d e-mails queued for a confirmed subscriber", n)
		}
		modelstest.Fatal(t, s.RemoveSubscriber(ctx, models.DefaultPageID, sub.ID), "remove")
		if err := s.RemoveSubscriber(ctx, models.DefaultPageID, sub.ID); !errors.Is(err, models.ErrNotFound) {
			t.Fatalf("remove twice: %v", err)
		}
	})
}

// "Notify subscribers" and "Notify channels" are independent: each off
// leaves its audience out, both off writes no event at all.
func TestNotifySubscribersSwitch(t *testing.T) {
	eachClocked(t, func(t *testing.T, s *models.Store, clock *modelstest.Clock) {
		ctx := models.WithActor(context.Background(), auditAdmin)
		_, err := s.CreateChannel(ctx, models.DefaultPageID, models.ChannelInput{Type: models.ChannelWebhook, Name: "all",
			URL: "https://hooks.example.com/all", Enabled: true})
		modelstest.Fatal(t, err, "channel")
		_, err = s.CreateConfirmedSubscriber(ctx, models.DefaultPageID, models.SubscribeInput{Email: "sub@example.com", AllComponents: true})
		modelstest.Fatal(t, err, "subscriber")
		clock.Add(time.Second)
		fanout := func() int {
			t.Helper()
			total := 0
			for {
				n, more, err := s.FanOutSubscribers(context.Background(), 100)
				modelstest.Fatal(t, err, "fan out")
				total += n
				if !more {
					return total
				}
			}
		}
		for _, tc := range []struct {
			name                    string
			silent, quiet           bool
			wantChannels, wantMails int
			wantEvent               bool
		}{
			{"both on", false, false, 1, 1, true},
			{"subscribers off", false, true, 1, 0, true},
			{"channels off", true, false, 0, 1, true},
			{"both off", true, true, 0, 0, false},
		} {
			before := countEvents(t, s)
			counted, n := models.CountNotified(ctx)
			inc, err := s.CreateIncident(counted, models.DefaultPageID, models.IncidentInput{Title: tc.name, Status: models.IncidentInvestigating,
				Message: "Looking.", Silent: tc.silent, QuietSubscribers: tc.quiet})
			modelstest.Fatal(t, err, "create %s", tc.name)
			if n.Channels() != tc.wantChannels {
				t.Errorf("%s: incident reached %d channels, want %d", tc.name, n.Channels(), tc.wantChannels)
			}
			if got := fanout(); got != tc.wantMails {
				t.Errorf("%s: incident queued %d subscriber e-mails, want %d", tc.name, got, tc.wantMails)
			}
			if after := countEvents(t, s); (after[models.EventIncidentCreated] > before[models.EventIncidentCreated]) != tc.wantEvent {
				t.Errorf("%s: events %v → %v", tc.name, before, after)
			}
			clock.Add(time.Second)
			counted, n = models.CountNotified(ctx)
			_, err = s.PostIncidentUpdate(counted, inc.ID, models.IncidentUpdateInput{Status: models.IncidentIdentified, Message: "Found.",
				Silent: tc.silent, QuietSubscribers: tc.quiet})
			modelstest.Fatal(t, err, "update %s", tc.name)
			if n.Channels() != tc.wantChannels {
				t.Errorf("%s: update reached %d channels, want %d", tc.name, n.Channels(), tc.wantChannels)
			}
			if got := fanout(); got != tc.wantMails {
				t.Errorf("%s: update queued %d subscriber e-mails, want %d", tc.name, got, tc.wantMails)
			}
			start := clock.Now().Add(time.Hour)
			counted, n = models.CountNotified(ctx)
			_, err = s.ScheduleMaintenance(counted, models.DefaultPageID, models.MaintenanceInput{Title: tc.name, WindowStart: start,
				WindowEnd: start.Add(time.Hour), Silent: tc.silent, QuietSubscribers: tc.quiet})
			modelstest.Fatal(t, err, "schedule %s", tc.name)
			if n.Channels() != tc.wantChannels {
				t.Errorf("%s: maintenance reached %d channels, want %d", tc.name, n.Channels(), tc.wantChannels)
			}
			if got := fanout(); got != tc.wantMails {
				t.Errorf("%s: maintenance queued %d subscriber e-mails, want %d", tc.name, got, tc.wantMails)
			}
			clock.Add(time.Second)
		}
		// A correction announced to channels e-mails no subscriber.
		inc, err := s.CreateIncident(ctx, models.DefaultPageID, models.IncidentInput{Title: "Typo", Status: models.IncidentInvestigating, Message: "Lookng."})
		modelstest.Fatal(t, err, "incident to correct")
		fanout()
		counted, n := models.CountNotified(ctx)
		_, err = s.EditIncidentTitle(counted, inc.ID, models.IncidentTitleInput{Title: "No typo", Notify: true})
		modelstest.Fatal(t, err, "correct title")
		if n.Channels() != 1 || fanout() != 0 {
			t.Errorf("corrected title: %d channels, subscriber e-mails queued", n.Channels())
		}
		rows := newAuditRows(t, s, 0)
		found := false
		for _, r := range rows {
			found = found || (r.Action == "incident.create" && strings.Contains(r.Summary, "subscribers not notified"))
		}
		if !found {
			t.Error("no audit summary says subscribers were not notified")
		}
	})
}

// A visitor's webhook shows as its URL with credentials masked; a URL
// that cannot be unsealed as "webhook #id".
func TestSubscriberAddressMasksWebhookURL(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, s *models.Store) {
		sealed, err := modelstest.TestVault(t).Seal("https://user:pw@hooks.example.com/in?token=abcdef")
		modelstest.Fatal(t, err, "seal")
		sub := &models.Subscriber{ID: 7, Kind: models.SubscriberWebhook, URLSealed: sealed}
		if got := s.SubscriberAddress(sub); got != "https://••••@hooks.example.com/in?token=••••" {
			t.Errorf("webhook address = %q", got)
		}
		sub.URLSealed = "garbage"
		if got := s.SubscriberAddress(sub); got != "webhook #7" {
			t.Errorf("unreadable webhook address = %q", got)
		}
		if got := s.SubscriberAddress(&models.Subscriber{Kind: models.SubscriberEmail, Email: "a@example.com"}); got != "a@example.com" {
			t.Errorf("e-mail address = %q", got)
		}
	})
}
