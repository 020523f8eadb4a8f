package site

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/heraldstatus/herald/handlers/serve"
	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/notify"
	"github.com/heraldstatus/herald/public"
	views "github.com/heraldstatus/herald/views/site"
	"github.com/labstack/echo/v4"
)

// Private pages (issue 16). RequireAccess stands before every public
// resource of a page; on a private page it lets through only a visitor
// with access, and marks every answer, granted or not, private to that
// visitor: Cache-Control private (no-store when refused), Vary: Cookie,
// X-Robots-Tag: noindex, and no Access-Control-Allow-Origin (a browser
// let in by its address must not let other sites' scripts read the page).

// accessKey is the echo context key of the request's *accessState.
const accessKey = "herald.site.access"

// accessState is what RequireAccess found about a private page's request.
type accessState struct {
	granted bool
	how     string // "cookie", "team", "ip", "token"
}

// accessCookieTTL is how long a visitor's access cookie lasts.
const accessCookieTTL = 30 * 24 * time.Hour

// Limits of wrong page passwords, per client address and page.
const (
	accessFailWindow = 15 * time.Minute
	accessFailMax    = 10
)

// privateMessage is all a refused request learns of the page.
const privateMessage = "This status page is private."

// isPrivate reports whether this request is for a private page (after
// RequireAccess).
func isPrivate(c echo.Context) bool {
	_, ok := c.Get(accessKey).(*accessState)
	return ok
}

// pageAccess is the access settings of the request's page, from the page
// index (read again after every change).
func (h *Handler) pageAccess(c echo.Context) (models.PageAccess, error) {
	ix, err := h.pages(c.Request().Context())
	if err != nil {
		return models.PageAccess{}, err
	}
	if a, ok := ix.access[pageID(c)]; ok {
		return a, nil
	}
	// A page newer than the index: ask the database.
	return h.Store.PageAccess(models.ReadOnly(c.Request().Context()), pageID(c))
}

// RequireAccess is the middleware of every public resource of a page,
// after ServeHost or ServeSlug: on a private page, the visitor needs
// access (see hasAccess, and feed tokens on the feeds, calendar, badges
// and JSON); the ways in ({prefix}/access, its sign-out and the e-mailed
// links) are open to all.
func (h *Handler) RequireAccess(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		a, err := h.pageAccess(c)
		if err != nil {
			return err
		}
		if a.Public {
			return next(c)
		}
		st := &accessState{}
		c.Set(accessKey, st)
		res := c.Response()
		res.Before(func() {
			hd := res.Header()
			for _, k := range []string{"Access-Control-Allow-Origin", "Access-Control-Expose-Headers",
				"Access-Control-Allow-Methods", "Access-Control-Allow-Headers", "Access-Control-Max-Age"} {
				hd.Del(k)
			}
			if st.granted {
				hd.Set("Cache-Control", "private, no-cache")
			} else {
				hd.Set("Cache-Control", "no-store")
			}
			hd.Set("X-Robots-Tag", "noindex")
			if !strings.Contains(strings.Join(hd.Values("Vary"), ","), "Cookie") {
				hd.Add("Vary", "Cookie")
			}
		})
		if accessRoute(c) {
			return next(c)
		}
		how, err := h.hasAccess(c, a)
		if err != nil {
			return err
		}
		if how == "" && tokenRoute(c) && c.QueryParams().Has("token") {
			switch err := h.Store.CheckPageFeedToken(c.Request().Context(), a.PageID, c.QueryParam("token")); {
			case err == nil:
				how = "token"
			case !errors.Is(err, models.ErrFeedToken):
				return err
			}
		}
		if how == "" {
			return h.denyAccess(c, a)
		}
		st.granted, st.how = true, how
		return next(c)
	}
}

// routeOnPage is the request's route on its page: "/history",
// "/api/v2/*", whatever the prefix.
func routeOnPage(c echo.Context) string {
	return strings.TrimPrefix(c.Path(), "/s/:slug")
}

// tokenRoute reports whether a feed token may open the request's route:
// the feeds, the calendar, the badges and the JSON, never HTML.
func tokenRoute(c echo.Context) bool {
	switch r := routeOnPage(c); r {
	case "/history.atom", "/history.rss", "/maintenance.ics", "/badge.svg", "/api/v2/*":
		return c.Request().Method == http.MethodGet || c.Request().Method == http.MethodHead
	}
	return false
}

// accessRoute reports whether the request is for the password form.
func accessRoute(c echo.Context) bool {
	switch routeOnPage(c) {
	case "/access", "/access/sign-out", "/access/link", "/access/link/:token":
		return true
	}
	return false
}

// hasAccess says how the visitor may read the private page a: by its
// address, its access cookie or its team session; "" when they may not.
func (h *Handler) hasAccess(c echo.Context, a models.PageAccess) (string, error) {
	if a.AllowsIP(c.RealIP()) {
		return "ip", nil
	}
	if h.validAccessCookie(c, a) {
		return "cookie", nil
	}
	if a.Team {
		ok, err := h.teamMayRead(c, a.PageID)
		if err != nil || ok {
			return "team", err
		}
	}
	return "", nil
}

// teamMayRead reports whether the browser is signed in as a team member
// who may see page id.
func (h *Handler) teamMayRead(c echo.Context, id int64) (bool, error) {
	u, err := h.SignedInUser(c)
	if err != nil || u == nil {
		return false, err
	}
	return h.Store.UserMaySeePage(models.ReadOnly(c.Request().Context()), u.ID, id)
}

// denyAccess answers a visitor without access: the password form (401)
// on the HTML pages, a short 401 of the resource's type elsewhere,
// naming nothing of the page.
func (h *Handler) denyAccess(c echo.Context, a models.PageAccess) error {
	if c.Request().Method == http.MethodOptions {
		return c.NoContent(http.StatusUnauthorized)
	}
	switch r := routeOnPage(c); {
	case strings.HasPrefix(r, "/api/v2/"):
		return c.JSON(http.StatusUnauthorized, map[string]any{"error": map[string]string{"code": "private_page", "message": privateMessage}})
	case r == "/badge.svg":
		return c.Blob(http.StatusUnauthorized, "image/svg+xml", public.PrivateBadge())
	case r == "/favicon.svg":
		return c.Blob(http.StatusUnauthorized, "image/svg+xml", public.PrivateFavicon())
	case r == "/history.atom" || r == "/history.rss" || r == "/maintenance.ics" || r == "/favicon.ico":
		return c.String(http.StatusUnauthorized, privateMessage+"\n")
	case c.Request().Method == http.MethodPost:
		// A form posted without access (a sign-up): the form to get in,
		// back to the page.
		return h.renderAccess(c, a, http.StatusUnauthorized, "/", "", "")
	}
	return h.renderAccess(c, a, http.StatusUnauthorized, c.Request().URL.RequestURI(), "", "")
}

// renderAccess renders the password form of a private page with status;
// next is the path to return to (with or without the page's prefix).
func (h *Handler) renderAccess(c echo.Context, a models.PageAccess, status int, next, problem, wait string) error {
	form, err := h.FormChrome(c, "Private status page")
	if err != nil {
		return err
	}
	ch := h.publicChrome("Private status page", "Status")
	ch.CSRF = form.CSRF
	ch.Title = "Private status page"
	v := views.AccessView{Chrome: ch, Password: a.HasPassword(), Next: h.safeNext(c, next), Error: problem, Wait: wait,
		EmailLink: h.smtp != nil && len(a.EmailDomains) > 0}
	if a.Team {
		v.TeamLogin = "/login?next=" + url.QueryEscape(current(c).Prefix+v.Next)
		u, err := h.SignedInUser(c)
		if err != nil {
			return err
		}
		v.SignedIn = u != nil
	}
	return h.render(c, status, views.AccessPage(v))
}

// safeNext is next as a path on the request's page, without its prefix:
// only a relative path on this page, never another page or site; "/"
// otherwise.
func (h *Handler) safeNext(c echo.Context, next string) string {
	prefix := current(c).Prefix
	if prefix != "" {
		if next == prefix {
			next = "/"
		} else if strings.HasPrefix(next, prefix+"/") {
			next = strings.TrimPrefix(next, prefix)
		} else if strings.HasPrefix(next, "/s/") {
			return "/" // another page
		}
	}
	if len(next) > 2000 || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\x00\r\n\t") {
		return "/"
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return "/"
	}
	clean := path.Clean(u.Path)
	if clean != u.Path && clean+"/" != u.Path || clean == "/access" || strings.HasPrefix(clean, "/access/") {
		return "/"
	}
	if u.RawQuery != "" {
		return u.Path + "?" + u.RawQuery
	}
	return u.Path
}

// ShowAccess is GET {prefix}/access: the password form of a private
// page (a public page sends the visitor to itself).
func (h *Handler) ShowAccess(c echo.Context) error {
	a, err := h.pageAccess(c)
	if err != nil {
		return err
	}
	next := h.safeNext(c, c.QueryParam("next"))
	if a.Public {
		return c.Redirect(http.StatusSeeOther, pagePath(c, next))
	}
	if how, err := h.hasAccess(c, a); err != nil {
		return err
	} else if how != "" {
		return c.Redirect(http.StatusSeeOther, pagePath(c, next))
	}
	return h.renderAccess(c, a, http.StatusUnauthorized, next, "", "")
}

// Access is POST {prefix}/access: the right password sets the page's
// access cookie and returns to next; a wrong one shows the form again
// (401). Too many wrong passwords from one address for one page are
// refused for a while (429). The password is never logged.
func (h *Handler) Access(c echo.Context) error {
	// The newest settings, not the index's: a password just changed
	// counts at once.
	a, err := h.Store.PageAccess(models.ReadOnly(c.Request().Context()), pageID(c))
	if err != nil {
		return err
	}
	next := h.safeNext(c, c.FormValue("next"))
	if a.Public {
		return c.Redirect(http.StatusSeeOther, pagePath(c, next))
	}
	if !a.HasPassword() {
		return h.renderAccess(c, a, http.StatusUnauthorized, next, "", "")
	}
	ip := c.RealIP()
	key := ip + "\x00" + strconv.FormatInt(a.PageID, 10)
	now := h.Now()
	if wait := h.accessFails.blocked(key, now); wait > 0 {
		secs := int(wait.Seconds()) + 1
		c.Response().Header().Set("Retry-After", strconv.Itoa(secs))
		h.Logger.Warn("private page password form locked for this address", "page_id", a.PageID, "ip", ip)
		return h.renderAccess(c, a, http.StatusTooManyRequests, next, "",
			fmt.Sprintf("Too many wrong passwords from your network. Try again in %d minute(s).", (secs+59)/60))
	}
	password := c.FormValue("password")
	if !a.CheckPassword(password) {
		h.accessFails.record(key, now)
		h.Logger.Info("wrong password for a private page", "page_id", a.PageID, "ip", ip)
		problem := "That password is not right. Check it and try again."
		if password == "" {
			problem = "Enter the page's password."
		}
		return h.renderAccess(c, a, http.StatusUnauthorized, next, problem, "")
	}
	h.Logger.Info("visitor opened a private page with its password", "page_id", a.PageID, "ip", ip)
	h.setAccessCookie(c, a, now)
	return c.Redirect(http.StatusSeeOther, pagePath(c, next))
}

// SignOutOfPage is POST {prefix}/access/sign-out: the page's access
// cookie goes.
func (h *Handler) SignOutOfPage(c echo.Context) error {
	if c.Request().Header.Get("Sec-Fetch-Site") == "cross-site" {
		return echo.NewHTTPError(http.StatusForbidden, "This form did not come from this status page.")
	}
	c.SetCookie(&http.Cookie{Name: accessCookieName(pageID(c)), Value: "", Path: cookiePath(c), MaxAge: -1,
		HttpOnly: true, Secure: h.secureCookie(c), SameSite: http.SameSiteLaxMode})
	return c.Redirect(http.StatusSeeOther, pagePath(c, "/"))
}

// accessCookieName is the name of page id's access cookie: one per page,
// so the cookies of pages on one host never replace each other.
func accessCookieName(id int64) string { return "herald_page_" + strconv.FormatInt(id, 10) }

// cookiePath is the path of the page's cookies: its prefix, or / on its
// own host name and for the default page.
func cookiePath(c echo.Context) string {
	if p := current(c).Prefix; p != "" {
		return p + "/"
	}
	return "/"
}

func (h *Handler) secureCookie(c echo.Context) bool {
	return h.SecureCookies() || c.Request().TLS != nil || current(c).Ref.Domain != ""
}

// accessMAC signs an access cookie's value.
func (h *Handler) accessMAC(payload string) string {
	m := hmac.New(sha256.New, h.accessKey)
	m.Write([]byte("page-access\x00" + payload))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// setAccessCookie gives the visitor page a's access cookie: the page id,
// its access generation and the expiry, signed with the server's key.
func (h *Handler) setAccessCookie(c echo.Context, a models.PageAccess, now time.Time) {
	exp := now.Add(accessCookieTTL)
	payload := fmt.Sprintf("%d.%d.%d", a.PageID, a.Generation, exp.Unix())
	c.SetCookie(&http.Cookie{Name: accessCookieName(a.PageID), Value: payload + "." + h.accessMAC(payload), Path: cookiePath(c),
		Expires: exp, MaxAge: int(accessCookieTTL.Seconds()), HttpOnly: true, Secure: h.secureCookie(c), SameSite: http.SameSiteLaxMode})
}

// validAccessCookie reports whether the request holds an access cookie
// of page a, of its current generation, not expired.
func (h *Handler) validAccessCookie(c echo.Context, a models.PageAccess) bool {
	ck, err := c.Cookie(accessCookieName(a.PageID))
	if err != nil || len(ck.Value) > 200 {
		return false
	}
	i := strings.LastIndexByte(ck.Value, '.')
	if i < 0 {
		return false
	}
	payload, mac := ck.Value[:i], ck.Value[i+1:]
	if !hmac.Equal([]byte(mac), []byte(h.accessMAC(payload))) {
		return false
	}
	parts := strings.Split(payload, ".")
	if len(parts) != 3 {
		return false
	}
	id, err1 := strconv.ParseInt(parts[0], 10, 64)
	gen, err2 := strconv.ParseInt(parts[1], 10, 64)
	exp, err3 := strconv.ParseInt(parts[2], 10, 64)
	return err1 == nil && err2 == nil && err3 == nil && id == a.PageID && gen == a.Generation && h.Now().Unix() < exp
}

// ShowFeedLinks is GET {prefix}/access/feeds on a private page: the offer
// to make personal links for feed readers and calendar apps. (Behind
// RequireAccess: only a visitor with access, never by a feed token,
// reaches it.)
func (h *Handler) ShowFeedLinks(c echo.Context) error {
	if !isPrivate(c) {
		// A public page's feeds need no token.
		return c.Redirect(http.StatusSeeOther, pagePath(c, "/subscribe"))
	}
	return h.renderFeedLinks(c, nil)
}

// CreateFeedLinks is POST {prefix}/access/feeds: a new feed token for
// this visitor and page, its links shown once.
func (h *Handler) CreateFeedLinks(c echo.Context) error {
	st, ok := c.Get(accessKey).(*accessState)
	if !ok || !st.granted {
		// A public page needs no token.
		return c.Redirect(http.StatusSeeOther, pagePath(c, "/subscribe"))
	}
	label, err := h.accessLabel(c, st.how)
	if err != nil {
		return err
	}
	plain, _, err := h.Store.CreatePageFeedToken(c.Request().Context(), pageID(c), label)
	if err != nil {
		return err
	}
	h.Logger.Info("visitor made feed links for a private page", "page_id", pageID(c), "ip", c.RealIP(), "how", st.how)
	base := h.Store.PageBaseURL(current(c).Ref)
	if !strings.HasPrefix(base, "http") {
		// No base URL configured: this request's own address.
		base = c.Scheme() + "://" + c.Request().Host + base
	}
	q := "?token=" + url.QueryEscape(plain)
	return h.renderFeedLinks(c, []views.FeedLink{
		{ID: "atom", Label: "Atom feed", URL: base + "/history.atom" + q},
		{ID: "rss", Label: "RSS feed", URL: base + "/history.rss" + q},
		{ID: "ics", Label: "Maintenance calendar (add it to your calendar app by its address)", URL: base + "/maintenance.ics" + q},
		{ID: "badge", Label: "Status badge", URL: base + "/badge.svg" + q},
		{ID: "json", Label: "Statuspage-compatible JSON", URL: base + "/api/v2/summary.json" + q},
	})
}

// accessLabel says how the visitor got in, for the feed token's label.
func (h *Handler) accessLabel(c echo.Context, how string) (string, error) {
	switch how {
	case "team":
		u, err := h.SignedInUser(c)
		if err != nil || u == nil {
			return "Team member", err
		}
		return "Team member " + u.Email, nil
	case "ip":
		return "From the allowed address " + c.RealIP(), nil
	case "cookie":
		return "Signed in to the page", nil
	}
	return how, nil
}

func (h *Handler) renderFeedLinks(c echo.Context, links []views.FeedLink) error {
	page, err := h.Store.Page(models.ReadOnly(c.Request().Context()), pageID(c))
	if err != nil {
		return err
	}
	form, err := h.FormChrome(c, "Feed and calendar links")
	if err != nil {
		return err
	}
	ch := h.pageChrome("Feed and calendar links · "+page.Name, page)
	ch.CSRF = form.CSRF
	ch.Script = h.Assets.URL("js/copy.js")
	serve.SetPagePolicy(c, page, true)
	return h.render(c, http.StatusOK, views.FeedLinksPage(views.FeedLinksView{Chrome: ch, Links: links}))
}

// SendAccessLink is POST {prefix}/access/link: when the address's domain
// is one of the page's e-mail domains, a single-use sign-in link goes to
// it (in the background, so the answer takes as long either way). The
// answer is the same whether or not it matched: the form tells no one
// which addresses may read the page. Each client address may ask 5 times
// in 15 minutes.
func (h *Handler) SendAccessLink(c echo.Context) error {
	ctx := c.Request().Context()
	a, err := h.Store.PageAccess(models.ReadOnly(ctx), pageID(c))
	if err != nil {
		return err
	}
	if a.Public {
		return c.Redirect(http.StatusSeeOther, pagePath(c, "/"))
	}
	if h.smtp == nil || len(a.EmailDomains) == 0 {
		return echo.NewHTTPError(http.StatusNotFound, "This page sends no sign-in links.")
	}
	ip, now := c.RealIP(), h.Now()
	key := ip + "\x00link"
	if wait := h.linkRequests.blocked(key, now); wait > 0 {
		secs := int(wait.Seconds()) + 1
		c.Response().Header().Set("Retry-After", strconv.Itoa(secs))
		return h.renderAccessForm(c, a, http.StatusTooManyRequests, func(v *views.AccessView) {
			v.Wait = fmt.Sprintf("Too many sign-in links asked for from your network. Try again in %d minute(s).", (secs+59)/60)
		})
	}
	h.linkRequests.record(key, now)
	raw := c.FormValue("email")
	email, problem := models.NormalizeSubscriberEmail(raw)
	if p := emailProblem(raw); p != "" {
		problem = p
	}
	if problem != "" {
		return h.renderAccessForm(c, a, http.StatusUnprocessableEntity, func(v *views.AccessView) {
			v.EmailError = problem
			if emailProblem(raw) == "" || utf8.ValidString(raw) && !strings.ContainsAny(raw, "\x00\r\n") && len(raw) <= 254 {
				v.Email = raw
			}
		})
	}
	if a.AllowsEmail(email) {
		token, err := h.Store.CreatePageAccessLink(ctx, a.PageID, email)
		if err != nil {
			return err
		}
		base := h.Store.PageBaseURL(current(c).Ref)
		if !strings.HasPrefix(base, "http") {
			base = c.Scheme() + "://" + c.Request().Host + base
		}
		link := base + "/access/link/" + token
		go h.mailAccessLink(context.WithoutCancel(ctx), a.PageID, email, link)
	}
	return h.renderAccessForm(c, a, http.StatusOK, func(v *views.AccessView) { v.EmailSent = true })
}

// mailAccessLink e-mails a sign-in link; a failure is logged (the
// visitor asks again).
func (h *Handler) mailAccessLink(ctx context.Context, pageID int64, email, link string) {
	ctx, cancel := context.WithTimeout(ctx, h.mailTimeout+5*time.Second)
	defer cancel()
	text := "Someone, probably you, asked to read a private status page.\n\n" +
		"Open it with this link within 15 minutes; it works once:\n\n" + link + "\n\n" +
		"If you did not ask for it, ignore this e-mail: nothing happens without the link.\n"
	html := "<p>Someone, probably you, asked to read a private status page.</p>" +
		`<p><a href="` + template.HTMLEscapeString(link) + `">Open the page</a> within 15 minutes; the link works once.</p>` +
		"<p>If you did not ask for it, ignore this e-mail: nothing happens without the link.</p>"
	domain := email[strings.LastIndexByte(email, '@')+1:]
	if err := notify.SendNotice(ctx, h.smtp, h.mailTimeout, "sign-in-link", email, "Your sign-in link to a private status page", text, html); err != nil {
		h.Logger.Warn("send a private page's sign-in link", "page_id", pageID, "domain", domain, "error", err)
		return
	}
	h.Logger.Info("sent a private page's sign-in link", "page_id", pageID, "domain", domain)
}

// renderAccessForm renders the sign-in form of a with status, changed by
// edit.
func (h *Handler) renderAccessForm(c echo.Context, a models.PageAccess, status int, edit func(v *views.AccessView)) error {
	form, err := h.FormChrome(c, "Private status page")
	if err != nil {
		return err
	}
	ch := h.publicChrome("Private status page", "Status")
	ch.CSRF, ch.Title = form.CSRF, "Private status page"
	v := views.AccessView{Chrome: ch, Password: a.HasPassword(), Next: "/", EmailLink: h.smtp != nil && len(a.EmailDomains) > 0}
	if a.Team {
		v.TeamLogin = "/login?next=" + url.QueryEscape(current(c).Prefix+"/")
	}
	edit(&v)
	return h.render(c, status, views.AccessPage(v))
}

// ShowAccessLink is GET {prefix}/access/link/{token}: the button that
// uses an e-mailed sign-in link. Mail scanners fetch links; only a person
// presses the button, so the link is still there for them.
func (h *Handler) ShowAccessLink(c echo.Context) error {
	a, err := h.Store.PageAccess(models.ReadOnly(c.Request().Context()), pageID(c))
	if err != nil {
		return err
	}
	token := c.Param("token")
	if err := h.Store.CheckPageAccessLink(models.ReadOnly(c.Request().Context()), a.PageID, token); err != nil {
		return h.accessLinkFailed(c, a, err)
	}
	return h.renderAccessForm(c, a, http.StatusOK, func(v *views.AccessView) { v.LinkToken = token })
}

// UseAccessLink is POST {prefix}/access/link/{token}: uses up the link,
// sets the page's access cookie and opens the page, if the address may
// still read it.
func (h *Handler) UseAccessLink(c echo.Context) error {
	ctx := c.Request().Context()
	a, err := h.Store.PageAccess(models.ReadOnly(ctx), pageID(c))
	if err != nil {
		return err
	}
	email, err := h.Store.UsePageAccessLink(ctx, a.PageID, c.Param("token"))
	if err == nil && !a.AllowsEmail(email) {
		err = models.ErrAccessLink // the domain was taken off the list since
	}
	if err != nil {
		return h.accessLinkFailed(c, a, err)
	}
	h.Logger.Info("visitor opened a private page with an e-mailed link", "page_id", a.PageID, "ip", c.RealIP())
	h.setAccessCookie(c, a, h.Now())
	return c.Redirect(http.StatusSeeOther, pagePath(c, "/"))
}

// accessLinkFailed answers a sign-in link that does not work: 410 with
// the form to ask again.
func (h *Handler) accessLinkFailed(c echo.Context, a models.PageAccess, err error) error {
	if !errors.Is(err, models.ErrAccessLink) {
		return err
	}
	if a.Public {
		return c.Redirect(http.StatusSeeOther, pagePath(c, "/"))
	}
	return h.renderAccessForm(c, a, http.StatusGone, func(v *views.AccessView) {
		v.Wait = "This sign-in link has expired or was already used. Ask for a new one."
	})
}
