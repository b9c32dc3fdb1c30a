package store

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/revloop/revloop/internal/model"
)

// Privacy: consent per person and channel, suppression of identifiers
// whose events must not be collected again, erasure of a person with a
// receipt, export of everything held about a person (export.go beside
// this file), and the retention of raw events. docs/privacy.md says what
// each removes and keeps.

// ErrMerged means a person was merged into another; the survivor holds
// the data and is the one to act on.
type ErrMerged struct{ Into int64 }

func (e ErrMerged) Error() string {
	return fmt.Sprintf("person was merged into person %d: act on that person", e.Into)
}

// survivor follows merged_into_id from id to the person that holds the
// data (at most a few hops; a cycle is an error).
func (s *Store) survivor(ctx context.Context, db interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, id int64) (int64, error) {
	for range 64 {
		var into sql.NullInt64
		err := db.QueryRowContext(ctx, s.q("SELECT merged_into_id FROM persons WHERE id = ?"), id).Scan(&into)
		if errors.Is(err, sql.ErrNoRows) {
			return 0, ErrNotFound
		}
		if err != nil {
			return 0, err
		}
		if !into.Valid {
			return id, nil
		}
		id = into.Int64
	}
	return 0, fmt.Errorf("person %d: merge chain too long", id)
}

// Consent is the person's consent for channel: what journeys and sending
// must check before reaching out (no answer is ConsentUnknown; whether
// unknown permits contact is the caller's policy). A merged person's
// consent is its survivor's; an unknown person is ErrNotFound.
func (s *Store) Consent(ctx context.Context, personID int64, channel string) (model.ConsentStatus, error) {
	if !model.ValidConsentChannel(channel) {
		return "", fmt.Errorf("unknown consent channel %q (want one of %s)", channel, strings.Join(model.ConsentChannels, ", "))
	}
	id, err := s.survivor(ctx, s.r, personID)
	if err != nil {
		return "", err
	}
	var st string
	err = s.r.QueryRowContext(ctx, s.q("SELECT status FROM consents WHERE person_id = ? AND channel = ?"), id, channel).Scan(&st)
	if errors.Is(err, sql.ErrNoRows) {
		return model.ConsentUnknown, nil
	}
	if err != nil {
		return "", err
	}
	return model.ConsentStatus(st), nil
}

// Consents lists the person's consent for every channel, unknown ones
// included, in the order of ConsentChannels.
func (s *Store) Consents(ctx context.Context, personID int64) ([]model.Consent, error) {
	got := map[string]model.Consent{}
	err := s.each(ctx, "SELECT channel, status, source, updated_by, updated_at FROM consents WHERE person_id = ?", []any{personID}, func(r *sql.Rows) error {
		var c model.Consent
		var at time.Time
		if err := r.Scan(&c.Channel, &c.Status, &c.Source, &c.UpdatedBy, &at); err != nil {
			return err
		}
		at = at.UTC()
		c.UpdatedAt = &at
		got[c.Channel] = c
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]model.Consent, 0, len(model.ConsentChannels))
	for _, ch := range model.ConsentChannels {
		c, ok := got[ch]
		if !ok {
			c = model.Consent{Channel: ch, Status: model.ConsentUnknown}
		}
		out = append(out, c)
	}
	return out, nil
}

// SetConsents records answers for a person (not a merged one: ErrMerged)
// in one transaction. Denying tracking adds the person's identifiers to
// the suppressions; granting it (or forgetting the answer) removes the
// entries that denial made. It reports whether the suppressions changed.
func (s *Store) SetConsents(ctx context.Context, personID int64, sets []model.ConsentSet, actor string, now time.Time) (bool, error) {
	for _, c := range sets {
		if !model.ValidConsentChannel(c.Channel) {
			return false, fmt.Errorf("unknown consent channel %q (want one of %s)", c.Channel, strings.Join(model.ConsentChannels, ", "))
		}
		switch c.Status {
		case model.ConsentGranted, model.ConsentDenied, model.ConsentUnknown:
		default:
			return false, fmt.Errorf("consent %s: unknown status %q (granted, denied or unknown)", c.Channel, c.Status)
		}
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	id, err := s.survivor(ctx, tx, personID)
	if err != nil {
		return false, err
	}
	if id != personID {
		return false, ErrMerged{Into: id}
	}
	changed := false
	at := utc(now)
	for _, c := range sets {
		if c.Status == model.ConsentUnknown {
			if _, err := tx.ExecContext(ctx, s.q("DELETE FROM consents WHERE person_id = ? AND channel = ?"), id, c.Channel); err != nil {
				return false, err
			}
		} else if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO consents (person_id, channel, status, source, updated_by, updated_at) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (person_id, channel) DO UPDATE SET status = excluded.status, source = excluded.source,
			updated_by = excluded.updated_by, updated_at = excluded.updated_at`), id, c.Channel, string(c.Status), c.Source, actor, at); err != nil {
			return false, err
		}
		if c.Channel != model.ConsentChannelTracking {
			continue
		}
		if c.Status == model.ConsentDenied {
			n, err := s.suppressPersonTx(ctx, tx, []int64{id}, "consent", &id, actor, at)
			if err != nil {
				return false, err
			}
			changed = changed || n > 0
		} else {
			res, err := tx.ExecContext(ctx, s.q("DELETE FROM suppressions WHERE person_id = ? AND reason = 'consent'"), id)
			if err != nil {
				return false, err
			}
			n, _ := res.RowsAffected()
			changed = changed || n > 0
		}
	}
	return changed, tx.Commit()
}

// suppressionKeySetting holds the database's key for identifier hashes.
const suppressionKeySetting = "privacy.hash_key"

// SuppressionKey is the database's key for identifier hashes, made on
// first use. Hashes are keyed so that a copy of the suppressions alone
// cannot be checked against a list of guessed emails or phone numbers.
func (s *Store) SuppressionKey(ctx context.Context) ([]byte, error) {
	return s.settingKey(ctx, suppressionKeySetting)
}

// settingKey is the random key kept in the setting, made on first use
// (32 bytes; concurrent first uses agree on the one written first).
func (s *Store) settingKey(ctx context.Context, setting string) ([]byte, error) {
	var hexKey string
	if ok, err := s.Setting(ctx, setting, &hexKey); err != nil {
		return nil, err
	} else if !ok {
		b := make([]byte, 32)
		if _, err := rand.Read(b); err != nil {
			return nil, err
		}
		raw, _ := json.Marshal(hex.EncodeToString(b))
		if _, err := s.w.ExecContext(ctx, s.q(`INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) DO NOTHING`),
			setting, string(raw), utc(time.Now())); err != nil {
			return nil, err
		}
		if _, err := s.Setting(ctx, setting, &hexKey); err != nil {
			return nil, err
		}
	}
	key, err := hex.DecodeString(hexKey)
	if err != nil || len(key) < 16 {
		return nil, fmt.Errorf("setting %s is not a hex key of at least 16 bytes", setting)
	}
	return key, nil
}

// HashIdentifier is the suppression hash of a normalised identifier.
func HashIdentifier(key []byte, idType, value string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(idType))
	m.Write([]byte{':'})
	m.Write([]byte(value))
	return hex.EncodeToString(m.Sum(nil))
}

// SuppressionStamp changes whenever the suppressions change: the
// collector compares it to decide whether to reload them.
func (s *Store) SuppressionStamp(ctx context.Context) (string, error) {
	var n, maxID int64
	err := s.r.QueryRowContext(ctx, "SELECT COUNT(*), COALESCE(MAX(id), 0) FROM suppressions").Scan(&n, &maxID)
	return fmt.Sprintf("%d/%d", n, maxID), err
}

// SuppressedHashes lists every suppression hash (at most limit).
func (s *Store) SuppressedHashes(ctx context.Context, limit int) ([]string, error) {
	return scanAll(ctx, s, s.r, "SELECT hash FROM suppressions ORDER BY id LIMIT ?", []any{limit}, scanValue[string])
}

// suppressPersonTx adds the identifiers of persons (and the email and
// phone on their rows) to the suppressions with reason; person is the
// person the entries stay linked to (nil after an erasure). It returns
// how many entries are new.
func (s *Store) suppressPersonTx(ctx context.Context, tx *sql.Tx, persons []int64, reason string, person *int64, actor string, at time.Time) (int, error) {
	var key []byte
	var hexKey string
	err := tx.QueryRowContext(ctx, s.q("SELECT value FROM settings WHERE key = ?"), suppressionKeySetting).Scan(&hexKey)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		b := make([]byte, 32)
		if _, err := rand.Read(b); err != nil {
			return 0, err
		}
		raw, _ := json.Marshal(hex.EncodeToString(b))
		if _, err := tx.ExecContext(ctx, s.q("INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)"), suppressionKeySetting, string(raw), at); err != nil {
			return 0, err
		}
		key = b
	case err != nil:
		return 0, err
	default:
		var h string
		if err := json.Unmarshal([]byte(hexKey), &h); err != nil {
			return 0, fmt.Errorf("setting %s: %w", suppressionKeySetting, err)
		}
		if key, err = hex.DecodeString(h); err != nil {
			return 0, fmt.Errorf("setting %s: %w", suppressionKeySetting, err)
		}
	}
	type ident struct{ t, v string }
	in, args := inList("person_id", persons)
	ids, err := scanAll(ctx, s, tx, "SELECT type, value FROM identities WHERE "+in, args, func(r rowScanner) (ident, error) {
		var i ident
		err := r.Scan(&i.t, &i.v)
		return i, err
	})
	if err != nil {
		return 0, err
	}
	in, args = inList("id", persons)
	err = s.eachOn(ctx, tx, "SELECT email, phone FROM persons WHERE "+in, args, func(r *sql.Rows) error {
		var email, phone string
		if err := r.Scan(&email, &phone); err != nil {
			return err
		}
		if e := strings.ToLower(strings.TrimSpace(email)); e != "" {
			ids = append(ids, ident{"email", e})
		}
		if p := strings.TrimSpace(phone); p != "" {
			ids = append(ids, ident{"phone", p})
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	added := 0
	seen := map[string]bool{}
	for _, i := range ids {
		h := HashIdentifier(key, i.t, i.v)
		if seen[h] {
			continue
		}
		seen[h] = true
		// An erasure takes over an entry a consent made: it outlives the person.
		res, err := tx.ExecContext(ctx, s.q(`INSERT INTO suppressions (hash, id_type, reason, person_id, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (hash) DO UPDATE SET reason = excluded.reason, person_id = excluded.person_id
			WHERE excluded.reason = 'erased'`), h, i.t, reason, int64Arg(person), actor, at)
		if err != nil {
			return 0, fmt.Errorf("suppress %s: %w", i.t, err)
		}
		if n, _ := res.RowsAffected(); n > 0 {
			added++
		}
	}
	return added, nil
}

// maxErasedPersons bounds the persons merged into one that an erasure
// takes with it.
const maxErasedPersons = 10000

// ErasePerson removes a person, the persons merged into it and everything
// held about them in one transaction, suppresses their identifiers so the
// collector drops their events from now on, and keeps a receipt. A
// merged person is ErrMerged (erase the survivor). Stored attribution
// credits of the removed touches and conversions go with them; the
// caller recomputes credits incrementally afterwards (the conversions of
// the person's account are logged as changed).
func (s *Store) ErasePerson(ctx context.Context, personID int64, actor string, now time.Time) (model.ErasureReceipt, error) {
	rc := model.ErasureReceipt{PersonID: personID, Actor: actor, StartedAt: utc(now),
		Removed: map[string]int64{}, Detached: map[string]int64{}}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return rc, err
	}
	defer tx.Rollback()
	if err := lockPersonChanges(ctx, s, tx); err != nil {
		return rc, err
	}
	id, err := s.survivor(ctx, tx, personID)
	if err != nil {
		return rc, err
	}
	if id != personID {
		return rc, ErrMerged{Into: id}
	}
	// The person and, transitively, every person merged into it.
	persons := []int64{id}
	for next := []int64{id}; len(next) > 0; {
		in, args := inList("merged_into_id", next)
		if next, err = scanAll(ctx, s, tx, "SELECT id FROM persons WHERE "+in, args, scanValue[int64]); err != nil {
			return rc, err
		}
		persons = append(persons, next...)
		if len(persons) > maxErasedPersons {
			return rc, fmt.Errorf("person %d has more than %d persons merged into it", id, maxErasedPersons)
		}
	}
	rc.Persons = persons
	var account sql.NullInt64
	if err := tx.QueryRowContext(ctx, s.q("SELECT account_id FROM persons WHERE id = ?"), id).Scan(&account); err != nil {
		return rc, err
	}
	at := utc(now)
	if rc.Suppressed, err = s.suppressPersonTx(ctx, tx, persons, "erased", nil, actor, at); err != nil {
		return rc, err
	}

	// Identifier values, for events not processed yet (no person on them).
	var anon, users []any
	{
		in, args := inList("person_id", persons)
		err := s.eachOn(ctx, tx, "SELECT type, value FROM identities WHERE "+in+" AND type IN ('anonymous_id', 'user_id')", args, func(r *sql.Rows) error {
			var t, v string
			if err := r.Scan(&t, &v); err != nil {
				return err
			}
			if t == "anonymous_id" {
				anon = append(anon, v)
			} else {
				users = append(users, v)
			}
			return nil
		})
		if err != nil {
			return rc, err
		}
	}

	pIn, pArgs := inList("person_id", persons)
	evSel := "SELECT id FROM events WHERE " + pIn
	tpSel := "SELECT id FROM touchpoints WHERE " + pIn
	type step struct {
		table, query string
		args         []any
		detach       bool
	}
	twice := append(append([]any{}, pArgs...), pArgs...)
	aIn, aArgs := inList("person_a", persons)
	bIn, _ := inList("person_b", persons)
	intoIn, _ := inList("into_id", persons)
	fromIn, _ := inList("from_id", persons)
	idIn, _ := inList("id", persons)
	memberIn, _ := inList("member_id", persons)
	// The frequency caps count a person's sends under the id as text.
	subjectArgs := make([]any, len(persons))
	for i, p := range persons {
		subjectArgs[i] = strconv.FormatInt(p, 10)
	}
	subjectIn := "subject IN (" + strings.TrimSuffix(strings.Repeat("?,", len(persons)), ",") + ")"
	personSegments := "segment_id IN (SELECT id FROM segments WHERE kind = 'person') AND "
	// The roll-ups lose the persons' touches, stage history and leads, and
	// the credits of their touches and conversions (read before they go).
	facts, err := readPersonFacts(ctx, s, tx, persons, true)
	if err != nil {
		return rc, fmt.Errorf("erase person %d: %w", id, err)
	}
	if more, err := instantsOn(ctx, s, tx, "SELECT occurred_at FROM touchpoints WHERE event_id IN ("+evSel+")", pArgs); err != nil {
		return rc, fmt.Errorf("erase person %d: %w", id, err)
	} else {
		facts.touches = append(facts.touches, more...)
	}
	if err := facts.mark(ctx, s, tx); err != nil {
		return rc, fmt.Errorf("erase person %d: %w", id, err)
	}
	converted := map[model.ConversionKind][]time.Time{}
	readConverted := func(query string, args []any) error {
		return s.eachOn(ctx, tx, query, args, func(r *sql.Rows) error {
			var kind string
			var at time.Time
			if err := r.Scan(&kind, &at); err != nil {
				return err
			}
			converted[model.ConversionKind(kind)] = append(converted[model.ConversionKind(kind)], at)
			return nil
		})
	}
	if err := readConverted("SELECT kind, converted_at FROM attribution_conversions WHERE "+pIn, pArgs); err != nil {
		return rc, fmt.Errorf("erase person %d: attribution_conversions: %w", id, err)
	}
	// Credits of the persons' touches, in other persons' conversions too.
	var touched [][2]any
	err = s.eachOn(ctx, tx, "DELETE FROM attribution_credits WHERE touch_id IN ("+tpSel+") RETURNING kind, conversion_id", pArgs, func(r *sql.Rows) error {
		var kind string
		var conv int64
		if err := r.Scan(&kind, &conv); err != nil {
			return err
		}
		touched = append(touched, [2]any{kind, conv})
		rc.Removed["attribution_credits"]++
		return nil
	})
	if err != nil {
		return rc, fmt.Errorf("erase person %d: attribution_credits: %w", id, err)
	}
	for _, kc := range touched {
		if err := readConverted("SELECT kind, converted_at FROM attribution_conversions WHERE kind = ? AND conversion_id = ?", kc[:]); err != nil {
			return rc, fmt.Errorf("erase person %d: attribution_conversions: %w", id, err)
		}
	}
	for kind, at := range converted {
		if err := markDirty(ctx, s, tx, []string{RollupCredits(kind)}, at); err != nil {
			return rc, fmt.Errorf("erase person %d: %w", id, err)
		}
	}
	steps := []step{
		{table: "attribution_credits", query: "DELETE FROM attribution_credits WHERE kind IN ('mql', 'sql') AND conversion_id IN (SELECT conversion_id FROM attribution_conversions c WHERE c.kind = attribution_credits.kind AND c." + pIn + ")", args: pArgs},
		{table: "attribution_conversions", query: "DELETE FROM attribution_conversions WHERE " + pIn, args: pArgs},
		{table: "touchpoints", query: "DELETE FROM touchpoints WHERE " + pIn + " OR event_id IN (" + evSel + ")", args: twice},
		{table: "identity_kept_apart", query: "DELETE FROM identity_kept_apart WHERE " + aIn + " OR " + bIn, args: append(append([]any{}, aArgs...), aArgs...)},
		{table: "identity_conflicts", query: "DELETE FROM identity_conflicts WHERE " + aIn + " OR " + bIn, args: append(append([]any{}, aArgs...), aArgs...)},
		{table: "identity_conflicts", detach: true, query: "UPDATE identity_conflicts SET event_id = NULL WHERE event_id IN (" + evSel + ")", args: pArgs},
		{table: "identity_conflicts", detach: true, query: "UPDATE identity_conflicts SET merge_id = NULL WHERE merge_id IN (SELECT id FROM person_merges WHERE " + intoIn + " OR " + fromIn + ")", args: twice},
		{table: "person_merge_items", query: "DELETE FROM person_merge_items WHERE merge_id IN (SELECT id FROM person_merges WHERE " + intoIn + " OR " + fromIn + ")", args: twice},
		{table: "person_merge_items", query: "DELETE FROM person_merge_items WHERE kind = 'event' AND item_id IN (" + evSel + ")", args: pArgs},
		{table: "person_merges", query: "DELETE FROM person_merges WHERE " + intoIn + " OR " + fromIn, args: twice},
		{table: "person_merges", detach: true, query: "UPDATE person_merges SET event_id = NULL WHERE event_id IN (" + evSel + ")", args: pArgs},
		{table: "events", query: "DELETE FROM events WHERE " + pIn, args: pArgs},
	}
	if len(anon) > 0 {
		in := strings.TrimSuffix(strings.Repeat("?,", len(anon)), ",")
		steps = append(steps, step{table: "events", query: "DELETE FROM events WHERE processed_at IS NULL AND anonymous_id IN (" + in + ")", args: anon})
	}
	if len(users) > 0 {
		in := strings.TrimSuffix(strings.Repeat("?,", len(users)), ",")
		steps = append(steps, step{table: "events", query: "DELETE FROM events WHERE processed_at IS NULL AND user_id IN (" + in + ")", args: users})
	}
	steps = append(steps,
		step{table: "opportunity_contacts", detach: true, query: "DELETE FROM opportunity_contacts WHERE " + pIn, args: pArgs},
		step{table: "person_changes", query: "DELETE FROM person_changes WHERE " + pIn, args: pArgs},
		step{table: "identities", query: "DELETE FROM identities WHERE " + pIn, args: pArgs},
		step{table: "consents", query: "DELETE FROM consents WHERE " + pIn, args: pArgs},
		step{table: "stage_changes", query: "DELETE FROM stage_changes WHERE " + pIn, args: pArgs},
		step{table: "qualification_changes", query: "DELETE FROM qualification_changes WHERE " + pIn, args: pArgs},
		step{table: "assignments", query: "DELETE FROM assignments WHERE " + pIn, args: pArgs},
		step{table: "activities", query: "DELETE FROM activities WHERE " + pIn, args: pArgs},
		step{table: "tasks", query: "DELETE FROM tasks WHERE " + pIn, args: pArgs},
		step{table: "segment_members", query: "DELETE FROM segment_members WHERE " + personSegments + memberIn, args: pArgs},
		step{table: "segment_changes", query: "DELETE FROM segment_changes WHERE " + personSegments + memberIn, args: pArgs},
		step{table: "segments", detach: true, query: "UPDATE segments SET member_count = (SELECT COUNT(*) FROM segment_members m WHERE m.segment_id = segments.id) WHERE kind = 'person'"},
		step{table: "message_events", query: "DELETE FROM message_events WHERE " + pIn, args: pArgs},
		step{table: "message_sends", query: "DELETE FROM message_sends WHERE scope IN ('email', 'wecom') AND " + subjectIn, args: subjectArgs},
		step{table: "journey_ledger", query: "DELETE FROM journey_ledger WHERE " + pIn, args: pArgs},
		step{table: "journey_entries", query: "DELETE FROM journey_entries WHERE " + pIn, args: pArgs},
		step{table: "suppressions", detach: true, query: "UPDATE suppressions SET person_id = NULL WHERE " + pIn, args: pArgs},
		step{table: "persons", detach: true, query: "UPDATE persons SET merged_into_id = NULL WHERE " + idIn, args: pArgs},
		step{table: "persons", query: "DELETE FROM persons WHERE " + idIn, args: pArgs},
	)
	for _, st := range steps {
		res, err := tx.ExecContext(ctx, s.q(st.query), st.args...)
		if err != nil {
			return rc, fmt.Errorf("erase person %d: %s: %w", id, st.table, err)
		}
		n, _ := res.RowsAffected()
		if st.detach {
			if st.table != "persons" && n > 0 {
				rc.Detached[st.table] += n
			}
			continue
		}
		rc.Removed[st.table] += n
	}
	if account.Valid {
		if err := recordAccountChanges(ctx, s, tx, []int64{account.Int64}, now); err != nil {
			return rc, err
		}
	}
	rc.FinishedAt = utc(time.Now())
	removed, _ := json.Marshal(map[string]any{"removed": rc.Removed, "detached": rc.Detached, "suppressed": rc.Suppressed, "persons": len(rc.Persons)})
	q := "INSERT INTO erasures (person_id, actor, removed, started_at, finished_at) VALUES (?, ?, ?, ?, ?)"
	if s.dialect == Postgres {
		if err := tx.QueryRowContext(ctx, s.q(q+" RETURNING id"), id, actor, string(removed), rc.StartedAt, rc.FinishedAt).Scan(&rc.ID); err != nil {
			return rc, err
		}
	} else {
		res, err := tx.ExecContext(ctx, q, id, actor, string(removed), rc.StartedAt, rc.FinishedAt)
		if err != nil {
			return rc, err
		}
		rc.ID, _ = res.LastInsertId()
	}
	return rc, tx.Commit()
}

// Erasures lists the receipts of erasures, newest first.
func (s *Store) Erasures(ctx context.Context, limit int) ([]model.ErasureReceipt, error) {
	return scanAll(ctx, s, s.r, "SELECT id, person_id, actor, removed, started_at, finished_at FROM erasures ORDER BY id DESC LIMIT ?", []any{limit}, func(r rowScanner) (model.ErasureReceipt, error) {
		var rc model.ErasureReceipt
		var raw string
		var fin sql.NullTime
		if err := r.Scan(&rc.ID, &rc.PersonID, &rc.Actor, &raw, &rc.StartedAt, &fin); err != nil {
			return rc, err
		}
		var body struct {
			Removed    map[string]int64 `json:"removed"`
			Detached   map[string]int64 `json:"detached"`
			Suppressed int              `json:"suppressed"`
		}
		_ = json.Unmarshal([]byte(raw), &body)
		rc.Removed, rc.Detached, rc.Suppressed = body.Removed, body.Detached, body.Suppressed
		rc.StartedAt = rc.StartedAt.UTC()
		if fin.Valid {
			rc.FinishedAt = fin.Time.UTC()
		}
		return rc, nil
	})
}
