// Package site serves what visitors see, signed in or not: the status
// page at /, the Statuspage-compatible JSON under /api/v2, the Atom and
// RSS feeds, the SVG badges, the history archive and the permalinks of
// incidents and maintenance windows. The page, JSON, feeds and badges
// come from the public snapshot, rebuilt after each change, never per
// request; visitors get no cookie.
//
// The package may import handlers/serve, models, public, markdown, static,
// views/site and views/layout; never handlers/admin, handlers/api,
// views/admin or web.
package site
