package public

import (
	"bytes"
	"encoding/xml"
	"io"
	"strconv"
	"strings"
	"testing"

	"github.com/heraldstatus/herald/models"
)

// badgeTestNode is an element of a parsed badge.
type badgeTestNode struct {
	name  string
	attrs map[string]string
	text  string
}

// badgeTestParse walks the SVG with encoding/xml and returns its elements
// in document order.
func badgeTestParse(t *testing.T, svg []byte) []*badgeTestNode {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(svg))
	var nodes, open []*badgeTestNode
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("badge is not well-formed XML: %v\n%s", err, svg)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			n := &badgeTestNode{name: tok.Name.Local, attrs: map[string]string{}}
			for _, a := range tok.Attr {
				n.attrs[a.Name.Local] = a.Value
			}
			nodes, open = append(nodes, n), append(open, n)
		case xml.EndElement:
			open = open[:len(open)-1]
		case xml.CharData:
			if len(open) > 0 {
				open[len(open)-1].text += string(tok)
			}
		}
	}
	if len(nodes) == 0 || nodes[0].name != "svg" {
		t.Fatalf("root is not <svg>:\n%s", svg)
	}
	return nodes
}

// badgeTestSummary is what a visitor sees of a badge.
type badgeTestSummary struct {
	width            int
	title, ariaLabel string
	fills            []string // the rect fills inside the clip group
	texts            []string // visible texts (not aria-hidden shadows)
	textFills        []string
}

func badgeTestRead(t *testing.T, svg []byte) badgeTestSummary {
	t.Helper()
	nodes := badgeTestParse(t, svg)
	root := nodes[0]
	if root.attrs["height"] != "20" || root.attrs["role"] != "img" || root.attrs["xmlns"] != "http://www.w3.org/2000/svg" {
		t.Errorf("svg attributes %v", root.attrs)
	}
	w, err := strconv.Atoi(root.attrs["width"])
	if err != nil || w <= 0 {
		t.Fatalf("svg width %q", root.attrs["width"])
	}
	s := badgeTestSummary{width: w, ariaLabel: root.attrs["aria-label"]}
	for _, n := range nodes {
		switch {
		case n.name == "title":
			s.title = n.text
		case n.name == "rect" && n.attrs["fill"] != "#fff" && !strings.HasPrefix(n.attrs["fill"], "url("):
			s.fills = append(s.fills, n.attrs["fill"])
		case n.name == "text" && n.attrs["aria-hidden"] != "true":
			s.texts = append(s.texts, n.text)
			s.textFills = append(s.textFills, n.attrs["fill"])
		}
		for k, v := range n.attrs {
			if strings.Contains(v, "http") && k != "xmlns" {
				t.Errorf("badge refers to an external resource: %s=%q", k, v)
			}
		}
	}
	if s.title != s.ariaLabel {
		t.Errorf("title %q differs from aria-label %q", s.title, s.ariaLabel)
	}
	return s
}

func badgeTestData(statuses ...models.ComponentStatus) *Data {
	d := &Data{Page: models.Page{Name: "Acme"}}
	for i, st := range statuses {
		d.Components = append(d.Components, models.Component{ID: int64(i + 1), Name: "C" + strconv.Itoa(i+1), Visible: true, Status: st})
	}
	return d
}

func TestComponentBadgeColourByStatus(t *testing.T) {
	cases := []struct {
		status           models.ComponentStatus
		message, colour  string
		textColourIsDark bool
	}{
		{models.StatusOperational, "operational", "#1f883d", false},
		{models.StatusDegradedPerformance, "degraded", "#b08800", true},
		{models.StatusPartialOutage, "partial outage", "#d1570b", false},
		{models.StatusMajorOutage, "major outage", "#cf222e", false},
		{models.StatusUnderMaintenance, "maintenance", "#0969da", false},
		{"exploded", "unknown", "#9f9f9f", false},
	}
	for _, tc := range cases {
		t.Run(string(tc.status), func(t *testing.T) {
			d := badgeTestData(tc.status)
			svg, ok := ComponentBadge(d, 1)
			if !ok {
				t.Fatal("visible component has no badge")
			}
			s := badgeTestRead(t, svg)
			if s.title != "C1: "+tc.message {
				t.Errorf("title %q, want %q", s.title, "C1: "+tc.message)
			}
			if len(s.fills) != 2 || s.fills[0] != "#555" || s.fills[1] != tc.colour {
				t.Errorf("fills %v, want grey label and %s", s.fills, tc.colour)
			}
			if len(s.texts) != 2 || s.texts[0] != "C1" || s.texts[1] != tc.message {
				t.Errorf("texts %v", s.texts)
			}
			if dark := s.textFills[1] != "#fff"; dark != tc.textColourIsDark {
				t.Errorf("message text colour %s on %s", s.textFills[1], tc.colour)
			}
		})
	}
}

// TestPageBadgeFollowsIndicator: the page badge shows Indicator, the rule
// of the banner and status.json.
func TestPageBadgeFollowsIndicator(t *testing.T) {
	inProgress := []models.Maintenance{{ID: 1, Status: models.MaintenanceInProgress}}
	cases := []struct {
		name     string
		statuses []models.ComponentStatus
		active   []models.Maintenance
		want     string
		colour   string
	}{
		{"no components", nil, nil, "operational", "#1f883d"},
		{"all operational", []models.ComponentStatus{models.StatusOperational, models.StatusOperational}, nil, "operational", "#1f883d"},
		{"one degraded", []models.ComponentStatus{models.StatusOperational, models.StatusDegradedPerformance}, nil, "degraded", "#b08800"},
		{"some partial outage is a minor outage", []models.ComponentStatus{models.StatusPartialOutage, models.StatusDegradedPerformance}, nil, "minor outage", "#b08800"},
		{"every component partial", []models.ComponentStatus{models.StatusPartialOutage, models.StatusPartialOutage}, nil, "partial outage", "#d1570b"},
		{"some major outage is partial", []models.ComponentStatus{models.StatusPartialOutage, models.StatusMajorOutage, models.StatusUnderMaintenance}, nil, "partial outage", "#d1570b"},
		{"every component major", []models.ComponentStatus{models.StatusMajorOutage, models.StatusMajorOutage}, nil, "major outage", "#cf222e"},
		{"component under maintenance", []models.ComponentStatus{models.StatusOperational, models.StatusUnderMaintenance}, nil, "maintenance", "#0969da"},
		{"window in progress", []models.ComponentStatus{models.StatusOperational}, inProgress, "maintenance", "#0969da"},
		{"outage during a window", []models.ComponentStatus{models.StatusMajorOutage}, inProgress, "major outage", "#cf222e"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := badgeTestData(tc.statuses...)
			d.Active = tc.active
			s := badgeTestRead(t, PageBadge(d))
			if s.title != "status: "+tc.want || s.fills[1] != tc.colour || s.texts[0] != "status" {
				t.Errorf("badge %q %v %v, want status: %s in %s", s.title, s.fills, s.texts, tc.want, tc.colour)
			}
		})
	}
}

func TestComponentBadgeOnlyForVisibleComponents(t *testing.T) {
	d := badgeTestData(models.StatusOperational, models.StatusMajorOutage)
	d.Components[1].Visible = false
	for _, id := range []int64{2, 3, 0, -1} {
		if svg, ok := ComponentBadge(d, id); ok || svg != nil {
			t.Errorf("component %d: ok=%v, %d bytes; want no badge", id, ok, len(svg))
		}
	}
	if _, ok := ComponentBadge(d, 1); !ok {
		t.Error("visible component 1 has no badge")
	}
}

func TestBadgeEscapesComponentNames(t *testing.T) {
	name := `<script>alert(1)</script> & "DB" 'x'`
	d := &Data{Components: []models.Component{{ID: 7, Name: name, Visible: true, Status: models.StatusOperational}}}
	svg, _ := ComponentBadge(d, 7)
	if bytes.Contains(svg, []byte("<script")) {
		t.Fatalf("raw markup in the badge:\n%s", svg)
	}
	s := badgeTestRead(t, svg)
	if s.title != name+": operational" || s.ariaLabel != name+": operational" || s.texts[0] != name {
		t.Errorf("name did not survive: title %q, aria-label %q, text %q", s.title, s.ariaLabel, s.texts[0])
	}
	for _, n := range badgeTestParse(t, svg) {
		if n.name == "script" {
			t.Error("component name became a <script> element")
		}
	}
}

func TestBadgeWidthFollowsText(t *testing.T) {
	width := func(name string) int {
		d := &Data{Components: []models.Component{{ID: 1, Name: name, Visible: true, Status: models.StatusOperational}}}
		svg, _ := ComponentBadge(d, 1)
		return badgeTestRead(t, svg).width
	}
	short, long := width("API"), width("API and customer dashboard")
	if long <= short {
		t.Errorf("longer name is not wider: %d vs %d", long, short)
	}
	if wide, narrow := width("WWWW"), width("iiii"); wide <= narrow {
		t.Errorf("WWWW (%d px) not wider than iiii (%d px)", wide, narrow)
	}
	if cjk := width("数据库"); cjk < width("abc") {
		t.Errorf("CJK name too narrow: %d", cjk)
	}
	// Roughly like shields.io: "status" + "operational" is about 108 px.
	if w := badgeTestRead(t, PageBadge(&Data{})).width; w < 95 || w > 120 {
		t.Errorf("status: operational badge is %d px wide", w)
	}
	if a, b := PageBadge(&Data{}), PageBadge(&Data{}); !bytes.Equal(a, b) {
		t.Error("same data gave different badges")
	}
}

func TestBadgeLayoutAddsUp(t *testing.T) {
	svg := PageBadge(badgeTestData(models.StatusPartialOutage))
	nodes := badgeTestParse(t, svg)
	total, _ := strconv.Atoi(nodes[0].attrs["width"])
	var rects []map[string]string
	for _, n := range nodes {
		if n.name == "rect" && n.attrs["height"] == "20" && n.attrs["fill"] != "url(#s)" && n.attrs["fill"] != "#fff" {
			rects = append(rects, n.attrs)
		}
	}
	if len(rects) != 2 {
		t.Fatalf("want two halves, got %v", rects)
	}
	left, _ := strconv.Atoi(rects[0]["width"])
	right, _ := strconv.Atoi(rects[1]["width"])
	if rects[1]["x"] != strconv.Itoa(left) || left+right != total {
		t.Errorf("halves %d + %d at x=%s, total %d", left, right, rects[1]["x"], total)
	}
	if want := badgeTextWidth("status") + 2*badgePadding; left != want {
		t.Errorf("label half %d px, want text + padding = %d", left, want)
	}
}

func TestBadgeWidthTableCoversPrintableASCII(t *testing.T) {
	for i, w := range badgeASCIIWidths {
		if w < 25 || w > 120 {
			t.Errorf("width of %q is %d tenths", rune(' '+i), w)
		}
	}
	if badgeTextWidth("") != 0 || badgeTextWidth("e\u0301") != badgeTextWidth("e") {
		t.Error("empty text or combining mark takes room")
	}
}

func TestStatusTitleDoesNotRepeatStatus(t *testing.T) {
	for name, want := range map[string]string{"Acme": "Acme status", "Acme Cloud Status": "Acme Cloud Status",
		"Status": "Status", " Acme status ": "Acme status", "Statuses": "Statuses status"} {
		if got := StatusTitle(name); got != want {
			t.Errorf("StatusTitle(%q) = %q, want %q", name, got, want)
		}
	}
}
