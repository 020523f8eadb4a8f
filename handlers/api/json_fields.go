package api

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/heraldstatus/herald/models"
)

// optional is a field of a request body that may be left out: Set says
// whether it was sent. PATCH changes only the fields that are set. null
// is refused, as a wrong type: these fields always have a value.
type optional[T any] struct {
	Set   bool
	Value T
}

// UnmarshalJSON implements json.Unmarshaler.
func (o *optional[T]) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return &json.UnmarshalTypeError{Value: "null", Type: reflect.TypeFor[T]()}
	}
	if err := json.Unmarshal(b, &o.Value); err != nil {
		return err
	}
	o.Set = true
	return nil
}

// apiID is an id in a request body: a string of digits, as the API
// writes ids, or a positive whole number.
type apiID int64

// UnmarshalJSON implements json.Unmarshaler.
func (id *apiID) UnmarshalJSON(b []byte) error {
	s := string(b)
	if uq, err := strconv.Unquote(s); err == nil && strings.HasPrefix(s, `"`) {
		s = uq
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return &json.UnmarshalTypeError{Value: jsonKind(b), Type: reflect.TypeFor[apiID]()}
	}
	*id = apiID(n)
	return nil
}

// jsonKind names the kind of a JSON value by its first byte, in the
// words of json.UnmarshalTypeError.
func jsonKind(b []byte) string {
	if len(b) == 0 {
		return "nothing"
	}
	switch b[0] {
	case '"':
		return "string"
	case 't', 'f':
		return "bool"
	case '[':
		return "array"
	case '{':
		return "object"
	case 'n':
		return "null"
	}
	return "number"
}

// kindWords says a JSON kind (as json.UnmarshalTypeError names it) in
// words: "a string", "null".
func kindWords(kind string) string {
	kind, _, _ = strings.Cut(kind, " ") // "number -1" for out-of-range numbers
	switch kind {
	case "string", "number":
		return "a " + kind
	case "bool":
		return "true or false"
	case "array":
		return "a list"
	case "object":
		return "an object"
	}
	return kind
}

// nullableID is an optional id that may be null, such as a component's
// group_id (null: no group).
type nullableID struct {
	Set bool
	ID  *int64
}

// UnmarshalJSON implements json.Unmarshaler.
func (n *nullableID) UnmarshalJSON(b []byte) error {
	n.Set = true
	if string(b) == "null" {
		n.ID = nil
		return nil
	}
	var id apiID
	if err := id.UnmarshalJSON(b); err != nil {
		return err
	}
	v := int64(id)
	n.ID = &v
	return nil
}

// pageIDsField is a user's or invitation's page_ids: null (or absent)
// for every page, or a list of page ids. It keeps the raw JSON, so a
// wrong type is a 422 naming the field, like every other page_ids
// mistake (pageIDs reads it).
type pageIDsField struct {
	Set bool
	Raw json.RawMessage
}

// UnmarshalJSON implements json.Unmarshaler.
func (f *pageIDsField) UnmarshalJSON(b []byte) error {
	f.Set, f.Raw = true, append(json.RawMessage(nil), b...)
	return nil
}

// pageIDs reads the field: nil for every page, else the ids, or a
// ValidationError on page_ids saying what is wrong.
func (f pageIDsField) pageIDs() ([]int64, error) {
	if !f.Set || string(f.Raw) == "null" {
		return nil, nil
	}
	bad := func(msg string) error {
		return &models.ValidationError{Fields: map[string]string{"page_ids": msg}}
	}
	var items []json.RawMessage
	if err := json.Unmarshal(f.Raw, &items); err != nil {
		return nil, bad(fmt.Sprintf("page_ids must be null (every page) or a list of page ids such as [\"2\", \"3\"], not %s.", kindWords(jsonKind(f.Raw))))
	}
	if len(items) > models.MaxPageIDs {
		return nil, bad(fmt.Sprintf("List at most %d pages, or send null for every page.", models.MaxPageIDs))
	}
	ids := make([]int64, 0, len(items))
	for i, item := range items {
		var id apiID
		if err := id.UnmarshalJSON(item); err != nil {
			return nil, bad(fmt.Sprintf("page_ids[%d] is not a page id: send ids such as \"2\" (GET /api/v1/pages lists them).", i))
		}
		ids = append(ids, int64(id))
	}
	return ids, nil
}
