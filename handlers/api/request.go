package api

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/heraldstatus/herald/handlers/serve"
	"github.com/heraldstatus/herald/models"
	"github.com/labstack/echo/v4"
)

// Everything under /api/v1 answers JSON, errors included, in
// serve.Problem's shape, {"error": {"code", "message", "field"}}; it
// authenticates with API tokens, never with the session cookie, and sets
// no cookie.

const (
	ctxAPIToken = "herald.api_token"
	// maxAPIBody bounds request bodies of the API, whatever the server's
	// own limit.
	maxAPIBody = 1 << 20
	// apiPrefix is where the admin API lives.
	apiPrefix = "/api/v1"
)

// apiFail answers err: problems as they are, validation errors as 422
// naming the fields, missing rows as 404, a database that does not
// answer as 503, anything else as a logged 500.
// notFound is the sentence for a missing row ("That component does not
// exist.").
func (h *Handler) apiFail(c echo.Context, err error, notFound string) error {
	var p *serve.Problem
	var ve *models.ValidationError
	var ce *models.ConflictError
	switch {
	case errors.As(err, &p):
		return serve.WriteProblem(c, p)
	case errors.As(err, &ve):
		return serve.WriteProblem(c, validationProblem(ve))
	case errors.Is(err, models.ErrNotFound):
		return serve.JSONError(c, http.StatusNotFound, "not_found", notFound, "")
	case errors.As(err, &ce):
		return serve.JSONError(c, http.StatusConflict, "conflict", ce.Message, "")
	case errors.Is(err, models.ErrConflict):
		return serve.JSONError(c, http.StatusConflict, "conflict", "This change collides with another one. Reload and try again.", "")
	case models.IsUnavailable(err):
		h.Logger.Warn("database unavailable", "method", c.Request().Method, "path", c.Request().URL.Path, "error", err)
		return serve.DatabaseUnavailable(c)
	}
	h.Logger.Error("api request failed", "method", c.Request().Method, "path", c.Request().URL.Path, "error", err)
	return serve.JSONError(c, http.StatusInternalServerError, "internal_error",
		"Herald could not finish this request. The details are in the server log; try again in a moment.", "")
}

// validationProblem is a 422 naming the first invalid field (in
// alphabetical order, so the answer is stable) and listing all of them.
func validationProblem(ve *models.ValidationError) *serve.Problem {
	fields := make([]string, 0, len(ve.Fields))
	for f := range ve.Fields {
		fields = append(fields, f)
	}
	slices.Sort(fields)
	p := &serve.Problem{Status: http.StatusUnprocessableEntity, Code: "validation_failed", Fields: ve.Fields,
		Message: "The request is invalid."}
	if len(fields) > 0 {
		p.Field, p.Message = fields[0], ve.Fields[fields[0]]
	}
	return p
}

// apiPathID parses a positive numeric id; anything else names nothing.
func apiPathID(c echo.Context, name string) (int64, bool) {
	id, err := strconv.ParseInt(c.Param(name), 10, 64)
	return id, err == nil && id > 0
}

// apiToken is the token RequireToken accepted.
func apiToken(c echo.Context) *models.Token {
	t, _ := c.Get(ctxAPIToken).(*models.Token)
	return t
}

// APIRequest prepares every /api/v1 request: answers are never cached,
// and bodies over 1 MiB are refused with a JSON 413 (those without a
// Content-Length when they reach the limit).
func (h *Handler) APIRequest(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Response().Header().Set("Cache-Control", "no-store")
		req := c.Request()
		if req.ContentLength > maxAPIBody {
			return serve.JSONError(c, http.StatusRequestEntityTooLarge, "body_too_large", "The request body is larger than 1 MiB.", "")
		}
		if req.Body != nil {
			req.Body = http.MaxBytesReader(c.Response(), req.Body, maxAPIBody)
		}
		return next(c)
	}
}

// Allow lets through requests carrying an API token ("Authorization:
// Bearer hrd_…") that works, grants scope, and whose owner's role has the
// powers of min. Others get 401 (no token, or one that is unknown,
// expired or revoked) or 403 (the scope is missing, or the role too low:
// that refusal is audited). The token's name and the client's address go
// into the request context for the audit log.
func (h *Handler) Allow(min models.Role, scope models.Scope) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			auth := strings.TrimSpace(req.Header.Get("Authorization"))
			if auth == "" {
				return unauthorized(c, "", "Send an API token in the Authorization header: “Bearer hrd_…”. Admins create tokens under API tokens in Herald's admin.")
			}
			scheme, plain, _ := strings.Cut(auth, " ")
			plain = strings.TrimSpace(plain)
			if !strings.EqualFold(scheme, "Bearer") || !strings.HasPrefix(plain, models.TokenPrefix) {
				return unauthorized(c, "invalid_request", "The Authorization header must be “Bearer hrd_…”.")
			}
			tok, err := h.Store.AuthenticateToken(req.Context(), plain)
			switch {
			case errors.Is(err, models.ErrTokenExpired):
				return unauthorized(c, "invalid_token", fmt.Sprintf("This API token expired on %s. Create a new one.",
					tok.ExpiresAt.UTC().Format("Jan 2, 2006 15:04 UTC")))
			case errors.Is(err, models.ErrTokenRevoked):
				return unauthorized(c, "invalid_token", "This API token has been revoked.")
			case errors.Is(err, models.ErrTokenInvalid):
				return unauthorized(c, "invalid_token", "This API token is not valid.")
			case err != nil:
				return h.apiFail(c, err, "")
			}
			c.Set(ctxAPIToken, tok)
			ctx := models.WithActor(req.Context(), models.TokenActor(tok.ID, tok.Name, c.RealIP()))
			c.SetRequest(req.WithContext(ctx))
			if !tok.Role().AtLeast(min) {
				if err := h.Store.AuditDenied(ctx, req.Method, echo.GetPath(req), tok.Role(), min); err != nil {
					h.Logger.Error("audit refused request", "err", err)
				}
				return serve.JSONError(c, http.StatusForbidden, "forbidden", fmt.Sprintf(
					"This token acts for a user whose role is %s; this endpoint needs %s.", tok.Role(), min), "")
			}
			if !tok.Can(scope) {
				c.Response().Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="herald", error="insufficient_scope", scope="%s"`, scope))
				msg := fmt.Sprintf("This token lacks the %s scope.", scope)
				if !models.RoleAllowsScope(tok.Role(), scope) {
					msg = fmt.Sprintf("This token acts for a user whose role is %s, which cannot hold the %s scope.", tok.Role(), scope)
				}
				return serve.JSONError(c, http.StatusForbidden, "forbidden", msg, "")
			}
			return next(c)
		}
	}
}

// unauthorized is a 401 with the challenge RFC 6750 asks for; oauthError
// is its error attribute, empty when no token was sent.
func unauthorized(c echo.Context, oauthError, message string) error {
	challenge := `Bearer realm="herald"`
	if oauthError != "" {
		challenge += fmt.Sprintf(`, error="%s"`, oauthError)
	}
	c.Response().Header().Set("WWW-Authenticate", challenge)
	return serve.JSONError(c, http.StatusUnauthorized, "unauthorized", message, "")
}

// APINoRoute answers requests under /api/v1 that match no endpoint: 405
// with Allow when the path exists for other methods, else 404.
func (h *Handler) APINoRoute(c echo.Context) error {
	path := echo.GetPath(c.Request())
	var allowed []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPatch, http.MethodDelete} {
		if m == c.Request().Method {
			continue
		}
		probe := c.Echo().NewContext(nil, nil)
		c.Echo().Router().Find(m, path, probe)
		if p := probe.Path(); p != "" && p != c.Path() {
			allowed = append(allowed, m)
		}
	}
	if len(allowed) > 0 {
		c.Response().Header().Set("Allow", strings.Join(allowed, ", "))
		return serve.JSONError(c, http.StatusMethodNotAllowed, "method_not_allowed",
			fmt.Sprintf("%s does not accept %s; it accepts %s.", path, c.Request().Method, strings.Join(allowed, ", ")), "")
	}
	return serve.JSONError(c, http.StatusNotFound, "not_found", "There is no API endpoint at "+path+".", "")
}
