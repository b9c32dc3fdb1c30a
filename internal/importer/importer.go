package importer

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
)

// Importer stores parsed files.
type Importer struct {
	Store *store.Store
	// Location is the zone of event times written without one; Asia/Shanghai
	// time (UTC+8) when nil.
	Location *time.Location
	Now      func() time.Time
	// CreateCampaigns makes an import create the campaigns it names that
	// match none stored (by code or name), in the channel their platform
	// implies (offline events for events), instead of refusing the rows.
	CreateCampaigns bool
}

// InputError is a file the importer cannot read (encoding, header, size,
// no rows); its text says what to fix.
type InputError struct{ Err error }

func (e InputError) Error() string { return e.Err.Error() }
func (e InputError) Unwrap() error { return e.Err }

func inputError(err error) error {
	var bad *BadRowsError
	if err == nil || errors.As(err, &bad) {
		return err
	}
	return InputError{err}
}

// Result says what an import did. AlreadyImported means the same file was
// imported before (Import is then that earlier import) and nothing changed.
type Result struct {
	store.Import
	Encoding        string   `json:"encoding"`
	AlreadyImported bool     `json:"already_imported"`
	Notes           []string `json:"notes,omitempty"`
}

// ChinaStandardTime is UTC+8, the default zone of offline event times.
var ChinaStandardTime = time.FixedZone("CST", 8*3600)

func (im *Importer) now() time.Time {
	if im.Now != nil {
		return im.Now()
	}
	return time.Now()
}

func fileHash(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// earlier answers a file imported before, without parsing it again.
func (im *Importer) earlier(ctx context.Context, kind, hash string) (Result, bool, error) {
	prev, err := im.Store.ImportByHash(ctx, kind, hash)
	if errors.Is(err, store.ErrNotFound) {
		return Result{}, false, nil
	}
	if err != nil {
		return Result{}, false, err
	}
	return Result{Import: prev, AlreadyImported: true}, true, nil
}

// Costs imports a cost report named name (for the record only).
func (im *Importer) Costs(ctx context.Context, name string, data []byte) (Result, error) {
	hash := fileHash(data)
	if r, ok, err := im.earlier(ctx, "costs", hash); ok || err != nil {
		return r, err
	}
	f, err := ParseCosts(data)
	if err != nil {
		return Result{}, inputError(err)
	}
	rec := store.Import{FileHash: hash, FileName: name, Layout: f.Layout, RowsRead: f.Read, RowsSkipped: f.Skipped, CreatedAt: im.now()}
	got, created, err := im.Store.ImportCosts(ctx, rec, f.Rows, im.CreateCampaigns)
	var unknown *store.UnknownCampaignsError
	if errors.As(err, &unknown) {
		var bad rowErrors
		first := map[[2]string]int{}
		for _, u := range unknown.Rows {
			key := [2]string{u.Platform, u.Campaign}
			if line, seen := first[key]; seen {
				bad.add(u.Line, "campaign %q does not exist on %s (see line %d)", u.Campaign, u.Platform, line)
				continue
			}
			first[key] = u.Line
			hint := "no campaign has this name or code"
			if u.Hint != "" {
				hint += "; " + u.Hint
			}
			bad.add(u.Line, "campaign %q does not exist on %s (%s): fix the name, or let the import create it as %s (%s)",
				u.Campaign, u.Platform, hint, PlatformChannel(u.Platform), createHint)
		}
		return Result{}, bad.err()
	}
	if errors.Is(err, store.ErrAlreadyImported) {
		r, _, err := im.earlier(ctx, "costs", hash)
		return r, err
	}
	if err != nil {
		return Result{}, fmt.Errorf("import costs: %w", err)
	}
	for _, c := range created {
		note := fmt.Sprintf("line %d: campaign %q created as %s (platform %s, code %s)", c.Line, c.Name, c.Channel, c.Platform, c.Code)
		if !KnownPlatform(c.Platform) {
			note += "; revloop does not know this platform, so display is a guess: correct the campaign's channel if it is wrong"
		}
		f.Notes = append(f.Notes, note)
	}
	return Result{Import: got, Encoding: f.Encoding, Notes: f.Notes}, nil
}

// createHint says how to ask an import to create campaigns.
const createHint = "create_campaigns=true, or --create-campaigns"

// Events imports offline touches. Every row's campaign must exist (by
// code, or by code or name in any case) unless CreateCampaigns is set.
func (im *Importer) Events(ctx context.Context, name string, data []byte) (Result, error) {
	hash := fileHash(data)
	if r, ok, err := im.earlier(ctx, "events", hash); ok || err != nil {
		return r, err
	}
	loc := im.Location
	if loc == nil {
		loc = ChinaStandardTime
	}
	f, err := ParseEvents(data, loc)
	if err != nil {
		return Result{}, inputError(err)
	}
	var bad rowErrors
	var created []string
	known := map[string]string{} // campaign as written → code ("" unknown)
	firstLine := map[string]int{}
	for i := range f.Rows {
		r := &f.Rows[i]
		code, seen := known[r.Campaign]
		if !seen {
			c, err := im.Store.FindImportCampaign(ctx, r.Campaign)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return Result{}, err
			}
			code = c.Code
			if err != nil && im.CreateCampaigns {
				code = r.Campaign
				created = append(created, r.Campaign)
				f.Notes = append(f.Notes, fmt.Sprintf("line %d: campaign %s created as %s", r.Line, r.Campaign, model.ChannelOfflineEvent))
			}
			known[r.Campaign] = code
		}
		if code == "" {
			if line, ok := firstLine[r.Campaign]; ok {
				bad.add(r.Line, "campaign %q does not exist (see line %d)", r.Campaign, line)
				continue
			}
			firstLine[r.Campaign] = r.Line
			bad.add(r.Line, "campaign %q does not exist (no campaign has this code or name): fix it, or let the import create it as %s (%s)",
				r.Campaign, model.ChannelOfflineEvent, createHint)
			continue
		}
		// The row names the campaign as stored, so that its touches find it.
		r.Campaign = code
	}
	if err := bad.err(); err != nil {
		return Result{}, err
	}
	key, err := im.Store.BuiltinWriteKey(ctx, "imports", NewWriteKey)
	if err != nil {
		return Result{}, err
	}
	now := im.now()
	events := make([][]model.Event, 0, len(f.Rows))
	for _, r := range f.Rows {
		events = append(events, r.Events(key.ID, now))
	}
	rec := store.Import{FileHash: hash, FileName: name, Layout: "events", RowsRead: len(f.Rows), CreatedAt: now}
	got, err := im.Store.ImportEvents(ctx, rec, events, created)
	if errors.Is(err, store.ErrAlreadyImported) {
		r, _, err := im.earlier(ctx, "events", hash)
		return r, err
	}
	if err != nil {
		return Result{}, fmt.Errorf("import events: %w", err)
	}
	return Result{Import: got, Encoding: f.Encoding, Notes: f.Notes}, nil
}

// NewWriteKey draws a random write key for revloop's own event sources.
func NewWriteKey() string {
	b := make([]byte, 18)
	rand.Read(b)
	return "wk_" + base64.RawURLEncoding.EncodeToString(b)
}
