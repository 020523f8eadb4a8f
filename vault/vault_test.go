package vault

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestSealOpen(t *testing.T) {
	v, err := New(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	const secret = "https://hooks.slack.com/services/T000/B000/XXXXXXXX"
	a, err := v.Seal(secret)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := v.Seal(secret)
	if a == b {
		t.Error("two seals of one value are equal: the nonce is not fresh")
	}
	if strings.Contains(a, "hooks.slack.com") {
		t.Errorf("sealed value leaks the plaintext: %s", a)
	}
	got, err := v.Open(a)
	if err != nil || got != secret {
		t.Fatalf("Open = %q, %v; want the plaintext", got, err)
	}
	if s, _ := v.Seal(""); s != "" {
		t.Errorf("Seal(\"\") = %q, want empty", s)
	}

	other, _ := New(bytes.Repeat([]byte{8}, 32))
	if _, err := other.Open(a); !errors.Is(err, ErrOpen) {
		t.Errorf("Open under another key: err = %v, want ErrOpen", err)
	}
	tampered := a[:len(a)-2] + "AA"
	if _, err := v.Open(tampered); !errors.Is(err, ErrOpen) {
		t.Errorf("Open of a tampered value: err = %v, want ErrOpen", err)
	}
	if _, err := v.Open("plain text"); !errors.Is(err, ErrOpen) {
		t.Errorf("Open of an unsealed value: err = %v, want ErrOpen", err)
	}
	if _, err := New([]byte("short")); err == nil {
		t.Error("New accepted a short key")
	}
}
