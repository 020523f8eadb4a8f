// Package api serves the admin JSON API under /api/v1 to programs: the
// endpoints for components, groups, channels and their deliveries,
// incidents and maintenance, the Idempotency-Key middleware, API token
// authentication and the OpenAPI document. Every answer, errors
// included, is JSON in serve.Problem's shape; it never reads or sets the
// session cookie.
//
// Handlers decode and validate the body strictly, make one call into
// models or notify, and answer JSON; they hold no SQL. The package may
// import handlers/serve, models and notify; never handlers/admin,
// handlers/site, any views package or web.
package api
