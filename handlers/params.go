package handlers

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"
)

// errNotFound is the answer for ids that cannot exist.
var errNotFound = echo.NewHTTPError(http.StatusNotFound, "That page does not exist.")

// pathID parses a positive numeric path parameter; anything else is a 404.
func pathID(c echo.Context, name string) (int64, error) {
	id, err := strconv.ParseInt(c.Param(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, errNotFound
	}
	return id, nil
}

// moveDelta reads the up/down button of a reorder form.
func moveDelta(c echo.Context) (int, error) {
	switch c.FormValue("direction") {
	case "up":
		return -1, nil
	case "down":
		return 1, nil
	}
	return 0, echo.NewHTTPError(http.StatusBadRequest, "Choose to move up or down.")
}
