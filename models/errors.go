package models

import (
	"errors"
	"sort"
	"strings"

	"gorm.io/gorm"
)

// ErrNotFound is returned when the requested row does not exist.
var ErrNotFound = errors.New("not found")

// ErrConflict is returned when a change collides with existing data.
var ErrConflict = errors.New("conflict")

// ValidationError carries one human-readable message per invalid field.
type ValidationError struct {
	Fields map[string]string
}

func (e *ValidationError) Error() string {
	keys := make([]string, 0, len(e.Fields))
	for k := range e.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+": "+e.Fields[k])
	}
	return "invalid input: " + strings.Join(parts, "; ")
}

// Validator collects field errors while checking input.
type Validator struct {
	fields map[string]string
}

// Add records msg for field unless the field already has an error.
func (v *Validator) Add(field, msg string) {
	if v.fields == nil {
		v.fields = map[string]string{}
	}
	if _, ok := v.fields[field]; !ok {
		v.fields[field] = msg
	}
}

// Check records msg for field when ok is false.
func (v *Validator) Check(ok bool, field, msg string) {
	if !ok {
		v.Add(field, msg)
	}
}

// Err returns a *ValidationError when any field failed, else nil.
func (v *Validator) Err() error {
	if len(v.fields) == 0 {
		return nil
	}
	return &ValidationError{Fields: v.fields}
}

// notFound maps gorm's missing-row error to ErrNotFound.
func notFound(err error) error {
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return ErrNotFound
	}
	return err
}

// addField adds a field's message to ve, making ve when nil.
func addField(ve *ValidationError, field, msg string) *ValidationError {
	if ve == nil {
		ve = &ValidationError{Fields: map[string]string{}}
	}
	if _, ok := ve.Fields[field]; !ok {
		ve.Fields[field] = msg
	}
	return ve
}
