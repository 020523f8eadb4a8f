package models

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
	"golang.org/x/crypto/bcrypt"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// TOTP as every authenticator app reads it: SHA-1, six digits, 30-second
// steps. One step either side is accepted for clock drift.
const (
	totpPeriod = 30
	totpSkew   = 1
	// RecoveryCodeCount is how many recovery codes a user gets at a time.
	RecoveryCodeCount = 10
	// recoveryCodeBytes of randomness: 80 bits, 16 base32 letters, so a
	// plain SHA-256 of the code is as good as a slow hash.
	recoveryCodeBytes = 10
)

// Two-factor errors.
var (
	// ErrWrongCode is a well-formed code that is not the user's.
	ErrWrongCode = errors.New("wrong two-factor code")
	// ErrReusedCode is a TOTP code of a time step already used, or older.
	ErrReusedCode = errors.New("two-factor code already used")
	// ErrTwoFactorOn is returned when enrolling a user whose two-factor
	// sign-in is already on.
	ErrTwoFactorOn = errors.New("two-factor sign-in is already on")
	// ErrTwoFactorOff is returned when a user without two-factor sign-in
	// confirms, disables or regenerates.
	ErrTwoFactorOff = errors.New("two-factor sign-in is off")
	// ErrTwoFactorRequired is returned when a user disables two-factor
	// sign-in while the install requires it.
	ErrTwoFactorRequired = errors.New("the install requires two-factor sign-in")
	// ErrSecretUnreadable: the user's TOTP key was sealed with another
	// secret key (HERALD_SECRET_KEY changed) and cannot be opened.
	// Recovery codes, stored as hashes, still work.
	ErrSecretUnreadable = errors.New("two-factor key sealed with another secret key")
)

var totpOpts = totp.ValidateOpts{Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// recoveryEncoding spells recovery codes in lower-case base32, without
// padding: no 0/O or 1/l to confuse.
var recoveryEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// RecoveryCode is one single-use code, stored as its hash.
type RecoveryCode struct {
	ID        int64
	UserID    int64
	CodeHash  string
	UsedAt    *time.Time
	CreatedAt time.Time
}

// TwoFactorEnrolment is a pending enrolment: the secret to type in and the
// otpauth:// URL the QR code holds.
type TwoFactorEnrolment struct {
	Secret string
	URL    string
}

// SecondFactor is how a second factor passed.
type SecondFactor struct {
	// Recovery is set when a recovery code was used; RecoveryLeft counts
	// the user's unused ones after it.
	Recovery     bool
	RecoveryLeft int
}

// codeKind tells a TOTP code ("123 456") from a recovery code
// ("abcd-efgh-ijkl-mnop"), after removing spaces and dashes; anything
// else is a field error, so junk never reaches a comparison.
func codeKind(v *Validator, raw string) (code string, recovery bool) {
	checkInput(v, &struct{ Code string }{raw})
	if v.Err() != nil {
		return "", false
	}
	code = strings.ToLower(strings.NewReplacer(" ", "", "-", "", "\t", "").Replace(raw))
	switch {
	case len(code) == 6 && strings.Trim(code, "0123456789") == "":
		return code, false
	case len(code) == recoveryEncoding.EncodedLen(recoveryCodeBytes) && strings.Trim(code, "abcdefghijklmnopqrstuvwxyz234567") == "":
		return code, true
	}
	v.Add("code", "Enter the 6-digit code from your authenticator app, or one of your recovery codes.")
	return "", false
}

// totpCode checks that raw is a six-digit code.
func totpCode(v *Validator, raw string) string {
	code, recovery := codeKind(v, raw)
	if v.Err() == nil && recovery {
		v.Add("code", "Enter the 6-digit code from your authenticator app.")
	}
	return code
}

// matchStep returns the time step, within the skew, whose code is code;
// 0 when none is.
func matchStep(secret, code string, now time.Time) (int64, error) {
	current := now.Unix() / totpPeriod
	for _, step := range []int64{current, current - totpSkew, current + totpSkew} {
		want, err := totp.GenerateCodeCustom(secret, time.Unix(step*totpPeriod, 0), totpOpts)
		if err != nil {
			return 0, fmt.Errorf("totp code: %w", err)
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			return step, nil
		}
	}
	return 0, nil
}

func (s *Store) openSecret(u *User) (string, error) {
	if s.sealer == nil {
		return "", ErrNoSealer
	}
	secret, err := s.sealer.Open(u.TOTPSecret)
	if err != nil {
		return "", fmt.Errorf("open totp secret of user %d: %w: %w", u.ID, ErrSecretUnreadable, err)
	}
	return secret, nil
}

// useTOTP accepts code once: its time step must be newer than the last
// one used, and the conditional update makes two requests racing with the
// same code one winner.
func (s *Store) useTOTP(tx *gorm.DB, u *User, code string) error {
	secret, err := s.openSecret(u)
	if err != nil {
		return err
	}
	step, err := matchStep(secret, code, s.Now())
	if err != nil {
		return err
	}
	if step == 0 {
		return ErrWrongCode
	}
	if step <= u.TOTPLastStep {
		return ErrReusedCode
	}
	res := tx.Model(&User{}).Where("id = ? AND totp_last_step < ?", u.ID, step).Update("totp_last_step", step)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected != 1 {
		return ErrReusedCode
	}
	u.TOTPLastStep = step
	return nil
}

func recoveryHash(code string) string {
	sum := sha256.Sum256([]byte(code))
	return hex.EncodeToString(sum[:])
}

// useRecoveryCode consumes code: the conditional update lets it work once.
func (s *Store) useRecoveryCode(tx *gorm.DB, userID int64, code string) error {
	res := tx.Model(&RecoveryCode{}).Where("user_id = ? AND code_hash = ? AND used_at IS NULL", userID, recoveryHash(code)).
		Update("used_at", s.Now())
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected != 1 {
		return ErrWrongCode
	}
	return nil
}

// newRecoveryCodes replaces the user's recovery codes with fresh ones and
// returns them, formatted for reading ("abcd-efgh-ijkl-mnop").
func (s *Store) newRecoveryCodes(tx *gorm.DB, userID int64) ([]string, error) {
	if err := tx.Where("user_id = ?", userID).Delete(&RecoveryCode{}).Error; err != nil {
		return nil, err
	}
	now := s.Now()
	codes := make([]string, RecoveryCodeCount)
	rows := make([]RecoveryCode, RecoveryCodeCount)
	for i := range codes {
		b := make([]byte, recoveryCodeBytes)
		rand.Read(b)
		plain := recoveryEncoding.EncodeToString(b)
		codes[i] = plain[0:4] + "-" + plain[4:8] + "-" + plain[8:12] + "-" + plain[12:16]
		rows[i] = RecoveryCode{UserID: userID, CodeHash: recoveryHash(plain), CreatedAt: now}
	}
	if err := tx.Create(&rows).Error; err != nil {
		return nil, err
	}
	return codes, nil
}

// lockUser loads a user for a change of their two-factor state; on
// PostgreSQL the row stays locked until the transaction ends.
func (s *Store) lockUser(tx *gorm.DB, id int64) (*User, error) {
	var u User
	q := tx
	if s.engine == Postgres {
		q = q.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	if err := q.First(&u, id).Error; err != nil {
		return nil, notFound(err)
	}
	return &u, nil
}

// StartTwoFactor gives a user without two-factor sign-in a new secret to
// enrol with, sealed in users.totp_secret; it counts once confirmed
// (EnableTwoFactor). Starting again replaces an unconfirmed secret.
func (s *Store) StartTwoFactor(ctx context.Context, userID int64) error {
	if s.sealer == nil {
		return ErrNoSealer
	}
	err := s.transact(ctx, func(tx *gorm.DB) error {
		u, err := s.lockUser(tx, userID)
		if err != nil {
			return err
		}
		if u.TwoFactor() {
			return ErrTwoFactorOn
		}
		key, err := totp.Generate(totp.GenerateOpts{Issuer: "Herald", AccountName: u.Email, Period: totpPeriod,
			Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		if err != nil {
			return err
		}
		sealed, err := s.sealer.Seal(key.Secret())
		if err != nil {
			return err
		}
		return tx.Model(&User{}).Where("id = ?", userID).
			Updates(map[string]any{"totp_secret": sealed, "totp_last_step": 0, "updated_at": s.Now()}).Error
	})
	if err != nil {
		return fmt.Errorf("start two-factor enrolment of user %d: %w", userID, err)
	}
	return nil
}

// TwoFactorEnrolment returns the pending secret of a user who started
// enrolling, as the authenticator app reads it under issuer (the page's
// name); ErrNotFound when there is none, ErrTwoFactorOn when it is
// confirmed already.
func (s *Store) TwoFactorEnrolment(ctx context.Context, userID int64, issuer string) (*TwoFactorEnrolment, error) {
	u, err := s.User(ctx, userID)
	if err != nil {
		return nil, err
	}
	if u.TwoFactor() {
		return nil, ErrTwoFactorOn
	}
	if u.TOTPSecret == "" {
		return nil, fmt.Errorf("two-factor enrolment of user %d: %w", userID, ErrNotFound)
	}
	secret, err := s.openSecret(u)
	if err != nil {
		return nil, err
	}
	issuer = strings.Map(func(r rune) rune {
		if r == ':' || r < 0x20 {
			return -1 // a colon would split the otpauth label
		}
		return r
	}, strings.TrimSpace(issuer))
	if issuer == "" {
		issuer = "Herald"
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: issuer, AccountName: u.Email, Period: totpPeriod,
		Secret: mustDecodeSecret(secret), Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		return nil, fmt.Errorf("two-factor enrolment of user %d: %w", userID, err)
	}
	return &TwoFactorEnrolment{Secret: key.Secret(), URL: key.URL()}, nil
}

// mustDecodeSecret turns the stored base32 secret back into bytes; it was
// made by totp.Generate, so it decodes.
func mustDecodeSecret(secret string) []byte {
	b, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.TrimRight(secret, "="))
	if err != nil {
		return nil
	}
	return b
}

// EnableTwoFactor confirms a pending enrolment with a current code from
// the app: two-factor sign-in is on from now, and the user's ten recovery
// codes are returned, the only time they exist in plaintext.
func (s *Store) EnableTwoFactor(ctx context.Context, userID int64, code string) ([]string, error) {
	var v Validator
	code = totpCode(&v, code)
	if err := v.Err(); err != nil {
		return nil, err
	}
	var codes []string
	err := s.transact(ctx, func(tx *gorm.DB) error {
		u, err := s.lockUser(tx, userID)
		if err != nil {
			return err
		}
		if u.TwoFactor() {
			return ErrTwoFactorOn
		}
		if u.TOTPSecret == "" {
			return ErrTwoFactorOff
		}
		before := userAuditSnapshot(u)
		if err := s.useTOTP(tx, u, code); err != nil {
			return err
		}
		now := s.Now()
		if err := tx.Model(&User{}).Where("id = ?", userID).
			Updates(map[string]any{"totp_enabled_at": now, "updated_at": now}).Error; err != nil {
			return err
		}
		u.TOTPEnabledAt = &now
		if codes, err = s.newRecoveryCodes(tx, userID); err != nil {
			return err
		}
		return audit(ctx, tx, change{PageID: DefaultPageID, Action: "user.2fa_enable", ObjectType: AuditUser,
			ObjectID: idString(userID), Summary: fmt.Sprintf("Turned on two-factor sign-in for %s.", u.Email),
			Before: before, After: userAuditSnapshot(u)})
	})
	if err != nil {
		return nil, fmt.Errorf("enable two-factor sign-in of user %d: %w", userID, err)
	}
	return codes, nil
}

// checkReauth checks the password and second factor a user gives to
// change their two-factor sign-in; either wrong is a field error.
func (s *Store) checkReauth(tx *gorm.DB, u *User, password, code string) error {
	var v Validator
	checkInput(&v, &struct{ Password string }{password})
	code, recovery := codeKind(&v, code)
	if err := v.Err(); err != nil {
		return err
	}
	if u.PasswordHash == "" || bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(password)) != nil {
		return &ValidationError{Fields: map[string]string{"password": "That is not your password."}}
	}
	var err error
	if recovery {
		err = s.useRecoveryCode(tx, u.ID, code)
	} else {
		err = s.useTOTP(tx, u, code)
	}
	switch {
	case errors.Is(err, ErrWrongCode):
		return &ValidationError{Fields: map[string]string{"code": "That code is not right. Enter the current code from your app."}}
	case errors.Is(err, ErrReusedCode):
		return &ValidationError{Fields: map[string]string{"code": "That code was used already. Wait for the next one."}}
	}
	return err
}

// RegenerateRecoveryCodes replaces a user's recovery codes, after their
// password and a current code, and returns the new ones.
func (s *Store) RegenerateRecoveryCodes(ctx context.Context, userID int64, password, code string) ([]string, error) {
	var codes []string
	err := s.transact(ctx, func(tx *gorm.DB) error {
		u, err := s.lockUser(tx, userID)
		if err != nil {
			return err
		}
		if !u.TwoFactor() {
			return ErrTwoFactorOff
		}
		if err := s.checkReauth(tx, u, password, code); err != nil {
			return err
		}
		if codes, err = s.newRecoveryCodes(tx, userID); err != nil {
			return err
		}
		return audit(ctx, tx, change{PageID: DefaultPageID, Action: "user.2fa_recovery_codes", ObjectType: AuditUser,
			ObjectID: idString(userID), Summary: fmt.Sprintf("Made new recovery codes for %s; the old ones no longer work.", u.Email)})
	})
	if err != nil {
		return nil, fmt.Errorf("regenerate recovery codes of user %d: %w", userID, err)
	}
	return codes, nil
}

// DisableTwoFactor turns a user's two-factor sign-in off, after their
// password and a current code, unless the install requires it.
func (s *Store) DisableTwoFactor(ctx context.Context, userID int64, password, code string) error {
	err := s.transact(ctx, func(tx *gorm.DB) error {
		if on, err := requireTwoFactor(tx); err != nil {
			return err
		} else if on {
			return ErrTwoFactorRequired
		}
		u, err := s.lockUser(tx, userID)
		if err != nil {
			return err
		}
		if !u.TwoFactor() {
			return ErrTwoFactorOff
		}
		before := userAuditSnapshot(u)
		if err := s.checkReauth(tx, u, password, code); err != nil {
			return err
		}
		if err := tx.Model(&User{}).Where("id = ?", userID).Updates(map[string]any{
			"totp_secret": "", "totp_enabled_at": nil, "totp_last_step": 0, "updated_at": s.Now()}).Error; err != nil {
			return err
		}
		if err := tx.Where("user_id = ?", userID).Delete(&RecoveryCode{}).Error; err != nil {
			return err
		}
		u.TOTPSecret, u.TOTPEnabledAt = "", nil
		return audit(ctx, tx, change{PageID: DefaultPageID, Action: "user.2fa_disable", ObjectType: AuditUser,
			ObjectID: idString(userID), Summary: fmt.Sprintf("Turned off two-factor sign-in for %s.", u.Email),
			Before: before, After: userAuditSnapshot(u)})
	})
	if err != nil {
		return fmt.Errorf("disable two-factor sign-in of user %d: %w", userID, err)
	}
	return nil
}

// CheckSecondFactor is the second step of a password sign-in: a TOTP code
// works once (its step must be newer than the last used), a recovery code
// is consumed. A malformed code is a field error; a wrong one
// ErrWrongCode, a replayed one ErrReusedCode.
func (s *Store) CheckSecondFactor(ctx context.Context, userID int64, code string) (SecondFactor, error) {
	var v Validator
	code, recovery := codeKind(&v, code)
	if err := v.Err(); err != nil {
		return SecondFactor{}, err
	}
	var res SecondFactor
	err := s.transact(ctx, func(tx *gorm.DB) error {
		u, err := s.lockUser(tx, userID)
		if err != nil {
			return err
		}
		if !u.TwoFactor() {
			return ErrTwoFactorOff
		}
		if !recovery {
			return s.useTOTP(tx, u, code)
		}
		if err := s.useRecoveryCode(tx, userID, code); err != nil {
			return err
		}
		res.Recovery = true
		left, err := recoveryCodesLeft(tx, userID)
		res.RecoveryLeft = left
		return err
	})
	if err != nil {
		return SecondFactor{}, fmt.Errorf("check second factor of user %d: %w", userID, err)
	}
	return res, nil
}

func recoveryCodesLeft(tx *gorm.DB, userID int64) (int, error) {
	var n int64
	err := tx.Model(&RecoveryCode{}).Where("user_id = ? AND used_at IS NULL", userID).Count(&n).Error
	return int(n), err
}

// RecoveryCodesLeft counts a user's unused recovery codes.
func (s *Store) RecoveryCodesLeft(ctx context.Context, userID int64) (int, error) {
	n, err := recoveryCodesLeft(s.conn(ctx), userID)
	if err != nil {
		return 0, fmt.Errorf("count recovery codes of user %d: %w", userID, err)
	}
	return n, nil
}
