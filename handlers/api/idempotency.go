package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/heraldstatus/herald/handlers/serve"
	"github.com/heraldstatus/herald/models"
	"github.com/labstack/echo/v4"
)

// maxIdempotencyKey bounds the Idempotency-Key header.
const maxIdempotencyKey = 255

// Idempotent honours the Idempotency-Key header on POST: the first
// answer (unless a 5xx) is kept for 24 hours, and the same request with
// the same key gets that answer again, marked Idempotent-Replayed, with
// nothing done twice. The same key with another request is refused.
// Keys are scoped to the credentials that sent them.
//
// The claim of the key, everything the handler writes and its answer are
// one transaction (models.Idempotently), and the answer reaches the
// client only after the commit. A request cut short (the client gave up,
// the database did not answer) changes nothing and leaves the key free,
// so its retry runs afresh; a request that committed has its answer
// stored, so its retry gets it. A duplicate arriving while the first is
// still running waits for it and gets its answer.
func (h *Handler) Idempotent(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		key := c.Request().Header.Get("Idempotency-Key")
		if key == "" || c.Request().Method != http.MethodPost {
			return next(c)
		}
		scope, reqHash, problem := h.idempotencyRequest(c, key)
		if problem != nil {
			return serve.WriteProblem(c, problem)
		}
		var held *heldAnswer
		answer, replayed, err := h.Store.Idempotently(c.Request().Context(), scope, key, reqHash,
			func(ctx context.Context) (models.IdempotentResponse, error) {
				a, err := runHeld(c, ctx, next)
				if err != nil {
					return models.IdempotentResponse{}, err
				}
				held = a
				return a.response(), nil
			})
		switch {
		case err != nil:
			return idempotencyFail(c, err)
		case replayed:
			return replay(c, answer)
		}
		return held.send(c)
	}
}

// IdempotentLeased is Idempotent for a handler that waits on something
// else than the database: a test send makes an HTTP request that may take
// the whole webhook timeout, and holding a transaction that long (on
// SQLite, the only connection) would stall every other request. So the
// key is claimed in a short transaction of its own, for a lease as long
// as the request's deadline (plus leaseMargin); the handler runs outside
// any transaction; its answer is stored before the client gets it. A
// request that fails releases its claim on a context of its own, so a
// client that gave up cannot prevent that; a claim nobody released (a
// crash, a lost database) lapses with its lease. A duplicate arriving
// while the first is still running gets 409 idempotency_key_in_use.
func (h *Handler) IdempotentLeased(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		key := c.Request().Header.Get("Idempotency-Key")
		if key == "" || c.Request().Method != http.MethodPost {
			return next(c)
		}
		scope, reqHash, problem := h.idempotencyRequest(c, key)
		if problem != nil {
			return serve.WriteProblem(c, problem)
		}
		ctx := c.Request().Context()
		lease := time.Minute
		if deadline, ok := ctx.Deadline(); ok {
			lease = time.Until(deadline) + leaseMargin
		}
		stored, err := h.Store.ClaimIdempotent(ctx, scope, key, reqHash, lease)
		switch {
		case err != nil:
			return idempotencyFail(c, err)
		case stored != nil:
			return replay(c, *stored)
		}
		// Clean-up must happen even when the client has gone.
		cleanup, cancel := context.WithTimeout(context.WithoutCancel(ctx), leaseMargin)
		defer cancel()
		held, err := runHeld(c, ctx, next)
		if err != nil || held.status >= 500 {
			if aerr := h.Store.AbandonIdempotent(cleanup, scope, key); aerr != nil {
				h.Logger.Error("release idempotency key", "error", aerr)
			}
			if err != nil {
				return err
			}
			return held.send(c)
		}
		if err := h.Store.FinishIdempotent(cleanup, scope, key, held.response()); err != nil {
			// The claim lapses with its lease; until then a retry gets 409.
			h.Logger.Error("store idempotent answer", "error", err)
		}
		return held.send(c)
	}
}

// leaseMargin is how much longer than its request's deadline a leased
// claim stays in flight, and how long its clean-up may take.
const leaseMargin = 5 * time.Second

// idempotencyRequest checks the key and reads the body, and returns the
// key's scope (the credentials) and the request's fingerprint.
func (h *Handler) idempotencyRequest(c echo.Context, key string) (scope, reqHash string, problem *serve.Problem) {
	if len(key) > maxIdempotencyKey {
		return "", "", &serve.Problem{Status: http.StatusBadRequest, Code: "invalid_idempotency_key", Message: "Idempotency-Key is longer than 255 characters."}
	}
	req := c.Request()
	body, err := io.ReadAll(req.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return "", "", &serve.Problem{Status: http.StatusRequestEntityTooLarge, Code: "body_too_large", Message: "The request body is larger than 1 MiB."}
		}
		return "", "", &serve.Problem{Status: http.StatusBadRequest, Code: "invalid_body", Message: "The request body could not be read."}
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	scope = hashHex([]byte(req.Header.Get("Authorization")))
	reqHash = hashHex([]byte(req.Method + " " + req.URL.Path + "\n" + req.Header.Get("Content-Type") + "\n" + string(body)))
	return scope, reqHash, nil
}

// idempotencyFail answers a key that cannot be used, or passes on the
// error that stopped the request (the server's error handler answers it:
// 503 when the database did not answer).
func idempotencyFail(c echo.Context, err error) error {
	switch {
	case errors.Is(err, models.ErrIdempotencyMismatch):
		return serve.JSONError(c, http.StatusUnprocessableEntity, "idempotency_key_reused",
			"This Idempotency-Key was used with a different request in the last 24 hours.", "")
	case errors.Is(err, models.ErrIdempotencyInFlight):
		c.Response().Header().Set("Retry-After", "1")
		return serve.JSONError(c, http.StatusConflict, "idempotency_key_in_use",
			"A request with this Idempotency-Key is still being processed. Retry in a moment.", "")
	}
	return err
}

// replay sends a stored answer.
func replay(c echo.Context, stored models.IdempotentResponse) error {
	hd := c.Response().Header()
	hd.Set("Idempotent-Replayed", "true")
	if stored.Location != "" {
		hd.Set("Location", stored.Location)
	}
	return c.Blob(stored.Status, stored.ContentType, []byte(stored.Body))
}

// heldAnswer is a handler's answer, held back until it may be sent.
type heldAnswer struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (a *heldAnswer) Header() http.Header { return a.header }

func (a *heldAnswer) WriteHeader(status int) {
	if a.status == 0 {
		a.status = status
	}
}

func (a *heldAnswer) Write(p []byte) (int, error) {
	a.WriteHeader(http.StatusOK)
	return a.body.Write(p)
}

func (a *heldAnswer) response() models.IdempotentResponse {
	return models.IdempotentResponse{Status: a.status, ContentType: a.header.Get("Content-Type"),
		Location: a.header.Get("Location"), Body: a.body.String()}
}

// send writes the held answer to the client.
func (a *heldAnswer) send(c echo.Context) error {
	if a.status == 0 {
		return nil // the handler answered nothing
	}
	res := c.Response()
	hd := res.Header()
	for k, v := range a.header {
		hd[k] = v
	}
	res.WriteHeader(a.status)
	_, err := res.Write(a.body.Bytes())
	return err
}

// runHeld runs next with ctx as its request's context and holds back
// its answer. It sends nothing: the caller decides when.
func runHeld(c echo.Context, ctx context.Context, next echo.HandlerFunc) (*heldAnswer, error) {
	req, res := c.Request(), c.Response()
	held := &heldAnswer{header: res.Header().Clone()}
	c.SetRequest(req.WithContext(ctx))
	c.SetResponse(echo.NewResponse(held, c.Echo()))
	defer func() {
		c.SetRequest(req)
		c.SetResponse(res)
	}()
	err := next(c)
	return held, err
}

func hashHex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
