package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/heraldstatus/herald/handlers/serve"
	"github.com/labstack/echo/v4"
)

// apiTime is how the API writes times: ISO 8601 in UTC with
// milliseconds, like Statuspage.
const apiTime = "2006-01-02T15:04:05.000Z07:00"

func formatAPITime(t time.Time) string { return t.UTC().Format(apiTime) }

func formatAPIID(id int64) string { return strconv.FormatInt(id, 10) }

// decodeJSON reads the request body into dst strictly: it must be sent as
// application/json, hold exactly one JSON object of at most 1 MiB, and
// use only dst's fields with their types. Anything else is an
// *serve.Problem naming what is wrong and, where there is one, the field.
func decodeJSON(c echo.Context, dst any) error {
	req := c.Request()
	mt, _, err := mime.ParseMediaType(req.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return &serve.Problem{Status: http.StatusUnsupportedMediaType, Code: "unsupported_media_type",
			Message: "Send the body as JSON, with “Content-Type: application/json”."}
	}
	if req.ContentLength > maxAPIBody {
		return tooLarge()
	}
	if req.Body == nil {
		return emptyBody()
	}
	// First the syntax, and exactly one value; then the fields.
	var raw json.RawMessage
	dec := json.NewDecoder(http.MaxBytesReader(c.Response(), req.Body, maxAPIBody))
	if err := dec.Decode(&raw); err != nil {
		return jsonProblem(err, dst)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		if isTooLarge(err) {
			return tooLarge()
		}
		return &serve.Problem{Status: http.StatusBadRequest, Code: "invalid_json",
			Message: "Send exactly one JSON object; the body goes on after it."}
	}
	if raw[0] != '{' {
		return notAnObject()
	}
	// encoding/json would quietly turn bad bytes into U+FFFD and store
	// them; refuse them instead.
	if !utf8.Valid(raw) {
		return &serve.Problem{Status: http.StatusBadRequest, Code: "invalid_json", Message: "The body is not valid UTF-8."}
	}
	// Likewise for a \ud800 escape without its other half: it is no
	// character, and would be stored as U+FFFD. (Other escapes, such as
	// \u0000, decode to characters; the models judge those, per field.)
	if at, ok := loneSurrogate(raw); ok {
		return &serve.Problem{Status: http.StatusBadRequest, Code: "invalid_json",
			Message: fmt.Sprintf("The body is not valid text: the escape at byte %d is half of a UTF-16 surrogate pair, not a character.", at)}
	}
	strict := json.NewDecoder(bytes.NewReader(raw))
	strict.DisallowUnknownFields()
	if err := strict.Decode(dst); err != nil {
		return jsonProblem(err, dst)
	}
	return nil
}

// loneSurrogate finds a \uD800–\uDFFF escape in the strings of the
// JSON text raw that is not a high surrogate followed by a low one, and
// returns its byte offset.
func loneSurrogate(raw []byte) (int, bool) {
	hex4 := func(i int) (rune, bool) {
		if i+6 > len(raw) || raw[i] != '\\' || raw[i+1] != 'u' {
			return 0, false
		}
		n, err := strconv.ParseUint(string(raw[i+2:i+6]), 16, 16)
		return rune(n), err == nil
	}
	inString := false
	for i := 0; i < len(raw); i++ {
		switch {
		case raw[i] == '"':
			inString = !inString
		case inString && raw[i] == '\\':
			r, ok := hex4(i)
			if !ok {
				i++ // a short escape such as \n or \"
				continue
			}
			switch {
			case r >= 0xD800 && r <= 0xDBFF:
				if low, ok := hex4(i + 6); ok && low >= 0xDC00 && low <= 0xDFFF {
					i += 11
					continue
				}
				return i, true
			case r >= 0xDC00 && r <= 0xDFFF:
				return i, true
			}
			i += 5
		}
	}
	return 0, false
}

func notAnObject() *serve.Problem {
	return &serve.Problem{Status: http.StatusBadRequest, Code: "invalid_type", Message: "The body must be a JSON object."}
}

func tooLarge() *serve.Problem {
	return &serve.Problem{Status: http.StatusRequestEntityTooLarge, Code: "body_too_large", Message: "The request body is larger than 1 MiB."}
}

func emptyBody() *serve.Problem {
	return &serve.Problem{Status: http.StatusBadRequest, Code: "invalid_json", Message: "The request body is empty; send a JSON object."}
}

func isTooLarge(err error) bool {
	var mbe *http.MaxBytesError
	return errors.As(err, &mbe) || errors.Is(err, echo.ErrStatusRequestEntityTooLarge)
}

// jsonProblem explains a decoding error of a body meant for dst.
func jsonProblem(err error, dst any) *serve.Problem {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case isTooLarge(err):
		return tooLarge()
	case errors.Is(err, io.EOF):
		return emptyBody()
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &serve.Problem{Status: http.StatusBadRequest, Code: "invalid_json", Message: "The JSON body ends too early."}
	case errors.As(err, &syntax):
		return &serve.Problem{Status: http.StatusBadRequest, Code: "invalid_json",
			Message: fmt.Sprintf("The body is not valid JSON (at byte %d).", syntax.Offset)}
	case errors.As(err, &typ):
		if typ.Field == "" {
			return notAnObject()
		}
		return &serve.Problem{Status: http.StatusBadRequest, Code: "invalid_type", Field: typ.Field,
			Message: fmt.Sprintf("“%s” must be %s, not %s.", typ.Field, typeWords(typ.Type), kindWords(typ.Value))}
	}
	if name, ok := unknownField(err); ok {
		return &serve.Problem{Status: http.StatusBadRequest, Code: "unknown_field", Field: name,
			Message: fmt.Sprintf("Unknown field “%s”. This endpoint accepts: %s.", name, strings.Join(jsonFields(dst), ", "))}
	}
	return &serve.Problem{Status: http.StatusBadRequest, Code: "invalid_json", Message: "The body could not be read as JSON."}
}

// unknownField reads the field name out of encoding/json's
// DisallowUnknownFields error, which has no type of its own.
func unknownField(err error) (string, bool) {
	const prefix = `json: unknown field `
	msg := err.Error()
	if !strings.HasPrefix(msg, prefix) {
		return "", false
	}
	name, uerr := strconv.Unquote(strings.TrimPrefix(msg, prefix))
	if uerr != nil {
		return "", false
	}
	return name, true
}

// jsonFields lists the JSON names of dst's fields, in order.
func jsonFields(dst any) []string {
	t := reflect.TypeOf(dst)
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.Kind() != reflect.Struct {
		return nil
	}
	var out []string
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name != "" && name != "-" {
			out = append(out, name)
		}
	}
	return out
}

// typeWords names a Go type the way the API documents it.
func typeWords(t reflect.Type) string {
	if t == reflect.TypeFor[apiID]() {
		return `an id such as "12"`
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Map, reflect.Struct:
		return "an object"
	}
	return t.String()
}
