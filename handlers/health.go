package handlers

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

// Healthz answers while the process runs.
func (h *Handler) Healthz(c echo.Context) error {
	return c.String(http.StatusOK, "ok\n")
}

// Readyz answers 200 when the database is reachable and fully migrated.
func (h *Handler) Readyz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	if err := h.Store.Ping(ctx); err != nil {
		h.Logger.Warn("not ready: database unreachable", "error", err)
		return c.String(http.StatusServiceUnavailable, "database unreachable\n")
	}
	pending, err := h.Store.MigrationsPending(ctx)
	if err != nil || pending > 0 {
		h.Logger.Warn("not ready: migrations pending", "pending", pending, "error", err)
		return c.String(http.StatusServiceUnavailable, "migrations pending\n")
	}
	return c.String(http.StatusOK, "ready\n")
}
