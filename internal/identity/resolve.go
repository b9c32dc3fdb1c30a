package identity

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
)

// Message is the part of a Segment message identity resolution reads.
type Message struct {
	// Traits are what the message says about the person: identify's
	// traits, track's properties (form fills) and context.traits.
	Traits map[string]any
	// GroupTraits are a group call's traits: what it says about the company.
	GroupTraits map[string]any
	Properties  map[string]any
	Context     map[string]any
	// IdentifyTraits are an identify call's own traits: what is stored on
	// the person (form fields of a track call are not).
	IdentifyTraits map[string]any

	// The traits by normalised key (see keyOf), built once per message.
	traitIndex, groupIndex map[string]any
}

// trait is the first of keys (normalised names) the message's traits carry.
func (m *Message) trait(keys []string) string {
	if m.traitIndex == nil {
		m.traitIndex = indexKeys(m.Traits)
	}
	return lookupIndex(m.traitIndex, keys)
}

// groupTrait is trait for a group call's traits.
func (m *Message) groupTrait(keys []string) string {
	if m.groupIndex == nil {
		m.groupIndex = indexKeys(m.GroupTraits)
	}
	return lookupIndex(m.groupIndex, keys)
}

// ParseMessage reads the traits and properties of an event's payload. A
// payload that is not a JSON object yields an empty message.
func ParseMessage(ev *model.Event) Message {
	var raw struct {
		Traits     map[string]any `json:"traits"`
		Properties map[string]any `json:"properties"`
		Context    map[string]any `json:"context"`
	}
	_ = json.Unmarshal(ev.Payload, &raw)
	// Everything stored about a person (name, title, company, custom
	// traits, group traits) comes from these maps, on either processing
	// path: bidi controls go here, once.
	stripBidiIn(raw.Traits)
	stripBidiIn(raw.Properties)
	if ct, ok := raw.Context["traits"].(map[string]any); ok {
		stripBidiIn(ct)
	}
	m := Message{Traits: map[string]any{}, Properties: raw.Properties, Context: raw.Context}
	if m.Properties == nil {
		m.Properties = map[string]any{}
	}
	if ct, ok := raw.Context["traits"].(map[string]any); ok {
		for k, v := range ct {
			m.Traits[k] = v
		}
	}
	switch ev.Type {
	case model.EventGroup:
		m.GroupTraits = raw.Traits
		if m.GroupTraits == nil {
			m.GroupTraits = map[string]any{}
		}
	case model.EventIdentify:
		for k, v := range raw.Traits {
			m.Traits[k] = v
		}
		m.IdentifyTraits = raw.Traits
	case model.EventTrack:
		// A form fill carries the person's details in its properties.
		for k, v := range raw.Properties {
			if _, ok := m.Traits[k]; !ok {
				m.Traits[k] = v
			}
		}
	}
	return m
}

// stripBidiIn removes bidi controls from the keys and string values of a
// decoded JSON object, nested objects and arrays included, in place.
func stripBidiIn(m map[string]any) {
	var renamed []string
	for k, v := range m {
		m[k] = stripBidiValue(v)
		if model.StripBidi(k) != k {
			renamed = append(renamed, k)
		}
	}
	for _, k := range renamed {
		v := m[k]
		delete(m, k)
		m[model.StripBidi(k)] = v
	}
}

func stripBidiValue(v any) any {
	switch x := v.(type) {
	case string:
		return model.StripBidi(x)
	case map[string]any:
		stripBidiIn(x)
	case []any:
		for i := range x {
			x[i] = stripBidiValue(x[i])
		}
	}
	return v
}

// traitKeys names the trait keys (compared case-insensitively, ignoring
// "_" and "-") that carry each identifier type.
var traitKeys = map[model.IdentityType][]string{
	model.IdentityEmail:        {"email", "emailaddress", "mail", "邮箱", "电子邮箱"},
	model.IdentityPhone:        {"phone", "mobile", "phonenumber", "mobilephone", "mobilenumber", "tel", "cellphone", "手机", "手机号", "电话"},
	model.IdentityWeChatUnion:  {"wechatunionid", "unionid"},
	model.IdentityWeChatOpenID: {"wechatopenid", "openid"},
	model.IdentityWeComID:      {"wecomexternaluserid", "externaluserid"},
	model.IdentityCRMID:        {"crmid", "crmcontactid"},
}

var appIDKeys = []string{"wechatappid", "appid", "wxappid"}

// keySeparators are dropped from trait names before they are compared.
var keySeparators = strings.NewReplacer("_", "", "-", "", " ", "")

func keyOf(k string) string { return strings.ToLower(keySeparators.Replace(k)) }

// lookup finds the first of keys in m (normalised key names).
func lookup(m map[string]any, keys []string) string {
	if len(m) == 0 {
		return ""
	}
	return lookupIndex(indexKeys(m), keys)
}

// indexKeys maps normalised key names to values; of two keys that
// normalise alike, the one that sorts first wins.
func indexKeys(m map[string]any) map[string]any {
	byKey := make(map[string]any, len(m))
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		nk := keyOf(k)
		if _, dup := byKey[nk]; !dup {
			byKey[nk] = m[k]
		}
	}
	return byKey
}

func lookupIndex(byKey map[string]any, keys []string) string {
	for _, k := range keys {
		if v, ok := byKey[k]; ok {
			if s := scalar(v); s != "" {
				return s
			}
		}
	}
	return ""
}

func scalar(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case json.Number:
		return x.String()
	}
	return ""
}

// Identifiers extracts the normalised identifiers of an event, strongest
// first, and says why each value it dropped was dropped.
func (n Normaliser) Identifiers(ev *model.Event, m Message) (ids []Identifier, dropped []error) {
	seen := map[Identifier]bool{}
	add := func(t model.IdentityType, raw string) {
		if strings.TrimSpace(raw) == "" {
			return
		}
		v, err := n.Normalise(t, raw)
		if err != nil {
			dropped = append(dropped, err)
			return
		}
		id := Identifier{t, v}
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	add(model.IdentityUserID, ev.UserID)
	add(model.IdentityAnonymousID, ev.AnonymousID)
	// A returning visitor who came back through a tracked link: the browser
	// SDK keeps its own anonymous id and names the link's (the click's) here,
	// so that the click's anonymous person is stitched to the visitor.
	if rl, ok := m.Context["revloop"].(map[string]any); ok {
		add(model.IdentityAnonymousID, scalar(rl["link_anonymous_id"]))
	}
	for t, keys := range traitKeys {
		raw := m.trait(keys)
		if t == model.IdentityWeChatOpenID && raw != "" && !strings.Contains(raw, ":") {
			if app := m.trait(appIDKeys); app != "" {
				raw = app + ":" + raw
			}
		}
		add(t, raw)
	}
	// Segment's context.externalIds: [{"id": "...", "type": "email"}].
	if ext, ok := m.Context["externalIds"].([]any); ok {
		for i, x := range ext {
			if i >= 20 {
				break
			}
			e, _ := x.(map[string]any)
			if t, err := ParseType(scalar(e["type"])); err == nil {
				add(t, scalar(e["id"]))
			}
		}
	}
	sort.SliceStable(ids, func(a, b int) bool { return rank(ids[a].Type) < rank(ids[b].Type) })
	return ids, dropped
}

func rank(t model.IdentityType) int {
	for i, x := range Types {
		if x == t {
			return i
		}
	}
	return len(Types)
}

// Result is what resolving one event did.
type Result struct {
	PersonID  int64
	AccountID int64
	Created   bool // a new person was made
	Merges    []int64
	Conflicts int    // identity conflicts recorded
	Moved     bool   // a shared device moved forward to this person
	Email     string // the first email the event carried, normalised
	// TraitsChanged says the event changed the person's stored traits.
	TraitsChanged bool

	refused []Identifier // identifiers kept apart from the person (keepApart)
}

// Resolver applies the OneID policy inside a processing transaction.
type Resolver struct {
	Normaliser Normaliser
	// Trusted says whether events of a write key may give a known person a
	// new strong identifier of a kind it holds another value of (a server
	// key); nil trusts every key. Browser keys are public: anyone can post
	// an identify naming someone's user id with their own email.
	Trusted func(writeKeyID int64) bool
}

// Resolve finds or creates the event's person, links its identifiers,
// merges what may be merged, records conflicts for what may not, and places
// the person in an account. An event processed before (a replay) keeps the
// person it was resolved to, so that replays never rewrite history.
func (r Resolver) Resolve(p *store.ProcessTx, ev *model.Event, m Message) (Result, error) {
	ids, _ := r.Normaliser.Identifiers(ev, m)
	return r.ResolveWith(p, ev, m, ids)
}

// ResolveWith is Resolve for an event whose identifiers were extracted
// already (Normaliser.Identifiers).
func (r Resolver) ResolveWith(p *store.ProcessTx, ev *model.Event, m Message, ids []Identifier) (Result, error) {
	var res Result
	if ev.Type == model.EventAlias && strings.TrimSpace(ev.PreviousID) != "" {
		prev, err := r.previousID(p, ev.PreviousID)
		if err != nil {
			return res, err
		}
		if prev.Value != "" {
			ids = append(ids, prev)
		}
	}
	for _, id := range ids {
		if id.Type == model.IdentityEmail && res.Email == "" {
			res.Email = id.Value
		}
	}
	person, err := p.EventPerson(ev.ID)
	if err != nil {
		return res, err
	}
	if person == 0 {
		if person, err = r.resolve(p, ev, ids, &res); err != nil {
			return res, err
		}
	} else if r.Trusted != nil && !r.Trusted(ev.WriteKeyID) {
		// A replay: what a browser key's event had kept apart is another
		// person's now (owners are cached by the batch's prefetch).
		for _, id := range ids {
			if !id.Strong() {
				continue
			}
			o, err := p.IdentityOwner(id.Type, id.Value)
			if err != nil {
				return res, err
			}
			if o != 0 && o != person {
				if o, err = p.Survivor(o); err != nil {
					return res, err
				}
				if o != person {
					res.refused = append(res.refused, id)
				}
			}
		}
	}
	res.PersonID = person
	if person == 0 {
		return res, nil
	}
	if len(res.refused) > 0 {
		// What was kept apart describes the other person, not this one.
		kept := ids[:0:0]
		for _, id := range ids {
			if !containsIdentifier(res.refused, id) {
				kept = append(kept, id)
			}
		}
		ids, res.Email = kept, ""
		for _, id := range ids {
			if id.Type == model.IdentityEmail && res.Email == "" {
				res.Email = id.Value
			}
		}
	}
	p.SetEventPerson(person)
	if err := r.profile(p, person, ids, m); err != nil {
		return res, err
	}
	if res.TraitsChanged, err = p.SetTraits(person, customTraits(m.IdentifyTraits)); err != nil {
		return res, err
	}
	if err := r.account(p, ev, m, person, &res); err != nil {
		return res, err
	}
	return res, nil
}

// reservedTraits are the identify traits (normalised names) that go to
// the person's own fields, identifiers or account rather than to
// persons.traits.
var reservedTraits = func() map[string]bool {
	m := map[string]bool{}
	for _, keys := range [][]string{nameKeys, {"firstname", "lastname"}, titleKeys, companyKeys, appIDKeys} {
		for _, k := range keys {
			m[k] = true
		}
	}
	for _, keys := range traitKeys {
		for _, k := range keys {
			m[k] = true
		}
	}
	return m
}()

var (
	nameKeys    = []string{"name", "fullname", "姓名"}
	titleKeys   = []string{"title", "jobtitle", "职位"}
	companyKeys = []string{"company", "companyname", "organization", "公司", "公司名称"}
)

// Bounds on what one message stores as traits.
const (
	maxTraitKeys     = 100
	maxTraitKeyLen   = 64
	maxTraitValueLen = 1000
)

// customTraits are the identify traits stored on the person: every trait
// that is not reserved, as a string, number or boolean (null removes a
// stored trait; objects and arrays are not kept), within bounds.
func customTraits(traits map[string]any) map[string]any {
	if len(traits) == 0 {
		return nil
	}
	names := make([]string, 0, len(traits))
	for k := range traits {
		names = append(names, k)
	}
	sort.Strings(names)
	out := map[string]any{}
	for _, k := range names {
		if len(out) >= maxTraitKeys {
			break
		}
		if reservedTraits[keyOf(k)] || len(k) > maxTraitKeyLen || strings.TrimSpace(k) == "" {
			continue
		}
		switch v := traits[k].(type) {
		case string:
			out[k] = clipString(v, maxTraitValueLen)
		case float64, bool, nil:
			out[k] = v
		case json.Number:
			out[k] = v.String()
		}
	}
	return out
}

func clipString(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}

// previousID reads an alias's previousId: a user id when one is known by
// that value, otherwise an anonymous id.
func (r Resolver) previousID(p *store.ProcessTx, raw string) (Identifier, error) {
	if v, err := r.Normaliser.Normalise(model.IdentityUserID, raw); err == nil {
		owner, err := p.IdentityOwner(model.IdentityUserID, v)
		if err != nil {
			return Identifier{}, err
		}
		if owner != 0 {
			return Identifier{model.IdentityUserID, v}, nil
		}
	}
	v, err := r.Normaliser.Normalise(model.IdentityAnonymousID, raw)
	if err != nil {
		return Identifier{}, nil
	}
	return Identifier{model.IdentityAnonymousID, v}, nil
}

func (r Resolver) resolve(p *store.ProcessTx, ev *model.Event, ids []Identifier, res *Result) (int64, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	owners := make(map[Identifier]int64, len(ids))
	var strongOwners []int64 // distinct, strongest identifier first
	var strong, weak []Identifier
	for _, id := range ids {
		o, err := p.IdentityOwner(id.Type, id.Value)
		if err != nil {
			return 0, err
		}
		owners[id] = o
		if id.Strong() {
			strong = append(strong, id)
			if o != 0 && !containsID(strongOwners, o) {
				strongOwners = append(strongOwners, o)
			}
		} else {
			weak = append(weak, id)
		}
	}
	var person int64
	if len(strongOwners) == 0 {
		var deviceOwner int64
		for _, w := range weak {
			if owners[w] != 0 {
				deviceOwner = owners[w]
				break
			}
		}
		switch {
		case deviceOwner != 0 && len(strong) == 0:
			person = deviceOwner
		case deviceOwner != 0:
			clash, err := clashing(p, deviceOwner, strong)
			if err != nil {
				return 0, err
			}
			if clash == nil {
				person = deviceOwner // an anonymous visitor identifies: same person
				break
			}
			// The device was someone else's: it moves forward to a new
			// person; what it did before stays with its old owner.
			if person, err = p.NewPerson(ev.Timestamp); err != nil {
				return 0, err
			}
			res.Created = true
		default:
			var err error
			if person, err = p.NewPerson(ev.Timestamp); err != nil {
				return 0, err
			}
			res.Created = true
		}
	} else {
		person = strongOwners[0]
		for _, other := range strongOwners[1:] {
			if err := r.join(p, ev, person, other, res); err != nil {
				return 0, err
			}
		}
	}
	// Devices seen with this person: an anonymous-only person is the same
	// human (stitching); a device known to be someone else's moves forward.
	for _, w := range weak {
		o := owners[w]
		if o == 0 || o == person {
			continue
		}
		o, err := p.Survivor(o)
		if err != nil {
			return 0, err
		}
		if o == person {
			continue
		}
		held, err := p.Identities(o)
		if err != nil {
			return 0, err
		}
		anonymousOnly := true
		for _, h := range held {
			if h.Type != model.IdentityAnonymousID {
				anonymousOnly = false
			}
		}
		undone, err := p.MergeUndone(person, o)
		if err != nil {
			return 0, err
		}
		if anonymousOnly && !undone {
			mid, err := p.MergePersons(person, o, fmt.Sprintf("anonymous visitor %s identified by event %d", w.Value, ev.ID), ev.ID)
			if err != nil {
				return 0, err
			}
			res.Merges = append(res.Merges, mid)
			continue
		}
		if err := p.MoveIdentity(w.Type, w.Value, person); err != nil {
			return 0, err
		}
		res.Moved = true
	}
	if !res.Created && r.Trusted != nil && !r.Trusted(ev.WriteKeyID) {
		if err := r.keepApart(p, ev, person, ids, owners, res); err != nil {
			return 0, err
		}
	}
	for _, id := range ids {
		if owners[id] == 0 && !containsIdentifier(res.refused, id) {
			if err := p.AddIdentity(person, id.Type, id.Value, ev.Timestamp); err != nil {
				return 0, err
			}
		}
	}
	return person, nil
}

// keepApart applies the browser keys' limit: a new strong identifier of a
// kind the known person already holds another value of (a second email, a
// second phone) is not theirs on a public key's word. It goes to a person
// of its own, and the pair is recorded as a conflict for review, as when
// two known people are linked (never merge two different people).
func (r Resolver) keepApart(p *store.ProcessTx, ev *model.Event, person int64, ids []Identifier, owners map[Identifier]int64, res *Result) error {
	var fresh []Identifier
	for _, id := range ids {
		if id.Strong() && owners[id] == 0 {
			fresh = append(fresh, id)
		}
	}
	if len(fresh) == 0 {
		return nil
	}
	c, err := clashing(p, person, fresh)
	if err != nil || c == nil {
		return err
	}
	held, err := p.Identities(person)
	if err != nil {
		return err
	}
	mine := map[string]string{}
	for _, h := range held {
		if id := (Identifier{h.Type, h.Value}); id.Strong() {
			mine[id.Kind()] = id.Value
		}
	}
	for _, id := range fresh {
		if v, ok := mine[id.Kind()]; ok && v != id.Value {
			res.refused = append(res.refused, id)
		}
	}
	other, err := p.NewPerson(ev.Timestamp)
	if err != nil {
		return err
	}
	for _, id := range res.refused {
		if err := p.AddIdentity(other, id.Type, id.Value, ev.Timestamp); err != nil {
			return err
		}
	}
	res.Conflicts++
	return p.RecordConflict(model.IdentityConflict{PersonA: person, PersonB: other, EventID: ev.ID,
		Type: c.kind, ValueA: c.mine, ValueB: c.theirs,
		Reason: fmt.Sprintf("event %d, sent with a browser write key, gives person %d a second %s identifier; kept apart as person %d", ev.ID, person, c.kind, other)})
}

func containsIdentifier(ids []Identifier, id Identifier) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// join merges other into person unless they each hold a different
// identifier of the same kind (or a merge of the two was undone before), in
// which case the conflict is recorded for review.
func (r Resolver) join(p *store.ProcessTx, ev *model.Event, person, other int64, res *Result) error {
	var err error
	if other, err = p.Survivor(other); err != nil || other == person || other == 0 {
		return err
	}
	theirs, err := p.Identities(other)
	if err != nil {
		return err
	}
	var strongTheirs []Identifier
	for _, h := range theirs {
		if h.Type != model.IdentityAnonymousID {
			strongTheirs = append(strongTheirs, Identifier{h.Type, h.Value})
		}
	}
	clash, err := clashing(p, person, strongTheirs)
	if err != nil {
		return err
	}
	undone, err := p.MergeUndone(person, other)
	if err != nil {
		return err
	}
	if clash != nil || undone {
		c := model.IdentityConflict{PersonA: person, PersonB: other, EventID: ev.ID}
		if clash != nil {
			c.Type, c.ValueA, c.ValueB = clash.kind, clash.mine, clash.theirs
			c.Reason = fmt.Sprintf("event %d links persons %d and %d, which hold different %s identifiers", ev.ID, person, other, clash.kind)
		} else {
			c.Type = "undone_merge"
			c.Reason = fmt.Sprintf("event %d links persons %d and %d, whose merge was undone", ev.ID, person, other)
		}
		if err := p.RecordConflict(c); err != nil {
			return err
		}
		res.Conflicts++
		return nil
	}
	mid, err := p.MergePersons(person, other, fmt.Sprintf("event %d links their identifiers", ev.ID), ev.ID)
	if err != nil {
		return err
	}
	res.Merges = append(res.Merges, mid)
	return nil
}

type clash struct{ kind, mine, theirs string }

// clashing says whether person already holds a different identifier of the
// same kind as one of ids.
func clashing(p *store.ProcessTx, person int64, ids []Identifier) (*clash, error) {
	held, err := p.Identities(person)
	if err != nil {
		return nil, err
	}
	mine := map[string]string{}
	for _, h := range held {
		id := Identifier{h.Type, h.Value}
		if id.Strong() {
			if _, ok := mine[id.Kind()]; !ok {
				mine[id.Kind()] = id.Value
			}
		}
	}
	// Report the strongest kind that clashes.
	ids = append([]Identifier(nil), ids...)
	sort.SliceStable(ids, func(a, b int) bool { return rank(ids[a].Type) < rank(ids[b].Type) })
	for _, id := range ids {
		if !id.Strong() {
			continue
		}
		if v, ok := mine[id.Kind()]; ok && v != id.Value {
			return &clash{kind: string(id.Type), mine: v, theirs: id.Value}, nil
		}
	}
	return nil, nil
}

func containsID(ids []int64, id int64) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// profile fills the person's name, title, email and phone where empty.
func (r Resolver) profile(p *store.ProcessTx, person int64, ids []Identifier, m Message) error {
	var email, phone string
	for _, id := range ids {
		if id.Type == model.IdentityEmail && email == "" {
			email = id.Value
		}
		if id.Type == model.IdentityPhone && phone == "" {
			phone = id.Value
		}
	}
	name := strings.TrimSpace(m.trait(nameKeys))
	if name == "" {
		first := strings.TrimSpace(m.trait([]string{"firstname"}))
		last := strings.TrimSpace(m.trait([]string{"lastname"}))
		name = strings.TrimSpace(first + " " + last)
		if isCJK(last + first) {
			name = last + first // 姓 before 名
		}
	}
	if _, junk := junkValues[strings.ToLower(name)]; junk {
		name = ""
	}
	title := strings.TrimSpace(m.trait(titleKeys))
	if name == "" && title == "" && email == "" && phone == "" {
		return nil
	}
	return p.FillProfile(person, name, title, email, phone)
}

func isCJK(s string) bool {
	for _, r := range s {
		if r >= 0x4E00 && r <= 0x9FFF {
			return true
		}
	}
	return false
}

// account places the person in an account: an explicit group call wins;
// otherwise a business email domain (never a free-mail one) does, for a
// person who has no account yet.
func (r Resolver) account(p *store.ProcessTx, ev *model.Event, m Message, person int64, res *Result) error {
	if ev.Type == model.EventGroup {
		gid := strings.TrimSpace(ev.GroupID)
		if junkValues[strings.ToLower(gid)] {
			gid = ""
		}
		name := strings.TrimSpace(m.groupTrait([]string{"name", "company", "companyname", "公司", "公司名称"}))
		domain := NormaliseDomain(m.groupTrait([]string{"domain", "website", "url", "域名", "网站"}))
		if domain != "" && IsFreeMail(domain) {
			domain = ""
		}
		industry := strings.TrimSpace(m.groupTrait([]string{"industry", "行业"}))
		if gid == "" && domain == "" {
			return nil
		}
		acct, err := r.findAccount(p, gid, domain)
		if err != nil {
			return err
		}
		if acct == 0 {
			if name == "" {
				name = orFirst(domain, gid)
			}
			if acct, err = p.CreateAccount(name, domain, industry, gid); err != nil {
				return err
			}
		} else if err := p.UpdateAccount(acct, name, domain, industry, gid); err != nil {
			return err
		}
		employees := int64(0)
		if n, err := strconv.ParseFloat(m.groupTrait([]string{"employees", "employeecount", "numberofemployees", "员工数"}), 64); err == nil && n > 0 && n < 1e8 {
			employees = int64(n)
		}
		p.FillAccount(acct, "", employees, clipString(strings.TrimSpace(m.groupTrait([]string{"plan"})), 100))
		res.AccountID = acct
		return p.SetPersonAccount(person, acct, true)
	}
	if co, ok := m.IdentifyTraits["company"].(map[string]any); ok {
		return r.company(p, co, person, res)
	}
	// Only an event that brings an email can place a person by domain
	// (the person's earlier emails already had their chance).
	domain := BusinessDomain(res.Email)
	if domain == "" {
		return nil
	}
	ps, err := p.Person(person)
	if err != nil {
		return err
	}
	if ps.AccountID != 0 {
		res.AccountID = ps.AccountID
		return nil
	}
	acct, err := p.AccountByDomain(domain)
	if err != nil {
		return err
	}
	if acct == 0 {
		name := strings.TrimSpace(m.trait(companyKeys))
		if acct, err = p.CreateAccount(orFirst(name, domain), domain, "", ""); err != nil {
			return err
		}
	}
	res.AccountID = acct
	return p.SetPersonAccount(person, acct, false)
}

// company places the person by identify's traits.company object (Segment's
// spec: id, name, industry, employee_count, plan): an id is a group id and
// moves the person to that account, as a group call would; otherwise the
// company's domain (or the person's business email domain) finds or makes
// the account of a person who has none. The company's industry and size
// fill what the account lacks; its plan replaces the account's.
func (r Resolver) company(p *store.ProcessTx, co map[string]any, person int64, res *Result) error {
	gid := strings.TrimSpace(lookup(co, []string{"id", "groupid"}))
	if junkValues[strings.ToLower(gid)] {
		gid = ""
	}
	name := strings.TrimSpace(lookup(co, []string{"name", "companyname"}))
	domain := NormaliseDomain(lookup(co, []string{"domain", "website", "url"}))
	if domain != "" && IsFreeMail(domain) {
		domain = ""
	}
	if domain == "" {
		domain = BusinessDomain(res.Email)
	}
	industry := clipString(strings.TrimSpace(lookup(co, []string{"industry", "行业"})), 200)
	employees := int64(0)
	if n, err := strconv.ParseFloat(lookup(co, []string{"employeecount", "employees", "numberofemployees", "员工数"}), 64); err == nil && n > 0 && n < 1e8 {
		employees = int64(n)
	}
	ps, err := p.Person(person)
	if err != nil {
		return err
	}
	acct := int64(0)
	if gid != "" || ps.AccountID == 0 {
		if acct, err = r.findAccount(p, gid, domain); err != nil {
			return err
		}
		if acct == 0 && (gid != "" || domain != "" || name != "") {
			if acct, err = p.CreateAccount(orFirst(name, orFirst(domain, gid)), domain, industry, gid); err != nil {
				return err
			}
		}
	}
	if acct == 0 {
		acct = ps.AccountID
	} else {
		if gid != "" {
			// Found by domain: the account claims the id, as after a
			// group call.
			if err := p.UpdateAccount(acct, "", "", "", gid); err != nil {
				return err
			}
		}
		if err := p.SetPersonAccount(person, acct, gid != ""); err != nil {
			return err
		}
	}
	if acct == 0 {
		return nil
	}
	res.AccountID = acct
	p.FillAccount(acct, industry, employees, clipString(strings.TrimSpace(lookup(co, []string{"plan"})), 100))
	return nil
}

func (r Resolver) findAccount(p *store.ProcessTx, gid, domain string) (int64, error) {
	if gid != "" {
		if id, err := p.AccountByGroupID(gid); err != nil || id != 0 {
			return id, err
		}
	}
	if domain != "" {
		return p.AccountByDomain(domain)
	}
	return 0, nil
}

func orFirst(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
