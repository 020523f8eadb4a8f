package models

import (
	"fmt"
	"reflect"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Text that every engine stores alike. PostgreSQL refuses NUL and bytes
// that are not UTF-8 in a text column with an error (which reached
// admins as a 500); SQLite stores them as they come. Neither is anything
// an admin means to type, so every string of every input struct is
// checked here, before any other rule, and refused with a field error:
//
//   - bytes that are not UTF-8;
//   - NUL and every other control character (C0, DEL, C1), except tab,
//     and line feed and carriage return in multi-line fields;
//   - line breaks in single-line fields (names, titles, URLs, e-mail
//     addresses, choices), where they would break chat messages, e-mail
//     headers and log lines.
//
// checkInput walks the input struct by reflection, so a field added to
// an input struct is checked without anyone remembering to: a string, a
// list of strings, a map with string keys or values, a pointer to one,
// or a struct holding any of these. The field is named by its `field` tag, else by its Go name in
// snake_case (LogoURL is logo_url): the names of the admin forms, which
// the API renames where its names differ. A `text:"multiline"` tag marks
// a field that may hold line breaks (messages, descriptions, headers).
//
// It is the first call of every models function that validates an
// input; models/text_test.go finds every *Input type in the package and
// proves, on both engines, that each of its text fields is refused with
// NUL, bad bytes, control characters and (when single-line) line breaks.
func checkInput(v *Validator, in any) {
	rv := reflect.ValueOf(in)
	for rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return
		}
		rv = rv.Elem()
	}
	if rv.Kind() != reflect.Struct {
		panic(fmt.Sprintf("checkInput: %T is not a struct", in))
	}
	t := rv.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		checkTextValue(v, InputFieldName(f), rv.Field(i), f.Tag.Get("text") == "multiline")
	}
}

// InputFieldName is the name validation errors give the field f of an
// input struct: its `field` tag, else its Go name in snake_case.
func InputFieldName(f reflect.StructField) string {
	if name := f.Tag.Get("field"); name != "" {
		return name
	}
	var b strings.Builder
	runes := []rune(f.Name)
	for i, r := range runes {
		if unicode.IsUpper(r) && i > 0 && (unicode.IsLower(runes[i-1]) || unicode.IsDigit(runes[i-1])) {
			b.WriteByte('_')
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

func checkTextValue(v *Validator, field string, rv reflect.Value, multiline bool) {
	switch rv.Kind() {
	case reflect.String:
		if msg := textProblem(rv.String(), multiline); msg != "" {
			v.Add(field, msg)
		}
	case reflect.Slice, reflect.Array:
		for i := range rv.Len() {
			checkTextValue(v, field, rv.Index(i), multiline)
		}
	case reflect.Map:
		it := rv.MapRange()
		for it.Next() {
			checkTextValue(v, field, it.Key(), multiline)
			checkTextValue(v, field, it.Value(), multiline)
		}
	case reflect.Pointer, reflect.Interface:
		if !rv.IsNil() {
			checkTextValue(v, field, rv.Elem(), multiline)
		}
	case reflect.Struct:
		// A nested struct's text is reported under the outer field.
		// (time.Time has no exported fields.)
		t := rv.Type()
		for i := range t.NumField() {
			if t.Field(i).IsExported() {
				checkTextValue(v, field, rv.Field(i), multiline || t.Field(i).Tag.Get("text") == "multiline")
			}
		}
	}
	// Numbers and booleans hold no text.
}

// textProblem says what is wrong with s as the text of a field, or "".
// Positions count characters from 1, as an admin would.
func textProblem(s string, multiline bool) string {
	if !utf8.ValidString(s) {
		for i := 0; i < len(s); {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				return fmt.Sprintf("This is not valid UTF-8 text: byte 0x%02X, at character %d, is not part of any character. Type or paste the text again.",
					s[i], utf8.RuneCountInString(s[:i])+1)
			}
			i += size
		}
	}
	n := 0
	for _, r := range s {
		n++
		switch {
		case r == '\t':
		case r == '\n' || r == '\r':
			if !multiline {
				return fmt.Sprintf("Write this on one line: remove the line break at character %d.", n)
			}
		case r == 0:
			return fmt.Sprintf("Remove the NUL character (U+0000) at character %d: Herald cannot store it.", n)
		case unicode.IsControl(r):
			return fmt.Sprintf("Remove the control character U+%04X at character %d.", r, n)
		}
	}
	return ""
}

// validText reports whether s passes the checks of checkInput, for
// values that are looked up rather than stored (an e-mail at sign-in).
func validText(s string) bool { return textProblem(s, false) == "" }
