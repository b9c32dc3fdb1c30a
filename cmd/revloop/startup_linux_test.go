package main

import (
	"bytes"
	"os"
	"os/exec"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
)

// TestStartUpIsLight guards against heavy package initialisation, which
// every command pays before doing anything: `revloop version` must stay
// small. The test binary links everything revloop links, so it runs itself
// as the command and reports its peak memory (runAsCommand). `version`
// peaks at about 22 MB (88 MB when an argon2id hash was computed at start);
// the bound leaves room for other machines and coverage builds. Its speed
// is in docs/benchmarks.md, not asserted here.
func TestStartUpIsLight(t *testing.T) {
	const maxMB = 40
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if (s.Key == "-race" || s.Key == "-msan" || s.Key == "-asan") && s.Value == "true" {
				t.Skip("a sanitiser's runtime needs memory of its own")
			}
		}
	}
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), runAsCommandEnv+"=version")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("version: %v\n%s%s", err, out, stderr.Bytes())
	}
	if !strings.HasPrefix(string(out), "revloop ") {
		t.Fatalf("version printed %q", out)
	}
	_, hwm, ok := strings.Cut(stderr.String(), "VmHWM:")
	if !ok {
		t.Fatalf("no peak memory reported: %q", stderr.Bytes())
	}
	kB, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(hwm), " kB"))
	if err != nil {
		t.Fatalf("peak memory %q: %v", hwm, err)
	}
	mb := float64(kB) / 1024
	t.Logf("version: peak RSS %.1f MB", mb)
	if mb > maxMB {
		t.Errorf("revloop version peaked at %.1f MB of memory, over %d MB: is a package initialiser loading something heavy? GODEBUG=inittrace=1 says which",
			mb, maxMB)
	}
}
