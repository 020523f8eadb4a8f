package public_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/mmcdole/gofeed"

	"github.com/heraldstatus/herald/markdown"
	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
	"github.com/heraldstatus/herald/public"
)

const (
	feedTestBase     = "https://status.example.com"
	feedTestEvilText = `<script>alert(1)</script> & "quotes" 'too'`
)

var feedTestNow = time.Date(2026, 1, 14, 12, 0, 0, 0, time.UTC)

func feedTestAt(minutesAgo int) time.Time {
	return feedTestNow.Add(-time.Duration(minutesAgo) * time.Minute)
}

func feedTestPtr(t time.Time) *time.Time { return &t }

// feedTestData is a page with a resolved incident (two updates), an
// ongoing one, a completed, a scheduled and a cancelled window. Newest
// activity first: incident 2 (10 min ago), maintenance 7 (20), incident 1
// (30), maintenance 6 (300); maintenance 8 is cancelled.
func feedTestData() *public.Data {
	api := models.Component{ID: 1, Name: "API", Visible: true, Status: models.StatusMajorOutage}
	return &public.Data{
		Page:       models.Page{ID: 1, Name: "Acme", Description: "Acme's services"},
		BaseURL:    feedTestBase,
		Now:        feedTestNow,
		Components: []models.Component{api},
		Incidents: []models.Incident{
			{ID: 2, Title: "API down", Status: models.IncidentIdentified, Impact: models.ImpactCritical,
				StartedAt: feedTestAt(40), Components: []models.Component{api},
				Updates: []models.IncidentUpdate{
					{ID: 4, Status: models.IncidentIdentified, Message: "Found it: a **bad** deploy.", CreatedAt: feedTestAt(10)},
					{ID: 3, Status: models.IncidentInvestigating, Message: "Looking into errors.", CreatedAt: feedTestAt(40)},
				}},
			{ID: 1, Title: feedTestEvilText, Status: models.IncidentResolved, Impact: models.ImpactMinor,
				StartedAt: feedTestAt(90), ResolvedAt: feedTestPtr(feedTestAt(30)),
				Updates: []models.IncidentUpdate{
					{ID: 2, Status: models.IncidentResolved, Message: "Fixed. <script>alert(2)</script> See [notes](https://example.com/n).", CreatedAt: feedTestAt(30)},
					{ID: 1, Status: models.IncidentInvestigating, Message: "Slow pages.", CreatedAt: feedTestAt(90)},
				}},
		},
		Maintenances: []models.Maintenance{
			{ID: 8, Title: "Cancelled work", Status: models.MaintenanceCancelled, WindowStart: feedTestAt(-60), WindowEnd: feedTestAt(-120),
				CreatedAt: feedTestAt(5), UpdatedAt: feedTestAt(1)},
			{ID: 7, Title: "Database upgrade", Message: "Expect _short_ blips.", Status: models.MaintenanceScheduled,
				WindowStart: feedTestAt(-60), WindowEnd: feedTestAt(-120), CreatedAt: feedTestAt(20), UpdatedAt: feedTestAt(20),
				Components: []models.Component{api}},
			{ID: 6, Title: "Network work", Message: "Done.", Status: models.MaintenanceCompleted,
				WindowStart: feedTestAt(400), WindowEnd: feedTestAt(300), CreatedAt: feedTestAt(2000), UpdatedAt: feedTestAt(300)},
		},
	}
}

type feedTestItem struct {
	title, link string
	updated     time.Time
}

var feedTestWant = []feedTestItem{
	{"[Identified] API down", feedTestBase + "/incidents/2", feedTestAt(10)},
	{"Maintenance: Database upgrade", feedTestBase + "/maintenance/7", feedTestAt(20)},
	{"[Resolved] " + feedTestEvilText, feedTestBase + "/incidents/1", feedTestAt(30)},
	{"Maintenance: Network work", feedTestBase + "/maintenance/6", feedTestAt(300)},
}

func feedTestParse(t *testing.T, body []byte) *gofeed.Feed {
	t.Helper()
	if !bytes.HasPrefix(body, []byte(`<?xml version="1.0" encoding="UTF-8"?>`)) {
		t.Fatalf("feed does not start with an XML declaration: %.60q", body)
	}
	if !utf8.Valid(body) {
		t.Fatal("feed is not valid UTF-8")
	}
	feedTestWellFormed(t, body)
	f, err := gofeed.NewParser().ParseString(string(body))
	if err != nil {
		t.Fatalf("parse feed: %v\n%s", err, body)
	}
	return f
}

// feedTestWellFormed walks every token and fails on a parse error or on
// an element that only escaped text could have produced.
func feedTestWellFormed(t *testing.T, body []byte) {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(body))
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatalf("feed is not well-formed XML: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok && (se.Name.Local == "script" || se.Name.Local == "b") {
			t.Fatalf("markup from user text became an element: %v", se.Name)
		}
	}
}

func TestAtomFeedListsIncidentsAndMaintenanceNewestFirst(t *testing.T) {
	body, err := public.AtomFeed(feedTestData(), markdown.New())
	modelstest.Fatal(t, err, "AtomFeed")
	f := feedTestParse(t, body)
	if f.FeedType != "atom" || f.FeedVersion != "1.0" {
		t.Errorf("type %s %s, want atom 1.0", f.FeedType, f.FeedVersion)
	}
	if f.Title != "Acme status" {
		t.Errorf("title %q", f.Title)
	}
	if f.Link != feedTestBase+"/" || f.FeedLink != feedTestBase+"/history.atom" {
		t.Errorf("links: alternate %q, self %q", f.Link, f.FeedLink)
	}
	if f.UpdatedParsed == nil || !f.UpdatedParsed.Equal(feedTestAt(10)) {
		t.Errorf("feed updated %v, want the newest entry's %v", f.UpdatedParsed, feedTestAt(10))
	}
	feedTestCheckItems(t, f, func(it *gofeed.Item) string { return it.Content })
	for i, it := range f.Items {
		if it.GUID != feedTestWant[i].link {
			t.Errorf("entry %d id %q, want the permalink", i, it.GUID)
		}
		if it.PublishedParsed == nil || len(it.Authors) != 1 || it.Authors[0].Name != "Acme" {
			t.Errorf("entry %d: published %v, authors %v", i, it.PublishedParsed, it.Authors)
		}
	}
	if got := f.Items[2].PublishedParsed; got == nil || !got.Equal(feedTestAt(90)) {
		t.Errorf("incident published %v, want its start %v", got, feedTestAt(90))
	}
}

func TestRSSFeedListsIncidentsAndMaintenanceNewestFirst(t *testing.T) {
	body, err := public.RSSFeed(feedTestData(), markdown.New())
	modelstest.Fatal(t, err, "RSSFeed")
	f := feedTestParse(t, body)
	if f.FeedType != "rss" || f.FeedVersion != "2.0" {
		t.Errorf("type %s %s, want rss 2.0", f.FeedType, f.FeedVersion)
	}
	if f.Title != "Acme status" || f.Description != "Acme's services" {
		t.Errorf("title %q, description %q", f.Title, f.Description)
	}
	if f.Link != feedTestBase+"/" || f.FeedLink != feedTestBase+"/history.rss" {
		t.Errorf("links: channel %q, self %q", f.Link, f.FeedLink)
	}
	if !bytes.Contains(body, []byte("<lastBuildDate>Wed, 14 Jan 2026 11:50:00 +0000</lastBuildDate>")) {
		t.Errorf("lastBuildDate is not the newest entry's time in RFC 1123Z:\n%s", body)
	}
	feedTestCheckItems(t, f, func(it *gofeed.Item) string { return it.Description })
	// pubDate is when each was published (an incident's start, a
	// window's creation), not its latest activity; the order stays by
	// latest activity.
	published := []time.Time{feedTestAt(40), feedTestAt(20), feedTestAt(90), feedTestAt(2000)}
	for i, it := range f.Items {
		if it.GUID != feedTestWant[i].link {
			t.Errorf("item %d guid %q, want the permalink", i, it.GUID)
		}
		if it.PublishedParsed == nil || !it.PublishedParsed.Equal(published[i]) {
			t.Errorf("item %d pubDate %v, want its publication %v", i, it.PublishedParsed, published[i])
		}
	}
	if !bytes.Contains(body, []byte(`<guid isPermaLink="true">`+feedTestBase+`/incidents/2</guid>`)) {
		t.Error("guid is not marked as a permalink")
	}
}

// feedTestCheckItems checks what both feeds share: entries, order, dates
// and the rendered timeline.
func feedTestCheckItems(t *testing.T, f *gofeed.Feed, html func(*gofeed.Item) string) {
	t.Helper()
	if len(f.Items) != len(feedTestWant) {
		t.Fatalf("%d entries, want %d (cancelled maintenance left out)", len(f.Items), len(feedTestWant))
	}
	for i, w := range feedTestWant {
		it := f.Items[i]
		if it.Title != w.title || it.Link != w.link {
			t.Errorf("entry %d = %q <%s>, want %q <%s>", i, it.Title, it.Link, w.title, w.link)
		}
		date := it.UpdatedParsed
		if date == nil {
			continue // RSS has only pubDate, the publication time: its test checks it
		}
		if !date.Equal(w.updated) {
			t.Errorf("entry %d date %v, want %v", i, date, w.updated)
		} else if _, offset := date.Zone(); offset != 0 {
			t.Errorf("entry %d date %v not in UTC", i, date)
		}
	}
	ongoing := html(f.Items[0])
	for _, want := range []string{
		"<p><strong>Identified</strong> – Jan 14, 2026 11:50 UTC</p><p>Found it: a <strong>bad</strong> deploy.</p>",
		"<p><strong>Investigating</strong> – Jan 14, 2026 11:20 UTC</p><p>Looking into errors.</p>",
		"Affected components: API",
	} {
		if !strings.Contains(ongoing, want) {
			t.Errorf("incident content lacks %q:\n%s", want, ongoing)
		}
	}
	if strings.Index(ongoing, "Identified") > strings.Index(ongoing, "Investigating") {
		t.Errorf("updates not newest first:\n%s", ongoing)
	}
	resolved := html(f.Items[2])
	if !strings.Contains(resolved, `<a href="https://example.com/n" rel="nofollow">notes</a>`) || strings.Contains(resolved, "<script") {
		t.Errorf("resolved incident content not rendered and sanitised:\n%s", resolved)
	}
	window := html(f.Items[1])
	for _, want := range []string{
		"<p><strong>Scheduled</strong> – Jan 14, 2026 13:00 UTC to Jan 14, 2026 14:00 UTC</p>",
		"<p>Expect <em>short</em> blips.</p>",
	} {
		if !strings.Contains(window, want) {
			t.Errorf("maintenance content lacks %q:\n%s", want, window)
		}
	}
}

func TestFeedsKeepMarkupInTitlesAsText(t *testing.T) {
	d := feedTestData()
	d.Page.Name = `Acme <b>&</b> "Co"`
	md := markdown.New()
	for name, render := range map[string]func(*public.Data, *markdown.Renderer) ([]byte, error){
		"atom": public.AtomFeed, "rss": public.RSSFeed,
	} {
		t.Run(name, func(t *testing.T) {
			body, err := render(d, md)
			modelstest.Fatal(t, err, "render")
			if bytes.Contains(body, []byte("<script")) || bytes.Contains(body, []byte("<b>")) {
				t.Fatalf("raw markup in the feed:\n%s", body)
			}
			f := feedTestParse(t, body)
			if f.Title != public.StatusTitle(d.Page.Name) {
				t.Errorf("feed title %q, want %q", f.Title, public.StatusTitle(d.Page.Name))
			}
			if got := f.Items[2].Title; got != "[Resolved] "+feedTestEvilText {
				t.Errorf("title %q did not survive the round trip", got)
			}
		})
	}
}

func TestFeedsOfAnEmptyPageAreValid(t *testing.T) {
	d := &public.Data{Page: models.Page{Name: "Empty"}, BaseURL: feedTestBase, Now: feedTestNow}
	atom, err := public.AtomFeed(d, markdown.New())
	modelstest.Fatal(t, err, "AtomFeed")
	f := feedTestParse(t, atom)
	if len(f.Items) != 0 || f.UpdatedParsed == nil || !f.UpdatedParsed.Equal(feedTestNow) {
		t.Errorf("empty Atom: %d entries, updated %v (want now)", len(f.Items), f.UpdatedParsed)
	}
	rss, err := public.RSSFeed(d, markdown.New())
	modelstest.Fatal(t, err, "RSSFeed")
	if f := feedTestParse(t, rss); len(f.Items) != 0 || f.Title != "Empty status" {
		t.Errorf("empty RSS: %d items, title %q", len(f.Items), f.Title)
	}
}

func TestFeedsCapEntriesAndMergeUnlistedOngoingWork(t *testing.T) {
	d := &public.Data{Page: models.Page{Name: "Busy"}, BaseURL: feedTestBase, Now: feedTestNow}
	for i := range 45 {
		at := feedTestAt(1000 + 10*i)
		d.Incidents = append(d.Incidents, models.Incident{ID: int64(100 - i), Title: fmt.Sprintf("old %d", i),
			Status: models.IncidentResolved, StartedAt: at, ResolvedAt: &at})
	}
	for i := range 10 {
		at := feedTestAt(500 + 10*i)
		d.Maintenances = append(d.Maintenances, models.Maintenance{ID: int64(50 - i), Title: fmt.Sprintf("m %d", i),
			Status: models.MaintenanceCompleted, WindowStart: at, WindowEnd: at, CreatedAt: at, UpdatedAt: at})
	}
	// An old but ongoing incident outside the recent list, with a fresh
	// update, and an in-progress window listed twice.
	ongoing := models.Incident{ID: 1, Title: "slow burn", Status: models.IncidentMonitoring, StartedAt: feedTestAt(99999),
		Updates: []models.IncidentUpdate{{ID: 1, Status: models.IncidentMonitoring, Message: "Still watching.", CreatedAt: feedTestAt(2)}}}
	d.Unresolved = []models.Incident{ongoing, d.Incidents[0]}
	active := models.Maintenance{ID: 99, Title: "now", Status: models.MaintenanceInProgress, CreatedAt: feedTestAt(3), UpdatedAt: feedTestAt(3)}
	d.Active, d.Maintenances = []models.Maintenance{active}, append(d.Maintenances, active)

	body, err := public.AtomFeed(d, markdown.New())
	modelstest.Fatal(t, err, "AtomFeed")
	f := feedTestParse(t, body)
	if len(f.Items) != 50 {
		t.Fatalf("%d entries, want the cap of 50", len(f.Items))
	}
	if f.Items[0].Title != "[Monitoring] slow burn" || f.Items[1].Title != "Maintenance: now" || f.Items[2].Title != "Maintenance: m 0" {
		t.Errorf("first entries %q, %q, %q", f.Items[0].Title, f.Items[1].Title, f.Items[2].Title)
	}
	seen := map[string]bool{}
	for i, it := range f.Items {
		if seen[it.GUID] {
			t.Errorf("entry %s listed twice", it.GUID)
		}
		seen[it.GUID] = true
		if i > 0 && it.UpdatedParsed.After(*f.Items[i-1].UpdatedParsed) {
			t.Errorf("entry %d (%s) newer than entry %d", i, it.UpdatedParsed, i-1)
		}
	}
}

func TestFeedsWriteTimesInUTCAndRepairBadText(t *testing.T) {
	paris := time.FixedZone("CET", 3600)
	d := &public.Data{Page: models.Page{Name: "Zoned"}, BaseURL: feedTestBase, Now: feedTestNow.In(paris)}
	at := feedTestAt(60).In(paris)
	d.Incidents = []models.Incident{{ID: 5, Title: "bad \xff byte \x01", Status: models.IncidentResolved, StartedAt: at, ResolvedAt: &at,
		Updates: []models.IncidentUpdate{{ID: 9, Status: models.IncidentResolved, Message: "ok", CreatedAt: at}}}}
	atom, err := public.AtomFeed(d, markdown.New())
	modelstest.Fatal(t, err, "AtomFeed")
	rss, err := public.RSSFeed(d, markdown.New())
	modelstest.Fatal(t, err, "RSSFeed")
	for _, want := range []string{"<updated>2026-01-14T11:00:00Z</updated>", "<published>2026-01-14T11:00:00Z</published>", "Jan 14, 2026 11:00 UTC"} {
		if !bytes.Contains(atom, []byte(want)) {
			t.Errorf("Atom lacks %q", want)
		}
	}
	if !bytes.Contains(rss, []byte("<pubDate>Wed, 14 Jan 2026 11:00:00 +0000</pubDate>")) {
		t.Errorf("RSS pubDate not in UTC:\n%s", rss)
	}
	feedTestParse(t, atom)
	feedTestParse(t, rss)
}

// Atom's structure as RFC 4287 defines it, read back with encoding/xml.
type feedTestAtom struct {
	XMLName xml.Name `xml:"http://www.w3.org/2005/Atom feed"`
	ID      string   `xml:"id"`
	Title   string   `xml:"title"`
	Updated string   `xml:"updated"`
	Author  struct {
		Name string `xml:"name"`
	} `xml:"author"`
	Links   []feedTestAtomLink `xml:"link"`
	Entries []struct {
		ID        string             `xml:"id"`
		Title     feedTestAtomText   `xml:"title"`
		Updated   string             `xml:"updated"`
		Published string             `xml:"published"`
		Links     []feedTestAtomLink `xml:"link"`
		Author    struct {
			Name string `xml:"name"`
		} `xml:"author"`
		Content feedTestAtomText `xml:"content"`
	} `xml:"entry"`
}

type feedTestAtomLink struct {
	Rel  string `xml:"rel,attr"`
	Href string `xml:"href,attr"`
}

type feedTestAtomText struct {
	Type string `xml:"type,attr"`
	Text string `xml:",chardata"`
}

func TestAtomFeedFollowsRFC4287(t *testing.T) {
	body, err := public.AtomFeed(feedTestData(), markdown.New())
	modelstest.Fatal(t, err, "AtomFeed")
	var f feedTestAtom
	if err := xml.Unmarshal(body, &f); err != nil {
		t.Fatalf("unmarshal Atom: %v", err)
	}
	links := map[string]string{}
	for _, l := range f.Links {
		links[l.Rel] = l.Href
	}
	if f.ID != feedTestBase+"/" || f.Title != "Acme status" || f.Author.Name != "Acme" ||
		links["self"] != feedTestBase+"/history.atom" || links["alternate"] != feedTestBase+"/" {
		t.Errorf("feed head: id %q, title %q, author %q, links %v", f.ID, f.Title, f.Author.Name, links)
	}
	if _, err := time.Parse(time.RFC3339, f.Updated); err != nil {
		t.Errorf("feed updated %q: %v", f.Updated, err)
	}
	if len(f.Entries) != len(feedTestWant) {
		t.Fatalf("%d entries, want %d", len(f.Entries), len(feedTestWant))
	}
	for i, e := range f.Entries {
		w := feedTestWant[i]
		if e.ID != w.link || e.Title.Text != w.title || e.Title.Type != "text" || e.Author.Name != "Acme" {
			t.Errorf("entry %d: id %q, title %q (%s), author %q", i, e.ID, e.Title.Text, e.Title.Type, e.Author.Name)
		}
		if len(e.Links) != 1 || e.Links[0].Rel != "alternate" || e.Links[0].Href != w.link {
			t.Errorf("entry %d links %v", i, e.Links)
		}
		up, err1 := time.Parse(time.RFC3339, e.Updated)
		_, err2 := time.Parse(time.RFC3339, e.Published)
		if err1 != nil || err2 != nil || !up.Equal(w.updated) || !strings.HasSuffix(e.Updated, "Z") {
			t.Errorf("entry %d dates %q / %q", i, e.Updated, e.Published)
		}
		if e.Content.Type != "html" || !strings.HasPrefix(e.Content.Text, "<p><strong>") {
			t.Errorf("entry %d content (%s) %.80q", i, e.Content.Type, e.Content.Text)
		}
	}
}

func TestFeedsFromTheStore(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	for _, engine := range modelstest.Engines {
		t.Run(string(engine), func(t *testing.T) {
			clock := modelstest.NewClock(t0)
			s := modelstest.OpenWith(t, engine, models.Options{Now: clock.Now, BaseURL: feedTestBase + "/"})
			ctx := context.Background()
			api, err := s.CreateComponent(ctx, models.DefaultPageID, models.ComponentInput{Name: "API & <Web>", Visible: true, Status: models.StatusOperational})
			modelstest.Fatal(t, err, "create component")
			inc, err := s.CreateIncident(ctx, models.DefaultPageID, models.IncidentInput{Title: "Errors on <API>", Status: models.IncidentInvestigating,
				Message: "We are **investigating**.", Components: map[int64]models.ComponentStatus{api.ID: models.StatusPartialOutage}})
			modelstest.Fatal(t, err, "create incident")
			clock.Add(15 * time.Minute)
			_, err = s.PostIncidentUpdate(ctx, inc.ID, models.IncidentUpdateInput{Status: models.IncidentResolved, Message: "Fixed & deployed.",
				Components: map[int64]models.ComponentStatus{api.ID: models.StatusOperational}})
			modelstest.Fatal(t, err, "resolve incident")
			clock.Add(5 * time.Minute)
			secret, err := s.CreateComponent(ctx, models.DefaultPageID, models.ComponentInput{Name: "Secret vault", Status: models.StatusOperational})
			modelstest.Fatal(t, err, "create hidden component")
			m, err := s.ScheduleMaintenance(ctx, models.DefaultPageID, models.MaintenanceInput{Title: "Upgrade", Message: "New _version_.",
				ComponentIDs: []int64{api.ID, secret.ID}, WindowStart: t0.Add(24 * time.Hour), WindowEnd: t0.Add(25 * time.Hour)})
			modelstest.Fatal(t, err, "schedule maintenance")
			clock.Add(time.Minute)
			_, err = s.PostMaintenanceUpdate(ctx, m.ID, models.MaintenanceUpdateInput{Message: "Moved to **v2**."})
			modelstest.Fatal(t, err, "post maintenance update")
			clock.Add(time.Minute)
			_, err = s.PostMaintenanceUpdate(ctx, m.ID, models.MaintenanceUpdateInput{Message: "Runbook ready."})
			modelstest.Fatal(t, err, "post second maintenance update")
			gone, err := s.ScheduleMaintenance(ctx, models.DefaultPageID, models.MaintenanceInput{Title: "Never mind",
				WindowStart: t0.Add(48 * time.Hour), WindowEnd: t0.Add(49 * time.Hour)})
			modelstest.Fatal(t, err, "schedule second maintenance")
			modelstest.Fatal(t, s.CancelMaintenance(ctx, gone.ID), "cancel maintenance")
			clock.Add(time.Minute)

			d, err := public.Load(ctx, s, models.DefaultPageID, clock.Now())
			modelstest.Fatal(t, err, "load")
			md := markdown.New()
			want := []feedTestItem{
				// Updated: its newest posted update.
				{"Maintenance: Upgrade", fmt.Sprintf("%s/maintenance/%d", feedTestBase, m.ID), t0.Add(22 * time.Minute)},
				{"[Resolved] Errors on <API>", fmt.Sprintf("%s/incidents/%d", feedTestBase, inc.ID), t0.Add(15 * time.Minute)},
			}
			for name, render := range map[string]func(*public.Data, *markdown.Renderer) ([]byte, error){
				"atom": public.AtomFeed, "rss": public.RSSFeed,
			} {
				body, err := render(d, md)
				modelstest.Fatal(t, err, "render %s", name)
				f := feedTestParse(t, body)
				if f.Title != "Status" || len(f.Items) != len(want) { // the page is named "Status": not "Status status"
					t.Fatalf("%s: title %q, %d entries, want %d:\n%s", name, f.Title, len(f.Items), len(want), body)
				}
				// RSS has no updated date: its pubDate is when the entry was
				// published (the incident's start, the window's creation).
				rssPublished := []time.Time{t0.Add(20 * time.Minute), t0}
				for i, w := range want {
					it := f.Items[i]
					date := it.UpdatedParsed
					if date == nil {
						date = it.PublishedParsed
					}
					if name == "rss" {
						w.updated = rssPublished[i]
					}
					if it.Title != w.title || it.Link != w.link || it.GUID != w.link || date == nil || !date.Equal(w.updated) {
						t.Errorf("%s entry %d = %q <%s> %s %v, want %q <%s> %v", name, i, it.Title, it.Link, it.GUID, date, w.title, w.link, w.updated)
					}
				}
				content := f.Items[1].Content + f.Items[1].Description
				for _, s := range []string{
					"<p><strong>Resolved</strong> – Mar 2, 2026 09:15 UTC</p><p>Fixed &amp; deployed.</p>",
					"<p><strong>Investigating</strong> – Mar 2, 2026 09:00 UTC</p><p>We are <strong>investigating</strong>.</p>",
					"Affected components: API &amp; &lt;Web&gt;",
				} {
					if !strings.Contains(content, s) {
						t.Errorf("%s incident content lacks %q:\n%s", name, s, content)
					}
				}
				// The announcement, then the posted updates newest first; the
				// hidden component is named nowhere.
				c := f.Items[0].Content + f.Items[0].Description
				announce := strings.Index(c, "<p>New <em>version</em>.</p>")
				newer := strings.Index(c, "<p><strong>Scheduled</strong> – Mar 2, 2026 09:22 UTC</p><p>Runbook ready.</p>")
				older := strings.Index(c, "<p><strong>Scheduled</strong> – Mar 2, 2026 09:21 UTC</p><p>Moved to <strong>v2</strong>.</p>")
				if announce < 0 || newer < announce || older < newer || strings.Contains(c, "Secret vault") ||
					!strings.Contains(c, "Affected components: API &amp; &lt;Web&gt;</p>") {
					t.Errorf("%s maintenance content: %s", name, c)
				}
			}
		})
	}
}
