package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/netip"
	"net/url"
	"sort"
	"strings"

	"github.com/nyaruka/phonenumbers"

	"github.com/revloop/revloop/internal/collect"
	"github.com/revloop/revloop/internal/identity"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/privacy"
	"github.com/revloop/revloop/internal/review"
)

// runSetting is one run-time setting an administrator may change through
// the API. check validates a value before it is stored, so that a setting
// never holds something its reader would have to ignore.
type runSetting struct {
	Description string `json:"description"`
	Default     any    `json:"default"`
	check       func(raw []byte) (any, error)
}

func decodeStrict[T any](raw []byte) (T, error) {
	var v T
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		return v, err
	}
	if dec.More() {
		return v, fmt.Errorf("more than one JSON value")
	}
	return v, nil
}

func runSettings() map[string]runSetting {
	return map[string]runSetting{
		review.SettingReminderLead: {
			Description: fmt.Sprintf("hours before an action item is due that its owner is reminded (%d to %d)", review.MinReminderLead, review.MaxReminderLead),
			Default:     review.DefaultReminderLead,
			check: func(raw []byte) (any, error) {
				h, err := decodeStrict[int](raw)
				if err != nil {
					return nil, err
				}
				if h < review.MinReminderLead || h > review.MaxReminderLead {
					return nil, fmt.Errorf("%d hours: want %d to %d", h, review.MinReminderLead, review.MaxReminderLead)
				}
				return h, nil
			},
		},
		collect.SettingAnonymizeIP: {
			Description: "blank the last octet of IPv4 and the last 80 bits of IPv6 addresses before events are stored; turning it on anonymises the stored ones too (on in new databases)",
			Default:     false,
			check:       func(raw []byte) (any, error) { return decodeStrict[bool](raw) },
		},
		collect.SettingTrustedProxies: {
			Description: "reverse proxies (addresses or CIDRs) whose X-Forwarded-For is believed",
			Default:     []string{},
			check: func(raw []byte) (any, error) {
				list, err := decodeStrict[[]string](raw)
				if err != nil {
					return nil, err
				}
				for i, p := range list {
					if _, err := netip.ParsePrefix(p); err != nil {
						if _, aerr := netip.ParseAddr(p); aerr != nil {
							return nil, fmt.Errorf("[%d] %q is not an address or CIDR", i, p)
						}
					}
				}
				if list == nil {
					list = []string{}
				}
				return list, nil
			},
		},
		collect.SettingRateLimit: {
			Description: "per-write-key token buckets of events and of stored payload bytes; events_per_second 0 turns both off; bytes left out or 0 keep their defaults",
			Default:     collect.RateLimit{Rate: collect.DefaultRate, Burst: collect.DefaultBurst, ByteRate: collect.DefaultByteRate, ByteBurst: collect.DefaultByteBurst},
			check: func(raw []byte) (any, error) {
				rl, err := decodeStrict[collect.RateLimit](raw)
				if err != nil {
					return nil, err
				}
				if rl.Rate < 0 || rl.Burst < 0 || math.IsNaN(rl.Rate) || math.IsInf(rl.Rate, 0) {
					return nil, fmt.Errorf("events_per_second and burst must be zero or positive")
				}
				if rl.ByteRate < 0 || rl.ByteBurst < 0 || math.IsNaN(rl.ByteRate) || math.IsInf(rl.ByteRate, 0) {
					return nil, fmt.Errorf("bytes_per_second and burst_bytes must be zero or positive")
				}
				return rl, nil
			},
		},
		privacy.SettingRetentionDays: {
			Description: "days the payloads of processed raw events are kept (then emptied, the events' derived columns and touchpoints kept); 0 keeps them forever",
			Default:     0,
			check: func(raw []byte) (any, error) {
				v, err := decodeStrict[int](raw)
				if err != nil {
					return nil, err
				}
				if v < 0 || v > privacy.MaxRetentionDays {
					return nil, fmt.Errorf("%d: want 0 (keep forever) to %d days", v, privacy.MaxRetentionDays)
				}
				return v, nil
			},
		},
		SettingPublicURL: {
			Description: "base URL of short links and QR codes, e.g. https://go.example.cn (empty: the request's host)",
			Default:     "",
			check: func(raw []byte) (any, error) {
				v, err := decodeStrict[string](raw)
				if err != nil || v == "" {
					return v, err
				}
				u, err := url.Parse(v)
				if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
					return nil, fmt.Errorf("%q is not an http(s) base URL", v)
				}
				return strings.TrimRight(v, "/"), nil
			},
		},
		model.SettingTimeZone: {
			Description: "the team's time zone (IANA name): report days, weeks, months and quarters begin at its midnight, and a date-only CRM time means the end of that day in it",
			Default:     model.DefaultTimeZone,
			check: func(raw []byte) (any, error) {
				v, err := decodeStrict[string](raw)
				if err != nil {
					return nil, err
				}
				if _, err := model.LoadTimeZone(v); err != nil {
					return nil, err
				}
				return strings.TrimSpace(v), nil
			},
		},
		identity.PhoneRegionSetting: {
			Description: "region assumed for phone numbers written without a country code (ISO 3166 code)",
			Default:     "CN",
			check: func(raw []byte) (any, error) {
				v, err := decodeStrict[string](raw)
				if err != nil {
					return nil, err
				}
				v = strings.ToUpper(strings.TrimSpace(v))
				if phonenumbers.GetCountryCodeForRegion(v) == 0 {
					return nil, fmt.Errorf("%q is not a region with phone numbers (use a code such as CN, HK, SG, US)", v)
				}
				return v, nil
			},
		},
	}
}

// settingsRoutes mounts the administrators' settings API.
func (s *Server) settingsRoutes(m *http.ServeMux) error {
	m.Handle("GET /api/v1/settings", s.requireRole(model.RoleAdmin, s.apiSettings))
	m.Handle("PUT /api/v1/settings/{key}", s.requireRole(model.RoleAdmin, s.apiPutSetting))
	return nil
}

type settingView struct {
	Key         string `json:"key"`
	Value       any    `json:"value"`
	Default     any    `json:"default"`
	Set         bool   `json:"set"`
	Description string `json:"description"`
}

// settingList is every run-time setting with its value, by key.
func (s *Server) settingList(ctx context.Context) ([]settingView, error) {
	defs := runSettings()
	keys := make([]string, 0, len(defs))
	for k := range defs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]settingView, 0, len(keys))
	for _, k := range keys {
		d := defs[k]
		var raw json.RawMessage
		set, err := s.store.Setting(ctx, k, &raw)
		if err != nil {
			return nil, err
		}
		v := settingView{Key: k, Value: d.Default, Default: d.Default, Set: set, Description: d.Description}
		if set {
			v.Value = raw
		}
		out = append(out, v)
	}
	return out, nil
}

func (s *Server) apiSettings(w http.ResponseWriter, r *http.Request) {
	out, err := s.settingList(r.Context())
	if err != nil {
		s.apiInternal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"settings": out})
}

// settingError is a value a setting refused: its message says why.
type settingError struct{ Msg string }

func (e *settingError) Error() string { return e.Msg }

// errUnknownSetting is a key that names no setting.
var errUnknownSetting = errors.New("unknown setting")

// saveSetting checks raw (JSON) as the value of key and stores it, then
// does what the change asks for at once (the stored addresses
// anonymised, this node's collector reloaded). A refused value is a
// *settingError; an unknown key errUnknownSetting.
func (s *Server) saveSetting(ctx context.Context, key string, raw []byte) (settingView, error) {
	d, ok := runSettings()[key]
	if !ok {
		return settingView{}, errUnknownSetting
	}
	v, err := d.check(raw)
	if err != nil {
		return settingView{}, &settingError{Msg: fmt.Sprintf("setting %s: %v", key, err)}
	}
	if err := s.store.SetSetting(ctx, key, v); err != nil {
		return settingView{}, err
	}
	if on, _ := v.(bool); key == collect.SettingAnonymizeIP && on {
		// The addresses stored so far are anonymised in the background,
		// now and by the hourly privacy run if this one is cut short.
		if err := s.app.AnonymizeStored(ctx); err != nil {
			return settingView{}, err
		}
	}
	if key == model.SettingTimeZone {
		// Report days begin at the new zone's midnight: the roll-ups are
		// rebuilt in the background.
		s.app.RollupsChanged(ctx)
	}
	if strings.HasPrefix(key, "collector.") && s.collector != nil {
		// Applied now, not at the collector's next periodic reload: an
		// administrator lifting a rate limit expects the next request through.
		if err := s.collector.ReloadSettings(ctx); err != nil {
			s.log.Warn("collector settings not reloaded", "err", err)
		}
	}
	return settingView{Key: key, Value: v, Default: d.Default, Set: true, Description: d.Description}, nil
}

func (s *Server) apiPutSetting(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	if _, ok := runSettings()[key]; !ok {
		keys := make([]string, 0)
		for k := range runSettings() {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		writeJSONError(w, http.StatusNotFound, fmt.Sprintf("unknown setting %q (known: %s)", key, strings.Join(keys, ", ")))
		return
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, 64<<10+1))
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, "cannot read the request body")
		return
	}
	if len(raw) > 64<<10 {
		writeJSONError(w, http.StatusRequestEntityTooLarge, "a setting value is at most 64 KiB")
		return
	}
	v, err := s.saveSetting(r.Context(), key, raw)
	var se *settingError
	if errors.As(err, &se) {
		writeJSONError(w, http.StatusBadRequest, se.Msg)
		return
	}
	if err != nil {
		s.apiInternal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}
