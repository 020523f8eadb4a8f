package models_test

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
)

// URLCase is a URL an admin may type, with what Herald stores (good) or
// a piece of the message that refuses it (bad). The web tests send the
// same table through the admin form and the API.
type URLCase struct {
	Type models.ChannelType
	In   string
	Want string // the stored form, when accepted
	Err  string // part of the message, when refused
}

// URLCases is the table of good and bad channel URLs.
var URLCases = []URLCase{
	{In: "https://example.com/hooks/herald", Want: "https://example.com/hooks/herald"},
	{In: "HTTPS://Example.COM/Hooks/Herald", Want: "https://example.com/Hooks/Herald"},
	{In: "https://example.com", Want: "https://example.com/"},
	{In: "https://example.com?x=1", Want: "https://example.com/?x=1"},
	{In: "https://example.com:8443/a", Want: "https://example.com:8443/a"},
	{In: "http://example.com:/a", Want: "http://example.com/a"},
	{In: "http://example.com:080/a", Want: "http://example.com:80/a"},
	{In: "https://example.com/a%20b?q=a%20b&r=c+d", Want: "https://example.com/a%20b?q=a%20b&r=c+d"},
	{In: "https://example.com/a%2Fb%7e", Want: "https://example.com/a%2Fb%7e"},
	{In: "https://bücher.example/straße?q=été", Want: "https://xn--bcher-kva.example/stra%C3%9Fe?q=%C3%A9t%C3%A9"},
	{In: "https://BÜCHER.example/", Want: "https://xn--bcher-kva.example/"},
	{In: "https://example.com/a|b?x={y}&z=[1]&q=\"x\"", Want: "https://example.com/a%7Cb?x=%7By%7D&z=%5B1%5D&q=%22x%22"},
	{In: "https://example.com/a?b=c?d/e:f@g", Want: "https://example.com/a?b=c?d/e:f@g"},
	{In: "https://user:p%40ss@example.com/hook", Want: "https://user:p%40ss@example.com/hook"},
	{In: "http://[2001:DB8::1]:8080/hook", Want: "http://[2001:db8::1]:8080/hook"},
	{In: "http://127.0.0.1:9/hook", Want: "http://127.0.0.1:9/hook"},
	{In: "https://my_service.internal./x", Want: "https://my_service.internal./x"},
	{Type: models.ChannelSlack, In: "https://hooks.slack.com/services/T0/B0/XYZ", Want: "https://hooks.slack.com/services/T0/B0/XYZ"},

	{In: "https://example.com/hook?a=b c", Err: "Remove the space at character 29, or write it as %20."},
	{In: "https://exa mple.com/", Err: "Remove the space at character 12"},
	{In: "https://example.com/ho\tok", Err: "control character U+0009"},
	{In: "https://example.com/a\u00a0b", Err: "space character U+00A0"},
	{In: "https://example.com/a%zz", Err: "“%zz” at character 22 is not a percent-escape"},
	{In: "https://example.com/a?b=%2", Err: "“%2” at character 25 is not a percent-escape"},
	{In: "https://example.com/100%", Err: "“%” at character 24 is not a percent-escape"},
	{In: "https://example.com/#top", Err: "Remove the #fragment"},
	{In: "ftp://example.com/", Err: "Enter a full http:// or https:// URL"},
	{In: "example.com/hook", Err: "Enter a full http:// or https:// URL"},
	{In: "https:/example.com/hook", Err: "Enter a full http:// or https:// URL"},
	{In: "https:///hook", Err: "Enter the host name after https://"},
	{In: "https://:443/hook", Err: "Enter the host name after https://"},
	{In: "https://user@/hook", Err: "Enter the host name after https://"},
	{In: "https://example.com:0/", Err: "The port must be a number from 1 to 65535, not “0”."},
	{In: "https://example.com:65536/", Err: "not “65536”"},
	{In: "https://example.com:http/", Err: "not “http”"},
	{In: "https://ex%41mple.com/", Err: "“ex%41mple.com” is not a valid host name: “%” cannot appear in one."},
	{In: "https://-bad-.example/", Err: "is not a valid host name"},
	{In: "https://a..b/", Err: "is not a valid host name"},
	{In: "https://exa!mple.com/", Err: "“!” cannot appear in one"},
	{In: "https://[::1/hook", Err: "Close the IPv6 address"},
	{In: "https://[fe80::1%25en0]/", Err: "is not an IPv6 address"},
	{In: "https://[127.0.0.1]/", Err: "is not an IPv6 address"},
	{In: "https://2001:db8::1/", Err: "Write an IPv6 address in brackets"},
	{In: "https://xn--bcher-kva.example/\x00", Err: "U+0000"},
	{In: "https://ex\u2028ample.com/", Err: "space character U+2028"},
	{In: "https://hooks.example.com/" + models.MaskedValue, Err: "This URL is masked"},
	{Type: models.ChannelSlack, In: "http://hooks.slack.com/services/T0/B0/XYZ", Err: "Slack webhook URLs start with https://."},
	{Type: models.ChannelDiscord, In: "https://u:p@discord.com/api/webhooks/1/x", Err: "Discord webhook URLs cannot carry a user name or password"},
}

// TestNormalizeURL checks the table, and that a stored URL is sent as it
// is stored: normalising it again changes nothing, and Go's HTTP client
// puts exactly its path and query on the request line.
func TestNormalizeURL(t *testing.T) {
	for _, tc := range URLCases {
		typ := tc.Type
		if typ == "" {
			typ = models.ChannelWebhook
		}
		got, msg := models.CheckChannelURL(typ, tc.In)
		if tc.Err != "" {
			if !strings.Contains(msg, tc.Err) {
				t.Errorf("%s %q: %q, %q; want refused with %q", typ, tc.In, got, msg, tc.Err)
			}
			continue
		}
		if got != tc.Want || msg != "" {
			t.Errorf("%s %q: %q, %q; want %q", typ, tc.In, got, msg, tc.Want)
			continue
		}
		if again, msg := models.CheckChannelURL(typ, got); again != got {
			t.Errorf("%q normalises again to %q (%s)", got, again, msg)
		}
		u, err := url.Parse(got)
		if err != nil {
			t.Errorf("%q does not parse: %v", got, err)
			continue
		}
		_, pathQuery, _ := strings.Cut(strings.TrimPrefix(strings.TrimPrefix(got, "https://"), "http://"), "/")
		if u.RequestURI() != "/"+pathQuery || u.String() != got {
			t.Errorf("%q: sent as %q, printed as %q", got, u.RequestURI(), u.String())
		}
	}
}

// TestChannelAndLogoURLsAreStoredNormalised: on both engines the store
// keeps the normalised URL, refuses a bad one with a message on the url
// field, and applies the same rules to the page's logo (https only, no
// user:password).
func TestChannelAndLogoURLsAreStoredNormalised(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		for _, tc := range URLCases {
			typ := tc.Type
			if typ == "" {
				typ = models.ChannelWebhook
			}
			c, err := s.CreateChannel(ctx, models.DefaultPageID, models.ChannelInput{Type: typ, Name: "Hook", URL: tc.In, Enabled: true})
			if tc.Err != "" {
				var ve *models.ValidationError
				if !errors.As(err, &ve) || !strings.Contains(ve.Fields["url"], tc.Err) {
					t.Errorf("%q: %v, want %q on url", tc.In, err, tc.Err)
				}
				continue
			}
			modelstest.Fatal(t, err, "create %q", tc.In)
			got, err := s.Channel(ctx, c.ID)
			modelstest.Fatal(t, err, "reload")
			if got.URL != tc.Want {
				t.Errorf("%q stored as %q, want %q", tc.In, got.URL, tc.Want)
			}
		}
		page := models.PageInput{Name: "Acme", AccentColor: models.Accents[0], TimeZone: "UTC"}
		for in, want := range map[string]string{
			"https://Example.com/logo.svg":    "https://example.com/logo.svg",
			"https://cdn.example/été/l o.png": "",
			"https://cdn.example/été/logo":    "https://cdn.example/%C3%A9t%C3%A9/logo",
			"http://example.com/logo.svg":     "",
			"https://u:p@example.com/l.svg":   "",
			"https://example.com/l.svg#x":     "",
		} {
			page.LogoURL = in
			p, err := s.UpdatePage(ctx, models.DefaultPageID, page)
			if want == "" {
				assertFieldError(t, err, "logo_url")
				continue
			}
			modelstest.Fatal(t, err, "logo %q", in)
			if p.LogoURL != want {
				t.Errorf("logo %q stored as %q, want %q", in, p.LogoURL, want)
			}
		}
	})
}
