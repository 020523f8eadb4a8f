// Package vault seals small secrets (channel URLs, headers, signing
// secrets) for storage, with AES-256-GCM under a key derived from
// HERALD_SECRET_KEY.
package vault

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// prefix versions the sealed format so the scheme can change later.
const prefix = "v1:"

// ErrOpen means a sealed value could not be opened: it was sealed under
// another key or has been altered.
var ErrOpen = errors.New("sealed value cannot be opened with this secret key")

// Vault seals and opens strings. It is safe for concurrent use.
type Vault struct {
	aead cipher.AEAD
}

// New returns a Vault for a 32-byte key.
func New(key []byte) (*Vault, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("vault key: want 32 bytes, got %d", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("vault key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("vault key: %w", err)
	}
	return &Vault{aead: aead}, nil
}

// Seal encrypts plaintext with a fresh random nonce. The empty string
// seals to the empty string, so optional fields stay empty.
func (v *Vault) Seal(plaintext string) (string, error) {
	if plaintext == "" {
		return "", nil
	}
	nonce := make([]byte, v.aead.NonceSize(), v.aead.NonceSize()+len(plaintext)+v.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("seal: %w", err)
	}
	out := v.aead.Seal(nonce, nonce, []byte(plaintext), nil)
	return prefix + base64.RawStdEncoding.EncodeToString(out), nil
}

// Open decrypts a value made by Seal.
func (v *Vault) Open(sealed string) (string, error) {
	if sealed == "" {
		return "", nil
	}
	rest, ok := strings.CutPrefix(sealed, prefix)
	if !ok {
		return "", ErrOpen
	}
	raw, err := base64.RawStdEncoding.DecodeString(rest)
	if err != nil || len(raw) < v.aead.NonceSize() {
		return "", ErrOpen
	}
	n := v.aead.NonceSize()
	plain, err := v.aead.Open(nil, raw[:n], raw[n:], nil)
	if err != nil {
		return "", ErrOpen
	}
	return string(plain), nil
}
