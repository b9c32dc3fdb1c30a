package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/revloop/revloop/internal/model"
)

// Setting reads a run-time setting into v (JSON). It reports whether the
// setting exists; a missing setting leaves v untouched.
func (s *Store) Setting(ctx context.Context, key string, v any) (bool, error) {
	var raw string
	err := s.r.QueryRowContext(ctx, s.q("SELECT value FROM settings WHERE key = ?"), key).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := json.Unmarshal([]byte(raw), v); err != nil {
		return false, fmt.Errorf("setting %s: %w", key, err)
	}
	return true, nil
}

// SetSetting stores a run-time setting as JSON.
func (s *Store) SetSetting(ctx context.Context, key string, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = s.w.ExecContext(ctx, s.q(`INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`), key, string(raw), utc(time.Now()))
	return err
}

// Calendar is the team's calendar: the time_zone setting, or
// model.DefaultTimeZone while none is set.
func (s *Store) Calendar(ctx context.Context) (model.Calendar, error) {
	name := model.DefaultTimeZone
	if _, err := s.Setting(ctx, model.SettingTimeZone, &name); err != nil {
		return model.Calendar{}, err
	}
	loc, err := model.LoadTimeZone(name)
	if err != nil {
		return model.Calendar{}, fmt.Errorf("setting %s: %w", model.SettingTimeZone, err)
	}
	return model.Calendar{Loc: loc}, nil
}
