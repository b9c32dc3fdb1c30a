package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/revloop/revloop/internal/model"
)

// The persons list: persons filtered and ordered by one column, read a
// page at a time after the last row of the previous page (keyset paging),
// so that page 1,000 costs what page 1 costs and no person is skipped or
// shown twice while others are added.

// PersonSort is the column the persons list is ordered by; the id breaks
// ties. Each has an index in that order (migration 00032).
type PersonSort string

// The orders of the persons list.
const (
	SortFirstSeen PersonSort = "first_seen" // persons.first_seen_at
	SortLeadAt    PersonSort = "lead_at"    // persons.lead_at; persons who never became leads come last
	SortScore     PersonSort = "score"      // persons.score
	SortName      PersonSort = "name"       // persons.name, by bytes; persons without a name come last
)

// PersonSorts lists the orders.
var PersonSorts = []PersonSort{SortFirstSeen, SortLeadAt, SortScore, SortName}

// column is the persons column of an order, and absent the condition of
// the rows without a value (listed after all the others, in either
// direction), "" when every row has one.
func (o PersonSort) column() (col, absent string) {
	switch o {
	case SortLeadAt:
		return "p.lead_at", "p.lead_at IS NULL"
	case SortScore:
		return "p.score", ""
	case SortName:
		return "p.name", "p.name = ''"
	}
	return "p.first_seen_at", ""
}

// PersonDate says which date the range of the persons list filters on.
type PersonDate string

// The dates of a person a range can select by.
const (
	DateFirstSeen PersonDate = "seen" // first seen: every person has one
	DateLead      PersonDate = "lead" // became a lead: only leads and later have one
)

// PersonQuery selects persons for the list. Zero fields select everyone
// (merged persons never show: they live on in the person they were
// merged into).
type PersonQuery struct {
	// Text matches, ignoring ASCII case, anywhere in the name, email,
	// phone, or the account's name, English name or domain; Email and
	// Phone, when set, also find the person holding that identifier
	// (normalised as on ingest). Any of them matching selects a person.
	Text, Email, Phone string
	Stages             []model.Stage
	Grades             []string // "" selects persons without a grade
	OwnerID            int64
	NoOwner            bool
	MinScore           *float64
	Channels           []model.Channel // first-touch channel
	DateBy             PersonDate
	From, To           time.Time // [From, To) of DateBy; zero ends are open

	Sort  PersonSort
	Desc  bool
	After *PersonKey // the last row of the previous page; nil for the first
	Limit int

	search *personSearch // what the text matched, once resolved
}

// PersonKey is where a page of the persons list ends: the order's value
// of its last row and the row's id.
type PersonKey struct {
	// Absent says the row had no value in the order's column (no lead
	// time, no name); the list continues among such rows, by id.
	Absent bool
	Time   time.Time
	Num    float64
	Text   string
	ID     int64
}

// PersonRow is one row of the persons list.
type PersonRow struct {
	ID                int64
	Name, Title       string
	Email, Phone      string
	AccountID         int64
	AccountName       string
	Stage             model.Stage
	Grade, SDRClass   string
	Score             float64
	OwnerID           int64
	OwnerName         string
	OwnerEmail        string
	FirstTouchChannel model.Channel
	FirstSeenAt       time.Time
	LeadAt            *time.Time
}

// Key is the row's place in an order.
func (r PersonRow) Key(o PersonSort) PersonKey {
	k := PersonKey{ID: r.ID}
	switch o {
	case SortLeadAt:
		if r.LeadAt == nil {
			k.Absent = true
		} else {
			k.Time = *r.LeadAt
		}
	case SortScore:
		k.Num = r.Score
	case SortName:
		k.Text, k.Absent = r.Name, r.Name == ""
	default:
		k.Time = r.FirstSeenAt
	}
	return k
}

func (k PersonKey) value(o PersonSort) any {
	switch o {
	case SortScore:
		return k.Num
	case SortName:
		return k.Text
	}
	return utc(k.Time)
}

// likePattern is a LIKE pattern matching text anywhere, with LIKE's
// wildcards in it taken literally (ESCAPE '\').
func likePattern(text string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(text) + "%"
}

// where is the filter of q (without the order's keyset) and its
// arguments; q's search must be resolved (ResolveSearch).
func (s *Store) personWhere(q PersonQuery) (string, []any) {
	conds := []string{"p.merged_into_id IS NULL"}
	var args []any
	if cond, cargs := s.searchCond(q); cond != "" {
		conds, args = append(conds, cond), append(args, cargs...)
	}
	in := func(col string, vals []string) {
		if len(vals) == 0 {
			return
		}
		conds = append(conds, col+" IN ("+strings.TrimSuffix(strings.Repeat("?, ", len(vals)), ", ")+")")
		for _, v := range vals {
			args = append(args, v)
		}
	}
	var stages, channels []string
	for _, st := range q.Stages {
		stages = append(stages, string(st))
	}
	for _, ch := range q.Channels {
		channels = append(channels, string(ch))
	}
	in("p.stage", stages)
	in("p.grade", q.Grades)
	in("p.first_touch_channel", channels)
	switch {
	case q.NoOwner:
		conds = append(conds, "p.owner_id IS NULL")
	case q.OwnerID != 0:
		conds, args = append(conds, "p.owner_id = ?"), append(args, q.OwnerID)
	}
	if q.MinScore != nil {
		conds, args = append(conds, "p.score >= ?"), append(args, *q.MinScore)
	}
	col := "p.first_seen_at"
	if q.DateBy == DateLead {
		col = "p.lead_at"
		if q.From.IsZero() && q.To.IsZero() {
			conds = append(conds, "p.lead_at IS NOT NULL")
		}
	}
	if !q.From.IsZero() {
		conds, args = append(conds, col+" >= ?"), append(args, utc(q.From))
	}
	if !q.To.IsZero() {
		conds, args = append(conds, col+" < ?"), append(args, utc(q.To))
	}
	return strings.Join(conds, " AND "), args
}

const personRowCols = `p.id, p.name, p.title, p.email, p.phone, COALESCE(p.account_id, 0), COALESCE(ac.name, ''), p.stage, p.grade, p.sdr_class,
	p.score, COALESCE(p.owner_id, 0), COALESCE(u.name, ''), COALESCE(u.email, ''), p.first_touch_channel, p.first_seen_at, p.lead_at
	FROM persons p LEFT JOIN accounts ac ON ac.id = p.account_id LEFT JOIN users u ON u.id = p.owner_id`

func scanPersonRow(r rowScanner) (PersonRow, error) {
	var p PersonRow
	var stage, ch string
	var lead sql.NullTime
	err := r.Scan(&p.ID, &p.Name, &p.Title, &p.Email, &p.Phone, &p.AccountID, &p.AccountName, &stage, &p.Grade, &p.SDRClass,
		&p.Score, &p.OwnerID, &p.OwnerName, &p.OwnerEmail, &ch, &p.FirstSeenAt, &lead)
	p.Stage, p.FirstTouchChannel = model.Stage(stage), model.Channel(ch)
	p.FirstSeenAt = p.FirstSeenAt.UTC()
	p.LeadAt = nullTimePtr(lead)
	return p, err
}

// ListPersons reads one page of the persons list: at most q.Limit rows
// after q.After in q's order. next is the key to continue from, nil on
// the last page.
func (s *Store) ListPersons(ctx context.Context, q PersonQuery) (rows []PersonRow, next *PersonKey, err error) {
	if q.Limit <= 0 {
		return nil, nil, fmt.Errorf("persons list: limit %d", q.Limit)
	}
	q, err = s.ResolveSearch(ctx, q)
	if err != nil {
		return nil, nil, err
	}
	where, args := s.personWhere(q)
	if q.Text != "" {
		args = s.planPerText(args)
	}
	col, absent := q.Sort.column()
	dir, cmp := "ASC", ">"
	if q.Desc {
		dir, cmp = "DESC", "<"
	}
	want := q.Limit + 1 // one more says whether there is a next page
	// The rows with a value come first, then (for a column some rows
	// lack) those without, by id: two reads along the indexes rather
	// than one sort of NULLs and empty names that the engines order
	// differently.
	if q.After == nil || !q.After.Absent {
		cond, cargs := where, args
		if absent != "" {
			cond += " AND NOT (" + absent + ")"
		}
		if q.After != nil {
			cond += fmt.Sprintf(" AND (%s, p.id) %s (?, ?)", col, cmp)
			cargs = append(append([]any{}, cargs...), q.After.value(q.Sort), q.After.ID)
		}
		page, err := scanAll(ctx, s, s.r, "SELECT "+personRowCols+" WHERE "+cond+
			fmt.Sprintf(" ORDER BY %s %s, p.id %s LIMIT ?", col, dir, dir), append(cargs, want), scanPersonRow)
		if err != nil {
			return nil, nil, err
		}
		rows = page
	}
	if absent != "" && len(rows) < want {
		cond, cargs := where+" AND "+absent, args
		if q.After != nil && q.After.Absent {
			cond += " AND p.id " + cmp + " ?"
			cargs = append(append([]any{}, cargs...), q.After.ID)
		}
		page, err := scanAll(ctx, s, s.r, "SELECT "+personRowCols+" WHERE "+cond+" ORDER BY p.id "+dir+" LIMIT ?",
			append(cargs, want-len(rows)), scanPersonRow)
		if err != nil {
			return nil, nil, err
		}
		rows = append(rows, page...)
	}
	if len(rows) > q.Limit {
		rows = rows[:q.Limit]
		k := rows[len(rows)-1].Key(q.Sort)
		next = &k
	}
	return rows, next, nil
}

// CountPersons counts the persons q selects (its order and page aside).
func (s *Store) CountPersons(ctx context.Context, q PersonQuery) (int64, error) {
	q, err := s.ResolveSearch(ctx, q)
	if err != nil {
		return 0, err
	}
	where, args := s.personWhere(q)
	if q.Text != "" {
		args = s.planPerText(args)
	}
	var n int64
	err = s.r.QueryRowContext(ctx, s.q("SELECT COUNT(*) FROM persons p WHERE "+where), args...).Scan(&n)
	return n, err
}
