package api

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/labstack/echo/v4"
)

// apiOperation describes one /api/v1 endpoint for the OpenAPI document.
// A test checks that this list and the registered routes are the same.
type apiOperation struct {
	Method, Path string // Path in Echo syntax, relative to /api/v1
	Summary      string
	Scope        models.Scope
	Tag          string
	Request      any // a value of the Go type decoded from the body, if any
	Status       int // success status
	Response     any // a value of the Go type of the success body, if any
	Paged        bool
	Query        []string // query parameters besides page and per_page
	// NoIdempotency: a POST whose answer holds a secret shown once, or
	// personal data that must go when it is deleted, takes no
	// Idempotency-Key (the stored answer would keep it).
	NoIdempotency bool
}

// apiOperations is every /api/v1 endpoint.
var apiOperations = []apiOperation{
	{Method: "GET", Path: "/components", Summary: "List the components of a page: page_id, else the token's page (422 for an unknown page or a page the token does not reach)", Scope: models.ScopeRead, Tag: "components", Status: 200, Response: []apiComponent{}, Query: []string{"page_id"}},
	{Method: "POST", Path: "/components", Summary: "Create a component on page_id (default: the token's page; 422 for an unknown page or a page the token does not reach); the fields may come inside {\"component\": …}", Scope: models.ScopeComponentsWrite, Tag: "components", Request: componentBody{}, Status: 201, Response: apiComponent{}},
	{Method: "GET", Path: "/components/:id", Summary: "Get a component", Scope: models.ScopeRead, Tag: "components", Status: 200, Response: apiComponent{}},
	{Method: "PATCH", Path: "/components/:id", Summary: "Update a component, its status and position included; the fields may come inside {\"component\": …}", Scope: models.ScopeComponentsWrite, Tag: "components", Request: componentBody{}, Status: 200, Response: apiComponent{}},
	{Method: "DELETE", Path: "/components/:id", Summary: "Delete a component", Scope: models.ScopeComponentsWrite, Tag: "components", Status: 204},
	{Method: "GET", Path: "/groups", Summary: "List the component groups of a page: page_id, else the token's page (422 for an unknown page or a page the token does not reach)", Scope: models.ScopeRead, Tag: "components", Status: 200, Response: []apiGroup{}, Query: []string{"page_id"}},
	{Method: "POST", Path: "/groups", Summary: "Create a group on page_id (default: the token's page; 422 for an unknown page or a page the token does not reach); the fields may come inside {\"group\": …}", Scope: models.ScopeComponentsWrite, Tag: "components", Request: groupBody{}, Status: 201, Response: apiGroup{}},
	{Method: "GET", Path: "/groups/:id", Summary: "Get a group", Scope: models.ScopeRead, Tag: "components", Status: 200, Response: apiGroup{}},
	{Method: "PATCH", Path: "/groups/:id", Summary: "Update a group, its position included; the fields may come inside {\"group\": …}", Scope: models.ScopeComponentsWrite, Tag: "components", Request: groupBody{}, Status: 200, Response: apiGroup{}},
	{Method: "DELETE", Path: "/groups/:id", Summary: "Delete a group; its components become ungrouped", Scope: models.ScopeComponentsWrite, Tag: "components", Status: 204},
	{Method: "GET", Path: "/channels", Summary: "List (on page_id, default the token's page) notification channels, credentials masked", Scope: models.ScopeRead, Tag: "channels", Status: 200, Response: []apiChannel{}, Query: []string{"page_id"}},
	{Method: "POST", Path: "/channels", Summary: "On page_id (default: the token's page; 422 for an unknown page or a page the token does not reach). Create a channel; a webhook's answer carries its signing_secret, shown this once", Scope: models.ScopeChannelsWrite, Tag: "channels", Request: channelBody{}, Status: 201, Response: apiChannel{}},
	{Method: "GET", Path: "/channels/:id", Summary: "Get a channel, credentials masked", Scope: models.ScopeRead, Tag: "channels", Status: 200, Response: apiChannel{}},
	{Method: "PATCH", Path: "/channels/:id", Summary: "Update a channel; url left out keeps the saved one", Scope: models.ScopeChannelsWrite, Tag: "channels", Request: channelBody{}, Status: 200, Response: apiChannel{}},
	{Method: "DELETE", Path: "/channels/:id", Summary: "Delete a channel with its delivery log", Scope: models.ScopeChannelsWrite, Tag: "channels", Status: 204},
	{Method: "POST", Path: "/channels/:id/rotate-secret", Summary: "Rotate a webhook's signing secret; the answer carries the new one, shown this once", Scope: models.ScopeChannelsWrite, Tag: "channels", Status: 200, Response: apiChannel{}},
	{Method: "POST", Path: "/channels/:id/test", Summary: "Send a test event now; answers with the request and the receiver's response", Scope: models.ScopeChannelsWrite, Tag: "channels", Request: testBody{}, Status: 200, Response: apiTestResult{}},
	{Method: "GET", Path: "/channels/:id/deliveries", Summary: "List a channel's deliveries, newest first", Scope: models.ScopeRead, Tag: "channels", Status: 200, Response: []apiDelivery{}, Paged: true, Query: []string{"state", "event", "from", "to"}},
	{Method: "GET", Path: "/channels/:id/deliveries/:did", Summary: "Get a delivery with every attempt", Scope: models.ScopeRead, Tag: "channels", Status: 200, Response: apiDeliveryDetail{}},
	{Method: "POST", Path: "/channels/:id/send-skipped", Summary: "Send the deliveries the channel skipped while it was disabled (state skipped), oldest event first; 409 while it is disabled", Scope: models.ScopeChannelsWrite, Tag: "channels", Status: 202, Response: apiSkippedAnswer{}},
	{Method: "POST", Path: "/channels/:id/deliveries/:did/replay", Summary: "Replay a delivery (same X-Request-ID, fresh signature)", Scope: models.ScopeChannelsWrite, Tag: "channels", Status: 202, Response: apiDeliveryAnswer{}},
	{Method: "GET", Path: "/incidents", Summary: "List (on page_id, default the token's page) incidents, newest first; status is unresolved, resolved, investigating, identified or monitoring", Scope: models.ScopeRead, Tag: "incidents", Status: 200, Response: []apiIncident{}, Paged: true, Query: []string{"status", "page_id"}},
	{Method: "POST", Path: "/incidents", Summary: "On page_id (default: the token's page; 422 for an unknown page or a page the token does not reach). Open an incident with its first update, or back-fill a past one; deliver_notifications: false (default true) opens it without announcing it to any channel; notify_subscribers: false (default: as deliver_notifications) opens it without e-mailing subscribers; the fields may come inside {\"incident\": …}", Scope: models.ScopeIncidentsWrite, Tag: "incidents", Request: incidentBody{}, Status: 201, Response: apiIncident{}},
	{Method: "GET", Path: "/incidents/:id", Summary: "Get an incident with its updates, newest first", Scope: models.ScopeRead, Tag: "incidents", Status: 200, Response: apiIncident{}},
	{Method: "PATCH", Path: "/incidents/:id", Summary: "Correct the name (marked edited; channels hear of it only with deliver_notifications: true) and publish, edit or (with \"\") remove the postmortem; other fields change with an update", Scope: models.ScopeIncidentsWrite, Tag: "incidents", Request: struct {
		Name                 optional[string] `json:"name"`
		DeliverNotifications optional[bool]   `json:"deliver_notifications"`
		PostmortemBody       optional[string] `json:"postmortem_body"`
	}{}, Status: 200, Response: apiIncident{}},
	{Method: "DELETE", Path: "/incidents/:id", Summary: "Delete an incident and its timeline; component statuses stay", Scope: models.ScopeIncidentsWrite, Tag: "incidents", Status: 204},
	{Method: "POST", Path: "/incidents/:id/updates", Summary: "Post an update: status, message, impact and component statuses (impact_override: automatic makes a chosen impact follow the components again); deliver_notifications: false (default true) posts it without announcing it to any channel; notify_subscribers: false (default: as deliver_notifications) without e-mailing subscribers", Scope: models.ScopeIncidentsWrite, Tag: "incidents", Request: incidentUpdateBody{}, Status: 201, Response: apiIncidentUpdate{}},
	{Method: "PATCH", Path: "/incidents/:id/updates/:update_id", Summary: "Correct an update's body (marked edited; channels hear of it only with deliver_notifications: true); the fields may come inside {\"incident_update\": …}", Scope: models.ScopeIncidentsWrite, Tag: "incidents", Request: updatePatchBody{}, Status: 200, Response: apiIncidentUpdate{}},
	{Method: "POST", Path: "/incidents/:id/resolve", Summary: "Resolve an incident; its components go back to operational", Scope: models.ScopeIncidentsWrite, Tag: "incidents", Request: struct {
		Body optional[string] `json:"body"`
	}{}, Status: 200, Response: apiIncident{}},
	{Method: "GET", Path: "/maintenance", Summary: "List (on page_id, default the token's page) maintenance windows; status is scheduled, in_progress, completed or cancelled", Scope: models.ScopeRead, Tag: "maintenance", Status: 200, Response: []apiMaintenance{}, Paged: true, Query: []string{"status", "page_id"}},
	{Method: "POST", Path: "/maintenance", Summary: "On page_id (default: the token's page; 422 for an unknown page or a page the token does not reach). Schedule maintenance; deliver_notifications: false (default true) skips the maintenance.scheduled announcement to channels, notify_subscribers: false (default: as deliver_notifications) to subscribers; the fields may come inside {\"scheduled_maintenance\": …}", Scope: models.ScopeMaintenanceWrite, Tag: "maintenance", Request: maintenanceBody{}, Status: 201, Response: apiMaintenance{}},
	{Method: "GET", Path: "/maintenance/:id", Summary: "Get a maintenance window", Scope: models.ScopeRead, Tag: "maintenance", Status: 200, Response: apiMaintenance{}},
	{Method: "PATCH", Path: "/maintenance/:id", Summary: "Edit a window that has not started; of a window in progress only scheduled_until changes (extend it; deliver_notifications: true sends maintenance.updated); 409 otherwise", Scope: models.ScopeMaintenanceWrite, Tag: "maintenance", Request: maintenanceBody{}, Status: 200, Response: apiMaintenance{}},
	{Method: "POST", Path: "/maintenance/:id/cancel", Summary: "Cancel a window that has not started (409 otherwise)", Scope: models.ScopeMaintenanceWrite, Tag: "maintenance", Status: 200, Response: apiMaintenance{}},
	{Method: "POST", Path: "/maintenance/:id/updates", Summary: "Post an update to a scheduled or in-progress window; with scheduled_until, give a window in progress a new end; deliver_notifications: true sends maintenance.updated; the fields may come inside {\"incident_update\": …}", Scope: models.ScopeMaintenanceWrite, Tag: "maintenance", Request: maintenanceUpdateBody{}, Status: 201, Response: apiMaintenance{}},
	{Method: "POST", Path: "/maintenance/:id/complete", Summary: "End a window in progress now (409 otherwise)", Scope: models.ScopeMaintenanceWrite, Tag: "maintenance", Status: 200, Response: apiMaintenance{}},
	{Method: "GET", Path: "/pages", Summary: "List the status pages the token reaches (every page for an install-wide token, its own page for a page token), the first (served at /) first: id, name, slug and address", Scope: models.ScopeRead, Tag: "page", Status: 200, Response: []apiPageSummary{}},
	{Method: "POST", Path: "/pages", Summary: "Create a status page (install-wide tokens of admins who may see every page only) with a name and a slug: lower-case letters, digits and hyphens, 1 to 63 characters, not a word Herald uses itself (api, admin, s …); the fields may come inside {\"page\": …}. 422 for a bad or taken slug", Scope: models.ScopePageWrite, Tag: "page", Request: pageCreateBody{}, Status: 201, Response: apiPageSummary{}},
	{Method: "GET", Path: "/pages/:id", Summary: "One status page the token reaches (admins' tokens; 404 for a page the token does not reach): its id, name, slug, address, own host name (domain, \"\" for none) and access: visibility (public or private), has_password, team, email_domains, ip_allowlist. The password itself is never shown", Scope: models.ScopeRead, Tag: "page", Status: 200, Response: apiPageDetail{}},
	{Method: "PATCH", Path: "/pages/:id", Summary: "Change a status page (install-wide tokens of admins who may see every page only): name, slug, domain (\"\" removes it) and access, an object whose fields left out keep their value: visibility public or private, password (write-only; \"\" removes it; at least 8 characters; a new one signs out the visitors who used the old), team (signed-in team members may read the private page), email_domains, ip_allowlist (CIDR ranges; behind a proxy see HERALD_TRUSTED_PROXIES). A private page needs a way in (422 otherwise). All or nothing; the fields may come inside {\"page\": …}", Scope: models.ScopePageWrite, Tag: "page", Request: pagesBody{}, Status: 200, Response: apiPageDetail{}},
	{Method: "DELETE", Path: "/pages/:id", Summary: "Delete a status page (install-wide tokens of admins who may see every page only). everything=true deletes what is on it too. 409 conflict for the first page, for a page with anything on it without everything=true, and while notifications of the page are still queued (the message says how many): nothing queued is lost", Scope: models.ScopePageWrite, Tag: "page", Status: 204, Query: []string{"everything"}},
	{Method: "GET", Path: "/page", Summary: "Get the settings of the status page page_id names (default: the token's page; 422 for an unknown page or a page the token does not reach)", Scope: models.ScopeRead, Tag: "page", Status: 200, Response: apiPage{}, Query: []string{"page_id"}},
	{Method: "PATCH", Path: "/page", Summary: "Change the settings of the status page page_id names (default: the token's page); the fields may come inside {\"page\": …}. image_hosts replaces the whole list of hosts whose images messages show (at most 20 host names, *.example.net for subdomains; [] for Herald's own images only)", Scope: models.ScopePageWrite, Tag: "page", Request: pageBody{}, Status: 200, Response: apiPage{}, Query: []string{"page_id"}},
	{Method: "GET", Path: "/users", Summary: "List the team (install-wide tokens of admins who may see every page only): e-mail, role, page_ids (null: every page), two-factor sign-in, last sign-in", Scope: models.ScopeRead, Tag: "users", Status: 200, Response: []apiUser{}},
	{Method: "POST", Path: "/users", Summary: "Invite someone with a role and, with page_ids, limited to some pages (null or absent: every page; install-wide tokens of admins who may see every page only): the answer's url, valid 7 days and once, is shown this once; they choose their password there. 422 for an address that already has a user or a pending invitation", Scope: models.ScopeUsersWrite, Tag: "users", Request: invitationBody{}, Status: 201, Response: apiInvitation{}, NoIdempotency: true},
	{Method: "PATCH", Path: "/users/:id", Summary: "Change a user's role, their page_ids (null: every page; a list: only those pages), or both (install-wide tokens of admins who may see every page only); their sessions and tokens shrink with them at once. 409 last_admin for the only admin who may see every page; 422 on page_ids for unknown ids, duplicates, an empty list, more than 1000 ids or a wrong type", Scope: models.ScopeUsersWrite, Tag: "users", Request: userRoleBody{}, Status: 200, Response: apiUser{}},
	{Method: "DELETE", Path: "/users/:id", Summary: "Remove a user (install-wide tokens of admins who may see every page only): their sessions end and their tokens are revoked at once. 409 last_admin for the only admin", Scope: models.ScopeUsersWrite, Tag: "users", Status: 204},
	{Method: "GET", Path: "/subscribers", Summary: "List (on page_id, default the token's page) the visitors subscribed to the page (admins' tokens only), newest first: the e-mail address, or a webhook's URL masked; never a token. kind is email or webhook, state pending, active or bouncing, component a component id (those who receive its notices), q part of the address", Scope: models.ScopeSubscribersRead, Tag: "subscribers", Status: 200, Response: []apiSubscriber{}, Paged: true, Query: []string{"kind", "state", "component", "q", "page_id"}},
	{Method: "POST", Path: "/subscribers", Summary: "On page_id (default: the token's page; 422 for an unknown page or a page the token does not reach). Add an e-mail subscriber confirmed elsewhere (admins' tokens only): active at once, no confirmation e-mail; components left out means all. 409 subscriber_exists for an address subscribed already, 422 for a malformed address or an unknown component. No Idempotency-Key (the stored answer would keep the address after it is removed): a retry of a create that succeeded gets the 409", Scope: models.ScopeSubscribersWrite, Tag: "subscribers", Request: subscriberBody{}, Status: 201, Response: apiSubscriber{}, NoIdempotency: true},
	{Method: "DELETE", Path: "/subscribers/:id", Summary: "Remove a subscriber (admins' tokens only): the address and its queued e-mails are deleted", Scope: models.ScopeSubscribersWrite, Tag: "subscribers", Status: 204},
}

// openAPIDocument builds the OpenAPI 3.1 description of apiOperations.
func openAPIDocument(baseURL string) map[string]any {
	paths := map[string]map[string]any{}
	errorRef := map[string]any{"$ref": "#/components/responses/Error"}
	for _, op := range apiOperations {
		path := openAPIPath(op.Path)
		if paths[path] == nil {
			paths[path] = map[string]any{}
		}
		var params []any
		for _, seg := range strings.Split(op.Path, "/") {
			if name, ok := strings.CutPrefix(seg, ":"); ok {
				params = append(params, map[string]any{"name": name, "in": "path", "required": true,
					"schema": map[string]any{"type": "string", "pattern": "^[A-Za-z0-9_]+$"}})
			}
		}
		if op.Paged {
			params = append(params,
				map[string]any{"name": "page", "in": "query", "schema": map[string]any{"type": "integer", "minimum": 1}},
				map[string]any{"name": "per_page", "in": "query", "schema": map[string]any{"type": "integer", "minimum": 1, "maximum": 100}})
		}
		for _, q := range op.Query {
			params = append(params, map[string]any{"name": q, "in": "query", "schema": map[string]any{"type": "string"}})
		}
		success := map[string]any{"description": http.StatusText(op.Status)}
		if op.Response != nil {
			success["content"] = jsonContent(schemaOf(reflect.TypeOf(op.Response)))
		}
		if op.Paged {
			success["headers"] = map[string]any{
				"Link":          map[string]any{"description": "RFC 8288 links: first, prev, next, last", "schema": map[string]any{"type": "string"}},
				"X-Total-Count": map[string]any{"schema": map[string]any{"type": "integer"}},
			}
		}
		responses := map[string]any{
			itoaStatus(op.Status): success,
			"400":                 errorRef, "401": errorRef, "403": errorRef, "404": errorRef,
			"503": errorRef, // database_unavailable: retry later
		}
		operation := map[string]any{
			"summary":     op.Summary,
			"operationId": operationID(op),
			"tags":        []string{op.Tag},
			"description": "Needs a token with the `" + string(op.Scope) + "` scope.",
			"responses":   responses,
		}
		if len(params) > 0 {
			operation["parameters"] = params
		}
		for _, q := range op.Query {
			if q == "page_id" || q == "everything" {
				responses["422"] = errorRef // an unknown page, a bad everything
			}
		}
		if op.Request != nil {
			operation["requestBody"] = map[string]any{"required": op.Method == http.MethodPost,
				"content": jsonContent(schemaOf(reflect.TypeOf(op.Request)))}
			responses["413"], responses["415"], responses["422"] = errorRef, errorRef, errorRef
		}
		if strings.Contains(op.Summary, "409") {
			responses["409"] = errorRef
		}
		if op.Method == http.MethodPost && !op.NoIdempotency {
			operation["parameters"] = append(params, map[string]any{"name": "Idempotency-Key", "in": "header",
				"description": "Sending the same request with the same key within 24 h replays the first answer. " +
					"A request that did not complete (the client gave up, or a 5xx) left nothing behind: retry it with the same key.",
				"schema": map[string]any{"type": "string", "maxLength": 255}})
			responses["409"], responses["422"] = errorRef, errorRef
		}
		paths[path][strings.ToLower(op.Method)] = operation
	}
	return map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{"title": "Herald admin API", "version": "1",
			"description": "Manage Herald's status pages: components, incidents, maintenance, notification channels, the page settings and the team. " +
				"Authenticate with `Authorization: Bearer hrd_…` (create tokens under Admin → API tokens). " +
				"A token is for one page or install-wide (“All pages”). A page token reaches its page only: page_id naming another page is 422, " +
				"the same answer as for a page that does not exist, and another page's objects are 404. An install-wide token reaches every page its owner may see; " +
				"page_id chooses the page of list and create endpoints (default: the first page). Users and page management need an install-wide token " +
				"of an admin who may see every page. A token never reaches a page its owner may no longer see. " +
				"Errors are `{\"error\": {\"code\", \"message\", \"field\"}}`."},
		"servers":  []any{map[string]any{"url": strings.TrimRight(baseURL, "/") + "/api/v1"}},
		"security": []any{map[string]any{"bearer": []string{}}},
		"paths":    paths,
		"components": map[string]any{
			"securitySchemes": map[string]any{"bearer": map[string]any{"type": "http", "scheme": "bearer"}},
			"responses": map[string]any{"Error": map[string]any{"description": "An error",
				"content": jsonContent(errorSchema())}},
		},
	}
}

func jsonContent(schema map[string]any) map[string]any {
	return map[string]any{"application/json": map[string]any{"schema": schema}}
}

func openAPIPath(echoPath string) string {
	segs := strings.Split(echoPath, "/")
	for i, s := range segs {
		if name, ok := strings.CutPrefix(s, ":"); ok {
			segs[i] = "{" + name + "}"
		}
	}
	return strings.Join(segs, "/")
}

func operationID(op apiOperation) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(op.Method))
	for _, seg := range strings.Split(op.Path, "/") {
		seg = strings.TrimPrefix(seg, ":")
		for _, part := range strings.FieldsFunc(seg, func(r rune) bool { return r == '-' || r == '_' }) {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String()
}

func itoaStatus(s int) string { return strconv.Itoa(s) }

var (
	optionalPrefix = "optional["
	timeType       = reflect.TypeFor[time.Time]()
	apiIDType      = reflect.TypeFor[apiID]()
	nullableIDType = reflect.TypeFor[nullableID]()
	pageIDsType    = reflect.TypeFor[pageIDsField]()
	pageIDListType = reflect.TypeFor[apiPageIDs]()
)

// schemaOf is the JSON Schema of a Go type as encoding/json (and the
// API's own field types) read and write it, so the document follows the
// handlers' structs.
func schemaOf(t reflect.Type) map[string]any {
	switch {
	case t == timeType:
		return map[string]any{"type": "string", "format": "date-time"}
	case t == apiIDType:
		return map[string]any{"type": "string", "pattern": "^[0-9]+$"}
	case t == nullableIDType:
		return map[string]any{"type": []string{"string", "null"}, "pattern": "^[0-9]+$"}
	case t == pageIDsType, t == pageIDListType:
		return map[string]any{"type": []string{"array", "null"}, "maxItems": models.MaxPageIDs, "uniqueItems": true,
			"items": map[string]any{"type": "string", "pattern": "^[0-9]+$"}, "description": "null or absent: every page"}
	case t.Kind() == reflect.Struct && strings.HasPrefix(t.Name(), optionalPrefix):
		if f, ok := t.FieldByName("Value"); ok {
			return schemaOf(f.Type)
		}
	}
	switch t.Kind() {
	case reflect.Pointer:
		s := schemaOf(t.Elem())
		if typ, ok := s["type"].(string); ok {
			s["type"] = []string{typ, "null"}
		}
		return s
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.Slice, reflect.Array:
		return map[string]any{"type": "array", "items": schemaOf(t.Elem())}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": schemaOf(t.Elem())}
	case reflect.Struct:
		props := map[string]any{}
		for f := range t.Fields() {
			if !f.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" {
				continue
			}
			if name == "" {
				name = f.Name
			}
			props[name] = schemaOf(f.Type)
		}
		return map[string]any{"type": "object", "properties": props, "additionalProperties": false}
	}
	return map[string]any{}
}

func errorSchema() map[string]any {
	return map[string]any{"type": "object", "required": []string{"error"}, "properties": map[string]any{
		"error": map[string]any{"type": "object", "required": []string{"code", "message"}, "properties": map[string]any{
			"code":    map[string]any{"type": "string", "description": "machine-readable, e.g. unknown_field, validation_failed, unauthorized"},
			"message": map[string]any{"type": "string", "description": "for people"},
			"field":   map[string]any{"type": "string", "description": "the JSON field or parameter at fault, if any"},
			"fields":  map[string]any{"type": "object", "additionalProperties": map[string]any{"type": "string"}},
		}},
	}}
}

// OpenAPI serves the OpenAPI 3.1 document of /api/v1. It needs no token.
func (h *Handler) OpenAPI(c echo.Context) error {
	base := h.Store.BaseURL()
	b, err := json.MarshalIndent(openAPIDocument(base), "", "  ")
	if err != nil {
		return err
	}
	return c.Blob(http.StatusOK, "application/json", b)
}

// APIOperations lists the documented endpoints as "METHOD /api/v1/path",
// for the test that keeps the document and the routes in step.
func APIOperations() []string {
	out := make([]string, len(apiOperations))
	for i, op := range apiOperations {
		out[i] = op.Method + " /api/v1" + op.Path
	}
	return out
}
