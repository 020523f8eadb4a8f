package web

import (
	"github.com/heraldstatus/herald/handlers"
	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/static"
	"github.com/labstack/echo/v4"
)

// registerRoutes is the one place every URL of Herald is listed.
func registerRoutes(e *echo.Echo, h *handlers.Handler, assets *static.Assets, m *metrics) {
	// Operations
	e.GET("/healthz", h.Healthz)
	e.GET("/readyz", h.Readyz)
	e.GET("/metrics", m.handler)
	e.GET("/static/*", echo.WrapHandler(assets))

	// Public status page
	e.GET("/", h.ShowStatusPage)
	e.GET("/api/v2/*", h.StatusJSON)
	e.GET("/history.atom", h.Feed)
	e.GET("/history.rss", h.Feed)
	e.GET("/badge.svg", h.Badge)
	e.GET("/history", h.ShowHistory)
	e.GET("/incidents/:id", h.ShowIncidentPermalink)
	e.GET("/maintenance/:id", h.ShowMaintenancePermalink)

	// First run, sign in and out
	forms := e.Group("", h.VerifyCSRF)
	forms.GET("/setup", h.ShowSetup)
	forms.POST("/setup", h.CompleteSetup)
	forms.GET("/login", h.ShowLogin)
	forms.POST("/login", h.Login)
	forms.POST("/logout", h.Logout)

	// Admin: every route needs a session and, for writes, the CSRF token.
	admin := e.Group("/admin", h.VerifyCSRF, h.RequireAdmin)
	admin.GET("", h.ShowDashboard)

	// Incidents
	admin.GET("/incidents", h.ListIncidents)
	admin.GET("/incidents/new", h.NewIncident)
	admin.POST("/incidents", h.CreateIncident)
	admin.GET("/incidents/:id", h.ShowIncident)
	admin.POST("/incidents/:id/updates", h.PostIncidentUpdate)
	admin.POST("/incidents/:id/resolve", h.ResolveIncident)
	admin.POST("/incidents/:id/postmortem", h.SavePostmortem)
	admin.GET("/incidents/:id/delete", h.ConfirmDeleteIncident)
	admin.POST("/incidents/:id/delete", h.DeleteIncident)

	// Maintenance
	admin.GET("/maintenance", h.ListMaintenance)
	admin.GET("/maintenance/new", h.NewMaintenance)
	admin.POST("/maintenance", h.ScheduleMaintenance)
	admin.GET("/maintenance/:id/edit", h.EditMaintenance)
	admin.POST("/maintenance/:id", h.UpdateMaintenance)
	admin.GET("/maintenance/:id/cancel", h.ConfirmCancelMaintenance)
	admin.POST("/maintenance/:id/cancel", h.CancelMaintenance)
	admin.POST("/maintenance/:id/end", h.EndMaintenanceNow)

	// Components and groups
	admin.GET("/components", h.ListComponents)
	admin.GET("/components/new", h.NewComponent)
	admin.POST("/components", h.CreateComponent)
	admin.GET("/components/:id/edit", h.EditComponent)
	admin.POST("/components/:id", h.UpdateComponent)
	admin.POST("/components/:id/status", h.SetComponentStatus)
	admin.POST("/components/:id/move", h.MoveComponent)
	admin.GET("/components/:id/delete", h.ConfirmDeleteComponent)
	admin.POST("/components/:id/delete", h.DeleteComponent)
	admin.GET("/groups/new", h.NewGroup)
	admin.POST("/groups", h.CreateGroup)
	admin.GET("/groups/:id/edit", h.EditGroup)
	admin.POST("/groups/:id", h.UpdateGroup)
	admin.POST("/groups/:id/move", h.MoveGroup)
	admin.GET("/groups/:id/delete", h.ConfirmDeleteGroup)
	admin.POST("/groups/:id/delete", h.DeleteGroup)

	// Notification channels and their delivery log
	admin.GET("/channels", h.ListChannels)
	admin.GET("/channels/new", h.NewChannel)
	admin.POST("/channels", h.CreateChannel)
	admin.GET("/channels/:id", h.ShowChannel)
	admin.GET("/channels/:id/edit", h.EditChannel)
	admin.POST("/channels/:id", h.UpdateChannel)
	admin.POST("/channels/:id/test", h.SendChannelTest)
	admin.GET("/channels/:id/test", h.RedirectChannelTest)
	admin.POST("/channels/:id/enable", h.EnableChannel)
	admin.POST("/channels/:id/disable", h.DisableChannel)
	admin.POST("/channels/:id/send-skipped", h.SendSkippedDeliveries)
	admin.GET("/channels/:id/rotate", h.ConfirmRotateSecret)
	admin.POST("/channels/:id/rotate", h.RotateChannelSecret)
	admin.GET("/channels/:id/delete", h.ConfirmDeleteChannel)
	admin.POST("/channels/:id/delete", h.DeleteChannel)
	admin.GET("/channels/:id/deliveries/:did", h.ShowDelivery)
	admin.POST("/channels/:id/deliveries/:did/replay", h.ReplayDelivery)

	// Status page settings
	admin.GET("/settings", h.ShowSettings)
	admin.POST("/settings", h.SaveSettings)

	// Audit log: read-only, there is no route to change or remove an entry.
	admin.GET("/audit", h.ListAudit)
	admin.GET("/audit/:id", h.ShowAuditEntry)

	// API tokens: shown once when created, stored as a hash, revocable.
	admin.GET("/tokens", h.ListTokens)
	admin.GET("/tokens/new", h.NewToken)
	admin.POST("/tokens", h.CreateToken)
	admin.GET("/tokens/:id/created", h.ShowCreatedToken)
	admin.GET("/tokens/:id/revoke", h.ConfirmRevokeToken)
	admin.POST("/tokens/:id/revoke", h.RevokeToken)

	// Admin JSON API. Bearer tokens with scopes, not the session: no CSRF
	// check, no cookie set. Every answer, errors included, is JSON; paths
	// that match no endpoint get a JSON 404 or 405 from the catch-all.
	api := e.Group("/api/v1", h.APIRequest)
	read := h.RequireToken(models.ScopeRead)
	writeComponents := h.RequireToken(models.ScopeComponentsWrite)
	api.GET("/components", h.APIListComponents, read)
	api.POST("/components", h.APICreateComponent, writeComponents, h.Idempotent)
	api.GET("/components/:id", h.APIShowComponent, read)
	api.PATCH("/components/:id", h.APIUpdateComponent, writeComponents)
	api.DELETE("/components/:id", h.APIDeleteComponent, writeComponents)
	api.GET("/groups", h.APIListGroups, read)
	api.POST("/groups", h.APICreateGroup, writeComponents, h.Idempotent)
	api.GET("/groups/:id", h.APIShowGroup, read)
	api.PATCH("/groups/:id", h.APIUpdateGroup, writeComponents)
	api.DELETE("/groups/:id", h.APIDeleteGroup, writeComponents)
	// Channels: secrets masked in every answer but the one that makes
	// them. Create and rotate-secret take no Idempotency-Key: the stored
	// answer would keep the signing secret in plaintext.
	writeChannels := h.RequireToken(models.ScopeChannelsWrite)
	api.GET("/channels", h.APIListChannels, read)
	api.POST("/channels", h.APICreateChannel, writeChannels, h.Idempotent)
	api.GET("/channels/:id", h.APIShowChannel, read)
	api.PATCH("/channels/:id", h.APIUpdateChannel, writeChannels)
	api.DELETE("/channels/:id", h.APIDeleteChannel, writeChannels)
	api.POST("/channels/:id/rotate-secret", h.APIRotateChannelSecret, writeChannels, h.Idempotent)
	// A test send waits on the receiver, not only on the database: its
	// key is claimed with a lease instead of holding a transaction.
	api.POST("/channels/:id/test", h.APISendChannelTest, writeChannels, h.IdempotentLeased)
	api.GET("/channels/:id/deliveries", h.APIListDeliveries, read)
	api.GET("/channels/:id/deliveries/:did", h.APIShowDelivery, read)
	api.POST("/channels/:id/deliveries/:did/replay", h.APIReplayDelivery, writeChannels, h.Idempotent)
	api.POST("/channels/:id/send-skipped", h.APISendSkipped, writeChannels, h.Idempotent)
	writeIncidents := h.RequireToken(models.ScopeIncidentsWrite)
	api.GET("/incidents", h.APIListIncidents, read)
	api.POST("/incidents", h.APICreateIncident, writeIncidents, h.Idempotent)
	api.GET("/incidents/:id", h.APIShowIncident, read)
	api.PATCH("/incidents/:id", h.APIUpdateIncident, writeIncidents)
	api.DELETE("/incidents/:id", h.APIDeleteIncident, writeIncidents)
	api.POST("/incidents/:id/updates", h.APIPostIncidentUpdate, writeIncidents, h.Idempotent)
	api.POST("/incidents/:id/resolve", h.APIResolveIncident, writeIncidents, h.Idempotent)
	writeMaintenance := h.RequireToken(models.ScopeMaintenanceWrite)
	api.GET("/maintenance", h.APIListMaintenance, read)
	api.POST("/maintenance", h.APIScheduleMaintenance, writeMaintenance, h.Idempotent)
	api.GET("/maintenance/:id", h.APIShowMaintenance, read)
	api.PATCH("/maintenance/:id", h.APIUpdateMaintenance, writeMaintenance)
	api.POST("/maintenance/:id/cancel", h.APICancelMaintenance, writeMaintenance, h.Idempotent)
	api.POST("/maintenance/:id/complete", h.APICompleteMaintenance, writeMaintenance, h.Idempotent)
	api.GET("/openapi.json", h.OpenAPI) // the API's description needs no token
	api.Any("/*", h.APINoRoute)
}
