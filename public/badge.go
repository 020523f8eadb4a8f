package public

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"strings"
	"unicode"

	"github.com/heraldstatus/herald/models"
)

// badgeLook is how a status shows on the right half of a badge.
type badgeLook struct {
	Message string
	Fill    string // UI.md status colour
	Text    string // text colour, dark where white would lack contrast
}

const badgeLabelFill = "#555"

// badgeLookFor maps a component status to its badge; unknown statuses are
// grey.
func badgeLookFor(s models.ComponentStatus) badgeLook {
	switch s {
	case models.StatusOperational:
		return badgeLook{"operational", "#1f883d", "#fff"}
	case models.StatusDegradedPerformance:
		return badgeLook{"degraded", "#b08800", "#1f2328"}
	case models.StatusPartialOutage:
		return badgeLook{"partial outage", "#d1570b", "#fff"}
	case models.StatusMajorOutage:
		return badgeLook{"major outage", "#cf222e", "#fff"}
	case models.StatusUnderMaintenance:
		return badgeLook{"maintenance", "#0969da", "#fff"}
	}
	return badgeLook{"unknown", "#9f9f9f", "#fff"}
}

// PageBadge is an SVG status badge in the shields.io flat style: a grey
// label on the left ("status" for the page, the component's name for a
// component) and the status on the right coloured by status (UI.md
// colours). The page's status is Indicator's, as on the banner and in
// /api/v2/status.json.
func PageBadge(d *Data) []byte {
	indicator, description := Indicator(d)
	look := badgeLookFor(IndicatorStatus(indicator))
	if indicator == "minor" && strings.Contains(description, "Outage") {
		look.Message = "minor outage"
	}
	return renderBadge("status", look)
}

// ComponentBadge is PageBadge for one component. ok is false for an
// unknown or invisible component id.
func ComponentBadge(d *Data, componentID int64) (svg []byte, ok bool) {
	for _, c := range d.Components {
		if c.ID == componentID && c.Visible {
			return renderBadge(c.Name, badgeLookFor(c.Status)), true
		}
	}
	return nil, false
}

// badgePadding is the space left and right of each text, in pixels.
const badgePadding = 5

// renderBadge draws the badge the way shields.io's flat template does:
// text is laid out at ten times its size and scaled down, for sub-pixel
// positioning, and textLength pins each text to its computed width so the
// result is the same whatever font the viewer has.
func renderBadge(label string, look badgeLook) []byte {
	labelText, messageText := badgeTextWidth(label), badgeTextWidth(look.Message)
	labelWidth, messageWidth := labelText+2*badgePadding, messageText+2*badgePadding
	width := labelWidth + messageWidth
	shadow := "#010101"
	if look.Text != "#fff" {
		shadow = "#ccc"
	}
	title := badgeEscape(label + ": " + look.Message)
	l, m := badgeEscape(label), badgeEscape(look.Message)

	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="20" role="img" aria-label="%s">`, width, title)
	fmt.Fprintf(&b, `<title>%s</title>`, title)
	b.WriteString(`<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient>`)
	fmt.Fprintf(&b, `<clipPath id="r"><rect width="%d" height="20" rx="3" fill="#fff"/></clipPath>`, width)
	fmt.Fprintf(&b, `<g clip-path="url(#r)"><rect width="%d" height="20" fill="%s"/><rect x="%d" width="%d" height="20" fill="%s"/><rect width="%d" height="20" fill="url(#s)"/></g>`,
		labelWidth, badgeLabelFill, labelWidth, messageWidth, look.Fill, width)
	b.WriteString(`<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" text-rendering="geometricPrecision" font-size="110">`)
	badgeText(&b, l, 5*labelWidth, labelText, "#fff", "#010101")
	badgeText(&b, m, 10*labelWidth+5*messageWidth, messageText, look.Text, shadow)
	b.WriteString(`</g></svg>`)
	return b.Bytes()
}

// badgeText writes one text with its shadow; x and the text length are in
// tenths of a pixel.
func badgeText(b *bytes.Buffer, text string, x, width int, fill, shadow string) {
	fmt.Fprintf(b, `<text aria-hidden="true" x="%d" y="150" fill="%s" fill-opacity=".3" transform="scale(.1)" textLength="%d">%s</text>`,
		x, shadow, 10*width, text)
	fmt.Fprintf(b, `<text x="%d" y="140" transform="scale(.1)" fill="%s" textLength="%d">%s</text>`,
		x, fill, 10*width, text)
}

func badgeEscape(s string) string {
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(s)) // writes to a bytes.Buffer cannot fail
	return b.String()
}

// badgeASCIIWidths are the advance widths of ' ' to '~' in Verdana at
// 11px, in tenths of a pixel (rounded), the font shields.io measures with.
var badgeASCIIWidths = [95]int{
	39, 43, 50, 90, 70, 118, 80, 30, 50, 50, 70, 90, 40, 50, 40, 50, // space to /
	70, 70, 70, 70, 70, 70, 70, 70, 70, 70, // 0 to 9
	50, 50, 90, 90, 90, 60, 110, // : to @
	75, 75, 77, 85, 70, 63, 85, 83, 46, 50, 76, 61, 93, // A to M
	82, 87, 66, 87, 77, 75, 68, 81, 75, 109, 75, 68, 75, // N to Z
	50, 50, 50, 90, 70, 70, // [ to `
	66, 69, 57, 69, 66, 39, 69, 70, 30, 38, 65, 30, 107, // a to m
	70, 67, 69, 69, 47, 57, 43, 70, 65, 90, 65, 65, 58, // n to z
	70, 50, 70, 90, // { to ~
}

// badgeTextWidth estimates the width of s in whole pixels. It only needs
// to be close and deterministic: textLength makes the font fit it.
func badgeTextWidth(s string) int {
	tenths := 0
	for _, r := range s {
		switch {
		case r >= ' ' && r <= '~':
			tenths += badgeASCIIWidths[r-' ']
		case unicode.Is(unicode.Mn, r) || unicode.IsControl(r):
			// combining marks and controls take no room
		case badgeWide(r):
			tenths += 110
		default:
			tenths += 70
		}
	}
	return (tenths + 9) / 10
}

// badgeWide reports whether r is a wide (CJK, Hangul, emoji) character.
func badgeWide(r rune) bool {
	return unicode.In(r, unicode.Han, unicode.Hangul, unicode.Hiragana, unicode.Katakana) ||
		(r >= 0x1F300 && r <= 0x1FAFF) || (r >= 0xFF01 && r <= 0xFF60)
}

// UnknownBadge is the grey "unknown" badge answered, with status 404, for
// a component that does not exist or is hidden: an embedded image still
// shows something.
func UnknownBadge() []byte { return renderBadge("component", badgeLookFor("")) }

// Favicon is the page's icon: a disc in the colour of the overall status
// (Indicator), the same colour as the page badge.
func Favicon(d *Data) []byte {
	indicator, _ := Indicator(d)
	look := badgeLookFor(IndicatorStatus(indicator))
	return []byte(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><circle cx="16" cy="16" r="14" fill="` +
		look.Fill + `"/><circle cx="16" cy="16" r="6" fill="#fff"/></svg>`)
}

// StatusTitle is name followed by "status", unless name already ends in
// it ("Acme Cloud Status" stays as it is).
func StatusTitle(name string) string {
	name = strings.TrimSpace(name)
	if strings.HasSuffix(strings.ToLower(name), "status") {
		return name
	}
	return name + " status"
}

// PrivateBadge is the badge a private page answers a visitor without
// access: "status: private", grey, nothing of the page.
func PrivateBadge() []byte {
	return renderBadge("status", badgeLook{"private", "#9f9f9f", "#fff"})
}

// PrivateFavicon is the icon a private page answers a visitor without
// access: a grey disc, whatever the status.
func PrivateFavicon() []byte {
	return []byte(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><circle cx="16" cy="16" r="14" fill="#9f9f9f"/><circle cx="16" cy="16" r="6" fill="#fff"/></svg>`)
}
