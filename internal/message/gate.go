package message

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
)

// The settings the gate reads.
const (
	// SettingConsent is the consent policy per channel, e.g.
	// {"email": "opt_in", "wecom": "unless_withdrawn"}.
	SettingConsent = "message.consent"
	// SettingCaps are the frequency caps per channel, e.g.
	// {"email": {"per_day": 1, "per_week": 3}}.
	SettingCaps = "message.caps"
)

// Consent policies.
const (
	// PolicyOptIn sends only to a person who granted consent for the
	// channel (the default).
	PolicyOptIn = "opt_in"
	// PolicyUnlessWithdrawn sends to anyone who did not deny it.
	PolicyUnlessWithdrawn = "unless_withdrawn"
)

// Reasons the gate gives for a skipped message.
const (
	ReasonNoConsent    = "no_consent"
	ReasonWithdrawn    = "withdrawn"
	ReasonFrequencyCap = "frequency_cap"
	ReasonNoPerson     = "no_person"
)

// Bounds of a cap.
const (
	MaxPerDay  = 100
	MaxPerWeek = 700
)

// personChannels are the channels that reach a person and so need consent
// and are capped. Webhooks go to systems.
var personChannels = []string{ChannelEmail, ChannelWeCom}

func personChannel(ch string) bool { return ch == ChannelEmail || ch == ChannelWeCom }

// reachesPerson reports whether r reaches the person: an email, or a
// WeCom external-contact message. A WeCom app message goes to members
// (the person's owner), not to the person, and a webhook to a system:
// neither asks for the person's consent nor counts against their caps.
func reachesPerson(r Request) bool {
	switch r.Channel {
	case ChannelEmail:
		return true
	case ChannelWeCom:
		var step struct {
			Kind string `json:"kind"`
		}
		_ = json.Unmarshal(r.Step, &step)
		return step.Kind == WeComExternal
	}
	return false
}

// ConsentPolicy is the policy per channel; a channel left out is opt_in.
type ConsentPolicy map[string]string

// Of is the policy of channel.
func (p ConsentPolicy) Of(channel string) string {
	if v := p[channel]; v != "" {
		return v
	}
	return PolicyOptIn
}

// Cap bounds the messages a person gets on a channel: at most PerDay in
// any 24 hours and PerWeek in any 7 days; 0 means no bound.
type Cap struct {
	PerDay  int `json:"per_day,omitempty"`
	PerWeek int `json:"per_week,omitempty"`
}

// Caps are the caps per channel.
type Caps map[string]Cap

func (c Cap) limits() []store.SendLimit {
	var out []store.SendLimit
	if c.PerDay > 0 {
		out = append(out, store.SendLimit{Window: 24 * time.Hour, Max: c.PerDay})
	}
	if c.PerWeek > 0 {
		out = append(out, store.SendLimit{Window: 7 * 24 * time.Hour, Max: c.PerWeek})
	}
	return out
}

func decodeStrict(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("more than one JSON value")
	}
	return nil
}

func knownChannels() string { return ChannelEmail + ", " + ChannelWeCom }

// ParseConsentPolicy reads and checks a message.consent value.
func ParseConsentPolicy(raw []byte) (ConsentPolicy, error) {
	var p ConsentPolicy
	if err := decodeStrict(raw, &p); err != nil {
		return nil, err
	}
	if p == nil {
		p = ConsentPolicy{}
	}
	for ch, v := range p {
		if !personChannel(ch) {
			return nil, fmt.Errorf("%q: not a channel that needs consent (%s)", ch, knownChannels())
		}
		if v != PolicyOptIn && v != PolicyUnlessWithdrawn {
			return nil, fmt.Errorf("%s: %q is not opt_in or unless_withdrawn", ch, v)
		}
	}
	return p, nil
}

// ParseCaps reads and checks a message.caps value.
func ParseCaps(raw []byte) (Caps, error) {
	var c Caps
	if err := decodeStrict(raw, &c); err != nil {
		return nil, err
	}
	if c == nil {
		c = Caps{}
	}
	for ch, v := range c {
		if !personChannel(ch) {
			return nil, fmt.Errorf("%q: not a capped channel (%s)", ch, knownChannels())
		}
		if v.PerDay < 0 || v.PerDay > MaxPerDay {
			return nil, fmt.Errorf("%s.per_day: %d, want 0 (no cap) to %d", ch, v.PerDay, MaxPerDay)
		}
		if v.PerWeek < 0 || v.PerWeek > MaxPerWeek {
			return nil, fmt.Errorf("%s.per_week: %d, want 0 (no cap) to %d", ch, v.PerWeek, MaxPerWeek)
		}
		if v.PerDay > 0 && v.PerWeek > 0 && v.PerWeek < v.PerDay {
			return nil, fmt.Errorf("%s.per_week: %d is below per_day %d", ch, v.PerWeek, v.PerDay)
		}
	}
	return c, nil
}

// ReservationHold is how long a cap's slot stays taken for a message the
// gate let through before its send is recorded: a message that failed
// stops counting then.
const ReservationHold = 15 * time.Minute

// settingsTTL is how long the gate keeps the settings it read.
const settingsTTL = 5 * time.Second

// StoreGate is the Gate over the database: consent from the persons'
// answers, caps counted in the sends table. It is safe for concurrent
// use, also by workers on several nodes.
type StoreGate struct {
	st  *store.Store
	now func() time.Time

	mu     sync.Mutex
	policy ConsentPolicy
	caps   Caps
	read   time.Time
	pruned time.Time // when this gate last deleted old counted sends
}

// sendsKept is how long counted sends are kept: past the widest window
// any cap counts (a week), with a day to spare.
const sendsKept = 8 * 24 * time.Hour

// NewGate makes the gate over st.
func NewGate(st *store.Store) *StoreGate { return &StoreGate{st: st, now: time.Now} }

var _ Gate = (*StoreGate)(nil)

// Reload forgets the settings read, so that the next request reads them
// anew (after an administrator changed them).
func (g *StoreGate) Reload() {
	g.mu.Lock()
	g.read = time.Time{}
	g.mu.Unlock()
}

func (g *StoreGate) settings(ctx context.Context) (ConsentPolicy, Caps, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.read.IsZero() && g.now().Sub(g.read) < settingsTTL {
		return g.policy, g.caps, nil
	}
	var rawP, rawC json.RawMessage
	policy, caps := ConsentPolicy{}, Caps{}
	if ok, err := g.st.Setting(ctx, SettingConsent, &rawP); err != nil {
		return nil, nil, err
	} else if ok {
		if policy, err = ParseConsentPolicy(rawP); err != nil {
			return nil, nil, fmt.Errorf("setting %s: %w", SettingConsent, err)
		}
	}
	if ok, err := g.st.Setting(ctx, SettingCaps, &rawC); err != nil {
		return nil, nil, err
	} else if ok {
		if caps, err = ParseCaps(rawC); err != nil {
			return nil, nil, fmt.Errorf("setting %s: %w", SettingCaps, err)
		}
	}
	g.policy, g.caps, g.read = policy, caps, g.now()
	return policy, caps, nil
}

func (g *StoreGate) at(r Request) time.Time {
	if r.Now.IsZero() {
		return g.now()
	}
	return r.Now
}

// Allow checks consent and, when the channel is capped, takes one of the
// person's slots for r.Key (a retry of the same key takes none).
func (g *StoreGate) Allow(ctx context.Context, r Request) (bool, string, error) {
	if !reachesPerson(r) {
		return true, "", nil
	}
	policy, caps, err := g.settings(ctx)
	if err != nil {
		return false, "", err
	}
	st, err := g.st.Consent(ctx, r.PersonID, r.Channel)
	if errors.Is(err, store.ErrNotFound) {
		return false, ReasonNoPerson, nil
	}
	if err != nil {
		return false, "", err
	}
	switch {
	case st == model.ConsentDenied:
		return false, ReasonWithdrawn, nil
	case st != model.ConsentGranted && policy.Of(r.Channel) == PolicyOptIn:
		return false, ReasonNoConsent, nil
	}
	limits := caps[r.Channel].limits()
	if len(limits) == 0 {
		return true, "", nil
	}
	ok, _, err := g.st.ReserveSend(ctx, r.Channel, strconv.FormatInt(r.PersonID, 10), r.Key, limits, g.at(r), ReservationHold)
	if err != nil {
		return false, "", err
	}
	if !ok {
		return false, ReasonFrequencyCap, nil
	}
	return true, "", nil
}

// Record counts a sent message against the person's caps.
func (g *StoreGate) Record(ctx context.Context, r Request, res Result) error {
	if !reachesPerson(r) || res.Status != Sent {
		return nil
	}
	if err := g.st.ConfirmSend(ctx, r.Channel, strconv.FormatInt(r.PersonID, 10), r.Key, res.ProviderID, g.at(r)); err != nil {
		return err
	}
	g.prune(ctx, g.at(r))
	return nil
}

// prune deletes the counted sends no window before at reads any more,
// at most once an hour per gate; a failure waits for the next time.
func (g *StoreGate) prune(ctx context.Context, at time.Time) {
	now := g.now()
	g.mu.Lock()
	due := now.Sub(g.pruned) >= time.Hour
	if due {
		g.pruned = now
	}
	g.mu.Unlock()
	if due {
		_, _ = g.st.PruneSends(ctx, at.Add(-sendsKept))
	}
}

// Release frees the slot Allow took for a message that did not go (failed
// for good): without it the slot is freed after ReservationHold.
func (g *StoreGate) Release(ctx context.Context, r Request) error {
	if !personChannel(r.Channel) {
		return nil
	}
	return g.st.ReleaseSend(ctx, r.Channel, r.Key)
}

// CapChannels lists the channels a cap or a consent policy applies to.
func CapChannels() []string {
	out := append([]string(nil), personChannels...)
	sort.Strings(out)
	return out
}
