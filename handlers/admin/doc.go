// Package admin serves the admin's screens in the browser: the first-run
// setup, sign-in and sign-out, and every HTML page under /admin
// (incidents, maintenance, components and groups, channels and their
// delivery logs, settings, API tokens, the audit log). It authenticates
// with the cookie session and checks the CSRF token of every form.
//
// Handlers parse and validate the form, make one call into models or
// notify, then render a views/admin page or redirect with a flash
// message; they hold no SQL. The package may import handlers/serve,
// models, notify, markdown, static, views/admin and views/layout; never
// handlers/api, handlers/site, views/site or web.
package admin
