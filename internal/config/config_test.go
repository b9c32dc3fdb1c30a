package config

import (
	"flag"
	"io"
	"testing"
)

func TestFlagBeatsEnvBeatsDefault(t *testing.T) {
	cases := []struct {
		name     string
		env      map[string]string
		args     []string
		wantDB   string
		wantAddr string
	}{
		{"defaults", nil, nil, DefaultDB, DefaultAddr},
		{"env", map[string]string{"REVLOOP_DB": "postgres://x/y", "REVLOOP_ADDR": ":9000"}, nil, "postgres://x/y", ":9000"},
		{"flag over env", map[string]string{"REVLOOP_DB": "env.db"}, []string{"--db", "flag.db"}, "flag.db", DefaultAddr},
		{"empty env ignored", map[string]string{"REVLOOP_DB": ""}, nil, DefaultDB, DefaultAddr},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fs := flag.NewFlagSet("t", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			b := NewBinder(fs, func(k string) (string, bool) { v, ok := c.env[k]; return v, ok })
			var cfg Config
			cfg.BindDB(b, DefaultDB)
			cfg.BindServer(b)
			if err := fs.Parse(c.args); err != nil {
				t.Fatal(err)
			}
			if cfg.DB != c.wantDB || cfg.Addr != c.wantAddr {
				t.Fatalf("db %q addr %q", cfg.DB, cfg.Addr)
			}
		})
	}
}

func TestBadEnvAndLogSettings(t *testing.T) {
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	b := NewBinder(fs, func(k string) (string, bool) {
		if k == "REVLOOP_INSECURE_COOKIES" {
			return "maybe", true
		}
		return "", false
	})
	var cfg Config
	cfg.BindServer(b)
	if b.Err() == nil {
		t.Fatal("bad boolean in the environment accepted")
	}
	for _, c := range []Config{{LogLevel: "loud", LogFormat: "text"}, {LogLevel: "info", LogFormat: "xml"}} {
		if _, err := c.Logger(nil); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
}
