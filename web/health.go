package web

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/labstack/echo/v4"
)

// health answers the probes of load balancers and orchestrators, which
// belong to no audience of handlers/.
type health struct {
	store  *models.Store
	logger *slog.Logger
}

// healthz answers while the process runs.
func (h health) healthz(c echo.Context) error {
	return c.String(http.StatusOK, "ok\n")
}

// readyz answers 200 when the database is reachable and fully migrated.
func (h health) readyz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	if err := h.store.Ping(ctx); err != nil {
		h.logger.Warn("not ready: database unreachable", "error", err)
		return c.String(http.StatusServiceUnavailable, "database unreachable\n")
	}
	pending, err := h.store.MigrationsPending(ctx)
	if err != nil || pending > 0 {
		h.logger.Warn("not ready: migrations pending", "pending", pending, "error", err)
		return c.String(http.StatusServiceUnavailable, "migrations pending\n")
	}
	return c.String(http.StatusOK, "ready\n")
}
