package handlers

import (
	"github.com/heraldstatus/herald/views"
	"github.com/labstack/echo/v4"
)

// RenderError shows a friendly error page with code.
func (h *Handler) RenderError(c echo.Context, code int, heading, message string) error {
	return render(c, code, views.ErrorPage(views.ErrorView{
		Chrome:  h.ErrorChrome(heading),
		Code:    code,
		Heading: heading,
		Message: message,
	}))
}
