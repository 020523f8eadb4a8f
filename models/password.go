package models

import (
	"strings"
	"unicode"

	"github.com/trustelem/zxcvbn"
	"github.com/trustelem/zxcvbn/match"
)

// MinPasswordScore is the zxcvbn score a password needs (0–4). 3 means
// about 10⁸ guesses or more: out of reach of online guessing, and slow
// against bcrypt offline.
//
// Strength is estimated with github.com/trustelem/zxcvbn, a pure-Go port
// of Dropbox's zxcvbn: it knows the common-password, name and word lists
// and the patterns people use (keyboard walks, sequences, repeats, dates,
// l33t), scores a password by how many guesses it would take, and
// matches the e-mail and page name given as user inputs. It has no cgo
// and no network access, and its only dependency is a regexp package. A
// fixed rule set (digits, symbols) would accept "Password1!" and refuse
// long passphrases; a breach-list lookup would send data out.
const MinPasswordScore = 3

// weakPassword says why password is too easy to guess, or "" when it is
// strong enough. inputs are words the user's own data gives away (e-mail,
// page name): a password built from them is weak.
func weakPassword(password string, inputs ...string) string {
	var words []string
	for _, in := range inputs {
		in = strings.ToLower(strings.TrimSpace(in))
		if in == "" {
			continue
		}
		words = append(words, in)
		words = append(words, strings.FieldsFunc(in, func(r rune) bool {
			return !unicode.IsLetter(r) && !unicode.IsDigit(r)
		})...)
	}
	words = append(words, "herald", "status", "statuspage")
	r := zxcvbn.PasswordStrength(password, words)
	if r.Score >= MinPasswordScore {
		return ""
	}
	return "This password is too easy to guess: " + weakReason(r.Sequence) +
		" Use a few unrelated words or more characters that follow no pattern."
}

// weakReason names the most telling pattern zxcvbn found.
func weakReason(seq []*match.Match) string {
	reasons := []struct {
		is  func(m *match.Match) bool
		why string
	}{
		{func(m *match.Match) bool { return m.Pattern == "dictionary" && m.DictionaryName == "user_inputs" },
			"it is built from your e-mail address or the page's name."},
		{func(m *match.Match) bool { return m.Pattern == "dictionary" && m.DictionaryName == "passwords" },
			"it is, or contains, one of the most common passwords."},
		{func(m *match.Match) bool { return m.Pattern == "repeat" },
			"repeats like “aaaa” or “abcabc” add little."},
		{func(m *match.Match) bool { return m.Pattern == "sequence" },
			"sequences like “abcd” or “6543” are guessed early."},
		{func(m *match.Match) bool { return m.Pattern == "spatial" },
			"keyboard patterns like “qwerty” are guessed early."},
		{func(m *match.Match) bool { return m.Pattern == "date" || m.Pattern == "regex" },
			"dates and years are guessed early."},
		{func(m *match.Match) bool { return m.Pattern == "dictionary" },
			"common words and names, even with capitals or l33t, are guessed early."},
	}
	for _, r := range reasons {
		for _, m := range seq {
			if r.is(m) {
				return r.why
			}
		}
	}
	return "it is too short for its variety of characters."
}
