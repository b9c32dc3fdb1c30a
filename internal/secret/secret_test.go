package secret

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func TestSealOpen(t *testing.T) {
	k, err := KeyFile(filepath.Join(t.TempDir(), "key"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := New(k)
	if err != nil {
		t.Fatal(err)
	}
	s1, _ := b.Seal([]byte("hunter2"))
	s2, _ := b.Seal([]byte("hunter2"))
	if s1 == s2 || bytes.Contains([]byte(s1), []byte("hunter2")) {
		t.Fatalf("sealed values must differ and hide the plain text: %q %q", s1, s2)
	}
	p, err := b.Open(s1)
	if err != nil || string(p) != "hunter2" {
		t.Fatalf("open: %q %v", p, err)
	}
	other, _ := New(bytes.Repeat([]byte{7}, KeySize))
	if _, err := other.Open(s1); err != ErrSealed {
		t.Fatalf("another key opened it: %v", err)
	}
	if _, err := b.Open(s1[:len(s1)-2] + "AA"); err != ErrSealed {
		t.Fatalf("an altered value opened: %v", err)
	}
}

func TestKeyFileKeepsItsKey(t *testing.T) {
	p := filepath.Join(t.TempDir(), "key")
	k1, err := KeyFile(p)
	if err != nil {
		t.Fatal(err)
	}
	k2, err := KeyFile(p)
	if err != nil || !bytes.Equal(k1, k2) {
		t.Fatalf("second read: %v", err)
	}
	fi, _ := os.Stat(p)
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v", fi.Mode().Perm())
	}
	if _, err := ParseKey("c2hvcnQ="); err == nil {
		t.Fatal("a short key was accepted")
	}
}
