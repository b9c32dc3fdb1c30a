package rollup_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/channel"
	"github.com/revloop/revloop/internal/credits"
	"github.com/revloop/revloop/internal/lifecycle"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/process"
	"github.com/revloop/revloop/internal/report"
	"github.com/revloop/revloop/internal/rollup"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

var ctx = context.Background()

// The data spans the switch to summer time in Europe (2026-03-29, 01:00
// UTC), so that the Berlin calendar has a 23-hour day in it; Shanghai has
// none.
var (
	start = time.Date(2026, 3, 22, 0, 0, 0, 0, time.UTC)
	now   = time.Date(2026, 4, 30, 0, 0, 0, 0, time.UTC)
)

// world builds random-ish data through the paths the product uses: events
// processed, stage moves, the CRM's opportunities and orders, credit runs.
type world struct {
	t   *testing.T
	s   *store.Store
	rng *rand.Rand
	kid int64
	seq int
	// stage is each person's stage as the test moved them, since when.
	stage map[int64]model.Stage
	since map[int64]time.Time
}

func newWorld(t *testing.T, s *store.Store, seed uint64) *world {
	t.Helper()
	err := s.Load(ctx, func(l store.Loader) error {
		ins := func(table, cols string, rows ...[]any) error {
			return l.Insert(table, strings.Split(cols, ","), rows)
		}
		for _, err := range []error{
			ins("users", "id,email,name,role,created_at", []any{int64(1), "sdr@yunqi.cn", "SDR", "sales", start}),
			ins("campaigns", "id,code,name,channel,platform,created_at",
				[]any{int64(1), "bd-brand", "百度品牌词", "paid_search", "baidu", start},
				[]any{int64(2), "wx-live", "微信直播", "webinar", "wechat", start},
				[]any{int64(3), "li-ads", "LinkedIn", "paid_social", "linkedin_ads", start}),
			ins("ad_groups", "id,campaign_id,name", []any{int64(1), int64(1), "品牌"}),
			ins("keywords", "id,campaign_id,ad_group_id,text", []any{int64(1), int64(1), int64(1), "cdp"}, []any{int64(2), int64(1), int64(1), "营销云"}),
			ins("content_assets", "id,campaign_id,kind,title,created_at", []any{int64(1), int64(2), "whitepaper", "CDP白皮书", start},
				[]any{int64(2), nil, "case_study", "Case Study", start}),
			ins("daily_costs", "id,day,platform,campaign_id,ad_group_id,keyword_id,impressions,clicks,cost_fen",
				[]any{int64(1), start, "baidu", int64(1), int64(1), int64(1), int64(1000), int64(50), int64(12345)},
				[]any{int64(2), start.AddDate(0, 0, 1), "baidu", int64(1), int64(1), int64(2), int64(800), int64(20), int64(6789)},
				[]any{int64(3), start.AddDate(0, 0, 1), "linkedin_ads", int64(3), nil, nil, int64(300), int64(3), int64(50000)}),
		} {
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	kid, err := s.CreateWriteKey(ctx, model.WriteKey{Name: "site", Key: fmt.Sprintf("wk_%d", time.Now().UnixNano())})
	if err != nil {
		t.Fatal(err)
	}
	return &world{t: t, s: s, rng: rand.New(rand.NewPCG(seed, 7)), kid: kid}
}

// at is a random instant in the data's three weeks, often near the
// midnights of Shanghai (16:00 UTC) and Berlin (22:00, 23:00 UTC).
func (w *world) at() time.Time {
	d := start.AddDate(0, 0, w.rng.IntN(21))
	switch w.rng.IntN(4) {
	case 0:
		return d.Add(15*time.Hour + time.Duration(50+w.rng.IntN(20))*time.Minute)
	case 1:
		return d.Add(21*time.Hour + time.Duration(50+w.rng.IntN(80))*time.Minute)
	}
	return d.Add(time.Duration(w.rng.IntN(24*60)) * time.Minute)
}

func (w *world) send(e model.Event, at time.Time, payload string) {
	w.t.Helper()
	w.seq++
	e.WriteKeyID, e.MessageID, e.Timestamp, e.ReceivedAt = w.kid, fmt.Sprintf("m%d", w.seq), at, at
	if payload == "" {
		payload = "{}"
	}
	e.Payload = []byte(payload)
	if _, err := w.s.AppendEvents(ctx, []model.Event{e}); err != nil {
		w.t.Fatal(err)
	}
}

// landings are where visits come from: UTM-tagged ads, a shared white
// paper, a referral, a direct visit.
var landings = []string{
	"https://www.yunqi.cn/?utm_source=baidu&utm_medium=cpc&utm_campaign=bd-brand&utm_term=cdp",
	"https://www.yunqi.cn/?utm_source=baidu&utm_medium=cpc&utm_campaign=bd-brand&utm_term=营销云",
	"https://www.yunqi.cn/live?utm_source=wechat&utm_medium=social&utm_campaign=wx-live&utm_content=CDP白皮书",
	"https://www.yunqi.cn/?utm_source=linkedin&utm_medium=paid_social&utm_campaign=li-ads",
	"https://www.yunqi.cn/cases?utm_content=Case%20Study",
	"https://www.yunqi.cn/pricing",
}

func (w *world) page(anon, url string, at time.Time) {
	u, c := channel.ParseURL(url)
	ref := ""
	if w.rng.IntN(5) == 0 {
		ref = "https://www.zhihu.com/question/1"
	}
	w.send(model.Event{Type: model.EventPage, AnonymousID: anon, URL: url, Referrer: ref, Source: u.Source, Medium: u.Medium,
		Campaign: u.Campaign, Term: u.Term, Content: u.Content, ClickIDType: c.Type, ClickID: c.Value}, at, "")
}

// visitors sends the visits of n anonymous visitors, most of whom identify
// themselves (a lead) and some fill in a form; then processes them.
func (w *world) visitors(from, n int) {
	w.t.Helper()
	domains := []string{"huaxin.cn", "dongfang.com", "beiyun.cn"}
	for i := from; i < from+n; i++ {
		anon := fmt.Sprintf("a%d", i)
		for range 1 + w.rng.IntN(5) {
			w.page(anon, landings[w.rng.IntN(len(landings))], w.at())
		}
		if w.rng.IntN(10) < 7 {
			email := fmt.Sprintf("p%d@%s", i, domains[w.rng.IntN(len(domains))])
			w.send(model.Event{Type: model.EventIdentify, AnonymousID: anon}, w.at(), `{"traits":{"email":"`+email+`"}}`)
			if w.rng.IntN(2) == 0 {
				w.send(model.Event{Type: model.EventTrack, Name: "Form Submitted", AnonymousID: anon, URL: "https://www.yunqi.cn/demo"}, w.at(), `{"properties":{}}`)
			}
		}
	}
	w.process()
}

func (w *world) process() {
	w.t.Helper()
	if _, err := process.ProcessPending(ctx, w.s); err != nil {
		w.t.Fatal(err)
	}
	w.readStages()
}

// readStages reads every person's stage.
func (w *world) readStages() {
	w.t.Helper()
	w.stage, w.since = map[int64]model.Stage{}, map[int64]time.Time{}
	query(w.t, w.s, `SELECT id, stage, stage_at FROM persons WHERE merged_into_id IS NULL`, func(scan func(...any) error) error {
		var id int64
		var st string
		var at *time.Time
		err := scan(&id, &st, &at)
		w.stage[id] = model.Stage(st)
		if at != nil {
			w.since[id] = *at
		}
		return err
	})
}

// leads lists the persons in a stage of the funnel or a side state, by id.
func (w *world) leads() []int64 {
	var out []int64
	for id, st := range w.stage {
		if st.Rank() >= model.StageLead.Rank() || st == model.StageNurture || st == model.StageDisqualified {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

func (w *world) move(id int64, to model.Stage, at time.Time, actor string) {
	w.t.Helper()
	ok, err := lifecycle.Move(ctx, w.s, id, w.stage[id], to, at, "test", actor, 0)
	if err != nil {
		w.t.Fatalf("move %d %s → %s: %v", id, w.stage[id], to, err)
	}
	if ok {
		w.stage[id], w.since[id] = to, at
	}
}

// qualify moves leads on: to MQL and SQL, some to nurture and back to MQL
// (a second entry), some disqualified.
func (w *world) qualify() {
	w.t.Helper()
	for _, id := range w.leads() {
		if w.stage[id] != model.StageLead {
			continue
		}
		// Moves follow the current stage, as moves by people and rules do.
		at := w.since[id].Add(time.Duration(1+w.rng.IntN(72)) * time.Hour)
		switch r := w.rng.IntN(10); {
		case r < 5:
			w.move(id, model.StageMQL, at, lifecycle.ActorScoring)
			if w.rng.IntN(2) == 0 {
				w.move(id, model.StageSQL, at.Add(36*time.Hour), "user:1")
			} else if w.rng.IntN(2) == 0 {
				w.move(id, model.StageNurture, at.Add(20*time.Hour), "user:1")
				if w.rng.IntN(2) == 0 {
					w.move(id, model.StageMQL, at.Add(80*time.Hour), "user:1")
				}
			}
		case r < 6:
			w.move(id, model.StageDisqualified, at, "user:1")
		}
	}
}

// deals makes opportunities of the SQLs' accounts with the CRM's input
// rules (which move the contacts), wins one and books an order for it.
func (w *world) deals() {
	w.t.Helper()
	byAccount := map[int64][]int64{}
	query(w.t, w.s, `SELECT id, COALESCE(account_id, 0) FROM persons WHERE merged_into_id IS NULL AND stage = 'sql' ORDER BY id`, func(scan func(...any) error) error {
		var id, acct int64
		if err := scan(&id, &acct); err != nil {
			return err
		}
		if acct != 0 {
			byAccount[acct] = append(byAccount[acct], id)
		}
		return nil
	})
	n := 0
	for acct, persons := range byAccount {
		n++
		stage, closed := "proposal", ""
		if n == 1 {
			stage, closed = "closed_won", "2026-04-15"
		}
		req := lifecycle.OpportunityRequest{ExternalID: fmt.Sprintf("crm-%d", acct), AccountID: acct, Name: fmt.Sprintf("deal %d", acct),
			Amount: json.RawMessage(fmt.Sprintf(`"%d.00"`, 10000*(n+1))), Stage: stage, ContactPersonIDs: persons[:min(2, len(persons))],
			CreatedAt: "2026-04-1" + fmt.Sprint(n%10), ClosedAt: closed}
		in, err := lifecycle.OpportunityInput(ctx, w.s, req, now)
		if err != nil {
			w.t.Fatal(err)
		}
		o, err := w.s.UpsertOpportunity(ctx, in, lifecycle.ContactMoves(now))
		if err != nil {
			w.t.Fatal(err)
		}
		if n == 1 {
			oin, err := lifecycle.OrderInput(ctx, w.s, lifecycle.OrderRequest{ExternalID: "order-1", OpportunityID: o.Opportunity.ID,
				Amount: json.RawMessage(`"18000.00"`), OrderedAt: "2026-04-16"})
			if err != nil {
				w.t.Fatal(err)
			}
			if _, err := w.s.UpsertOrder(ctx, oin, lifecycle.OrderContactMoves(now, "order-1", oin.OrderedAt)); err != nil {
				w.t.Fatal(err)
			}
		}
	}
	w.readStages()
}

func (w *world) credits(mode credits.Mode) {
	w.t.Helper()
	if _, err := credits.Recompute(ctx, w.s, mode, now); err != nil {
		w.t.Fatal(err)
	}
}

// query runs a query without arguments on the writer.
func query(t *testing.T, s *store.Store, q string, fn func(scan func(...any) error) error) {
	t.Helper()
	rows, err := s.WriterDB().QueryContext(ctx, q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows.Scan); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func refresh(t *testing.T, s *store.Store) rollup.Result {
	t.Helper()
	res, err := rollup.Refresh(ctx, s, now)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// expected is every roll-up computed a second way, straight from the
// stored facts: plain SQL, and Go for the team days.
type expected struct {
	touches   map[store.RollupKey]store.TouchSum
	leads     map[store.RollupKey]store.LeadSum
	stages    map[store.RollupKey]store.StageSum
	credits   [store.NumCreditModels]map[store.RollupKey]store.CreditedSum
	influence map[store.RollupDim]map[store.RollupKey]store.InfluenceSum
}

func compute(t *testing.T, s *store.Store, cal model.Calendar) expected {
	t.Helper()
	e := expected{touches: map[store.RollupKey]store.TouchSum{}, leads: map[store.RollupKey]store.LeadSum{},
		stages: map[store.RollupKey]store.StageSum{}, influence: map[store.RollupDim]map[store.RollupKey]store.InfluenceSum{}}

	type touch struct {
		id, person                       int64
		at                               time.Time
		channel, typ                     string
		campaignID, keywordID, contentID int64
		watch                            int64
		stage                            string
	}
	var touches []touch
	query(t, s, `SELECT t.id, COALESCE(t.person_id, 0), t.occurred_at, t.channel, t.type, COALESCE(t.campaign_id, 0), COALESCE(t.keyword_id, 0),
		COALESCE(t.content_id, 0), t.watch_seconds, COALESCE(p.stage, '') FROM touchpoints t LEFT JOIN persons p ON p.id = t.person_id`,
		func(scan func(...any) error) error {
			var x touch
			err := scan(&x.id, &x.person, &x.at, &x.channel, &x.typ, &x.campaignID, &x.keywordID, &x.contentID, &x.watch, &x.stage)
			touches = append(touches, x)
			return err
		})
	for _, x := range touches {
		k := store.RollupKey{Day: cal.Day(x.at), Channel: x.channel, Type: x.typ, CampaignID: x.campaignID, KeywordID: x.keywordID, ContentID: x.contentID}
		v := e.touches[k]
		v.RollupKey = k
		v.Touches++
		if x.stage != "" && x.stage != "visitor" {
			v.Known++
		}
		v.WatchSeconds += x.watch
		e.touches[k] = v
	}

	type change struct {
		id, person int64
		stage      model.Stage
		at         time.Time
		channel    string
	}
	var changes []change
	query(t, s, `SELECT sc.id, sc.person_id, sc.to_stage, sc.changed_at, COALESCE(p.first_touch_channel, '')
		FROM stage_changes sc LEFT JOIN persons p ON p.id = sc.person_id`, func(scan func(...any) error) error {
		var c change
		var st string
		err := scan(&c.id, &c.person, &st, &c.at, &c.channel)
		c.stage = model.Stage(st)
		changes = append(changes, c)
		return err
	})
	reach := map[int64]int{}
	first := map[int64]map[model.Stage]change{}
	for _, c := range changes {
		reach[c.person] = max(reach[c.person], c.stage.Rank())
		if first[c.person] == nil {
			first[c.person] = map[model.Stage]change{}
		}
		if f, ok := first[c.person][c.stage]; !ok || c.at.Before(f.at) || (c.at.Equal(f.at) && c.id < f.id) {
			first[c.person][c.stage] = c
		}
	}
	for _, entries := range first {
		for st, c := range entries {
			k := store.RollupKey{Day: cal.Day(c.at), Stage: string(st), Channel: c.channel}
			v := e.stages[k]
			v.RollupKey = k
			v.Entered++
			if i := slices.Index(model.FunnelStages, st); i > 0 {
				if p, ok := entries[model.FunnelStages[i-1]]; ok && !p.at.After(c.at) {
					v.Timed++
					v.DaysInBefore += c.at.Sub(p.at).Hours() / 24
				}
			}
			e.stages[k] = v
		}
	}

	query(t, s, `SELECT id, lead_at FROM persons WHERE lead_at IS NOT NULL AND merged_into_id IS NULL`, func(scan func(...any) error) error {
		var id int64
		var leadAt time.Time
		if err := scan(&id, &leadAt); err != nil {
			return err
		}
		var src *touch
		for i := range touches {
			x := &touches[i]
			if x.person != id || x.at.After(leadAt) {
				continue
			}
			if src == nil || x.at.After(src.at) || (x.at.Equal(src.at) && x.id > src.id) {
				src = x
			}
		}
		k := store.RollupKey{Day: cal.Day(leadAt)}
		if src != nil {
			k.Channel, k.CampaignID, k.KeywordID, k.ContentID = src.channel, src.campaignID, src.keywordID, src.contentID
		}
		v := e.leads[k]
		v.RollupKey = k
		v.Leads++
		for _, c := range []struct {
			n  *int64
			st model.Stage
		}{{&v.MQLs, model.StageMQL}, {&v.SQLs, model.StageSQL}, {&v.Opportunities, model.StageOpportunity}, {&v.Customers, model.StageCustomer}} {
			if reach[id] >= c.st.Rank() {
				*c.n++
			}
		}
		e.leads[k] = v
		return nil
	})

	type conversion struct {
		kind   model.ConversionKind
		id     int64
		person int64
		at     time.Time
		value  int64
	}
	convs := map[string]conversion{}
	query(t, s, `SELECT kind, conversion_id, COALESCE(person_id, 0), converted_at, value_fen FROM attribution_conversions`, func(scan func(...any) error) error {
		var c conversion
		err := scan(&c.kind, &c.id, &c.person, &c.at, &c.value)
		convs[fmt.Sprint(c.kind, c.id)] = c
		return err
	})
	firstEntry := func(c conversion) bool {
		if c.kind != model.ConvMQL && c.kind != model.ConvSQL {
			return true
		}
		for _, o := range convs {
			if o.kind == c.kind && o.person == c.person && (o.at.Before(c.at) || (o.at.Equal(c.at) && o.id < c.id)) {
				return false
			}
		}
		return true
	}
	for m := range e.credits {
		e.credits[m] = map[store.RollupKey]store.CreditedSum{}
	}
	refs := map[string]map[store.RollupDim]map[string]bool{} // conversion → dim → ref
	cols := make([]string, store.NumCreditModels)
	for i, c := range store.CreditColumns {
		cols[i] = "c." + c
	}
	query(t, s, `SELECT c.kind, c.conversion_id, c.channel, COALESCE(t.campaign_id, 0), COALESCE(t.keyword_id, 0), COALESCE(t.content_id, 0), `+
		strings.Join(cols, ", ")+` FROM attribution_credits c LEFT JOIN touchpoints t ON t.id = c.touch_id`, func(scan func(...any) error) error {
		var kind, ch string
		var id, camp, kw, co int64
		var shares [store.NumCreditModels]float64
		dst := []any{&kind, &id, &ch, &camp, &kw, &co}
		for i := range shares {
			dst = append(dst, &shares[i])
		}
		if err := scan(dst...); err != nil {
			return err
		}
		c, ok := convs[fmt.Sprint(kind, id)]
		if !ok || !firstEntry(c) {
			return nil
		}
		k := store.RollupKey{Day: cal.Day(c.at), Kind: c.kind, Channel: ch, CampaignID: camp, KeywordID: kw, ContentID: co}
		for m, share := range shares {
			v := e.credits[m][k]
			v.RollupKey = k
			v.Fen += share * float64(c.value)
			v.Conversions += share
			e.credits[m][k] = v
		}
		ck := fmt.Sprint(kind, id)
		if refs[ck] == nil {
			refs[ck] = map[store.RollupDim]map[string]bool{}
		}
		for _, r := range []struct {
			dim store.RollupDim
			ref string
		}{{store.DimChannel, ch}, {store.DimCampaign, fmt.Sprint(camp)}, {store.DimKeyword, fmt.Sprint(kw)}, {store.DimContent, fmt.Sprint(co)}} {
			if r.ref == "0" {
				continue
			}
			if refs[ck][r.dim] == nil {
				refs[ck][r.dim] = map[string]bool{}
			}
			refs[ck][r.dim][r.ref] = true
		}
		return nil
	})
	for ck, dims := range refs {
		c := convs[ck]
		for dim, set := range dims {
			if e.influence[dim] == nil {
				e.influence[dim] = map[store.RollupKey]store.InfluenceSum{}
			}
			for ref := range set {
				k := store.RollupKey{Day: cal.Day(c.at), Kind: c.kind}
				var id int64
				fmt.Sscan(ref, &id)
				switch dim {
				case store.DimChannel:
					k.Channel = ref
				case store.DimCampaign:
					k.CampaignID = id
				case store.DimKeyword:
					k.KeywordID = id
				case store.DimContent:
					k.ContentID = id
				}
				v := e.influence[dim][k]
				v.RollupKey = k
				v.Conversions++
				v.Value += model.Money(c.value)
				e.influence[dim][k] = v
			}
		}
	}
	return e
}

func keyed[T any](rows []T, key func(T) store.RollupKey) map[store.RollupKey]T {
	out := map[store.RollupKey]T{}
	for _, r := range rows {
		out[key(r)] = r
	}
	return out
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-6*math.Max(1, math.Abs(b)) }

// diff lists where got and want differ.
func diff[T any](what string, got, want map[store.RollupKey]T, equal func(a, b T) bool) []string {
	var out []string
	for k, w := range want {
		if g, ok := got[k]; !ok || !equal(g, w) {
			out = append(out, fmt.Sprintf("%s %+v: got %+v, want %+v", what, k, g, w))
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			out = append(out, fmt.Sprintf("%s %+v: got %+v, want none", what, k, g))
		}
	}
	slices.Sort(out)
	return out
}

// check compares every roll-up, read with the store's readers at their
// finest grouping, with the second computation, and the funnel from the
// roll-ups with report.SummarizeStages over the stage history.
func check(t *testing.T, s *store.Store, when string) {
	t.Helper()
	cal, err := s.Calendar(ctx)
	if err != nil {
		t.Fatal(err)
	}
	e := compute(t, s, cal)
	var problems []string
	all := []store.RollupDim{store.DimDay, store.DimChannel, store.DimType, store.DimCampaign, store.DimKeyword, store.DimContent}
	touches, err := s.SumTouches(ctx, store.RollupQuery{By: all})
	if err != nil {
		t.Fatal(err)
	}
	problems = append(problems, diff("touches", keyed(touches, func(x store.TouchSum) store.RollupKey { return x.RollupKey }), e.touches,
		func(a, b store.TouchSum) bool { return a == b })...)
	leads, err := s.SumLeads(ctx, store.RollupQuery{By: []store.RollupDim{store.DimDay, store.DimChannel, store.DimCampaign, store.DimKeyword, store.DimContent}})
	if err != nil {
		t.Fatal(err)
	}
	problems = append(problems, diff("leads", keyed(leads, func(x store.LeadSum) store.RollupKey { return x.RollupKey }), e.leads,
		func(a, b store.LeadSum) bool { return a == b })...)
	stages, err := s.SumStages(ctx, store.RollupQuery{By: []store.RollupDim{store.DimDay, store.DimStage, store.DimChannel}})
	if err != nil {
		t.Fatal(err)
	}
	problems = append(problems, diff("stages", keyed(stages, func(x store.StageSum) store.RollupKey { return x.RollupKey }), e.stages,
		func(a, b store.StageSum) bool {
			return a.Entered == b.Entered && a.Timed == b.Timed && near(a.DaysInBefore, b.DaysInBefore)
		})...)
	for m, col := range store.CreditColumns {
		got, err := s.SumCredits(ctx, store.RollupQuery{By: []store.RollupDim{store.DimDay, store.DimKind, store.DimChannel, store.DimCampaign,
			store.DimKeyword, store.DimContent}}, col)
		if err != nil {
			t.Fatal(err)
		}
		problems = append(problems, diff("credits "+col, keyed(got, func(x store.CreditedSum) store.RollupKey { return x.RollupKey }), e.credits[m],
			func(a, b store.CreditedSum) bool { return near(a.Fen, b.Fen) && near(a.Conversions, b.Conversions) })...)
	}
	for _, dim := range []store.RollupDim{store.DimChannel, store.DimCampaign, store.DimKeyword, store.DimContent} {
		got, err := s.SumInfluence(ctx, store.RollupQuery{By: []store.RollupDim{store.DimDay, store.DimKind}}, dim)
		if err != nil {
			t.Fatal(err)
		}
		want := e.influence[dim]
		if want == nil {
			want = map[store.RollupKey]store.InfluenceSum{}
		}
		problems = append(problems, diff("influence by "+string(dim), keyed(got, func(x store.InfluenceSum) store.RollupKey { return x.RollupKey }), want,
			func(a, b store.InfluenceSum) bool { return a == b })...)
	}
	if len(problems) > 0 {
		t.Fatalf("%s: %d differences:\n%s", when, len(problems), strings.Join(problems[:min(30, len(problems))], "\n"))
	}
	checkFunnel(t, s, cal, when)
}

// checkFunnel compares the funnel the overview shows (from the roll-ups)
// with SummarizeStages over the stage history, for several periods.
func checkFunnel(t *testing.T, s *store.Store, cal model.Calendar, when string) {
	t.Helper()
	changes, err := s.FunnelChanges(ctx, false, false)
	if err != nil {
		t.Fatal(err)
	}
	day := func(n int) time.Time { return cal.Day(start).AddDate(0, 0, n) }
	r := report.Reporter{Store: s}
	for _, p := range []model.Period{{}, {From: day(0), To: day(6)}, {From: day(3), To: day(12)}, {From: day(7), To: day(7)},
		{From: day(10)}, {To: day(9)}, {From: day(20), To: day(40)}} {
		p.Cal = cal
		for _, mode := range []report.FunnelMode{report.Cohort, report.Period} {
			got, err := r.StageFunnel(ctx, p, mode)
			if err != nil {
				t.Fatal(err)
			}
			want := report.SummarizeStages(changes, p.Window(), mode)
			for i := range want.Stages {
				if got.Stages[i].Count != want.Stages[i].Count {
					t.Errorf("%s: %s funnel of %s..%s: %s %d, the stage history says %d", when, mode, p.From.Format(time.DateOnly),
						p.To.Format(time.DateOnly), want.Stages[i].Stage, got.Stages[i].Count, want.Stages[i].Count)
				}
			}
		}
	}
}

// TestRollupsEqualTheFacts builds data step by step through the product's
// own paths and, after each step, refreshes the roll-ups and compares
// them with a second computation from the stored facts; a refresh right
// after changes nothing.
func TestRollupsEqualTheFacts(t *testing.T) {
	for _, seed := range []uint64{1, 5} {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) { testRollupsEqualTheFacts(t, seed) })
	}
}

func testRollupsEqualTheFacts(t *testing.T, seed uint64) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		w := newWorld(t, s, seed)
		w.visitors(0, 40)
		// Watch time of a few touches, as an import of attendances sets it.
		if _, err := s.WriterDB().ExecContext(ctx, `UPDATE touchpoints SET watch_seconds = 60 * id WHERE id % 4 = 0`); err != nil {
			t.Fatal(err)
		}
		var mergeID int64
		steps := []struct {
			name string
			do   func()
		}{
			{"events processed", func() {}},
			{"stage moves", w.qualify},
			{"deals and a full credit run", func() { w.deals(); w.credits(credits.Full) }},
			{"more visitors and late touches, incremental credits", func() {
				w.visitors(40, 15)
				// A touch before a lead's first one: it becomes their
				// first touch (channel) and lead source.
				for _, id := range w.leads()[:3] {
					var anon string
					query(t, s, fmt.Sprintf(`SELECT value FROM identities WHERE person_id = %d AND type = 'anonymous_id'`, id), func(scan func(...any) error) error {
						return scan(&anon)
					})
					w.page(anon, landings[3], start.Add(-time.Hour))
				}
				w.process()
				w.credits(credits.Incremental)
			}},
			{"deals re-dated and reopened, incremental credits", func() {
				type deal struct {
					ext, name string
					acct, fen int64
					created   time.Time
				}
				var deals []deal
				query(t, s, `SELECT external_id, name, account_id, amount_fen, created_at FROM opportunities ORDER BY id`, func(scan func(...any) error) error {
					var d deal
					err := scan(&d.ext, &d.name, &d.acct, &d.fen, &d.created)
					deals = append(deals, d)
					return err
				})
				for _, d := range deals {
					in, err := lifecycle.OpportunityInput(ctx, s, lifecycle.OpportunityRequest{ExternalID: d.ext, AccountID: d.acct, Name: d.name,
						Amount: json.RawMessage(fmt.Sprintf(`"%d.%02d"`, d.fen/100, d.fen%100)), Stage: "negotiation",
						CreatedAt: d.created.AddDate(0, 0, -3).Format(time.RFC3339)}, now)
					if err != nil {
						t.Fatal(err)
					}
					if _, err := s.UpsertOpportunity(ctx, in, lifecycle.ContactMoves(now)); err != nil {
						t.Fatal(err)
					}
				}
				w.credits(credits.Incremental)
				w.readStages()
			}},
			{"a merge", func() {
				leads := w.leads()
				if _, err := s.MergePersons(ctx, leads[0], leads[len(leads)-1], "same person", "user:1"); err != nil {
					t.Fatal(err)
				}
				w.credits(credits.Incremental)
				w.readStages()
			}},
			{"another merge", func() {
				leads := w.leads()
				merge, err := s.MergePersons(ctx, leads[2], leads[len(leads)/2], "same person", "user:1")
				if err != nil {
					t.Fatal(err)
				}
				mergeID = merge
				w.credits(credits.Incremental)
				w.readStages()
			}},
			{"its undo", func() {
				if _, err := s.UndoMerge(ctx, mergeID); err != nil {
					t.Fatal(err)
				}
				w.credits(credits.Incremental)
				w.readStages()
			}},
			{"reclassification", func() {
				var changes []store.Reclassified
				query(t, s, `SELECT id, COALESCE(person_id, 0) FROM touchpoints WHERE channel = 'paid_search' ORDER BY id`, func(scan func(...any) error) error {
					var c store.Reclassified
					err := scan(&c.TouchpointID, &c.PersonID)
					c.Channel, c.Source, c.Medium = "referral", "partner", "referral"
					if len(changes) < 6 {
						changes = append(changes, c)
					}
					return err
				})
				if err := s.UpdateTouchChannels(ctx, changes); err != nil {
					t.Fatal(err)
				}
			}},
			{"erasure of a contact", func() {
				var id int64
				query(t, s, `SELECT MIN(person_id) FROM opportunity_contacts`, func(scan func(...any) error) error { return scan(&id) })
				if _, err := s.ErasePerson(ctx, id, "admin", now); err != nil {
					t.Fatal(err)
				}
				w.readStages()
			}},
			{"incremental credits after it", func() { w.credits(credits.Incremental) }},
			{"a full credit run", func() { w.credits(credits.Full) }},
			{"the time zone changed to Europe/Berlin", func() {
				if err := s.SetSetting(ctx, model.SettingTimeZone, "Europe/Berlin"); err != nil {
					t.Fatal(err)
				}
			}},
		}
		for _, st := range steps {
			st.do()
			res := refresh(t, s)
			t.Logf("%s: rebuilt %v, days %v, %d rows", st.name, res.Rebuilt, res.Days, res.Rows)
			check(t, s, st.name)
			if again := refresh(t, s); again.Changed() {
				t.Fatalf("%s: a second refresh recomputed %+v (the first: %+v)", st.name, again, res)
			}
			if st.name == "the time zone changed to Europe/Berlin" && len(res.Rebuilt) != 3+len(credits.ConversionKinds) {
				t.Errorf("after the time zone change, rebuilt %v", res.Rebuilt)
			}
		}
	})
}

// TestMarksWrittenDuringARefreshSurvive: a refresh deletes only the marks
// it read, so that a change marked meanwhile (same roll-up, same day) is
// recomputed by the next one; and refreshes racing with writers leave the
// roll-ups equal to the facts once the writers stop.
func TestMarksWrittenDuringARefreshSurvive(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		w := newWorld(t, s, 2)
		w.visitors(0, 12)
		refresh(t, s)
		var touch store.Reclassified
		query(t, s, `SELECT MIN(id) FROM touchpoints`, func(scan func(...any) error) error { return scan(&touch.TouchpointID) })
		query(t, s, fmt.Sprintf(`SELECT COALESCE(person_id, 0) FROM touchpoints WHERE id = %d`, touch.TouchpointID), func(scan func(...any) error) error {
			return scan(&touch.PersonID)
		})
		reclassify := func(ch string) {
			t.Helper()
			c := touch
			c.Channel, c.Source, c.Medium = ch, ch, ch
			if err := s.UpdateTouchChannels(ctx, []store.Reclassified{c}); err != nil {
				t.Fatal(err)
			}
		}
		reclassify("email")
		read, err := s.RollupMarks(ctx)
		if err != nil {
			t.Fatal(err)
		}
		reclassify("referral") // the same touch and day, after the marks were read
		var ids []int64
		for _, m := range read {
			if m.Name == store.RollupTouches {
				ids = append(ids, m.ID)
			}
		}
		if len(ids) == 0 {
			t.Fatal("the reclassification left no mark for the touches roll-up")
		}
		sl := store.RollupSlice{State: store.RollupState{Name: store.RollupTouches, TimeZone: model.DefaultTimeZone, RefreshedAt: now}, Marks: ids}
		if err := s.ReplaceTouchRollup(ctx, sl, nil); err != nil {
			t.Fatal(err)
		}
		left, err := s.RollupMarks(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var kept int
		for _, m := range left {
			if slices.Contains(ids, m.ID) {
				t.Errorf("mark %d was read and used, yet is still there", m.ID)
			}
			if m.Name == store.RollupTouches {
				kept++
			}
		}
		if kept == 0 {
			t.Fatal("the mark written after the read was deleted with the ones read")
		}
		// (The slice written above replaced nothing: bring the state back.)
		if _, err := s.WriterDB().ExecContext(ctx, `DELETE FROM rollup_state`); err != nil {
			t.Fatal(err)
		}
		refresh(t, s)
		check(t, s, "after a mark written during a refresh")

		// Writers and refreshes at once.
		done := make(chan error, 1)
		go func() {
			var err error
			for i := 0; i < 30 && err == nil; i++ {
				c := touch
				c.Channel = []string{"email", "referral", "webinar"}[i%3]
				err = s.UpdateTouchChannels(ctx, []store.Reclassified{c})
			}
			done <- err
		}()
		for running := true; running; {
			select {
			case err := <-done:
				if err != nil {
					t.Fatal(err)
				}
				running = false
			default:
				refresh(t, s)
			}
		}
		refresh(t, s)
		check(t, s, "after refreshes raced with reclassifications")
	})
}

// TestReaders: grouping by month folds the days, filters keep their rows,
// a query without grouping is one row (of zeros when nothing matched),
// and what a figure does not have is refused.
func TestReaders(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		w := newWorld(t, s, 3)
		w.visitors(0, 25)
		w.qualify()
		w.deals()
		w.credits(credits.Full)
		refresh(t, s)
		cal, err := s.Calendar(ctx)
		if err != nil {
			t.Fatal(err)
		}
		e := compute(t, s, cal)

		// Touches of paid search or LinkedIn, of campaign 1 or none, from
		// the 25th to the 31st of March, by month and channel.
		from, to := time.Date(2026, 3, 25, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 31, 0, 0, 0, 0, time.UTC)
		want := map[store.RollupKey]store.TouchSum{}
		for k, v := range e.touches {
			if k.Day.Before(from) || k.Day.After(to) || (k.Channel != "paid_search" && k.Channel != "paid_social") || (k.CampaignID != 1 && k.CampaignID != 0) {
				continue
			}
			mk := store.RollupKey{Day: model.MonthOf(k.Day), Channel: k.Channel}
			x := want[mk]
			x.RollupKey = mk
			x.Touches, x.Known, x.WatchSeconds = x.Touches+v.Touches, x.Known+v.Known, x.WatchSeconds+v.WatchSeconds
			want[mk] = x
		}
		got, err := s.SumTouches(ctx, store.RollupQuery{From: from, To: to, By: []store.RollupDim{store.DimMonth, store.DimChannel},
			Channels: []string{"paid_search", "paid_social"}, Campaigns: []int64{1, 0}})
		if err != nil {
			t.Fatal(err)
		}
		if d := diff("touches by month", keyed(got, func(x store.TouchSum) store.RollupKey { return x.RollupKey }), want,
			func(a, b store.TouchSum) bool { return a == b }); len(d) > 0 || len(want) == 0 {
			t.Errorf("%d rows expected; %s", len(want), strings.Join(d, "\n"))
		}
		if !slices.IsSortedFunc(got, func(a, b store.TouchSum) int { return a.Day.Compare(b.Day)*2 + strings.Compare(a.Channel, b.Channel) }) {
			t.Errorf("rows not sorted: %+v", got)
		}

		// Leads in total; and none in a year without data, as one row of zeros.
		var total store.LeadSum
		for _, v := range e.leads {
			total.Leads, total.MQLs, total.SQLs = total.Leads+v.Leads, total.MQLs+v.MQLs, total.SQLs+v.SQLs
			total.Opportunities, total.Customers = total.Opportunities+v.Opportunities, total.Customers+v.Customers
		}
		leads, err := s.SumLeads(ctx, store.RollupQuery{})
		if err != nil {
			t.Fatal(err)
		}
		if len(leads) != 1 || leads[0] != total || total.Leads == 0 {
			t.Errorf("leads in total %+v, want %+v", leads, total)
		}
		none, err := s.SumLeads(ctx, store.RollupQuery{From: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2020, 12, 31, 0, 0, 0, 0, time.UTC)})
		if err != nil || len(none) != 1 || none[0] != (store.LeadSum{}) {
			t.Errorf("leads of 2020: %+v, %v", none, err)
		}

		// Costs by platform and channel, and of one keyword.
		costs, err := s.SumCosts(ctx, store.RollupQuery{By: []store.RollupDim{store.DimPlatform, store.DimChannel}})
		if err != nil {
			t.Fatal(err)
		}
		wantCosts := []store.CostSum{
			{RollupKey: store.RollupKey{Platform: "baidu", Channel: "paid_search"}, Impressions: 1800, Clicks: 70, Cost: 19134},
			{RollupKey: store.RollupKey{Platform: "linkedin_ads", Channel: "paid_social"}, Impressions: 300, Clicks: 3, Cost: 50000},
		}
		if !slices.Equal(costs, wantCosts) {
			t.Errorf("costs %+v, want %+v", costs, wantCosts)
		}
		kw, err := s.SumCosts(ctx, store.RollupQuery{Keywords: []int64{2}, By: []store.RollupDim{store.DimDay, store.DimAdGroup}})
		if err != nil || len(kw) != 1 || kw[0].Cost != 6789 || kw[0].AdGroupID != 1 || !kw[0].Day.Equal(start.AddDate(0, 0, 1)) {
			t.Errorf("cost of keyword 2: %+v, %v", kw, err)
		}

		// Influence of campaign 1 only.
		inf, err := s.SumInfluence(ctx, store.RollupQuery{Campaigns: []int64{1}, By: []store.RollupDim{store.DimKind}}, store.DimCampaign)
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range inf {
			if x.CampaignID != 1 || x.Kind == "" || x.Conversions <= 0 {
				t.Errorf("influence of campaign 1: %+v", x)
			}
		}

		for _, c := range []struct {
			name string
			err  error
		}{
			{"stages by campaign", func() error {
				_, err := s.SumStages(ctx, store.RollupQuery{By: []store.RollupDim{store.DimCampaign}})
				return err
			}()},
			{"leads of a type", func() error { _, err := s.SumLeads(ctx, store.RollupQuery{Types: []string{"page_view"}}); return err }()},
			{"by day and month", func() error {
				_, err := s.SumTouches(ctx, store.RollupQuery{By: []store.RollupDim{store.DimDay, store.DimMonth}})
				return err
			}()},
			{"an unknown model", func() error { _, err := s.SumCredits(ctx, store.RollupQuery{}, "magic"); return err }()},
			{"influence by type", func() error { _, err := s.SumInfluence(ctx, store.RollupQuery{}, store.DimType); return err }()},
			{"influence by campaign of a channel", func() error {
				_, err := s.SumInfluence(ctx, store.RollupQuery{Channels: []string{"email"}}, store.DimCampaign)
				return err
			}()},
		} {
			if c.err == nil {
				t.Errorf("%s: no error", c.name)
			}
		}
	})
}
