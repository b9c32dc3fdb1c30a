package demo

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/revloop/revloop/internal/model"
)

const (
	day    = int64(24 * 3600)
	hour   = int64(3600)
	minute = int64(60)
	// cst is China Standard Time's offset: buyers work on Beijing time.
	cst = 8 * hour
)

// gen holds the world while it is being built. Times are Unix seconds.
type gen struct {
	r     *rand.Rand
	scale float64
	t0    int64 // first second of the data year
	tl    int64 // first second after it (exclusive)
	days  int

	users      []user
	accounts   []account
	camps      []*campaign
	programmes []*campaign   // campaigns that group campaigns, after them by id
	byChannel  [][]*campaign // indexed by channelIndex
	adGroups   []adGroup
	keywords   []keyword
	assets     []asset
	persons    []person
	touches    []touch
	changes    []stageChange
	identities []identity
	opps       []opp
	contacts   []oppContact
	orders     []order
	tasks      []task
	costs      []dailyCost

	newsletterDays []int64            // the first Tuesday of each month, Beijing time
	repsOf         map[string][]int64 // sales region → its reps' ids, leaders included

	// lookups only (never iterated): values that must stay unique
	emails  map[string]bool
	phones  map[string]bool
	domains map[string]bool
}

type user struct {
	id                     int64
	email, name            string
	role                   model.Role
	territory              string
	manager                int64
	capacity               int
	shareWeight            float64
	isRep, isLeader, isSDR bool
}

type account struct {
	id                   int64
	name, nameEN, domain string
	short                string // the name without city and legal form
	industry             *industry
	size                 *sizeBand
	employees            int
	city                 *city
	tier                 string
	fit                  float64
	rep                  int64 // the sales user covering its territory
	owner                int64
	created              int64
	center               int64 // middle of its buying window
	persons              []int // indices into gen.persons
}

type campaign struct {
	campaignDef
	id                  int64
	idx                 int
	name, nameEN        string
	startDay, endDay    int // inclusive day indices
	eventDay            int // -1 if not an event
	created             int64
	keywords            []int // indices into gen.keywords
	assets              []int // indices into gen.assets
	budget              int64
	tLeads, tMQLs       int
	tOpps               int
	tPipeline, tRevenue int64
	owner, parent       int64 // the marketer who runs it; its programme
	adGroupIdx          []int // indices into gen.adGroups
}

type adGroup struct {
	id, campaign int64
	name         string
}

type keyword struct {
	id, campaign, adGroup int64
	camp                  *campaign
	def                   keywordDef
	cpc                   int64
	ctr                   float64
	untracked             float64
}

type asset struct {
	id, campaign int64
	kind, title  string
	titleEN, url string
	created      int64
}

type stageChange struct {
	at       int64
	person   int64
	from, to model.Stage
	reason   string
	id       int64
}

type identity struct {
	typ     model.IdentityType
	value   string
	person  int64
	created int64
}

type opp struct {
	id, account, owner int64
	name               string
	stage              string
	amount             int64
	created, closed    int64 // closed = 0 while open
	closeAt            int64 // when it closes or would close
	won                bool
	expansion          bool // more for an existing customer: its orders are upsells
}

type oppContact struct {
	opp, person int64
	role        string
	primary     bool
}

type order struct {
	id, opp, account int64
	amount           int64
	at               int64
	kind             string // new, upsell
}

type task struct {
	id                    int64
	kind, title           string
	person, opp, assignee int64
	due, done, created    int64
}

type dailyCost struct {
	day                          int
	platform                     string
	campaign, adGroup, keyword   int64
	impressions, clicks, costFen int64
}

func newGen(seed int64, t0, tl int64, scale float64) *gen {
	return &gen{
		r:       rand.New(rand.NewPCG(uint64(seed), uint64(seed)^0x9e3779b97f4a7c15)),
		scale:   scale,
		t0:      t0,
		tl:      tl,
		days:    int((tl - t0 + day - 1) / day),
		emails:  map[string]bool{},
		repsOf:  map[string][]int64{},
		phones:  map[string]bool{},
		domains: map[string]bool{},
	}
}

// ---- random helpers ----

func (g *gen) chance(p float64) bool        { return g.r.Float64() < p }
func (g *gen) between(a, b int64) int64     { return a + g.r.Int64N(b-a+1) }
func (g *gen) uniform(a, b float64) float64 { return a + (b-a)*g.r.Float64() }
func (g *gen) norm(sd float64) float64      { return g.r.NormFloat64() * sd }

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// pick returns an index drawn with the given weights.
func (g *gen) pick(n int, weight func(i int) float64) int {
	total := 0.0
	for i := 0; i < n; i++ {
		total += weight(i)
	}
	if total <= 0 {
		return -1
	}
	x := g.r.Float64() * total
	for i := 0; i < n; i++ {
		w := weight(i)
		if x < w {
			return i
		}
		x -= w
	}
	for i := n - 1; i >= 0; i-- {
		if weight(i) > 0 {
			return i
		}
	}
	return -1
}

func (g *gen) poisson(mean float64) int {
	if mean <= 0 {
		return 0
	}
	if mean > 30 {
		return max(0, int(math.Round(mean+g.norm(math.Sqrt(mean)))))
	}
	l, k, p := math.Exp(-mean), 0, 1.0
	for {
		p *= g.r.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

func (g *gen) token(n int, alphabet string) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[g.r.IntN(len(alphabet))]
	}
	return string(b)
}

func (g *gen) uuid() string {
	a, b := g.r.Uint64(), g.r.Uint64()
	b = b&^(0xf<<60) | 0x8<<60
	a = a&^(0xf<<12) | 0x4<<12
	return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", a>>32, (a>>16)&0xffff, a&0xffff, b>>48, b&0xffffffffffff)
}

// officeTime moves t to a plausible working moment for a Chinese buyer:
// the same Beijing day (or, usually, the Monday after a weekend), mostly
// between 9:00 and 19:00, now and then in the evening. The result may be a
// few hours earlier than t, never more than two days later.
func (g *gen) officeTime(t int64) int64 {
	local := t + cst
	d := local / day
	// 1970-01-01 was a Thursday: weekday 0 = Thursday, 2 = Saturday, 3 = Sunday.
	wd := ((d % 7) + 7) % 7
	if wd == 2 && g.chance(0.8) {
		d += 2
	} else if wd == 3 && g.chance(0.8) {
		d++
	}
	var sec int64
	if g.chance(0.85) {
		sec = 9*hour + g.r.Int64N(10*hour)
	} else {
		sec = 19*hour + g.r.Int64N(4*hour)
	}
	return d*day + sec - cst
}

// after returns a working moment at least gap after t (plus a little).
func (g *gen) after(t, gap int64) int64 {
	x := g.officeTime(t + gap)
	if x <= t+minute {
		x = t + minute + g.r.Int64N(30*minute)
	}
	return x
}

// Day d of the data year begins at Beijing midnight (the team's days:
// China keeps one offset all year).
func (g *gen) dayOf(t int64) int    { return int((t - g.t0) / day) }
func (g *gen) dayStart(d int) int64 { return g.t0 + int64(d)*day }

// date is day d as a calendar date, midnight UTC of it: what DATE columns hold.
func (g *gen) date(d int) time.Time { return unixTime(g.dayStart(d) + cst) }

func channelIndex(ch model.Channel) int {
	for i, c := range model.Channels {
		if c == ch {
			return i
		}
	}
	return len(model.Channels) - 1
}

// ---- users ----

type staffDef struct {
	name, email string
	role        model.Role
	territory   string
	manager     int // index into staff, -1 = none
	share       float64
}

// staff are the demo company's people: twelve sales users in five regions
// under three managers, marketers, and a few colleagues who share content.
// Ids start at 2; id 1 is left for nobody.
var staff = []staffDef{
	{"陈立华", "chen.lihua", model.RoleSales, "east", 19, 2},
	{"周晓明", "zhou.xiaoming", model.RoleSales, "east", 0, 3},
	{"孙佳怡", "sun.jiayi", model.RoleSales, "east", 0, 3},
	{"吴俊", "wu.jun", model.RoleSales, "east", 0, 2},
	{"王海涛", "wang.haitao", model.RoleSales, "north", 19, 2},
	{"李娜", "li.na", model.RoleSales, "north", 4, 3},
	{"赵鹏", "zhao.peng", model.RoleSales, "north", 4, 2},
	{"黄志强", "huang.zhiqiang", model.RoleSales, "south", 19, 2},
	{"林婷", "lin.ting", model.RoleSales, "south", 7, 3},
	{"郑浩", "zheng.hao", model.RoleSales, "south", 7, 2},
	{"刘思远", "liu.siyuan", model.RoleSales, "west", 4, 2},
	{"何敏", "he.min", model.RoleSales, "central", 7, 2},
	{"杨雪", "yang.xue", model.RoleMarketer, "", -1, 3},
	{"徐晨", "xu.chen", model.RoleMarketer, "", 12, 2},
	{"马丽", "ma.li", model.RoleMarketer, "", 12, 4},
	{"唐凯", "tang.kai", model.RoleMarketer, "", 12, 2},
	{"高明", "gao.ming", model.RoleViewer, "", -1, 1},
	{"罗斌", "luo.bin", model.RoleViewer, "", -1, 1.5},
	{"梁颖", "liang.ying", model.RoleViewer, "", -1, 1},
	// The head of sales: the regional leaders' manager, so that their own
	// missed follow-ups escalate to somebody. Covers no territory.
	{"钱志远", "qian.zhiyuan", model.RoleSales, "", -1, 0.5},
	{"周婷", "zhou.ting", model.RoleMarketer, "", 12, 3},
}

// The marketers, by what they run (campaigns.owner_id).
const (
	marketingHead = "yang.xue"  // 市场部负责人: the programmes
	adOps         = "xu.chen"   // 投放: search, feed, social and display ads
	eventOps      = "ma.li"     // 活动: webinars, exhibitions, salons
	contentOps    = "tang.kai"  // 内容: whitepapers, cases, the official account
	digitalOps    = "zhou.ting" // 数字营销: email, WeCom, employee sharing, partners
)

// sdrStaff is the SDR team (销售开发, inside sales) that takes the MQLs:
// its lead first, reporting to the head of sales. At scale 1 the lead and
// four SDRs; the team grows with the scale, in groups of up to eight SDRs
// per lead, named from the vocabulary beyond these.
var sdrStaff = []struct{ name, email string }{
	{"苏晴", "su.qing"}, {"蒋文", "jiang.wen"}, {"韩雨桐", "han.yutong"}, {"曹磊", "cao.lei"}, {"彭欣怡", "peng.xinyi"}, {"许嘉怡", "xu.jiayi"},
}

// userDomain is the demo company's mail domain; nobody would log in with it.
const userDomain = "revloop-demo.cn"

// sdrsPerScale is the SDRs per unit of scale (four at scale 1, leads apart):
// enough for the MQLs to stay within their capacity.
const sdrsPerScale = 5

func (g *gen) buildUsers() {
	used := map[string]bool{} // email local parts; looked up, never iterated
	add := func(u user) *user {
		u.id = int64(len(g.users) + 2)
		local, _, _ := strings.Cut(u.email, "@")
		used[local] = true
		g.users = append(g.users, u)
		return &g.users[len(g.users)-1]
	}
	// A colleague hired as the company grows: a name from the vocabulary
	// and an unused mailbox.
	newcomer := func() (string, string) {
		sn := surnames[g.r.IntN(len(surnames))]
		gn := givenNames[g.r.IntN(len(givenNames))]
		local := sn.py + "." + gn.py
		for i := 2; used[local]; i++ {
			local = sn.py + "." + gn.py + strconv.Itoa(i)
		}
		return sn.zh + gn.zh, local + "@" + userDomain
	}
	for _, s := range staff {
		u := user{email: s.email + "@" + userDomain, name: s.name, role: s.role, territory: s.territory, shareWeight: s.share}
		if s.manager >= 0 {
			u.manager = int64(s.manager + 2)
		}
		if s.role == model.RoleSales && s.territory != "" {
			u.isRep = true
			u.isLeader = staff[s.manager].territory == ""
		}
		add(u)
	}
	head := g.userByLocal("qian.zhiyuan").id
	// More reps in every region beyond scale 1, under the region's leader.
	if g.scale > 1 {
		for _, region := range []string{"east", "north", "south", "west", "central"} {
			n := 0
			for _, u := range g.users {
				if u.isRep && !u.isLeader && u.territory == region {
					n++
				}
			}
			leader := g.leaderFor(region)
			for k := int(math.Round(float64(n) * (g.scale - 1))); k > 0; k-- {
				name, email := newcomer()
				add(user{email: email, name: name, role: model.RoleSales, territory: region, manager: leader, capacity: 4,
					shareWeight: 1.5, isRep: true})
			}
		}
	}
	nSDR := max(2, int(math.Round(sdrsPerScale*g.scale)))
	var lead int64
	for k := 0; k < nSDR; k++ {
		if k%8 == 0 {
			name, email := newcomer()
			if k == 0 {
				name, email = sdrStaff[0].name, sdrStaff[0].email+"@"+userDomain
			}
			lead = add(user{email: email, name: name, role: model.RoleSales, manager: head, capacity: 5, shareWeight: 1, isSDR: true}).id
		}
		name, email := newcomer()
		if k+1 < len(sdrStaff) {
			name, email = sdrStaff[k+1].name, sdrStaff[k+1].email+"@"+userDomain
		}
		add(user{email: email, name: name, role: model.RoleSales, manager: lead, capacity: 15, shareWeight: 1.5, isSDR: true})
	}
	for i := range g.users {
		if u := &g.users[i]; u.isRep {
			g.repsOf[u.territory] = append(g.repsOf[u.territory], u.id)
		}
	}
}

func (g *gen) userByLocal(local string) *user {
	for i := range g.users {
		if strings.HasPrefix(g.users[i].email, local+"@") {
			return &g.users[i]
		}
	}
	panic("demo: no user " + local)
}

// repFor returns the sales user who covers a region: one of its reps, chosen
// by a stable hash of the account so an account always has the same rep.
func (g *gen) repFor(region string, accountID int64) int64 {
	var reps []int64
	for _, id := range g.repsOf[region] {
		if !g.users[id-2].isLeader {
			reps = append(reps, id)
		}
	}
	if len(reps) == 0 {
		reps = g.repsOf[region]
	}
	return reps[int(accountID)%len(reps)]
}

func (g *gen) leaderFor(region string) int64 {
	for _, u := range g.users {
		if u.isLeader && u.territory == region {
			return u.id
		}
	}
	// West reports to the north manager, central to the south one.
	for _, u := range g.users {
		if u.role == model.RoleSales && u.territory == region {
			return u.manager
		}
	}
	return g.users[0].id
}

func (g *gen) promoter() int64 {
	i := g.pick(len(g.users), func(i int) float64 { return g.users[i].shareWeight })
	return g.users[i].id
}

// ---- accounts ----

func (g *gen) buildAccounts(n int) {
	g.accounts = make([]account, 0, n)
	for i := 0; i < n; i++ {
		ind := &industries[g.pick(len(industries), func(i int) float64 { return industries[i].weight })]
		sz := &sizeBands[g.pick(len(sizeBands), func(i int) float64 { return sizeBands[i].weight })]
		c := &cities[g.pick(len(cities), func(i int) float64 { return cities[i].weight })]
		var pA, pB float64
		switch sz.band {
		case "5000+":
			pA, pB = 0.4, 0.45
		case "1000-4999":
			pA, pB = 0.2, 0.45
		case "500-999":
			pA, pB = 0.06, 0.35
		case "100-499":
			pA, pB = 0.01, 0.18
		default:
			pA, pB = 0, 0.04
		}
		tier, tierFit := "C", 0.0
		if x := g.r.Float64(); x < pA {
			tier, tierFit = "A", 0.35
		} else if x < pA+pB {
			tier, tierFit = "B", 0.15
		}
		emp := int(math.Exp(g.uniform(math.Log(float64(sz.minEmp)), math.Log(float64(sz.maxEmp)))))
		b1 := brandSyllables[g.r.IntN(len(brandSyllables))]
		b2 := brandSyllables[g.r.IntN(len(brandSyllables))]
		for b2 == b1 {
			b2 = brandSyllables[g.r.IntN(len(brandSyllables))]
		}
		word := ind.words[g.r.IntN(len(ind.words))]
		suf := companySuffixes[g.r.IntN(len(companySuffixes))]
		brandPY := b1.py + b2.py
		brandEN := strings.ToUpper(brandPY[:1]) + brandPY[1:]
		name := b1.zh + b2.zh + word.zh + suf.zh
		nameEN := brandEN + " " + word.en + " " + suf.en
		if g.chance(0.45) {
			name = c.zh + name
			nameEN = c.en + " " + nameEN
		}
		a := account{
			id: int64(i + 1), name: name, nameEN: nameEN, short: b1.zh + b2.zh + word.zh, industry: ind, size: sz, employees: emp, city: c, tier: tier,
			fit: ind.fit + sz.fit + tierFit + g.norm(0.25),
		}
		a.domain = g.uniqueDomain(brandPY, word.abbr)
		a.rep = g.repFor(c.region, a.id)
		a.center = g.t0 + g.r.Int64N(g.tl-g.t0)
		g.accounts = append(g.accounts, a)
	}
}

func (g *gen) uniqueDomain(brand, abbr string) string {
	tlds := []string{".com", ".cn", ".com.cn"}
	for i := 0; ; i++ {
		base := brand
		switch {
		case i == 1 || (i == 0 && g.chance(0.3)):
			base = brand + abbr
		case i == 2:
			base = brand + "-" + abbr
		case i > 2:
			base = fmt.Sprintf("%s%s%d", brand, abbr, i)
		}
		d := base + tlds[g.r.IntN(len(tlds))]
		if !g.domains[d] {
			g.domains[d] = true
			return d
		}
	}
}

// ---- campaigns ----

func (g *gen) buildCampaigns() {
	g.byChannel = make([][]*campaign, len(model.Channels))
	last := g.days - 1
	for i := range campaignDefs {
		d := campaignDefs[i]
		c := &campaign{campaignDef: d, id: int64(i + 1), idx: i, name: d.name, nameEN: d.nameEN, eventDay: -1}
		if d.event > 0 {
			ev := int(d.event * float64(g.days))
			// Events fall on a Tuesday, Wednesday or Thursday.
			for wd := weekday(g.dayStart(ev)); wd != 2 && wd != 3 && wd != 4; wd = weekday(g.dayStart(ev)) {
				ev++
			}
			ev = min(ev, last)
			c.eventDay = ev
			c.startDay = max(0, ev-28)
			c.endDay = min(last, ev+d.eventDays-1)
			if d.yearInName {
				y := unixTime(g.dayStart(ev) + cst).Year()
				c.name = fmt.Sprintf("%d%s", y, d.name)
				c.nameEN = fmt.Sprintf("%s %d", d.nameEN, y)
			}
		} else {
			c.startDay = int(d.from * float64(g.days))
			c.endDay = min(last, int(d.to*float64(g.days)))
		}
		c.created = g.dayStart(c.startDay) + 9*hour + g.r.Int64N(8*hour)
		c.owner = g.userByLocal(campaignOwner(d.ch)).id
		for _, ag := range d.adGroups {
			agID := int64(len(g.adGroups) + 1)
			g.adGroups = append(g.adGroups, adGroup{id: agID, campaign: c.id, name: ag.name})
			c.adGroupIdx = append(c.adGroupIdx, len(g.adGroups)-1)
			for _, k := range ag.keywords {
				cpc := g.between(d.cpcMin, d.cpcMax)
				g.keywords = append(g.keywords, keyword{id: int64(len(g.keywords) + 1), campaign: c.id, adGroup: agID, camp: c,
					def: k, cpc: cpc, ctr: d.ctr * g.uniform(0.6, 1.5), untracked: d.untracked * k.weight / 2 * g.uniform(0.6, 1.4)})
				c.keywords = append(c.keywords, len(g.keywords)-1)
			}
		}
		for _, a := range d.assets {
			created := c.created
			if d.ch == model.ChannelWebinar {
				created = g.dayStart(c.eventDay) + 18*hour // the replay, after the live
			}
			g.assets = append(g.assets, asset{id: int64(len(g.assets) + 1), campaign: c.id, kind: a.kind, title: a.title,
				titleEN: a.titleEN, url: siteURL + a.path, created: created})
			c.assets = append(c.assets, len(g.assets)-1)
		}
		g.camps = append(g.camps, c)
		ci := channelIndex(d.ch)
		g.byChannel[ci] = append(g.byChannel[ci], c)
	}
	for _, d := range programmeDefs {
		p := &campaign{campaignDef: campaignDef{code: d.code, name: d.name, nameEN: d.nameEN, ch: d.ch, kind: "programme"},
			id: int64(len(g.camps) + len(g.programmes) + 1), name: d.name, nameEN: d.nameEN, eventDay: -1, startDay: last,
			owner: g.userByLocal(d.owner).id, created: g.tl}
		for _, c := range g.byChannel[channelIndex(d.ch)] {
			c.parent = p.id
			p.startDay, p.endDay = min(p.startDay, c.startDay), max(p.endDay, c.endDay)
			p.created = min(p.created, c.created-g.between(day, 5*day))
		}
		p.created = max(p.created, g.t0+9*hour)
		g.programmes = append(g.programmes, p)
	}
}

// weekday returns 0 for Sunday … 6 for Saturday, on Beijing time.
func weekday(t int64) int {
	return int(time.Unix(t+cst, 0).UTC().Weekday())
}

// activeCampaign picks a running, non-event campaign of a channel on day d.
func (g *gen) activeCampaign(ch model.Channel, d int) *campaign {
	cs := g.byChannel[channelIndex(ch)]
	i := g.pick(len(cs), func(i int) float64 {
		c := cs[i]
		if c.eventDay >= 0 || d < c.startDay || d > c.endDay {
			return 0
		}
		return c.weight
	})
	if i < 0 {
		return nil
	}
	return cs[i]
}

func (g *gen) campaignByCode(code string) *campaign {
	for _, c := range g.camps {
		if c.code == code {
			return c
		}
	}
	panic("demo: no campaign " + code)
}

// eventsBetween lists the event campaigns of a channel whose day falls in [from, to).
func (g *gen) eventsBetween(ch model.Channel, from, to int64) []*campaign {
	var out []*campaign
	for _, c := range g.byChannel[channelIndex(ch)] {
		if c.eventDay < 0 {
			continue
		}
		t := g.dayStart(c.eventDay)
		if t >= from-day && t < to {
			out = append(out, c)
		}
	}
	return out
}
