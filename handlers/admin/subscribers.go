package admin

import (
	"encoding/base64"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/heraldstatus/herald/handlers/serve"
	"github.com/heraldstatus/herald/models"
	views "github.com/heraldstatus/herald/views/admin"
	"github.com/heraldstatus/herald/views/layout"
	"github.com/labstack/echo/v4"
)

// The Subscribers screen: the visitors subscribed to the page, filtered,
// removed one by one, exported and imported as CSV. Addresses are
// personal data: these screens are for admins, and no address is logged.

const subscribersPerPage = 50

// exportBatch is how many rows the CSV export reads at a time.
const exportBatch = 1000

// maxImportProblems is how many invalid lines the dry run lists.
const maxImportProblems = 100

// SubscriberImportPath is the import's URL: its body limit is its own
// (web/server.go).
const SubscriberImportPath = "/admin/subscribers/import"

// MaxSubscriberImportBody bounds the import's request body: the file as
// a multipart upload, or its base64 form posted back by the confirm
// button, with room for the form around it. Below it the handler names
// the 5 MiB limit of the file itself.
const MaxSubscriberImportBody = models.MaxImportBytes*4/3 + 1<<20

func subscriberPath(id int64) string { return "/admin/subscribers/" + strconv.FormatInt(id, 10) }

// subscriberFilter parses q, kind, state and component against the
// page's components. It returns the filter, the form's values and notes,
// and the query of the valid values (for page and export links).
func subscriberFilter(c echo.Context, comps []models.Component) (models.SubscriberFilter, views.SubscriberFilterView, url.Values) {
	f := models.SubscriberFilter{PageID: pageID(c)}
	fv := views.SubscriberFilterView{
		Kinds:      []layout.Option{{Value: "", Label: "All kinds"}, {Value: "email", Label: "E-mail"}, {Value: "webhook", Label: "Webhook"}},
		States:     []layout.Option{{Value: "", Label: "All states"}},
		Components: []layout.Option{{Value: "", Label: "All components"}},
	}
	for _, s := range models.SubscriberStates {
		fv.States = append(fv.States, layout.Option{Value: string(s), Label: s.Label()})
	}
	for _, comp := range comps {
		fv.Components = append(fv.Components, layout.Option{Value: strconv.FormatInt(comp.ID, 10), Label: comp.Name})
	}
	query := url.Values{}
	if q := strings.TrimSpace(c.QueryParam("q")); q != "" {
		switch {
		case !utf8.ValidString(q) || strings.ContainsFunc(q, unicode.IsControl):
			fv.Notes = append(fv.Notes, "The search is not valid text and was ignored.")
		case utf8.RuneCountInString(q) > maxActorFilter:
			fv.Notes = append(fv.Notes, "The search is longer than any address and was ignored.")
		default:
			f.Search, fv.Search = q, q
			query.Set("q", q)
		}
	}
	if k := c.QueryParam("kind"); k != "" {
		if models.SubscriberKind(k).Valid() {
			f.Kind, fv.Kind = models.SubscriberKind(k), k
			query.Set("kind", k)
		} else {
			fv.Notes = append(fv.Notes, fmt.Sprintf("Unknown kind “%s” ignored: choose e-mail or webhook.", serve.Clip(k)))
		}
	}
	if s := c.QueryParam("state"); s != "" {
		if models.SubscriberState(s).Valid() {
			f.State, fv.State = models.SubscriberState(s), s
			query.Set("state", s)
		} else {
			fv.Notes = append(fv.Notes, fmt.Sprintf("Unknown state “%s” ignored: choose pending, active or bouncing.", serve.Clip(s)))
		}
	}
	if s := c.QueryParam("component"); s != "" {
		id, err := strconv.ParseInt(s, 10, 64)
		known := false
		for _, comp := range comps {
			known = known || (err == nil && comp.ID == id)
		}
		if known {
			f.Component, fv.Component = id, s
			query.Set("component", s)
		} else {
			fv.Notes = append(fv.Notes, fmt.Sprintf("Unknown component “%s” ignored.", serve.Clip(s)))
		}
	}
	fv.Active = len(query) > 0 || len(fv.Notes) > 0
	return f, fv, query
}

func componentNames(comps []models.Component) map[int64]string {
	names := make(map[int64]string, len(comps))
	for _, comp := range comps {
		names[comp.ID] = comp.Name
	}
	return names
}

// zonedDate is a time as the list shows it: the date in the page's zone,
// and the exact time with the zone for its title.
func zonedDate(t time.Time, loc *time.Location) (string, string) {
	at := t.In(loc)
	return at.Format("Jan 2, 2006"), at.Format("Jan 2, 2006, 15:04 MST")
}

// ListSubscribers is the Subscribers screen.
func (h *Handler) ListSubscribers(c echo.Context) error {
	ctx := c.Request().Context()
	comps, err := h.Store.Components(ctx, pageID(c))
	if err != nil {
		return err
	}
	f, fv, query := subscriberFilter(c, comps)
	page := listPage(c)
	total, err := h.Store.CountSubscribers(ctx, f)
	if err != nil {
		return err
	}
	counts, err := h.Store.SubscriberStateCounts(ctx, pageID(c))
	if err != nil {
		return err
	}
	f.Limit, f.Offset = subscribersPerPage, (page-1)*subscribersPerPage
	list, err := h.Store.Subscribers(ctx, f)
	if err != nil {
		return err
	}
	loc, err := h.pageZone(c)
	if err != nil {
		return err
	}
	ch, err := h.adminChrome(c, "Subscribers", "subscribers")
	if err != nil {
		return err
	}
	v := views.SubscribersView{Chrome: ch, Mail: h.Mail, Filter: fv, Total: total,
		Active: counts[models.SubscriberActive], Pending: counts[models.SubscriberPending], Bouncing: counts[models.SubscriberBouncing]}
	names := componentNames(comps)
	for i := range list {
		sub := &list[i]
		r := views.SubscriberRow{ID: sub.ID, Address: h.Store.SubscriberAddress(sub), Kind: string(sub.Kind),
			KindLabel: "E-mail", State: string(sub.State), StateLabel: sub.State.Label(),
			Components: models.SubscriberComponentNames(sub, names, ", "), RemoveURL: subscriberPath(sub.ID) + "/remove", URL: subscriberPath(sub.ID)}
		if sub.Kind == models.SubscriberWebhook {
			r.KindLabel = "Webhook"
		}
		if r.Components == "" {
			r.Components = "None (their components were deleted)"
		}
		r.Created, r.CreatedTitle = zonedDate(sub.CreatedAt, loc)
		if sub.ConfirmedAt != nil {
			r.Confirmed, r.ConfirmedTitle = zonedDate(*sub.ConfirmedAt, loc)
		}
		v.Rows = append(v.Rows, r)
	}
	link := func(path string, n int) string {
		q := url.Values{}
		for k, vs := range query {
			q[k] = vs
		}
		if n > 1 {
			q.Set("page", strconv.Itoa(n))
		}
		if enc := q.Encode(); enc != "" {
			return path + "?" + enc
		}
		return path
	}
	if page > 1 {
		v.Newer = link("/admin/subscribers", page-1)
	}
	if int64(page*subscribersPerPage) < total {
		v.Older = link("/admin/subscribers", page+1)
	}
	v.ExportURL = link("/admin/subscribers.csv", 1)
	return serve.Render(c, http.StatusOK, views.SubscribersPage(v))
}

// ExportSubscribers streams the filtered list as CSV, a batch of rows at
// a time: email, kind, state, components, created_at, confirmed_at (RFC
// 3339, UTC). Cells a spreadsheet would run as formulas are defused.
func (h *Handler) ExportSubscribers(c echo.Context) error {
	ctx := c.Request().Context()
	comps, err := h.Store.Components(ctx, pageID(c))
	if err != nil {
		return err
	}
	f, _, _ := subscriberFilter(c, comps)
	names := componentNames(comps)
	res := c.Response()
	res.Header().Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	res.Header().Set(echo.HeaderContentDisposition,
		fmt.Sprintf(`attachment; filename="subscribers-%s.csv"`, h.Now().UTC().Format("2006-01-02")))
	res.Header().Set("Cache-Control", "no-store")
	w := csv.NewWriter(res)
	started := false
	err = h.Store.EachSubscriberBatch(ctx, f, exportBatch, func(list []models.Subscriber) error {
		if !started {
			started = true
			res.WriteHeader(http.StatusOK)
			if err := w.Write(models.SubscriberCSVHeader); err != nil {
				return err
			}
		}
		for i := range list {
			if err := w.Write(h.Store.SubscriberCSVRecord(&list[i], names)); err != nil {
				return err
			}
		}
		w.Flush()
		res.Flush()
		return w.Error()
	})
	if err != nil {
		if started {
			// The status is sent: cut the file short rather than append
			// an error page to it.
			h.Logger.Error("export subscribers", "error", err)
			return nil
		}
		return err
	}
	if !started {
		res.WriteHeader(http.StatusOK)
		if err := w.Write(models.SubscriberCSVHeader); err != nil {
			return err
		}
	}
	w.Flush()
	return w.Error()
}

// ShowSubscriberImport is the import's upload form.
func (h *Handler) ShowSubscriberImport(c echo.Context) error {
	return h.renderImport(c, http.StatusOK, views.SubscriberImportView{})
}

func (h *Handler) renderImport(c echo.Context, status int, v views.SubscriberImportView) error {
	ch, err := h.adminChrome(c, "Import subscribers", "subscribers")
	if err != nil {
		return err
	}
	v.Chrome, v.Mail, v.MaxMiB = ch, h.Mail, models.MaxImportBytes>>20
	return serve.Render(c, status, views.SubscriberImportPage(v))
}

// ImportSubscribers takes the uploaded file and shows the dry run; the
// dry run's confirm button posts the same file back (confirm=1, base64 in
// data), and only then are the addresses imported. Re-posting the file
// instead of stashing it keeps nothing on the server between the two
// steps and works with any number of replicas; the import plans again,
// so an address subscribed meanwhile is counted as existing.
func (h *Handler) ImportSubscribers(c echo.Context) error {
	ctx := c.Request().Context()
	if c.FormValue("confirm") == "1" {
		data, err := base64.RawURLEncoding.DecodeString(c.FormValue("data"))
		if err != nil || len(data) > models.MaxImportBytes {
			return h.renderImport(c, http.StatusBadRequest, views.SubscriberImportView{Problem: "The confirmation did not carry the file intact. Upload it again."})
		}
		plan, err := h.Store.ImportSubscribers(ctx, pageID(c), data)
		var fe *models.ErrImportFile
		if errors.As(err, &fe) {
			return h.renderImport(c, http.StatusUnprocessableEntity, views.SubscriberImportView{Problem: fe.Problem})
		}
		if err != nil {
			return err
		}
		return h.RedirectWithFlash(c, "/admin/subscribers", "success", fmt.Sprintf("Imported %s %s. %s subscribed already, %s invalid %s skipped.",
			layout.Thousands(int64(plan.Added)), plural1(plan.Added, "subscriber", "subscribers"), layout.Thousands(int64(plan.Existing)),
			layout.Thousands(int64(len(plan.Invalid))), plural1(len(plan.Invalid), "line", "lines")))
	}
	fh, err := c.FormFile("file")
	if err != nil {
		return h.renderImport(c, http.StatusUnprocessableEntity, views.SubscriberImportView{Problem: "Choose a CSV file to import."})
	}
	if fh.Size > models.MaxImportBytes {
		return h.renderImport(c, http.StatusRequestEntityTooLarge, views.SubscriberImportView{
			Problem: fmt.Sprintf("The file is larger than %d MiB. Split it and import the parts one after the other.", models.MaxImportBytes>>20)})
	}
	f, err := fh.Open()
	if err != nil {
		return fmt.Errorf("open uploaded file: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, models.MaxImportBytes+1))
	if err != nil {
		return fmt.Errorf("read uploaded file: %w", err)
	}
	if len(data) > models.MaxImportBytes {
		return h.renderImport(c, http.StatusRequestEntityTooLarge, views.SubscriberImportView{
			Problem: fmt.Sprintf("The file is larger than %d MiB. Split it and import the parts one after the other.", models.MaxImportBytes>>20)})
	}
	plan, err := h.Store.PlanSubscriberImport(ctx, pageID(c), data)
	var fe *models.ErrImportFile
	if errors.As(err, &fe) {
		return h.renderImport(c, http.StatusUnprocessableEntity, views.SubscriberImportView{Problem: fe.Problem})
	}
	if err != nil {
		return err
	}
	pv := &views.ImportPlanView{FileName: uploadName(fh.Filename), Added: plan.Added, Existing: plan.Existing,
		Invalid: len(plan.Invalid), Unknown: plan.UnknownComponents, Data: base64.RawURLEncoding.EncodeToString(data)}
	for i, p := range plan.Invalid {
		if i == maxImportProblems {
			pv.MoreProblems = len(plan.Invalid) - i
			break
		}
		pv.Problems = append(pv.Problems, views.ImportProblemRow{Line: p.Line, Reason: p.Reason})
	}
	return h.renderImport(c, http.StatusOK, views.SubscriberImportView{Plan: pv})
}

// uploadName is the file's base name as the browser sent it, if it is
// sensible text.
func uploadName(name string) string {
	name = filepath.Base(strings.ReplaceAll(name, `\`, "/"))
	if !utf8.ValidString(name) || strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }) || len(name) > 200 || name == "." || name == "/" {
		return ""
	}
	return name
}

func plural1(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// ConfirmRemoveSubscriber asks before removing a subscriber.
func (h *Handler) ConfirmRemoveSubscriber(c echo.Context) error {
	id, err := serve.PathID(c, "id")
	if err != nil {
		return err
	}
	sub, err := h.Store.Subscriber(c.Request().Context(), pageID(c), id)
	if err != nil {
		return err
	}
	ch, err := h.adminChrome(c, "Remove subscriber", "subscribers")
	if err != nil {
		return err
	}
	return serve.Render(c, http.StatusOK, views.ConfirmPage(views.ConfirmView{
		Chrome:   ch,
		Question: fmt.Sprintf("Remove subscriber “%s”?", h.Store.SubscriberAddress(sub)),
		Detail:   "Herald deletes the address and the messages not yet sent to it; nothing more is sent. They can subscribe again from the status page. This cannot be undone.",
		Action:   subscriberPath(id) + "/remove",
		Confirm:  "Remove subscriber",
		Cancel:   "/admin/subscribers",
	}))
}

// RemoveSubscriber removes a subscriber after confirmation.
func (h *Handler) RemoveSubscriber(c echo.Context) error {
	id, err := serve.PathID(c, "id")
	if err != nil {
		return err
	}
	if err := h.Store.RemoveSubscriber(c.Request().Context(), pageID(c), id); err != nil {
		return err
	}
	return h.RedirectWithFlash(c, "/admin/subscribers", "success", "Subscriber removed.")
}
