package site

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/heraldstatus/herald/models"
	views "github.com/heraldstatus/herald/views/site"
	"github.com/labstack/echo/v4"
)

// SubscribeWebhook signs a webhook receiver up: the URL is checked as a
// channel's is, https only, and against the egress policy for visitors
// (no loopback, link-local or private address unless the admin allowed
// it). The answer shows the signing secret, this once, and the
// subscription's own link; the engine then sends the verification event.
// A bad URL is a 422 with nothing written.
func (h *Handler) SubscribeWebhook(c echo.Context) error {
	noStore(c)
	if ok, wait := h.signups.allow(c.RealIP(), h.Now()); !ok {
		c.Response().Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
		return echo.NewHTTPError(http.StatusTooManyRequests, fmt.Sprintf(
			"Too many sign-ups from your network. Try again in %d minutes.", int(math.Ceil(wait.Minutes()))))
	}
	if c.FormValue("website") != "" {
		// A bot filled the hidden field: it gets an answer that looks
		// like any other, and nothing is written.
		return h.renderWebhookSubscribed(c, &models.WebhookSubscription{Secret: models.NewSigningSecret(),
			ManageToken: "unknown", URLHint: "https://…"})
	}
	_, visible, err := h.visibleComponents(c, nil)
	if err != nil {
		return err
	}
	all, ids, problem := scopeForm(c, visible)
	raw := c.FormValue("url")
	target, urlProblem := models.NormalizeSubscriberWebhookURL(raw)
	if urlProblem != "" {
		problem = urlProblem
	}
	if problem == "" {
		ctx, cancel := context.WithTimeout(c.Request().Context(), 3*time.Second)
		problem = h.Egress.Visitor().Refusal(ctx, target)
		cancel()
	}
	var sub *models.WebhookSubscription
	if problem == "" {
		sub, err = h.Store.SubscribeWebhook(c.Request().Context(), pageID(c),
			models.WebhookSubscribeInput{URL: target, AllComponents: all, Components: ids})
		var ve *models.ValidationError
		switch {
		case errors.As(err, &ve):
			problem = firstProblem(ve)
		case err != nil:
			return err
		}
	}
	if problem != "" {
		form := views.WebhookForm{Error: problem, AllComponents: all}
		if len(raw) <= 2048 && validFormText(raw) {
			form.URL = raw
		}
		for _, id := range ids {
			form.Components = append(form.Components, views.SubscribeComponent{ID: strconv.FormatInt(id, 10), Checked: true})
		}
		return h.renderSubscribe(c, http.StatusUnprocessableEntity, views.SubscribeView{AllComponents: true, Hook: form})
	}
	h.Logger.Info("webhook subscription", "subscriber_id", sub.Subscriber.ID, "channel_id", sub.ChannelID, "url", sub.URLHint)
	return h.renderWebhookSubscribed(c, sub)
}

// validFormText: text that may be shown back in the form as typed.
func validFormText(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsFunc(s, unicode.IsControl)
}

func (h *Handler) renderWebhookSubscribed(c echo.Context, sub *models.WebhookSubscription) error {
	p, err := h.subscriptionPage(c, "Webhook subscription")
	if err != nil {
		return err
	}
	base := h.Store.BaseURL()
	if base == "" {
		base = c.Scheme() + "://" + c.Request().Host
	}
	return h.render(c, http.StatusOK, views.WebhookSubscribedPage(views.WebhookSubscribedView{
		Chrome: h.pageChrome("Your webhook subscription · "+p.Name, p), PageName: p.Name, Secret: sub.Secret,
		URLHint: sub.URLHint, ManageURL: base + models.SubscriptionPreferencesPath(sub.ManageToken)}))
}

// webhookStatus says where a webhook subscription stands, for its page.
func (h *Handler) webhookStatus(ctx context.Context, sub *models.Subscriber) (*views.WebhookStatus, error) {
	info, err := h.Store.SubscriberWebhookInfo(ctx, sub.ID)
	if err != nil {
		return nil, err
	}
	st := &views.WebhookStatus{URLHint: info.URLHint}
	switch {
	case sub.State == models.SubscriberActive:
		st.State, st.Text = "verified", "Verified: your receiver answered the verification event, and notices are sent to it."
	case sub.State == models.SubscriberBouncing || !info.Enabled:
		st.State, st.Text = "stopped", "Stopped: deliveries to your receiver kept failing, so no more are sent. Unsubscribe and subscribe again once it works."
	case info.Verification == models.DeliveryFailed:
		st.State, st.Text = "pending", "Not verified: your receiver did not answer the verification event with a 2xx status ("+info.VerificationError+"). Nothing is sent to it; the subscription is deleted 48 hours after signing up."
	default:
		st.State, st.Text = "pending", "Waiting for verification: answer the subscription.verification event with a 2xx status. Until then nothing else is sent."
		if info.VerificationError != "" {
			st.Text += " The last attempt met: " + info.VerificationError + "; it is retried."
		}
	}
	return st, nil
}
