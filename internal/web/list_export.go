package web

import (
	"net/http"
	"strconv"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
)

// The paged lists' exports: every person, account or campaign member the
// filters match (not only the page shown), read listExportChunk rows at a
// time in the list's order, at most listExportMax.

// fileLocale is the language of a twin's answer: English names in JSON
// as before, the reader's language (lang, cookie, Accept-Language) in
// files people open.
func (s *Server) fileLocale(r *http.Request, format string) Locale {
	if format == formatJSON {
		return s.catalog.locale(LangEN)
	}
	return s.catalog.locale(langOnly(r))
}

// exportList answers a page's ?export=id (and format) with the whole list
// build gives, as the file name, and reports whether it did; another
// export is not its business.
func (s *Server) exportList(w http.ResponseWriter, r *http.Request, id, name string, build func() (listExport, error)) bool {
	if exportRequested(r) != id {
		return false
	}
	format, err := exportFormat(r)
	if err != nil {
		s.renderError(w, r, http.StatusBadRequest, "error.bad_format")
		return true
	}
	e, err := build()
	if err != nil {
		s.pageInternal(w, r, "export "+id, err)
		return true
	}
	s.streamList(w, r, false, format, name, e)
	return true
}

// personsExport is the whole filtered persons list of v's request, in its
// order, from the first row.
func (s *Server) personsExport(r *http.Request, l Locale, v *personsView) (listExport, error) {
	pq, _, err := s.personsQuery(r, v.Filter)
	if err != nil {
		return listExport{}, err
	}
	pq.After, pq.Limit = nil, listExportChunk
	if pq, err = s.store.ResolveSearch(r.Context(), pq); err != nil {
		return listExport{}, err
	}
	done := false
	next := func() ([][]cell, error) {
		if done {
			return nil, nil
		}
		rows, after, err := s.store.ListPersons(r.Context(), pq)
		if err != nil {
			return nil, err
		}
		out := make([][]cell, len(rows))
		for i, p := range rows {
			out[i] = personCells(l, v.Cal, p)
		}
		done, pq.After = after == nil, after
		return out, nil
	}
	return listExport{
		Table: &dataTable{ID: "persons", Title: l.T("persons.list"), Columns: personsColumns(l), Loc: v.Cal.Loc},
		Next:  next, Total: v.Total, Max: s.exportMax,
		Cut: l.T("persons.export_cut", "max", formatInt(int64(s.exportMax)), "n", formatInt(v.Total)),
	}, nil
}

// accountsExport is the whole filtered accounts list of v's request, by
// name (the order it is paged in), from the first row.
func (s *Server) accountsExport(r *http.Request, l Locale, v accountsView) (listExport, error) {
	aq := v.query
	aq.AfterName, aq.AfterID, aq.Limit = "", 0, listExportChunk
	total, err := s.store.CountAccounts(r.Context(), aq)
	if err != nil {
		return listExport{}, err
	}
	win, cal := v.Filter.Period.Window(), v.Filter.Period.Cal
	done := false
	next := func() ([][]cell, error) {
		if done {
			return nil, nil
		}
		rows, err := s.store.Accounts(r.Context(), aq)
		if err != nil {
			return nil, err
		}
		if done = len(rows) < aq.Limit; !done {
			last := rows[len(rows)-1]
			aq.AfterName, aq.AfterID = last.Name, last.ID
		}
		figs, err := s.accountFigures(r.Context(), rows, win)
		if err != nil {
			return nil, err
		}
		out := make([][]cell, len(figs))
		for i, a := range figs {
			out[i] = accountCells(l, a)
		}
		return out, nil
	}
	return listExport{Table: accountsTable(l, cal), Next: next, Total: total, Max: s.exportMax,
		Cut: l.T("accounts.export_cut", "max", formatInt(int64(s.exportMax)), "n", formatInt(total))}, nil
}

// membersExport is every member of campaign id in the filter's range, by
// person id (the order they are paged in).
func (s *Server) membersExport(r *http.Request, l Locale, id int64, f viewFilter) (listExport, error) {
	win, cal := f.Period.Window(), f.Period.Cal
	var after int64
	done := false
	total := int64(-1)
	next := func() ([][]cell, error) {
		if done {
			return nil, nil
		}
		mp, err := s.store.CampaignMembers(r.Context(), id, win.From, win.To, after, listExportChunk)
		if err != nil {
			return nil, err
		}
		total = mp.Total
		out := make([][]cell, len(mp.Members))
		for i, m := range mp.Members {
			out[i] = memberCells(l, m)
		}
		done, after = mp.Next == 0, mp.Next
		return out, nil
	}
	// The first chunk counts the members: read it now, hand it on first.
	first, err := next()
	if err != nil {
		return listExport{}, err
	}
	read := false
	return listExport{Table: membersTable(l, cal), Total: total, Max: s.exportMax,
		Next: func() ([][]cell, error) {
			if !read {
				read = true
				return first, nil
			}
			return next()
		},
		Cut: l.T("campaigns.members_export_cut", "max", formatInt(int64(s.exportMax)), "n", formatInt(total))}, nil
}

// membersTable is a campaign's members table without rows.
func membersTable(loc Locale, cal model.Calendar) *dataTable {
	return &dataTable{ID: "members", Title: loc.T("campaigns.members_title"), Loc: cal.Loc, Presorted: true, Empty: loc.T("campaigns.members_empty"), Columns: []column{
		{Key: "person", Label: loc.T("campaigns.col.person"), Kind: kindText},
		{Key: "account", Label: loc.T("campaigns.col.account"), Kind: kindText},
		{Key: "stage", Label: loc.T("campaigns.col.stage"), Kind: kindText},
		{Key: "how", Label: loc.T("campaigns.col.how"), Tip: loc.T("campaigns.tip.how"), Kind: kindText},
		{Key: "touches", Label: loc.T("campaigns.col.touches"), Kind: kindInt},
		{Key: "first", Label: loc.T("campaigns.col.first"), Kind: kindTime},
		{Key: "last", Label: loc.T("campaigns.col.last"), Kind: kindTime},
	}}
}

// memberCells is a member as a row of the members table.
func memberCells(loc Locale, m store.CampaignMember) []cell {
	name := cmpOr(m.Name, cmpOr(m.Email, "#"+strconv.FormatInt(m.PersonID, 10)))
	return []cell{{V: name, Href: "/persons/" + strconv.FormatInt(m.PersonID, 10)}, {V: m.Account},
		{V: string(m.Stage), Text: loc.Stage(m.Stage)}, {V: touchTypesText(loc, m.Types)}, {V: m.Touches}, {V: m.First}, {V: m.Last}}
}

// campaignFiles answers GET /api/v1/campaigns/{id}?format=csv|xlsx: the
// campaign page's tables, its members whole (?table= picks one; CSV
// without it is the first table, XLSX every table, a sheet each).
func (s *Server) campaignFiles(w http.ResponseWriter, r *http.Request, format string, id int64, v campaignView) {
	page := "campaign-" + v.Campaign.Code
	tables := []*dataTable{v.Children, v.Spend, v.Assets, v.Links}
	for _, t := range tables {
		t.prepare(r, "", false)
	}
	table := r.URL.Query().Get("table")
	if table == v.Members.ID {
		s.campaignMemberFiles(w, r, format, id, v.Filter)
		return
	}
	if table != "" || format == formatCSV {
		s.apiTables(w, r, format, page, v.Filter, append(tables, v.Members)...)
		return
	}
	e, err := s.membersExport(r, s.fileLocale(r, format), id, v.Filter)
	if err != nil {
		s.apiInternal(w, r, err)
		return
	}
	b := newWorkbook()
	defer b.close()
	err = func() error {
		for _, t := range tables {
			if err := b.table(t); err != nil {
				return err
			}
		}
		if err := b.list(w, e); err != nil {
			return err
		}
		return b.send(w, exportName(page, "", v.Filter))
	}()
	if err != nil {
		s.fileFailed(w, r, true, err)
	}
}

// campaignMemberFiles answers the members of campaign id in f's range as
// a file: all of them, not a page.
func (s *Server) campaignMemberFiles(w http.ResponseWriter, r *http.Request, format string, id int64, f viewFilter) {
	c, err := s.store.CampaignByID(r.Context(), id)
	if err != nil {
		s.apiFailed(w, r, err, "no campaign "+strconv.FormatInt(id, 10))
		return
	}
	e, err := s.membersExport(r, s.fileLocale(r, format), id, f)
	if err != nil {
		s.apiInternal(w, r, err)
		return
	}
	s.streamList(w, r, true, format, exportName("campaign-"+c.Code, "members", f), e)
}
