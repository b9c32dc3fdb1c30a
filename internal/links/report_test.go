package links

import (
	"testing"

	"github.com/revloop/revloop/internal/channel"
	"github.com/revloop/revloop/internal/model"
)

// A link's channel is what the rules make of a click of it: the
// employee-sharing medium wins over the campaign's channel, a webinar's
// link is a webinar, and without a preset the campaign's channel decides.
func TestClickChannel(t *testing.T) {
	rs := channel.DefaultRules()
	for _, tc := range []struct {
		name, preset, campaignChannel string
		promoter                      int64
		want                          model.Channel
	}{
		{"shared by an employee", "employee_sharing", "offline_event", 7, model.ChannelEmployeeShare},
		{"webinar preset", "webinar", "webinar", 0, model.ChannelWebinar},
		{"no preset, an event's link", "", "offline_event", 0, model.ChannelOfflineEvent},
	} {
		req := Request{}
		if !ApplyPreset(&req, tc.preset) {
			t.Fatalf("%s: preset %q unknown", tc.name, tc.preset)
		}
		if req.UTMSource == "" {
			req.UTMSource, req.UTMMedium = "revloop_link", "tracked_link"
		}
		l := model.TrackedLink{UTMSource: req.UTMSource, UTMMedium: req.UTMMedium, UTMCampaign: "X", TargetURL: "https://example.cn/", PromoterID: tc.promoter}
		if got := ClickChannel(rs, l, tc.campaignChannel); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
	req := Request{UTMSource: "mine"}
	if !ApplyPreset(&req, "wechat") || req.UTMSource != "mine" || req.UTMMedium != "social" {
		t.Errorf("a preset fills only what is empty: %+v", req)
	}
	if ApplyPreset(&req, "carrier_pigeon") {
		t.Error("an unknown preset applied")
	}
	for _, p := range Presets {
		if !channelKnown(p.Key) {
			t.Errorf("preset %s is not a channel", p.Key)
		}
	}
}

func channelKnown(k string) bool {
	for _, c := range model.Channels {
		if string(c) == k {
			return true
		}
	}
	return false
}
