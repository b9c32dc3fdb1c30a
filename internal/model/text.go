package model

import (
	"strings"
	"unicode/utf8"
)

// isBidiControl says whether r is a Unicode bidirectional embedding,
// override or isolate control (U+202A–U+202E, U+2066–U+2069): invisible
// characters that reorder how a name is displayed, so that a trait can
// show as something other than what it holds.
func isBidiControl(r rune) bool {
	return (r >= 0x202A && r <= 0x202E) || (r >= 0x2066 && r <= 0x2069)
}

// StripBidi removes the bidi controls from s.
func StripBidi(s string) string {
	// Every control is encoded as E2 80 AA–AE or E2 81 A6–A9: a string
	// without the byte E2 has none.
	if strings.IndexByte(s, 0xE2) < 0 || !strings.ContainsFunc(s, isBidiControl) {
		return s
	}
	// Byte by byte, so that anything else, even invalid UTF-8, stays as is.
	// Removing a control can join the invalid bytes around it into a new
	// one ("\xe2\x80" + control + "\xae"), so the output is checked, not
	// the input: whenever the bytes written so far end in a control, it is
	// taken back off. One pass, and the result holds no control.
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		out = append(out, s[i])
		if n := len(out); n >= 3 && out[n-3] == 0xE2 {
			if r, size := utf8.DecodeRune(out[n-3:]); size == 3 && isBidiControl(r) {
				out = out[:n-3]
			}
		}
	}
	return string(out)
}

// CleanText is a name or label from outside as revloop stores it: without
// bidi controls and surrounding white space.
func CleanText(s string) string { return strings.TrimSpace(StripBidi(s)) }
