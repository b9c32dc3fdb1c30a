package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/revloop/revloop/internal/model"
)

// WriterDB is the pool that writes go through (one connection on SQLite),
// for the job queue, which keeps its own tables in the same database.
func (s *Store) WriterDB() *sql.DB { return s.w }

// processLockKey serialises event processing across nodes on PostgreSQL:
// two batches resolving the same new identifier at once would otherwise race
// to create two persons for it. SQLite has one writer anyway.
const processLockKey = 7_461_023_001

// ProcessTx is the write transaction one batch of event processing runs in.
// Its methods are the primitives identity resolution and touchpoint
// derivation need; they all run inside the same transaction.
type ProcessTx struct {
	s   *Store
	tx  *sql.Tx
	ctx context.Context
	now time.Time

	campaigns map[string]CampaignRef // cache by lower-cased code or name
	keywords  map[termKey]int64
	users     map[string]int64
	links     map[string]int64     // write key id:code → tracked link (0: none)
	stmts     map[string]*sql.Stmt // prepared once per batch: most of the cost of a small query is parsing it
	contents  *contentIndex
	prior     map[int64]int64 // person of each event of the batch processed before (a replay)
	person    int64           // the current event's person, written with processed_at

	// owners caches identifier → person (0: none) for the batch; every
	// write to identities inside the batch keeps it current.
	owners map[IdentityKey]int64
	// people are the persons the batch read or made, changed in memory
	// and written by flush (see processbatch.go).
	people     map[int64]*batchPerson
	newPersons []int64
	newIdents  []model.Identity
	moves      []model.StageMove // stage moves decided in the batch, in order
	// Accounts by domain and group id (0: none), and those made or changed.
	byDomain     map[string]int64
	byGroup      map[string]int64
	newAccounts  map[int64]*pendingAccount
	accountOrder []int64
	// Ids reserved for new rows, per table.
	ids      map[string][]int64
	idRounds map[string]int
	lastID   map[string]int64
	// done are the events processed so far whose processed_at is not
	// written yet. touches are touchpoints not written yet and refresh the
	// persons whose first touch is to be refreshed after them.
	done    []processedEvent
	touches []pendingTouch
	refresh []int64
	// careful flushes after every event: the retry of a batch whose
	// deferred writes failed, so that the failure is pinned on its event.
	careful bool
	// ingest says the batch's events are new (IngestProcessed): they are
	// inserted processed rather than updated. current is the event being
	// processed; stored are those inserted ahead (for a row that refers to
	// its event, a merge or a conflict) and updated when done.
	ingest  bool
	current *model.Event
	stored  map[int64]bool
	// conn is the connection of tx, for COPY (PostgreSQL, ingest); nil
	// otherwise.
	conn *sql.Conn
	// journeyEvents are the batch's track events with their persons, for
	// the journeys they start or the waits they end (journeys.go).
	journeyEvents []journeyEvent
	// unprepared are statements this transaction prepared for itself, to
	// be prepared for the next ones once it ends (SQLite; see
	// Store.writerStmts).
	unprepared []string
}

type termKey struct {
	campaign int64
	term     string
}

type pendingTouch struct {
	tp      model.Touchpoint
	eventID int64
}

// errDeferred is a deferred write that failed: the batch is retried with
// every write made at once.
type errDeferred struct{ err error }

func (e errDeferred) Error() string { return "deferred write: " + e.err.Error() }
func (e errDeferred) Unwrap() error { return e.err }

// IdentityKey is an identifier: its type and normalised value.
type IdentityKey struct {
	Type  model.IdentityType
	Value string
}

type processedEvent struct {
	id, person int64
	ev         *model.Event // the event itself, when the batch stores it (ingest)
	name       string       // a track event's name, for the journeys it may start or wake
	at         time.Time
}

func (p *ProcessTx) stmt(query string) (*sql.Stmt, error) {
	if st, ok := p.stmts[query]; ok {
		return st, nil
	}
	if p.s.dialect == SQLite {
		if base := p.s.writerStmt(query); base != nil {
			st := p.tx.StmtContext(p.ctx, base)
			p.stmts[query] = st
			return st, nil
		}
		p.unprepared = append(p.unprepared, query)
	}
	st, err := p.tx.PrepareContext(p.ctx, p.s.q(query))
	if err != nil {
		return nil, err
	}
	p.stmts[query] = st
	return st, nil
}

func (p *ProcessTx) closeStmts() {
	for _, st := range p.stmts {
		st.Close()
	}
}

// Context is the batch's context.
func (p *ProcessTx) Context() context.Context { return p.ctx }

// Now is the processing time of the batch.
func (p *ProcessTx) Now() time.Time { return p.now }

func (p *ProcessTx) exec(query string, args ...any) (sql.Result, error) {
	st, err := p.stmt(query)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(p.ctx, args...)
}

// row runs a one-row query; a failure to prepare shows up in Scan.
func (p *ProcessTx) row(query string, args ...any) *sql.Row {
	st, err := p.stmt(query)
	if err != nil {
		return p.tx.QueryRowContext(p.ctx, p.s.q(query), args...)
	}
	return st.QueryRowContext(p.ctx, args...)
}

// ProcessEvents runs fn on up to limit unprocessed events (processed_at IS
// NULL), in id order, in one transaction, and marks each processed. When fn
// fails for an event, the transaction is rolled back and that event alone is
// marked processed with its error, so that one bad message never blocks the
// ones behind it (it can be replayed after a fix); the next call takes the
// rest. (Savepoints per event would do the same, but cost SQLite a
// sub-journal write per page.) It returns how many events it took,
// including a failed one, and 0 when none were waiting.
func (s *Store) ProcessEvents(ctx context.Context, limit int, fn func(p *ProcessTx, ev *model.Event) error) (int, error) {
	return s.ProcessEventsWith(ctx, limit, nil, fn)
}

// ProcessEventsWith is ProcessEvents with a step that sees the whole batch
// before its first event is processed (to prefetch what the batch needs,
// e.g. with PrefetchIdentities); a failing prepare fails the batch.
func (s *Store) ProcessEventsWith(ctx context.Context, limit int, prepare func(p *ProcessTx, events []model.Event) error,
	fn func(p *ProcessTx, ev *model.Event) error) (int, error) {
	if limit <= 0 {
		limit = 500
	}
	n, err := s.processBatch(ctx, limit, prepare, fn, false)
	var deferred errDeferred
	if errors.As(err, &deferred) {
		n, err = s.processBatch(ctx, limit, prepare, fn, true)
	}
	return n, err
}

func (s *Store) processBatch(ctx context.Context, limit int, prepare func(p *ProcessTx, events []model.Event) error,
	fn func(p *ProcessTx, ev *model.Event) error, careful bool) (int, error) {
	n := 0
	var failed *model.Event
	var failure error
	var unprepared []string
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		p := newProcessTx(s, tx, ctx, careful)
		defer p.closeStmts()
		defer func() { unprepared = p.unprepared }()
		if err := p.lock(); err != nil {
			return err
		}
		events, err := p.unprocessed(limit)
		if err != nil {
			return err
		}
		if prepare != nil && len(events) > 0 {
			if err := prepare(p, events); err != nil {
				return err
			}
		}
		for i := range events {
			ev := &events[i]
			p.person = 0
			err := fn(p, ev)
			if err == nil {
				p.done = append(p.done, processedEvent{id: ev.ID, person: p.person, name: journeyEventName(ev), at: ev.Timestamp})
				if careful {
					err = p.flush()
				}
			}
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				var deferred errDeferred
				if errors.As(err, &deferred) && !careful {
					return deferred // not this event's fault
				}
				failed, failure = ev, err
				return errEventFailed
			}
		}
		if err := p.flush(); err != nil {
			return err
		}
		n = len(events)
		return nil
	})
	s.prepareWriterStmts(ctx, unprepared)
	if errors.Is(err, errEventFailed) {
		msg := failure.Error()
		if len(msg) > 1000 {
			msg = clip(msg, 1000)
		}
		if _, err := s.w.ExecContext(ctx, s.q("UPDATE events SET processed_at = ?, process_error = ? WHERE id = ?"), utc(time.Now()), msg, failed.ID); err != nil {
			return 0, err
		}
		return 1, nil
	}
	if err != nil {
		return 0, err
	}
	return n, nil
}

var errEventFailed = errors.New("event processing failed")

// lock takes the processing lock (PostgreSQL; SQLite has one writer).
func (p *ProcessTx) lock() error {
	if p.s.dialect != Postgres {
		return nil
	}
	// Every statement of a batch looks rows up by key. During a burst the
	// tables grow faster than autovacuum analyses them, and with the stale
	// statistics the planner joins a batch's few hundred rows by scanning
	// a whole table or index; without seq scans, hash and merge joins it
	// looks each row up in an index, as it would with fresh statistics.
	// The penalty those settings put on a plan that must scan anyway (a
	// small table without an index for the lookup) would cross the JIT
	// threshold, and compiling costs a hundred times the query: no JIT.
	_, err := p.tx.ExecContext(p.ctx, `SELECT pg_advisory_xact_lock($1), set_config('enable_seqscan', 'off', true),
		set_config('enable_hashjoin', 'off', true), set_config('enable_mergejoin', 'off', true), set_config('jit', 'off', true)`, int64(processLockKey))
	return err
}

func newProcessTx(s *Store, tx *sql.Tx, ctx context.Context, careful bool) *ProcessTx {
	return &ProcessTx{s: s, tx: tx, ctx: ctx, now: utc(time.Now()), careful: careful,
		campaigns: map[string]CampaignRef{}, keywords: map[termKey]int64{}, users: map[string]int64{}, links: map[string]int64{},
		stmts: map[string]*sql.Stmt{}, prior: map[int64]int64{}, owners: map[IdentityKey]int64{},
		people: map[int64]*batchPerson{}, byDomain: map[string]int64{}, byGroup: map[string]int64{},
		newAccounts: map[int64]*pendingAccount{}, ids: map[string][]int64{}, idRounds: map[string]int{}, lastID: map[string]int64{}}
}

// flushProcessed marks the events processed so far processed, with their
// persons, in one statement per chunk.
func (p *ProcessTx) flushProcessed() error {
	var updates []processedEvent
	var inserts [][]any
	for _, e := range p.done {
		if e.name != "" && e.person != 0 {
			p.journeyEvents = append(p.journeyEvents, journeyEvent{person: e.person, name: e.name, at: e.at})
		}
		if e.ev == nil || p.stored[e.id] {
			updates = append(updates, e)
			continue
		}
		inserts = append(inserts, append(append([]any{e.id}, eventArgs(e.ev)...), p.now, nullID(e.person)))
	}
	p.done = nil
	if p.conn != nil {
		if err := p.copyRows("events", append(append([]string{"id"}, eventColList...), "processed_at", "person_id"), inserts); err != nil {
			return err
		}
		inserts = nil
	}
	if err := p.execRows("INSERT INTO events (id, "+eventCols+", processed_at, person_id) VALUES ",
		"("+strings.TrimSuffix(strings.Repeat("?, ", len(eventColList)+3), ", ")+")", "", len(eventColList)+3, inserts); err != nil {
		return err
	}
	rows := make([][]any, len(updates))
	for i, e := range updates {
		rows[i] = []any{e.id, nullID(e.person), p.now}
	}
	return p.execRows("WITH v (id, person, at) AS (VALUES ", "(CAST(? AS BIGINT), CAST(? AS BIGINT), "+p.s.castArg("TIMESTAMPTZ")+")",
		") UPDATE events SET processed_at = v.at, process_error = '', person_id = COALESCE(v.person, events.person_id) FROM v WHERE events.id = v.id",
		3, rows)
}

// storeCurrentEvent inserts the event being processed ahead of the batch's
// other new events (still unprocessed; it is marked when done), for a row
// about to be written that refers to it. Outside ingest the event is
// stored already.
func (p *ProcessTx) storeCurrentEvent() error {
	if !p.ingest || p.current == nil || p.stored[p.current.ID] {
		return nil
	}
	if _, err := p.tx.ExecContext(p.ctx, p.s.q("INSERT INTO events (id, "+eventCols+") VALUES ("+
		strings.TrimSuffix(strings.Repeat("?, ", len(eventColList)+1), ", ")+")"), append([]any{p.current.ID}, eventArgs(p.current)...)...); err != nil {
		return err
	}
	p.stored[p.current.ID] = true
	return nil
}

// IngestProcessed stores new events and processes them in the same
// transaction, the collector's fast path: each event is written once,
// already processed, instead of stored, read back and updated. Events
// stored before (the same write key and message id, a retry) or twice in
// the list are skipped. prepare and fn are those of ProcessEventsWith.
// When fn fails for any event nothing is written and the error is
// returned: the caller stores the events the plain way (IngestEvents) for
// processing to pin the failure on its event. It returns the events that
// were new.
func (s *Store) IngestProcessed(ctx context.Context, events []model.Event, prepare func(p *ProcessTx, events []model.Event) error,
	fn func(p *ProcessTx, ev *model.Event) error) (int, error) {
	n := 0
	var unprepared []string
	err := s.inConnTx(ctx, func(conn *sql.Conn, tx *sql.Tx) error {
		p := newProcessTx(s, tx, ctx, false)
		p.ingest, p.stored, p.conn = true, map[int64]bool{}, conn
		defer p.closeStmts()
		defer func() { unprepared = p.unprepared }()
		if err := p.lock(); err != nil {
			return err
		}
		fresh, err := p.newEvents(events)
		if err != nil {
			return err
		}
		if len(fresh) == 0 {
			return nil
		}
		if prepare != nil {
			if err := prepare(p, fresh); err != nil {
				return err
			}
		}
		for i := range fresh {
			ev := &fresh[i]
			p.person, p.current = 0, ev
			if err := fn(p, ev); err != nil {
				return fmt.Errorf("process event %s: %w", ev.MessageID, err)
			}
			p.done = append(p.done, processedEvent{id: ev.ID, person: p.person, ev: ev, name: journeyEventName(ev), at: ev.Timestamp})
		}
		p.current = nil
		if err := p.flush(); err != nil {
			return err
		}
		n = len(fresh)
		return nil
	})
	s.prepareWriterStmts(ctx, unprepared)
	if err != nil {
		return 0, err
	}
	return n, nil
}

// newEvents drops the events already stored or repeated in the list and
// gives the others their ids.
func (p *ProcessTx) newEvents(events []model.Event) ([]model.Event, error) {
	type msgKey struct {
		key int64
		msg string
	}
	seen := make(map[msgKey]bool, len(events))
	keys := make([]msgKey, 0, len(events))
	for i := range events {
		k := msgKey{events[i].WriteKeyID, events[i].MessageID}
		if !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	stored := map[msgKey]bool{}
	const chunk = 400
	for len(keys) > 0 {
		part := keys[:min(chunk, len(keys))]
		keys = keys[len(part):]
		var b strings.Builder
		b.WriteString("SELECT write_key_id, message_id FROM events WHERE (write_key_id, message_id) IN (VALUES ")
		args := make([]any, 0, 2*len(part))
		for i, k := range part {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(" + p.s.castArg("BIGINT") + ", " + p.s.castArg("TEXT") + ")")
			args = append(args, k.key, k.msg)
		}
		b.WriteString(")")
		err := p.s.eachOn(p.ctx, p.tx, b.String(), args, func(r *sql.Rows) error {
			var k msgKey
			if err := r.Scan(&k.key, &k.msg); err != nil {
				return err
			}
			stored[k] = true
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	out := make([]model.Event, 0, len(events))
	for i := range events {
		k := msgKey{events[i].WriteKeyID, events[i].MessageID}
		if stored[k] {
			continue
		}
		stored[k] = true
		ev := events[i]
		id, err := p.nextID("events")
		if err != nil {
			return nil, err
		}
		ev.ID = id
		out = append(out, ev)
	}
	return out, nil
}

// flushTouches writes the deferred touchpoints, a few hundred per
// statement, then moves the first touch of the persons whose earliest
// touch is now one of them.
func (p *ProcessTx) flushTouches() error {
	touches := p.touches
	p.touches = nil
	rows := make([][]any, 0, len(touches))
	for _, t := range touches {
		acct := int64(0)
		if t.tp.PersonID != 0 {
			bp, err := p.cachedPerson(t.tp.PersonID)
			if err != nil {
				return err
			}
			acct = bp.state.AccountID
		}
		tp := t.tp
		tp.AccountID = acct
		rows = append(rows, touchArgs(tp, t.eventID))
	}
	if p.conn != nil && p.ingest {
		// The events are new: no touchpoint of theirs can be stored.
		if err := p.copyRows("touchpoints", touchCols, rows); err != nil {
			return err
		}
		rows = nil
	}
	if err := p.execRows(`INSERT INTO touchpoints (person_id, account_id, anonymous_id, occurred_at, type, channel, source, medium,
		campaign_id, keyword_id, content_id, promoter_id, url, referrer, click_id, watch_seconds, event_id, link_id) VALUES `,
		"(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", touchConflict, 18, rows); err != nil {
		return err
	}
	// The earliest new touch of each person becomes their first touch when
	// it is earlier than the one they had (on a tie the older touchpoint,
	// with the lower id, stays first). A replayed event may have changed a
	// touch that was first: those persons are refreshed from the table.
	var moves [][]any
	for person, t := range earliestTouches(touches) {
		bp := p.people[person]
		if _, replay := p.prior[t.eventID]; replay || bp == nil || bp.firstTouchUnknown {
			if !containsInt64(p.refresh, person) {
				p.refresh = append(p.refresh, person)
			}
			continue
		}
		if bp.firstTouchAt != nil && !t.tp.OccurredAt.Before(*bp.firstTouchAt) {
			continue
		}
		at := utc(t.tp.OccurredAt)
		bp.firstTouchAt = &at
		moves = append(moves, []any{person, string(t.tp.Channel), nullID(t.tp.CampaignID), at})
	}
	if err := p.execRows("WITH v (id, channel, campaign_id, at) AS (VALUES ",
		"(CAST(? AS BIGINT), CAST(? AS TEXT), CAST(? AS BIGINT), "+p.s.castArg("TIMESTAMPTZ")+")",
		`) UPDATE persons SET first_touch_channel = v.channel, first_touch_campaign = v.campaign_id,
			first_seen_at = CASE WHEN persons.first_seen_at > v.at THEN v.at ELSE persons.first_seen_at END
		FROM v WHERE persons.id = v.id`, 4, moves); err != nil {
		return fmt.Errorf("move first touch: %w", err)
	}
	const chunk = 200
	for len(p.refresh) > 0 {
		part := p.refresh[:min(chunk, len(p.refresh))]
		p.refresh = p.refresh[len(part):]
		in, args := inList("person_id", part)
		if _, err := p.tx.ExecContext(p.ctx, p.s.q(`UPDATE persons SET first_touch_channel = t.channel, first_touch_campaign = t.campaign_id,
		first_seen_at = CASE WHEN persons.first_seen_at > t.occurred_at THEN t.occurred_at ELSE persons.first_seen_at END
		FROM (SELECT person_id, occurred_at, channel, campaign_id, ROW_NUMBER() OVER (PARTITION BY person_id ORDER BY occurred_at, id) AS rn
			FROM touchpoints WHERE `+in+`) AS t
		WHERE t.rn = 1 AND persons.id = t.person_id AND (persons.first_touch_channel <> t.channel
			OR persons.first_touch_campaign IS DISTINCT FROM t.campaign_id OR persons.first_seen_at > t.occurred_at)`), args...); err != nil {
			return fmt.Errorf("refresh first touch: %w", err)
		}
		p.forgetFirstTouch(part)
	}
	return nil
}

// earliestTouches is each person's earliest touch among touches (the
// first written on a tie).
func earliestTouches(touches []pendingTouch) map[int64]pendingTouch {
	out := map[int64]pendingTouch{}
	for _, t := range touches {
		if t.tp.PersonID == 0 {
			continue
		}
		if cur, ok := out[t.tp.PersonID]; !ok || t.tp.OccurredAt.Before(cur.tp.OccurredAt) {
			out[t.tp.PersonID] = t
		}
	}
	return out
}

// forgetFirstTouch drops what the batch knows of the persons' first
// touches after the table was read for them.
func (p *ProcessTx) forgetFirstTouch(ids []int64) {
	for _, id := range ids {
		if bp := p.people[id]; bp != nil {
			bp.firstTouchUnknown = true
		}
	}
}

// PrefetchIdentities reads the owners of identifiers in as few queries as
// possible, so that IdentityOwner answers them without a round trip.
func (p *ProcessTx) PrefetchIdentities(keys []IdentityKey) error {
	const chunk = 400
	var want []IdentityKey
	var found []int64
	seen := make(map[IdentityKey]bool, len(keys))
	for _, k := range keys {
		if _, ok := p.owners[k]; !ok && !seen[k] {
			seen[k] = true
			want = append(want, k)
		}
	}
	for len(want) > 0 {
		part := want[:min(chunk, len(want))]
		want = want[len(part):]
		var b strings.Builder
		b.WriteString("SELECT type, value, person_id FROM identities WHERE (type, value) IN (VALUES ")
		args := make([]any, 0, 2*len(part))
		for i, k := range part {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(?, ?)")
			args = append(args, string(k.Type), k.Value)
			p.owners[k] = 0
		}
		b.WriteString(")")
		err := p.s.eachOn(p.ctx, p.tx, b.String(), args, func(r *sql.Rows) error {
			var typ, value string
			var person int64
			if err := r.Scan(&typ, &value, &person); err != nil {
				return err
			}
			p.owners[IdentityKey{model.IdentityType(typ), value}] = person
			found = append(found, person)
			return nil
		})
		if err != nil {
			return err
		}
	}
	// Resolution reads the owners' rows and identifiers next.
	return p.loadPersons(found)
}

// CachedOwner is the person an identifier points at when the batch already
// knows it (prefetched or read before); ok is false otherwise.
func (p *ProcessTx) CachedOwner(t model.IdentityType, value string) (person int64, ok bool) {
	person, ok = p.owners[IdentityKey{t, value}]
	return person, ok
}

func (p *ProcessTx) unprocessed(limit int) ([]model.Event, error) {
	return scanAll(p.ctx, p.s, p.tx, `SELECT id, write_key_id, message_id, type, name, user_id, anonymous_id, group_id, previous_id,
		ts, received_at, bot, url, referrer, source, medium, campaign, term, content, click_id_type, click_id, payload, COALESCE(person_id, 0)
		FROM events WHERE processed_at IS NULL ORDER BY id LIMIT ?`, []any{limit}, func(r rowScanner) (model.Event, error) {
		var e model.Event
		var typ, payload string
		var prior int64
		if err := r.Scan(&e.ID, &e.WriteKeyID, &e.MessageID, &typ, &e.Name, &e.UserID, &e.AnonymousID, &e.GroupID, &e.PreviousID,
			&e.Timestamp, &e.ReceivedAt, &e.Bot, &e.URL, &e.Referrer, &e.Source, &e.Medium, &e.Campaign, &e.Term, &e.Content,
			&e.ClickIDType, &e.ClickID, &payload, &prior); err != nil {
			return e, err
		}
		if prior != 0 {
			p.prior[e.ID] = prior
		}
		e.Type = model.EventType(typ)
		e.Timestamp, e.ReceivedAt = e.Timestamp.UTC(), e.ReceivedAt.UTC()
		e.Payload = []byte(payload)
		return e, nil
	})
}

// EventPerson is the person an event was resolved to when it was processed
// before (a replay), following merges to the surviving person; 0 if none.
func (p *ProcessTx) EventPerson(eventID int64) (int64, error) {
	id := p.prior[eventID]
	if id == 0 {
		return 0, nil
	}
	return p.Survivor(id)
}

// Known says whether a person holds an identifier stronger than an
// anonymous id.
func (p *ProcessTx) Known(personID int64) (bool, error) {
	ids, err := p.Identities(personID)
	if err != nil {
		return false, err
	}
	for _, i := range ids {
		if i.Type != model.IdentityAnonymousID {
			return true, nil
		}
	}
	return false, nil
}

// Survivor follows merged_into_id to the person a merged person lives on
// in; 0 for a person that does not exist.
func (p *ProcessTx) Survivor(personID int64) (int64, error) {
	for range 64 { // a chain longer than this would be a cycle
		bp, err := p.cachedPerson(personID)
		if errors.Is(err, ErrNotFound) {
			return 0, nil
		}
		if err != nil {
			return 0, err
		}
		if bp.mergedInto == 0 {
			return personID, nil
		}
		personID = bp.mergedInto
	}
	return 0, fmt.Errorf("person %d: merge chain too long", personID)
}

// SetEventPerson records which person the event being processed was
// resolved to; it is written with the event's processed_at.
func (p *ProcessTx) SetEventPerson(personID int64) { p.person = personID }

// IdentityOwner returns the person an identifier points at, 0 if none.
func (p *ProcessTx) IdentityOwner(t model.IdentityType, value string) (int64, error) {
	key := IdentityKey{t, value}
	if id, ok := p.owners[key]; ok {
		return id, nil
	}
	var id int64
	err := p.row("SELECT person_id FROM identities WHERE type = ? AND value = ?", string(t), value).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		err = nil
	}
	if err == nil {
		p.owners[key] = id
	}
	return id, err
}

// Identities lists a person's identifiers.
func (p *ProcessTx) Identities(personID int64) ([]model.Identity, error) {
	bp, err := p.cachedPerson(personID)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return bp.idents, nil
}

// scanIdentity reads a row of person_id, type, value, created_at.
func scanIdentity(r rowScanner) (model.Identity, error) {
	var i model.Identity
	var typ string
	err := r.Scan(&i.PersonID, &typ, &i.Value, &i.CreatedAt)
	i.Type = model.IdentityType(typ)
	i.CreatedAt = i.CreatedAt.UTC()
	return i, err
}

// AddIdentity points an identifier at a person; an identifier that already
// points somewhere is left alone.
func (p *ProcessTx) AddIdentity(personID int64, t model.IdentityType, value string, at time.Time) error {
	owner, err := p.IdentityOwner(t, value)
	if err != nil || owner != 0 {
		return err
	}
	bp, err := p.cachedPerson(personID)
	if err != nil {
		return err
	}
	id := model.Identity{PersonID: personID, Type: t, Value: value, CreatedAt: utc(at)}
	p.owners[IdentityKey{t, value}] = personID
	bp.idents = append(bp.idents, id)
	p.newIdents = append(p.newIdents, id)
	return nil
}

// MoveIdentity re-points an identifier (a shared device moving forward to
// the person who now uses it). Nothing already derived moves with it.
func (p *ProcessTx) MoveIdentity(t model.IdentityType, value string, personID int64) error {
	if err := p.flush(); err != nil {
		return err
	}
	old, err := p.IdentityOwner(t, value)
	if err != nil {
		return err
	}
	res, err := p.exec("UPDATE identities SET person_id = ? WHERE type = ? AND value = ?", personID, string(t), value)
	if err != nil {
		return err
	}
	p.forget(old, personID)
	if n, err := res.RowsAffected(); err == nil && n == 1 {
		p.owners[IdentityKey{t, value}] = personID
	} else {
		delete(p.owners, IdentityKey{t, value})
	}
	return nil
}

// NewPerson creates a visitor first seen at firstSeen.
func (p *ProcessTx) NewPerson(firstSeen time.Time) (int64, error) {
	id, err := p.nextID("persons")
	if err != nil {
		return 0, err
	}
	p.people[id] = &batchPerson{state: PersonState{ID: id, Stage: model.StageVisitor}, traits: map[string]any{},
		firstSeen: utc(firstSeen), isNew: true, identsLoaded: true}
	p.newPersons = append(p.newPersons, id)
	return id, nil
}

// PersonState is what processing needs to know about a person.
type PersonState struct {
	ID        int64
	AccountID int64
	Stage     model.Stage
	Email     string
	Name      string
	Title     string
	Phone     string
}

// Person reads a person's state.
func (p *ProcessTx) Person(id int64) (PersonState, error) {
	bp, err := p.cachedPerson(id)
	if err != nil {
		return PersonState{}, err
	}
	return bp.state, nil
}

// FillProfile sets a person's name, title, email and phone where they are
// still empty; values already there win.
func (p *ProcessTx) FillProfile(personID int64, name, title, email, phone string) error {
	bp, err := p.cachedPerson(personID)
	if err != nil {
		return err
	}
	for _, f := range []struct {
		field *string
		value string
	}{{&bp.state.Name, clip(name, 200)}, {&bp.state.Title, clip(title, 200)}, {&bp.state.Email, email}, {&bp.state.Phone, phone}} {
		if *f.field == "" && f.value != "" {
			*f.field = f.value
			bp.profileDirty = true
		}
	}
	return nil
}

// SetTraits stores traits on a person: each key given replaces the one
// stored, a null value removes it, the rest stay. It says whether anything
// changed.
func (p *ProcessTx) SetTraits(personID int64, traits map[string]any) (bool, error) {
	if len(traits) == 0 {
		return false, nil
	}
	bp, err := p.cachedPerson(personID)
	if err != nil {
		return false, err
	}
	changed := false
	for k, v := range traits {
		old, had := bp.traits[k]
		switch {
		case v == nil && had:
			delete(bp.traits, k)
			changed = true
		case v != nil && (!had || !sameJSON(old, v)):
			bp.traits[k] = v
			changed = true
		}
	}
	if changed {
		bp.traitsDirty = true
	}
	return changed, nil
}

// Traits are the traits stored on a person.
func (p *ProcessTx) Traits(personID int64) (map[string]any, error) {
	bp, err := p.cachedPerson(personID)
	if err != nil {
		return nil, err
	}
	return bp.traits, nil
}

func sameJSON(a, b any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(x) == string(y)
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}

// AccountByGroupID finds the account a `group` call named; 0 if none.
func (p *ProcessTx) AccountByGroupID(groupID string) (int64, error) {
	if id, ok := p.byGroup[groupID]; ok {
		return id, nil
	}
	var id int64
	err := p.row("SELECT id FROM accounts WHERE group_id = ? ORDER BY id LIMIT 1", groupID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		err = nil
	}
	if err == nil {
		p.byGroup[groupID] = id
	}
	return id, err
}

// AccountByDomain finds the account with a (lower-case) domain; 0 if none.
func (p *ProcessTx) AccountByDomain(domain string) (int64, error) {
	if id, ok := p.byDomain[domain]; ok {
		return id, nil
	}
	var id int64
	err := p.row("SELECT id FROM accounts WHERE domain = ? ORDER BY id LIMIT 1", domain).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		err = nil
	}
	if err == nil {
		p.byDomain[domain] = id
	}
	return id, err
}

// CreateAccount stores a new account and returns its id.
func (p *ProcessTx) CreateAccount(name, domain, industry, groupID string) (int64, error) {
	id, err := p.nextID("accounts")
	if err != nil {
		return 0, err
	}
	p.newAccounts[id] = &pendingAccount{id: id, name: name, domain: domain, industry: industry, groupID: groupID, isNew: true}
	p.accountOrder = append(p.accountOrder, id)
	if _, ok := p.byDomain[domain]; domain != "" && (!ok || p.byDomain[domain] == 0) {
		p.byDomain[domain] = id
	}
	if _, ok := p.byGroup[groupID]; groupID != "" && (!ok || p.byGroup[groupID] == 0) {
		p.byGroup[groupID] = id
	}
	return id, nil
}

// UpdateAccount overwrites the traits a `group` call sent (empty ones are
// left as they are) and claims the group id when the account has none.
func (p *ProcessTx) UpdateAccount(id int64, name, domain, industry, groupID string) error {
	a, ok := p.newAccounts[id]
	if !ok {
		a = &pendingAccount{id: id}
		p.newAccounts[id] = a
		p.accountOrder = append(p.accountOrder, id)
	}
	for _, f := range []struct {
		field *string
		value string
	}{{&a.name, name}, {&a.domain, domain}, {&a.industry, industry}} {
		if f.value != "" {
			*f.field = f.value
		}
	}
	if a.groupID == "" {
		a.groupID = groupID
	}
	if groupID != "" {
		// The account claims the group id unless it has one (then the
		// lookup finds it by that id next time anyway).
		if cur, ok := p.byGroup[groupID]; !ok || cur == 0 {
			p.byGroup[groupID] = id
		}
	}
	if domain != "" {
		if cur, ok := p.byDomain[domain]; !ok || cur == 0 {
			p.byDomain[domain] = id
		}
	}
	return nil
}

// FillAccount sets an account's industry and employee count where it has
// none yet (what a person's company traits say).
func (p *ProcessTx) FillAccount(id int64, industry string, employees int64, plan string) {
	a, ok := p.newAccounts[id]
	if !ok {
		a = &pendingAccount{id: id}
		p.newAccounts[id] = a
		p.accountOrder = append(p.accountOrder, id)
	}
	if plan != "" {
		a.plan = plan // the latest plan sent wins: a company's plan changes
	}
	if a.fillIndustry == "" {
		a.fillIndustry = industry
	}
	if a.fillEmployees == 0 && employees > 0 {
		a.fillEmployees = employees
	}
}

// SetPersonAccount assigns a person to an account. Unless override is set,
// a person who already belongs to an account keeps it.
func (p *ProcessTx) SetPersonAccount(personID, accountID int64, override bool) error {
	bp, err := p.cachedPerson(personID)
	if err != nil {
		return err
	}
	if bp.state.AccountID == accountID || (!override && bp.state.AccountID != 0) {
		return nil
	}
	bp.state.AccountID = accountID
	bp.accountDirty = true
	bp.override = bp.override || override
	return nil
}

// CampaignRef is a campaign as touch derivation sees it.
type CampaignRef struct {
	ID      int64
	Channel string
}

// CampaignByRef matches utm_campaign to a campaign by code, else by name,
// ignoring case.
func (p *ProcessTx) CampaignByRef(ref string) (CampaignRef, error) {
	key := strings.ToLower(strings.TrimSpace(ref))
	if key == "" {
		return CampaignRef{}, nil
	}
	if c, ok := p.campaigns[key]; ok {
		return c, nil
	}
	var c CampaignRef
	err := p.row(`SELECT id, channel FROM campaigns WHERE LOWER(code) = ? OR LOWER(name) = ?
		ORDER BY CASE WHEN LOWER(code) = ? THEN 0 ELSE 1 END, id LIMIT 1`, key, key, key).Scan(&c.ID, &c.Channel)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return c, err
	}
	p.campaigns[key] = c
	return c, nil
}

// CampaignChannel is the channel of a campaign by id.
func (p *ProcessTx) CampaignChannel(id int64) (string, error) {
	var ch string
	err := p.row("SELECT channel FROM campaigns WHERE id = ?", id).Scan(&ch)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return ch, err
}

// KeywordID matches utm_term to a keyword of the campaign; 0 if none.
func (p *ProcessTx) KeywordID(campaignID int64, term string) (int64, error) {
	term = strings.ToLower(strings.TrimSpace(term))
	if campaignID == 0 || term == "" {
		return 0, nil
	}
	key := termKey{campaignID, term}
	if id, ok := p.keywords[key]; ok {
		return id, nil
	}
	var id int64
	err := p.row("SELECT id FROM keywords WHERE campaign_id = ? AND LOWER(text) = ? ORDER BY id LIMIT 1", campaignID, term).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		err = nil
	}
	if err == nil && len(p.keywords) < 10000 {
		p.keywords[key] = id
	}
	return id, err
}

// ContentID matches utm_content (a title) or the page URL to a content
// asset; 0 if none. The lowest id of the assets that match wins.
func (p *ProcessTx) ContentID(content, pageURL string) (int64, error) {
	content = strings.ToLower(strings.TrimSpace(content))
	pageURL = strings.TrimSpace(pageURL)
	if content == "" && pageURL == "" {
		return 0, nil
	}
	if p.contents == nil {
		ci, err := p.loadContents()
		if err != nil {
			return 0, err
		}
		p.contents = ci
	}
	best := int64(0)
	for _, id := range []int64{p.contents.byTitle[content], p.contents.byURL[pageURL]} {
		if id != 0 && (best == 0 || id < best) {
			best = id
		}
	}
	return best, nil
}

// contentIndex holds every content asset by lower-cased title (either
// language) and by URL, keeping the lowest id of each.
type contentIndex struct {
	byTitle map[string]int64
	byURL   map[string]int64
}

func (p *ProcessTx) loadContents() (*contentIndex, error) {
	ci := &contentIndex{byTitle: map[string]int64{}, byURL: map[string]int64{}}
	keep := func(m map[string]int64, k string, id int64) {
		if _, ok := m[k]; k != "" && !ok {
			m[k] = id
		}
	}
	err := p.s.eachOn(p.ctx, p.tx, "SELECT id, LOWER(title), LOWER(title_en), url FROM content_assets ORDER BY id", nil, func(r *sql.Rows) error {
		var id int64
		var title, titleEN, url string
		if err := r.Scan(&id, &title, &titleEN, &url); err != nil {
			return err
		}
		keep(ci.byTitle, title, id)
		keep(ci.byTitle, titleEN, id)
		keep(ci.byURL, url, id)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return ci, nil
}

// PromoterID finds the employee a shared link names, by user id or email; 0
// if none.
func (p *ProcessTx) PromoterID(ref string) (int64, error) {
	ref = strings.ToLower(strings.TrimSpace(ref))
	if ref == "" {
		return 0, nil
	}
	if id, ok := p.users[ref]; ok {
		return id, nil
	}
	var id int64
	var err error
	if n, perr := strconv.ParseInt(ref, 10, 64); perr == nil {
		err = p.row("SELECT id FROM users WHERE id = ?", n).Scan(&id)
	} else {
		err = p.row("SELECT id FROM users WHERE email = ?", ref).Scan(&id)
	}
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, err
	}
	p.users[ref] = id
	return id, nil
}

// ClickedLink finds the tracked link of a click that revloop recorded
// itself (an event under its links write key naming the link's code); 0
// for any other event, so that a sender cannot claim a link's clicks.
func (p *ProcessTx) ClickedLink(writeKeyID int64, code string) (int64, error) {
	if code == "" || len(code) > 64 {
		return 0, nil
	}
	key := strconv.FormatInt(writeKeyID, 10) + ":" + code
	if id, ok := p.links[key]; ok {
		return id, nil
	}
	var id int64
	err := p.row(`SELECT l.id FROM tracked_links l, write_keys k WHERE l.code = ? AND k.id = ? AND k.name = ?`,
		code, writeKeyID, builtinKeyName+"links").Scan(&id)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, err
	}
	p.links[key] = id
	return id, nil
}

// UpsertTouchpoint writes the touchpoint derived from an event with the
// batch's other touchpoints. A replayed event rewrites its touchpoint
// instead of adding a second one.
func (p *ProcessTx) UpsertTouchpoint(tp model.Touchpoint, eventID int64) error {
	p.touches = append(p.touches, pendingTouch{tp, eventID})
	return nil
}

var touchCols = []string{"person_id", "account_id", "anonymous_id", "occurred_at", "type", "channel", "source", "medium",
	"campaign_id", "keyword_id", "content_id", "promoter_id", "url", "referrer", "click_id", "watch_seconds", "event_id", "link_id"}

const touchConflict = `
		ON CONFLICT (event_id) DO UPDATE SET person_id = excluded.person_id, account_id = excluded.account_id,
			occurred_at = excluded.occurred_at, type = excluded.type, channel = excluded.channel, source = excluded.source,
			medium = excluded.medium, campaign_id = excluded.campaign_id, keyword_id = excluded.keyword_id,
			content_id = excluded.content_id, promoter_id = excluded.promoter_id, url = excluded.url,
			referrer = excluded.referrer, click_id = excluded.click_id, watch_seconds = excluded.watch_seconds, link_id = excluded.link_id`

func touchArgs(tp model.Touchpoint, eventID int64) []any {
	return []any{nullID(tp.PersonID), nullID(tp.AccountID), tp.AnonymousID, utc(tp.OccurredAt), tp.Type, string(tp.Channel), clip(tp.Source, 200), clip(tp.Medium, 200),
		nullID(tp.CampaignID), nullID(tp.KeywordID), nullID(tp.ContentID), nullID(tp.PromoterID), clip(tp.URL, 2000), clip(tp.Referrer, 2000),
		clip(tp.ClickID, 512), tp.WatchSeconds, eventID, nullID(tp.LinkID)}
}

func refreshFirstTouch(ctx context.Context, s *Store, tx *sql.Tx, personID int64) error {
	var at time.Time
	var ch string
	var camp sql.NullInt64
	err := tx.QueryRowContext(ctx, s.q(`SELECT occurred_at, channel, campaign_id FROM touchpoints WHERE person_id = ?
		ORDER BY occurred_at, id LIMIT 1`), personID).Scan(&at, &ch, &camp)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	var campaign any
	if camp.Valid {
		campaign = camp.Int64
	}
	_, err = tx.ExecContext(ctx, s.q(`UPDATE persons SET first_touch_channel = ?, first_touch_campaign = ?,
		first_seen_at = CASE WHEN first_seen_at > ? THEN ? ELSE first_seen_at END WHERE id = ?`),
		ch, campaign, utc(at), utc(at), personID)
	return err
}

// MoveStage applies a stage move decided during the batch (a lead made by
// event processing: lifecycle.LeadMove) with the batch's other writes: the
// person's stage changes now for the rest of the batch, and the move is
// written when the batch flushes, by the code that writes
// Store.MoveStages' moves, history row and all. A person no longer in
// m.From is left alone (false), so replays change nothing.
func (p *ProcessTx) MoveStage(m model.StageMove) (bool, error) {
	bp, err := p.cachedPerson(m.PersonID)
	if err != nil {
		return false, err
	}
	if bp.state.Stage != m.From {
		return false, nil
	}
	bp.state.Stage = m.To
	p.moves = append(p.moves, m)
	return true, nil
}

// ReplayEvents clears processed_at on the events with from <= id <= to (0
// for an open end), so that the next processing run derives them again.
// It returns how many events will be replayed. A replay rewrites
// touchpoints in place (same ids): the person roll-ups are marked for
// every day, since what the replay changes is known only once it ran.
func (s *Store) ReplayEvents(ctx context.Context, from, to int64) (int64, error) {
	q, args := "UPDATE events SET processed_at = NULL, process_error = '' WHERE id >= ?", []any{from}
	if to > 0 {
		q += " AND id <= ?"
		args = append(args, to)
	}
	var n int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(q), args...)
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil || n == 0 {
			return err
		}
		return markAllDirty(ctx, s, tx, personRollups)
	})
	return n, err
}

// UnprocessedEvents counts events waiting for processing.
func (s *Store) UnprocessedEvents(ctx context.Context) (int64, error) {
	var n int64
	err := s.r.QueryRowContext(ctx, "SELECT COUNT(*) FROM events WHERE processed_at IS NULL").Scan(&n)
	return n, err
}

// CountPersonTouchpoints counts the touchpoints that belong to a person.
func (s *Store) CountPersonTouchpoints(ctx context.Context) (int64, error) {
	var n int64
	err := s.r.QueryRowContext(ctx, "SELECT COUNT(*) FROM touchpoints WHERE person_id IS NOT NULL").Scan(&n)
	return n, err
}

// ProcessErrors lists events whose processing failed, newest first.
func (s *Store) ProcessErrors(ctx context.Context, limit int) (map[int64]string, error) {
	return idMap[string](ctx, s, "SELECT id, process_error FROM events WHERE process_error <> '' ORDER BY id DESC LIMIT ?", limit)
}

func containsInt64(ids []int64, id int64) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}
