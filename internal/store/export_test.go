package store

import (
	"context"

	"github.com/revloop/revloop/internal/model"
)

// ExecForTest runs a statement on the writer, for tests that need to set up
// states the API does not allow.
func (s *Store) ExecForTest(ctx context.Context, query string, args ...any) error {
	_, err := s.w.ExecContext(ctx, s.q(query), args...)
	return err
}

// MigrateDownForTest undoes the migrations after version, so that a test
// can load data as an older revloop left it and migrate up again.
func (s *Store) MigrateDownForTest(ctx context.Context, version int64) error {
	p, err := s.provider()
	if err != nil {
		return err
	}
	_, err = p.DownTo(ctx, version)
	return err
}

// SetSearchCapsForTest replaces searchCandidateCap and searchAccountsInline,
// so that a test reaches each way a search can go with little data.
func (s *Store) SetSearchCapsForTest(candidates, accountsInline int) {
	s.searchCaps = &[2]int{candidates, accountsInline}
}

// CampaignLeadsReadFor reads CampaignLeads as it does for more campaigns
// than byMembers (from the window's leads) or fewer (from the members).
func (s *Store) CampaignLeadsReadFor(ctx context.Context, ids []int64, w model.Window, byMembers int) ([]CampaignLead, error) {
	return s.campaignLeads(ctx, ids, w, byMembers)
}
