package handlers

import (
	"net/http"
	"strings"

	"github.com/heraldstatus/herald/views/layout"
	"github.com/labstack/echo/v4"
)

// RenderError shows a friendly error page with code; under /api/ (the
// admin API and the public JSON) it answers the API's JSON error instead
// (errors raised before any API handler runs, such as the server's body
// limit, or a database outage).
func (h *Handler) RenderError(c echo.Context, code int, heading, message string) error {
	if isJSONPath(c.Request().URL.Path) {
		return apiError(c, code, apiErrorCode(code), message, "")
	}
	return render(c, code, layout.ErrorPage(layout.ErrorView{
		Chrome:  h.ErrorChrome(heading),
		Code:    code,
		Heading: heading,
		Message: message,
	}))
}

// UnavailableMessage is what a request that found the database not
// answering is told.
const UnavailableMessage = "The database is not answering; try again in a minute."

// databaseUnavailable is the API's 503 for a database outage.
func databaseUnavailable(c echo.Context) error {
	c.Response().Header().Set("Retry-After", "60")
	return apiError(c, http.StatusServiceUnavailable, "database_unavailable", UnavailableMessage, "")
}

// isJSONPath reports whether path answers JSON, errors included.
func isJSONPath(path string) bool {
	return isAPIPath(path) || strings.HasPrefix(path, "/api/")
}
