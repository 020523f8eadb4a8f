package handlers

import (
	"github.com/heraldstatus/herald/views"
	"github.com/labstack/echo/v4"
)

// RenderError shows a friendly error page with code; under /api/v1 it
// answers the API's JSON error instead (errors raised before any API
// handler runs, such as the server's body limit).
func (h *Handler) RenderError(c echo.Context, code int, heading, message string) error {
	if isAPIPath(c.Request().URL.Path) {
		return apiError(c, code, apiErrorCode(code), message, "")
	}
	return render(c, code, views.ErrorPage(views.ErrorView{
		Chrome:  h.ErrorChrome(heading),
		Code:    code,
		Heading: heading,
		Message: message,
	}))
}
