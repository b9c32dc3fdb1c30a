package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/revloop/revloop/internal/model"
)

// ErrAlreadyImported is returned when the same file was imported before.
var ErrAlreadyImported = errors.New("already imported, nothing changed")

const importCols = "id, kind, file_hash, file_name, layout, rows_read, rows_new, rows_updated, rows_same, rows_skipped, created_at"

func scanImport(row interface{ Scan(...any) error }) (model.Import, error) {
	var im model.Import
	err := row.Scan(&im.ID, &im.Kind, &im.FileHash, &im.FileName, &im.Layout, &im.RowsRead, &im.RowsNew, &im.RowsUpdated,
		&im.RowsSame, &im.RowsSkipped, &im.CreatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return im, ErrNotFound
	}
	im.CreatedAt = im.CreatedAt.UTC()
	return im, err
}

// ImportByHash finds an earlier import of the same file.
func (s *Store) ImportByHash(ctx context.Context, kind, hash string) (model.Import, error) {
	return scanImport(s.r.QueryRowContext(ctx, s.q("SELECT "+importCols+" FROM imports WHERE kind = ? AND file_hash = ?"), kind, hash))
}

// Imports lists imports, newest first.
func (s *Store) Imports(ctx context.Context, limit int) ([]model.Import, error) {
	var out []model.Import
	err := s.each(ctx, "SELECT "+importCols+" FROM imports ORDER BY id DESC LIMIT ?", []any{limit}, func(rows *sql.Rows) error {
		im, err := scanImport(rows)
		out = append(out, im)
		return err
	})
	return out, err
}

// recordImport stores the import row inside tx; a second import of the
// same file (even one racing this one) is ErrAlreadyImported.
func (s *Store) recordImport(ctx context.Context, tx *sql.Tx, im *model.Import) error {
	var n int
	if err := tx.QueryRowContext(ctx, s.q("SELECT COUNT(*) FROM imports WHERE kind = ? AND file_hash = ?"), im.Kind, im.FileHash).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return ErrAlreadyImported
	}
	if im.CreatedAt.IsZero() {
		im.CreatedAt = time.Now()
	}
	id, err := s.insertID(ctx, tx, "INSERT INTO imports (kind, file_hash, file_name, layout, rows_read, rows_new, rows_updated, rows_same, rows_skipped, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		im.Kind, im.FileHash, im.FileName, im.Layout, im.RowsRead, im.RowsNew, im.RowsUpdated, im.RowsSame, im.RowsSkipped, utc(im.CreatedAt))
	if isUniqueViolation(err) {
		return ErrAlreadyImported
	}
	im.ID = id
	return err
}

// campaignName is what imports match a campaign by.
type campaignName struct {
	id                           int64
	code, name, nameEN, platform string
}

func readCampaignNames(ctx context.Context, s *Store, q querier) ([]campaignName, error) {
	return orEmpty(scanAll(ctx, s, q, "SELECT id, code, name, name_en, platform FROM campaigns ORDER BY id", nil, func(r rowScanner) (campaignName, error) {
		var c campaignName
		err := r.Scan(&c.id, &c.code, &c.name, &c.nameEN, &c.platform)
		return c, err
	}))
}

// matchCampaign finds the campaign an import row means when its name is
// not the platform's exact campaign name: one whose code, name or English
// name equals it in any case, on the row's platform (or, for a campaign
// made by hand or by links, on none). A code beats a name, the row's
// platform beats none. Two campaigns that match equally well match
// neither: the file must say which (by code). An empty platform (offline
// events) matches campaigns of every platform. When nothing matches, hint
// says what was near: the same name on another platform, or the
// campaigns the name could mean.
func matchCampaign(all []campaignName, platform, v string) (found *campaignName, hint string) {
	best := -1
	var tie *campaignName
	for i := range all {
		c := &all[i]
		rank := 0
		switch {
		case strings.EqualFold(c.code, v):
			rank = 4
		case strings.EqualFold(c.name, v) || (c.nameEN != "" && strings.EqualFold(c.nameEN, v)):
			rank = 2
		default:
			continue
		}
		if platform != "" && c.platform != platform && c.platform != "" {
			if hint == "" {
				hint = fmt.Sprintf("campaign %s (%s) is on platform %s, not %s", c.code, c.name, c.platform, platform)
			}
			continue
		}
		if platform != "" && c.platform == platform {
			rank++
		}
		switch {
		case rank > best:
			best, found, tie = rank, c, nil
		case rank == best:
			tie = c
		}
	}
	if tie != nil {
		return nil, fmt.Sprintf("it could mean campaign %s or %s: write the campaign's code", found.code, tie.code)
	}
	if found != nil {
		hint = ""
	}
	return found, hint
}

// FindImportCampaign finds the campaign an offline-events row names: the
// campaign with that code, else one whose code or name matches in any case
// (see matchCampaign). It returns ErrNotFound when none does.
func (s *Store) FindImportCampaign(ctx context.Context, v string) (model.LinkCampaign, error) {
	c, err := s.LinkCampaignByCode(ctx, v)
	if !errors.Is(err, ErrNotFound) {
		return c, err
	}
	all, err := readCampaignNames(ctx, s, s.r)
	if err != nil {
		return c, err
	}
	m, _ := matchCampaign(all, "", v)
	if m == nil {
		return c, ErrNotFound
	}
	return s.LinkCampaignByCode(ctx, m.code)
}

// ImportChunk is one transaction's share of an import: with its rows, the
// import's job records how far it got (Checkpoint, for resuming, and Done
// rows), so that what is stored and what the job says never disagree.
type ImportChunk struct {
	JobID int64
	Done  int64
	// Checkpoint says how far the import got once this chunk, with these
	// counts, is stored.
	Checkpoint func(ChunkCounts) string
}

// ChunkCounts says what a chunk's rows did.
type ChunkCounts struct {
	New, Updated, Same int
}

// ErrJobEnded is a chunk refused because its import's job is no longer
// running (it was ended as abandoned by another server).
var ErrJobEnded = errors.New("the import's job is no longer running")

func (s *Store) saveChunk(ctx context.Context, tx *sql.Tx, ch ImportChunk, c ChunkCounts) error {
	res, err := tx.ExecContext(ctx, s.q("UPDATE jobs SET checkpoint = ?, progress_done = ?, updated_at = ? WHERE id = ? AND state = 'running'"),
		ch.Checkpoint(c), ch.Done, utc(time.Now()), ch.JobID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("job %d: %w", ch.JobID, ErrJobEnded)
	}
	return nil
}

// ImportEventChunk appends the events of a chunk of rows (grouped by the
// row they came from) in one short transaction, with the job's progress.
// A row whose events were all stored before (same write key and message
// id) counts as Same, any other as New: a chunk stored again adds nothing.
// Campaigns named in newCampaigns (codes) are created first, as offline
// events.
func (s *Store) ImportEventChunk(ctx context.Context, ch ImportChunk, rows [][]model.Event, newCampaigns []string) (ChunkCounts, error) {
	var c ChunkCounts
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		c = ChunkCounts{}
		for _, code := range newCampaigns {
			if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO campaigns (code, name, channel, kind, created_at) VALUES (?, ?, ?, ?, ?)
				ON CONFLICT (code) DO NOTHING`), code, code, string(model.ChannelOfflineEvent), "offline_event", utc(time.Now())); err != nil {
				return fmt.Errorf("create campaign %s: %w", code, err)
			}
		}
		st, err := tx.PrepareContext(ctx, s.q("INSERT INTO events ("+eventCols+") VALUES ("+
			strings.TrimSuffix(strings.Repeat("?, ", len(eventColList)), ", ")+") ON CONFLICT (write_key_id, message_id) DO NOTHING"))
		if err != nil {
			return err
		}
		defer st.Close()
		for _, row := range rows {
			added := false
			for i := range row {
				res, err := st.ExecContext(ctx, eventArgs(&row[i])...)
				if err != nil {
					return fmt.Errorf("store event %s: %w", row[i].MessageID, err)
				}
				if n, _ := res.RowsAffected(); n > 0 {
					added = true
				}
			}
			if added {
				c.New++
			} else {
				c.Same++
			}
		}
		return s.saveChunk(ctx, tx, ch, c)
	})
	return c, err
}

// FinishImport records a whole import and ends its job as succeeded with
// result(the recorded import), in one transaction: until then the import
// is not in the import log. A file recorded meanwhile is
// ErrAlreadyImported.
func (s *Store) FinishImport(ctx context.Context, jobID int64, im model.Import, result func(model.Import) any) (model.Import, error) {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.recordImport(ctx, tx, &im); err != nil {
			return err
		}
		b, err := json.Marshal(result(im))
		if err != nil {
			return err
		}
		now := utc(time.Now())
		res, err := tx.ExecContext(ctx, s.q("UPDATE jobs SET state = 'succeeded', result = ?, error = '', finished_at = ?, updated_at = ? WHERE id = ? AND state = 'running'"),
			string(b), now, now, jobID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("job %d: %w", jobID, ErrJobEnded)
		}
		return nil
	})
	return im, err
}

// CostRow is one line of an ad platform's daily report, with names as the
// platform writes them. Campaigns are found by platform and name, else by
// code or name (created only when asked); ad groups and keywords by name
// (and created when missing).
type CostRow struct {
	Line        int // in the file, for messages
	Day         time.Time
	Platform    string
	Channel     model.Channel // for campaigns created by the import; empty: the platform implies none
	Account     string
	Campaign    string
	AdGroup     string
	Keyword     string
	Impressions int64
	Clicks      int64
	Cost        model.Money
}

// UnknownCampaign is an import row whose campaign matches none stored.
type UnknownCampaign struct {
	Line     int
	Platform string // empty for offline events
	Campaign string // as the file writes it
	Hint     string // what is near, e.g. the same name on another platform
}

// UnknownCampaignsError lists the rows of an import whose campaigns match
// none stored and were not to be created; nothing was imported.
type UnknownCampaignsError struct{ Rows []UnknownCampaign }

func (e *UnknownCampaignsError) Error() string {
	return fmt.Sprintf("%d row(s) name a campaign that does not exist, nothing imported (first: line %d, %q)", len(e.Rows), e.Rows[0].Line, e.Rows[0].Campaign)
}

// CreatedCampaign is a campaign an import created, for its report.
type CreatedCampaign struct {
	Line     int // the first row that named it
	Code     string
	Name     string
	Platform string
	Channel  model.Channel
}

// ImportCostChunk upserts a chunk of daily costs keyed by (day, campaign,
// ad group, keyword) in one short transaction, with the job's progress:
// storing a chunk again changes nothing. A row's campaign is the
// platform's campaign of that name, else one whose code or name is the
// row's campaign (any case) on the same platform or on none; else, with
// create, a new campaign in the row's Channel, and without it the rows are
// reported in an *UnknownCampaignsError and nothing is stored.
func (s *Store) ImportCostChunk(ctx context.Context, ch ImportChunk, rows []CostRow, create bool) (ChunkCounts, []CreatedCampaign, error) {
	var c ChunkCounts
	var created []CreatedCampaign
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		c = ChunkCounts{}
		r := costResolver{s: s, tx: tx, create: create, campaigns: map[[3]string]int64{}, adGroups: map[adGroupKey]int64{}, keywords: map[keywordKey]int64{}}
		var unknown []UnknownCampaign
		for i := range rows {
			row := &rows[i]
			change, err := r.upsert(ctx, row)
			var miss *UnknownCampaign
			if errors.As(err, &miss) {
				unknown = append(unknown, *miss)
				continue
			}
			if err != nil {
				return fmt.Errorf("line %d: %w", row.Line, err)
			}
			switch change {
			case costNew:
				c.New++
			case costUpdated:
				c.Updated++
			default:
				c.Same++
			}
		}
		if len(unknown) > 0 {
			return &UnknownCampaignsError{Rows: unknown}
		}
		created = r.created
		return s.saveChunk(ctx, tx, ch, c)
	})
	if err != nil {
		return c, nil, err
	}
	return c, created, nil
}

// CostCampaigns tells, without changing anything, whether the campaign of
// a cost row exists, as ImportCostChunk would find it.
type CostCampaigns struct {
	s   *Store
	all []campaignName // every campaign, read at the first miss
}

// CostCampaigns starts a check of one file's campaigns.
func (s *Store) CostCampaigns() *CostCampaigns { return &CostCampaigns{s: s} }

// Find is nil when the row's campaign exists, else an *UnknownCampaign
// with what is near.
func (c *CostCampaigns) Find(ctx context.Context, row *CostRow) (*UnknownCampaign, error) {
	var n int
	if err := c.s.r.QueryRowContext(ctx, c.s.q(`SELECT COUNT(*) FROM campaigns WHERE platform = ? AND name = ? AND (ad_account = ? OR ad_account = '')`),
		row.Platform, row.Campaign, row.Account).Scan(&n); err != nil {
		return nil, err
	}
	if n > 0 {
		return nil, nil
	}
	if c.all == nil {
		var err error
		if c.all, err = readCampaignNames(ctx, c.s, c.s.r); err != nil {
			return nil, err
		}
	}
	if m, hint := matchCampaign(c.all, row.Platform, row.Campaign); m == nil {
		return &UnknownCampaign{Line: row.Line, Platform: row.Platform, Campaign: row.Campaign, Hint: hint}, nil
	}
	return nil, nil
}

func (u *UnknownCampaign) Error() string {
	return fmt.Sprintf("campaign %q does not exist", u.Campaign)
}

type costChange int

const (
	costSame costChange = iota
	costNew
	costUpdated
)

type adGroupKey struct {
	campaign int64
	name     string
}

type keywordKey struct {
	campaign, adGroup int64
	text              string
}

// costResolver finds or creates campaigns, ad groups and keywords inside
// one import transaction, remembering what it found.
type costResolver struct {
	s         *Store
	tx        *sql.Tx
	create    bool
	all       []campaignName // every campaign, read at the first miss
	created   []CreatedCampaign
	campaigns map[[3]string]int64
	adGroups  map[adGroupKey]int64
	keywords  map[keywordKey]int64
}

func (r *costResolver) upsert(ctx context.Context, row *CostRow) (costChange, error) {
	if row.Cost < 0 || row.Impressions < 0 || row.Clicks < 0 {
		return 0, errors.New("negative cost, impressions or clicks")
	}
	campaign, err := r.campaign(ctx, row)
	if err != nil {
		return 0, err
	}
	var adGroup, keyword int64
	if row.AdGroup != "" {
		if adGroup, err = r.adGroup(ctx, campaign, row.AdGroup); err != nil {
			return 0, err
		}
	}
	if row.Keyword != "" {
		if keyword, err = r.keyword(ctx, campaign, adGroup, row.Keyword); err != nil {
			return 0, err
		}
	}
	day := time.Date(row.Day.Year(), row.Day.Month(), row.Day.Day(), 0, 0, 0, 0, time.UTC)
	var id, impressions, clicks, cost int64
	err = r.tx.QueryRowContext(ctx, r.s.q(`SELECT id, impressions, clicks, cost_fen FROM daily_costs
		WHERE day = ? AND campaign_id = ? AND COALESCE(ad_group_id, 0) = ? AND COALESCE(keyword_id, 0) = ?`),
		day, campaign, adGroup, keyword).Scan(&id, &impressions, &clicks, &cost)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		_, err = r.tx.ExecContext(ctx, r.s.q(`INSERT INTO daily_costs (day, platform, campaign_id, ad_group_id, keyword_id, impressions, clicks, cost_fen)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`), day, row.Platform, campaign, nullID(adGroup), nullID(keyword), row.Impressions, row.Clicks, int64(row.Cost))
		return costNew, err
	case err != nil:
		return 0, err
	case impressions == row.Impressions && clicks == row.Clicks && cost == int64(row.Cost):
		return costSame, nil
	}
	_, err = r.tx.ExecContext(ctx, r.s.q("UPDATE daily_costs SET impressions = ?, clicks = ?, cost_fen = ? WHERE id = ?"),
		row.Impressions, row.Clicks, int64(row.Cost), id)
	return costUpdated, err
}

// campaign matches by platform and name, preferring a campaign of the same
// ad account; one of another account is a different campaign. A campaign
// found without an account takes the row's. Failing that it matches by
// code or name in any case (see matchCampaign), and failing that creates
// the campaign when asked to, else reports the row as *UnknownCampaign.
func (r *costResolver) campaign(ctx context.Context, row *CostRow) (int64, error) {
	key := [3]string{row.Platform, row.Account, row.Campaign}
	if id, ok := r.campaigns[key]; ok {
		return id, nil
	}
	var id int64
	var account string
	err := r.tx.QueryRowContext(ctx, r.s.q(`SELECT id, ad_account FROM campaigns WHERE platform = ? AND name = ? AND (ad_account = ? OR ad_account = '')
		ORDER BY CASE WHEN ad_account = ? THEN 0 ELSE 1 END, id LIMIT 1`), row.Platform, row.Campaign, row.Account, row.Account).Scan(&id, &account)
	if errors.Is(err, sql.ErrNoRows) {
		if r.all == nil {
			if r.all, err = readCampaignNames(ctx, r.s, r.tx); err != nil {
				return 0, err
			}
		}
		c, hint := matchCampaign(r.all, row.Platform, row.Campaign)
		switch {
		case c != nil:
			id = c.id
		case !r.create:
			return 0, &UnknownCampaign{Line: row.Line, Platform: row.Platform, Campaign: row.Campaign, Hint: hint}
		case row.Channel == "":
			return 0, fmt.Errorf("campaign %q does not exist and platform %s implies no channel to create it in; create the campaign first", row.Campaign, row.Platform)
		default:
			sum := sha256.Sum256([]byte(row.Platform + "\x00" + row.Account + "\x00" + row.Campaign))
			code := row.Platform + "-" + hex.EncodeToString(sum[:5])
			id, err = r.s.insertID(ctx, r.tx, `INSERT INTO campaigns (code, name, channel, platform, kind, ad_account, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
				code, row.Campaign, string(row.Channel), row.Platform, "ads", row.Account, utc(time.Now()))
			if err != nil {
				return 0, fmt.Errorf("create campaign %q: %w", row.Campaign, err)
			}
			r.created = append(r.created, CreatedCampaign{Line: row.Line, Code: code, Name: row.Campaign, Platform: row.Platform, Channel: row.Channel})
		}
		r.campaigns[key] = id
		return id, nil
	}
	switch {
	case err != nil:
		return 0, err
	case account == "" && row.Account != "":
		if _, err := r.tx.ExecContext(ctx, r.s.q("UPDATE campaigns SET ad_account = ? WHERE id = ?"), row.Account, id); err != nil {
			return 0, err
		}
	}
	r.campaigns[key] = id
	return id, nil
}

func (r *costResolver) adGroup(ctx context.Context, campaign int64, name string) (int64, error) {
	key := adGroupKey{campaign, name}
	if id, ok := r.adGroups[key]; ok {
		return id, nil
	}
	var id int64
	err := r.tx.QueryRowContext(ctx, r.s.q("SELECT id FROM ad_groups WHERE campaign_id = ? AND name = ? ORDER BY id LIMIT 1"), campaign, name).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		id, err = r.s.insertID(ctx, r.tx, "INSERT INTO ad_groups (campaign_id, name) VALUES (?, ?)", campaign, name)
	}
	if err != nil {
		return 0, err
	}
	r.adGroups[key] = id
	return id, nil
}

func (r *costResolver) keyword(ctx context.Context, campaign, adGroup int64, text string) (int64, error) {
	key := keywordKey{campaign, adGroup, text}
	if id, ok := r.keywords[key]; ok {
		return id, nil
	}
	var id int64
	err := r.tx.QueryRowContext(ctx, r.s.q("SELECT id FROM keywords WHERE campaign_id = ? AND COALESCE(ad_group_id, 0) = ? AND text = ? ORDER BY id LIMIT 1"),
		campaign, adGroup, text).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		id, err = r.s.insertID(ctx, r.tx, "INSERT INTO keywords (campaign_id, ad_group_id, text) VALUES (?, ?, ?)", campaign, nullID(adGroup), text)
	}
	if err != nil {
		return 0, err
	}
	r.keywords[key] = id
	return id, nil
}
