package store

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"time"
)

// MaxExportRows bounds the rows of one section of a person's export
// (events, touchpoints, credits...); a section cut there says so in
// "truncated".
const MaxExportRows = 200000

// ExportPerson writes everything held about a person (and the persons
// merged into it) to w as one JSON object, streaming each section from the
// database: the person rows, identities, consent, stage and qualification
// history, assignments, activities, tasks, opportunities it is a contact
// of, merges and conflicts, touchpoints, attribution credits of its
// touches and conversions, and raw events with their payloads. A merged
// person is ErrMerged.
func (s *Store) ExportPerson(ctx context.Context, personID int64, w io.Writer) error {
	id, err := s.survivor(ctx, s.r, personID)
	if err != nil {
		return err
	}
	if id != personID {
		return ErrMerged{Into: id}
	}
	persons := []int64{id}
	for next := []int64{id}; len(next) > 0 && len(persons) <= maxErasedPersons; {
		in, args := inList("merged_into_id", next)
		var found []int64
		if err := s.each(ctx, "SELECT id FROM persons WHERE "+in, args, func(r *sql.Rows) error {
			var m int64
			if err := r.Scan(&m); err != nil {
				return err
			}
			found = append(found, m)
			return nil
		}); err != nil {
			return err
		}
		persons = append(persons, found...)
		next = found
	}
	pIn, pArgs := inList("person_id", persons)
	idIn, _ := inList("id", persons)
	aIn, _ := inList("person_a", persons)
	bIn, _ := inList("person_b", persons)
	intoIn, _ := inList("into_id", persons)
	fromIn, _ := inList("from_id", persons)
	twice := append(append([]any{}, pArgs...), pArgs...)
	sections := []struct {
		name, query string
		args        []any
	}{
		{"persons", "SELECT * FROM persons WHERE " + idIn + " ORDER BY id", pArgs},
		{"identities", "SELECT * FROM identities WHERE " + pIn + " ORDER BY type, value", pArgs},
		{"consent", "SELECT * FROM consents WHERE " + pIn + " ORDER BY channel", pArgs},
		{"stage_changes", "SELECT * FROM stage_changes WHERE " + pIn + " ORDER BY changed_at, id", pArgs},
		{"qualification_changes", "SELECT * FROM qualification_changes WHERE " + pIn + " ORDER BY changed_at, id", pArgs},
		{"assignments", "SELECT * FROM assignments WHERE " + pIn + " ORDER BY assigned_at, id", pArgs},
		{"activities", "SELECT * FROM activities WHERE " + pIn + " ORDER BY occurred_at, id", pArgs},
		{"tasks", "SELECT * FROM tasks WHERE " + pIn + " ORDER BY id", pArgs},
		{"opportunities", "SELECT oc.role, oc.is_primary, o.id AS opportunity_id, o.name, o.stage, o.amount_fen, o.created_at, o.closed_at FROM opportunity_contacts oc JOIN opportunities o ON o.id = oc.opportunity_id WHERE oc." + pIn + " ORDER BY o.id", pArgs},
		{"merges", "SELECT id, into_id, from_id, reason, actor, created_at, undone_at FROM person_merges WHERE " + intoIn + " OR " + fromIn + " ORDER BY id", twice},
		{"identity_conflicts", "SELECT * FROM identity_conflicts WHERE " + aIn + " OR " + bIn + " ORDER BY id", twice},
		{"suppressions", "SELECT id_type, reason, created_at FROM suppressions WHERE " + pIn + " ORDER BY id", pArgs},
		{"touchpoints", "SELECT * FROM touchpoints WHERE " + pIn + " ORDER BY occurred_at, id", pArgs},
		{"credits", "SELECT ac.* FROM attribution_credits ac JOIN touchpoints t ON t.id = ac.touch_id WHERE t." + pIn + " ORDER BY ac.kind, ac.conversion_id, ac.touch_id", pArgs},
		{"conversions", "SELECT * FROM attribution_conversions WHERE " + pIn + " ORDER BY converted_at", pArgs},
		{"events", "SELECT * FROM events WHERE " + pIn + " ORDER BY id", pArgs},
		{"message_events", "SELECT * FROM message_events WHERE " + pIn + " ORDER BY at, message_key, kind", pArgs},
		{"journey_entries", "SELECT * FROM journey_entries WHERE " + pIn + " ORDER BY entered_at, id", pArgs},
		{"journey_steps", "SELECT * FROM journey_ledger WHERE " + pIn + " ORDER BY entry_no, created_at, id", pArgs},
	}
	bw := bufio.NewWriterSize(w, 32<<10)
	enc := json.NewEncoder(bw)
	fmt.Fprintf(bw, `{"person_id":%d,"exported_at":%q`, id, time.Now().UTC().Format(time.RFC3339))
	var truncated []string
	for _, sec := range sections {
		fmt.Fprintf(bw, ",\n%q:[", sec.name)
		n := 0
		err := s.each(ctx, sec.query+" LIMIT ?", append(slices.Clip(sec.args), MaxExportRows+1), func(r *sql.Rows) error {
			n++
			if n > MaxExportRows {
				truncated = append(truncated, sec.name)
				return nil
			}
			row, err := exportRow(r)
			if err != nil {
				return err
			}
			if n > 1 {
				bw.WriteByte(',')
			}
			return enc.Encode(row)
		})
		if err != nil {
			return fmt.Errorf("export person %d: %s: %w", id, sec.name, err)
		}
		bw.WriteByte(']')
	}
	if len(truncated) == 0 {
		truncated = []string{}
	}
	note, _ := json.Marshal(truncated)
	fmt.Fprintf(bw, ",\n\"truncated\":%s,\"max_rows_per_section\":%d}\n", note, MaxExportRows)
	return bw.Flush()
}

// exportRow reads the current row as column → value; payloads and traits
// that hold JSON are embedded as JSON.
func exportRow(r *sql.Rows) (map[string]any, error) {
	cols, err := r.Columns()
	if err != nil {
		return nil, err
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := r.Scan(ptrs...); err != nil {
		return nil, err
	}
	row := make(map[string]any, len(cols))
	for i, c := range cols {
		v := vals[i]
		if b, ok := v.([]byte); ok {
			v = string(b)
		}
		switch x := v.(type) {
		case string:
			if (c == "payload" || c == "traits" || c == "snapshot") && json.Valid([]byte(x)) {
				v = json.RawMessage(x)
			}
		case time.Time:
			v = x.UTC()
		}
		row[c] = v
	}
	return row, nil
}
