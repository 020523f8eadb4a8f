package site

import (
	"fmt"
	"time"

	"github.com/heraldstatus/herald/handlers/serve"
	"github.com/heraldstatus/herald/notify"
	"github.com/heraldstatus/herald/public"
	"github.com/heraldstatus/herald/views/layout"
)

// Options configure a Handler.
type Options struct {
	// Base is the store, assets and rendering every audience shares.
	Base *serve.Base
	// PublicMaxAge is the Cache-Control max-age of public responses.
	PublicMaxAge time.Duration
	// RequestTimeout is the deadline of a request's database calls; the
	// public snapshot's rebuilds get the same.
	RequestTimeout time.Duration
	// Mail: e-mail subscriptions are on (SMTP is configured), so
	// /subscribe shows the form.
	Mail bool
	// AccessKey signs the access cookies of private pages (32 bytes,
	// derived from the secret key).
	AccessKey []byte
	// SMTP, when set, sends private pages' sign-in links by e-mail,
	// within MailTimeout.
	SMTP        *notify.SMTPConfig
	MailTimeout time.Duration
}

// Handler serves what visitors see.
type Handler struct {
	*serve.Base
	public *public.Manager
	// index finds pages by slug and host name.
	index pageIndexes
	// publicCacheControl is the Cache-Control of public responses.
	publicCacheControl string
	// mail: e-mail subscriptions are on; signups limits them per IP.
	mail    bool
	signups *windowLimiter
	// accessKey signs private pages' access cookies; accessFails limits
	// wrong page passwords per client and page.
	accessKey   []byte
	accessFails *windowLimiter
	// smtp sends sign-in links (nil: none); linkRequests limits them
	// per client address.
	smtp         *notify.SMTPConfig
	mailTimeout  time.Duration
	linkRequests *windowLimiter
}

// New builds a Handler.
func New(o Options) *Handler {
	h := &Handler{
		Base:      o.Base,
		mail:      o.Mail,
		accessKey: o.AccessKey,
		smtp:      o.SMTP,
		// A sign-in link is asked for rarely: 5 per address in 15
		// minutes.
		linkRequests: newWindowLimiter(5, accessFailWindow),
		accessFails:  newWindowLimiter(accessFailMax, accessFailWindow),
		signups:      newWindowLimiter(signupsPerIP, signupWindow),
		mailTimeout:  o.MailTimeout,
	}
	maxAge := o.PublicMaxAge
	if maxAge == 0 {
		maxAge = 10 * time.Second
	}
	h.publicCacheControl = fmt.Sprintf("public, max-age=%d", int(maxAge.Seconds()))
	h.public = public.NewManager(public.Options{Store: o.Base.Store,
		Markdown: o.Base.Markdown, HTML: h.renderPublicPage, Logger: o.Base.Logger, BuildTimeout: o.RequestTimeout})
	return h
}

// publicChrome is the layout data of public pages: no session, no cookie.
func (h *Handler) publicChrome(title, siteName string) layout.Chrome {
	return layout.Chrome{
		Title:    title,
		SiteName: siteName,
		CSS:      h.Assets.URL("css/herald.css"),
		Script:   h.Assets.URL("js/localtime.js"),
	}
}
