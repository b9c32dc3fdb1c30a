package store

import (
	"context"
	"database/sql"
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
	users     map[string]int64
	stmts     map[string]*sql.Stmt // prepared once per batch: most of the cost of a small query is parsing it
	contents  map[[2]string]int64
	prior     map[int64]int64 // person of each event of the batch processed before (a replay)
	person    int64           // the current event's person, written with processed_at

	// owners caches identifier → person (0: none) for the batch; every
	// write to identities inside the batch keeps it current.
	owners map[IdentityKey]int64
	// done are the events processed so far whose processed_at is not
	// written yet: written in one statement per batch, and before anything
	// (a merge) that moves events between persons.
	done []processedEvent
	// touches are touchpoints not written yet and refresh the persons
	// whose first touch is to be refreshed after them: written in a few
	// statements per batch, and before anything that reads or moves
	// touchpoints or a person's first touch (account changes, merges).
	// careful writes each at once instead: the retry of a batch whose
	// deferred writes failed, so that the failure is pinned on its event.
	touches []pendingTouch
	refresh []int64
	careful bool
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

type processedEvent struct{ id, person int64 }

func (p *ProcessTx) stmt(query string) (*sql.Stmt, error) {
	if st, ok := p.stmts[query]; ok {
		return st, nil
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

func (p *ProcessTx) query(query string, args ...any) (*sql.Rows, error) {
	st, err := p.stmt(query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(p.ctx, args...)
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
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		p := &ProcessTx{s: s, tx: tx, ctx: ctx, now: utc(time.Now()), campaigns: map[string]CampaignRef{}, users: map[string]int64{},
			stmts: map[string]*sql.Stmt{}, contents: map[[2]string]int64{}, prior: map[int64]int64{}, owners: map[IdentityKey]int64{},
			careful: careful}
		defer p.closeStmts()
		if s.dialect == Postgres {
			if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", int64(processLockKey)); err != nil {
				return err
			}
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
			if err := fn(p, ev); err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				var deferred errDeferred
				if errors.As(err, &deferred) {
					return deferred // not this event's fault
				}
				failed, failure = ev, err
				return errEventFailed
			}
			p.done = append(p.done, processedEvent{ev.ID, p.person})
		}
		if err := p.flushTouches(); err != nil {
			return err
		}
		if err := p.flushProcessed(); err != nil {
			return err
		}
		n = len(events)
		return nil
	})
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

// flushProcessed marks the events processed so far processed, with their
// persons, in one statement per chunk.
func (p *ProcessTx) flushProcessed() error {
	const chunk = 200
	for len(p.done) > 0 {
		part := p.done[:min(chunk, len(p.done))]
		p.done = p.done[len(part):]
		var b strings.Builder
		b.WriteString("WITH v (id, person) AS (VALUES ")
		args := make([]any, 0, 1+2*len(part))
		for i, e := range part {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(CAST(? AS BIGINT), CAST(? AS BIGINT))")
			args = append(args, e.id, nullID(e.person))
		}
		b.WriteString(") UPDATE events SET processed_at = ?, process_error = '', person_id = COALESCE(v.person, events.person_id) FROM v WHERE events.id = v.id")
		args = append(args, p.now)
		if _, err := p.tx.ExecContext(p.ctx, p.s.q(b.String()), args...); err != nil {
			return err
		}
	}
	return nil
}

// flushTouches writes the deferred touchpoints, a few hundred per
// statement, then refreshes the first touch of their persons in one
// statement per few hundred persons. Its errors are errDeferred.
func (p *ProcessTx) flushTouches() error {
	const chunk = 200
	for len(p.touches) > 0 {
		part := p.touches[:min(chunk, len(p.touches))]
		p.touches = p.touches[len(part):]
		var b strings.Builder
		b.WriteString(`INSERT INTO touchpoints (person_id, account_id, anonymous_id, occurred_at, type, channel, source, medium,
		campaign_id, keyword_id, content_id, promoter_id, url, referrer, click_id, event_id) VALUES `)
		args := make([]any, 0, 16*len(part))
		for i, t := range part {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(?, (SELECT account_id FROM persons WHERE id = ?), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
			args = append(args, touchArgs(t.tp, t.eventID)...)
		}
		b.WriteString(touchConflict)
		if _, err := p.tx.ExecContext(p.ctx, p.s.q(b.String()), args...); err != nil {
			p.touches, p.refresh = nil, nil
			return errDeferred{fmt.Errorf("write touchpoints: %w", err)}
		}
	}
	for len(p.refresh) > 0 {
		part := p.refresh[:min(chunk, len(p.refresh))]
		p.refresh = p.refresh[len(part):]
		in := strings.Repeat(", ?", len(part))[2:]
		args := make([]any, len(part))
		for i, id := range part {
			args[i] = id
		}
		if _, err := p.tx.ExecContext(p.ctx, p.s.q(`UPDATE persons SET first_touch_channel = t.channel, first_touch_campaign = t.campaign_id,
		first_seen_at = CASE WHEN persons.first_seen_at > t.occurred_at THEN t.occurred_at ELSE persons.first_seen_at END
		FROM (SELECT person_id, occurred_at, channel, campaign_id, ROW_NUMBER() OVER (PARTITION BY person_id ORDER BY occurred_at, id) AS rn
			FROM touchpoints WHERE person_id IN (`+in+`)) AS t
		WHERE t.rn = 1 AND persons.id = t.person_id AND (persons.first_touch_channel <> t.channel
			OR persons.first_touch_campaign IS DISTINCT FROM t.campaign_id OR persons.first_seen_at > t.occurred_at)`), args...); err != nil {
			p.touches, p.refresh = nil, nil
			return errDeferred{fmt.Errorf("refresh first touch: %w", err)}
		}
	}
	return nil
}

// PrefetchIdentities reads the owners of identifiers in as few queries as
// possible, so that IdentityOwner answers them without a round trip.
func (p *ProcessTx) PrefetchIdentities(keys []IdentityKey) error {
	const chunk = 400
	var want []IdentityKey
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
		rows, err := p.tx.QueryContext(p.ctx, p.s.q(b.String()), args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var typ, value string
			var person int64
			if err := rows.Scan(&typ, &value, &person); err != nil {
				rows.Close()
				return err
			}
			p.owners[IdentityKey{model.IdentityType(typ), value}] = person
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	return nil
}

// CachedOwner is the person an identifier points at when the batch already
// knows it (prefetched or read before); ok is false otherwise.
func (p *ProcessTx) CachedOwner(t model.IdentityType, value string) (person int64, ok bool) {
	person, ok = p.owners[IdentityKey{t, value}]
	return person, ok
}

func (p *ProcessTx) unprocessed(limit int) ([]model.Event, error) {
	rows, err := p.tx.QueryContext(p.ctx, p.s.q(`SELECT id, write_key_id, message_id, type, name, user_id, anonymous_id, group_id, previous_id,
		ts, received_at, bot, url, referrer, source, medium, campaign, term, content, click_id_type, click_id, payload, COALESCE(person_id, 0)
		FROM events WHERE processed_at IS NULL ORDER BY id LIMIT ?`), limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []model.Event
	for rows.Next() {
		var e model.Event
		var typ, payload string
		var prior int64
		if err := rows.Scan(&e.ID, &e.WriteKeyID, &e.MessageID, &typ, &e.Name, &e.UserID, &e.AnonymousID, &e.GroupID, &e.PreviousID,
			&e.Timestamp, &e.ReceivedAt, &e.Bot, &e.URL, &e.Referrer, &e.Source, &e.Medium, &e.Campaign, &e.Term, &e.Content,
			&e.ClickIDType, &e.ClickID, &payload, &prior); err != nil {
			return nil, err
		}
		if prior != 0 {
			p.prior[e.ID] = prior
		}
		e.Type = model.EventType(typ)
		e.Timestamp, e.ReceivedAt = e.Timestamp.UTC(), e.ReceivedAt.UTC()
		e.Payload = []byte(payload)
		out = append(out, e)
	}
	return out, rows.Err()
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
	var n int
	err := p.row("SELECT COUNT(*) FROM identities WHERE person_id = ? AND type <> 'anonymous_id'", personID).Scan(&n)
	return n > 0, err
}

// Survivor follows merged_into_id to the person a merged person lives on in.
func (p *ProcessTx) Survivor(personID int64) (int64, error) {
	for range 64 { // a chain longer than this would be a cycle
		var into sql.NullInt64
		if err := p.row("SELECT merged_into_id FROM persons WHERE id = ?", personID).Scan(&into); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return 0, nil
			}
			return 0, err
		}
		if !into.Valid {
			return personID, nil
		}
		personID = into.Int64
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
	return scanIdentities(p.query("SELECT person_id, type, value, created_at FROM identities WHERE person_id = ? ORDER BY created_at, type, value", personID))
}

func scanIdentities(rows *sql.Rows, err error) ([]model.Identity, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []model.Identity
	for rows.Next() {
		var i model.Identity
		var typ string
		if err := rows.Scan(&i.PersonID, &typ, &i.Value, &i.CreatedAt); err != nil {
			return nil, err
		}
		i.Type = model.IdentityType(typ)
		i.CreatedAt = i.CreatedAt.UTC()
		out = append(out, i)
	}
	return out, rows.Err()
}

// AddIdentity points an identifier at a person; an identifier that already
// points somewhere is left alone.
func (p *ProcessTx) AddIdentity(personID int64, t model.IdentityType, value string, at time.Time) error {
	res, err := p.exec("INSERT INTO identities (type, value, person_id, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (type, value) DO NOTHING",
		string(t), value, personID, utc(at))
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err == nil && n == 1 {
		p.owners[IdentityKey{t, value}] = personID
	} else {
		delete(p.owners, IdentityKey{t, value}) // held by someone else: read again when asked
	}
	return nil
}

// MoveIdentity re-points an identifier (a shared device moving forward to
// the person who now uses it). Nothing already derived moves with it.
func (p *ProcessTx) MoveIdentity(t model.IdentityType, value string, personID int64) error {
	res, err := p.exec("UPDATE identities SET person_id = ? WHERE type = ? AND value = ?", personID, string(t), value)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err == nil && n == 1 {
		p.owners[IdentityKey{t, value}] = personID
	} else {
		delete(p.owners, IdentityKey{t, value})
	}
	return nil
}

// NewPerson creates a visitor first seen at firstSeen.
func (p *ProcessTx) NewPerson(firstSeen time.Time) (int64, error) {
	var id int64
	err := p.row("INSERT INTO persons (stage, first_seen_at, created_at) VALUES ('visitor', ?, ?) RETURNING id", utc(firstSeen), p.now).Scan(&id)
	return id, err
}

// PersonState is what processing needs to know about a person.
type PersonState struct {
	ID        int64
	AccountID int64
	Stage     model.Stage
	Email     string
	Name      string
}

// Person reads a person's state.
func (p *ProcessTx) Person(id int64) (PersonState, error) {
	var ps PersonState
	var stage string
	err := p.row("SELECT id, COALESCE(account_id, 0), stage, email, name FROM persons WHERE id = ?", id).Scan(&ps.ID, &ps.AccountID, &stage, &ps.Email, &ps.Name)
	if errors.Is(err, sql.ErrNoRows) {
		return ps, ErrNotFound
	}
	ps.Stage = model.Stage(stage)
	return ps, err
}

// FillProfile sets a person's name, title, email and phone where they are
// still empty; values already there win.
func (p *ProcessTx) FillProfile(personID int64, name, title, email, phone string) error {
	_, err := p.exec(`UPDATE persons SET
		name = CASE WHEN name = '' THEN ? ELSE name END,
		title = CASE WHEN title = '' THEN ? ELSE title END,
		email = CASE WHEN email = '' THEN ? ELSE email END,
		phone = CASE WHEN phone = '' THEN ? ELSE phone END
		WHERE id = ?`, clip(name, 200), clip(title, 200), email, phone, personID)
	return err
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
	var id int64
	err := p.row("SELECT id FROM accounts WHERE group_id = ? ORDER BY id LIMIT 1", groupID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return id, err
}

// AccountByDomain finds the account with a (lower-case) domain; 0 if none.
func (p *ProcessTx) AccountByDomain(domain string) (int64, error) {
	var id int64
	err := p.row("SELECT id FROM accounts WHERE domain = ? ORDER BY id LIMIT 1", domain).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return id, err
}

// CreateAccount stores a new account and returns its id.
func (p *ProcessTx) CreateAccount(name, domain, industry, groupID string) (int64, error) {
	return p.s.insertID(p.ctx, p.tx, "INSERT INTO accounts (name, domain, industry, group_id, created_at) VALUES (?, ?, ?, ?, ?)",
		clip(name, 200), domain, clip(industry, 200), clip(groupID, 200), p.now)
}

// UpdateAccount overwrites the traits a `group` call sent (empty ones are
// left as they are) and claims the group id when the account has none.
func (p *ProcessTx) UpdateAccount(id int64, name, domain, industry, groupID string) error {
	_, err := p.exec(`UPDATE accounts SET
		name = CASE WHEN ? <> '' THEN ? ELSE name END,
		domain = CASE WHEN ? <> '' THEN ? ELSE domain END,
		industry = CASE WHEN ? <> '' THEN ? ELSE industry END,
		group_id = CASE WHEN group_id = '' THEN ? ELSE group_id END
		WHERE id = ?`, name, clip(name, 200), domain, domain, industry, clip(industry, 200), clip(groupID, 200), id)
	return err
}

// SetPersonAccount assigns a person to an account. Unless override is set,
// a person who already belongs to an account keeps it.
func (p *ProcessTx) SetPersonAccount(personID, accountID int64, override bool) error {
	q := "UPDATE persons SET account_id = ? WHERE id = ? AND account_id IS NULL"
	if override {
		q = "UPDATE persons SET account_id = ? WHERE id = ?"
	}
	// Deferred touchpoints need no flush: they read the person's account
	// when written.
	if _, err := p.exec(q, accountID, personID); err != nil {
		return err
	}
	// Touchpoints carry the account for account-level reports.
	_, err := p.exec("UPDATE touchpoints SET account_id = (SELECT account_id FROM persons WHERE id = ?) WHERE person_id = ?", personID, personID)
	return err
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
	var id int64
	err := p.row("SELECT id FROM keywords WHERE campaign_id = ? AND LOWER(text) = ? ORDER BY id LIMIT 1", campaignID, term).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return id, err
}

// ContentID matches utm_content (a title) or the page URL to a content
// asset; 0 if none.
func (p *ProcessTx) ContentID(content, pageURL string) (int64, error) {
	content = strings.ToLower(strings.TrimSpace(content))
	pageURL = strings.TrimSpace(pageURL)
	if content == "" && pageURL == "" {
		return 0, nil
	}
	key := [2]string{content, pageURL}
	if id, ok := p.contents[key]; ok {
		return id, nil
	}
	if len(p.contents) > 10000 {
		clear(p.contents)
	}
	var id int64
	err := p.row(`SELECT id FROM content_assets WHERE (? <> '' AND (LOWER(title) = ? OR LOWER(title_en) = ?)) OR (? <> '' AND url = ?)
		ORDER BY id LIMIT 1`, content, content, content, pageURL, pageURL).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		err = nil
	}
	if err == nil {
		p.contents[key] = id
	}
	return id, err
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

// UpsertTouchpoint writes the touchpoint derived from an event. A replayed
// event rewrites its touchpoint instead of adding a second one.
// It is written with the batch's other touchpoints unless the batch is
// careful (see ProcessTx.touches).
func (p *ProcessTx) UpsertTouchpoint(tp model.Touchpoint, eventID int64) error {
	if !p.careful {
		p.touches = append(p.touches, pendingTouch{tp, eventID})
		return nil
	}
	_, err := p.exec(`INSERT INTO touchpoints (person_id, account_id, anonymous_id, occurred_at, type, channel, source, medium,
		campaign_id, keyword_id, content_id, promoter_id, url, referrer, click_id, event_id)
		VALUES (?, (SELECT account_id FROM persons WHERE id = ?), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`+touchConflict,
		touchArgs(tp, eventID)...)
	return err
}

const touchConflict = `
		ON CONFLICT (event_id) DO UPDATE SET person_id = excluded.person_id, account_id = excluded.account_id,
			occurred_at = excluded.occurred_at, type = excluded.type, channel = excluded.channel, source = excluded.source,
			medium = excluded.medium, campaign_id = excluded.campaign_id, keyword_id = excluded.keyword_id,
			content_id = excluded.content_id, promoter_id = excluded.promoter_id, url = excluded.url,
			referrer = excluded.referrer, click_id = excluded.click_id`

func touchArgs(tp model.Touchpoint, eventID int64) []any {
	return []any{nullID(tp.PersonID), tp.PersonID, tp.AnonymousID, utc(tp.OccurredAt), tp.Type, string(tp.Channel), clip(tp.Source, 200), clip(tp.Medium, 200),
		nullID(tp.CampaignID), nullID(tp.KeywordID), nullID(tp.ContentID), nullID(tp.PromoterID), clip(tp.URL, 2000), clip(tp.Referrer, 2000),
		clip(tp.ClickID, 512), eventID}
}

// RefreshFirstTouch sets a person's first_seen_at to the earliest of what
// it was and their earliest touchpoint, and the first-touch channel and
// campaign to that touchpoint's.
func (p *ProcessTx) RefreshFirstTouch(personID int64) error {
	if !p.careful {
		if !containsInt64(p.refresh, personID) {
			p.refresh = append(p.refresh, personID)
		}
		return nil
	}
	// One statement (a round trip less than reading the touchpoint first).
	_, err := p.exec(`UPDATE persons SET first_touch_channel = t.channel, first_touch_campaign = t.campaign_id,
		first_seen_at = CASE WHEN persons.first_seen_at > t.occurred_at THEN t.occurred_at ELSE persons.first_seen_at END
		FROM (SELECT occurred_at, channel, campaign_id FROM touchpoints WHERE person_id = ? ORDER BY occurred_at, id LIMIT 1) AS t
		WHERE persons.id = ? AND (persons.first_touch_channel <> t.channel OR persons.first_touch_campaign IS DISTINCT FROM t.campaign_id
			OR persons.first_seen_at > t.occurred_at)`, personID, personID)
	return err
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

// MakeLead turns a visitor into a lead at `at`, with a stage change. A
// person past the visitor stage is left alone, so replays change nothing.
func (p *ProcessTx) MakeLead(personID int64, at time.Time, reason string) (bool, error) {
	if p.s.dialect == Postgres {
		// One round trip: the stage change is written only if the update
		// changed the stage.
		res, err := p.exec(`WITH u AS (UPDATE persons SET stage = 'lead', stage_at = ?, lead_at = COALESCE(lead_at, ?) WHERE id = ? AND stage = 'visitor' RETURNING id)
			INSERT INTO stage_changes (person_id, from_stage, to_stage, changed_at, reason) SELECT id, 'visitor', 'lead', CAST(? AS TIMESTAMPTZ), CAST(? AS TEXT) FROM u`,
			utc(at), utc(at), personID, utc(at), clip(reason, 500))
		if err != nil {
			return false, err
		}
		n, err := res.RowsAffected()
		return n > 0, err
	}
	res, err := p.exec("UPDATE persons SET stage = 'lead', stage_at = ?, lead_at = COALESCE(lead_at, ?) WHERE id = ? AND stage = 'visitor'",
		utc(at), utc(at), personID)
	if err != nil {
		return false, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return false, nil
	}
	_, err = p.exec("INSERT INTO stage_changes (person_id, from_stage, to_stage, changed_at, reason) VALUES (?, 'visitor', 'lead', ?, ?)",
		personID, utc(at), clip(reason, 500))
	return err == nil, err
}

// ReplayEvents clears processed_at on the events with from <= id <= to (0
// for an open end), so that the next processing run derives them again.
// It returns how many events will be replayed.
func (s *Store) ReplayEvents(ctx context.Context, from, to int64) (int64, error) {
	q, args := "UPDATE events SET processed_at = NULL, process_error = '' WHERE id >= ?", []any{from}
	if to > 0 {
		q += " AND id <= ?"
		args = append(args, to)
	}
	res, err := s.w.ExecContext(ctx, s.q(q), args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// UnprocessedEvents counts events waiting for processing.
func (s *Store) UnprocessedEvents(ctx context.Context) (int64, error) {
	var n int64
	err := s.r.QueryRowContext(ctx, "SELECT COUNT(*) FROM events WHERE processed_at IS NULL").Scan(&n)
	return n, err
}

// ProcessErrors lists events whose processing failed, newest first.
func (s *Store) ProcessErrors(ctx context.Context, limit int) (map[int64]string, error) {
	rows, err := s.r.QueryContext(ctx, s.q("SELECT id, process_error FROM events WHERE process_error <> '' ORDER BY id DESC LIMIT ?"), limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64]string{}
	for rows.Next() {
		var id int64
		var msg string
		if err := rows.Scan(&id, &msg); err != nil {
			return nil, err
		}
		out[id] = msg
	}
	return out, rows.Err()
}

func containsInt64(ids []int64, id int64) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}
