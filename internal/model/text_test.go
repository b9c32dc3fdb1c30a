package model

import (
	"strings"
	"testing"
)

func TestStripBidi(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"\u202egpj.exe\u202c", "gpj.exe"},
		{"\u2066王\u2069伟\u2067\u2068", "王伟"},
		{"\u202a\u202b\u202d", ""},
		{"plain — “quoted” …", "plain — “quoted” …"}, // other E2 80 characters stay
		{"\u200f\u061c", "\u200f\u061c"},             // marks are not controls that embed
		{"\xe2\x80\u202e\xae", ""},                   // removing one must not leave another
	} {
		if got := StripBidi(c.in); got != c.want {
			t.Errorf("StripBidi(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func FuzzStripBidi(f *testing.F) {
	for _, s := range []string{"\u202egpj.exe", "a\u2069", "\xe2\x80", "“”", "", "\xe2\x80\u202e\xae"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := StripBidi(s)
		if strings.ContainsFunc(out, isBidiControl) || len(out) > len(s) || StripBidi(out) != out {
			t.Fatalf("StripBidi(%q) = %q", s, out)
		}
	})
}
