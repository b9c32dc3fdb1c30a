package store

import (
	"context"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
)

// Searching the persons and accounts lists: a text found anywhere in a
// person's name, email or phone, or in the name, English name or domain
// of their account, Latin letters in any case. The match is always LIKE
// '%text%' on those columns (ASCII case folded); what changes with the
// text is how the candidates are found (migration 00036):
//
//   - SQLite: a text of three characters or more looks its candidates up
//     in the FTS5 trigram tables persons_search and accounts_search, which
//     LIKE then checks (the trigram tokenizer folds more than ASCII case,
//     so it finds a superset). When it finds more than
//     searchCandidateCap persons, reading the list's order and testing each
//     row is cheaper than fetching every candidate, and the search does so.
//   - PostgreSQL: the pg_trgm GIN indexes answer LIKE and ILIKE themselves
//     when the text holds three letters or digits in a row; the planner
//     weighs them against reading the list's order.
//   - Shorter texts (a Chinese surname) and texts without such a run test
//     every row of the range, from the narrow index persons_first_seen_scan
//     rather than the table; the first page stops as soon as it is full.
//
// The accounts a text matches are looked up first: persons of at most
// searchAccountsInline accounts are selected by a list of ids (an index
// lookup), more by a subquery.

const (
	searchCandidateCap   = 20_000
	searchAccountsInline = 1_000
)

// personSearch is a search resolved against the accounts and the index.
type personSearch struct {
	accountIDs   []int64 // the accounts matching, when few
	manyAccounts bool    // more than searchAccountsInline match
	// candidates says persons_search (SQLite) narrows the persons
	// matching by name, email or phone to few enough to fetch.
	candidates bool
}

// planPerText makes PostgreSQL plan a search query for its own text: pgx
// prepares and caches a statement per connection, and after five runs
// PostgreSQL may keep a generic plan, made without the pattern, that
// walks the list's order testing every row where the pattern's trigrams
// would have found the few matches (0.24 s instead of 2 ms at scale 10).
// With the unnamed statement of QueryExecModeExec it plans each run with
// the values.
func (s *Store) planPerText(args []any) []any {
	if s.dialect != Postgres {
		return args
	}
	return append([]any{pgx.QueryExecModeExec}, args...)
}

// caps are searchCandidateCap and searchAccountsInline, or what a test
// set instead.
func (s *Store) caps() (candidates, accounts int) {
	if s.searchCaps != nil {
		return s.searchCaps[0], s.searchCaps[1]
	}
	return searchCandidateCap, searchAccountsInline
}

// trigramText says whether the SQLite trigram index can look text up.
func trigramText(text string) bool { return utf8.RuneCountInString(text) >= 3 }

// pgTrigramText says whether pg_trgm can find trigrams in LIKE '%text%':
// a run of three ASCII letters or digits (word characters in any locale;
// under the C locale, the usual one, Chinese characters are not).
func pgTrigramText(text string) bool {
	run := 0
	for _, c := range text {
		if c < utf8.RuneSelf && (unicode.IsLetter(c) || unicode.IsDigit(c)) {
			if run++; run >= 3 {
				return true
			}
		} else {
			run = 0
		}
	}
	return false
}

// cased says whether text has a character with another case, i.e.
// whether matching it ignoring case differs from matching it exactly.
func cased(text string) bool {
	for _, c := range text {
		if unicode.ToLower(c) != c || unicode.ToUpper(c) != c {
			return true
		}
	}
	return false
}

// ftsPhrase is an FTS5 query for text as one phrase, optionally in one
// column.
func ftsPhrase(column, text string) string {
	p := `"` + strings.ReplaceAll(text, `"`, `""`) + `"`
	if column != "" {
		p = column + " : " + p
	}
	return p
}

// textMatch is the condition that one of cols (with the table alias)
// contains the text, for a text that pat (likePattern, lower case) finds,
// and its arguments.
func (s *Store) textMatch(text, pat string, cols ...string) (string, []any) {
	// Which form tests a column:
	//   - instr/strpos: a text without case, tested on every row (the
	//     quickest test);
	//   - LOWER(col) LIKE: a text with case, tested on every row
	//     (quicker than ILIKE, the same match);
	//   - LIKE / ILIKE: on PostgreSQL, a text pg_trgm can look up, the
	//     operators its index answers.
	// SQLite's LIKE ignores ASCII case, which is what LOWER (ASCII only
	// there) does, so SQLite needs no LOWER. On PostgreSQL the forms that
	// test every row are also ones the trigram index cannot answer, so
	// that a generic plan of the prepared statement never reads the whole
	// index for a pattern without trigrams.
	form := "like"
	switch {
	case !cased(text) && (s.dialect == SQLite || !pgTrigramText(text)):
		form = "position"
	case s.dialect == Postgres && !pgTrigramText(text):
		form = "lower"
	case s.dialect == Postgres && cased(text):
		form = "ilike"
	}
	var or []string
	var args []any
	for _, c := range cols {
		switch form {
		case "position":
			if s.dialect == SQLite {
				or = append(or, "instr("+c+", ?) > 0")
			} else {
				or = append(or, "strpos("+c+", ?) > 0")
			}
			args = append(args, text)
			continue
		case "lower":
			or = append(or, "LOWER("+c+`) LIKE ? ESCAPE '\'`)
		case "ilike":
			or = append(or, c+` ILIKE ? ESCAPE '\'`)
		default:
			or = append(or, c+` LIKE ? ESCAPE '\'`)
		}
		args = append(args, pat)
	}
	return strings.Join(or, " OR "), args
}

// accountTextCond is the condition on accounts a that q's text selects.
func (s *Store) accountTextCond(text string) (string, []any) {
	pat := likePattern(strings.ToLower(text))
	cond, args := s.textMatch(text, pat, "a.name", "a.name_en", "a.domain")
	if s.dialect == SQLite && trigramText(text) {
		cond = "a.id IN (SELECT rowid FROM accounts_search WHERE accounts_search MATCH ?) AND (" + cond + ")"
		args = append([]any{ftsPhrase("", text)}, args...)
	}
	return cond, args
}

// resolveSearch looks up what q's text needs before the list's queries:
// the accounts it matches and, on SQLite, whether the trigram index has
// few enough candidates.
func (s *Store) resolveSearch(ctx context.Context, text string) (*personSearch, error) {
	ps := &personSearch{}
	candidateCap, inline := s.caps()
	cond, args := s.accountTextCond(text)
	ids, err := scanAll(ctx, s, s.r, "SELECT a.id FROM accounts a WHERE "+cond+" LIMIT ?", s.planPerText(append(args, inline+1)), scanValue[int64])
	if err != nil {
		return nil, fmt.Errorf("persons search: accounts: %w", err)
	}
	if len(ids) > inline {
		ps.manyAccounts = true
	} else {
		ps.accountIDs = ids
	}
	if s.dialect == SQLite && trigramText(text) && !ps.manyAccounts {
		var n int
		err := s.r.QueryRowContext(ctx, "SELECT COUNT(*) FROM (SELECT 1 FROM persons_search WHERE persons_search MATCH ? LIMIT ?)",
			ftsPhrase("", text), candidateCap+1).Scan(&n)
		if err != nil {
			return nil, fmt.Errorf("persons search: %w", err)
		}
		ps.candidates = n <= candidateCap
	}
	return ps, nil
}

// ResolveSearch prepares q's search for ListPersons and CountPersons (which
// otherwise each do it): a list that runs both, or pages through an
// export, looks the text up once.
func (s *Store) ResolveSearch(ctx context.Context, q PersonQuery) (PersonQuery, error) {
	if q.Text == "" || q.search != nil {
		return q, nil
	}
	ps, err := s.resolveSearch(ctx, q.Text)
	if err != nil {
		return q, err
	}
	q.search = ps
	return q, nil
}

// searchCond is the condition of q's text, email and phone (resolved), ""
// when it has none.
func (s *Store) searchCond(q PersonQuery) (string, []any) {
	var or []string
	var args []any
	sqliteIndexed := s.dialect == SQLite && q.search != nil && q.search.candidates
	if q.Text != "" {
		pat := likePattern(strings.ToLower(q.Text))
		cond, cargs := s.textMatch(q.Text, pat, "p.name", "p.email", "p.phone")
		if sqliteIndexed {
			cond = "p.id IN (SELECT rowid FROM persons_search WHERE persons_search MATCH ?) AND (" + cond + ")"
			cargs = append([]any{ftsPhrase("", q.Text)}, cargs...)
		}
		or, args = append(or, cond), append(args, cargs...)
		switch ps := q.search; {
		case ps.manyAccounts:
			acond, aargs := s.accountTextCond(q.Text)
			or = append(or, "p.account_id IN (SELECT a.id FROM accounts a WHERE "+acond+")")
			args = append(args, aargs...)
		case len(ps.accountIDs) > 0:
			in, iargs := inList("p.account_id", ps.accountIDs)
			or, args = append(or, in), append(args, iargs...)
		}
	}
	// A PostgreSQL array of the identifier's persons (one at most) keeps
	// the OR open to bitmap index scans; a subquery would not.
	identity := func(typ string) string {
		if s.dialect == Postgres {
			return "p.id = ANY (ARRAY(SELECT i.person_id FROM identities i WHERE i.type = '" + typ + "' AND i.value = ?))"
		}
		return "p.id IN (SELECT i.person_id FROM identities i WHERE i.type = '" + typ + "' AND i.value = ?)"
	}
	if q.Email != "" {
		or, args = append(or, identity("email")), append(args, q.Email)
	}
	if q.Phone != "" {
		or, args = append(or, identity("phone")), append(args, q.Phone)
		if sqliteIndexed {
			// persons.phone has no index of its own on SQLite: its
			// trigrams find the row.
			or = append(or, "p.id IN (SELECT rowid FROM persons_search WHERE persons_search MATCH ?) AND p.phone = ?")
			args = append(args, ftsPhrase("phone", q.Phone), q.Phone)
		} else {
			or, args = append(or, "p.phone = ?"), append(args, q.Phone)
		}
	}
	if len(or) == 0 {
		return "", nil
	}
	for i, c := range or {
		or[i] = "(" + c + ")"
	}
	return "(" + strings.Join(or, " OR ") + ")", args
}
