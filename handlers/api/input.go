package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/heraldstatus/herald/handlers/serve"
	"github.com/heraldstatus/herald/models"
	"github.com/labstack/echo/v4"
)

// decodeWrapped reads the body of an endpoint that creates or edits an
// incident or a maintenance window. The rule: the object's fields come
// either inside Statuspage's wrapper, {"incident": {…}} or
// {"scheduled_maintenance": {…}}, or bare, {…}; with the wrapper nothing
// may stand beside it. Fields named in errors are those inside the
// wrapper. Action endpoints (updates, resolve) take bare objects only.
func decodeWrapped(c echo.Context, wrapper string, dst any) error {
	var raw json.RawMessage
	if err := decodeJSON(c, &raw); err != nil {
		return err
	}
	raw = bytes.TrimSpace(raw)
	if jsonKind(raw) != "object" {
		return &serve.Problem{Status: http.StatusBadRequest, Code: "invalid_type", Message: "The body must be a JSON object."}
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(raw, &top); err != nil {
		return jsonProblem(err, dst)
	}
	payload := []byte(raw)
	if inner, ok := top[wrapper]; ok {
		if extra := otherKeys(top, wrapper); len(extra) > 0 {
			return &serve.Problem{Status: http.StatusBadRequest, Code: "unknown_field", Field: extra[0],
				Message: fmt.Sprintf("“%s” goes inside “%s” (or send every field without the wrapper).", extra[0], wrapper)}
		}
		inner = bytes.TrimSpace(inner)
		if kind := jsonKind(inner); kind != "object" {
			return &serve.Problem{Status: http.StatusBadRequest, Code: "invalid_type", Field: wrapper,
				Message: fmt.Sprintf("“%s” must be an object, not %s.", wrapper, kindWords(kind))}
		}
		payload = inner
	}
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return jsonProblem(err, dst)
	}
	return nil
}

// otherKeys lists the keys of m other than key, sorted.
func otherKeys(m map[string]json.RawMessage, key string) []string {
	var out []string
	for k := range m {
		if k != key {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// decodeOptionalJSON is decodeJSON for a body that may be left out: a
// request without one (Content-Length 0) sends no fields.
func decodeOptionalJSON(c echo.Context, dst any) error {
	if c.Request().ContentLength == 0 {
		return nil
	}
	return decodeJSON(c, dst)
}

// decodeNoFields checks the body of an endpoint that takes none: nothing,
// or an empty object.
func decodeNoFields(c echo.Context) error {
	var fields map[string]json.RawMessage
	if err := decodeOptionalJSON(c, &fields); err != nil {
		return err
	}
	if names := otherKeys(fields, ""); len(names) > 0 {
		return &serve.Problem{Status: http.StatusBadRequest, Code: "unknown_field", Field: names[0],
			Message: fmt.Sprintf("Unknown field “%s”. This endpoint takes no fields: send no body, or {}.", names[0])}
	}
	return nil
}

// parseAPITime reads an RFC 3339 time of a request body; a bad one is a
// field error.
func parseAPITime(v *models.Validator, field, value string) time.Time {
	t, err := time.Parse(time.RFC3339, strings.TrimSpace(value))
	if err != nil {
		v.Add(field, "Use an RFC 3339 time such as 2026-05-01T14:30:00Z.")
		return time.Time{}
	}
	return t.UTC()
}

// fieldRewrite renames one field of a models validation error, named
// after the admin's forms, to the API's name; message, when set, replaces
// a message that speaks of the form ("Choose one of the listed
// statuses.").
type fieldRewrite struct {
	from, to string
	message  string
}

// rewriteValidation applies rewrites to a *models.ValidationError and
// passes other errors through.
func rewriteValidation(err error, rewrites ...fieldRewrite) error {
	var ve *models.ValidationError
	if !errors.As(err, &ve) {
		return err
	}
	fields := make(map[string]string, len(ve.Fields))
	for f, msg := range ve.Fields {
		fields[f] = msg
	}
	for _, r := range rewrites {
		msg, ok := ve.Fields[r.from]
		if !ok {
			continue
		}
		delete(fields, r.from)
		if r.message != "" {
			msg = r.message
		}
		fields[r.to] = msg
	}
	return &models.ValidationError{Fields: fields}
}

// useOneOf lists the values an enum field accepts.
func useOneOf[T ~string](values []T) string {
	names := make([]string, len(values))
	for i, v := range values {
		names[i] = string(v)
	}
	return "Use one of: " + strings.Join(names, ", ") + "."
}

// componentStatusMap reads "components": {"<component id>": "<status>"}.
// A key that is not an id is a 400; statuses and whether the components
// exist on the page are for the models to judge.
func componentStatusMap(in map[string]string) (map[int64]models.ComponentStatus, error) {
	out := make(map[int64]models.ComponentStatus, len(in))
	for key, status := range in {
		id, err := strconv.ParseInt(key, 10, 64)
		if err != nil || id <= 0 {
			return nil, &serve.Problem{Status: http.StatusBadRequest, Code: "invalid_type", Field: "components",
				Message: fmt.Sprintf("The keys of “components” must be component ids such as \"12\", not “%s”.", key)}
		}
		out[id] = models.ComponentStatus(status)
	}
	return out, nil
}

// componentsRewrite explains a models error on components in the API's
// words: the statuses each component may take, or that an id is not one
// of the page's components.
func componentsRewrite(set map[int64]models.ComponentStatus) fieldRewrite {
	msg := "Every id in “components” must be a component of this page."
	for _, s := range set {
		if !s.Valid() {
			msg = "Set each component to one of: " + strings.TrimPrefix(useOneOf(models.ComponentStatuses), "Use one of: ")
			break
		}
	}
	return fieldRewrite{from: "components", to: "components", message: msg}
}

// publicURL is the absolute address of path on the public status page.
func (h *Handler) publicURL(c echo.Context, path string) string {
	base := strings.TrimRight(h.Store.BaseURL(), "/")
	if base == "" {
		base = c.Scheme() + "://" + c.Request().Host
	}
	return base + path
}
