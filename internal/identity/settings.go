package identity

import (
	"context"

	"github.com/revloop/revloop/internal/store"
)

// PhoneRegion reads the phone region setting: the region of numbers
// without a country code (DefaultPhoneRegion when unset).
func PhoneRegion(ctx context.Context, s *store.Store) (string, error) {
	region := DefaultPhoneRegion
	if _, err := s.Setting(ctx, PhoneRegionSetting, &region); err != nil {
		return "", err
	}
	return region, nil
}
