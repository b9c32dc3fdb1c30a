package links

import (
	"context"
	"strconv"

	"github.com/revloop/revloop/internal/channel"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
)

// Row is a tracked link with its figures in a window.
type Row struct {
	Link         model.TrackedLink
	CampaignName string
	// Channel is the channel the link's clicks are counted under: its UTM
	// classified by the channel rules in force, as processing classifies
	// a click.
	Channel model.Channel
	// Clicks are the touches of the link's clicks in the window (a
	// crawler's click makes none); Leads the persons who became leads in
	// the window after a click of the link. See docs/metrics.md.
	Clicks, Leads int64
}

// Totals are all links' clicks and leads, a lead counted once however
// many links they clicked (leads do not add up across links).
type Totals struct{ Clicks, Leads int64 }

// MaxReport bounds the links a report lists, newest first.
const MaxReport = 2000

// Report lists the links created before the window ends, newest first
// (at most MaxReport), with their clicks and leads in the window and the
// channel rs classifies their clicks as.
func Report(ctx context.Context, st *store.Store, rs *channel.RuleSet, w model.Window) ([]Row, Totals, error) {
	links, err := st.TrackedLinks(ctx, 0, MaxReport)
	if err != nil {
		return nil, Totals{}, err
	}
	figs, all, err := st.LinkFigures(ctx, w.From, w.To)
	if err != nil {
		return nil, Totals{}, err
	}
	camps, err := st.CampaignChoices(ctx, 1_000_000)
	if err != nil {
		return nil, Totals{}, err
	}
	byID := make(map[int64]store.CampaignChoice, len(camps))
	for _, c := range camps {
		byID[c.ID] = c
	}
	out := make([]Row, 0, len(links))
	for _, l := range links {
		if !w.To.IsZero() && !l.CreatedAt.Before(w.To) {
			continue
		}
		c := byID[l.CampaignID]
		f := figs[l.ID]
		out = append(out, Row{Link: l, CampaignName: c.Name, Channel: ClickChannel(rs, l, c.Channel), Clicks: f.Clicks, Leads: f.Leads})
	}
	return out, Totals{Clicks: all.Clicks, Leads: all.Leads}, nil
}

// ClickChannel is the channel rs gives a click of l, whose campaign is
// in campaignChannel: what processing would classify the click as, before
// the landing page's own parameters (which win over the link's) are known.
func ClickChannel(rs *channel.RuleSet, l model.TrackedLink, campaignChannel string) model.Channel {
	t := channel.Touch{
		UTM:             channel.UTM{Source: l.UTMSource, Medium: l.UTMMedium, Campaign: l.UTMCampaign, Term: l.UTMTerm, Content: l.UTMContent},
		URL:             l.TargetURL,
		EventType:       string(model.EventTrack),
		EventName:       "Tracked Link Clicked",
		CampaignChannel: campaignChannel,
	}
	if l.PromoterID != 0 {
		t.Promoter = strconv.FormatInt(l.PromoterID, 10)
	}
	return rs.Classify(t).Channel
}

// Preset is a choice of the link form's channel: the UTM source and
// medium it fills in when they are left empty.
type Preset struct {
	Key            string // a channel name
	Source, Medium string
}

// Presets are the channel choices of the link form. Which channel a
// click counts under is the channel rules' decision (a campaign's own
// channel usually wins); a preset only writes the UTM that reports by
// source and medium show.
var Presets = []Preset{
	{Key: string(model.ChannelEmployeeShare), Source: "revloop_link", Medium: "employee_sharing"},
	{Key: string(model.ChannelWeChat), Source: "wechat", Medium: "social"},
	{Key: string(model.ChannelWeCom), Source: "wecom", Medium: "social"},
	{Key: string(model.ChannelEmail), Source: "email", Medium: "email"},
	{Key: string(model.ChannelOfflineEvent), Source: "offline", Medium: "event"},
	{Key: string(model.ChannelWebinar), Source: "webinar", Medium: "webinar"},
	{Key: string(model.ChannelContent), Source: "content", Medium: "content"},
}

// ApplyPreset fills req's empty UTM source and medium from the preset
// named key (none for ""); false for an unknown key.
func ApplyPreset(req *Request, key string) bool {
	if key == "" {
		return true
	}
	for _, p := range Presets {
		if p.Key == key {
			if req.UTMSource == "" {
				req.UTMSource = p.Source
			}
			if req.UTMMedium == "" {
				req.UTMMedium = p.Medium
			}
			return true
		}
	}
	return false
}
