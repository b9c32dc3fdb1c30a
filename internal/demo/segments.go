package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/segment"
	"github.com/revloop/revloop/internal/store"
)

// demoSegments are the segments a marketing team would keep: nurture
// audiences over persons and an ABM list over accounts.
var demoSegments = []struct{ name, description, kind, filter string }{
	{"白皮书高意向线索", "90 天内下载资料至少两次、仍在线索或 MQL 阶段、未拒绝邮件", model.SegmentPersons,
		`{"all":[{"field":"touch_type","op":"did","value":"content_download","min":2,"days":90},
		{"field":"stage","op":"in","value":["lead","mql"]},{"field":"consent.email","op":"ne","value":"denied"}]}`},
	{"华东制造业 MQL", "", model.SegmentPersons,
		`{"all":[{"field":"stage","op":"eq","value":"mql"},{"field":"account.region","op":"eq","value":"east"},
		{"field":"account.industry","op":"eq","value":"manufacturing"}]}`},
	{"沉睡线索", "线索或培育阶段，90 天内没有访问网站", model.SegmentPersons,
		`{"all":[{"field":"stage","op":"in","value":["lead","nurture"]},{"field":"touch_type","op":"did_not","value":"page_view","days":90}]}`},
	{"A 级客户 · 无进行中商机", "ABM：30 天内至少两人有互动、没有进行中的商机", model.SegmentAccounts,
		`{"all":[{"field":"tier","op":"eq","value":"A"},{"field":"engaged_people","op":"gte","value":2,"days":30},
		{"field":"open_opportunities","op":"eq","value":0}]}`},
}

// seedSegments saves the demo's segments and builds them as of asOf.
func seedSegments(ctx context.Context, s *store.Store, asOf time.Time) error {
	for _, d := range demoSegments {
		g, err := s.CreateSegment(ctx, model.Segment{Name: d.name, Description: d.description, Kind: d.kind, Filter: json.RawMessage(d.filter),
			CreatedBy: "demo"}, asOf)
		if err != nil {
			return fmt.Errorf("segment %s: %w", d.name, err)
		}
		if _, err := segment.Rebuild(ctx, s, g.ID, func() time.Time { return asOf }); err != nil {
			return fmt.Errorf("build segment %s: %w", d.name, err)
		}
	}
	return nil
}
