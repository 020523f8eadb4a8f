package public

import (
	"cmp"
	"encoding/xml"
	"fmt"
	"html"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/heraldstatus/herald/markdown"
	"github.com/heraldstatus/herald/models"
)

// feedLimit caps the entries of the Atom and RSS feeds.
const feedLimit = 50

// feedEntry is an incident or a maintenance window as both feeds show it.
type feedEntry struct {
	URL       string // permalink, also the entry's id
	Title     string
	Category  string // "incident" or "maintenance"
	Published time.Time
	Updated   time.Time // latest activity: the feeds' sort key
	HTML      string
	id        int64
	// components are the ids of the visible components it affects.
	components []int64
}

// feedScope is what one feed covers: the whole page, or the incidents
// and maintenance of one component.
type feedScope struct {
	ID          string // the Atom feed's id
	Title       string
	Subtitle    string // Atom's, may be empty
	Description string // RSS's, never empty
	AtomPath    string // path of the Atom feed, and of the RSS one below
	RSSPath     string
	entries     []feedEntry
}

// AtomFeed and RSSFeed list d's incidents and maintenance windows
// (SPEC §6.3), newest first.
func AtomFeed(d *Data, md *markdown.Renderer) ([]byte, error) {
	return atomFeedOf(d, pageFeedScope(d, feedEntries(d, md)))
}

// RSSFeed is AtomFeed as RSS 2.0.
func RSSFeed(d *Data, md *markdown.Renderer) ([]byte, error) {
	return rssFeedOf(d, pageFeedScope(d, feedEntries(d, md)))
}

// ComponentFeedKey is the snapshot path of a component's feed; feed is
// "/history.atom" or "/history.rss".
func ComponentFeedKey(feed string, componentID int64) string {
	return feed + "?component=" + strconv.FormatInt(componentID, 10)
}

func pageFeedScope(d *Data, all []feedEntry) feedScope {
	description := d.Page.Description
	if strings.TrimSpace(description) == "" {
		description = "Incidents and maintenance of " + d.Page.Name
	}
	// The page feed's id predates per-component feeds: readers key on it.
	return feedScope{ID: d.BaseURL + "/", Title: feedTitle(d), Subtitle: d.Page.Description,
		Description: description, AtomPath: "/history.atom",
		RSSPath: "/history.rss", entries: limitFeed(all)}
}

// componentFeedScope keeps the entries that affect component c.
func componentFeedScope(d *Data, c *models.Component, all []feedEntry) feedScope {
	var entries []feedEntry
	for _, e := range all {
		if slices.Contains(e.components, c.ID) {
			entries = append(entries, e)
		}
	}
	about := "Incidents and maintenance affecting " + c.Name + " on " + d.Page.Name
	return feedScope{ID: d.BaseURL + ComponentFeedKey("/history.atom", c.ID), Title: c.Name + " · " + feedTitle(d),
		Subtitle: about, Description: about, AtomPath: ComponentFeedKey("/history.atom", c.ID), RSSPath: ComponentFeedKey("/history.rss", c.ID),
		entries: limitFeed(entries)}
}

func atomFeedOf(d *Data, sc feedScope) ([]byte, error) {
	feed := atomFeed{
		NS:        "http://www.w3.org/2005/Atom",
		ID:        sc.ID,
		Title:     sc.Title,
		Subtitle:  sc.Subtitle,
		Updated:   atomTime(feedUpdated(d, sc.entries)),
		Generator: "Herald",
		Author:    atomPerson{Name: d.Page.Name},
		Links: []atomLink{
			{Rel: "self", Type: "application/atom+xml", Href: d.BaseURL + sc.AtomPath},
			{Rel: "alternate", Type: "text/html", Href: d.BaseURL + "/"},
		},
	}
	for _, e := range sc.entries {
		feed.Entries = append(feed.Entries, atomEntry{
			ID:        e.URL,
			Title:     atomText{Type: "text", Text: e.Title},
			Updated:   atomTime(e.Updated),
			Published: atomTime(e.Published),
			Links:     []atomLink{{Rel: "alternate", Type: "text/html", Href: e.URL}},
			Author:    atomPerson{Name: d.Page.Name},
			Category:  atomCategory{Term: e.Category},
			Content:   atomText{Type: "html", Text: e.HTML},
		})
	}
	return marshalFeed(feed, "Atom")
}

func rssFeedOf(d *Data, sc feedScope) ([]byte, error) {
	doc := rssDoc{
		Version: "2.0",
		AtomNS:  "http://www.w3.org/2005/Atom",
		Channel: rssChannel{
			Title:         sc.Title,
			Link:          d.BaseURL + "/",
			Description:   sc.Description,
			AtomLink:      atomLink{Rel: "self", Type: "application/rss+xml", Href: d.BaseURL + sc.RSSPath},
			LastBuildDate: rssTime(feedUpdated(d, sc.entries)),
			Generator:     "Herald",
		},
	}
	for _, e := range sc.entries {
		doc.Channel.Items = append(doc.Channel.Items, rssItem{
			Title:       e.Title,
			Link:        e.URL,
			GUID:        rssGUID{IsPermaLink: "true", Value: e.URL},
			PubDate:     rssTime(e.Published), // when it was published, not its latest activity
			Category:    e.Category,
			Description: e.HTML,
		})
	}
	return marshalFeed(doc, "RSS")
}

func marshalFeed(v any, kind string) ([]byte, error) {
	body, err := xml.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("render %s feed: %w", kind, err)
	}
	out := make([]byte, 0, len(xml.Header)+len(body)+1)
	out = append(out, xml.Header...)
	out = append(out, body...)
	return append(out, '\n'), nil
}

func feedTitle(d *Data) string { return StatusTitle(d.Page.Name) }

// feedUpdated is when the feed last changed: its newest entry, else now.
func feedUpdated(d *Data, entries []feedEntry) time.Time {
	if len(entries) > 0 {
		return entries[0].Updated
	}
	return d.Now
}

func atomTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }
func rssTime(t time.Time) string  { return t.UTC().Format(time.RFC1123Z) }

// feedEntries merges incidents and maintenance windows (cancelled ones
// left out), newest activity first; limitFeed keeps the first feedLimit.
// Unresolved incidents and active or upcoming windows are merged in too,
// in case they fell outside the RecentLimit lists.
func feedEntries(d *Data, md *markdown.Renderer) []feedEntry {
	// The page's images, as on the page; a feed reader loading the others
	// would hand its users' addresses to their hosts.
	md = md.WithImages(markdown.Images{Origin: d.BaseURL, Hosts: d.Page.ImageHostList()})
	var out []feedEntry
	seen := map[int64]bool{}
	for _, list := range [][]models.Incident{d.Incidents, d.Unresolved} {
		for i := range list {
			if !seen[list[i].ID] {
				seen[list[i].ID] = true
				out = append(out, feedIncident(d, &list[i], md))
			}
		}
	}
	clear(seen)
	for _, list := range [][]models.Maintenance{d.Maintenances, d.Active, d.Upcoming} {
		for i := range list {
			m := &list[i]
			if m.Status != models.MaintenanceCancelled && !seen[m.ID] {
				seen[m.ID] = true
				out = append(out, feedMaintenance(d, m, md))
			}
		}
	}
	// Deterministic order, so an unchanged page keeps its ETag.
	slices.SortFunc(out, func(a, b feedEntry) int {
		return cmp.Or(b.Updated.Compare(a.Updated), cmp.Compare(a.Category, b.Category), cmp.Compare(b.id, a.id))
	})
	return out
}

func limitFeed(entries []feedEntry) []feedEntry {
	return entries[:min(len(entries), feedLimit)]
}

func feedLatest(times ...time.Time) time.Time {
	var t time.Time
	for _, c := range times {
		if c.After(t) {
			t = c
		}
	}
	return t
}

func feedDeref(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

func feedIncident(d *Data, inc *models.Incident, md *markdown.Renderer) feedEntry {
	updates := slices.Clone(inc.Updates)
	slices.SortStableFunc(updates, func(a, b models.IncidentUpdate) int {
		return cmp.Or(b.CreatedAt.Compare(a.CreatedAt), cmp.Compare(b.ID, a.ID))
	})
	activity := feedLatest(feedDeref(inc.ResolvedAt), feedDeref(inc.PostmortemAt))
	if len(updates) > 0 {
		activity = feedLatest(activity, updates[0].CreatedAt)
	}
	if activity.IsZero() {
		activity = feedLatest(inc.StartedAt, inc.CreatedAt)
	}
	published := inc.StartedAt
	if published.IsZero() {
		published = inc.CreatedAt
	}

	var b strings.Builder
	if strings.TrimSpace(inc.Postmortem) != "" {
		feedStatusLine(&b, "Postmortem", feedDeref(inc.PostmortemAt))
		b.WriteString(md.Render(inc.Postmortem))
	}
	for _, u := range updates {
		feedStatusLine(&b, u.Status.Label(), u.CreatedAt)
		b.WriteString(md.Render(u.Message))
	}
	feedComponents(&b, d, inc.Components)

	prefix := "[" + inc.Status.Label() + "] "
	if inc.Status == models.IncidentResolved {
		prefix = "[Resolved] "
	}
	url := fmt.Sprintf("%s/incidents/%d", d.BaseURL, inc.ID)
	return feedEntry{URL: url, Title: prefix + inc.Title, Category: "incident",
		Published: published.UTC(), Updated: activity.UTC(), HTML: b.String(), id: inc.ID,
		components: visibleIDs(d, inc.Components)}
}

func feedMaintenance(d *Data, m *models.Maintenance, md *markdown.Renderer) feedEntry {
	var b strings.Builder
	fmt.Fprintf(&b, "<p><strong>%s</strong> – %s to %s</p>", html.EscapeString(m.Status.Label()),
		feedTime(m.WindowStart), feedTime(m.WindowEnd))
	b.WriteString(md.Render(m.Message))
	// Then the posted updates, newest first, as the public page shows them.
	updates := slices.Clone(m.Updates)
	slices.SortStableFunc(updates, func(a, b models.MaintenanceUpdate) int {
		return cmp.Or(b.CreatedAt.Compare(a.CreatedAt), cmp.Compare(b.ID, a.ID))
	})
	for _, u := range updates {
		feedStatusLine(&b, u.Status.Label(), u.CreatedAt)
		b.WriteString(md.Render(u.Message))
	}
	feedComponents(&b, d, m.Components)

	published := m.CreatedAt
	if published.IsZero() {
		published = m.WindowStart
	}
	updated := feedLatest(m.UpdatedAt, published)
	if len(updates) > 0 {
		updated = feedLatest(updated, updates[0].CreatedAt)
	}
	url := fmt.Sprintf("%s/maintenance/%d", d.BaseURL, m.ID)
	return feedEntry{URL: url, Title: "Maintenance: " + m.Title, Category: "maintenance",
		Published: published.UTC(), Updated: updated.UTC(), HTML: b.String(), id: m.ID,
		components: visibleIDs(d, m.Components)}
}

// visibleIDs are the ids of comps that the page shows.
func visibleIDs(d *Data, comps []models.Component) []int64 {
	var ids []int64
	for _, c := range comps {
		if d.visible(c.ID) {
			ids = append(ids, c.ID)
		}
	}
	return ids
}

// feedStatusLine writes the heading of one timeline entry.
func feedStatusLine(b *strings.Builder, status string, at time.Time) {
	fmt.Fprintf(b, "<p><strong>%s</strong>", html.EscapeString(status))
	if !at.IsZero() {
		b.WriteString(" – " + feedTime(at))
	}
	b.WriteString("</p>")
}

// feedComponents lists the affected components the page shows: a hidden
// component's name never reaches a feed, as it reaches no other public
// surface.
func feedComponents(b *strings.Builder, d *Data, comps []models.Component) {
	var names []string
	for _, c := range comps {
		if d.visible(c.ID) {
			names = append(names, html.EscapeString(c.Name))
		}
	}
	if len(names) == 0 {
		return
	}
	b.WriteString("<p>Affected components: " + strings.Join(names, ", ") + "</p>")
}

// feedTime is a time as readers of the feed see it, always in UTC.
func feedTime(t time.Time) string {
	return t.UTC().Format("Jan 2, 2006 15:04 UTC")
}

// Atom 1.0 (RFC 4287).
type atomFeed struct {
	XMLName   xml.Name    `xml:"feed"`
	NS        string      `xml:"xmlns,attr"`
	ID        string      `xml:"id"`
	Title     string      `xml:"title"`
	Subtitle  string      `xml:"subtitle,omitempty"`
	Updated   string      `xml:"updated"`
	Links     []atomLink  `xml:"link"`
	Author    atomPerson  `xml:"author"`
	Generator string      `xml:"generator"`
	Entries   []atomEntry `xml:"entry"`
}

type atomEntry struct {
	ID        string       `xml:"id"`
	Title     atomText     `xml:"title"`
	Updated   string       `xml:"updated"`
	Published string       `xml:"published"`
	Links     []atomLink   `xml:"link"`
	Author    atomPerson   `xml:"author"`
	Category  atomCategory `xml:"category"`
	Content   atomText     `xml:"content"`
}

type atomText struct {
	Type string `xml:"type,attr"`
	Text string `xml:",chardata"`
}

type atomLink struct {
	Rel  string `xml:"rel,attr"`
	Type string `xml:"type,attr,omitempty"`
	Href string `xml:"href,attr"`
}

type atomPerson struct {
	Name string `xml:"name"`
}

type atomCategory struct {
	Term string `xml:"term,attr"`
}

// RSS 2.0, with an atom:link to itself as feed validators recommend.
type rssDoc struct {
	XMLName xml.Name   `xml:"rss"`
	Version string     `xml:"version,attr"`
	AtomNS  string     `xml:"xmlns:atom,attr"`
	Channel rssChannel `xml:"channel"`
}

type rssChannel struct {
	Title         string    `xml:"title"`
	Link          string    `xml:"link"`
	Description   string    `xml:"description"`
	AtomLink      atomLink  `xml:"atom:link"`
	LastBuildDate string    `xml:"lastBuildDate"`
	Generator     string    `xml:"generator"`
	Items         []rssItem `xml:"item"`
}

type rssItem struct {
	Title       string  `xml:"title"`
	Link        string  `xml:"link"`
	GUID        rssGUID `xml:"guid"`
	PubDate     string  `xml:"pubDate"`
	Category    string  `xml:"category"`
	Description string  `xml:"description"`
}

type rssGUID struct {
	IsPermaLink string `xml:"isPermaLink,attr"`
	Value       string `xml:",chardata"`
}
