package models

import (
	"bytes"
	"encoding/json"
	"slices"
)

// AuditChange is one field of an audited object that differs between the
// before and after snapshots. Values are ready to print: strings as they
// are, anything else as compact JSON, "" when the side lacks the field.
type AuditChange struct {
	Field  string
	Before string
	After  string
}

// AuditChanges lists the top-level fields whose values differ between
// two snapshots, in alphabetical order. It is nil unless both are JSON
// objects. Accent colours are shown by their palette name (AccentName),
// so an entry recorded before accents were normalised ("#0969da") reads
// like a newer one ("blue").
func AuditChanges(before, after string) []AuditChange {
	var b, a map[string]json.RawMessage
	if json.Unmarshal([]byte(before), &b) != nil || json.Unmarshal([]byte(after), &a) != nil || b == nil || a == nil {
		return nil
	}
	fields := make([]string, 0, len(a)+len(b))
	for k := range a {
		fields = append(fields, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			fields = append(fields, k)
		}
	}
	slices.Sort(fields)
	var out []AuditChange
	for _, f := range fields {
		old, now := auditValue(f, b[f]), auditValue(f, a[f])
		if old == now {
			continue // the same, or only spelt differently (#0969da, blue)
		}
		out = append(out, AuditChange{Field: f, Before: old, After: now})
	}
	return out
}

// auditValue prints one snapshot value.
func auditValue(field string, raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if field == "accent_color" {
			if name := AccentName(s); name != "" {
				return name
			}
		}
		return s
	}
	return string(compactJSON(raw))
}

func compactJSON(raw json.RawMessage) []byte {
	var buf bytes.Buffer
	if json.Compact(&buf, raw) != nil {
		return raw
	}
	return buf.Bytes()
}
