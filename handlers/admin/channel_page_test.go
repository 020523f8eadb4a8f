package admin

import (
	"strings"
	"testing"

	views "github.com/heraldstatus/herald/views/admin"
)

func TestTestFlashNamesTheFallback(t *testing.T) {
	cases := []struct {
		name string
		a    views.AttemptView
		kind string
		has  string
	}{
		{"delivered", views.AttemptView{Number: 1, Duration: "12 ms", Response: views.HTTPStatus{Code: 200, OK: true}}, "success", "Test sent: HTTP 200 in 12 ms."},
		{"refused", views.AttemptView{Number: 1, Duration: "9 ms", Response: views.HTTPStatus{Code: 400}}, "error", "the receiver answered HTTP 400"},
		{"fallback delivered", views.AttemptView{Number: 2, Duration: "8 ms", Response: views.HTTPStatus{Code: 200, OK: true}}, "warning", "the plain-text fallback was sent: HTTP 200"},
		{"fallback refused", views.AttemptView{Number: 2, Duration: "8 ms", Response: views.HTTPStatus{Code: 400}}, "error", "the receiver answered HTTP 400"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := testFlash(tc.a)
			if f.Kind != tc.kind || !strings.Contains(f.Text, tc.has) {
				t.Errorf("flash %s %q, want %s with %q", f.Kind, f.Text, tc.kind, tc.has)
			}
		})
	}
}
