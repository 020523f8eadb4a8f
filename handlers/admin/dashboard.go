package admin

import (
	"net/http"

	"github.com/heraldstatus/herald/handlers/serve"
	"github.com/heraldstatus/herald/models"
	views "github.com/heraldstatus/herald/views/admin"
	"github.com/labstack/echo/v4"
)

// ShowDashboard is the admin home: overall status and what needs
// attention, of the page being managed or (?pages=all) of every page the
// user may see.
func (h *Handler) ShowDashboard(c echo.Context) error {
	if allPagesAsked(c) {
		return h.showAllPages(c)
	}
	ch, err := h.adminChrome(c, "Dashboard", "dashboard")
	if err != nil {
		return err
	}
	comps, err := h.Store.Components(c.Request().Context(), pageID(c))
	if err != nil {
		return err
	}
	counts := map[models.ComponentStatus]int{}
	var visible []models.ComponentStatus
	v := views.DashboardView{Chrome: ch, Components: len(comps)}
	for _, comp := range comps {
		counts[comp.Status]++
		if comp.Visible {
			visible = append(visible, comp.Status)
		}
		if comp.Status != models.StatusOperational {
			v.Attention = append(v.Attention, views.AdminComponentItem{ID: comp.ID, Name: comp.Name, Visible: comp.Visible, Status: serve.StatusView(comp.Status)})
		}
	}
	for _, s := range models.ComponentStatuses {
		v.Counts = append(v.Counts, views.StatusCount{Status: serve.StatusView(s), Count: counts[s]})
	}
	v.Banner = serve.Banner(models.WorstStatus(visible...))
	if err := h.addDashboardActivity(c.Request().Context(), pageID(c), &v); err != nil {
		return err
	}
	health, err := h.channelHealth(c.Request().Context(), pageID(c))
	if err != nil {
		return err
	}
	v.Channels, v.ChannelNotices, v.SkippedNotices = health.rows, health.notices, health.skipped
	if v.Subscribers, err = h.subscriberCounts(c); err != nil {
		return err
	}
	if ch.Allows("GET /admin/subscribers") {
		v.Subscribers.ListURL = "/admin/subscribers"
	}
	return serve.Render(c, http.StatusOK, views.DashboardPage(v))
}

// subscriberCounts are the dashboard's visitor subscriptions: how many
// receive notices, wait for their confirmation, or bounce.
func (h *Handler) subscriberCounts(c echo.Context) (views.SubscriberCounts, error) {
	n, err := h.Store.SubscriberKindCounts(c.Request().Context(), pageID(c))
	if err != nil {
		return views.SubscriberCounts{}, err
	}
	mail, hook := n[models.SubscriberEmail], n[models.SubscriberWebhook]
	return views.SubscriberCounts{Mail: h.Mail, Active: mail[models.SubscriberActive],
		Pending: mail[models.SubscriberPending], Bouncing: mail[models.SubscriberBouncing],
		Hooks: hook[models.SubscriberActive], HooksPending: hook[models.SubscriberPending],
		HooksStopped: hook[models.SubscriberBouncing]}, nil
}
