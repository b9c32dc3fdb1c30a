package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/revloop/revloop/internal/model"
)

// ruleSetTable is the table of a kind's versions (channel_rule_sets,
// scoring_rule_sets, ...), each of the same shape: id (the version), rules,
// created_by, created_at.
func ruleSetTable(k model.RuleSetKind) (string, error) {
	switch k {
	case model.ChannelRuleSets, model.ScoringRuleSets, model.RoutingRuleSets, model.LifecycleRuleSets:
		return string(k) + "_rule_sets", nil
	}
	return "", fmt.Errorf("unknown rule set kind %q", k)
}

// ActiveRuleSet returns the rule set in force, or ErrNotFound when none
// was ever saved and the owner's defaults apply.
func (s *Store) ActiveRuleSet(ctx context.Context, kind model.RuleSetKind) (model.RuleSet, error) {
	return s.ruleSet(ctx, kind, "ORDER BY id DESC LIMIT 1")
}

// RuleSetVersion returns one version, or ErrNotFound.
func (s *Store) RuleSetVersion(ctx context.Context, kind model.RuleSetKind, version int64) (model.RuleSet, error) {
	return s.ruleSet(ctx, kind, "WHERE id = ?", version)
}

func (s *Store) ruleSet(ctx context.Context, kind model.RuleSetKind, where string, args ...any) (model.RuleSet, error) {
	var rs model.RuleSet
	table, err := ruleSetTable(kind)
	if err != nil {
		return rs, err
	}
	var raw string
	err = s.r.QueryRowContext(ctx, s.q("SELECT id, rules, created_by, created_at FROM "+table+" "+where), args...).
		Scan(&rs.Version, &raw, &rs.CreatedBy, &rs.CreatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return rs, ErrNotFound
	}
	rs.Rules, rs.CreatedAt = []byte(raw), rs.CreatedAt.UTC()
	return rs, err
}

// RuleSetHistory lists every stored version, newest first, without the
// rules themselves.
func (s *Store) RuleSetHistory(ctx context.Context, kind model.RuleSetKind) ([]model.RuleSet, error) {
	table, err := ruleSetTable(kind)
	if err != nil {
		return nil, err
	}
	var out []model.RuleSet
	err = s.each(ctx, "SELECT id, created_by, created_at FROM "+table+" ORDER BY id DESC", nil, func(r *sql.Rows) error {
		var rs model.RuleSet
		if err := r.Scan(&rs.Version, &rs.CreatedBy, &rs.CreatedAt); err != nil {
			return err
		}
		rs.CreatedAt = rs.CreatedAt.UTC()
		out = append(out, rs)
		return nil
	})
	return out, err
}

// SaveRuleSet stores a new version in force and returns it. When seed is
// not nil and no version was ever stored, seed (the owner's defaults,
// which count as version 1 until then) is stored first, so that version 1
// keeps meaning what it meant to the rows that name it.
func (s *Store) SaveRuleSet(ctx context.Context, kind model.RuleSetKind, rules []byte, by string, at time.Time, seed []byte) (model.RuleSet, error) {
	rs := model.RuleSet{Rules: rules, CreatedBy: clip(by, 200), CreatedAt: utc(at)}
	table, err := ruleSetTable(kind)
	if err != nil {
		return rs, err
	}
	insert := "INSERT INTO " + table + " (rules, created_by, created_at) VALUES (?, ?, ?)"
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		if seed != nil {
			var n int64
			if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+table).Scan(&n); err != nil {
				return err
			}
			if n == 0 {
				if _, err := s.insertID(ctx, tx, insert, string(seed), "default", rs.CreatedAt); err != nil {
					return err
				}
			}
		}
		var err error
		rs.Version, err = s.insertID(ctx, tx, insert, string(rules), rs.CreatedBy, rs.CreatedAt)
		return err
	})
	return rs, err
}
