package admin

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/heraldstatus/herald/handlers/serve"
	"github.com/heraldstatus/herald/models"
	views "github.com/heraldstatus/herald/views/admin"
	"github.com/heraldstatus/herald/views/layout"
	"github.com/labstack/echo/v4"
)

// subscriberEmailsShown is how many of a subscriber's most recent e-mails
// its page lists.
const subscriberEmailsShown = 50

// zonedTime writes t in the page's zone, to the second.
func zonedTime(t time.Time, loc *time.Location) views.ZonedTime {
	format := "Jan 2, 15:04:05 MST"
	if t.In(loc).Year() != time.Now().In(loc).Year() {
		format = "Jan 2, 2006, 15:04:05 MST"
	}
	return views.ZonedTime{Text: t.In(loc).Format(format), UTC: t.UTC().Format("2006-01-02 15:04:05 UTC")}
}

func zonedTimePtr(t *time.Time, loc *time.Location) *views.ZonedTime {
	if t == nil {
		return nil
	}
	z := zonedTime(*t, loc)
	return &z
}

// ShowSubscriber is one subscriber: address, kind, state, components,
// dates, permanent failures and, for an e-mail subscriber, its most
// recent e-mails with every attempt. Admins only: addresses are personal
// data.
func (h *Handler) ShowSubscriber(c echo.Context) error {
	ctx := c.Request().Context()
	id, err := serve.PathID(c, "id")
	if err != nil {
		return err
	}
	sub, err := h.Store.SubscriberByID(ctx, id)
	if err != nil {
		return err
	}
	page, err := h.managedPage(c)
	if err != nil {
		return err
	}
	loc := pageLocation(page)
	ch, err := h.adminChrome(c, fmt.Sprintf("Subscriber %d", sub.ID), "subscribers")
	if err != nil {
		return err
	}
	v := views.SubscriberPageView{Chrome: ch, ID: sub.ID, Address: sub.Email, Webhook: sub.Kind == models.SubscriberWebhook,
		Kind: "E-mail", State: subscriberStateView(sub.State), Created: zonedTime(sub.CreatedAt, loc),
		Confirmed: zonedTimePtr(sub.ConfirmedAt, loc), PermanentFailures: sub.PermanentFailures,
		BounceAfter: models.BounceAfter, Zone: zoneLabel(loc, h.Now())}
	if v.Webhook {
		v.Kind = "Webhook"
	}
	if !sub.AllComponents {
		comps, err := h.Store.Components(ctx, sub.PageID)
		if err != nil {
			return err
		}
		names := make(map[int64]string, len(comps))
		for _, cp := range comps {
			names[cp.ID] = cp.Name
		}
		for _, cid := range sub.Components {
			v.Components = append(v.Components, names[cid])
		}
		if len(v.Components) == 0 {
			v.Components = []string{"None (every chosen component was deleted)"}
		}
	}
	if v.Webhook {
		rec, err := h.Store.SubscriberWebhookInfo(ctx, sub.ID)
		switch {
		case errors.Is(err, models.ErrNotFound):
			// Its channel is gone with the subscription being removed.
		case err != nil:
			return err
		default:
			v.ReceiverURL = rec.URLHint
			v.LogURL = fmt.Sprintf("/admin/channels/%d", rec.ChannelID)
		}
	} else {
		logs, total, err := h.Store.SubscriberDeliveryLogs(ctx, sub.ID, subscriberEmailsShown)
		if err != nil {
			return err
		}
		v.Total = total
		for _, l := range logs {
			v.Deliveries = append(v.Deliveries, subscriberDeliveryView(sub.ID, l, loc))
		}
	}
	return serve.Render(c, http.StatusOK, views.SubscriberPage(v))
}

func subscriberStateView(s models.SubscriberState) layout.Status {
	switch s {
	case models.SubscriberActive:
		return layout.Status{Slug: string(s), Label: "Active"}
	case models.SubscriberBouncing:
		return layout.Status{Slug: string(s), Label: "Bouncing"}
	}
	return layout.Status{Slug: string(s), Label: "Waiting for confirmation"}
}

// subscriberDeliveryView prepares one e-mail and its attempts.
func subscriberDeliveryView(subID int64, l models.SubscriberDeliveryLog, loc *time.Location) views.SubscriberDeliveryView {
	d := l.Delivery
	v := views.SubscriberDeliveryView{ID: d.ID, What: string(l.EventType), Title: l.EventTitle, State: deliveryStateView(d.State),
		Attempts: d.Attempts, Created: zonedTime(d.CreatedAt, loc),
		ReplayURL: fmt.Sprintf("%s/deliveries/%d/replay", subscriberPath(subID), d.ID)}
	switch {
	case d.Kind == models.MailConfirm:
		v.What = "Confirmation e-mail"
	case v.What == "":
		v.What = "Event no longer kept"
	default:
		v.IsEvent = true
	}
	if d.State == models.DeliverySkipped {
		v.Note = d.LastError
	}
	if d.DueAt != nil && !d.State.Final() {
		due := time.UnixMilli(*d.DueAt)
		v.Next = zonedTimePtr(&due, loc)
	}
	for _, a := range l.Log {
		v.List = append(v.List, views.SubscriberAttemptView{Number: a.Number, At: zonedTime(a.StartedAt, loc),
			Duration: durationMS(a.DurationMS, true), Outcome: deliveryStateView(models.DeliveryState(a.Outcome)),
			Code: views.HTTPStatus{Code: a.Code, OK: a.Code >= 200 && a.Code < 300, Error: a.Error}, Reply: a.Reply, Error: a.Error})
	}
	return v
}

// ReplaySubscriberDelivery sends one of a subscriber's e-mails again, now.
func (h *Handler) ReplaySubscriberDelivery(c echo.Context) error {
	id, err := serve.PathID(c, "id")
	if err != nil {
		return err
	}
	did, err := serve.PathID(c, "delivery_id")
	if err != nil {
		return err
	}
	back := subscriberPath(id)
	err = h.Store.ReplaySubscriberDelivery(c.Request().Context(), id, did)
	switch {
	case err == nil:
		return h.RedirectWithFlash(c, back+fmt.Sprintf("#email-%d", did), "success", "Replay queued. Herald sends the e-mail again within seconds.")
	case errors.Is(err, models.ErrSubscriberGone):
		return h.RedirectWithFlash(c, "/admin/subscribers", "error", "Not replayed: this subscriber no longer exists (it unsubscribed or was removed).")
	case errors.Is(err, models.ErrSubscriberBouncing):
		return h.RedirectWithFlash(c, back, "error", fmt.Sprintf("Not replayed: the address is bouncing (%d permanent failures in a row). Nothing more is sent to it.", models.BounceAfter))
	case errors.Is(err, models.ErrSubscriberPending):
		return h.RedirectWithFlash(c, back, "error", "Not replayed: the subscriber has not confirmed the subscription yet.")
	case errors.Is(err, models.ErrSubscriberConfirmed):
		return h.RedirectWithFlash(c, back, "error", "Not replayed: the subscriber has confirmed the subscription already.")
	case errors.Is(err, models.ErrConflict):
		return h.RedirectWithFlash(c, back, "error", "An attempt of this e-mail is under way. Replay it once it has finished.")
	}
	return err
}
