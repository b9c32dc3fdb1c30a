package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/revloop/revloop/internal/model"
)

// MoveStages applies moves in one transaction and reports which were
// applied (a move whose person is no longer in From is skipped). Each
// applied move updates the person's stage and stage time, sets lead_at the
// first time the person reaches lead or later, and writes a stage change.
func (s *Store) MoveStages(ctx context.Context, moves []model.StageMove) ([]bool, error) {
	applied := make([]bool, len(moves))
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		applied, err = moveStagesTx(ctx, s, tx, moves)
		return err
	})
	return applied, err
}

// moveStagesTx is MoveStages inside a caller's transaction.
func moveStagesTx(ctx context.Context, s *Store, tx *sql.Tx, moves []model.StageMove) ([]bool, error) {
	applied := make([]bool, len(moves))
	lead := model.StageLead.Rank()
	for i, m := range moves {
		var leadAt any
		if m.To.Rank() >= lead {
			leadAt = utc(m.At)
		}
		res, err := tx.ExecContext(ctx, s.q(`UPDATE persons SET stage = ?, stage_at = ?, lead_at = COALESCE(lead_at, ?)
			WHERE id = ? AND stage = ? AND merged_into_id IS NULL`),
			string(m.To), utc(m.At), leadAt, m.PersonID, string(m.From))
		if err != nil {
			return nil, err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			continue
		}
		var version any
		if m.RuleVersion != 0 {
			version = m.RuleVersion
		}
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO stage_changes (person_id, from_stage, to_stage, changed_at, reason, actor, rule_version)
			VALUES (?, ?, ?, ?, ?, ?, ?)`), m.PersonID, string(m.From), string(m.To), utc(m.At), clip(m.Reason, 500), clip(m.Actor, 200), version); err != nil {
			return nil, err
		}
		applied[i] = true
	}
	return applied, nil
}

// StageHistory returns a person's stage changes, oldest first.
func (s *Store) StageHistory(ctx context.Context, personID int64) ([]model.StageChange, error) {
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT person_id, from_stage, to_stage, changed_at, reason, actor, COALESCE(rule_version, 0)
		FROM stage_changes WHERE person_id = ? ORDER BY changed_at, id`), personID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []model.StageChange
	for rows.Next() {
		var c model.StageChange
		var from, to string
		if err := rows.Scan(&c.PersonID, &from, &to, &c.ChangedAt, &c.Reason, &c.Actor, &c.RuleVersion); err != nil {
			return nil, err
		}
		c.FromStage, c.ToStage, c.ChangedAt = model.Stage(from), model.Stage(to), c.ChangedAt.UTC()
		out = append(out, c)
	}
	return out, rows.Err()
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

// stageRankSQL is a CASE expression that gives the stage in col its
// position in the lifecycle order (model.Stage.Rank: visitor 0, ...,
// customer 6), or -1 for the side states and unknown stages. It is
// built from model.LifecycleStages, so SQL ranks stages by the same one
// order as Go.
func stageRankSQL(col string) string {
	var b strings.Builder
	b.WriteString("CASE " + col)
	for _, st := range model.LifecycleStages {
		fmt.Fprintf(&b, " WHEN '%s' THEN %d", st, st.Rank())
	}
	b.WriteString(" ELSE -1 END")
	return b.String()
}
