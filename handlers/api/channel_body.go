package api

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/heraldstatus/herald/handlers/serve"
	"github.com/heraldstatus/herald/models"
)

// channelBody is the body of POST and PATCH /api/v1/channels. Fields left
// out keep their value (PATCH) or take the default (POST: enabled, every
// event, no extra headers, the default retry schedule).
//
// headers replaces the whole set; a value of "••••", as GET shows them,
// keeps that header's saved value. url left out, or sent back as the
// masked hint GET shows, keeps the saved URL.
type channelBody struct {
	Type          optional[string]            `json:"type"`
	Name          optional[string]            `json:"name"`
	URL           optional[string]            `json:"url"`
	Events        optional[[]string]          `json:"events"`
	Enabled       optional[bool]              `json:"enabled"`
	Headers       optional[map[string]string] `json:"headers"`
	RetrySchedule optional[[]string]          `json:"retry_schedule"`
	// PageID is the page a new channel goes on (default: the first
	// page); PATCH refuses it.
	PageID optional[apiID] `json:"page_id"`
}

func (b *channelBody) empty() bool {
	return !b.Type.Set && !b.Name.Set && !b.URL.Set && !b.Events.Set && !b.Enabled.Set && !b.Headers.Set && !b.RetrySchedule.Set
}

// enabledOnly reports whether the body only turns the channel on or off.
func (b *channelBody) enabledOnly() bool {
	rest := *b
	rest.Enabled = optional[bool]{}
	return b.Enabled.Set && rest.empty()
}

// channelRequest is a body turned into the models input, with what is
// needed to word the models' errors for the API.
type channelRequest struct {
	in models.ChannelInput
	// headerNames are the header names in the order of the lines of
	// in.HeadersText.
	headerNames []string
}

// input lays the body over cur's settings (nil on create). It refuses,
// before the models see them, what the admin form cannot send: a header
// set that would not survive the "Name: value" lines the models read, a
// type change, or a masked URL sent as the new one.
func (b *channelBody) input(cur *models.Channel) (*channelRequest, error) {
	var v models.Validator
	req := &channelRequest{in: models.ChannelInput{Enabled: true}}
	in := &req.in
	if cur != nil {
		in.Type, in.Name, in.Enabled = cur.Type, cur.Name, cur.Enabled
		in.Events, in.RetrySchedule = cur.EventList(), cur.RetrySchedule
		in.HeadersText = models.FormatHeaders(cur.Headers, true)
		for _, hd := range cur.Headers {
			req.headerNames = append(req.headerNames, hd.Name)
		}
	}
	if b.Type.Set {
		in.Type = models.ChannelType(b.Type.Value)
		if cur != nil && in.Type != cur.Type {
			v.Add("type", "A channel's type cannot change; create a new channel instead.")
		}
	}
	if b.Name.Set {
		in.Name = b.Name.Value
	}
	if b.URL.Set {
		u := strings.TrimSpace(b.URL.Value)
		switch {
		case cur != nil && u == cur.URLHint && strings.Contains(u, models.MaskedValue):
			// The masked URL of a GET, sent back: keep the saved one.
		case cur != nil && u == "":
			v.Add("url", "Enter the URL notifications are sent to, or leave url out to keep the saved one.")
		case strings.Contains(u, models.MaskedValue):
			v.Add("url", "This URL is masked (it contains ••••): send the full URL.")
		default:
			in.URL = u
		}
	}
	if b.Events.Set {
		in.Events = make([]models.EventType, len(b.Events.Value))
		for i, e := range b.Events.Value {
			in.Events[i] = models.EventType(e)
		}
	}
	if b.Enabled.Set {
		in.Enabled = b.Enabled.Value
	}
	if b.Headers.Set {
		in.HeadersText, req.headerNames = headerText(b.Headers.Value, &v)
	}
	if b.RetrySchedule.Set {
		for _, step := range b.RetrySchedule.Value {
			if strings.Contains(step, ",") {
				v.Add("retry_schedule", `Give one delay per item, such as ["0s", "1m", "5m"].`)
			}
		}
		in.RetrySchedule = strings.Join(b.RetrySchedule.Value, ", ")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	return req, nil
}

// headerText writes headers as the models read them, one "Name: value"
// line each, sorted by name, and returns the names in that order. Names
// and values that would break the lines apart are refused here.
func headerText(headers map[string]string, v *models.Validator) (string, []string) {
	names := slices.Sorted(maps.Keys(headers))
	seen := map[string]string{}
	var text strings.Builder
	for _, name := range names {
		value := headers[name]
		lower := strings.ToLower(name)
		switch {
		case !headerNameOK(name):
			v.Add("headers", fmt.Sprintf("“%s” is not a valid header name.", serve.Clip(name)))
		case strings.ContainsAny(value, "\r\n"):
			v.Add("headers", fmt.Sprintf("The value of %s contains a line break.", name))
		case seen[lower] != "":
			v.Add("headers", fmt.Sprintf("%s and %s are the same header; send it once.", seen[lower], name))
		}
		seen[lower] = name
		fmt.Fprintf(&text, "%s: %s\n", name, value)
	}
	return text.String(), names
}

// headerNameOK reports whether name is an HTTP field name (RFC 9110
// token) of at most 100 characters, as the models accept.
func headerNameOK(name string) bool {
	if name == "" || len(name) > 100 {
		return false
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("!#$%&'*+-.^_`|~", r)) {
			return false
		}
	}
	return true
}

// hints rewords the models' validation messages, written for the admin
// form ("Choose Webhook, Slack or Discord.", "line 2: …"), in the
// API's terms.
func (r *channelRequest) hints(err error) error {
	var ve *models.ValidationError
	if !errors.As(err, &ve) {
		return err
	}
	if ve.Fields["type"] != "" {
		names := make([]string, len(models.ChannelTypes))
		for i, t := range models.ChannelTypes {
			names[i] = string(t)
		}
		ve.Fields["type"] = "Use one of: " + strings.Join(names, ", ") + "."
	}
	if ve.Fields["events"] != "" {
		for _, e := range r.in.Events {
			if !slices.Contains(models.EventTypes, e) {
				ve.Fields["events"] = fmt.Sprintf("“%s” is not an event type. Use: %s (an empty list means every event).",
					serve.Clip(string(e)), eventTypeNames())
				break
			}
		}
	}
	if msg := ve.Fields["headers"]; msg != "" {
		ve.Fields["headers"] = r.headerHint(msg)
	}
	if ve.Fields["retry_schedule"] != "" {
		if _, perr := models.ParseRetrySchedule(r.in.RetrySchedule); perr != nil {
			ve.Fields["retry_schedule"] = `List delays such as "0s", "1m", "5m": ` + perr.Error() + "."
		}
	}
	return ve
}

// headerHint names the header of a "line N: …" message.
func (r *channelRequest) headerHint(msg string) string {
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		num, detail, _ := strings.Cut(rest, ": ")
		if n, err := strconv.Atoi(num); err == nil && n >= 1 && n <= len(r.headerNames) {
			msg = r.headerNames[n-1] + ": " + detail
		}
	}
	first, size := utf8.DecodeRuneInString(msg)
	msg = string(unicode.ToUpper(first)) + msg[size:]
	if !strings.HasSuffix(msg, ".") {
		msg += "."
	}
	return msg
}

// eventTypeNames lists every event type: "incident.created, …".
func eventTypeNames() string {
	names := make([]string, len(models.EventTypes))
	for i, e := range models.EventTypes {
		names[i] = string(e)
	}
	return strings.Join(names, ", ")
}
