package message

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"

	"github.com/revloop/revloop/internal/secret"
	"github.com/revloop/revloop/internal/store"
)

// SettingSMTP is the settings key of the SMTP server email goes through.
const SettingSMTP = "email.smtp"

// SettingPublicURL is the settings key of the address people reach
// revloop at (the same key the web server's links use): email links are
// built on it.
const SettingPublicURL = "links.public_url"

// TLS modes of an SMTP server.
const (
	TLSNone     = "none"     // plain SMTP (a relay on the same host or network)
	TLSStartTLS = "starttls" // STARTTLS required (port 587)
	TLSImplicit = "tls"      // TLS from the first byte (port 465)
)

// SMTPSettings is the SMTP server as stored: the password sealed with the
// secret key, never in clear.
type SMTPSettings struct {
	Host           string `json:"host"`
	Port           int    `json:"port"`
	Username       string `json:"username,omitempty"`
	PasswordSealed string `json:"password_sealed,omitempty"`
	TLS            string `json:"tls"`
	From           string `json:"from"`
}

// SMTPView is the SMTP setting as the API shows it: whether a password
// is set, never the password.
type SMTPView struct {
	Host        string `json:"host"`
	Port        int    `json:"port"`
	Username    string `json:"username"`
	PasswordSet bool   `json:"password_set"`
	TLS         string `json:"tls"`
	From        string `json:"from"`
	Configured  bool   `json:"configured"`
	// SecretKey says whether a secret key is configured, so that a
	// password can be stored.
	SecretKey bool `json:"secret_key"`
}

// SMTPInput is what an administrator sends. Password absent (null) keeps
// the stored one; "" removes it.
type SMTPInput struct {
	Host     string  `json:"host"`
	Port     int     `json:"port"`
	Username string  `json:"username"`
	Password *string `json:"password"`
	TLS      string  `json:"tls"`
	From     string  `json:"from"`
}

// SettingsError is a refused SMTP setting; Field names the field.
type SettingsError struct {
	Field string
	Msg   string
}

func (e *SettingsError) Error() string { return "email.smtp " + e.Field + ": " + e.Msg }

// ErrNoSecretKey means a password was given but no key can seal it.
var ErrNoSecretKey = errors.New("no secret key is configured, so the SMTP password cannot be stored: set REVLOOP_SECRET_KEY (or --secret-key) to a base64 32-byte key, made with: head -c 32 /dev/urandom | base64")

// LoadSMTP reads the stored setting; ok is false when none is stored.
func LoadSMTP(ctx context.Context, s *store.Store) (SMTPSettings, bool, error) {
	var v SMTPSettings
	ok, err := s.Setting(ctx, SettingSMTP, &v)
	return v, ok, err
}

// ViewSMTP is the stored setting as the API shows it.
func ViewSMTP(ctx context.Context, s *store.Store, box *secret.Box) (SMTPView, error) {
	v, ok, err := LoadSMTP(ctx, s)
	if err != nil {
		return SMTPView{}, err
	}
	if !ok {
		return SMTPView{TLS: TLSStartTLS, Port: 587, SecretKey: box != nil}, nil
	}
	return SMTPView{Host: v.Host, Port: v.Port, Username: v.Username, PasswordSet: v.PasswordSealed != "", TLS: v.TLS, From: v.From,
		Configured: v.Host != "", SecretKey: box != nil}, nil
}

// SaveSMTP checks in, seals its password with box and stores it. A
// refused value is a *SettingsError; a password without a box is
// ErrNoSecretKey.
func SaveSMTP(ctx context.Context, s *store.Store, box *secret.Box, in SMTPInput) (SMTPView, error) {
	old, _, err := LoadSMTP(ctx, s)
	if err != nil {
		return SMTPView{}, err
	}
	v := SMTPSettings{Host: strings.TrimSpace(in.Host), Port: in.Port, Username: strings.TrimSpace(in.Username), TLS: strings.TrimSpace(in.TLS),
		From: strings.TrimSpace(in.From), PasswordSealed: old.PasswordSealed}
	if err := v.check(); err != nil {
		return SMTPView{}, err
	}
	if in.Password != nil {
		switch p := *in.Password; {
		case p == "":
			v.PasswordSealed = ""
		case len(p) > 1000:
			return SMTPView{}, &SettingsError{"password", "at most 1000 bytes"}
		case box == nil:
			return SMTPView{}, ErrNoSecretKey
		default:
			if v.PasswordSealed, err = box.Seal([]byte(p)); err != nil {
				return SMTPView{}, err
			}
		}
	}
	if v.PasswordSealed != "" && v.Username == "" {
		return SMTPView{}, &SettingsError{"username", "required with a password"}
	}
	if err := s.SetSetting(ctx, SettingSMTP, v); err != nil {
		return SMTPView{}, err
	}
	return ViewSMTP(ctx, s, box)
}

// check validates the setting; each error names its field.
func (v SMTPSettings) check() error {
	if v.Host == "" {
		return &SettingsError{"host", "required (the SMTP server's name or address)"}
	}
	if len(v.Host) > 253 || strings.ContainsAny(v.Host, " /\\@:?#\t\r\n") {
		return &SettingsError{"host", fmt.Sprintf("%q is not a host name or address (no port: give it as port)", clipStr(v.Host, 60))}
	}
	if v.Port < 1 || v.Port > 65535 {
		return &SettingsError{"port", fmt.Sprintf("%d: want 1 to 65535 (587 for starttls, 465 for tls, 25 for none)", v.Port)}
	}
	switch v.TLS {
	case TLSNone, TLSStartTLS, TLSImplicit:
	default:
		return &SettingsError{"tls", fmt.Sprintf("%q: want none, starttls or tls", clipStr(v.TLS, 30))}
	}
	if len(v.Username) > 500 || strings.ContainsAny(v.Username, "\r\n") {
		return &SettingsError{"username", "at most 500 bytes on one line"}
	}
	if _, err := parseFrom(v.From); err != nil {
		return &SettingsError{"from", err.Error()}
	}
	return nil
}

// parseFrom reads a sender address ("Name <a@b.cn>" or "a@b.cn").
func parseFrom(from string) (*mail.Address, error) {
	if from == "" {
		return nil, errors.New("required (the sender address, e.g. \"Marketing <news@example.cn>\")")
	}
	if len(from) > 500 {
		return nil, errors.New("at most 500 bytes")
	}
	a, err := mail.ParseAddress(from)
	if err != nil {
		return nil, fmt.Errorf("%q is not an email address", clipStr(from, 60))
	}
	if _, host, _ := strings.Cut(a.Address, "@"); host == "" {
		return nil, fmt.Errorf("%q has no domain", clipStr(from, 60))
	}
	return a, nil
}

// password opens the sealed password.
func (v SMTPSettings) password(box *secret.Box) (string, error) {
	if v.PasswordSealed == "" {
		return "", nil
	}
	if box == nil {
		return "", errors.New("the SMTP password is sealed but no secret key is configured: set REVLOOP_SECRET_KEY to the key it was sealed with")
	}
	p, err := box.Open(v.PasswordSealed)
	if err != nil {
		return "", fmt.Errorf("the SMTP password: %w (was REVLOOP_SECRET_KEY or the key file changed? enter the password again)", err)
	}
	return string(p), nil
}
