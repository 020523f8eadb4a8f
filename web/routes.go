package web

import (
	"net/http"

	"github.com/heraldstatus/herald/handlers/admin"
	"github.com/heraldstatus/herald/handlers/api"
	"github.com/heraldstatus/herald/handlers/site"
	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/static"
	"github.com/labstack/echo/v4"
)

// registerRoutes is the one place every URL of Herald is listed.
func registerRoutes(e *echo.Echo, site *site.Handler, admin *admin.Handler, api *api.Handler, ops health, assets *static.Assets, m *metrics) {
	// Operations
	e.GET("/healthz", ops.healthz)
	e.GET("/readyz", ops.readyz)
	e.GET("/metrics", m.handler)
	e.GET("/static/*", echo.WrapHandler(assets))

	// Public status page
	e.GET("/", site.ShowStatusPage)
	e.GET("/api/v2/*", site.StatusJSON)
	e.GET("/history.atom", site.Feed)
	e.GET("/history.rss", site.Feed)
	e.GET("/badge.svg", site.Badge)
	e.GET("/favicon.svg", site.Favicon)
	e.GET("/favicon.ico", site.FaviconICO)
	e.GET("/history", site.ShowHistory)
	e.GET("/incidents/:id", site.ShowIncidentPermalink)
	e.GET("/maintenance/:id", site.ShowMaintenancePermalink)
	for _, path := range []string{"/api/v2/*", "/history.atom", "/history.rss", "/badge.svg"} {
		e.OPTIONS(path, site.Preflight) // CORS preflight: any origin may read these
	}

	// First run, sign in and out
	forms := e.Group("", admin.VerifyCSRF)
	forms.GET("/setup", admin.ShowSetup)
	forms.POST("/setup", admin.CompleteSetup)
	forms.GET("/login", admin.ShowLogin)
	forms.POST("/login", admin.Login)
	forms.POST("/logout", admin.Logout)

	// Admin: every route needs a session and, for writes, the CSRF token.
	screens := e.Group("/admin", admin.VerifyCSRF, admin.RequireAdmin)
	screens.GET("", admin.ShowDashboard)

	// Incidents
	screens.GET("/incidents", admin.ListIncidents)
	screens.GET("/incidents/new", admin.NewIncident)
	screens.POST("/incidents", admin.CreateIncident)
	screens.GET("/incidents/:id", admin.ShowIncident)
	screens.POST("/incidents/:id/updates", admin.PostIncidentUpdate)
	screens.GET("/incidents/:id/edit", admin.EditIncidentTitle)
	screens.POST("/incidents/:id", admin.CorrectIncidentTitle)
	screens.GET("/incidents/:id/updates/:uid/edit", admin.EditIncidentUpdateMessage)
	screens.POST("/incidents/:id/updates/:uid", admin.CorrectIncidentUpdateMessage)
	screens.POST("/incidents/:id/resolve", admin.ResolveIncident)
	screens.POST("/incidents/:id/postmortem", admin.SavePostmortem)
	screens.GET("/incidents/:id/delete", admin.ConfirmDeleteIncident)
	screens.POST("/incidents/:id/delete", admin.DeleteIncident)

	// Maintenance
	screens.GET("/maintenance", admin.ListMaintenance)
	screens.GET("/maintenance/new", admin.NewMaintenance)
	screens.POST("/maintenance", admin.ScheduleMaintenance)
	screens.GET("/maintenance/:id/edit", admin.EditMaintenance)
	screens.POST("/maintenance/:id", admin.UpdateMaintenance)
	screens.GET("/maintenance/:id/cancel", admin.ConfirmCancelMaintenance)
	screens.POST("/maintenance/:id/cancel", admin.CancelMaintenance)
	screens.POST("/maintenance/:id/end", admin.EndMaintenanceNow)
	screens.GET("/maintenance/:id/update", admin.NewMaintenanceUpdate)
	screens.POST("/maintenance/:id/update", admin.PostMaintenanceUpdate)

	// Components and groups
	screens.GET("/components", admin.ListComponents)
	screens.GET("/components/new", admin.NewComponent)
	screens.POST("/components", admin.CreateComponent)
	screens.GET("/components/:id/edit", admin.EditComponent)
	screens.POST("/components/:id", admin.UpdateComponent)
	screens.POST("/components/:id/status", admin.SetComponentStatus)
	screens.POST("/components/:id/move", admin.MoveComponent)
	screens.GET("/components/:id/delete", admin.ConfirmDeleteComponent)
	screens.POST("/components/:id/delete", admin.DeleteComponent)
	screens.GET("/groups/new", admin.NewGroup)
	screens.POST("/groups", admin.CreateGroup)
	screens.GET("/groups/:id/edit", admin.EditGroup)
	screens.POST("/groups/:id", admin.UpdateGroup)
	screens.POST("/groups/:id/move", admin.MoveGroup)
	screens.GET("/groups/:id/delete", admin.ConfirmDeleteGroup)
	screens.POST("/groups/:id/delete", admin.DeleteGroup)

	// Notification channels and their delivery log
	screens.GET("/channels", admin.ListChannels)
	screens.GET("/channels/new", admin.NewChannel)
	screens.POST("/channels", admin.CreateChannel)
	screens.GET("/channels/:id", admin.ShowChannel)
	screens.GET("/channels/:id/edit", admin.EditChannel)
	screens.POST("/channels/:id", admin.UpdateChannel)
	screens.POST("/channels/:id/test", admin.SendChannelTest)
	screens.GET("/channels/:id/test", admin.RedirectChannelTest)
	screens.POST("/channels/:id/enable", admin.EnableChannel)
	screens.POST("/channels/:id/disable", admin.DisableChannel)
	screens.POST("/channels/:id/send-skipped", admin.SendSkippedDeliveries)
	screens.GET("/channels/:id/rotate", admin.ConfirmRotateSecret)
	screens.POST("/channels/:id/rotate", admin.RotateChannelSecret)
	screens.GET("/channels/:id/delete", admin.ConfirmDeleteChannel)
	screens.POST("/channels/:id/delete", admin.DeleteChannel)
	screens.GET("/channels/:id/deliveries/:did", admin.ShowDelivery)
	screens.POST("/channels/:id/deliveries/:did/replay", admin.ReplayDelivery)

	// Status page settings
	screens.GET("/settings", admin.ShowSettings)
	screens.POST("/settings", admin.SaveSettings)

	// Audit log: read-only, there is no route to change or remove an entry.
	screens.GET("/audit", admin.ListAudit)
	screens.GET("/audit/:id", admin.ShowAuditEntry)

	// API tokens: shown once when created, stored as a hash, revocable.
	screens.GET("/tokens", admin.ListTokens)
	screens.GET("/tokens/new", admin.NewToken)
	screens.POST("/tokens", admin.CreateToken)
	screens.GET("/tokens/:id/created", admin.ShowCreatedToken)
	screens.GET("/tokens/:id/revoke", admin.ConfirmRevokeToken)
	screens.POST("/tokens/:id/revoke", admin.RevokeToken)

	// Admin JSON API. Bearer tokens with scopes, not the session: no CSRF
	// check, no cookie set. Every answer, errors included, is JSON; paths
	// that match no endpoint get a JSON 404 or 405 from the catch-all.
	v1 := e.Group("/api/v1", api.APIRequest)
	read := api.RequireToken(models.ScopeRead)
	writeComponents := api.RequireToken(models.ScopeComponentsWrite)
	v1.GET("/components", api.APIListComponents, read)
	v1.POST("/components", api.APICreateComponent, writeComponents, api.Idempotent)
	v1.GET("/components/:id", api.APIShowComponent, read)
	v1.PATCH("/components/:id", api.APIUpdateComponent, writeComponents)
	v1.DELETE("/components/:id", api.APIDeleteComponent, writeComponents)
	v1.GET("/groups", api.APIListGroups, read)
	v1.POST("/groups", api.APICreateGroup, writeComponents, api.Idempotent)
	v1.GET("/groups/:id", api.APIShowGroup, read)
	v1.PATCH("/groups/:id", api.APIUpdateGroup, writeComponents)
	v1.DELETE("/groups/:id", api.APIDeleteGroup, writeComponents)
	// Channels: secrets masked in every answer but the one that makes
	// them. Create and rotate-secret take no Idempotency-Key: the stored
	// answer would keep the signing secret in plaintext.
	writeChannels := api.RequireToken(models.ScopeChannelsWrite)
	v1.GET("/channels", api.APIListChannels, read)
	v1.POST("/channels", api.APICreateChannel, writeChannels, api.Idempotent)
	v1.GET("/channels/:id", api.APIShowChannel, read)
	v1.PATCH("/channels/:id", api.APIUpdateChannel, writeChannels)
	v1.DELETE("/channels/:id", api.APIDeleteChannel, writeChannels)
	v1.POST("/channels/:id/rotate-secret", api.APIRotateChannelSecret, writeChannels, api.Idempotent)
	// A test send waits on the receiver, not only on the database: its
	// key is claimed with a lease instead of holding a transaction.
	v1.POST("/channels/:id/test", api.APISendChannelTest, writeChannels, api.IdempotentLeased)
	v1.GET("/channels/:id/deliveries", api.APIListDeliveries, read)
	v1.GET("/channels/:id/deliveries/:did", api.APIShowDelivery, read)
	v1.POST("/channels/:id/deliveries/:did/replay", api.APIReplayDelivery, writeChannels, api.Idempotent)
	v1.POST("/channels/:id/send-skipped", api.APISendSkipped, writeChannels, api.Idempotent)
	writeIncidents := api.RequireToken(models.ScopeIncidentsWrite)
	v1.GET("/incidents", api.APIListIncidents, read)
	v1.POST("/incidents", api.APICreateIncident, writeIncidents, api.Idempotent)
	v1.GET("/incidents/:id", api.APIShowIncident, read)
	v1.PATCH("/incidents/:id", api.APIUpdateIncident, writeIncidents)
	v1.DELETE("/incidents/:id", api.APIDeleteIncident, writeIncidents)
	v1.POST("/incidents/:id/updates", api.APIPostIncidentUpdate, writeIncidents, api.Idempotent)
	v1.PATCH("/incidents/:id/updates/:update_id", api.APIEditIncidentUpdate, writeIncidents)
	v1.POST("/incidents/:id/resolve", api.APIResolveIncident, writeIncidents, api.Idempotent)
	writeMaintenance := api.RequireToken(models.ScopeMaintenanceWrite)
	v1.GET("/maintenance", api.APIListMaintenance, read)
	v1.POST("/maintenance", api.APIScheduleMaintenance, writeMaintenance, api.Idempotent)
	v1.GET("/maintenance/:id", api.APIShowMaintenance, read)
	v1.PATCH("/maintenance/:id", api.APIUpdateMaintenance, writeMaintenance)
	v1.POST("/maintenance/:id/cancel", api.APICancelMaintenance, writeMaintenance, api.Idempotent)
	v1.POST("/maintenance/:id/complete", api.APICompleteMaintenance, writeMaintenance, api.Idempotent)
	v1.POST("/maintenance/:id/updates", api.APIPostMaintenanceUpdate, writeMaintenance, api.Idempotent)
	writePage := api.RequireToken(models.ScopePageWrite)
	v1.GET("/page", api.APIShowPage, read)
	v1.PATCH("/page", api.APIUpdatePage, writePage)
	v1.GET("/openapi.json", api.OpenAPI) // the API's description needs no token
	v1.Any("/*", api.APINoRoute)

	answerHead(e) // last: covers every GET route above
}

// answerHead makes every GET route answer HEAD too (uptime monitors use
// it), with the GET handler and its middleware: the HEAD route looks up
// the GET route of the same path. net/http sends the headers and drops
// the body.
func answerHead(e *echo.Echo) {
	head := map[string]bool{}
	for _, r := range e.Routes() {
		if r.Method == http.MethodHead {
			head[r.Path] = true
		}
	}
	asGet := func(c echo.Context) error {
		e.Router().Find(http.MethodGet, echo.GetPath(c.Request()), c)
		return c.Handler()(c)
	}
	for _, r := range e.Routes() {
		if r.Method == http.MethodGet && !head[r.Path] {
			head[r.Path] = true
			e.HEAD(r.Path, asGet)
		}
	}
}
