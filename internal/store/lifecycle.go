package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/revloop/revloop/internal/model"
)

// This file holds the lifecycle's SQL: a person's stage and qualification
// (grade, SDR class and who set them), the lifecycle rule sets, the CRM's
// opportunities and orders, and the rows the funnel figures are built from.
// internal/lifecycle decides; the store reads and writes.

// PersonStage reads a person's current stage and since when. A person
// merged into another is ErrNotFound.
func (s *Store) PersonStage(ctx context.Context, id int64) (model.Stage, *time.Time, error) {
	var st string
	var at sql.NullTime
	err := s.r.QueryRowContext(ctx, s.q(`SELECT stage, stage_at FROM persons WHERE id = ? AND merged_into_id IS NULL`), id).Scan(&st, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil, ErrNotFound
	}
	if err != nil {
		return "", nil, err
	}
	if at.Valid {
		t := at.Time.UTC()
		return model.Stage(st), &t, nil
	}
	return model.Stage(st), nil, nil
}

// setByPerson mirrors lifecycle.ByPerson for the values stored in
// grade_set_by and sdr_class_set_by.
func setByPerson(actor string) bool {
	return strings.HasPrefix(actor, "user:") || strings.HasPrefix(actor, "apikey:")
}

// SetQualifications applies sets in one transaction and reports which
// changed something. A set whose value equals the current one changes
// nothing, except that a person taking over a value a rule set makes it
// theirs (so that rules leave it alone from then on). A person merged into
// another, or missing, is ErrNotFound.
func (s *Store) SetQualifications(ctx context.Context, sets []model.QualificationSet) ([]bool, error) {
	applied := make([]bool, len(sets))
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		for i, q := range sets {
			if q.Field != model.FieldGrade && q.Field != model.FieldSDRClass {
				return fmt.Errorf("unknown qualification field %q", q.Field)
			}
			var cur, by string
			err := tx.QueryRowContext(ctx, s.q(`SELECT `+q.Field+`, `+q.Field+`_set_by FROM persons WHERE id = ? AND merged_into_id IS NULL`), q.PersonID).Scan(&cur, &by)
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("person %d: %w", q.PersonID, ErrNotFound)
			}
			if err != nil {
				return err
			}
			if q.KeepManual && setByPerson(by) {
				continue
			}
			if cur == q.Value && (by == q.Actor || !setByPerson(q.Actor)) {
				continue
			}
			setBy := clip(q.Actor, 200)
			if q.Value == "" {
				setBy = "" // a cleared field belongs to the rules again
			}
			if _, err := tx.ExecContext(ctx, s.q(`UPDATE persons SET `+q.Field+` = ?, `+q.Field+`_set_by = ?, `+q.Field+`_set_at = ? WHERE id = ?`),
				q.Value, setBy, utc(q.At), q.PersonID); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO qualification_changes (person_id, field, old_value, new_value, changed_at, actor, reason, rule_version)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?)`), q.PersonID, q.Field, cur, q.Value, utc(q.At), clip(q.Actor, 200), clip(q.Reason, 500), nullID(q.RuleVersion)); err != nil {
				return err
			}
			applied[i] = true
		}
		return nil
	})
	return applied, err
}

// QualificationHistory returns a person's grade and SDR class changes, oldest first.
func (s *Store) QualificationHistory(ctx context.Context, personID int64) ([]model.QualificationChange, error) {
	out := []model.QualificationChange{}
	err := s.each(ctx, `SELECT person_id, field, old_value, new_value, changed_at, actor, reason, COALESCE(rule_version, 0)
		FROM qualification_changes WHERE person_id = ? ORDER BY changed_at, id`, []any{personID}, func(r *sql.Rows) error {
		var c model.QualificationChange
		if err := r.Scan(&c.PersonID, &c.Field, &c.Old, &c.New, &c.At, &c.Actor, &c.Reason, &c.RuleVersion); err != nil {
			return err
		}
		c.At = c.At.UTC()
		out = append(out, c)
		return nil
	})
	return out, err
}

// PersonQualification reads a person's grade and SDR class with who set them.
func (s *Store) PersonQualification(ctx context.Context, id int64) (model.PersonQualification, error) {
	var q model.PersonQualification
	var ga, ca sql.NullTime
	err := s.r.QueryRowContext(ctx, s.q(`SELECT grade, grade_set_by, grade_set_at, sdr_class, sdr_class_set_by, sdr_class_set_at
		FROM persons WHERE id = ? AND merged_into_id IS NULL`), id).Scan(&q.Grade, &q.GradeSetBy, &ga, &q.SDRClass, &q.SDRClassSetBy, &ca)
	if errors.Is(err, sql.ErrNoRows) {
		return q, ErrNotFound
	}
	q.GradeSetAt, q.SDRClassSetAt = timePtr(ga), timePtr(ca)
	return q, err
}

func timePtr(t sql.NullTime) *time.Time {
	if !t.Valid {
		return nil
	}
	u := t.Time.UTC()
	return &u
}

// LifecyclePerson is what the lifecycle rules look at for one person.
type LifecyclePerson struct {
	ID            int64
	Stage         model.Stage
	StageAt       *time.Time
	Score         float64
	Predicted     *float64
	Grade         string
	GradeSetBy    string
	SDRClass      string
	SDRClassSetBy string
	AccountTier   string
	Industry      string
	LastActivity  *time.Time // latest touchpoint; only filled when asked for
	DemoRequest   bool       // only filled when asked for
}

// LifecyclePersons reads every person past the visitor stage (merged
// persons excluded), or with only not nil those of them whose ids it
// holds. withActivity fills LastActivity, withDemo DemoRequest: both cost
// a pass over the touchpoints (of the persons read), so rules ask only
// when they need them.
func (s *Store) LifecyclePersons(ctx context.Context, only []int64, withActivity, withDemo bool) ([]LifecyclePerson, error) {
	if only == nil {
		return s.lifecyclePersons(ctx, "", nil, withActivity, withDemo)
	}
	var out []LifecyclePerson
	for i := 0; i < len(only); i += idChunk {
		in, args := inList("person_id", only[i:min(i+idChunk, len(only))])
		part, err := s.lifecyclePersons(ctx, " AND "+in, args, withActivity, withDemo)
		if err != nil {
			return nil, err
		}
		out = append(out, part...)
	}
	return out, nil
}

// lifecyclePersons reads the persons of LifecyclePersons; filter, when not
// empty, is " AND person_id IN (...)" with its args.
func (s *Store) lifecyclePersons(ctx context.Context, filter string, args []any, withActivity, withDemo bool) ([]LifecyclePerson, error) {
	var out []LifecyclePerson
	idx := map[int64]int{}
	err := s.each(ctx, `SELECT p.id, p.stage, p.stage_at, p.score, p.predicted_probability, p.grade, p.grade_set_by, p.sdr_class, p.sdr_class_set_by,
			COALESCE(a.tier, ''), COALESCE(a.industry, '')
		FROM persons p LEFT JOIN accounts a ON a.id = p.account_id
		WHERE p.stage <> 'visitor' AND p.merged_into_id IS NULL`+strings.ReplaceAll(filter, "person_id", "p.id")+` ORDER BY p.id`, args, func(r *sql.Rows) error {
		var p LifecyclePerson
		var st string
		var at sql.NullTime
		var pred sql.NullFloat64
		if err := r.Scan(&p.ID, &st, &at, &p.Score, &pred, &p.Grade, &p.GradeSetBy, &p.SDRClass, &p.SDRClassSetBy, &p.AccountTier, &p.Industry); err != nil {
			return err
		}
		p.Stage, p.StageAt = model.Stage(st), timePtr(at)
		if pred.Valid {
			v := pred.Float64
			p.Predicted = &v
		}
		idx[p.ID] = len(out)
		out = append(out, p)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if withActivity {
		err := s.each(ctx, `SELECT person_id, MAX(occurred_at) FROM touchpoints WHERE person_id IS NOT NULL`+filter+` GROUP BY person_id`, args, func(r *sql.Rows) error {
			var id int64
			var last storedTime // an aggregate: SQLite gives it as text
			if err := r.Scan(&id, &last); err != nil {
				return fmt.Errorf("last touch: %w", err)
			}
			if i, ok := idx[id]; ok && !last.t.IsZero() {
				out[i].LastActivity = &last.t
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	if withDemo {
		// A demo request is a form sent from a /demo page, a touch typed as a
		// demo request, or a tracked "Demo Requested" event.
		err := s.each(ctx, `SELECT person_id, type, url FROM touchpoints WHERE person_id IS NOT NULL`+filter+` AND (type IN ('form_submit', 'form_submitted') OR LOWER(type) LIKE '%demo%')`, args, func(r *sql.Rows) error {
			var id int64
			var typ, u string
			if err := r.Scan(&id, &typ, &u); err != nil {
				return err
			}
			if i, ok := idx[id]; ok && isDemoRequest(typ, u) {
				out[i].DemoRequest = true
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		err = s.each(ctx, `SELECT DISTINCT person_id FROM events WHERE person_id IS NOT NULL`+filter+` AND type = 'track' AND LOWER(name) = 'demo requested'`, args, func(r *sql.Rows) error {
			var id int64
			if err := r.Scan(&id); err != nil {
				return err
			}
			if i, ok := idx[id]; ok {
				out[i].DemoRequest = true
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func isDemoRequest(typ, rawURL string) bool {
	typ = strings.ToLower(typ)
	if strings.Contains(typ, "demo") && strings.Contains(typ, "request") {
		return true
	}
	if typ != "form_submit" && typ != "form_submitted" {
		return false
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return false
	}
	p := strings.TrimRight(strings.ToLower(u.Path), "/")
	return p == "/demo" || strings.HasPrefix(p, "/demo/")
}

// ContactMoves plans the stage moves of an opportunity's contacts. It runs
// inside the transaction that wrote the opportunity (or order), so that the
// write and the moves commit together or not at all.
type ContactMoves func(o model.OpportunityRecord, created bool) []model.StageMove

// OpportunityUpsert is an opportunity sent by a CRM.
type OpportunityUpsert struct {
	ExternalID string
	AccountID  int64
	Name       string
	OwnerID    int64
	Stage      string
	Amount     model.Money
	CreatedAt  time.Time
	ClosedAt   *time.Time
	ContactIDs []int64 // nil keeps the contacts; the first one is the primary contact
	// Complete, when set, runs inside the transaction before the write
	// with the stored opportunity (nil when it is new), to fill in what
	// the CRM left out (a stored created_at or closed_at is kept, not
	// reset to now). An error aborts the write.
	Complete func(in *OpportunityUpsert, stored *model.Opportunity) error
}

// OpportunityWrite is the outcome of writing an opportunity or an order.
type OpportunityWrite struct {
	Opportunity model.OpportunityRecord
	Created     bool
	Moves       []model.StageMove
	Applied     []bool
}

// UpsertOpportunity creates the opportunity with in.ExternalID, or updates
// it when it exists, sets its contacts when in.ContactIDs is not nil, and
// applies the moves plan returns, all in one transaction.
func (s *Store) UpsertOpportunity(ctx context.Context, in OpportunityUpsert, plan ContactMoves) (OpportunityWrite, error) {
	var out OpportunityWrite
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var id int64
		err := tx.QueryRowContext(ctx, s.q(`SELECT id FROM opportunities WHERE external_id = ?`), in.ExternalID).Scan(&id)
		if in.Complete != nil {
			var stored *model.Opportunity
			if err == nil {
				o, err := s.opportunityTx(ctx, tx, id)
				if err != nil {
					return err
				}
				stored = &o.Opportunity
			}
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			if cerr := in.Complete(&in, stored); cerr != nil {
				return cerr
			}
		}
		switch {
		case errors.Is(err, sql.ErrNoRows):
			id, err = s.insertID(ctx, tx, `INSERT INTO opportunities (external_id, account_id, name, owner_id, stage, amount_fen, created_at, closed_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, in.ExternalID, in.AccountID, clip(in.Name, 500), nullID(in.OwnerID), in.Stage, int64(in.Amount), utc(in.CreatedAt), optTime(in.ClosedAt))
			if err != nil {
				return err
			}
			out.Created = true
		case err != nil:
			return err
		default:
			if _, err := tx.ExecContext(ctx, s.q(`UPDATE opportunities SET account_id = ?, name = ?, owner_id = ?, stage = ?, amount_fen = ?, created_at = ?, closed_at = ? WHERE id = ?`),
				in.AccountID, clip(in.Name, 500), nullID(in.OwnerID), in.Stage, int64(in.Amount), utc(in.CreatedAt), optTime(in.ClosedAt), id); err != nil {
				return err
			}
		}
		if in.ContactIDs != nil {
			if err := s.setContactsTx(ctx, tx, id, in.ContactIDs); err != nil {
				return err
			}
		}
		return s.finishOpportunityTx(ctx, tx, id, out.Created, plan, &out)
	})
	return out, err
}

// UpdateOpportunity reads opportunity id, lets edit change it, writes it
// back and applies the moves plan returns, in one transaction.
func (s *Store) UpdateOpportunity(ctx context.Context, id int64, edit func(*model.Opportunity) error, plan ContactMoves) (OpportunityWrite, error) {
	var out OpportunityWrite
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		o, err := s.opportunityTx(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := edit(&o.Opportunity); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE opportunities SET stage = ?, amount_fen = ?, closed_at = ? WHERE id = ?`),
			o.Stage, int64(o.Amount), optTime(o.ClosedAt), id); err != nil {
			return err
		}
		return s.finishOpportunityTx(ctx, tx, id, false, plan, &out)
	})
	return out, err
}

func (s *Store) finishOpportunityTx(ctx context.Context, tx *sql.Tx, id int64, created bool, plan ContactMoves, out *OpportunityWrite) error {
	o, err := s.opportunityTx(ctx, tx, id)
	if err != nil {
		return err
	}
	out.Opportunity = o
	if plan == nil {
		return nil
	}
	out.Moves = plan(o, created)
	out.Applied, err = applyStageMoves(ctx, s, tx, txRows(ctx, s, tx), out.Moves)
	return err
}

// setContactsTx makes ids (persons, merged ones resolved to the person they
// were merged into) the opportunity's contacts, the first one primary.
// Existing contacts keep their role.
func (s *Store) setContactsTx(ctx context.Context, tx *sql.Tx, oppID int64, ids []int64) error {
	var keep []int64
	seen := map[int64]bool{}
	for _, id := range ids {
		var live int64
		err := tx.QueryRowContext(ctx, s.q(`SELECT COALESCE(merged_into_id, id) FROM persons WHERE id = ?`), id).Scan(&live)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("contact person %d: %w", id, ErrNotFound)
		}
		if err != nil {
			return err
		}
		if !seen[live] {
			seen[live] = true
			keep = append(keep, live)
		}
	}
	existing, err := scanAll(ctx, s, tx, `SELECT person_id FROM opportunity_contacts WHERE opportunity_id = ?`, []any{oppID}, scanValue[int64])
	if err != nil {
		return err
	}
	had := map[int64]bool{}
	for _, p := range existing {
		had[p] = true
		if !seen[p] {
			if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM opportunity_contacts WHERE opportunity_id = ? AND person_id = ?`), oppID, p); err != nil {
				return err
			}
		}
	}
	for i, p := range keep {
		if had[p] {
			if _, err := tx.ExecContext(ctx, s.q(`UPDATE opportunity_contacts SET is_primary = ? WHERE opportunity_id = ? AND person_id = ?`), i == 0, oppID, p); err != nil {
				return err
			}
			continue
		}
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO opportunity_contacts (opportunity_id, person_id, is_primary) VALUES (?, ?, ?)`), oppID, p, i == 0); err != nil {
			return err
		}
	}
	return nil
}

func optTime(t *time.Time) any {
	if t == nil {
		return nil
	}
	return utc(*t)
}

const opportunityCols = `id, account_id, name, COALESCE(owner_id, 0), stage, amount_fen, created_at, closed_at, COALESCE(external_id, '')`

func (s *Store) opportunityTx(ctx context.Context, tx interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, id int64) (model.OpportunityRecord, error) {
	var o model.OpportunityRecord
	var closed sql.NullTime
	var amount int64
	err := tx.QueryRowContext(ctx, s.q(`SELECT `+opportunityCols+` FROM opportunities WHERE id = ?`), id).
		Scan(&o.ID, &o.AccountID, &o.Name, &o.OwnerID, &o.Stage, &amount, &o.CreatedAt, &closed, &o.ExternalID)
	if errors.Is(err, sql.ErrNoRows) {
		return o, fmt.Errorf("opportunity %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return o, err
	}
	o.Amount, o.CreatedAt, o.ClosedAt = model.Money(amount), o.CreatedAt.UTC(), timePtr(closed)
	o.Contacts, err = scanAll(ctx, s, tx, `SELECT c.person_id, p.stage, p.stage_at FROM opportunity_contacts c JOIN persons p ON p.id = c.person_id
		WHERE c.opportunity_id = ? ORDER BY c.is_primary DESC, c.person_id`, []any{id}, func(r rowScanner) (model.ContactStage, error) {
		var c model.ContactStage
		var st string
		var at sql.NullTime
		err := r.Scan(&c.PersonID, &st, &at)
		c.Stage, c.StageAt = model.Stage(st), timePtr(at)
		return c, err
	})
	return o, err
}

// Opportunity reads one opportunity with its contacts.
func (s *Store) Opportunity(ctx context.Context, id int64) (model.OpportunityRecord, error) {
	return s.opportunityTx(ctx, s.r, id)
}

// OpportunityIDByExternal finds an opportunity by its CRM id.
func (s *Store) OpportunityIDByExternal(ctx context.Context, externalID string) (int64, error) {
	var id int64
	err := s.r.QueryRowContext(ctx, s.q(`SELECT id FROM opportunities WHERE external_id = ?`), externalID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, ErrNotFound
	}
	return id, err
}

// AccountIDByDomain finds the (oldest) account with a domain, compared lower-cased.
func (s *Store) AccountIDByDomain(ctx context.Context, domain string) (int64, error) {
	var id int64
	err := s.r.QueryRowContext(ctx, s.q(`SELECT id FROM accounts WHERE LOWER(domain) = ? ORDER BY id LIMIT 1`), strings.ToLower(strings.TrimSpace(domain))).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, ErrNotFound
	}
	return id, err
}

// AccountExists reports whether an account exists.
func (s *Store) AccountExists(ctx context.Context, id int64) (bool, error) {
	var n int64
	err := s.r.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM accounts WHERE id = ?`), id).Scan(&n)
	return n > 0, err
}

// PersonIDByEmail finds the (live) person an email identifier points at;
// the email must be normalised as on ingest.
func (s *Store) PersonIDByEmail(ctx context.Context, email string) (int64, error) {
	var id int64
	err := s.r.QueryRowContext(ctx, s.q(`SELECT COALESCE(p.merged_into_id, p.id) FROM identities i JOIN persons p ON p.id = i.person_id
		WHERE i.type = 'email' AND i.value = ?`), email).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, ErrNotFound
	}
	return id, err
}

// OrderUpsert is an order sent by a CRM.
type OrderUpsert struct {
	ExternalID    string
	OpportunityID int64 // 0: an order without an opportunity
	AccountID     int64
	Amount        model.Money
	Kind          string // new, renewal, upsell
	OrderedAt     time.Time
}

// OrderWrite is the outcome of UpsertOrder.
type OrderWrite struct {
	ID      int64
	Created bool
	OpportunityWrite
}

// UpsertOrder creates the order with in.ExternalID or updates it, and,
// when it belongs to an opportunity, applies the moves plan returns for
// that opportunity's contacts, all in one transaction.
func (s *Store) UpsertOrder(ctx context.Context, in OrderUpsert, plan ContactMoves) (OrderWrite, error) {
	var out OrderWrite
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, s.q(`SELECT id FROM orders WHERE external_id = ?`), in.ExternalID).Scan(&out.ID)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			out.ID, err = s.insertID(ctx, tx, `INSERT INTO orders (external_id, opportunity_id, account_id, amount_fen, kind, ordered_at) VALUES (?, ?, ?, ?, ?, ?)`,
				in.ExternalID, nullID(in.OpportunityID), in.AccountID, int64(in.Amount), in.Kind, utc(in.OrderedAt))
			if err != nil {
				return err
			}
			out.Created = true
		case err != nil:
			return err
		default:
			if _, err := tx.ExecContext(ctx, s.q(`UPDATE orders SET opportunity_id = ?, account_id = ?, amount_fen = ?, kind = ?, ordered_at = ? WHERE id = ?`),
				nullID(in.OpportunityID), in.AccountID, int64(in.Amount), in.Kind, utc(in.OrderedAt), out.ID); err != nil {
				return err
			}
		}
		if in.OpportunityID == 0 {
			return nil
		}
		return s.finishOpportunityTx(ctx, tx, in.OpportunityID, false, plan, &out.OpportunityWrite)
	})
	return out, err
}

// FunnelChange is one stage change with the first touch of its person, for
// the funnel figures.
type FunnelChange struct {
	PersonID   int64
	To         model.Stage
	At         time.Time
	Channel    string // filled only when asked for
	CampaignID int64  // filled only when asked for
}

// FunnelChanges reads every stage change into the lifecycle stages and
// side states the funnel counts; withChannel and withCampaign fill in the
// person's first touch. A merge moves the merged person's changes to the
// person it was merged into, so every change belongs to a live person.
//
// The first touches come from a second query over covering indexes rather
// than a join: reading the wide persons rows would cost more than the
// changes themselves.
func (s *Store) FunnelChanges(ctx context.Context, withChannel, withCampaign bool) ([]FunnelChange, error) {
	var channel map[int64]string
	var campaign map[int64]int64
	var err error
	if withChannel {
		if channel, err = idMap[string](ctx, s, `SELECT id, first_touch_channel FROM persons WHERE first_touch_channel <> ''`); err != nil {
			return nil, err
		}
	}
	if withCampaign {
		if campaign, err = idMap[int64](ctx, s, `SELECT id, first_touch_campaign FROM persons WHERE first_touch_campaign IS NOT NULL`); err != nil {
			return nil, err
		}
	}
	var out []FunnelChange
	// A plain scan reads the table in order; filtering on to_stage through
	// its index would jump into the table once per row.
	err = s.each(ctx, `SELECT person_id, to_stage, changed_at FROM stage_changes`, nil, func(r *sql.Rows) error {
		var c FunnelChange
		var st string
		if err := r.Scan(&c.PersonID, &st, &c.At); err != nil {
			return err
		}
		c.To = model.Stage(st)
		if !slices.Contains(model.FunnelStages, c.To) && c.To != model.StageNurture && c.To != model.StageDisqualified {
			return nil
		}
		c.At = c.At.UTC()
		c.Channel, c.CampaignID = channel[c.PersonID], campaign[c.PersonID]
		out = append(out, c)
		return nil
	})
	return out, err
}

// FunnelOpportunity is an opportunity with the first touch of its primary
// contact (or, without one, of its first contact).
type FunnelOpportunity struct {
	ID         int64
	Stage      string
	Amount     model.Money
	CreatedAt  time.Time
	ClosedAt   *time.Time
	Channel    string
	CampaignID int64
}

// FunnelOpportunities reads every opportunity for the funnel's leading indicators.
func (s *Store) FunnelOpportunities(ctx context.Context) ([]FunnelOpportunity, error) {
	var out []FunnelOpportunity
	err := s.each(ctx, `SELECT o.id, o.stage, o.amount_fen, o.created_at, o.closed_at, COALESCE(p.first_touch_channel, ''), COALESCE(p.first_touch_campaign, 0)
		FROM opportunities o LEFT JOIN persons p ON p.id = (SELECT c.person_id FROM opportunity_contacts c WHERE c.opportunity_id = o.id
			ORDER BY c.is_primary DESC, c.person_id LIMIT 1)`, nil, func(r *sql.Rows) error {
		var o FunnelOpportunity
		var amount int64
		var closed sql.NullTime
		if err := r.Scan(&o.ID, &o.Stage, &amount, &o.CreatedAt, &closed, &o.Channel, &o.CampaignID); err != nil {
			return err
		}
		o.Amount, o.CreatedAt, o.ClosedAt = model.Money(amount), o.CreatedAt.UTC(), timePtr(closed)
		out = append(out, o)
		return nil
	})
	return out, err
}

// CampaignLabel names a campaign for grouped figures.
type CampaignLabel struct {
	Code string
	Name string
}

// CampaignLabels reads every campaign's code and name by id.
func (s *Store) CampaignLabels(ctx context.Context) (map[int64]CampaignLabel, error) {
	out := map[int64]CampaignLabel{}
	err := s.each(ctx, `SELECT id, code, name FROM campaigns`, nil, func(r *sql.Rows) error {
		var id int64
		var c CampaignLabel
		if err := r.Scan(&id, &c.Code, &c.Name); err != nil {
			return err
		}
		out[id] = c
		return nil
	})
	return out, err
}
