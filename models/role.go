package models

import (
	"fmt"
	"slices"
)

// Role is what a team member may do. Each role can do everything the one
// before it can.
type Role string

// The roles, least powerful first.
const (
	// RoleViewer reads the admin and changes nothing.
	RoleViewer Role = "viewer"
	// RoleOperator runs incidents and maintenance, sets component
	// statuses, sends tests and replays deliveries.
	RoleOperator Role = "operator"
	// RoleAdmin does everything: components and groups, channels and
	// their secrets, users, tokens and settings.
	RoleAdmin Role = "admin"
)

// Roles lists the roles, least powerful first.
var Roles = []Role{RoleViewer, RoleOperator, RoleAdmin}

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return slices.Contains(Roles, r) }

// AtLeast reports whether r has all the powers of min. An unknown role
// has none.
func (r Role) AtLeast(min Role) bool {
	have, want := slices.Index(Roles, r), slices.Index(Roles, min)
	return have >= 0 && want >= 0 && have >= want
}

// Label is the role as the admin shows it.
func (r Role) Label() string {
	switch r {
	case RoleViewer:
		return "Viewer"
	case RoleOperator:
		return "Operator"
	case RoleAdmin:
		return "Admin"
	}
	return string(r)
}

// Describe says in a sentence what the role may do.
func (r Role) Describe() string {
	switch r {
	case RoleViewer:
		return "Reads everything in the admin and changes nothing."
	case RoleOperator:
		return "Reports incidents, runs maintenance, sets component statuses, sends tests and replays deliveries."
	case RoleAdmin:
		return "Everything, including components, channels and their secrets, users, API tokens and settings."
	}
	return ""
}

// ParseRole reads a role's name, as forms, the API and the command line
// send it.
func ParseRole(s string) (Role, error) {
	r := Role(s)
	if !r.Valid() {
		return "", fmt.Errorf("%q is not a role: choose viewer, operator or admin", s)
	}
	return r, nil
}

// roleScopes are the API token scopes a role may hold. Subscriber
// addresses are personal data, for admins only (as users' addresses are). A token never
// grants more than its owner's role: a token of a demoted user shrinks
// with them (Token.Can checks both).
var roleScopes = map[Role][]Scope{
	RoleViewer:   {ScopeRead},
	RoleOperator: {ScopeRead, ScopeComponentsWrite, ScopeIncidentsWrite, ScopeMaintenanceWrite, ScopeChannelsWrite},
	RoleAdmin:    Scopes,
}

// ScopesFor lists the scopes a user with role r may give a token.
func ScopesFor(r Role) []Scope { return roleScopes[r] }

// RoleAllowsScope reports whether role r may hold scope sc.
func RoleAllowsScope(r Role, sc Scope) bool { return slices.Contains(roleScopes[r], sc) }
