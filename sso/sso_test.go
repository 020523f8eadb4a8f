package sso

import (
	"testing"

	"github.com/heraldstatus/herald/models"
)

// The highest role any matching domain or group gives wins; domains match
// whole, ignoring case; group names match exactly.
func TestRoleMapping(t *testing.T) {
	domains, err := ParseMapping("example.com=operator,Corp.Example=viewer", true)
	if err != nil {
		t.Fatal(err)
	}
	groups, err := ParseMapping("herald-admins=admin, oncall=operator", false)
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Domains: domains, Groups: groups}
	cases := []struct {
		email  string
		groups []string
		want   models.Role
		ok     bool
	}{
		{"a@example.com", nil, models.RoleOperator, true},
		{"a@EXAMPLE.com", nil, models.RoleOperator, true},
		{"a@corp.example", nil, models.RoleViewer, true},
		{"a@corp.example", []string{"oncall"}, models.RoleOperator, true},
		{"a@example.com", []string{"herald-admins", "oncall"}, models.RoleAdmin, true},
		{"a@elsewhere.example", []string{"Herald-Admins"}, "", false},
		{"a@sub.example.com", nil, "", false},
		{"a@notexample.com", nil, "", false},
		{"", []string{"oncall"}, models.RoleOperator, true},
	}
	for _, tc := range cases {
		got, ok := cfg.role(&Identity{Email: tc.email, Groups: tc.groups})
		if got != tc.want || ok != tc.ok {
			t.Errorf("%s %v: %q %v, want %q %v", tc.email, tc.groups, got, ok, tc.want, tc.ok)
		}
	}
	for _, bad := range []string{"example.com", "=admin", "example.com=root"} {
		if _, err := ParseMapping(bad, true); err == nil {
			t.Errorf("ParseMapping(%q) accepted", bad)
		}
	}
}
