package web

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
)

// The accounts pages: the list (search, filters, keyset paging by name)
// with each account's people, leads, pipeline and engagement over the
// range, and one account with its people, touches by month,
// opportunities and orders. Each page's data is JSON under
// /api/v1/accounts too.

func (s *Server) accountRoutes(m *http.ServeMux) error {
	m.Handle("GET /accounts", s.page("accounts", s.accountsPage))
	m.Handle("GET /accounts/{id}", s.page("accounts", s.accountPage))
	m.Handle("GET /api/v1/accounts", s.pageAPI("accounts", s.apiAccounts))
	m.Handle("GET /api/v1/accounts/{id}", s.pageAPI("accounts", s.apiAccount))
	return nil
}

const (
	accountsPerPage = 50
	maxAccountsPage = 500
)

// accountRowJSON is an account of the list with its figures.
type accountRowJSON struct {
	ID           int64       `json:"id"`
	Name         string      `json:"name"`
	NameEN       string      `json:"name_en"`
	Domain       string      `json:"domain"`
	Industry     string      `json:"industry"`
	Size         string      `json:"size"`
	Employees    int         `json:"employees"`
	Region       string      `json:"region"`
	City         string      `json:"city"`
	Tier         string      `json:"tier"`
	OwnerID      int64       `json:"owner_id,omitempty"`
	Owner        string      `json:"owner"`
	People       int64       `json:"people"`
	Leads        int64       `json:"leads"`
	MQLs         int64       `json:"mqls"`
	OpenPipeline model.Money `json:"open_pipeline"`
	WonRevenue   model.Money `json:"won_revenue"`
	LastTouch    *time.Time  `json:"last_touch_at"`
	Engagement   int64       `json:"engagement"`
}

type accountsView struct {
	Filter     viewFilter
	Q          string
	Industry   string
	Tier       string
	Owner      string
	Industries []string
	Tiers      []string
	Users      []model.User
	Accounts   []accountRowJSON
	Next       string // the cursor of the next page
	Table      *dataTable
	Error      string
	query      store.AccountQuery // the filters, for an export
}

// accountFigures are accounts with their figures over a window.
func (s *Server) accountFigures(ctx context.Context, rows []store.AccountRow, win model.Window) ([]accountRowJSON, error) {
	ids := make([]int64, len(rows))
	for i, a := range rows {
		ids[i] = a.ID
	}
	stats, err := s.store.AccountStatsOf(ctx, ids, win.From, win.To)
	if err != nil {
		return nil, err
	}
	out := []accountRowJSON{}
	for _, a := range rows {
		st := stats[a.ID]
		out = append(out, accountRowJSON{ID: a.ID, Name: a.Name, NameEN: a.NameEN, Domain: a.Domain, Industry: a.Industry, Size: a.SizeBand,
			Employees: a.Employees, Region: a.Region, City: a.City, Tier: a.Tier, OwnerID: a.OwnerID, Owner: a.Owner, People: st.People, Leads: st.Leads,
			MQLs: st.MQLs, OpenPipeline: st.OpenPipeline, WonRevenue: st.WonRevenue, LastTouch: st.LastTouch, Engagement: st.Engagement})
	}
	return out, nil
}

// accountsTable is the list's table without rows.
func accountsTable(loc Locale, cal model.Calendar) *dataTable {
	col := func(key string, kind cellKind) column {
		c := column{Key: key, Label: loc.T("accounts.col." + key), Kind: kind}
		if tip := "accounts.tip." + key; loc.T(tip) != tip {
			c.Tip = loc.T(tip)
		}
		return c
	}
	return &dataTable{ID: "accounts", Title: loc.T("accounts.list_title"), Loc: cal.Loc, Empty: loc.T("accounts.empty"), Columns: []column{
		col("name", kindText), col("domain", kindText), col("industry", kindText), col("size", kindText), col("region", kindText),
		col("tier", kindText), col("owner", kindText), col("people", kindInt), col("leads", kindInt), col("mqls", kindInt),
		col("open_pipeline", kindMoney), col("won_revenue", kindMoney), col("last_touch", kindTime), col("engagement", kindInt),
	}}
}

// accountCells is an account as a row of the list.
func accountCells(loc Locale, a accountRowJSON) []cell {
	var last any
	if a.LastTouch != nil {
		last = *a.LastTouch
	}
	region := strings.TrimSpace(strings.Trim(a.Region+" · "+a.City, " ·"))
	return []cell{{V: campaignName(loc, a.Name, a.NameEN), Href: fmt.Sprintf("/accounts/%d", a.ID)}, {V: a.Domain},
		{V: a.Industry}, {V: a.Size}, {V: region}, {V: a.Tier}, {V: a.Owner}, {V: a.People}, {V: a.Leads}, {V: a.MQLs},
		{V: a.OpenPipeline}, {V: a.WonRevenue}, {V: last}, {V: a.Engagement}}
}

func (accountsView) NavKey() string { return "accounts" }

type accountCursor struct {
	Name string `json:"n"`
	ID   int64  `json:"i"`
}

func encodeAccountCursor(c accountCursor) string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

// accountsData reads the list's filters and builds one page of it.
func (s *Server) accountsData(r *http.Request, loc Locale) (accountsView, error) {
	var v accountsView
	f, err := s.filterOf(r, nil, "")
	cal := f.Period.Cal
	v.Filter = f
	if err != nil {
		return v, err
	}
	q := r.URL.Query()
	v.Q, v.Industry, v.Tier, v.Owner = strings.TrimSpace(q.Get("q")), q.Get("industry"), q.Get("tier"), q.Get("owner")
	aq := store.AccountQuery{Q: v.Q, Industry: v.Industry, Tier: v.Tier, Limit: accountsPerPage}
	if len(v.Q) > 200 {
		return v, &filterError{Param: "q", Key: "accounts.error.bad_q", Msg: "q: at most 200 bytes"}
	}
	if v.Owner != "" {
		id, err := strconv.ParseInt(v.Owner, 10, 64)
		if err != nil || id <= 0 {
			return v, &filterError{Param: "owner", Key: "accounts.error.bad_owner", Msg: "owner: a user id"}
		}
		aq.OwnerID = id
	}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > maxAccountsPage {
			return v, &filterError{Param: "limit", Key: "accounts.error.bad_limit", Msg: fmt.Sprintf("limit: a whole number from 1 to %d", maxAccountsPage)}
		}
		aq.Limit = n
	}
	if c := q.Get("cursor"); c != "" {
		var cur accountCursor
		b, err := base64.RawURLEncoding.DecodeString(c)
		if err != nil || json.Unmarshal(b, &cur) != nil || cur.ID <= 0 {
			return v, &filterError{Param: "cursor", Key: "accounts.error.bad_cursor", Msg: "cursor: the next_cursor of the previous page"}
		}
		aq.AfterName, aq.AfterID = cur.Name, cur.ID
	}
	limit := aq.Limit
	aq.Limit++
	rows, err := s.store.Accounts(r.Context(), aq)
	if err != nil {
		return v, err
	}
	if len(rows) > limit {
		rows = rows[:limit]
		last := rows[limit-1]
		v.Next = encodeAccountCursor(accountCursor{Name: last.Name, ID: last.ID})
	}
	v.query = aq
	if v.Accounts, err = s.accountFigures(r.Context(), rows, f.Period.Window()); err != nil {
		return v, err
	}
	t := accountsTable(loc, cal)
	for _, a := range v.Accounts {
		t.Rows = append(t.Rows, accountCells(loc, a))
	}
	// The list is paged by name in SQL; another order sorts the page shown.
	sortKey := q.Get("accounts_sort")
	t.Presorted = sortKey == "" || sortKey == "name"
	if v.Next != "" {
		nq := cloneQuery(q, "export")
		nq.Set("cursor", v.Next)
		t.Next = r.URL.Path + "?" + nq.Encode()
	}
	v.Table = t
	return v, nil
}

func (s *Server) accountsPage(w http.ResponseWriter, r *http.Request) {
	loc := s.catalog.locale(langOnly(r))
	v, err := s.accountsData(r, loc)
	if s.pageFailed(w, r, err, "error.not_found", "accounts page", func(text string) {
		v.Error = text
		s.render(w, r, http.StatusBadRequest, "accounts", "accounts.title", v)
	}) {
		return
	}
	if v.Industries, v.Tiers, err = s.store.AccountFacets(r.Context()); err != nil {
		s.pageInternal(w, r, "accounts page", err)
		return
	}
	if v.Users, err = s.store.Users(r.Context(), ""); err != nil {
		s.pageInternal(w, r, "accounts page", err)
		return
	}
	v.Table.prepare(r, "name", false)
	if s.exportList(w, r, "accounts", exportName("accounts", "", v.Filter), func() (listExport, error) { return s.accountsExport(r, loc, v) }) ||
		s.exportTable(w, r, "accounts", v.Filter) {
		return
	}
	s.render(w, r, http.StatusOK, "accounts", "accounts.title", v)
}

func (s *Server) apiAccounts(w http.ResponseWriter, r *http.Request) {
	format, err := apiFormat(r)
	if s.apiFailed(w, r, err, "") {
		return
	}
	l := s.fileLocale(r, format)
	v, err := s.accountsData(r, l)
	if s.apiFailed(w, r, err, "") {
		return
	}
	if format != formatJSON {
		e, err := s.accountsExport(r, l, v)
		if s.apiFailed(w, r, err, "") {
			return
		}
		s.streamList(w, r, true, format, exportName("accounts", "", v.Filter), e)
		return
	}
	var next any
	if v.Next != "" {
		next = v.Next
	}
	writeJSON(w, http.StatusOK, map[string]any{"from": v.Filter.From, "to": v.Filter.To, "currency": "CNY", "accounts": v.Accounts, "next_cursor": next})
}

// ---- one account ----

type accountView struct {
	Filter  viewFilter
	Account store.AccountRow
	Stats   accountRowJSON
	KPIs    []kpi
	Touches *chart
	People  *dataTable
	Opps    *dataTable
	Orders  *dataTable
	Error   string
	// JSON
	PeopleJSON []store.AccountPerson
	OppsJSON   []store.AccountOpportunity
	OrdersJSON []store.AccountOrder
	Months     []accountMonth
}

type accountMonth struct {
	Month   string `json:"month"`
	Touches int64  `json:"touches"`
}

func (accountView) NavKey() string { return "accounts" }

const accountPeopleLimit = 500

func (s *Server) accountData(r *http.Request, loc Locale, id int64) (accountView, error) {
	var v accountView
	a, err := s.store.AccountByID(r.Context(), id)
	if err != nil {
		return v, err
	}
	v.Account = a
	f, err := s.filterOf(r, nil, "")
	cal := f.Period.Cal
	v.Filter = f
	if err != nil {
		return v, err
	}
	win := f.Period.Window()
	stats, err := s.store.AccountStatsOf(r.Context(), []int64{id}, win.From, win.To)
	if err != nil {
		return v, err
	}
	st := stats[id]
	v.Stats = accountRowJSON{ID: a.ID, Name: a.Name, NameEN: a.NameEN, Domain: a.Domain, Industry: a.Industry, Size: a.SizeBand, Employees: a.Employees,
		Region: a.Region, City: a.City, Tier: a.Tier, OwnerID: a.OwnerID, Owner: a.Owner, People: st.People, Leads: st.Leads, MQLs: st.MQLs,
		OpenPipeline: st.OpenPipeline, WonRevenue: st.WonRevenue, LastTouch: st.LastTouch, Engagement: st.Engagement}
	k := func(id string, value, raw string) kpi {
		return kpi{ID: id, Label: loc.T("accounts.col." + id), Tip: loc.T("accounts.tip." + id), Value: value, Raw: raw}
	}
	v.KPIs = []kpi{
		k("people", formatInt(st.People), strconv.FormatInt(st.People, 10)),
		k("leads", formatInt(st.Leads), strconv.FormatInt(st.Leads, 10)),
		k("mqls", formatInt(st.MQLs), strconv.FormatInt(st.MQLs, 10)),
		k("open_pipeline", formatMoney(st.OpenPipeline), st.OpenPipeline.String()),
		k("won_revenue", formatMoney(st.WonRevenue), st.WonRevenue.String()),
		k("engagement", formatInt(st.Engagement), strconv.FormatInt(st.Engagement, 10)),
	}
	// Touches by month of the range, from its people.
	counts := map[time.Time]int64{}
	err = s.store.AccountTouchTimes(r.Context(), id, win.From, win.To, func(at time.Time, _ string) { counts[model.MonthOf(cal.Day(at))]++ })
	if err != nil {
		return v, err
	}
	ch := &chart{ID: "touches", Kind: "bar", Format: "int"}
	series := chartSeries{Name: loc.T("accounts.touches")}
	for m := model.MonthOf(f.Period.From); !m.After(f.Period.To); m = m.AddDate(0, 1, 0) {
		ch.X = append(ch.X, m.Format("2006-01"))
		series.Data = append(series.Data, point(float64(counts[m])))
		v.Months = append(v.Months, accountMonth{Month: m.Format("2006-01"), Touches: counts[m]})
	}
	ch.Series = []chartSeries{series}
	v.Touches = ch

	if v.PeopleJSON, err = s.store.AccountPeople(r.Context(), id, accountPeopleLimit); err != nil {
		return v, err
	}
	pt := &dataTable{ID: "people", Loc: cal.Loc, Empty: loc.T("accounts.people_empty"), Columns: []column{
		{Key: "person", Label: loc.T("accounts.col.person"), Kind: kindText},
		{Key: "title", Label: loc.T("accounts.col.title"), Kind: kindText},
		{Key: "stage", Label: loc.T("accounts.col.stage"), Kind: kindText},
		{Key: "grade", Label: loc.T("accounts.col.grade"), Kind: kindText},
		{Key: "score", Label: loc.T("accounts.col.score"), Kind: kindNumber},
		{Key: "owner", Label: loc.T("accounts.col.owner"), Kind: kindText},
		{Key: "first_channel", Label: loc.T("accounts.col.first_channel"), Tip: loc.T("accounts.tip.first_channel"), Kind: kindText},
	}}
	for _, p := range v.PeopleJSON {
		var fc cell
		if p.FirstTouchChannel != "" {
			fc = cell{V: p.FirstTouchChannel, Text: loc.Channel(model.Channel(p.FirstTouchChannel))}
		}
		pt.Rows = append(pt.Rows, []cell{{V: cmpOr(p.Name, cmpOr(p.Email, fmt.Sprintf("#%d", p.ID))), Href: fmt.Sprintf("/persons/%d", p.ID)}, {V: p.Title},
			{V: string(p.Stage), Text: loc.Stage(p.Stage)}, {V: p.Grade}, {V: p.Score}, {V: p.Owner}, fc})
	}
	v.People = pt
	pt.Title = loc.T("accounts.people_title")
	if v.OppsJSON, err = s.store.AccountOpportunities(r.Context(), id); err != nil {
		return v, err
	}
	ot := &dataTable{ID: "opportunities", Loc: cal.Loc, Empty: loc.T("accounts.opps_empty"), Columns: []column{
		{Key: "name", Label: loc.T("accounts.col.opportunity"), Kind: kindText},
		{Key: "stage", Label: loc.T("accounts.col.opp_stage"), Kind: kindText},
		{Key: "amount", Label: loc.T("accounts.col.amount"), Kind: kindMoney},
		{Key: "created", Label: loc.T("accounts.col.created"), Kind: kindDate},
		{Key: "closed", Label: loc.T("accounts.col.closed"), Kind: kindDate},
		{Key: "owner", Label: loc.T("accounts.col.owner"), Kind: kindText},
		{Key: "primary", Label: loc.T("accounts.col.primary"), Kind: kindText},
		{Key: "primary_channel", Label: loc.T("accounts.col.primary_channel"), Tip: loc.T("accounts.tip.primary_channel"), Kind: kindText},
		{Key: "first_touch", Label: loc.T("accounts.col.first_touch"), Tip: loc.T("accounts.tip.first_touch"), Kind: kindText},
	}}
	chCell := func(c string) cell {
		if c == "" {
			return cell{}
		}
		return cell{V: c, Text: loc.Channel(model.Channel(c))}
	}
	for _, o := range v.OppsJSON {
		var closed any
		if o.ClosedAt != nil {
			closed = cal.Day(*o.ClosedAt)
		}
		var primary cell
		if o.PrimaryID != 0 {
			primary = cell{V: o.Primary, Href: fmt.Sprintf("/persons/%d", o.PrimaryID)}
		}
		ot.Rows = append(ot.Rows, []cell{{V: o.Name}, {V: o.Stage, Text: oppStageText(loc, o.Stage)}, {V: o.Amount}, {V: cal.Day(o.CreatedAt)}, {V: closed},
			{V: o.Owner}, primary, chCell(o.PrimaryFirstChannel), chCell(o.FirstTouchChannel)})
	}
	v.Opps = ot
	ot.Title = loc.T("accounts.opps_title")
	if v.OrdersJSON, err = s.store.AccountOrders(r.Context(), id); err != nil {
		return v, err
	}
	rt := &dataTable{ID: "orders", Loc: cal.Loc, Empty: loc.T("accounts.orders_empty"), Columns: []column{
		{Key: "order", Label: loc.T("accounts.col.order"), Kind: kindText},
		{Key: "amount", Label: loc.T("accounts.col.amount"), Kind: kindMoney},
		{Key: "ordered", Label: loc.T("accounts.col.ordered"), Kind: kindDate},
	}}
	for _, o := range v.OrdersJSON {
		rt.Rows = append(rt.Rows, []cell{{V: fmt.Sprintf("#%d", o.ID)}, {V: o.Amount}, {V: cal.Day(o.OrderedAt)}})
	}
	v.Orders = rt
	rt.Title = loc.T("accounts.orders_title")
	return v, nil
}

// tables are the account page's tables in its order, sorted as r asks.
func (v *accountView) tables(r *http.Request) []*dataTable {
	out := []*dataTable{v.People, v.Opps, v.Orders}
	for _, t := range out {
		t.prepare(r, "", false)
	}
	return out
}

func (s *Server) accountPage(w http.ResponseWriter, r *http.Request) {
	id, ok := pageID(r)
	if !ok {
		s.renderError(w, r, http.StatusNotFound, "error.not_found")
		return
	}
	loc := s.catalog.locale(langOnly(r))
	v, err := s.accountData(r, loc, id)
	if s.pageFailed(w, r, err, "accounts.error.not_found", "account page", func(text string) {
		v.Error = text
		s.render(w, r, http.StatusBadRequest, "account", "accounts.detail_title", v)
	}) {
		return
	}
	if s.exportTable(w, r, "account-"+strconv.FormatInt(id, 10), v.Filter, v.tables(r)...) {
		return
	}
	s.render(w, r, http.StatusOK, "account", "accounts.detail_title", v)
}

func (s *Server) apiAccount(w http.ResponseWriter, r *http.Request) {
	id, ok := pageID(r)
	if !ok {
		writeJSONError(w, http.StatusBadRequest, "id: want an account id")
		return
	}
	format, err := apiFormat(r)
	if s.apiFailed(w, r, err, "") {
		return
	}
	v, err := s.accountData(r, s.fileLocale(r, format), id)
	if s.apiFailed(w, r, err, fmt.Sprintf("no account %d", id)) {
		return
	}
	if format != formatJSON {
		s.apiTables(w, r, format, "account-"+strconv.FormatInt(id, 10), v.Filter, v.tables(r)...)
		return
	}
	type personJSON struct {
		ID                int64       `json:"id"`
		Name              string      `json:"name"`
		Email             string      `json:"email"`
		Title             string      `json:"title"`
		Stage             model.Stage `json:"stage"`
		Grade             string      `json:"grade"`
		Score             float64     `json:"score"`
		Owner             string      `json:"owner"`
		FirstTouchChannel string      `json:"first_touch_channel"`
	}
	type oppJSON struct {
		ID                  int64       `json:"id"`
		Name                string      `json:"name"`
		Stage               string      `json:"stage"`
		Amount              model.Money `json:"amount"`
		CreatedAt           time.Time   `json:"created_at"`
		ClosedAt            *time.Time  `json:"closed_at"`
		Owner               string      `json:"owner"`
		PrimaryContactID    int64       `json:"primary_contact_id,omitempty"`
		PrimaryContact      string      `json:"primary_contact"`
		PrimaryFirstChannel string      `json:"primary_contact_first_touch_channel"`
		FirstTouchChannel   string      `json:"first_touch_model_channel"`
	}
	type orderJSON struct {
		ID            int64       `json:"id"`
		OpportunityID int64       `json:"opportunity_id,omitempty"`
		Amount        model.Money `json:"amount"`
		OrderedAt     time.Time   `json:"ordered_at"`
	}
	people, opps, orders := []personJSON{}, []oppJSON{}, []orderJSON{}
	for _, p := range v.PeopleJSON {
		people = append(people, personJSON{p.ID, p.Name, p.Email, p.Title, p.Stage, p.Grade, p.Score, p.Owner, p.FirstTouchChannel})
	}
	for _, o := range v.OppsJSON {
		opps = append(opps, oppJSON{o.ID, o.Name, o.Stage, o.Amount, o.CreatedAt, o.ClosedAt, o.Owner, o.PrimaryID, o.Primary, o.PrimaryFirstChannel, o.FirstTouchChannel})
	}
	for _, o := range v.OrdersJSON {
		orders = append(orders, orderJSON{o.ID, o.OpportunityID, o.Amount, o.OrderedAt})
	}
	writeJSON(w, http.StatusOK, map[string]any{"from": v.Filter.From, "to": v.Filter.To, "currency": "CNY", "account": v.Stats,
		"touches_by_month": v.Months, "people": people, "opportunities": opps, "orders": orders})
}
