package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/revloop/revloop/internal/model"
)

// Journeys: their records and versions, the triggers of the live ones, and
// entering persons into them. Entering happens inside the transaction of
// whatever triggered it: event processing (flushJourneys), a stage move
// (applyStageMoves, enterOnStages), the segment change feed
// (EnterFromSegmentChanges, with its cursor) or the date-trait pass. The
// ledger (journeyledger.go) runs the steps.

// ErrJourneyConflict is a change that the journey's state does not allow
// (activating an archived journey, migrating to a version that does not
// exist).
var ErrJourneyConflict = errors.New("journey conflict")

// journeyEventAge bounds how old a tracked event may be and still start a
// journey: a backfill of last year's events must not send last year's
// nurture mails.
const journeyEventAge = 24 * time.Hour

// journeyEvent is a track event of a processing batch with its person.
type journeyEvent struct {
	person int64
	name   string
	at     time.Time
}

// journeyEventName is the name under which an event may start a journey
// or end a wait: track events only.
func journeyEventName(ev *model.Event) string {
	if ev.Type == model.EventTrack {
		return ev.Name
	}
	return ""
}

// liveTrigger is a live journey's trigger as journey_triggers holds it.
type liveTrigger struct {
	journeyID int64
	version   int
	reentry   string
	firstStep string
	firstType string
}

// journeyTriggers is a snapshot of the live triggers of events and stages,
// and of the events that waits of non-archived journeys listen for.
type journeyTriggers struct {
	counter int64
	events  map[string][]liveTrigger
	stages  map[model.Stage][]liveTrigger
	waits   map[string]bool
}

// journeyTriggerCache keeps the last snapshot; it is reloaded when the
// "triggers" counter in journey_meta moved (every activation, pause or
// new live version bumps it in its own transaction).
type journeyTriggerCache struct {
	mu   sync.Mutex
	snap *journeyTriggers
}

// liveJourneyTriggers returns the current snapshot, read inside q (the
// caller's transaction): one small query when nothing changed.
func (s *Store) liveJourneyTriggers(ctx context.Context, q rowQuerier) (*journeyTriggers, error) {
	var counter int64
	err := q.QueryRowContext(ctx, s.q("SELECT value FROM journey_meta WHERE name = 'triggers'")).Scan(&counter)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	c := &s.journeyCache
	c.mu.Lock()
	snap := c.snap
	c.mu.Unlock()
	if snap != nil && snap.counter == counter {
		return snap, nil
	}
	snap = &journeyTriggers{counter: counter, events: map[string][]liveTrigger{}, stages: map[model.Stage][]liveTrigger{}, waits: map[string]bool{}}
	err = s.eachOn(ctx, q, `SELECT journey_id, version, kind, value, reentry, first_step, first_type FROM journey_triggers
		WHERE kind IN ('event', 'stage') ORDER BY journey_id`, nil, func(r *sql.Rows) error {
		var t liveTrigger
		var kind, value string
		if err := r.Scan(&t.journeyID, &t.version, &kind, &value, &t.reentry, &t.firstStep, &t.firstType); err != nil {
			return err
		}
		if kind == "event" {
			snap.events[value] = append(snap.events[value], t)
		} else {
			snap.stages[model.Stage(value)] = append(snap.stages[model.Stage(value)], t)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = s.eachOn(ctx, q, `SELECT v.definition FROM journey_versions v JOIN journeys j ON j.id = v.journey_id
		WHERE j.status IN ('live', 'paused')`, nil, func(r *sql.Rows) error {
		var raw string
		if err := r.Scan(&raw); err != nil {
			return err
		}
		var def model.JourneyDef
		if json.Unmarshal([]byte(raw), &def) != nil {
			return nil
		}
		for _, st := range def.Steps {
			if st.Type == model.StepWait && st.UntilEvent != "" {
				snap.waits[st.UntilEvent] = true
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.snap = snap
	c.mu.Unlock()
	return snap, nil
}

// bumpJourneyTriggers moves the counter so that every node reloads.
func (s *Store) bumpJourneyTriggers(ctx context.Context, tx *sql.Tx) error {
	_, err := tx.ExecContext(ctx, s.q(`INSERT INTO journey_meta (name, value) VALUES ('triggers', 1)
		ON CONFLICT (name) DO UPDATE SET value = journey_meta.value + 1`))
	return err
}

// journeyEntrant is a person about to enter a journey.
type journeyEntrant struct {
	trig   liveTrigger
	person int64
	at     time.Time
}

// JourneyMessageKey is the key of a ledger row (journey, version, step,
// person, entry): the message's Message-ID / de-duplication key. It uses
// only [A-Za-z0-9._-] (step ids are letters, digits, '-' and '_').
func JourneyMessageKey(journeyID int64, version int, stepID string, personID int64, entryNo int) string {
	return "j" + strconv.FormatInt(journeyID, 10) + ".v" + strconv.Itoa(version) + "." + stepID +
		".p" + strconv.FormatInt(personID, 10) + ".e" + strconv.Itoa(entryNo)
}

// enterJourneys enters each person unless the journey's re-entry policy
// refuses: never (once per person), after_exit (not while an entry is
// active), always. It returns how many entered.
func enterJourneys(ctx context.Context, s *Store, tx *sql.Tx, ents []journeyEntrant) (int, error) {
	if len(ents) == 0 {
		return 0, nil
	}
	last, err := tx.PrepareContext(ctx, s.q(`SELECT entry_no, state FROM journey_entries WHERE journey_id = ? AND person_id = ?
		ORDER BY entry_no DESC LIMIT 1`))
	if err != nil {
		return 0, err
	}
	defer last.Close()
	n := 0
	for _, e := range ents {
		var no int
		var state string
		err := last.QueryRowContext(ctx, e.trig.journeyID, e.person).Scan(&no, &state)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return n, err
		}
		switch e.trig.reentry {
		case model.ReEntryAlways:
		case model.ReEntryAfterExit:
			if no > 0 && state == model.EntryActive {
				continue
			}
		default:
			if no > 0 {
				continue
			}
		}
		at := utc(e.at)
		entryID, err := s.insertID(ctx, tx, `INSERT INTO journey_entries (journey_id, version, person_id, entry_no, entered_at, state, current_step)
			VALUES (?, ?, ?, ?, ?, 'active', ?)`, e.trig.journeyID, e.trig.version, e.person, no+1, at, e.trig.firstStep)
		if err != nil {
			return n, fmt.Errorf("enter journey %d: %w", e.trig.journeyID, err)
		}
		if _, err := insertLedgerRow(ctx, s, tx, ledgerRow{entryID: entryID, journeyID: e.trig.journeyID, version: e.trig.version,
			stepID: e.trig.firstStep, stepType: e.trig.firstType, personID: e.person, entryNo: no + 1, due: at}); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// ledgerRow is a new row of the ledger.
type ledgerRow struct {
	entryID, journeyID int64
	version            int
	stepID, stepType   string
	personID           int64
	entryNo            int
	due                time.Time
}

// insertLedgerRow adds a step's row; false when the entry had the step
// already (the unique key: a definition that loops back).
func insertLedgerRow(ctx context.Context, s *Store, ex execer, r ledgerRow) (bool, error) {
	res, err := ex.ExecContext(ctx, s.q(`INSERT INTO journey_ledger (entry_id, journey_id, version, step_id, person_id, entry_no, step_type,
		status, due_at, message_key, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'due', ?, ?, ?) ON CONFLICT DO NOTHING`),
		r.entryID, r.journeyID, r.version, r.stepID, r.personID, r.entryNo, r.stepType, utc(r.due),
		JourneyMessageKey(r.journeyID, r.version, r.stepID, r.personID, r.entryNo), utc(r.due))
	if err != nil {
		return false, fmt.Errorf("journey ledger: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// flushJourneys enters the persons of the batch's track events into the
// live journeys those events trigger, and ends the waits of persons
// waiting for them, in the batch's transaction.
func (p *ProcessTx) flushJourneys() error {
	evs := p.journeyEvents
	p.journeyEvents = nil
	if len(evs) == 0 {
		return nil
	}
	snap, err := p.s.liveJourneyTriggers(p.ctx, p.tx)
	if err != nil {
		return err
	}
	if len(snap.events) == 0 && len(snap.waits) == 0 {
		return nil
	}
	var ents []journeyEntrant
	type wake struct {
		person int64
		name   string
	}
	woken := map[wake]bool{}
	for _, ev := range evs {
		if snap.waits[ev.name] {
			w := wake{ev.person, ev.name}
			if !woken[w] {
				woken[w] = true
				if _, err := p.exec(`UPDATE journey_ledger SET due_at = COALESCE(started_at, due_at), result = 'event'
					WHERE status = 'due' AND person_id = ? AND wait_event = ? AND wait_until IS NOT NULL`, ev.person, ev.name); err != nil {
					return err
				}
			}
		}
		if p.now.Sub(ev.at) > journeyEventAge {
			continue
		}
		for _, t := range snap.events[ev.name] {
			at := ev.at
			if at.After(p.now) {
				at = p.now
			}
			ents = append(ents, journeyEntrant{trig: t, person: ev.person, at: at})
		}
	}
	_, err = enterJourneys(p.ctx, p.s, p.tx, ents)
	return err
}

// enterOnStages enters the persons of applied stage moves into the live
// journeys triggered by the stage they reached, in the moves' transaction.
func enterOnStages(ctx context.Context, s *Store, tx *sql.Tx, moves []model.StageMove) error {
	if len(moves) == 0 {
		return nil
	}
	snap, err := s.liveJourneyTriggers(ctx, tx)
	if err != nil {
		return err
	}
	if len(snap.stages) == 0 {
		return nil
	}
	var ents []journeyEntrant
	for _, m := range moves {
		for _, t := range snap.stages[m.To] {
			ents = append(ents, journeyEntrant{trig: t, person: m.PersonID, at: m.At})
		}
	}
	_, err = enterJourneys(ctx, s, tx, ents)
	return err
}

// CreateJourney stores a new journey (a draft) with its definition as
// version 1. The definition must be valid (model.JourneyDef.Validate).
func (s *Store) CreateJourney(ctx context.Context, def model.JourneyDef, by string, now time.Time) (model.Journey, error) {
	raw, err := json.Marshal(def)
	if err != nil {
		return model.Journey{}, err
	}
	now = utc(now)
	var id int64
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		id, err = s.insertID(ctx, tx, `INSERT INTO journeys (name, status, live_version, latest_version, created_by, created_at, updated_at)
			VALUES (?, 'draft', 0, 1, ?, ?, ?)`, def.Name, clip(by, 200), now, now)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, s.q(`INSERT INTO journey_versions (journey_id, version, definition, created_at) VALUES (?, 1, ?, ?)`), id, string(raw), now)
		return err
	})
	if err != nil {
		return model.Journey{}, err
	}
	return s.Journey(ctx, id)
}

// UpdateJourney stores def as the journey's next version. A live journey
// goes live on it at once: new entrants take it, persons in flight stay on
// their version unless moved (MigrateJourney).
func (s *Store) UpdateJourney(ctx context.Context, id int64, def model.JourneyDef, now time.Time) (model.Journey, error) {
	raw, err := json.Marshal(def)
	if err != nil {
		return model.Journey{}, err
	}
	now = utc(now)
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		var status string
		var latest int
		err := tx.QueryRowContext(ctx, s.q("SELECT status, latest_version FROM journeys WHERE id = ?"), id).Scan(&status, &latest)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if status == model.JourneyArchived {
			return fmt.Errorf("%w: journey %d is archived", ErrJourneyConflict, id)
		}
		v := latest + 1
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO journey_versions (journey_id, version, definition, created_at) VALUES (?, ?, ?, ?)`),
			id, v, string(raw), now); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.q("UPDATE journeys SET name = ?, latest_version = ?, updated_at = ? WHERE id = ?"), def.Name, v, now, id); err != nil {
			return err
		}
		if status == model.JourneyLive {
			return s.goLive(ctx, tx, id, v, def, now)
		}
		return s.bumpJourneyTriggers(ctx, tx)
	})
	if err != nil {
		return model.Journey{}, err
	}
	return s.Journey(ctx, id)
}

// goLive makes version v of the journey live: its trigger row, the
// version's activation time, the counter.
func (s *Store) goLive(ctx context.Context, tx *sql.Tx, id int64, v int, def model.JourneyDef, now time.Time) error {
	kind, value := "event", def.Trigger.Event
	switch {
	case def.Trigger.Stage != "":
		kind, value = "stage", string(def.Trigger.Stage)
	case def.Trigger.Segment != 0:
		kind, value = "segment", strconv.FormatInt(def.Trigger.Segment, 10)
	case def.Trigger.DateTrait != "":
		kind, value = "date_trait", def.Trigger.DateTrait
	}
	reentry := def.ReEntry
	if reentry == "" {
		reentry = model.ReEntryNever
	}
	if _, err := tx.ExecContext(ctx, s.q("DELETE FROM journey_triggers WHERE journey_id = ?"), id); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO journey_triggers (journey_id, version, kind, value, reentry, first_step, first_type)
		VALUES (?, ?, ?, ?, ?, ?, ?)`), id, v, kind, value, reentry, def.Steps[0].ID, def.Steps[0].Type); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, s.q("UPDATE journeys SET status = 'live', live_version = ?, updated_at = ? WHERE id = ?"), v, now, id); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, s.q(`UPDATE journey_versions SET activated_at = COALESCE(activated_at, ?) WHERE journey_id = ? AND version = ?`),
		now, id, v); err != nil {
		return err
	}
	return s.bumpJourneyTriggers(ctx, tx)
}

// ActivateJourney makes the journey's latest version live.
func (s *Store) ActivateJourney(ctx context.Context, id int64, now time.Time) (model.Journey, error) {
	now = utc(now)
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var status, raw string
		var latest int
		err := tx.QueryRowContext(ctx, s.q(`SELECT j.status, j.latest_version, v.definition FROM journeys j
			JOIN journey_versions v ON v.journey_id = j.id AND v.version = j.latest_version WHERE j.id = ?`), id).Scan(&status, &latest, &raw)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if status == model.JourneyArchived {
			return fmt.Errorf("%w: journey %d is archived", ErrJourneyConflict, id)
		}
		var def model.JourneyDef
		if err := json.Unmarshal([]byte(raw), &def); err != nil {
			return fmt.Errorf("journey %d version %d: %w", id, latest, err)
		}
		return s.goLive(ctx, tx, id, latest, def, now)
	})
	if err != nil {
		return model.Journey{}, err
	}
	return s.Journey(ctx, id)
}

// PauseJourney stops the journey: nobody enters, and the steps of persons
// in flight wait (their rows are not claimed) until it is live again.
func (s *Store) PauseJourney(ctx context.Context, id int64, now time.Time) (model.Journey, error) {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q("UPDATE journeys SET status = 'paused', updated_at = ? WHERE id = ? AND status IN ('live', 'paused', 'draft')"),
			utc(now), id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			if _, err := s.Journey(ctx, id); err != nil {
				return err
			}
			return fmt.Errorf("%w: journey %d is archived", ErrJourneyConflict, id)
		}
		if _, err := tx.ExecContext(ctx, s.q("DELETE FROM journey_triggers WHERE journey_id = ?"), id); err != nil {
			return err
		}
		return s.bumpJourneyTriggers(ctx, tx)
	})
	if err != nil {
		return model.Journey{}, err
	}
	return s.Journey(ctx, id)
}

const journeyCols = "id, name, status, live_version, latest_version, created_by, created_at, updated_at"

func scanJourney(r rowScanner) (model.Journey, error) {
	var j model.Journey
	err := r.Scan(&j.ID, &j.Name, &j.Status, &j.LiveVersion, &j.LatestVersion, &j.CreatedBy, &j.CreatedAt, &j.UpdatedAt)
	j.CreatedAt, j.UpdatedAt = j.CreatedAt.UTC(), j.UpdatedAt.UTC()
	return j, err
}

// Journey returns a journey's record.
func (s *Store) Journey(ctx context.Context, id int64) (model.Journey, error) {
	j, err := scanJourney(s.w.QueryRowContext(ctx, s.q("SELECT "+journeyCols+" FROM journeys WHERE id = ?"), id))
	if errors.Is(err, sql.ErrNoRows) {
		return model.Journey{}, ErrNotFound
	}
	return j, err
}

// Journeys lists the journeys, newest first, with their entries.
func (s *Store) Journeys(ctx context.Context) ([]model.JourneySummary, error) {
	out, err := scanAll(ctx, s, s.r, `SELECT j.id, j.name, j.status, j.live_version, j.latest_version, j.created_by, j.created_at, j.updated_at,
		v.definition,
		(SELECT COUNT(*) FROM journey_entries e WHERE e.journey_id = j.id),
		(SELECT COUNT(*) FROM journey_entries e WHERE e.journey_id = j.id AND e.state = 'active')
		FROM journeys j JOIN journey_versions v ON v.journey_id = j.id AND v.version = j.latest_version
		ORDER BY j.id DESC LIMIT 1000`, nil, func(r rowScanner) (model.JourneySummary, error) {
		var j model.JourneySummary
		var raw string
		err := r.Scan(&j.ID, &j.Name, &j.Status, &j.LiveVersion, &j.LatestVersion, &j.CreatedBy, &j.CreatedAt, &j.UpdatedAt, &raw, &j.Entered, &j.Active)
		j.CreatedAt, j.UpdatedAt = j.CreatedAt.UTC(), j.UpdatedAt.UTC()
		var def model.JourneyDef
		if err == nil && json.Unmarshal([]byte(raw), &def) == nil {
			j.Trigger = def.Trigger
		}
		return j, err
	})
	return out, err
}

// JourneyVersions returns every version of a journey, oldest first.
func (s *Store) JourneyVersions(ctx context.Context, id int64) ([]model.JourneyVersion, error) {
	return scanAll(ctx, s, s.r, `SELECT version, definition, created_at, activated_at FROM journey_versions WHERE journey_id = ? ORDER BY version`,
		[]any{id}, func(r rowScanner) (model.JourneyVersion, error) {
			var v model.JourneyVersion
			var raw string
			var act sql.NullTime
			if err := r.Scan(&v.Version, &raw, &v.CreatedAt, &act); err != nil {
				return v, err
			}
			v.CreatedAt = v.CreatedAt.UTC()
			if act.Valid {
				t := act.Time.UTC()
				v.ActivatedAt = &t
			}
			return v, json.Unmarshal([]byte(raw), &v.Definition)
		})
}

// JourneyDefinition returns one version's definition.
func (s *Store) JourneyDefinition(ctx context.Context, id int64, version int) (model.JourneyDef, error) {
	var raw string
	err := s.w.QueryRowContext(ctx, s.q("SELECT definition FROM journey_versions WHERE journey_id = ? AND version = ?"), id, version).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return model.JourneyDef{}, ErrNotFound
	}
	if err != nil {
		return model.JourneyDef{}, err
	}
	var def model.JourneyDef
	if err := json.Unmarshal([]byte(raw), &def); err != nil {
		return def, fmt.Errorf("journey %d version %d: %w", id, version, err)
	}
	return def, nil
}

// JourneyDetail is a journey with its latest definition, versions and
// figures, for GET /api/v1/journeys/{id} and the journey's page.
func (s *Store) JourneyDetail(ctx context.Context, id int64, now time.Time) (model.JourneyDetail, error) {
	j, err := s.Journey(ctx, id)
	if err != nil {
		return model.JourneyDetail{}, err
	}
	d := model.JourneyDetail{Journey: j}
	if d.Versions, err = s.JourneyVersions(ctx, id); err != nil {
		return d, err
	}
	for _, v := range d.Versions {
		if v.Version == j.LatestVersion {
			d.Definition = v.Definition
		}
	}
	d.Stats, err = s.JourneyStats(ctx, id, now)
	return d, err
}

// JourneyTriggered lists the live journeys with a trigger of the kind
// ("segment", "date_trait"), with the trigger's value.
func (s *Store) JourneyTriggered(ctx context.Context, kind string) (map[int64]string, error) {
	out := map[int64]string{}
	err := s.eachOn(ctx, s.w, "SELECT journey_id, value FROM journey_triggers WHERE kind = ?", []any{kind}, func(r *sql.Rows) error {
		var id int64
		var v string
		err := r.Scan(&id, &v)
		out[id] = v
		return err
	})
	return out, err
}

// JourneyCursor returns a counter or cursor of journey_meta (0 when unset).
func (s *Store) JourneyCursor(ctx context.Context, name string) (int64, error) {
	var v int64
	err := s.w.QueryRowContext(ctx, s.q("SELECT value FROM journey_meta WHERE name = ?"), name).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return v, err
}

func setJourneyCursor(ctx context.Context, s *Store, tx *sql.Tx, name string, v int64) error {
	_, err := tx.ExecContext(ctx, s.q(`INSERT INTO journey_meta (name, value) VALUES (?, ?)
		ON CONFLICT (name) DO UPDATE SET value = excluded.value`), name, v)
	return err
}

// JourneyEntrant is a person to enter into a live journey at a time.
type JourneyEntrant struct {
	JourneyID int64
	PersonID  int64
	At        time.Time
}

// EnterJourneys enters persons into live journeys (their live version,
// under their re-entry policy) and, when cursor is not "", sets that
// cursor of journey_meta to value, in one transaction: the segment change
// feed and the date-trait pass advance their cursors with the entries they
// made. Persons of journeys that are not live are left out. It returns how
// many entered.
func (s *Store) EnterJourneys(ctx context.Context, ents []JourneyEntrant, cursor string, value int64) (int, error) {
	n := 0
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		trigs := map[int64]*liveTrigger{}
		var list []journeyEntrant
		for _, e := range ents {
			t, ok := trigs[e.JourneyID]
			if !ok {
				var lt liveTrigger
				err := tx.QueryRowContext(ctx, s.q(`SELECT journey_id, version, reentry, first_step, first_type FROM journey_triggers WHERE journey_id = ?`),
					e.JourneyID).Scan(&lt.journeyID, &lt.version, &lt.reentry, &lt.firstStep, &lt.firstType)
				if err != nil && !errors.Is(err, sql.ErrNoRows) {
					return err
				}
				if err == nil {
					t = &lt
				}
				trigs[e.JourneyID] = t
			}
			if t != nil {
				list = append(list, journeyEntrant{trig: *t, person: e.PersonID, at: e.At})
			}
		}
		var err error
		if n, err = enterJourneys(ctx, s, tx, list); err != nil {
			return err
		}
		if cursor != "" {
			return setJourneyCursor(ctx, s, tx, cursor, value)
		}
		return nil
	})
	return n, err
}

// PersonTraitText is one person's value of a trait, as text.
type PersonTraitText struct {
	PersonID int64
	Value    string
}

// PersonsWithTrait pages through the live persons having the trait
// (after the person id after), with the trait's value as text and the
// person's "timezone" trait.
func (s *Store) PersonsWithTrait(ctx context.Context, trait string, after int64, limit int) (out []PersonTraitText, zones []string, last int64, err error) {
	last = after
	err = s.eachOn(ctx, s.r, `SELECT id, traits FROM persons WHERE id > ? AND merged_into_id IS NULL AND traits LIKE ? ORDER BY id LIMIT ?`,
		[]any{after, "%" + strconv.Quote(trait) + "%", limit}, func(r *sql.Rows) error {
			var id int64
			var raw string
			if err := r.Scan(&id, &raw); err != nil {
				return err
			}
			last = id
			tr := parseTraits(raw)
			v, ok := tr[trait]
			if !ok {
				return nil
			}
			zone, _ := tr["timezone"].(string)
			out = append(out, PersonTraitText{PersonID: id, Value: fmt.Sprint(v)})
			zones = append(zones, zone)
			return nil
		})
	return out, zones, last, err
}
