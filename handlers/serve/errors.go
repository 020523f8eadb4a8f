package serve

import (
	"net/http"
	"strings"

	"github.com/heraldstatus/herald/views/layout"
	"github.com/labstack/echo/v4"
)

// Everything under /api/ answers JSON, errors included, as
// {"error": {"code", "message", "field"}}: the admin API's answers, and
// those of the server's error handler for any path there.

// Problem is a 4xx (or 5xx) answer in the JSON error shape.
type Problem struct {
	Status  int
	Code    string
	Message string
	Field   string
	// Fields holds every invalid field of a validation_failed answer.
	Fields map[string]string
}

func (p *Problem) Error() string { return p.Code + ": " + p.Message }

type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string            `json:"code"`
	Message string            `json:"message"`
	Field   string            `json:"field"`
	Fields  map[string]string `json:"fields,omitempty"`
}

// JSONError writes the JSON error shape.
func JSONError(c echo.Context, status int, code, message, field string) error {
	return WriteProblem(c, &Problem{Status: status, Code: code, Message: message, Field: field})
}

// WriteProblem writes p in the JSON error shape.
func WriteProblem(c echo.Context, p *Problem) error {
	return c.JSON(p.Status, errorBody{Error: errorDetail{Code: p.Code, Message: p.Message, Field: p.Field, Fields: p.Fields}})
}

// RenderError shows a friendly error page with code; under /api/ (the
// admin API and the public JSON) it answers the JSON error instead
// (errors raised before any API handler runs, such as the server's body
// limit, or a database outage).
func (b *Base) RenderError(c echo.Context, code int, heading, message string) error {
	if isJSONPath(c.Request().URL.Path) {
		return JSONError(c, code, errorCode(code), message, "")
	}
	return Render(c, code, layout.ErrorPage(layout.ErrorView{
		Chrome:  b.ErrorChrome(heading),
		Code:    code,
		Heading: heading,
		Message: message,
	}))
}

// UnavailableMessage is what a request that found the database not
// answering is told.
const UnavailableMessage = "The database is not answering; try again in a minute."

// DatabaseUnavailable is the JSON 503 for a database outage.
func DatabaseUnavailable(c echo.Context) error {
	c.Response().Header().Set("Retry-After", "60")
	return JSONError(c, http.StatusServiceUnavailable, "database_unavailable", UnavailableMessage, "")
}

// isJSONPath reports whether path answers JSON, errors included: the
// admin API at /api/v1 and everything under /api/.
func isJSONPath(path string) bool {
	return path == "/api/v1" || strings.HasPrefix(path, "/api/")
}

// errorCode names an HTTP status for errors that reach the server's
// error handler from under /api/ (body limit, panics).
func errorCode(status int) string {
	switch status {
	case http.StatusNotFound:
		return "not_found"
	case http.StatusMethodNotAllowed:
		return "method_not_allowed"
	case http.StatusRequestEntityTooLarge:
		return "body_too_large"
	case http.StatusUnauthorized:
		return "unauthorized"
	case http.StatusForbidden:
		return "forbidden"
	case http.StatusTooManyRequests:
		return "rate_limited"
	case http.StatusServiceUnavailable:
		return "database_unavailable"
	}
	if status >= 500 {
		return "internal_error"
	}
	return "bad_request"
}
