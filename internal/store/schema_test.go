package store_test

import (
	"database/sql"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/revloop/revloop/internal/store/storetest"
)

// sqliteTypes is what each type a migration declares on SQLite must be on
// PostgreSQL, as information_schema names it. A type missing here fails
// the test, so that a new one is a decision rather than an accident.
var sqliteTypes = map[string]string{
	"INTEGER":          "integer",
	"BIGINT":           "bigint",
	"SMALLINT":         "smallint",
	"TEXT":             "text",
	"BOOLEAN":          "boolean",
	"DATE":             "date",
	"DATETIME":         "timestamp with time zone",
	"DOUBLE PRECISION": "double precision",
	"REAL":             "double precision", // SQLite's REAL has 8 bytes, PostgreSQL's 4
	"BLOB":             "bytea",
}

// intendedSchemaDifferences are the parts of the schema (see schemaFacts)
// that differ between the engines on purpose, with the reason.
var intendedSchemaDifferences = map[string]string{
	"column imports.rows_read":            "declared BIGINT on PostgreSQL only (00005); SQLite's INTEGER holds 64 bits anyway",
	"column imports.rows_new":             "declared BIGINT on PostgreSQL only (00005); SQLite's INTEGER holds 64 bits anyway",
	"column imports.rows_same":            "declared BIGINT on PostgreSQL only (00005); SQLite's INTEGER holds 64 bits anyway",
	"column imports.rows_updated":         "declared BIGINT on PostgreSQL only (00005); SQLite's INTEGER holds 64 bits anyway",
	"column imports.rows_skipped":         "declared BIGINT on PostgreSQL only (00005); SQLite's INTEGER holds 64 bits anyway",
	"column readiness.id":                 "its one row has id 1 (00019): a plain INTEGER PRIMARY KEY, the rowid on SQLite",
	"index events_unprocessed":            "SQLite covers a partial index only with its WHERE column in it (00013)",
	"foreign key events (person_id)":      "dropped on PostgreSQL for ingest speed (00016)",
	"foreign key events (write_key_id)":   "dropped on PostgreSQL for ingest speed (00016)",
	"foreign key touchpoints (person_id)": "dropped on PostgreSQL for ingest speed (00016)",
	"foreign key touchpoints (event_id)":  "dropped on PostgreSQL for ingest speed (00016)",
	"index persons_first_seen_scan":       "covers the persons list's search: every column on SQLite, a partial index of the persons not merged with INCLUDE columns on PostgreSQL (00036)",
}

// TestSchemasMatchAcrossEngines migrates both engines and compares their
// versions, tables, columns (type, nullability, whether there is a
// default), keys, foreign keys and indexes. CHECK constraints are not
// compared: SQLite keeps them only in the CREATE TABLE text.
func TestSchemasMatchAcrossEngines(t *testing.T) {
	lite := sqliteSchema(t, storetest.SQLite(t).WriterDB())
	pg := postgresSchema(t, storetest.Postgres(t).WriterDB())

	subjects := slices.Collect(maps.Keys(lite))
	subjects = slices.AppendSeq(subjects, maps.Keys(pg))
	subjects = slices.AppendSeq(subjects, maps.Keys(intendedSchemaDifferences))
	slices.Sort(subjects)
	subjects = slices.Compact(subjects)
	var problems []string
	for _, k := range subjects {
		l, p := lite.describe(k), pg.describe(k)
		_, intended := intendedSchemaDifferences[k]
		switch {
		case l == p && intended:
			problems = append(problems, fmt.Sprintf("%s: listed as an intended difference but the same on both (%s)", k, l))
		case l != p && !intended:
			problems = append(problems, fmt.Sprintf("%s:\n\tsqlite:   %s\n\tpostgres: %s", k, l, p))
		}
	}
	if len(problems) > 0 {
		t.Fatalf("the engines' schemas differ:\n%s", strings.Join(problems, "\n"))
	}
}

// schemaFacts maps a part of the schema ("column persons.id", "index
// persons_stage", ...) to a description that must be the same on both
// engines.
type schemaFacts map[string]string

func (f schemaFacts) describe(subject string) string {
	if d, ok := f[subject]; ok {
		return d
	}
	return "(absent)"
}

func (f schemaFacts) column(table, col, typ string, notNull, dflt, auto bool) {
	d := typ
	if notNull {
		d += " not null"
	}
	switch {
	case auto:
		d += " auto-assigned"
	case dflt:
		d += " with default"
	}
	f["column "+table+"."+col] = d
}

func (f schemaFacts) index(name, table string, cols []string, unique, partial bool) {
	d := "on " + table + " (" + strings.Join(cols, ", ") + ")"
	if unique {
		d += " unique"
	}
	if partial {
		d += " partial"
	}
	f["index "+name] = d
}

func (f schemaFacts) foreignKey(table string, cols []string, ref string, refCols []string, onDelete string) {
	f["foreign key "+table+" ("+strings.Join(cols, ", ")+")"] = "references " + ref + " (" + strings.Join(refCols, ", ") + ") on delete " + onDelete
}

// ignoredTable reports the tables that are goose's and SQLite's own.
func ignoredTable(name string) bool {
	return name == "goose_db_version" || strings.HasPrefix(name, "sqlite_")
}

func queryRows(t *testing.T, db *sql.DB, query string, args []any, dest func() []any, each func()) {
	t.Helper()
	rows, err := db.Query(query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := rows.Scan(dest()...); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		each()
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

func schemaVersions(t *testing.T, db *sql.DB, f schemaFacts) {
	var v int64
	queryRows(t, db, "SELECT version_id FROM goose_db_version WHERE version_id > 0", nil,
		func() []any { return []any{&v} }, func() { f[fmt.Sprintf("version %05d", v)] = "applied" })
}

func sqliteSchema(t *testing.T, db *sql.DB) schemaFacts {
	f := schemaFacts{}
	schemaVersions(t, db, f)
	var tables []string
	virtual := map[string]string{} // name: CREATE text
	var name, kind, sqlText string
	queryRows(t, db, "SELECT m.name, l.type, m.sql FROM sqlite_master m JOIN pragma_table_list l ON l.name = m.name AND l.schema = 'main' WHERE m.type = 'table' ORDER BY m.name", nil,
		func() []any { return []any{&name, &kind, &sqlText} }, func() {
			switch {
			case ignoredTable(name), kind == "shadow":
			case kind == "virtual":
				virtual[name] = sqlText
			default:
				tables = append(tables, name)
			}
		})
	// An FTS5 trigram table over a table's columns is the search index
	// PostgreSQL has as a pg_trgm GIN index of the same name on the same
	// columns (00036).
	for name, create := range virtual {
		f.index(name, ftsContentTable(t, create), ftsColumns(t, db, name), false, false)
	}
	for _, table := range tables {
		f["table "+table] = "exists"
		var withoutRowID bool
		if err := db.QueryRow("SELECT wr FROM pragma_table_list WHERE name = ?", table).Scan(&withoutRowID); err != nil {
			t.Fatal(err)
		}
		type col struct {
			name, typ string
			notNull   bool
			dflt      sql.NullString
			pk        int
		}
		var cols []col
		var c col
		queryRows(t, db, "SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info(?) ORDER BY cid", []any{table},
			func() []any { return []any{&c.name, &c.typ, &c.notNull, &c.dflt, &c.pk} }, func() { cols = append(cols, c) })
		var pk []string
		byKey := slices.Clone(cols)
		slices.SortFunc(byKey, func(a, b col) int { return a.pk - b.pk })
		for _, c := range byKey {
			if c.pk > 0 {
				pk = append(pk, c.name)
			}
		}
		if len(pk) > 0 {
			f["primary key "+table] = "(" + strings.Join(pk, ", ") + ")"
		}
		for _, c := range cols {
			typ, ok := sqliteTypes[strings.ToUpper(c.typ)]
			if !ok {
				t.Fatalf("column %s.%s: SQLite type %q is not in sqliteTypes", table, c.name, c.typ)
			}
			// INTEGER PRIMARY KEY names the 64-bit rowid, which SQLite
			// assigns when an insert leaves it out.
			rowid := !withoutRowID && len(pk) == 1 && c.pk == 1 && strings.EqualFold(c.typ, "INTEGER")
			if rowid {
				typ = "bigint"
			}
			// A primary key is NOT NULL in SQL; SQLite lets the key of a
			// rowid table hold NULL unless declared otherwise, a quirk
			// kept for old applications that the code never relies on.
			f.column(table, c.name, typ, c.notNull || c.pk > 0, c.dflt.Valid, rowid)
		}

		type idx struct {
			name, origin    string
			unique, partial bool
		}
		var idxs []idx
		var ix idx
		queryRows(t, db, "SELECT name, origin, \"unique\", partial FROM pragma_index_list(?)", []any{table},
			func() []any { return []any{&ix.name, &ix.origin, &ix.unique, &ix.partial} }, func() { idxs = append(idxs, ix) })
		for _, ix := range idxs {
			var cols []string
			var cname sql.NullString
			queryRows(t, db, "SELECT name FROM pragma_index_info(?) ORDER BY seqno", []any{ix.name},
				func() []any { return []any{&cname} }, func() {
					if cname.Valid {
						cols = append(cols, cname.String)
					} else {
						cols = append(cols, "(expression)")
					}
				})
			switch ix.origin {
			case "c":
				f.index(ix.name, table, cols, ix.unique, ix.partial)
			case "u":
				f["unique "+table+" ("+strings.Join(cols, ", ")+")"] = "constraint"
			}
		}

		type fkey struct {
			ref, onDelete string
			from, to      []string
		}
		fks := map[int]*fkey{}
		var id int
		var ref, from, to, onDelete string
		queryRows(t, db, "SELECT id, \"table\", \"from\", \"to\", on_delete FROM pragma_foreign_key_list(?) ORDER BY id, seq", []any{table},
			func() []any { return []any{&id, &ref, &from, &to, &onDelete} }, func() {
				if fks[id] == nil {
					fks[id] = &fkey{ref: ref, onDelete: onDelete}
				}
				fks[id].from = append(fks[id].from, from)
				fks[id].to = append(fks[id].to, to)
			})
		for _, fk := range fks {
			f.foreignKey(table, fk.from, fk.ref, fk.to, fk.onDelete)
		}
	}
	return f
}

// ftsContentTable is the content= table of an FTS5 table's CREATE text.
func ftsContentTable(t *testing.T, create string) string {
	_, rest, ok := strings.Cut(create, "content='")
	table, _, ok2 := strings.Cut(rest, "'")
	if !ok || !ok2 || !strings.Contains(create, "tokenize='trigram'") {
		t.Fatalf("virtual table %q: want an FTS5 trigram table with external content", create)
	}
	return table
}

func ftsColumns(t *testing.T, db *sql.DB, table string) []string {
	var cols []string
	var c string
	queryRows(t, db, "SELECT name FROM pragma_table_info(?) ORDER BY cid", []any{table},
		func() []any { return []any{&c} }, func() { cols = append(cols, c) })
	return cols
}

func postgresSchema(t *testing.T, db *sql.DB) schemaFacts {
	f := schemaFacts{}
	schemaVersions(t, db, f)
	var table, col, typ, nullable string
	var dflt sql.NullString
	queryRows(t, db, `SELECT table_name, column_name, data_type, is_nullable, column_default
		FROM information_schema.columns WHERE table_schema = 'public'`, nil,
		func() []any { return []any{&table, &col, &typ, &nullable, &dflt} }, func() {
			if ignoredTable(table) {
				return
			}
			f["table "+table] = "exists"
			auto := strings.HasPrefix(dflt.String, "nextval(")
			f.column(table, col, typ, nullable == "NO", dflt.Valid, auto)
		})

	// Keys in the order of their columns.
	const colNames = `(SELECT string_agg(a.attname, ',' ORDER BY k.n) FROM unnest(%s) WITH ORDINALITY k(attnum, n)
		JOIN pg_attribute a ON a.attrelid = %s AND a.attnum = k.attnum)`
	var kind, cols, ref, refCols, onDelete string
	queryRows(t, db, `SELECT c.conrelid::regclass::text, c.contype::text, `+fmt.Sprintf(colNames, "c.conkey", "c.conrelid")+`,
		COALESCE(c.confrelid::regclass::text, ''), COALESCE(`+fmt.Sprintf(colNames, "c.confkey", "c.confrelid")+`, ''),
		CASE c.confdeltype WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL' WHEN 'd' THEN 'SET DEFAULT'
			WHEN 'r' THEN 'RESTRICT' ELSE 'NO ACTION' END
		FROM pg_constraint c WHERE c.connamespace = 'public'::regnamespace AND c.contype IN ('p', 'u', 'f')`, nil,
		func() []any { return []any{&table, &kind, &cols, &ref, &refCols, &onDelete} }, func() {
			if ignoredTable(table) {
				return
			}
			list := strings.Split(cols, ",")
			switch kind {
			case "p":
				f["primary key "+table] = "(" + strings.Join(list, ", ") + ")"
			case "u":
				f["unique "+table+" ("+strings.Join(list, ", ")+")"] = "constraint"
			case "f":
				f.foreignKey(table, list, ref, strings.Split(refCols, ","), onDelete)
			}
		})

	// Indexes made by CREATE INDEX, not those behind a key.
	var name string
	var unique, partial bool
	queryRows(t, db, `SELECT i.relname, r.relname, x.indisunique, x.indpred IS NOT NULL,
		(SELECT string_agg(COALESCE(a.attname, '(expression)'), ',' ORDER BY k.n) FROM unnest(x.indkey::int2[]) WITH ORDINALITY k(attnum, n)
			LEFT JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum AND k.attnum > 0)
		FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class r ON r.oid = x.indrelid
		WHERE r.relnamespace = 'public'::regnamespace
		AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid AND c.contype IN ('p', 'u', 'x'))`, nil,
		func() []any { return []any{&name, &table, &unique, &partial, &cols} }, func() {
			if !ignoredTable(table) {
				f.index(name, table, strings.Split(cols, ","), unique, partial)
			}
		})
	return f
}
