package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// Every module linked into the binary is named, with its license, in
// THIRD_PARTY_NOTICES.md (scripts/notices.sh writes it).
func TestThirdPartyNoticesNameEveryModule(t *testing.T) {
	notices, err := os.ReadFile("../../THIRD_PARTY_NOTICES.md")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat("../../LICENSE"); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("go", "list", "-deps", "-f", "{{with .Module}}{{.Path}} {{.Version}}{{end}}", ".").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		path, version, _ := strings.Cut(line, " ")
		if path == "" || strings.HasPrefix(path, "github.com/revloop/") {
			continue
		}
		if !strings.Contains(string(notices), "| "+path+" | "+version+" |") {
			t.Errorf("%s %s is linked but not in THIRD_PARTY_NOTICES.md: run bash scripts/notices.sh", path, version)
		}
	}
}
