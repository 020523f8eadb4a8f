package site

import (
	"github.com/heraldstatus/herald/models"
	"github.com/labstack/echo/v4"
)

// pageKey is the echo context key of the page a public request is for.
const pageKey = "herald.site.page"

// pageID is the id of the page this request is for: the one ServePage
// resolved, else the default page.
func pageID(c echo.Context) int64 {
	if p, ok := c.Get(pageKey).(*models.Page); ok {
		return p.ID
	}
	return models.DefaultPageID
}
