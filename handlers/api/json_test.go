package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/heraldstatus/herald/handlers/serve"
	"github.com/labstack/echo/v4"
)

func decodeBody(body string, dst any) error {
	req := httptest.NewRequest(http.MethodPost, "/api/v1/components", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	c := echo.New().NewContext(req, httptest.NewRecorder())
	return decodeJSON(c, dst)
}

func TestDecodeJSON(t *testing.T) {
	cases := []struct {
		name, body  string
		code, field string
	}{
		{"object", `{"name":"API","group_id":"12","visible":false}`, "", ""},
		{"id as number", `{"group_id":12}`, "", ""},
		{"null group", `{"group_id":null}`, "", ""},
		{"trailing white space", "{}\n\t ", "", ""},
		{"unknown field", `{"nam":"x"}`, "unknown_field", "nam"},
		{"string for bool", `{"visible":"true"}`, "invalid_type", "visible"},
		{"null for a string", `{"status":null}`, "invalid_type", "status"},
		{"object for a string", `{"name":{}}`, "invalid_type", "name"},
		{"fractional id", `{"group_id":1.5}`, "invalid_type", "group_id"},
		{"zero id", `{"group_id":"0"}`, "invalid_type", "group_id"},
		{"huge id", `{"group_id":"99999999999999999999"}`, "invalid_type", "group_id"},
		{"number body", `12`, "invalid_type", ""},
		{"null body", `null`, "invalid_type", ""},
		{"truncated", `{"name":"x"`, "invalid_json", ""},
		{"garbage", `<xml/>`, "invalid_json", ""},
		{"trailing value", `{} []`, "invalid_json", ""},
		{"trailing garbage", `{} x`, "invalid_json", ""},
		{"empty", ``, "invalid_json", ""},
		{"white space only", "  \n", "invalid_json", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var body componentBody
			err := decodeBody(tc.body, &body)
			if tc.code == "" {
				if err != nil {
					t.Fatalf("err = %v, want none", err)
				}
				return
			}
			var p *serve.Problem
			if !errors.As(err, &p) || p.Code != tc.code || p.Field != tc.field {
				t.Fatalf("err = %#v, want %s on %q", err, tc.code, tc.field)
			}
		})
	}
	var body componentBody
	if err := decodeBody(`{"name":"API","group_id":null}`, &body); err != nil || !body.Name.Set || body.Name.Value != "API" ||
		!body.GroupID.Set || body.GroupID.ID != nil || body.Status.Set || body.Visible.Set {
		t.Fatalf("decoded %+v, %v", body, err)
	}
}

// FuzzDecodeJSON: whatever the body, decoding either succeeds or explains
// itself with a 4xx; it never panics.
func FuzzDecodeJSON(f *testing.F) {
	for _, seed := range []string{`{"name":"API"}`, `{"group_id":"1"}`, `{"group_id":null,"visible":true}`, `{"name":5}`,
		`[]`, `{`, `{"x":1}`, `{} {}`, `"\u0000"`, `{"name":"\ud800"}`, ``} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, dst := range []any{&componentBody{}, &groupBody{}} {
			err := decodeBody(s, dst)
			if err == nil {
				if _, merr := json.Marshal(dst); merr != nil {
					t.Fatalf("decoded %q into something unprintable: %v", s, merr)
				}
				continue
			}
			var p *serve.Problem
			if !errors.As(err, &p) || p.Status < 400 || p.Status > 499 || p.Code == "" || p.Message == "" {
				t.Fatalf("body %q: %#v, want a 4xx problem", s, err)
			}
		}
	})
}

func TestDecodeJSONRefusesLoneSurrogates(t *testing.T) {
	var dst struct {
		Name string `json:"name"`
	}
	for _, body := range []string{`{"name": "\ud800"}`, `{"name": "a\udc00b"}`, `{"name": "\ud800\u0041"}`, `{"name": "\\\ud83d"}`} {
		var p *serve.Problem
		if err := decodeBody(body, &dst); !errors.As(err, &p) || p.Status != http.StatusBadRequest || !strings.Contains(p.Message, "surrogate") {
			t.Errorf("%s: %v, want a 400 about a surrogate", body, err)
		}
	}
	for body, want := range map[string]string{
		`{"name": "\ud83d\ude00"}`: "😀", // a pair is one character
		`{"name": "\\ud800"}`:      `\ud800`,
		`{"name": "\u00e9\n"}`:     "é\n",
	} {
		if err := decodeBody(body, &dst); err != nil || dst.Name != want {
			t.Errorf("%s: %q, %v; want %q", body, dst.Name, err, want)
		}
	}
}
