package store

import (
	"database/sql"
	"encoding/json"
	"iter"

	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/revloop/revloop/internal/model"
)

// The processing transaction keeps what a batch reads and writes about
// persons, identifiers and accounts in memory and writes it in a few
// multi-row statements when the batch ends (or before anything that needs
// the rows on disk: a merge, a moved identifier, a conflict). A batch
// holds the processing lock (PostgreSQL) or the one writer (SQLite), so
// what it read cannot be changed by another batch meanwhile; writes from
// elsewhere (the CRM API, a person's stage moved by hand) are guarded in
// SQL where they could collide (profile fields fill only what is empty, a
// lead is made only of a visitor).

// batchPerson is the batch's copy of one persons row.
type batchPerson struct {
	state      PersonState
	traits     map[string]any
	mergedInto int64
	firstSeen  time.Time
	isNew      bool // inserted when the batch flushes

	profileDirty bool // name, title, email or phone filled
	traitsDirty  bool
	accountDirty bool // account set; accountOverride: even over another one
	override     bool

	idents       []model.Identity
	identsLoaded bool

	// firstTouchAt is when the person's earliest touchpoint happened (nil:
	// none); firstTouchUnknown says it must be read from the table.
	firstTouchAt      *time.Time
	firstTouchUnknown bool
}

type pendingAccount struct {
	id                              int64
	name, domain, industry, groupID string
	// Filled only where the account has no value yet.
	fillIndustry  string
	fillEmployees int64
	plan          string // overwrites when not empty
	isNew         bool
}

// maxParams bounds the parameters of one statement (SQLite allows 32,766,
// PostgreSQL 65,535).
const maxParams = 30000

// copyRows writes rows into table with COPY on the transaction's own
// connection: for rows that cannot conflict with stored ones, about half
// the cost of a multi-row INSERT on PostgreSQL.
func (p *ProcessTx) copyRows(table string, cols []string, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	return p.conn.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("copy into %s: unexpected PostgreSQL driver connection %T", table, dc)
		}
		if _, err := sc.Conn().CopyFrom(p.ctx, pgx.Identifier{table}, cols, pgx.CopyFromRows(rows)); err != nil {
			return fmt.Errorf("copy into %s: %w", table, err)
		}
		return nil
	})
}

// rowsChunk is how many rows of width params fit one statement.
func rowsChunk(width int) int { return max(1, min(500, maxParams/width)) }

// castArg is a parameter with a type PostgreSQL can read inside VALUES;
// SQLite takes the value as it is bound (a CAST to a type SQLite does not
// know would give it numeric affinity and mangle a timestamp).
func (s *Store) castArg(typ string) string {
	if s.dialect == Postgres {
		return "CAST(? AS " + typ + ")"
	}
	return "?"
}

// execRows runs head + one (row) per entry + tail: on PostgreSQL in as
// few statements as the parameter limit allows (a round trip each); on
// SQLite, which has no round trips but parses a long statement at a cost
// that outweighs executing it, as one prepared statement run per row.
func (p *ProcessTx) execRows(head, row, tail string, width int, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	if p.s.dialect != Postgres {
		st, err := p.stmt(head + row + tail)
		if err != nil {
			return err
		}
		for _, r := range rows {
			if _, err := st.ExecContext(p.ctx, r...); err != nil {
				return err
			}
		}
		return nil
	}
	for query, args := range rowStatements(head, row, tail, width, rowsChunk(width), rows) {
		if _, err := p.tx.ExecContext(p.ctx, p.s.q(query), args...); err != nil {
			return err
		}
	}
	return nil
}

// rowStatements yields head + up to chunk (row)s + tail with their
// arguments, for each chunk of rows.
func rowStatements(head, row, tail string, width, chunk int, rows [][]any) iter.Seq2[string, []any] {
	return func(yield func(string, []any) bool) {
		for len(rows) > 0 {
			part := rows[:min(chunk, len(rows))]
			rows = rows[len(part):]
			var b strings.Builder
			b.WriteString(head)
			args := make([]any, 0, width*len(part))
			for i, r := range part {
				if i > 0 {
					b.WriteString(", ")
				}
				b.WriteString(row)
				args = append(args, r...)
			}
			b.WriteString(tail)
			if !yield(b.String(), args) {
				return
			}
		}
	}
}

// queryIDs is execRows for a statement that returns ids, and returns them.
func (p *ProcessTx) queryIDs(head, row, tail string, width int, rows [][]any) ([]int64, error) {
	var ids []int64
	chunk := rowsChunk(width)
	if p.s.dialect != Postgres {
		chunk = 1 // see execRows
	}
	for query, args := range rowStatements(head, row, tail, width, chunk, rows) {
		got, err := scanAll(p.ctx, p.s, p.tx, query, args, scanValue[int64])
		if err != nil {
			return nil, err
		}
		ids = append(ids, got...)
	}
	return ids, nil
}

// nextID reserves an id for a new row of table (persons or accounts).
// PostgreSQL hands out blocks of its sequence; SQLite, whose one writer
// this transaction holds, counts on from the largest id.
func (p *ProcessTx) nextID(table string) (int64, error) {
	pool := p.ids[table]
	if len(pool) == 0 {
		n := 64 << min(p.idRounds[table], 4)
		p.idRounds[table]++
		if p.s.dialect == Postgres {
			var err error
			if pool, err = scanAll(p.ctx, p.s, p.tx, "SELECT nextval(pg_get_serial_sequence(?, 'id')) FROM generate_series(1, ?)", []any{table, n}, scanValue[int64]); err != nil {
				return 0, err
			}
		} else {
			last, ok := p.lastID[table]
			if !ok {
				if err := p.tx.QueryRowContext(p.ctx, "SELECT COALESCE(MAX(id), 0) FROM "+table).Scan(&last); err != nil {
					return 0, err
				}
			}
			for i := range n {
				pool = append(pool, last+int64(i)+1)
			}
			p.lastID[table] = last + int64(n)
		}
	}
	id := pool[0]
	p.ids[table] = pool[1:]
	return id, nil
}

// loadPersons reads the rows and identifiers of the persons not yet in the
// batch's cache, a few hundred per query.
func (p *ProcessTx) loadPersons(ids []int64) error {
	var want []int64
	seen := map[int64]bool{}
	for _, id := range ids {
		if _, ok := p.people[id]; !ok && id != 0 && !seen[id] {
			seen[id] = true
			want = append(want, id)
		}
	}
	const chunk = 400
	for len(want) > 0 {
		part := want[:min(chunk, len(want))]
		want = want[len(part):]
		in, args := inList("id", part)
		err := p.s.eachOn(p.ctx, p.tx, `SELECT id, COALESCE(account_id, 0), stage, email, name, title, phone, traits,
			COALESCE(merged_into_id, 0), first_seen_at, (SELECT MIN(t.occurred_at) FROM touchpoints t WHERE t.person_id = persons.id)
			FROM persons WHERE `+in, args, func(r *sql.Rows) error {
			bp := &batchPerson{identsLoaded: true}
			var stage, traits string
			var first storedTime // an aggregate: SQLite gives it as text
			if err := r.Scan(&bp.state.ID, &bp.state.AccountID, &stage, &bp.state.Email, &bp.state.Name, &bp.state.Title, &bp.state.Phone,
				&traits, &bp.mergedInto, &bp.firstSeen, &first); err != nil {
				return err
			}
			if !first.t.IsZero() {
				t := utc(first.t)
				bp.firstTouchAt = &t
			}
			bp.state.Stage = model.Stage(stage)
			bp.traits = parseTraits(traits)
			p.people[bp.state.ID] = bp
			return nil
		})
		if err != nil {
			return err
		}
		in, _ = inList("person_id", part)
		idents, err := scanAll(p.ctx, p.s, p.tx, `SELECT person_id, type, value, created_at FROM identities
			WHERE `+in+` ORDER BY created_at, type, value`, args, scanIdentity)
		if err != nil {
			return err
		}
		for _, i := range idents {
			if bp := p.people[i.PersonID]; bp != nil {
				bp.idents = append(bp.idents, i)
			}
		}
	}
	return nil
}

func parseTraits(s string) map[string]any {
	m := map[string]any{}
	if s != "" && s != "{}" {
		_ = json.Unmarshal([]byte(s), &m)
	}
	return m
}

// cachedPerson is the batch's copy of a person, read when first asked
// for; nil (and ErrNotFound) for a person that does not exist.
func (p *ProcessTx) cachedPerson(id int64) (*batchPerson, error) {
	if bp, ok := p.people[id]; ok {
		return bp, nil
	}
	if err := p.loadPersons([]int64{id}); err != nil {
		return nil, err
	}
	bp, ok := p.people[id]
	if !ok {
		return nil, fmt.Errorf("person %d: %w", id, ErrNotFound)
	}
	return bp, nil
}

// forget drops persons from the cache, after something wrote them
// directly (a merge).
func (p *ProcessTx) forget(ids ...int64) {
	for _, id := range ids {
		delete(p.people, id)
	}
}

// PrefetchAccountDomains reads which account holds each of the (lower-case)
// business domains, so that AccountByDomain answers them without a round
// trip.
func (p *ProcessTx) PrefetchAccountDomains(domains []string) error {
	var want []any
	seen := map[string]bool{}
	for _, d := range domains {
		if _, ok := p.byDomain[d]; !ok && d != "" && !seen[d] {
			seen[d] = true
			want = append(want, d)
		}
	}
	const chunk = 400
	for len(want) > 0 {
		part := want[:min(chunk, len(want))]
		want = want[len(part):]
		for _, d := range part {
			p.byDomain[d.(string)] = 0
		}
		in := strings.TrimSuffix(strings.Repeat("?,", len(part)), ",")
		err := p.s.eachOn(p.ctx, p.tx, `SELECT domain, MIN(id) FROM accounts WHERE domain IN (`+in+`) GROUP BY domain`, part, func(r *sql.Rows) error {
			var d string
			var id int64
			if err := r.Scan(&d, &id); err != nil {
				return err
			}
			p.byDomain[d] = id
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// flush writes everything the batch has kept in memory, in an order that
// satisfies the foreign keys. Its errors are errDeferred.
func (p *ProcessTx) flush() error {
	steps := []struct {
		what string
		fn   func() error
	}{
		{"write accounts", p.flushAccounts},
		{"write persons", p.flushNewPersons},
		{"write identifiers", p.flushIdentities},
		{"update persons", p.flushPersonUpdates},
		{"write events", p.flushProcessed}, // before the touchpoints that refer to them
		{"write touchpoints", p.flushTouches},
		{"move stages", p.flushMoves},
		{"start journeys", p.flushJourneys},
	}
	for _, st := range steps {
		if err := st.fn(); err != nil {
			p.reset()
			return errDeferred{fmt.Errorf("%s: %w", st.what, err)}
		}
	}
	return nil
}

// flushForDirectWrite writes what the batch holds, and the event being
// processed, before a statement that writes rows directly (a merge, a
// conflict).
func (p *ProcessTx) flushForDirectWrite() error {
	if err := p.flush(); err != nil {
		return err
	}
	if err := p.storeCurrentEvent(); err != nil {
		return errDeferred{fmt.Errorf("write event: %w", err)}
	}
	return nil
}

// reset drops what a failed flush left pending; the batch is rolled back.
func (p *ProcessTx) reset() {
	p.newAccounts, p.accountOrder, p.newPersons, p.newIdents = nil, nil, nil, nil
	p.touches, p.refresh, p.moves, p.done = nil, nil, nil, nil
	p.journeyEvents = nil
}

func (p *ProcessTx) flushAccounts() error {
	var inserts, updates [][]any
	for _, id := range p.accountOrder {
		a := p.newAccounts[id]
		if a.isNew {
			inserts = append(inserts, []any{a.id, clip(a.name, 200), a.domain, clip(orElse(a.industry, a.fillIndustry), 200), a.fillEmployees,
				clip(a.groupID, 200), clip(a.plan, 100), p.now})
		} else {
			updates = append(updates, []any{a.id, clip(a.name, 200), a.domain, clip(a.industry, 200), clip(a.groupID, 200),
				clip(a.fillIndustry, 200), a.fillEmployees, clip(a.plan, 100)})
		}
	}
	p.newAccounts, p.accountOrder = map[int64]*pendingAccount{}, nil
	if err := p.execRows("INSERT INTO accounts (id, name, domain, industry, employees, group_id, plan, created_at) VALUES ", "(?, ?, ?, ?, ?, ?, ?, ?)", "", 8, inserts); err != nil {
		return err
	}
	// What a group call sent overwrites (empty values are left as they
	// are); the group id is claimed only by an account that has none; a
	// person's company traits fill what is empty. Accounts whose fields
	// changed have their persons rescored (fit rules read them).
	changed, err := p.queryIDs("WITH v (id, name, domain, industry, group_id, fill_industry, fill_employees, plan) AS (VALUES ",
		"(CAST(? AS BIGINT), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS BIGINT), CAST(? AS TEXT))",
		`), n AS (SELECT a.id,
			CASE WHEN v.name <> '' THEN v.name ELSE a.name END AS name,
			CASE WHEN v.domain <> '' THEN v.domain ELSE a.domain END AS domain,
			CASE WHEN v.industry <> '' THEN v.industry WHEN a.industry = '' THEN v.fill_industry ELSE a.industry END AS industry,
			CASE WHEN a.employees = 0 THEN v.fill_employees ELSE a.employees END AS employees,
			CASE WHEN a.group_id = '' THEN v.group_id ELSE a.group_id END AS group_id,
			CASE WHEN v.plan <> '' THEN v.plan ELSE a.plan END AS plan
			FROM v JOIN accounts a ON a.id = v.id)
		UPDATE accounts SET name = n.name, domain = n.domain, industry = n.industry, employees = n.employees, group_id = n.group_id, plan = n.plan
		FROM n WHERE accounts.id = n.id AND (accounts.name <> n.name OR accounts.domain <> n.domain OR accounts.industry <> n.industry
			OR accounts.employees <> n.employees OR accounts.group_id <> n.group_id OR accounts.plan <> n.plan)
		RETURNING accounts.id`, 8, updates)
	if err != nil {
		return err
	}
	return recordAccountChanges(p.ctx, p.s, p.tx, changed, p.now)
}

func (p *ProcessTx) flushNewPersons() error {
	if len(p.newPersons) == 0 {
		return nil
	}
	// A new person's first touch comes with the row itself, and so do its
	// stage moves: the row is written in the stage they took it to, with
	// their history rows.
	first := earliestTouches(p.touches)
	type moved struct {
		stage           model.Stage
		stageAt, leadAt any
	}
	stages := map[int64]*moved{}
	var changes [][]any
	var newMoves []model.StageMove
	kept := p.moves[:0]
	for _, m := range p.moves {
		bp := p.people[m.PersonID]
		if bp == nil || !bp.isNew {
			kept = append(kept, m)
			continue
		}
		st := stages[m.PersonID]
		if st == nil {
			st = &moved{}
			stages[m.PersonID] = st
		}
		st.stage, st.stageAt = m.To, utc(m.At)
		if st.leadAt == nil {
			st.leadAt = leadAtOf(m)
		}
		changes = append(changes, stageChangeArgs(m))
		newMoves = append(newMoves, m)
	}
	p.moves = kept
	rows := make([][]any, 0, len(p.newPersons))
	for _, id := range p.newPersons {
		bp := p.people[id]
		if bp == nil {
			continue
		}
		bp.isNew, bp.profileDirty, bp.traitsDirty, bp.accountDirty = false, false, false, false
		firstSeen := utc(bp.firstSeen)
		var channel string
		var campaign any
		if t, ok := first[id]; ok {
			at := utc(t.tp.OccurredAt)
			bp.firstTouchAt = &at
			channel, campaign = string(t.tp.Channel), nullID(t.tp.CampaignID)
			if at.Before(firstSeen) {
				firstSeen = at
			}
		}
		stage, stageAt, leadAt := string(model.StageVisitor), any(nil), any(nil)
		if st, ok := stages[id]; ok {
			stage, stageAt, leadAt = string(st.stage), st.stageAt, st.leadAt
		}
		rows = append(rows, []any{id, nullID(bp.state.AccountID), clip(bp.state.Name, 200), clip(bp.state.Title, 200), bp.state.Email, bp.state.Phone,
			traitsJSON(bp.traits), stage, stageAt, leadAt, firstSeen, channel, campaign, p.now})
	}
	p.newPersons = nil
	if p.conn != nil {
		if err := p.copyRows("persons", []string{"id", "account_id", "name", "title", "email", "phone", "traits", "stage", "stage_at", "lead_at",
			"first_seen_at", "first_touch_channel", "first_touch_campaign", "created_at"}, rows); err != nil {
			return err
		}
		rows = nil
	}
	if err := p.execRows(`INSERT INTO persons (id, account_id, name, title, email, phone, traits, stage, stage_at, lead_at,
		first_seen_at, first_touch_channel, first_touch_campaign, created_at) VALUES `,
		"(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", "", 14, rows); err != nil {
		return err
	}
	if err := writeStageChanges(p.execRows, changes); err != nil {
		return err
	}
	return enterOnStages(p.ctx, p.s, p.tx, newMoves)
}

func traitsJSON(m map[string]any) string {
	if len(m) == 0 {
		return "{}"
	}
	b, err := json.Marshal(m)
	if err != nil {
		return "{}"
	}
	return string(b)
}

func (p *ProcessTx) flushIdentities() error {
	rows := make([][]any, len(p.newIdents))
	for i, id := range p.newIdents {
		rows[i] = []any{string(id.Type), id.Value, id.PersonID, utc(id.CreatedAt)}
	}
	p.newIdents = nil
	return p.execRows("INSERT INTO identities (type, value, person_id, created_at) VALUES ", "(?, ?, ?, ?)",
		" ON CONFLICT (type, value) DO NOTHING", 4, rows)
}

// flushPersonUpdates writes the profile fields, traits and accounts the
// batch changed on persons that existed before it, then gives their
// touchpoints the new account.
func (p *ProcessTx) flushPersonUpdates() error {
	var profiles, traits, accounts [][]any
	var moved, traitChanges []int64
	for id, bp := range p.people {
		if bp.isNew {
			continue
		}
		if bp.profileDirty {
			profiles = append(profiles, []any{id, clip(bp.state.Name, 200), clip(bp.state.Title, 200), bp.state.Email, bp.state.Phone})
		}
		if bp.traitsDirty {
			traits = append(traits, []any{id, traitsJSON(bp.traits)})
			traitChanges = append(traitChanges, id)
		}
		if bp.accountDirty {
			accounts = append(accounts, []any{id, bp.state.AccountID, bp.override})
			moved = append(moved, id)
		}
		bp.profileDirty, bp.traitsDirty, bp.accountDirty, bp.override = false, false, false, false
	}
	if err := p.execRows("WITH v (id, name, title, email, phone) AS (VALUES ",
		"(CAST(? AS BIGINT), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT))",
		`) UPDATE persons SET name = CASE WHEN persons.name = '' THEN v.name ELSE persons.name END,
			title = CASE WHEN persons.title = '' THEN v.title ELSE persons.title END,
			email = CASE WHEN persons.email = '' THEN v.email ELSE persons.email END,
			phone = CASE WHEN persons.phone = '' THEN v.phone ELSE persons.phone END
		FROM v WHERE persons.id = v.id`, 5, profiles); err != nil {
		return err
	}
	if err := p.execRows("WITH v (id, traits) AS (VALUES ", "(CAST(? AS BIGINT), CAST(? AS TEXT))",
		") UPDATE persons SET traits = v.traits FROM v WHERE persons.id = v.id", 2, traits); err != nil {
		return err
	}
	if err := p.execRows("WITH v (id, account_id, override) AS (VALUES ", "(CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS BOOLEAN))",
		`) UPDATE persons SET account_id = v.account_id FROM v WHERE persons.id = v.id AND (v.override OR persons.account_id IS NULL)`,
		3, accounts); err != nil {
		return err
	}
	// Scores and credits of these persons are recomputed on their next
	// runs, whether or not an event of theirs is new there.
	if err := recordPersonChanges(p.ctx, p.s, p.tx, traitChanges, ChangeTraits, p.now); err != nil {
		return err
	}
	if err := recordPersonChanges(p.ctx, p.s, p.tx, moved, ChangeAccount, p.now); err != nil {
		return err
	}
	// Touchpoints carry the account for account-level reports.
	for len(moved) > 0 {
		part := moved[:min(400, len(moved))]
		moved = moved[len(part):]
		in, args := inList("person_id", part)
		if _, err := p.tx.ExecContext(p.ctx, p.s.q(`UPDATE touchpoints SET account_id = (SELECT account_id FROM persons WHERE persons.id = touchpoints.person_id)
			WHERE `+in), args...); err != nil {
			return err
		}
	}
	return nil
}

// flushMoves applies the stage moves of persons stored before the batch,
// where they are still in the stage each move starts from, with their
// history rows.
func (p *ProcessTx) flushMoves() error {
	moves := p.moves
	p.moves = nil
	_, err := applyStageMoves(p.ctx, p.s, p.tx, p.execRows, moves)
	return err
}
