package serve

import (
	"net/http"
	"strconv"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
)

// ErrNotFound is the answer for ids that cannot exist.
var ErrNotFound = echo.NewHTTPError(http.StatusNotFound, "That page does not exist.")

// PathID parses a positive numeric path parameter; anything else is a 404.
func PathID(c echo.Context, name string) (int64, error) {
	id, err := strconv.ParseInt(c.Param(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, ErrNotFound
	}
	return id, nil
}

// Clip shortens echoed input so a long query cannot flood the page.
func Clip(s string) string {
	if utf8.RuneCountInString(s) <= 40 {
		return s
	}
	return string([]rune(s)[:40]) + "…"
}
