// Package privacy holds what revloop does for people's rights over their
// data (PIPL, GDPR) that runs in the background: the retention of raw
// event payloads, and the anonymisation of addresses stored before
// collector.anonymize_ip was turned on. Erasure, export and consent are
// the store's (store.ErasePerson, ExportPerson, SetConsents). See
// docs/privacy.md.
package privacy

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/revloop/revloop/internal/collect"
	"github.com/revloop/revloop/internal/store"
)

// Privacy settings (store.Setting keys, JSON values).
const (
	// SettingRetentionDays (integer, 0 = keep forever) is how long the
	// payloads of processed raw events are kept.
	SettingRetentionDays = "collector.retention_days"
	// settingAnonymizePending (anonymizePending) is the stored events
	// whose addresses are still to be anonymised.
	settingAnonymizePending = "privacy.anonymize_pending"
)

// MaxRetentionDays bounds the retention setting (about 100 years).
const MaxRetentionDays = 36500

// Maintain strips the payloads of processed raw events older than the
// retention, and anonymises addresses stored before
// collector.anonymize_ip was turned on (resuming where the last run
// stopped). It runs hourly and after the setting was turned on.
func Maintain(ctx context.Context, s *store.Store, now time.Time, log *slog.Logger) error {
	var errs []error
	var days int
	if _, err := s.Setting(ctx, SettingRetentionDays, &days); err != nil {
		errs = append(errs, err)
	} else if days > 0 {
		n, err := s.StripOldPayloads(ctx, now.AddDate(0, 0, -days))
		if err != nil {
			errs = append(errs, err)
		} else if n > 0 {
			log.Info("retention: raw event payloads stripped", "events", n, "older_than_days", days)
		}
	}
	if err := anonymizeStored(ctx, s, log); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// anonymizePending is how far the rewrite of stored addresses has got:
// events with ids in (After, UpTo] are still to be anonymised.
type anonymizePending struct {
	After int64 `json:"after"`
	UpTo  int64 `json:"up_to"`
}

// AnonymizeStored records that the addresses of every event stored so far
// are to be anonymised (collector.anonymize_ip was just turned on; later
// events arrive anonymised). Maintain does the work.
func AnonymizeStored(ctx context.Context, s *store.Store) error {
	upTo, err := s.MaxEventID(ctx)
	if err != nil {
		return err
	}
	return s.SetSetting(ctx, settingAnonymizePending, anonymizePending{UpTo: upTo})
}

// anonymizeStored anonymises the addresses of the events stored before
// collector.anonymize_ip was last turned on, resuming where the last run
// stopped.
func anonymizeStored(ctx context.Context, s *store.Store, log *slog.Logger) error {
	var on bool
	if _, err := s.Setting(ctx, collect.SettingAnonymizeIP, &on); err != nil || !on {
		return err
	}
	var p anonymizePending
	if _, err := s.Setting(ctx, settingAnonymizePending, &p); err != nil || p.After >= p.UpTo {
		return err
	}
	last, n, err := s.AnonymizeStoredIPs(ctx, p.After, p.UpTo, collect.AnonymizeIP)
	if last != p.After {
		p.After = last
		if serr := s.SetSetting(ctx, settingAnonymizePending, p); serr != nil && err == nil {
			err = serr
		}
	}
	if n > 0 {
		log.Info("stored client addresses anonymised", "events", n)
	}
	return err
}
