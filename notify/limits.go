package notify

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Slack and Discord count their limits in UTF-16 code units, the length
// of a JavaScript string: a character outside the Basic Multilingual
// Plane (most emoji, rare CJK, historic scripts) counts twice. Herald
// counts the same way wherever a platform limit applies, so a message
// that fits by Herald's count fits by theirs.

// ellipsis marks a cut; it is one UTF-16 unit.
const ellipsis = "…"

// utf16Len is the length of s in UTF-16 code units. An invalid byte
// counts as the one unit of the U+FFFD that replaces it.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += runeUnits(r)
	}
	return n
}

func runeUnits(r rune) int {
	if r >= 0x10000 {
		return 2
	}
	return 1
}

// truncate cuts s to at most max UTF-16 units, ending in "…" when cut
// (the "…" counts). It never splits a character, and it keeps what the
// eye sees as one character whole when it can: an emoji with its skin
// tone or its zero-width-joined parts, a flag, a letter with its
// combining accents.
func truncate(s string, max int) string {
	if max <= 0 {
		return ""
	}
	if utf16Len(s) <= max {
		return s
	}
	cut := fitPrefix(s, max-utf16Len(ellipsis), runeUnits)
	return strings.TrimRightFunc(s[:cut], unicode.IsSpace) + ellipsis
}

// maxBackOff bounds how far fitPrefix steps back to keep a cluster whole:
// past it (text stacked with hundreds of combining marks) it cuts between
// characters, which is still valid.
const maxBackOff = 32

// fitPrefix returns the length in bytes of the longest prefix of s whose
// width, rune by rune, is at most budget, moved back to a boundary
// between clusters when that costs at most maxBackOff characters.
func fitPrefix(s string, budget int, width func(rune) int) int {
	cut, used := 0, 0
	for cut < len(s) {
		r, size := utf8.DecodeRuneInString(s[cut:])
		if used+width(r) > budget {
			break
		}
		used += width(r)
		cut += size
	}
	if cut >= len(s) {
		return cut
	}
	for back, at := 0, cut; back <= maxBackOff; back++ {
		if clusterBoundary(s, at) { // true at 0: nothing is whole
			return at
		}
		_, size := utf8.DecodeLastRuneInString(s[:at])
		at -= size
	}
	return cut
}

// clusterBoundary reports whether a cut at byte i of s (between two
// characters) leaves every visible character whole. It is a
// conservative reading of Unicode's extended grapheme clusters (UAX
// #29): marks, joiners, variation selectors, skin tones, emoji tags and
// Hangul vowels and finals stay with what precedes them, a zero-width
// joiner with what follows, and regional indicators in pairs.
func clusterBoundary(s string, i int) bool {
	if i <= 0 || i >= len(s) {
		return true
	}
	next, _ := utf8.DecodeRuneInString(s[i:])
	prev, _ := utf8.DecodeLastRuneInString(s[:i])
	if extendsPrevious(next) || prev == zwj {
		return false
	}
	if isRegionalIndicator(prev) && isRegionalIndicator(next) {
		// A flag is a pair: cut only after an even run.
		run := 0
		for at := i; at > 0; {
			r, size := utf8.DecodeLastRuneInString(s[:at])
			if !isRegionalIndicator(r) {
				break
			}
			run++
			at -= size
		}
		return run%2 == 0
	}
	return true
}

const zwj = '\u200D'

func extendsPrevious(r rune) bool {
	switch {
	case r == zwj,
		r >= 0xFE00 && r <= 0xFE0F,   // variation selectors (text/emoji style)
		r >= 0xE0100 && r <= 0xE01EF, // variation selectors supplement
		r >= 0x1F3FB && r <= 0x1F3FF, // emoji skin tones
		r >= 0xE0020 && r <= 0xE007F, // emoji tag sequences (subdivision flags)
		r >= 0x1160 && r <= 0x11FF,   // Hangul jamo vowels and finals
		r >= 0xD7B0 && r <= 0xD7FF,   // Hangul jamo extended-B
		r == 0x20E3:                  // combining enclosing keycap
		return true
	}
	return unicode.In(r, unicode.Mn, unicode.Me, unicode.Mc)
}

func isRegionalIndicator(r rune) bool { return r >= 0x1F1E6 && r <= 0x1F1FF }

// joinLimited joins items with ", " into at most max UTF-16 units, each
// item passed through esc first; items that do not fit are counted
// instead ("API, Website and 58 more").
func joinLimited(items []string, max int, esc func(string) string) string {
	parts := make([]string, len(items))
	for i, it := range items {
		parts[i] = esc(truncate(oneLine(it), 100))
	}
	if all := strings.Join(parts, ", "); utf16Len(all) <= max {
		return all
	}
	length := 0
	for k := range parts {
		if k > 0 {
			length += 2 // ", "
		}
		length += utf16Len(parts[k])
		rest := fmt.Sprintf(" and %d more", len(parts)-k-1)
		if length+len(rest) > max {
			if k == 0 {
				return truncate(fmt.Sprintf("%d components", len(parts)), max)
			}
			return strings.Join(parts[:k], ", ") + fmt.Sprintf(" and %d more", len(parts)-k)
		}
	}
	return truncate(strings.Join(parts, ", "), max) // not reached: all fit
}
