package site

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/heraldstatus/herald/handlers/serve"
	"github.com/heraldstatus/herald/models"
	views "github.com/heraldstatus/herald/views/site"
	"github.com/labstack/echo/v4"
)

// Sign-ups allowed per client IP in signupWindow.
const (
	signupsPerIP = 10
	signupWindow = time.Hour
)

// noStore marks a subscription answer as private to this visitor.
func noStore(c echo.Context) {
	c.Response().Header().Set("Cache-Control", "no-store")
}

// subscriptionPage loads the page for a subscription answer, which is
// never cached and may show the page's images.
func (h *Handler) subscriptionPage(c echo.Context, _ string) (*models.Page, error) {
	noStore(c)
	p, err := h.Store.Page(c.Request().Context(), pageID(c))
	if err != nil {
		return nil, err
	}
	serve.SetPagePolicy(c, p, true)
	return p, nil
}

// visibleComponents are the components a visitor may choose, checked as
// in chosen.
func (h *Handler) visibleComponents(c echo.Context, chosen []int64) ([]views.SubscribeComponent, map[int64]bool, error) {
	comps, err := h.Store.Components(c.Request().Context(), pageID(c))
	if err != nil {
		return nil, nil, err
	}
	picked := map[int64]bool{}
	for _, id := range chosen {
		picked[id] = true
	}
	visible := map[int64]bool{}
	var out []views.SubscribeComponent
	for _, comp := range comps {
		if !comp.Visible {
			continue
		}
		visible[comp.ID] = true
		out = append(out, views.SubscribeComponent{ID: strconv.FormatInt(comp.ID, 10), Name: comp.Name, Checked: picked[comp.ID]})
	}
	return out, visible, nil
}

// ShowSubscribe is /subscribe: the e-mail form (when e-mail is set up),
// the webhook form and the feeds. It sets the CSRF cookie, so it is never
// cached.
func (h *Handler) ShowSubscribe(c echo.Context) error {
	return h.renderSubscribe(c, http.StatusOK, views.SubscribeView{AllComponents: true, Hook: views.WebhookForm{AllComponents: true}})
}

func (h *Handler) renderSubscribe(c echo.Context, status int, v views.SubscribeView) error {
	p, err := h.subscriptionPage(c, "Subscribe")
	if err != nil {
		return err
	}
	ch := h.pageChrome("Subscribe · "+p.Name, p)
	ch.Nav = "subscribe"
	form, err := h.FormChrome(c, "Subscribe")
	if err != nil {
		return err
	}
	ch.CSRF = form.CSRF
	if v.Components, _, err = h.visibleComponents(c, checkedIDs(v.Components)); err != nil {
		return err
	}
	if v.Hook.Components, _, err = h.visibleComponents(c, checkedIDs(v.Hook.Components)); err != nil {
		return err
	}
	v.Chrome, v.PageName, v.Mail = ch, p.Name, h.mail
	return h.render(c, status, views.SubscribePage(v))
}

// checkedIDs are the ids of the checked components.
func checkedIDs(comps []views.SubscribeComponent) []int64 {
	var out []int64
	for _, comp := range comps {
		if comp.Checked {
			id, _ := strconv.ParseInt(comp.ID, 10, 64)
			out = append(out, id)
		}
	}
	return out
}

// scopeForm reads the "all components or these" choice of a form.
func scopeForm(c echo.Context, visible map[int64]bool) (all bool, ids []int64, problem string) {
	if c.FormValue("scope") != "some" {
		return true, nil, ""
	}
	form, err := c.FormParams()
	if err != nil {
		return false, nil, "The form could not be read."
	}
	for _, raw := range form["component"] {
		id, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || !visible[id] {
			return false, nil, "Choose components from the list."
		}
		ids = append(ids, id)
	}
	if len(ids) == 0 {
		return false, nil, "Choose at least one component, or all of them."
	}
	return false, ids, ""
}

// checkedOnly marks the components in ids as chosen.
func checkedOnly(comps []views.SubscribeComponent, ids []int64) []views.SubscribeComponent {
	for i := range comps {
		comps[i].Checked = false
		for _, id := range ids {
			if comps[i].ID == strconv.FormatInt(id, 10) {
				comps[i].Checked = true
			}
		}
	}
	return comps
}

// Subscribe signs an address up. Whatever the address's state (new,
// waiting, subscribed) the answer is the same; a bot that fills the
// hidden field gets it too, and nothing is written.
func (h *Handler) Subscribe(c echo.Context) error {
	if !h.mail {
		return echo.NewHTTPError(http.StatusNotFound, "E-mail subscriptions are not set up on this page.")
	}
	noStore(c)
	if ok, wait := h.signups.allow(c.RealIP(), h.Now()); !ok {
		c.Response().Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
		return echo.NewHTTPError(http.StatusTooManyRequests, fmt.Sprintf(
			"Too many sign-ups from your network. Try again in %d minutes.", int(math.Ceil(wait.Minutes()))))
	}
	sent := views.SubscribeView{Sent: true, Hook: views.WebhookForm{AllComponents: true}}
	if c.FormValue("website") != "" {
		return h.renderSubscribe(c, http.StatusOK, sent)
	}
	_, visible, err := h.visibleComponents(c, nil)
	if err != nil {
		return err
	}
	all, ids, problem := scopeForm(c, visible)
	email := c.FormValue("email")
	if problem == "" {
		problem = emailProblem(email)
	}
	if problem == "" {
		err = h.Store.Subscribe(c.Request().Context(), pageID(c), models.SubscribeInput{Email: email, AllComponents: all, Components: ids})
		var ve *models.ValidationError
		switch {
		case errors.As(err, &ve):
			problem = firstProblem(ve)
		case err != nil:
			return err
		}
	}
	if problem != "" {
		v := views.SubscribeView{Error: problem, AllComponents: all, Hook: views.WebhookForm{AllComponents: true}}
		for _, id := range ids {
			v.Components = append(v.Components, views.SubscribeComponent{ID: strconv.FormatInt(id, 10), Checked: true})
		}
		return h.renderSubscribe(c, http.StatusUnprocessableEntity, v)
	}
	return h.renderSubscribe(c, http.StatusOK, sent)
}

// emailProblem refuses what no address holds before the store sees it.
func emailProblem(raw string) string {
	switch {
	case !utf8.ValidString(raw) || strings.ContainsRune(raw, 0):
		return "Enter an e-mail address such as name@example.com."
	case strings.ContainsAny(raw, "\r\n"):
		return "Enter one e-mail address, without line breaks."
	}
	_, problem := models.NormalizeSubscriberEmail(raw)
	return problem
}

func firstProblem(ve *models.ValidationError) string {
	for _, k := range []string{"email", "components"} {
		if m := ve.Fields[k]; m != "" {
			return m
		}
	}
	for _, m := range ve.Fields {
		return m
	}
	return "Check the form and try again."
}

// linkError is the page of a subscription link that does not work.
func linkError(err error) error {
	if errors.Is(err, models.ErrSubscriptionExpired) {
		return echo.NewHTTPError(http.StatusGone, "This confirmation link has expired. Subscribe again to get a new one.")
	}
	if errors.Is(err, models.ErrSubscriptionLink) {
		return echo.NewHTTPError(http.StatusNotFound, "This subscription link does not work: it may be mistyped, already used, or the subscription was removed.")
	}
	return err
}

// ShowConfirm asks for a click: mail scanners fetch links, they do not
// post forms, so only a person confirms.
func (h *Handler) ShowConfirm(c echo.Context) error {
	p, err := h.subscriptionPage(c, "Confirm")
	if err != nil {
		return err
	}
	token := c.Param("token")
	return h.render(c, http.StatusOK, views.SubscriptionLinkPage(views.SubscriptionLinkView{
		Chrome: h.pageChrome("Confirm your subscription · "+p.Name, p), Action: models.SubscriptionConfirmPath(token),
		Heading: "Confirm your subscription", Text: "Confirm to start receiving " + p.Name + " updates by e-mail.",
		Button: "Confirm subscription"}))
}

// Confirm activates the subscription of the link.
func (h *Handler) Confirm(c echo.Context) error {
	p, err := h.subscriptionPage(c, "Confirmed")
	if err != nil {
		return err
	}
	if _, err := h.Store.ConfirmSubscription(c.Request().Context(), c.Param("token")); err != nil {
		return linkError(err)
	}
	return h.render(c, http.StatusOK, views.SubscriptionLinkPage(views.SubscriptionLinkView{
		Chrome: h.pageChrome("Subscribed · "+p.Name, p), Heading: "You are subscribed",
		Text: "You will get an e-mail when " + p.Name + " posts an incident or maintenance. Every message links to your preferences and to unsubscribe."}))
}

// ShowPreferences is a subscriber's own page: its address, components
// and the unsubscribe button.
func (h *Handler) ShowPreferences(c echo.Context) error {
	return h.renderPreferences(c, http.StatusOK, "", false, nil)
}

func (h *Handler) renderPreferences(c echo.Context, status int, problem string, saved bool, form *models.SubscriberPreferences) error {
	p, err := h.subscriptionPage(c, "Preferences")
	if err != nil {
		return err
	}
	token := c.Param("token")
	sub, err := h.Store.SubscriberByManageToken(c.Request().Context(), token)
	if err != nil || sub.PageID != p.ID {
		if err == nil {
			err = models.ErrSubscriptionLink
		}
		return linkError(err)
	}
	all, ids := sub.AllComponents, sub.Components
	if form != nil {
		all, ids = form.AllComponents, form.Components
	}
	comps, _, err := h.visibleComponents(c, ids)
	if err != nil {
		return err
	}
	var hook *views.WebhookStatus
	if sub.Kind == models.SubscriberWebhook {
		if hook, err = h.webhookStatus(c.Request().Context(), sub); err != nil {
			return err
		}
	}
	return h.render(c, status, views.PreferencesPage(views.PreferencesView{
		Chrome: h.pageChrome("Your subscription · "+p.Name, p), Email: sub.Email, Webhook: hook,
		Pending: sub.State == models.SubscriberPending, Action: models.SubscriptionPreferencesPath(token),
		Unsubscribe: models.SubscriptionUnsubscribePath(token), Components: checkedOnly(comps, ids),
		AllComponents: all, Error: problem, Saved: saved}))
}

// SavePreferences changes the subscriber's components.
func (h *Handler) SavePreferences(c echo.Context) error {
	noStore(c)
	token := c.Param("token")
	if _, err := h.Store.SubscriberByManageToken(c.Request().Context(), token); err != nil {
		return linkError(err)
	}
	_, visible, err := h.visibleComponents(c, nil)
	if err != nil {
		return err
	}
	all, ids, problem := scopeForm(c, visible)
	prefs := models.SubscriberPreferences{AllComponents: all, Components: ids}
	if problem == "" {
		err := h.Store.UpdateSubscriberPreferences(c.Request().Context(), token, prefs)
		var ve *models.ValidationError
		switch {
		case errors.As(err, &ve):
			problem = firstProblem(ve)
		case err != nil:
			return linkError(err)
		}
	}
	if problem != "" {
		return h.renderPreferences(c, http.StatusUnprocessableEntity, problem, false, &prefs)
	}
	return h.renderPreferences(c, http.StatusOK, "", true, nil)
}

// ShowUnsubscribe is the List-Unsubscribe URL opened in a browser: a
// button, since a GET must change nothing.
func (h *Handler) ShowUnsubscribe(c echo.Context) error {
	p, err := h.subscriptionPage(c, "Unsubscribe")
	if err != nil {
		return err
	}
	token := c.Param("token")
	sub, err := h.Store.SubscriberByManageToken(c.Request().Context(), token)
	if err != nil {
		return linkError(err)
	}
	text := "Stop all e-mails from " + p.Name + " and delete your address from its list."
	if sub.Kind == models.SubscriberWebhook {
		text = "Stop all notices from " + p.Name + " to your webhook and delete the subscription."
	}
	return h.render(c, http.StatusOK, views.SubscriptionLinkPage(views.SubscriptionLinkView{
		Chrome: h.pageChrome("Unsubscribe · "+p.Name, p), Action: models.SubscriptionUnsubscribePath(token),
		Heading: "Unsubscribe", Text: text, Button: "Unsubscribe", Danger: true}))
}

// Unsubscribe deletes the subscriber: RFC 8058's one-click POST (body
// List-Unsubscribe=One-Click, from the mail provider, no cookie) and the
// button of the pages above alike. The secret link is the credential.
func (h *Handler) Unsubscribe(c echo.Context) error {
	p, err := h.subscriptionPage(c, "Unsubscribed")
	if err != nil {
		return err
	}
	token := c.Param("token")
	sub, err := h.Store.SubscriberByManageToken(c.Request().Context(), token)
	if err == nil {
		err = h.Store.Unsubscribe(c.Request().Context(), token)
	}
	if err != nil {
		return linkError(err)
	}
	text := "Your address is deleted from " + p.Name + "’s list; no more e-mails will come. You can subscribe again at any time."
	if sub.Kind == models.SubscriberWebhook {
		text = "Your webhook subscription to " + p.Name + " is deleted, with its secret and its queued notices; no more requests will come. You can subscribe again at any time."
	}
	return h.render(c, http.StatusOK, views.SubscriptionLinkPage(views.SubscriptionLinkView{
		Chrome: h.pageChrome("Unsubscribed · "+p.Name, p), Heading: "You are unsubscribed", Text: text}))
}
