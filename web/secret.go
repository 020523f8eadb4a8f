package web

import (
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/heraldstatus/herald/vault"
)

const secretFile = "secret.key"

// LoadOrCreateSecretKey returns the configured key, or the one persisted in
// dataDir, generating and saving it on first run. generated reports a new key.
func LoadOrCreateSecretKey(configured, dataDir string) (key string, generated bool, err error) {
	if configured != "" {
		return configured, false, nil
	}
	path := filepath.Join(dataDir, secretFile)
	b, err := os.ReadFile(path)
	if err == nil {
		key = strings.TrimSpace(string(b))
		if len(key) < 32 {
			return "", false, fmt.Errorf("secret key in %s is shorter than 32 characters; delete it to generate a new one", path)
		}
		return key, false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", false, fmt.Errorf("read secret key %s: %w", path, err)
	}
	if err := os.MkdirAll(dataDir, 0o750); err != nil {
		return "", false, fmt.Errorf("create data directory %s: %w", dataDir, err)
	}
	raw := make([]byte, 32)
	rand.Read(raw)
	key = hex.EncodeToString(raw)
	// O_EXCL: if another process created it first, use theirs.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return LoadOrCreateSecretKey("", dataDir)
	}
	if err != nil {
		return "", false, fmt.Errorf("write secret key %s: %w", path, err)
	}
	defer f.Close()
	if _, err := f.WriteString(key + "\n"); err != nil {
		return "", false, fmt.Errorf("write secret key %s: %w", path, err)
	}
	return key, true, nil
}

// DeriveKey derives a 32-byte key for one purpose from the secret key, so
// cookies and stored secrets never share key material.
func DeriveKey(secret, purpose string) []byte {
	k, err := hkdf.Key(sha256.New, []byte(secret), nil, "herald "+purpose, 32)
	if err != nil {
		panic(fmt.Sprintf("derive key: %v", err)) // only for lengths hkdf cannot produce
	}
	return k
}

// NewVault returns the vault that seals channel credentials, under a key
// derived from the secret key.
func NewVault(secret string) (*vault.Vault, error) {
	return vault.New(DeriveKey(secret, "channel-secrets"))
}
