// Package serve is what the handlers of every audience stand on: the
// cookie session and its CSRF token and flash messages, path parameters,
// rendering into a buffer, the JSON error shape and the error page of the
// server's error handler, and the status vocabulary as views print it
// (statuses, the banner, incidents and maintenance windows).
//
// handlers/admin, handlers/api and handlers/site import it; it imports
// none of them, nor web. Like them it may import models, notify, markdown,
// static and views/layout, never an audience's views.
package serve
