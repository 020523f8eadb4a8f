package handlers

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"

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
func (h *Handler) Idempotent(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		key := req.Header.Get("Idempotency-Key")
		if key == "" || req.Method != http.MethodPost {
			return next(c)
		}
		if len(key) > maxIdempotencyKey {
			return apiError(c, http.StatusBadRequest, "invalid_idempotency_key", "Idempotency-Key is longer than 255 characters.", "")
		}
		body, err := io.ReadAll(req.Body)
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				return apiError(c, http.StatusRequestEntityTooLarge, "body_too_large", "The request body is larger than 1 MiB.", "")
			}
			return apiError(c, http.StatusBadRequest, "invalid_body", "The request body could not be read.", "")
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		scope := hashHex([]byte(req.Header.Get("Authorization")))
		reqHash := hashHex([]byte(req.Method + " " + req.URL.Path + "\n" + req.Header.Get("Content-Type") + "\n" + string(body)))

		ctx := req.Context()
		stored, err := h.store.BeginIdempotent(ctx, scope, key, reqHash)
		switch {
		case errors.Is(err, models.ErrIdempotencyMismatch):
			return apiError(c, http.StatusUnprocessableEntity, "idempotency_key_reused",
				"This Idempotency-Key was used with a different request in the last 24 hours.", "")
		case errors.Is(err, models.ErrIdempotencyInFlight):
			return apiError(c, http.StatusConflict, "idempotency_key_in_use",
				"A request with this Idempotency-Key is still being processed. Retry in a moment.", "")
		case err != nil:
			return err
		case stored != nil:
			hd := c.Response().Header()
			hd.Set("Idempotent-Replayed", "true")
			if stored.Location != "" {
				hd.Set("Location", stored.Location)
			}
			return c.Blob(stored.Status, stored.ContentType, []byte(stored.Body))
		}

		rec := &recorder{ResponseWriter: c.Response().Writer}
		c.Response().Writer = rec
		err = next(c)
		status := c.Response().Status
		if err != nil || status >= 500 || !c.Response().Committed {
			if aerr := h.store.AbandonIdempotent(ctx, scope, key); aerr != nil {
				h.logger.Error("release idempotency key", "error", aerr)
			}
			return err
		}
		hd := c.Response().Header()
		if ferr := h.store.FinishIdempotent(ctx, scope, key, models.IdempotentResponse{Status: status,
			ContentType: hd.Get("Content-Type"), Location: hd.Get("Location"), Body: rec.body.String()}); ferr != nil {
			h.logger.Error("store idempotent answer", "error", ferr)
		}
		return nil
	}
}

// recorder keeps a copy of what a handler writes.
type recorder struct {
	http.ResponseWriter
	body bytes.Buffer
}

func (r *recorder) Write(p []byte) (int, error) {
	r.body.Write(p)
	return r.ResponseWriter.Write(p)
}

func hashHex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
