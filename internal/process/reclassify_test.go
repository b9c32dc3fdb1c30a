package process_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/revloop/revloop/internal/channel"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/process"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

// TestPreviewReclassifyCountsWithoutWriting: the dry run of a channel rule
// change counts what Reclassify then changes, and changes nothing itself.
func TestPreviewReclassifyCountsWithoutWriting(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		f := newFeed(t, s)
		f.page("a", "", "https://www.revloop.cn/?utm_source=partner-x", "", 0)
		f.page("b", "", "https://www.revloop.cn/?utm_source=partner-x&utm_medium=cpc", "", 1)
		f.page("c", "", "https://www.revloop.cn/", "", 2)
		processAll(t, s)
		custom := strings.Replace(string(channel.DefaultRulesJSON()), `"rules": [`,
			`"rules": [{"name":"Partners","channel":"referral","medium":"partner","when":[{"field":"source","match":"prefix","value":"partner-"}]},`, 1)
		parsed, err := channel.ParseRules([]byte(custom))
		if err != nil {
			t.Fatal(err)
		}
		for _, sample := range []int{0, 1, 10} {
			p, err := process.PreviewReclassify(ctx, s, parsed, sample)
			if err != nil {
				t.Fatal(err)
			}
			if p.Examined != 3 || p.Changed != 2 || p.Updated != 2 || p.Persons != 2 || len(p.Sample) != min(sample, 2) ||
				fmt.Sprint(p.Transitions) != "[{paid_search referral 1} {unknown referral 1}]" {
				t.Fatalf("preview with sample %d: %+v", sample, p)
			}
		}
		if n := count(t, s, "SELECT COUNT(*) FROM touchpoints WHERE channel = 'referral'"); n != 0 {
			t.Fatalf("the preview wrote %d touchpoints", n)
		}
		if p := person(t, s, model.IdentityAnonymousID, "a"); p.FirstTouchChannel != model.ChannelUnknown {
			t.Fatalf("the preview moved a first touch: %s", p.FirstTouchChannel)
		}
		res, err := process.Reclassify(ctx, s, parsed, nil)
		if err != nil || res.Examined != 3 || res.Changed != 2 || res.Updated != 2 {
			t.Fatalf("reclassify %+v %v, after a preview of 2 changes", res, err)
		}
		if p, err := process.PreviewReclassify(ctx, s, parsed, 10); err != nil || p.Changed != 0 || p.Updated != 0 || len(p.Sample) != 0 {
			t.Fatalf("preview after the change: %+v %v", p, err)
		}
	})
}
