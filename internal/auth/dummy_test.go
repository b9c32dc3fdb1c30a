package auth

import (
	"strings"
	"testing"
)

// dummyHash is written out; it must cost what a real check costs, so it
// must carry the parameters HashPassword uses now.
func TestDummyHashMatchesParameters(t *testing.T) {
	h, err := HashPassword("x")
	if err != nil {
		t.Fatal(err)
	}
	params := h[:strings.LastIndex(h[:strings.LastIndex(h, "$")], "$")+1] // $argon2id$v=..$m=..,t=..,p=..$
	if !strings.HasPrefix(dummyHash, params) {
		t.Fatalf("dummyHash %q was not made with the current parameters %q: regenerate it with HashPassword", dummyHash, params)
	}
	if len(dummyHash) != len(h) {
		t.Fatalf("dummyHash has %d bytes, a hash %d: regenerate it with HashPassword", len(dummyHash), len(h))
	}
	if !CheckPassword(dummyHash, "revloop-timing-equaliser") {
		t.Fatal("dummyHash is not a hash of its password")
	}
}
