package store

import (
	"context"
	"database/sql"
	"strings"

	"github.com/revloop/revloop/internal/model"
)

// Stage moves are written by one piece of code whoever decided them:
// Store.MoveStages (people, lifecycle rules, scoring, routing), the CRM's
// moves of opportunity contacts (inside the transaction that wrote the
// opportunity), and event processing's leads (ProcessTx.MoveStage, written
// with the rest of the batch). An applied move sets the person's stage and
// stage time, sets lead_at the first time the person reaches lead or
// later, and leaves one stage_changes row with its actor, reason and rule
// version.

// MoveStages applies moves in one transaction and reports which were
// applied (a move whose person is no longer in From is skipped).
func (s *Store) MoveStages(ctx context.Context, moves []model.StageMove) ([]bool, error) {
	applied := make([]bool, len(moves))
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		applied, err = applyStageMoves(ctx, s, tx, txRows(ctx, s, tx), moves)
		return err
	})
	return applied, err
}

// rowsWriter runs head + one (row) per entry + tail in as few statements
// as suit the engine: ProcessTx.execRows inside a processing batch,
// txRows elsewhere.
type rowsWriter func(head, row, tail string, width int, rows [][]any) error

// txRows is a rowsWriter on tx: multi-row statements, as many rows as
// the parameter limit allows.
func txRows(ctx context.Context, s *Store, tx *sql.Tx) rowsWriter {
	return func(head, row, tail string, width int, rows [][]any) error {
		for query, args := range rowStatements(head, row, tail, width, rowsChunk(width), rows) {
			if _, err := tx.ExecContext(ctx, s.q(query), args...); err != nil {
				return err
			}
		}
		return nil
	}
}

// applyStageMoves applies moves inside tx, in order, and reports which
// were applied: a move applies only while its person (not merged) is still
// in From. The persons are updated in multi-row statements, each over
// distinct persons, so that a person's later move sees its earlier one;
// writeRows writes the history rows.
func applyStageMoves(ctx context.Context, s *Store, tx *sql.Tx, writeRows rowsWriter, moves []model.StageMove) ([]bool, error) {
	applied := make([]bool, len(moves))
	chunk := rowsChunk(5)
	for start := 0; start < len(moves); {
		// The chunk ends before a person's second move or at the size limit.
		end, persons := start, map[int64]int{}
		for end < len(moves) && end-start < chunk {
			if _, dup := persons[moves[end].PersonID]; dup {
				break
			}
			persons[moves[end].PersonID] = end
			end++
		}
		var b strings.Builder
		b.WriteString("WITH v (id, from_stage, to_stage, at, lead_at) AS (VALUES ")
		args := make([]any, 0, 5*(end-start))
		for i, m := range moves[start:end] {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(CAST(? AS BIGINT), CAST(? AS TEXT), CAST(? AS TEXT), " + s.castArg("TIMESTAMPTZ") + ", " + s.castArg("TIMESTAMPTZ") + ")")
			args = append(args, m.PersonID, string(m.From), string(m.To), utc(m.At), leadAtOf(m))
		}
		b.WriteString(`) UPDATE persons SET stage = v.to_stage, stage_at = v.at, lead_at = COALESCE(persons.lead_at, v.lead_at)
			FROM v WHERE persons.id = v.id AND persons.stage = v.from_stage AND persons.merged_into_id IS NULL RETURNING persons.id`)
		err := s.eachOn(ctx, tx, b.String(), args, func(r *sql.Rows) error {
			var id int64
			if err := r.Scan(&id); err != nil {
				return err
			}
			applied[persons[id]] = true
			return nil
		})
		if err != nil {
			return nil, err
		}
		start = end
	}
	var history [][]any
	var deciding []int64
	var moved []model.StageMove
	for i, m := range moves {
		if applied[i] {
			moved = append(moved, m)
			history = append(history, stageChangeArgs(m))
			if decisionMove(m.From, m.To) {
				deciding = append(deciding, m.PersonID)
			}
		}
	}
	if err := writeStageChanges(writeRows, history); err != nil {
		return nil, err
	}
	if err := enterOnStages(ctx, s, tx, moved); err != nil {
		return nil, err
	}
	return applied, s.settleDecisionOwners(ctx, tx, true, deciding...)
}

// writeStageChanges writes stage_changes rows of stageChangeArgs.
func writeStageChanges(writeRows rowsWriter, rows [][]any) error {
	return writeRows(`INSERT INTO stage_changes (person_id, from_stage, to_stage, changed_at, reason, actor, rule_version) VALUES `,
		"(?, ?, ?, ?, ?, ?, ?)", "", 7, rows)
}

// stageChangeArgs is the history row of an applied move.
func stageChangeArgs(m model.StageMove) []any {
	var version any
	if m.RuleVersion != 0 {
		version = m.RuleVersion
	}
	return []any{m.PersonID, string(m.From), string(m.To), utc(m.At), clip(m.Reason, 500), clip(m.Actor, 200), version}
}

// leadAtOf is the lead time a move gives a person who has none yet: the
// move's time when it reaches lead or a later stage, else none.
func leadAtOf(m model.StageMove) any {
	if m.To.Rank() >= model.StageLead.Rank() {
		return utc(m.At)
	}
	return nil
}

// StageHistory returns a person's stage changes, oldest first.
func (s *Store) StageHistory(ctx context.Context, personID int64) ([]model.StageChange, error) {
	return scanAll(ctx, s, s.r, `SELECT person_id, from_stage, to_stage, changed_at, reason, actor, COALESCE(rule_version, 0)
		FROM stage_changes WHERE person_id = ? ORDER BY changed_at, id`, []any{personID}, func(r rowScanner) (model.StageChange, error) {
		var c model.StageChange
		var from, to string
		err := r.Scan(&c.PersonID, &from, &to, &c.ChangedAt, &c.Reason, &c.Actor, &c.RuleVersion)
		c.FromStage, c.ToStage, c.ChangedAt = model.Stage(from), model.Stage(to), c.ChangedAt.UTC()
		return c, err
	})
}

// stageList is "?, ?, ?" and its arguments; an empty list matches nothing.
func stageList(stages []model.Stage) (string, []any) {
	if len(stages) == 0 {
		return "NULL", nil
	}
	args := make([]any, len(stages))
	for i, st := range stages {
		args[i] = string(st)
	}
	return strings.TrimSuffix(strings.Repeat("?, ", len(stages)), ", "), args
}
