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
// It returns the access rule of every admin screen and API endpoint.
func registerRoutes(e *echo.Echo, site *site.Handler, admin *admin.Handler, api *api.Handler, ops health, assets *static.Assets, m *metrics) *routeAccess {
	roles := &routeAccess{Roles: map[string]models.Role{}, Public: map[string]bool{}}
	// Operations
	e.GET("/healthz", ops.healthz)
	e.GET("/readyz", ops.readyz)
	e.GET("/metrics", m.handler)
	e.GET("/static/*", echo.WrapHandler(assets))

	// Public status pages: the default page at / (or the page whose own
	// host name the request names), every other page under /s/{slug}/,
	// with the same handlers (site.ServeHost and site.ServeSlug put the
	// page in the request's context).
	// site.RequireAccess lets only visitors with access into a private
	// page (its password form, /access, excepted).
	publicPage(e.Group("", site.ServeHost, site.RequireAccess), site)
	e.GET("/s/:slug", site.RedirectToSlash, site.ServeSlug)
	publicPage(e.Group("/s/:slug", site.ServeSlug, site.RequireAccess), site)
	// The links from subscription e-mails carry a secret, which is their
	// credential and names the page (the one-click unsubscribe POST comes
	// from mail providers, without cookies, RFC 8058). A GET never
	// changes anything.
	// Their answers show the subscriber's page (site.ServeSubscriber).
	e.GET("/subscriptions/confirm/:token", site.ShowConfirm, site.ServeSubscriber)
	e.POST("/subscriptions/confirm/:token", site.Confirm, site.ServeSubscriber)
	e.GET("/subscriptions/:token", site.ShowPreferences, site.ServeSubscriber)
	e.POST("/subscriptions/:token", site.SavePreferences, site.ServeSubscriber)
	e.GET("/subscriptions/:token/unsubscribe", site.ShowUnsubscribe, site.ServeSubscriber)
	e.POST("/subscriptions/:token/unsubscribe", site.Unsubscribe, site.ServeSubscriber)

	// First run, sign in and out
	forms := e.Group("", admin.VerifyCSRF)
	forms.GET("/setup", admin.ShowSetup)
	forms.POST("/setup", admin.CompleteSetup)
	forms.GET("/login", admin.ShowLogin)
	forms.POST("/login", admin.Login)
	forms.POST("/logout", admin.Logout)
	// Single sign-on (OpenID Connect): 404 unless configured. The
	// callback is a GET from the provider; its state check stands in for
	// the CSRF token.
	e.GET("/auth/oidc/start", admin.StartSSO)
	e.GET("/auth/oidc/callback", admin.FinishSSO)
	forms.GET("/login/2fa", admin.ShowSecondFactor) // the second step: no session before it passes
	forms.POST("/login/2fa", admin.CheckSecondFactor)
	// An invitation link: the invited person chooses a password.
	forms.GET("/invite/:token", admin.ShowInvitation)
	forms.POST("/invite/:token", admin.AcceptInvitation)

	// Admin: every route needs a session and, for writes, the CSRF token.
	// Each route names the least role that may use it (RequireRole).
	// After the role check, RequireManagedPage answers 404 to an id of
	// another page's object than the one the session manages.
	screens := guard(e.Group("/admin", admin.VerifyCSRF, admin.RequireUser, admin.RequireTwoFactor), "/admin", roles,
		func(min models.Role) echo.MiddlewareFunc {
			role := admin.RequireRole(min)
			return func(next echo.HandlerFunc) echo.HandlerFunc { return role(admin.RequireManagedPage(next)) }
		})
	screens.GET("", models.RoleViewer, admin.ShowDashboard)

	// Incidents
	screens.GET("/incidents", models.RoleViewer, admin.ListIncidents)
	screens.GET("/incidents/new", models.RoleOperator, admin.NewIncident)
	screens.POST("/incidents", models.RoleOperator, admin.CreateIncident)
	screens.GET("/incidents/:id", models.RoleViewer, admin.ShowIncident)
	screens.POST("/incidents/:id/updates", models.RoleOperator, admin.PostIncidentUpdate)
	screens.GET("/incidents/:id/edit", models.RoleOperator, admin.EditIncidentTitle)
	screens.POST("/incidents/:id", models.RoleOperator, admin.CorrectIncidentTitle)
	screens.GET("/incidents/:id/updates/:uid/edit", models.RoleOperator, admin.EditIncidentUpdateMessage)
	screens.POST("/incidents/:id/updates/:uid", models.RoleOperator, admin.CorrectIncidentUpdateMessage)
	screens.POST("/incidents/:id/resolve", models.RoleOperator, admin.ResolveIncident)
	screens.POST("/incidents/:id/postmortem", models.RoleOperator, admin.SavePostmortem)
	screens.GET("/incidents/:id/delete", models.RoleAdmin, admin.ConfirmDeleteIncident)
	screens.POST("/incidents/:id/delete", models.RoleAdmin, admin.DeleteIncident)

	// Maintenance
	screens.GET("/maintenance", models.RoleViewer, admin.ListMaintenance)
	screens.GET("/maintenance/new", models.RoleOperator, admin.NewMaintenance)
	screens.POST("/maintenance", models.RoleOperator, admin.ScheduleMaintenance)
	screens.GET("/maintenance/:id/edit", models.RoleOperator, admin.EditMaintenance)
	screens.POST("/maintenance/:id", models.RoleOperator, admin.UpdateMaintenance)
	screens.GET("/maintenance/:id/cancel", models.RoleOperator, admin.ConfirmCancelMaintenance)
	screens.POST("/maintenance/:id/cancel", models.RoleOperator, admin.CancelMaintenance)
	screens.POST("/maintenance/:id/end", models.RoleOperator, admin.EndMaintenanceNow)
	screens.GET("/maintenance/:id/update", models.RoleOperator, admin.NewMaintenanceUpdate)
	screens.POST("/maintenance/:id/update", models.RoleOperator, admin.PostMaintenanceUpdate)

	// Components and groups
	screens.GET("/components", models.RoleViewer, admin.ListComponents)
	screens.GET("/components/new", models.RoleAdmin, admin.NewComponent)
	screens.POST("/components", models.RoleAdmin, admin.CreateComponent)
	screens.GET("/components/:id/edit", models.RoleAdmin, admin.EditComponent)
	screens.POST("/components/:id", models.RoleAdmin, admin.UpdateComponent)
	screens.POST("/components/:id/status", models.RoleOperator, admin.SetComponentStatus)
	screens.POST("/components/:id/move", models.RoleAdmin, admin.MoveComponent)
	screens.GET("/components/:id/delete", models.RoleAdmin, admin.ConfirmDeleteComponent)
	screens.POST("/components/:id/delete", models.RoleAdmin, admin.DeleteComponent)
	screens.GET("/groups/new", models.RoleAdmin, admin.NewGroup)
	screens.POST("/groups", models.RoleAdmin, admin.CreateGroup)
	screens.GET("/groups/:id/edit", models.RoleAdmin, admin.EditGroup)
	screens.POST("/groups/:id", models.RoleAdmin, admin.UpdateGroup)
	screens.POST("/groups/:id/move", models.RoleAdmin, admin.MoveGroup)
	screens.GET("/groups/:id/delete", models.RoleAdmin, admin.ConfirmDeleteGroup)
	screens.POST("/groups/:id/delete", models.RoleAdmin, admin.DeleteGroup)

	// Notification channels and their delivery log
	screens.GET("/channels", models.RoleViewer, admin.ListChannels)
	screens.GET("/channels/new", models.RoleAdmin, admin.NewChannel)
	screens.POST("/channels", models.RoleAdmin, admin.CreateChannel)
	screens.GET("/channels/:id", models.RoleViewer, admin.ShowChannel)
	screens.GET("/channels/:id/edit", models.RoleAdmin, admin.EditChannel)
	screens.POST("/channels/:id", models.RoleAdmin, admin.UpdateChannel)
	screens.POST("/channels/:id/test", models.RoleOperator, admin.SendChannelTest)
	screens.GET("/channels/:id/test", models.RoleViewer, admin.RedirectChannelTest)
	screens.POST("/channels/:id/enable", models.RoleAdmin, admin.EnableChannel)
	screens.POST("/channels/:id/disable", models.RoleAdmin, admin.DisableChannel)
	screens.POST("/channels/:id/send-skipped", models.RoleOperator, admin.SendSkippedDeliveries)
	screens.GET("/channels/:id/rotate", models.RoleAdmin, admin.ConfirmRotateSecret)
	screens.POST("/channels/:id/rotate", models.RoleAdmin, admin.RotateChannelSecret)
	screens.GET("/channels/:id/delete", models.RoleAdmin, admin.ConfirmDeleteChannel)
	screens.POST("/channels/:id/delete", models.RoleAdmin, admin.DeleteChannel)
	screens.GET("/channels/:id/deliveries/:did", models.RoleViewer, admin.ShowDelivery)
	screens.POST("/channels/:id/deliveries/:did/replay", models.RoleOperator, admin.ReplayDelivery)

	// Status pages (install-wide): the list, and the switcher's choice,
	// which any team member makes for their own session.
	screens.GET("/pages", models.RoleAdmin, admin.ListPages)
	screens.POST("/pages", models.RoleAdmin, admin.CreatePage)
	screens.GET("/pages/:id/edit", models.RoleAdmin, admin.EditPage)
	screens.POST("/pages/:id", models.RoleAdmin, admin.UpdatePage)
	screens.GET("/pages/:id/delete", models.RoleAdmin, admin.ConfirmDeletePage)
	screens.POST("/pages/:id/delete", models.RoleAdmin, admin.DeletePage)
	screens.POST("/pages/current", models.RoleViewer, admin.SwitchPage)

	// Status page settings
	screens.GET("/settings", models.RoleViewer, admin.ShowSettings)
	screens.POST("/settings", models.RoleAdmin, admin.SaveSettings)
	screens.POST("/settings/sign-in", models.RoleAdmin, admin.SaveSignInSettings)
	screens.POST("/settings/access", models.RoleAdmin, admin.SaveAccessSettings)
	screens.POST("/settings/feed-tokens/:id/revoke", models.RoleAdmin, admin.RevokeFeedToken)

	// Own two-factor sign-in (TOTP): every role. When the install requires
	// it, these are the only screens a user without it reaches.
	screens.GET("/account/2fa", models.RoleViewer, admin.ShowTwoFactor)
	screens.GET("/account/2fa/qr.png", models.RoleViewer, admin.ShowTwoFactorQR)
	screens.POST("/account/2fa/setup", models.RoleViewer, admin.StartTwoFactor)
	screens.POST("/account/2fa/enable", models.RoleViewer, admin.EnableTwoFactor)
	screens.GET("/account/2fa/recovery-codes", models.RoleViewer, admin.ShowRecoveryCodes)
	screens.POST("/account/2fa/recovery-codes", models.RoleViewer, admin.RegenerateRecoveryCodes)
	screens.POST("/account/2fa/disable", models.RoleViewer, admin.DisableTwoFactor)
	// An admin resets the two-factor sign-in of someone locked out.
	screens.GET("/users/:id/reset-2fa", models.RoleAdmin, admin.ConfirmResetTwoFactor)
	screens.POST("/users/:id/reset-2fa", models.RoleAdmin, admin.ResetTwoFactor)

	// Audit log: read-only, there is no route to change or remove an entry.
	screens.GET("/audit", models.RoleViewer, admin.ListAudit)
	screens.GET("/audit/:id", models.RoleViewer, admin.ShowAuditEntry)

	// Visitors' subscriptions: the list shows e-mail addresses (personal
	// data), so it is for admins, as the team's addresses are. The import
	// takes a file larger than other forms (server.go lifts the body limit
	// for it; the handler applies its own).
	screens.GET("/subscribers", models.RoleAdmin, admin.ListSubscribers)
	screens.GET("/subscribers.csv", models.RoleAdmin, admin.ExportSubscribers)
	screens.GET("/subscribers/import", models.RoleAdmin, admin.ShowSubscriberImport)
	screens.POST("/subscribers/import", models.RoleAdmin, admin.ImportSubscribers)
	screens.GET("/subscribers/:id/remove", models.RoleAdmin, admin.ConfirmRemoveSubscriber)
	screens.POST("/subscribers/:id/remove", models.RoleAdmin, admin.RemoveSubscriber)
	// One subscriber with its e-mails and their attempts; replay one.
	screens.GET("/subscribers/:id", models.RoleAdmin, admin.ShowSubscriber)
	screens.POST("/subscribers/:id/deliveries/:delivery_id/replay", models.RoleAdmin, admin.ReplaySubscriberDelivery)

	// API tokens: shown once when created, stored as a hash, revocable.
	screens.GET("/tokens", models.RoleAdmin, admin.ListTokens)
	screens.GET("/tokens/new", models.RoleAdmin, admin.NewToken)
	screens.POST("/tokens", models.RoleAdmin, admin.CreateToken)
	screens.GET("/tokens/:id/created", models.RoleAdmin, admin.ShowCreatedToken)
	screens.GET("/tokens/:id/revoke", models.RoleAdmin, admin.ConfirmRevokeToken)
	screens.POST("/tokens/:id/revoke", models.RoleAdmin, admin.RevokeToken)

	// Users and invitations: an invitation link is shown once, stored as
	// a hash; the last admin of every page can be neither demoted,
	// limited to some pages, nor removed. Like the Status pages list and
	// the sign-in settings, these screens belong to the whole install:
	// admins limited to some pages get 403 (admin.RequireManagedPage).
	screens.GET("/users", models.RoleAdmin, admin.ListUsers)
	screens.POST("/users/invitations", models.RoleAdmin, admin.CreateInvitation)
	screens.POST("/users/:id/role", models.RoleAdmin, admin.SetUserRole)
	// Which pages a team member may see (every page, or some).
	screens.GET("/users/:id/pages", models.RoleAdmin, admin.EditUserPages)
	screens.POST("/users/:id/pages", models.RoleAdmin, admin.SaveUserPages)
	screens.GET("/users/:id/remove", models.RoleAdmin, admin.ConfirmRemoveUser)
	screens.POST("/users/:id/remove", models.RoleAdmin, admin.RemoveUser)
	screens.GET("/invitations/:id/created", models.RoleAdmin, admin.ShowCreatedInvitation)
	screens.POST("/invitations/:id/revoke", models.RoleAdmin, admin.RevokeInvitation)
	// Own account: every role changes their own password, e-mail,
	// sessions and API tokens (never beyond their role).
	screens.GET("/account", models.RoleViewer, admin.ShowAccount)
	screens.POST("/account/password", models.RoleViewer, admin.ChangePassword)
	screens.POST("/account/email", models.RoleViewer, admin.ChangeEmail)
	screens.POST("/account/sessions/others", models.RoleViewer, admin.SignOutOtherSessions)
	screens.POST("/account/sessions/:id/end", models.RoleViewer, admin.SignOutSession)
	screens.GET("/account/tokens", models.RoleViewer, admin.ListOwnTokens)
	screens.POST("/account/tokens", models.RoleViewer, admin.CreateOwnToken)
	screens.GET("/account/tokens/:id/created", models.RoleViewer, admin.ShowCreatedOwnToken)
	screens.POST("/account/tokens/:id/revoke", models.RoleViewer, admin.RevokeOwnToken)

	// Admin JSON API. Bearer tokens with scopes, not the session: no CSRF
	// check, no cookie set. Every answer, errors included, is JSON; paths
	// that match no endpoint get a JSON 404 or 405 from the catch-all.
	// Each endpoint names the least role of the token's owner and the
	// scope the token needs (api.Allow).
	v1 := guardAPI(e.Group("/api/v1", api.APIRequest), "/api/v1", roles, api.Allow)
	read := models.ScopeRead
	writeComponents := models.ScopeComponentsWrite
	v1.GET("/components", models.RoleViewer, read, api.APIListComponents)
	v1.POST("/components", models.RoleAdmin, writeComponents, api.APICreateComponent, api.Idempotent)
	v1.GET("/components/:id", models.RoleViewer, read, api.APIShowComponent)
	v1.PATCH("/components/:id", models.RoleOperator, writeComponents, api.APIUpdateComponent)
	v1.DELETE("/components/:id", models.RoleAdmin, writeComponents, api.APIDeleteComponent)
	v1.GET("/groups", models.RoleViewer, read, api.APIListGroups)
	v1.POST("/groups", models.RoleAdmin, writeComponents, api.APICreateGroup, api.Idempotent)
	v1.GET("/groups/:id", models.RoleViewer, read, api.APIShowGroup)
	v1.PATCH("/groups/:id", models.RoleAdmin, writeComponents, api.APIUpdateGroup)
	v1.DELETE("/groups/:id", models.RoleAdmin, writeComponents, api.APIDeleteGroup)
	// Channels: secrets masked in every answer but the one that makes
	// them. Create and rotate-secret take no Idempotency-Key: the stored
	// answer would keep the signing secret in plaintext.
	writeChannels := models.ScopeChannelsWrite
	v1.GET("/channels", models.RoleViewer, read, api.APIListChannels)
	v1.POST("/channels", models.RoleAdmin, writeChannels, api.APICreateChannel, api.Idempotent)
	v1.GET("/channels/:id", models.RoleViewer, read, api.APIShowChannel)
	v1.PATCH("/channels/:id", models.RoleAdmin, writeChannels, api.APIUpdateChannel)
	v1.DELETE("/channels/:id", models.RoleAdmin, writeChannels, api.APIDeleteChannel)
	v1.POST("/channels/:id/rotate-secret", models.RoleAdmin, writeChannels, api.APIRotateChannelSecret, api.Idempotent)
	// A test send waits on the receiver, not only on the database: its
	// key is claimed with a lease instead of holding a transaction.
	v1.POST("/channels/:id/test", models.RoleOperator, writeChannels, api.APISendChannelTest, api.IdempotentLeased)
	v1.GET("/channels/:id/deliveries", models.RoleViewer, read, api.APIListDeliveries)
	v1.GET("/channels/:id/deliveries/:did", models.RoleViewer, read, api.APIShowDelivery)
	v1.POST("/channels/:id/deliveries/:did/replay", models.RoleOperator, writeChannels, api.APIReplayDelivery, api.Idempotent)
	v1.POST("/channels/:id/send-skipped", models.RoleOperator, writeChannels, api.APISendSkipped, api.Idempotent)
	writeIncidents := models.ScopeIncidentsWrite
	v1.GET("/incidents", models.RoleViewer, read, api.APIListIncidents)
	v1.POST("/incidents", models.RoleOperator, writeIncidents, api.APICreateIncident, api.Idempotent)
	v1.GET("/incidents/:id", models.RoleViewer, read, api.APIShowIncident)
	v1.PATCH("/incidents/:id", models.RoleOperator, writeIncidents, api.APIUpdateIncident)
	v1.DELETE("/incidents/:id", models.RoleAdmin, writeIncidents, api.APIDeleteIncident)
	v1.POST("/incidents/:id/updates", models.RoleOperator, writeIncidents, api.APIPostIncidentUpdate, api.Idempotent)
	v1.PATCH("/incidents/:id/updates/:update_id", models.RoleOperator, writeIncidents, api.APIEditIncidentUpdate)
	v1.POST("/incidents/:id/resolve", models.RoleOperator, writeIncidents, api.APIResolveIncident, api.Idempotent)
	writeMaintenance := models.ScopeMaintenanceWrite
	v1.GET("/maintenance", models.RoleViewer, read, api.APIListMaintenance)
	v1.POST("/maintenance", models.RoleOperator, writeMaintenance, api.APIScheduleMaintenance, api.Idempotent)
	v1.GET("/maintenance/:id", models.RoleViewer, read, api.APIShowMaintenance)
	v1.PATCH("/maintenance/:id", models.RoleOperator, writeMaintenance, api.APIUpdateMaintenance)
	v1.POST("/maintenance/:id/cancel", models.RoleOperator, writeMaintenance, api.APICancelMaintenance, api.Idempotent)
	v1.POST("/maintenance/:id/complete", models.RoleOperator, writeMaintenance, api.APICompleteMaintenance, api.Idempotent)
	v1.POST("/maintenance/:id/updates", models.RoleOperator, writeMaintenance, api.APIPostMaintenanceUpdate, api.Idempotent)
	writePage := models.ScopePageWrite
	// Status pages: the list shows the pages the token reaches; creating,
	// renaming and deleting pages is install-wide (api.InstallWide: an
	// install-wide token of a user who may see every page).
	v1.GET("/pages", models.RoleViewer, read, api.APIListPages)
	v1.POST("/pages", models.RoleAdmin, models.ScopePageWrite, api.APICreatePage, api.InstallWide, api.Idempotent)
	v1.GET("/pages/:id", models.RoleAdmin, read, api.APIShowPages)
	v1.PATCH("/pages/:id", models.RoleAdmin, models.ScopePageWrite, api.APIUpdatePages, api.InstallWide)
	v1.DELETE("/pages/:id", models.RoleAdmin, models.ScopePageWrite, api.APIDeletePage, api.InstallWide)
	v1.GET("/page", models.RoleViewer, read, api.APIShowPage)
	v1.PATCH("/page", models.RoleAdmin, writePage, api.APIUpdatePage)
	// Users: e-mail addresses are for admins. POST invites (the answer
	// holds the link, once), so it takes no Idempotency-Key: the stored
	// answer would keep the link.
	writeUsers := models.ScopeUsersWrite
	// Users belong to the whole install (api.InstallWide).
	v1.GET("/users", models.RoleAdmin, read, api.APIListUsers, api.InstallWide)
	v1.POST("/users", models.RoleAdmin, writeUsers, api.APIInviteUser, api.InstallWide)
	v1.PATCH("/users/:id", models.RoleAdmin, writeUsers, api.APISetUserRole, api.InstallWide)
	v1.DELETE("/users/:id", models.RoleAdmin, writeUsers, api.APIRemoveUser, api.InstallWide)
	// Visitors' subscriptions: addresses are personal data, for admins'
	// tokens with a subscribers scope (read alone does not list them).
	v1.GET("/subscribers", models.RoleAdmin, models.ScopeSubscribersRead, api.APIListSubscribers)
	// No Idempotency-Key: the stored answer would keep the address after
	// a removal; a retry of a create that succeeded gets 409.
	v1.POST("/subscribers", models.RoleAdmin, models.ScopeSubscribersWrite, api.APICreateSubscriber)
	v1.DELETE("/subscribers/:id", models.RoleAdmin, models.ScopeSubscribersWrite, api.APIDeleteSubscriber)
	v1.Public(http.MethodGet, "/openapi.json", api.OpenAPI) // the API's description needs no token
	v1.PublicAny("/*", api.APINoRoute)

	answerHead(e) // last: covers every GET route above
	return roles
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

// publicPage registers the public resources of a status page on g: at /
// or under /s/{slug}.
func publicPage(g *echo.Group, site *site.Handler) {
	g.GET("/", site.ShowStatusPage)
	g.GET("/api/v2/*", site.StatusJSON)
	g.GET("/history.atom", site.Feed)
	g.GET("/history.rss", site.Feed)
	g.GET("/maintenance.ics", site.Calendar)
	g.GET("/badge.svg", site.Badge)
	g.GET("/favicon.svg", site.Favicon)
	g.GET("/favicon.ico", site.FaviconICO)
	g.GET("/history", site.ShowHistory)
	g.GET("/incidents/:id", site.ShowIncidentPermalink)
	g.GET("/maintenance/:id", site.ShowMaintenancePermalink)
	// Subscriptions to the page: the sign-up form carries the CSRF token;
	// a webhook subscription's answer shows its signing secret once.
	g.GET("/subscribe", site.ShowSubscribe, site.VerifyCSRF)
	g.POST("/subscribe", site.Subscribe, site.VerifyCSRF)
	g.POST("/subscribe/webhook", site.SubscribeWebhook, site.VerifyCSRF)
	// A private page's password form, and signing out of the page (which
	// only forgets the page's cookie: no CSRF token, the snapshot's page
	// carries the button; cross-site posts are refused).
	g.GET("/access", site.ShowAccess, site.VerifyCSRF)
	g.POST("/access", site.Access, site.VerifyCSRF)
	g.POST("/access/sign-out", site.SignOutOfPage)
	// An e-mailed, single-use sign-in link to a private page: asked for,
	// then opened (the GET shows a button; mail scanners do not post).
	g.POST("/access/link", site.SendAccessLink, site.VerifyCSRF)
	g.GET("/access/link/:token", site.ShowAccessLink, site.VerifyCSRF)
	g.POST("/access/link/:token", site.UseAccessLink, site.VerifyCSRF)
	// A visitor with access makes personal feed links (a feed token).
	g.GET("/access/feeds", site.ShowFeedLinks, site.VerifyCSRF)
	g.POST("/access/feeds", site.CreateFeedLinks, site.VerifyCSRF)
	for _, path := range []string{"/api/v2/*", "/history.atom", "/history.rss", "/maintenance.ics", "/badge.svg"} {
		g.OPTIONS(path, site.Preflight) // CORS preflight: any origin may read these
	}
}
