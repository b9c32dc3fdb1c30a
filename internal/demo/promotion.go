package demo

import (
	"cmp"
	"slices"
	"strings"

	"github.com/revloop/revloop/internal/model"
)

// Employee promotion (全员营销): the colleagues who share the employee
// sharing campaigns (sales reps, SDRs, marketers, a few others) each have
// their own share link of every such campaign they shared — a tracked
// link naming them as promoter, as "my share link" makes one — created an
// hour before its first click, and each of their share clicks is a click
// of that link. The links page then counts the clicks and leads of every
// share link, and the promotion leaderboard the links each employee
// shared, across the teams: the sales teams of routing, and the
// marketers' and the other colleagues' own.

// shareLinkAlphabet is the alphabet of tracked link codes (links.NewCode):
// no look-alike characters.
const shareLinkAlphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"

// shareLinkCode is the n-th share link's code: eight characters drawn
// from a hash of n, so that the demo stays deterministic and the codes
// look like any other.
func shareLinkCode(n int) string {
	x := uint64(n+1) * 0xbf58476d1ce4e5b9 // apart from the steps below, so that codes are not shifts of each other
	b := make([]byte, 8)
	for i := range b {
		// splitmix64: every character from fresh bits.
		x += 0x9e3779b97f4a7c15
		z := x
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
		z = (z ^ (z >> 27)) * 0x94d049bb133111eb
		z ^= z >> 31
		b[i] = shareLinkAlphabet[z%uint64(len(shareLinkAlphabet))]
	}
	return string(b)
}

// Teams of the colleagues outside sales, whom routing leaves without one.
const (
	marketingTeam = "marketing" // 市场部
	productTeam   = "product"   // 产品与解决方案: the viewers who share
)

// withEmployeePromotion adds the share links to the load, the link of
// each share click to the touchpoints, and a team to the marketers and
// viewers.
func (g *gen) withEmployeePromotion(steps []loadStep) []loadStep {
	for i := range steps {
		s := &steps[i]
		if s.table != "users" {
			continue
		}
		team := slices.Index(strings.Split(s.cols, ","), "team")
		if team < 0 {
			continue
		}
		base := s.row
		s.row = func(i int) []any {
			row := base(i)
			switch g.users[i].role {
			case model.RoleMarketer:
				row[team] = marketingTeam
			case model.RoleViewer:
				row[team] = productTeam
			}
			return row
		}
	}
	return g.withPromoterLinks(steps)
}

// withPromoterLinks adds the share links to the load and the link of each
// share click to the touchpoints.
func (g *gen) withPromoterLinks(steps []loadStep) []loadStep {
	type key struct{ promoter, campaign int64 }
	type share struct {
		key
		first int64
		id    int64
	}
	byKey := map[key]*share{}
	var shares []*share
	for i := range g.touches {
		t := &g.touches[i]
		if t.typ != "share_click" || t.promoter == 0 || t.campaign == 0 {
			continue
		}
		k := key{t.promoter, t.campaign}
		s := byKey[k]
		if s == nil {
			s = &share{key: k, first: t.at}
			byKey[k] = s
			shares = append(shares, s)
		}
		s.first = min(s.first, t.at)
	}
	if len(shares) == 0 {
		return steps
	}
	slices.SortFunc(shares, func(a, b *share) int {
		return cmp.Or(cmp.Compare(a.first, b.first), cmp.Compare(a.promoter, b.promoter), cmp.Compare(a.campaign, b.campaign))
	})
	camps := map[int64]*campaign{}
	for _, c := range g.camps {
		camps[c.id] = c
	}
	for i, s := range shares {
		s.id = int64(i + 1)
	}
	for i := range steps {
		if s := &steps[i]; s.table == "touchpoints" {
			base := s.row
			s.cols += ",link_id"
			s.row = func(i int) []any {
				t := &g.touches[i]
				var link int64
				if t.typ == "share_click" && t.promoter != 0 {
					if sh := byKey[key{t.promoter, t.campaign}]; sh != nil {
						link = sh.id
					}
				}
				return append(base(i), id(link))
			}
		}
	}
	return append(steps, loadStep{"tracked_links", "id,code,campaign_id,target_url,utm_source,utm_medium,utm_campaign,promoter_id,created_at",
		len(shares), func(i int) []any {
			s := shares[i]
			c := camps[s.campaign]
			created := min(max(s.first-hour, c.created), s.first) // after its campaign when it can be, never after its first click
			return []any{s.id, shareLinkCode(i), c.id, siteURL + c.path, c.source, c.medium, c.code, s.promoter, ts(created)}
		}})
}
