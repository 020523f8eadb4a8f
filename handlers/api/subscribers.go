package api

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/heraldstatus/herald/handlers/serve"
	"github.com/heraldstatus/herald/models"
	"github.com/labstack/echo/v4"
)

const subscriberGone = "That subscriber does not exist."

// maxSubscriberSearch bounds ?q: longer than any e-mail address.
const maxSubscriberSearch = 254

// apiSubscriber is a visitor's subscription as the API shows it: the
// e-mail address, or a webhook's URL masked; never a token or a secret.
type apiSubscriber struct {
	ID            string   `json:"id"`
	Kind          string   `json:"kind"`
	Email         string   `json:"email,omitempty"`
	URL           string   `json:"url,omitempty"`
	State         string   `json:"state"`
	AllComponents bool     `json:"all_components"`
	Components    []string `json:"components"`
	CreatedAt     string   `json:"created_at"`
	ConfirmedAt   *string  `json:"confirmed_at"`
}

func (h *Handler) subscriberJSON(sub *models.Subscriber) apiSubscriber {
	out := apiSubscriber{ID: formatAPIID(sub.ID), Kind: string(sub.Kind), State: string(sub.State),
		AllComponents: sub.AllComponents, Components: []string{}, CreatedAt: formatAPITime(sub.CreatedAt)}
	if sub.Kind == models.SubscriberEmail {
		out.Email = sub.Email
	} else {
		out.URL = h.Store.SubscriberAddress(sub)
	}
	for _, id := range sub.Components {
		out.Components = append(out.Components, formatAPIID(id))
	}
	if sub.ConfirmedAt != nil {
		at := formatAPITime(*sub.ConfirmedAt)
		out.ConfirmedAt = &at
	}
	return out
}

// subscriberBody is the body of POST /api/v1/subscribers: an e-mail
// address confirmed elsewhere, and its components (left out: all).
type subscriberBody struct {
	Email      optional[string]  `json:"email"`
	Components optional[[]apiID] `json:"components"`
	// PageID is the page the subscriber follows (default: the first
	// page).
	PageID optional[apiID] `json:"page_id"`
}

// APIListSubscribers is GET /api/v1/subscribers, newest first, filtered
// by kind, state, component and q (part of the address).
func (h *Handler) APIListSubscribers(c echo.Context) error {
	page, query, err := readListQuery(c, "kind", "state", "component", "q", "page_id")
	if err != nil {
		return h.apiFail(c, err, "")
	}
	pageID, err := h.listPage(c)
	if err != nil {
		return h.apiFail(c, err, "")
	}
	f, err := subscriberListFilter(query, pageID)
	if err != nil {
		return h.apiFail(c, err, "")
	}
	ctx := c.Request().Context()
	total, err := h.Store.CountSubscribers(ctx, f)
	if err != nil {
		return h.apiFail(c, err, "")
	}
	out := []apiSubscriber{}
	if int64(page.offset()) < total {
		f.Limit, f.Offset = page.PerPage, page.offset()
		list, err := h.Store.Subscribers(ctx, f)
		if err != nil {
			return h.apiFail(c, err, "")
		}
		for i := range list {
			out = append(out, h.subscriberJSON(&list[i]))
		}
	}
	setListHeaders(c, page, int(total), query)
	return c.JSON(http.StatusOK, out)
}

// subscriberListFilter reads the list's filters; a value it cannot use is
// a 400 naming the parameter.
func subscriberListFilter(query url.Values, pageID int64) (models.SubscriberFilter, error) {
	f := models.SubscriberFilter{PageID: pageID}
	if k := query.Get("kind"); k != "" {
		if !models.SubscriberKind(k).Valid() {
			return f, queryProblem("invalid_parameter", "kind", "“kind” must be email or webhook.")
		}
		f.Kind = models.SubscriberKind(k)
	}
	if s := query.Get("state"); s != "" {
		if !models.SubscriberState(s).Valid() {
			return f, queryProblem("invalid_parameter", "state", "“state” must be one of: pending, active, bouncing.")
		}
		f.State = models.SubscriberState(s)
	}
	if s := query.Get("component"); s != "" {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil || id < 1 {
			return f, queryProblem("invalid_parameter", "component", "“component” must be a component id.")
		}
		f.Component = id
	}
	if q := query.Get("q"); q != "" {
		if !utf8.ValidString(q) || strings.ContainsFunc(q, unicode.IsControl) || utf8.RuneCountInString(q) > maxSubscriberSearch {
			return f, queryProblem("invalid_parameter", "q", "“q” must be text of at most 254 characters, without control characters.")
		}
		f.Search = q
	}
	return f, nil
}

// APICreateSubscriber is POST /api/v1/subscribers: an e-mail subscriber
// confirmed elsewhere, active at once (no confirmation e-mail). An
// address subscribed already is a 409.
func (h *Handler) APICreateSubscriber(c echo.Context) error {
	var body subscriberBody
	if err := decodeJSON(c, &body); err != nil {
		return h.apiFail(c, err, "")
	}
	if !body.Email.Set {
		return serve.JSONError(c, http.StatusUnprocessableEntity, "validation_failed", "Send the subscriber's e-mail address.", "email")
	}
	pageID, err := h.createPage(c, body.PageID)
	if err != nil {
		return h.apiFail(c, err, "")
	}
	in := models.SubscribeInput{Email: body.Email.Value, AllComponents: !body.Components.Set}
	for _, id := range body.Components.Value {
		in.Components = append(in.Components, int64(id))
	}
	sub, err := h.Store.CreateConfirmedSubscriber(c.Request().Context(), pageID, in)
	if errors.Is(err, models.ErrSubscriberExists) {
		return serve.JSONError(c, http.StatusConflict, "subscriber_exists", "This address is subscribed already.", "email")
	}
	if err != nil {
		return h.apiFail(c, err, "")
	}
	return c.JSON(http.StatusCreated, h.subscriberJSON(sub))
}

// APIDeleteSubscriber is DELETE /api/v1/subscribers/:id: the address and
// its queued deliveries are gone at once.
func (h *Handler) APIDeleteSubscriber(c echo.Context) error {
	if err := decodeNoFields(c); err != nil {
		return h.apiFail(c, err, "")
	}
	id, ok := apiPathID(c, "id")
	if !ok {
		return serve.JSONError(c, http.StatusNotFound, "not_found", subscriberGone, "")
	}
	ctx := c.Request().Context()
	pageID, err := h.Store.ObjectPage(ctx, "subscribers", id)
	if err == nil && !tokenReaches(c, pageID) {
		err = models.ErrNotFound
	}
	if err != nil {
		return h.apiFail(c, err, subscriberGone)
	}
	if err := h.Store.RemoveSubscriber(ctx, pageID, id); err != nil {
		return h.apiFail(c, err, subscriberGone)
	}
	return c.NoContent(http.StatusNoContent)
}
