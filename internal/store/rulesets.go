package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// RuleSetKind names one kind of versioned rule set. Each kind has its own
// table (channel_rule_sets, scoring_rule_sets, ...) of the same shape: id
// (the version), rules (JSON validated by the owning package before it is
// saved), created_by, created_at. The newest row is in force; older rows
// are history.
type RuleSetKind string

const (
	ChannelRuleSets   RuleSetKind = "channel"
	ScoringRuleSets   RuleSetKind = "scoring"
	RoutingRuleSets   RuleSetKind = "routing"
	LifecycleRuleSets RuleSetKind = "lifecycle"
)

func (k RuleSetKind) table() (string, error) {
	switch k {
	case ChannelRuleSets, ScoringRuleSets, RoutingRuleSets, LifecycleRuleSets:
		return string(k) + "_rule_sets", nil
	}
	return "", fmt.Errorf("unknown rule set kind %q", k)
}

// RuleSet is one stored version of a rule set.
type RuleSet struct {
	Version   int64
	Rules     []byte // nil in RuleSetHistory
	CreatedBy string
	CreatedAt time.Time
}

// ActiveRuleSet returns the rule set in force, or ErrNotFound when none
// was ever saved and the owner's defaults apply.
func (s *Store) ActiveRuleSet(ctx context.Context, kind RuleSetKind) (RuleSet, error) {
	return s.ruleSet(ctx, kind, "ORDER BY id DESC LIMIT 1")
}

// RuleSetVersion returns one version, or ErrNotFound.
func (s *Store) RuleSetVersion(ctx context.Context, kind RuleSetKind, version int64) (RuleSet, error) {
	return s.ruleSet(ctx, kind, "WHERE id = ?", version)
}

func (s *Store) ruleSet(ctx context.Context, kind RuleSetKind, where string, args ...any) (RuleSet, error) {
	var rs RuleSet
	table, err := kind.table()
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
func (s *Store) RuleSetHistory(ctx context.Context, kind RuleSetKind) ([]RuleSet, error) {
	table, err := kind.table()
	if err != nil {
		return nil, err
	}
	var out []RuleSet
	err = s.each(ctx, "SELECT id, created_by, created_at FROM "+table+" ORDER BY id DESC", nil, func(r *sql.Rows) error {
		var rs RuleSet
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
func (s *Store) SaveRuleSet(ctx context.Context, kind RuleSetKind, rules []byte, by string, at time.Time, seed []byte) (RuleSet, error) {
	rs := RuleSet{Rules: rules, CreatedBy: clip(by, 200), CreatedAt: utc(at)}
	table, err := kind.table()
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
