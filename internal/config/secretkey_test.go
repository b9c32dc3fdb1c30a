package config

import (
	"flag"
	"io"
	"testing"
)

func TestSecretKeyFlagAndEnv(t *testing.T) {
	for _, c := range []struct {
		env  map[string]string
		args []string
		want string
	}{
		{nil, nil, ""},
		{map[string]string{"REVLOOP_SECRET_KEY": "ZW52"}, nil, "ZW52"},
		{map[string]string{"REVLOOP_SECRET_KEY": "ZW52"}, []string{"--secret-key", "ZmxhZw=="}, "ZmxhZw=="},
	} {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		var cfg Config
		cfg.BindServer(NewBinder(fs, func(k string) (string, bool) { v, ok := c.env[k]; return v, ok }))
		if err := fs.Parse(c.args); err != nil {
			t.Fatal(err)
		}
		if cfg.SecretKey != c.want {
			t.Errorf("env %v args %v: %q, want %q", c.env, c.args, cfg.SecretKey, c.want)
		}
	}
}
