package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
	"github.com/heraldstatus/herald/web/webtest"
)

// webURLCases are channel URLs an admin may type, with what Herald
// stores or a piece of the message that refuses them.
var webURLCases = []struct{ in, want, err string }{
	{in: "https://Hooks.Example.com/in", want: "https://hooks.example.com/in"},
	{in: "https://hooks.example.com", want: "https://hooks.example.com/"},
	{in: "https://hooks.example.com:/in?a=b%20c", want: "https://hooks.example.com/in?a=b%20c"},
	{in: "https://bücher.example/straße?q=été", want: "https://xn--bcher-kva.example/stra%C3%9Fe?q=%C3%A9t%C3%A9"},
	{in: "https://hooks.example.com/a|b?x={y}", want: "https://hooks.example.com/a%7Cb?x=%7By%7D"},
	{in: "https://bot:s3cret@hooks.example.com/in", want: "https://bot:s3cret@hooks.example.com/in"},
	{in: "http://[2001:DB8::1]:8080/hook", want: "http://[2001:db8::1]:8080/hook"},
	{in: "https://hooks.example.com/in?a=b c", err: "Remove the space at character 33, or write it as %20."},
	{in: "https://hooks.example.com/in%zz", err: "“%zz” at character 29 is not a percent-escape: write a % sign as %25."},
	{in: "https://hooks.example.com/in#top", err: "Remove the #fragment"},
	{in: "https:///in", err: "Enter the host name after https://"},
	{in: "https://hooks.example.com:70000/in", err: "The port must be a number from 1 to 65535, not “70000”."},
	{in: "https://hooks..example.com/in", err: "is not a valid host name"},
	{in: "https://hooks.example.com/\u00a0in", err: "Remove the space character U+00A0"},
	{in: "gopher://hooks.example.com/in", err: "Enter a full http:// or https:// URL"},
}

// fieldErrorText is the error shown under a form field, or "".
func fieldErrorText(body, field string) string {
	_, rest, ok := strings.Cut(body, `<p class="error" id="e-`+field+`">`)
	if !ok {
		return ""
	}
	text, _, _ := strings.Cut(rest, "</p>")
	return html.UnescapeString(text)
}

// TestChannelURLsAreValidatedStrictly sends the table through the admin
// form and the API on both engines: a good URL is stored normalised, a
// bad one is a 422 that says why, on the url field, and writes nothing.
// The logo URL of the settings follows the same rules.
func TestChannelURLsAreValidatedStrictly(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		ctx := context.Background()
		c := s.SetUp(t)
		_, token := createToken(t, c, "Channels", models.ScopeChannelsWrite)
		for _, tc := range webURLCases {
			before := countTextTables(t, s)
			res := c.Submit("/admin/channels/new", "/admin/channels", url.Values{"type": {"webhook"}, "name": {"Hook"}, "url": {tc.in}, "enabled": {"1"}})
			if tc.err != "" {
				if res.Status != http.StatusUnprocessableEntity || !strings.Contains(fieldErrorText(res.Body, "url"), tc.err) {
					t.Errorf("form %q: %d, want 422 with %q under the URL\n%s", tc.in, res.Status, tc.err, errorText(res.Body))
				}
				wantSameRows(t, "form "+tc.in, before, countTextTables(t, s))
				body, _ := json.Marshal(map[string]string{"type": "webhook", "name": "Hook", "url": tc.in})
				got := apiCall(t, s, token, "POST", "/api/v1/channels", string(body))
				if got.Status != http.StatusUnprocessableEntity || got.Err.Field != "url" || !strings.Contains(got.Err.Message, tc.err) {
					t.Errorf("API %q: %d %q %q, want 422 on url with %q", tc.in, got.Status, got.Err.Field, got.Err.Message, tc.err)
				}
				wantSameRows(t, "API "+tc.in, before, countTextTables(t, s))
				continue
			}
			if res.Status != http.StatusSeeOther {
				t.Errorf("form %q: %d, want 303\n%s", tc.in, res.Status, errorText(res.Body))
				continue
			}
			ch, err := s.Store.Channel(ctx, idFromLocation(t, res, "/admin/channels/"))
			modelstest.Fatal(t, err, "channel")
			if ch.URL != tc.want {
				t.Errorf("form %q stored %q, want %q", tc.in, ch.URL, tc.want)
			}
			body, _ := json.Marshal(map[string]string{"type": "webhook", "name": "Hook", "url": tc.in})
			created := createAPIChannel(t, s, token, string(body))
			ch, err = s.Store.Channel(ctx, apiIDOf(t, created.ID))
			modelstest.Fatal(t, err, "channel")
			if ch.URL != tc.want {
				t.Errorf("API %q stored %q, want %q", tc.in, ch.URL, tc.want)
			}
		}

		settings := func(logo string) webtest.Response {
			return c.Submit("/admin/settings", "/admin/settings", url.Values{"name": {"Acme Status"}, "logo_url": {logo},
				"accent_color": {models.Accents[0]}, "time_zone": {"UTC"}})
		}
		if res := settings("https://CDN.example.com/logos/été.svg"); res.Status != http.StatusSeeOther {
			t.Errorf("good logo: %d\n%s", res.Status, errorText(res.Body))
		}
		p, err := s.Store.Page(ctx, models.DefaultPageID)
		modelstest.Fatal(t, err, "page")
		if p.LogoURL != "https://cdn.example.com/logos/%C3%A9t%C3%A9.svg" {
			t.Errorf("logo stored as %q", p.LogoURL)
		}
		for logo, msg := range map[string]string{
			"https://cdn.example.com/my logo.svg":   "Remove the space at character 27",
			"https://cdn.example.com/logo.svg%":     "is not a percent-escape",
			"https://u:p@cdn.example.com/logo.svg":  "The logo address cannot carry a user name or password",
			"https://cdn.example.com:0/logo.svg":    "The port must be a number from 1 to 65535",
			"http://cdn.example.com/logo.svg":       "Use an https:// address",
			"https://cdn.example.com/logo.svg#dark": "Remove the #fragment",
		} {
			res := settings(logo)
			if res.Status != http.StatusUnprocessableEntity || !strings.Contains(fieldErrorText(res.Body, "logo_url"), msg) {
				t.Errorf("logo %q: %d, want 422 with %q\n%s", logo, res.Status, msg, errorText(res.Body))
			}
		}
	})
}

// TestChannelURLIsSentAsStored: a URL with an encoded space, a non-ASCII
// character and braces in its query is stored normalised, and the
// receiver gets exactly that request line, on both engines; the same URL
// with a raw space is refused instead of sent broken.
func TestChannelURLIsSentAsStored(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		ctx := context.Background()
		var mu sync.Mutex
		var got []*http.Request
		rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			got = append(got, r)
			mu.Unlock()
			w.WriteHeader(http.StatusNoContent)
		}))
		defer rc.Close()
		c := s.SetUp(t)
		_, token := createToken(t, c, "Channels", models.ScopeChannelsWrite)

		res := c.Submit("/admin/channels/new", "/admin/channels", url.Values{"type": {"webhook"}, "name": {"Hook"},
			"url": {rc.URL + "/hook?q=a b&who=café"}, "enabled": {"1"}})
		if res.Status != http.StatusUnprocessableEntity || !strings.Contains(res.Body, "Remove the space at character") {
			t.Fatalf("a raw space in the query: %d, want 422\n%s", res.Status, errorText(res.Body))
		}
		res = c.Submit("/admin/channels/new", "/admin/channels", url.Values{"type": {"webhook"}, "name": {"Hook"},
			"url": {rc.URL + "/hook/été?q=a%20b&who=café&x={1}&y=a+b"}, "enabled": {"1"}})
		if res.Status != http.StatusSeeOther {
			t.Fatalf("create: %d\n%s", res.Status, errorText(res.Body))
		}
		id := idFromLocation(t, res, "/admin/channels/")
		const requestURI = "/hook/%C3%A9t%C3%A9?q=a%20b&who=caf%C3%A9&x=%7B1%7D&y=a+b"
		ch, err := s.Store.Channel(ctx, id)
		modelstest.Fatal(t, err, "channel")
		if ch.URL != rc.URL+requestURI {
			t.Errorf("stored %q, want %q", ch.URL, rc.URL+requestURI)
		}
		sent := apiCall(t, s, token, "POST", fmt.Sprintf("/api/v1/channels/%d/test", id), `{"event": "incident.created"}`)
		if sent.Status != http.StatusOK {
			t.Fatalf("test send: %d %s", sent.Status, sent.Body)
		}
		deadline := time.Now().Add(5 * time.Second)
		for {
			mu.Lock()
			n := len(got)
			mu.Unlock()
			if n > 0 || time.Now().After(deadline) {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		mu.Lock()
		defer mu.Unlock()
		if len(got) != 1 {
			t.Fatalf("the receiver got %d requests", len(got))
		}
		r := got[0]
		if r.RequestURI != requestURI {
			t.Errorf("request line carried %q, want %q", r.RequestURI, requestURI)
		}
		if q := r.URL.Query(); q.Get("q") != "a b" || q.Get("who") != "café" || q.Get("x") != "{1}" || r.URL.Path != "/hook/été" {
			t.Errorf("the receiver read path %q, query %v", r.URL.Path, q)
		}
	})
}
