package auth

import (
	"bufio"
	"bytes"
	"embed"
	"errors"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"
)

// MinPasswordLength and MaxPasswordLength bound a new password, counted in
// characters. Existing users whose password is shorter keep signing in; the
// rule applies when a password is set.
const (
	MinPasswordLength = 12
	MaxPasswordLength = 1024
)

// commonFS holds the passwords nobody may choose:
//
//   - passwords/common.txt is John the Ripper's password.lst (Solar
//     Designer, Openwall, 1996–2011, "assumed to be in the public
//     domain"), as shipped by Debian's john-data package in
//     /usr/share/john/password.lst: the ~3,500 passwords most often seen,
//     sorted by frequency. Most are shorter than 12 characters, so they
//     matter as the base of a longer one ("monkey" + "123456").
//   - passwords/long.txt is a hand-written supplement of long passwords
//     common in leaked sets (digit runs, keyboard walks, padded words,
//     pinyin phrases).
//
//go:embed passwords/*.txt
var commonFS embed.FS

// commonPasswords returns the lower-cased list, built on first use.
var commonPasswords = sync.OnceValue(func() map[string]struct{} {
	out := map[string]struct{}{}
	for _, name := range []string{"passwords/common.txt", "passwords/long.txt"} {
		b, err := commonFS.ReadFile(name)
		if err != nil {
			panic(err) // embedded at build time
		}
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			line := strings.TrimRight(sc.Text(), "\r")
			if line == "" || strings.HasPrefix(line, "#!comment") {
				continue
			}
			out[strings.ToLower(line)] = struct{}{}
		}
	}
	return out
})

// Why a new password is refused; the errors CheckNewPassword returns wrap
// one of these.
var (
	ErrPasswordShort  = fmt.Errorf("password must be at least %d characters", MinPasswordLength)
	ErrPasswordLong   = fmt.Errorf("password must be at most %d bytes", MaxPasswordLength)
	ErrPasswordCommon = errors.New("password is too common or too easy to guess")
)

// CheckNewPassword says why a password may not be chosen, or nil. email,
// if given, is the account's: a password made of it is refused too.
func CheckNewPassword(password, email string) error {
	n := utf8.RuneCountInString(password)
	if n < MinPasswordLength {
		return fmt.Errorf("%w (this one has %d): a phrase of a few words is easy to remember", ErrPasswordShort, n)
	}
	if len(password) > MaxPasswordLength {
		return ErrPasswordLong
	}
	if isCommonPassword(password, email) {
		return fmt.Errorf("%w: it is on a list of leaked passwords or made of one; choose another", ErrPasswordCommon)
	}
	return nil
}

// isCommonPassword reports whether p is on the list, or is a listed word,
// the account's email or its name part padded with digits and symbols
// ("dragon123456", "li.na2026!!"), or one short piece repeated
// ("abcabcabcabc"), or uses fewer than five distinct characters.
func isCommonPassword(p, email string) bool {
	lower := strings.ToLower(p)
	if _, ok := commonPasswords()[lower]; ok {
		return true
	}
	distinct := map[rune]struct{}{}
	for _, r := range lower {
		distinct[r] = struct{}{}
	}
	if len(distinct) < 5 {
		return true
	}
	base := strings.TrimRightFunc(lower, func(r rune) bool { return r < 0x80 && !('a' <= r && r <= 'z') })
	base = strings.TrimLeftFunc(base, func(r rune) bool { return r < 0x80 && !('a' <= r && r <= 'z') })
	if base == "" {
		return true // only digits and symbols: a date, a phone number, a keyboard walk
	}
	if _, ok := commonPasswords()[base]; ok {
		return true
	}
	if e := strings.ToLower(strings.TrimSpace(email)); e != "" {
		local, _, _ := strings.Cut(e, "@")
		if base == e || base == local || lower == e || strings.ReplaceAll(base, ".", "") == strings.ReplaceAll(local, ".", "") {
			return true
		}
	}
	for size := 1; size <= len(lower)/2; size++ {
		if len(lower)%size == 0 && strings.Repeat(lower[:size], len(lower)/size) == lower {
			return true
		}
	}
	return false
}
