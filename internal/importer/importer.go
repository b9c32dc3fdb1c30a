package importer

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/revloop/revloop/internal/identity"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
)

// Importer stores files: each import is a job (see store.CreateJob) that
// holds the database's one import lock, so that two imports never run at
// once, on any number of servers. A file is read twice as a stream: first
// checked whole (a file with any bad row stores nothing), then stored in
// chunks of ChunkRows rows, each its own short transaction, so that event
// intake is never held up for long. Every chunk is idempotent (costs are
// upserted by their key, events keyed by a hash of their row) and records
// how far the import got; an import that failed part way resumes where it
// stopped when the same file is imported again. Until the last chunk the
// import is not in the import log and its job is not succeeded.
type Importer struct {
	Store *store.Store
	// Location is the zone of event times written without one; Asia/Shanghai
	// time (UTC+8) when nil.
	Location *time.Location
	Now      func() time.Time
	// CreateCampaigns makes an import create the campaigns it names that
	// match none stored (by code or name), in the channel their platform
	// implies (offline events for events), instead of refusing the rows.
	CreateCampaigns bool
	// Actor is who imports, for the job record ("user:ID", "apikey:NAME", "cli").
	Actor string
	// ChunkRows is the rows stored per transaction; DefaultChunkRows when 0.
	ChunkRows int

	// beforeChunk, when set, runs before each chunk is stored (n from 0),
	// for tests that break an import part way.
	beforeChunk func(n int) error
}

// DefaultChunkRows is the rows stored per transaction.
const DefaultChunkRows = 2000

// ImportLock is the job lock every import holds while it runs.
const ImportLock = "import"

// InputError is a file the importer cannot read (encoding, header, size,
// no rows); its text says what to fix.
type InputError struct{ Err error }

func (e InputError) Error() string { return e.Err.Error() }
func (e InputError) Unwrap() error { return e.Err }

func inputError(err error) error {
	var bad *BadRowsError
	if err == nil || errors.As(err, &bad) {
		return err
	}
	return InputError{err}
}

// Result says what an import did. AlreadyImported means the same file was
// imported before (Import is then that earlier import) and nothing changed.
type Result struct {
	model.Import
	Encoding        string   `json:"encoding"`
	AlreadyImported bool     `json:"already_imported"`
	Notes           []string `json:"notes,omitempty"`
}

// ChinaStandardTime is UTC+8, the default zone of offline event times.
var ChinaStandardTime = time.FixedZone("CST", 8*3600)

func (im *Importer) now() time.Time {
	if im.Now != nil {
		return im.Now()
	}
	return time.Now()
}

// earlier answers a file imported before, without parsing it again.
func (im *Importer) earlier(ctx context.Context, kind, hash string) (Result, bool, error) {
	prev, err := im.Store.ImportByHash(ctx, kind, hash)
	if errors.Is(err, store.ErrNotFound) {
		return Result{}, false, nil
	}
	if err != nil {
		return Result{}, false, err
	}
	return Result{Import: prev, AlreadyImported: true}, true, nil
}

// Run is an import under way: its job exists and holds the import lock
// until Do ends it.
type Run struct {
	JobID int64
	im    *Importer
	kind  string
	name  string
	src   io.ReadSeeker
	hash  string
	enc   string
	from  checkpoint // where an earlier, failed import of the file stopped
}

// checkpoint is how far an import got: rows up to Line are stored, with
// these counts.
type checkpoint struct {
	Line    int   `json:"line"`
	Done    int64 `json:"done"`
	New     int   `json:"new"`
	Updated int   `json:"updated"`
	Same    int   `json:"same"`
}

// after adds a chunk's counts to the checkpoint (inside the chunk's
// transaction) and encodes it.
func (cp *checkpoint) after(c store.ChunkCounts) string {
	cp.New += c.New
	cp.Updated += c.Updated
	cp.Same += c.Same
	b, _ := json.Marshal(cp)
	return string(b)
}

// Plan is what an import of a file will be, known before its job exists:
// the file's hash, encoding and job subject, and where an earlier failed
// import of the same file stopped.
type Plan struct {
	Kind    string // "costs" or "events"
	Subject string // the job's subject: the file's hash (and time zone)
	hash    string
	enc     string
	from    checkpoint
}

// Prepare reads src once to recognise it: a file imported before answers
// its earlier import and a nil Plan. Otherwise the Plan says what its job
// is to hold (ImportLock, the subject).
func (im *Importer) Prepare(ctx context.Context, kind string, src io.ReadSeeker) (*Plan, Result, error) {
	if kind != "costs" && kind != "events" {
		return nil, Result{}, fmt.Errorf("unknown import kind %q", kind)
	}
	if _, err := src.Seek(0, io.SeekStart); err != nil {
		return nil, Result{}, err
	}
	hash, enc, err := sniff(src)
	if err != nil {
		return nil, Result{}, inputError(err)
	}
	if r, ok, err := im.earlier(ctx, kind, hash); ok || err != nil {
		return nil, r, err
	}
	p := &Plan{Kind: kind, Subject: hash, hash: hash, enc: enc}
	if kind == "events" {
		_, off := time.Now().In(im.location()).Zone()
		p.Subject += fmt.Sprintf(" tz%+d", off)
	}
	cp, err := im.Store.FailedCheckpoint(ctx, "import."+kind, p.Subject)
	if err != nil {
		return nil, Result{}, err
	}
	p.from = parseCheckpoint(cp)
	return p, Result{}, nil
}

func parseCheckpoint(s string) checkpoint {
	var cp checkpoint
	if s != "" && json.Unmarshal([]byte(s), &cp) != nil {
		return checkpoint{}
	}
	return cp
}

// Start begins importing src ("costs" or "events"; name is for the record
// only) in this process: Prepare, then the import's job, which fails with
// a *store.JobBusyError while another import runs. A file imported
// before answers its earlier import and a nil Run. src must stay readable
// until Do returns.
func (im *Importer) Start(ctx context.Context, kind, name string, src io.ReadSeeker) (*Run, Result, error) {
	p, res, err := im.Prepare(ctx, kind, src)
	if p == nil || err != nil {
		return nil, res, err
	}
	job, err := im.Store.CreateJob(ctx, model.Job{Kind: "import." + kind, State: model.JobRunning, LockName: ImportLock, Subject: p.Subject,
		ProgressUnit: "rows", CreatedBy: im.Actor})
	if err != nil {
		return nil, Result{}, err
	}
	return &Run{JobID: job.ID, im: im, kind: kind, name: name, src: src, hash: p.hash, enc: p.enc, from: p.from}, Result{}, nil
}

// Resume takes up the import job jobID (created for a Plan of src, queued
// or running) on this node, from where it got: its own last chunk, else
// where an earlier failed import of the file stopped. Every chunk is
// idempotent, so taking up a job that died part way adds nothing twice.
func (im *Importer) Resume(ctx context.Context, jobID int64, kind, name string, src io.ReadSeeker) (*Run, error) {
	if _, err := src.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	hash, enc, err := sniff(src)
	if err != nil {
		return nil, inputError(err)
	}
	j, err := im.Store.GetJob(ctx, jobID)
	if err != nil {
		return nil, err
	}
	from := parseCheckpoint(j.Checkpoint)
	if j.Checkpoint == "" {
		cp, err := im.Store.FailedCheckpoint(ctx, "import."+kind, j.Subject)
		if err != nil {
			return nil, err
		}
		from = parseCheckpoint(cp)
	}
	return &Run{JobID: jobID, im: im, kind: kind, name: name, src: src, hash: hash, enc: enc, from: from}, nil
}

// FailedResult is the result a failed import's job keeps: the bad rows.
type FailedResult struct {
	BadRows     []RowError `json:"bad_rows"`
	BadRowCount int        `json:"bad_row_count"`
	// Input: the file was refused (its rows or its shape), not the
	// database.
	Input bool `json:"input_error"`
	// FileName is the file's name as uploaded, for the import history.
	FileName string `json:"file_name,omitempty"`
}

// Do imports the file and ends the job: succeeded with the Result, or
// failed with the error (and the bad rows), whatever ctx does meanwhile.
func (r *Run) Do(ctx context.Context) (Result, error) {
	res, err := r.Import(ctx)
	if err == nil {
		return res, nil
	}
	if ferr := r.Fail(ctx, err); ferr != nil {
		return res, errors.Join(err, ferr)
	}
	return res, err
}

// Import imports the file: on success the job ends with the import
// recorded (in the transaction of the last write). On an error the job
// stays open: Fail ends it, or another attempt resumes it.
func (r *Run) Import(ctx context.Context) (Result, error) {
	var res Result
	var err error
	if r.kind == "costs" {
		res, err = r.costs(ctx)
	} else {
		res, err = r.events(ctx)
	}
	if errors.Is(err, store.ErrAlreadyImported) {
		// Recorded meanwhile (by an import whose lock was taken over): the
		// file is in, so this job ends with that import.
		earlier, ok, eerr := r.im.earlier(context.WithoutCancel(ctx), r.kind, r.hash)
		if eerr == nil && ok {
			if ferr := r.im.Store.FinishJob(context.WithoutCancel(ctx), r.JobID, earlier, nil); ferr != nil && !errors.Is(ferr, store.ErrNotFound) {
				return earlier, ferr
			}
			return earlier, nil
		}
	}
	return res, err
}

// Permanent says whether another attempt at the import would fail the
// same way: the file is wrong.
func Permanent(err error) bool { return isInput(err) }

// Fail ends the job as failed with err, keeping the bad rows as its
// result.
func (r *Run) Fail(ctx context.Context, err error) error {
	var detail any
	var bad *BadRowsError
	if errors.As(err, &bad) {
		detail = FailedResult{BadRows: bad.Rows, BadRowCount: bad.Total, Input: true, FileName: r.name}
	} else if isInput(err) {
		detail = FailedResult{BadRows: []RowError{}, Input: true, FileName: r.name}
	}
	jobErr := err
	switch {
	case isInput(err):
	case ctx.Err() != nil:
		jobErr = fmt.Errorf("stopped part way (%v): import the same file again to finish it", ctx.Err())
	default:
		jobErr = fmt.Errorf("%v: import the same file again to finish it", err)
	}
	if ferr := r.im.Store.FinishJob(context.WithoutCancel(ctx), r.JobID, detail, jobErr); ferr != nil && !errors.Is(ferr, store.ErrNotFound) {
		return ferr
	}
	return nil
}

func isInput(err error) bool {
	var ie InputError
	var bad *BadRowsError
	return errors.As(err, &ie) || errors.As(err, &bad)
}

func (im *Importer) location() *time.Location {
	if im.Location == nil {
		return ChinaStandardTime
	}
	return im.Location
}

func (im *Importer) chunkRows() int {
	if im.ChunkRows > 0 {
		return im.ChunkRows
	}
	return DefaultChunkRows
}

// rewind puts the source back at its start for another reading.
func (r *Run) rewind() error {
	_, err := r.src.Seek(0, io.SeekStart)
	return err
}

// Costs imports a cost report held in memory (see Start and Run.Do).
func (im *Importer) Costs(ctx context.Context, name string, data []byte) (Result, error) {
	return im.importBytes(ctx, "costs", name, data)
}

// Events imports offline touches held in memory (see Start and Run.Do).
// Every row's campaign must exist (by code, or by code or name in any
// case) unless CreateCampaigns is set.
func (im *Importer) Events(ctx context.Context, name string, data []byte) (Result, error) {
	return im.importBytes(ctx, "events", name, data)
}

func (im *Importer) importBytes(ctx context.Context, kind, name string, data []byte) (Result, error) {
	run, res, err := im.Start(ctx, kind, name, bytes.NewReader(data))
	if err != nil || run == nil {
		return res, err
	}
	return run.Do(ctx)
}

// createHint says how to ask an import to create campaigns.
const createHint = "create_campaigns=true, or --create-campaigns"

// costs checks the whole file, then stores it chunk by chunk.
func (r *Run) costs(ctx context.Context) (Result, error) {
	im := r.im
	if err := r.rewind(); err != nil {
		return Result{}, err
	}
	p, err := planCosts(r.src, r.enc, false)
	if err != nil {
		return Result{}, inputError(err)
	}
	if err := im.Store.SetJobProgress(ctx, r.JobID, r.from.Done, int64(p.stored)); err != nil {
		return Result{}, err
	}
	if !im.CreateCampaigns {
		if err := r.checkCostCampaigns(ctx, p); err != nil {
			return Result{}, err
		}
	}
	if err := r.rewind(); err != nil {
		return Result{}, err
	}
	in, err := newCSVStream(r.src, r.enc)
	if err != nil {
		return Result{}, inputError(err)
	}
	if _, _, err := costHeader(in); err != nil {
		return Result{}, inputError(err)
	}
	cp := r.from
	var created []store.CreatedCampaign
	chunk := make([]store.CostRow, 0, im.chunkRows())
	nchunk := 0
	flush := func(last int) error {
		if len(chunk) == 0 {
			return nil
		}
		if im.beforeChunk != nil {
			if err := im.beforeChunk(nchunk); err != nil {
				return err
			}
		}
		next := cp
		next.Line, next.Done = last, cp.Done+int64(len(chunk))
		_, made, err := im.Store.ImportCostChunk(ctx, store.ImportChunk{JobID: r.JobID, Done: next.Done, Checkpoint: next.after}, chunk, im.CreateCampaigns)
		if err != nil {
			return err
		}
		cp = next
		created = append(created, made...)
		chunk, nchunk = chunk[:0], nchunk+1
		return nil
	}
	last := 0
	err = eachCostRow(in, p.layout, p.cols, func(row store.CostRow, totals bool, rowErr error) error {
		if rowErr != nil {
			return InputError{fmt.Errorf("line %d changed while it was imported: %v", row.Line, rowErr)}
		}
		if totals || row.Line <= r.from.Line {
			return nil
		}
		sum := p.keys[keyOf(&row)]
		if sum == nil || sum.line != row.Line {
			return nil // added to its key's first row
		}
		row.Impressions, row.Clicks, row.Cost = sum.impressions, sum.clicks, sum.cost
		chunk = append(chunk, row)
		last = row.Line
		if len(chunk) >= im.chunkRows() {
			return flush(last)
		}
		return nil
	})
	if err == nil {
		err = flush(last)
	}
	var unknown *store.UnknownCampaignsError
	if errors.As(err, &unknown) {
		return Result{}, unknownCostCampaigns(unknown.Rows, p.cols)
	}
	if err != nil {
		return Result{}, err
	}
	for _, c := range created {
		note := fmt.Sprintf("line %d: campaign %q created as %s (platform %s, code %s)", c.Line, c.Name, c.Channel, c.Platform, c.Code)
		if !KnownPlatform(c.Platform) {
			note += "; revloop does not know this platform, so display is a guess: correct the campaign's channel if it is wrong"
		}
		p.notes.add("%s", note)
	}
	rec := model.Import{Kind: "costs", FileHash: r.hash, FileName: r.name, Layout: p.layout.Name, RowsRead: p.read, RowsSkipped: p.skipped,
		RowsNew: cp.New, RowsUpdated: cp.Updated, RowsSame: cp.Same, CreatedAt: im.now()}
	return r.finish(ctx, rec, p.enc, p.notes.all())
}

func (r *Run) finish(ctx context.Context, rec model.Import, enc string, notes []string) (Result, error) {
	var res Result
	_, err := r.im.Store.FinishImport(ctx, r.JobID, rec, func(got model.Import) any {
		res = Result{Import: got, Encoding: enc, Notes: notes}
		return res
	})
	return res, err
}

// checkCostCampaigns refuses a file whose rows name campaigns that do not
// exist, listing every such row, before anything is stored.
func (r *Run) checkCostCampaigns(ctx context.Context, p *costPlan) error {
	if err := r.rewind(); err != nil {
		return err
	}
	in, err := newCSVStream(r.src, r.enc)
	if err != nil {
		return inputError(err)
	}
	if _, _, err := costHeader(in); err != nil {
		return inputError(err)
	}
	check := r.im.Store.CostCampaigns()
	known := map[[3]string]*store.UnknownCampaign{}
	var unknown []store.UnknownCampaign
	err = eachCostRow(in, p.layout, p.cols, func(row store.CostRow, totals bool, rowErr error) error {
		if totals || rowErr != nil {
			return nil
		}
		key := [3]string{row.Platform, row.Account, row.Campaign}
		miss, seen := known[key]
		if !seen {
			if len(known) >= maxCampaigns {
				return InputError{fmt.Errorf("line %d: the file names more than %d different campaigns: split it", row.Line, maxCampaigns)}
			}
			var err error
			if miss, err = check.Find(ctx, &row); err != nil {
				return err
			}
			known[[3]string{strings.Clone(row.Platform), strings.Clone(row.Account), strings.Clone(row.Campaign)}] = miss
		}
		if miss != nil && len(unknown) < maxErrors*10 {
			u := *miss
			u.Line = row.Line
			unknown = append(unknown, u)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if len(unknown) > 0 {
		return unknownCostCampaigns(unknown, p.cols)
	}
	return nil
}

func unknownCostCampaigns(rows []store.UnknownCampaign, cols columns) error {
	var bad rowErrors
	first := map[[2]string]int{}
	for _, u := range rows {
		key := [2]string{u.Platform, u.Campaign}
		if line, seen := first[key]; seen {
			bad.addErr(u.Line, cols, badCell("campaign", "unknown_campaign", u.Campaign, "campaign %q does not exist on %s (see line %d)", u.Campaign, u.Platform, line))
			continue
		}
		first[key] = u.Line
		hint := "no campaign has this name or code"
		if u.Hint != "" {
			hint += "; " + u.Hint
		}
		bad.addErr(u.Line, cols, badCell("campaign", "unknown_campaign", u.Campaign, "campaign %q does not exist on %s (%s): fix the name, or let the import create it as %s (%s)",
			u.Campaign, u.Platform, hint, PlatformChannel(u.Platform), createHint))
	}
	return bad.err()
}

// events checks the whole file (campaigns included), then stores it chunk
// by chunk.
func (r *Run) events(ctx context.Context) (Result, error) {
	im := r.im
	loc := im.location()
	// First reading: every row valid, every campaign known or to be created.
	var bad rowErrors
	var nb notes
	known := map[string]string{} // campaign as written → code ("" unknown)
	toCreate := map[string]bool{}
	firstLine := map[string]int{}
	rows := 0
	if err := r.rewind(); err != nil {
		return Result{}, err
	}
	var cols columns
	enc, err := eachEventRow(r.src, r.enc, loc, &cols, func(row EventRow, rowErr error) error {
		if rowErr != nil {
			bad.addErr(row.Line, columns{}, rowErr)
			return nil
		}
		rows++
		code, seen := known[row.Campaign]
		if !seen {
			if len(known) >= maxCampaigns {
				return InputError{fmt.Errorf("line %d: the file names more than %d different campaigns: split it", row.Line, maxCampaigns)}
			}
			c, err := im.Store.FindImportCampaign(ctx, row.Campaign)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
			code = c.Code
			name := strings.Clone(row.Campaign)
			if err != nil && im.CreateCampaigns {
				code = name
				toCreate[name] = true
				nb.add("line %d: campaign %s created as %s", row.Line, name, model.ChannelOfflineEvent)
			}
			known[name] = code
		}
		if code == "" {
			if line, ok := firstLine[row.Campaign]; ok {
				bad.addErr(row.Line, cols, badCell("campaign", "unknown_campaign", row.Campaign, "campaign %q does not exist (see line %d)", row.Campaign, line))
				return nil
			}
			firstLine[strings.Clone(row.Campaign)] = row.Line
			bad.addErr(row.Line, cols, badCell("campaign", "unknown_campaign", row.Campaign,
				"campaign %q does not exist (no campaign has this code or name): fix it, or let the import create it as %s (%s)",
				row.Campaign, model.ChannelOfflineEvent, createHint))
		}
		return nil
	})
	if err != nil {
		return Result{}, inputError(err)
	}
	if err := bad.err(); err != nil {
		return Result{}, err
	}
	if rows == 0 {
		return Result{}, InputError{errors.New("the file has a header but no data rows")}
	}
	if err := im.Store.SetJobProgress(ctx, r.JobID, r.from.Done, int64(rows)); err != nil {
		return Result{}, err
	}
	key, err := im.Store.BuiltinWriteKey(ctx, "imports", NewWriteKey)
	if err != nil {
		return Result{}, err
	}
	now := im.now()
	// The rows of erased persons and of persons who withdrew consent to
	// tracking are not imported again, as the collector does not collect
	// their events.
	suppressed, err := identity.LoadSuppressions(ctx, im.Store)
	if err != nil {
		return Result{}, err
	}
	nsuppressed := 0

	// Second reading: store in chunks.
	cp := r.from
	chunk := make([][]model.Event, 0, im.chunkRows())
	var newCampaigns []string
	nchunk, last, pending := 0, 0, 0 // pending: rows read since the last chunk, suppressed ones too
	flush := func() error {
		if pending == 0 {
			return nil
		}
		if im.beforeChunk != nil {
			if err := im.beforeChunk(nchunk); err != nil {
				return err
			}
		}
		next := cp
		next.Line, next.Done = last, cp.Done+int64(pending)
		if _, err := im.Store.ImportEventChunk(ctx, store.ImportChunk{JobID: r.JobID, Done: next.Done, Checkpoint: next.after}, chunk, newCampaigns); err != nil {
			return err
		}
		cp = next
		chunk, newCampaigns, nchunk, pending = chunk[:0], newCampaigns[:0], nchunk+1, 0
		return nil
	}
	if err := r.rewind(); err != nil {
		return Result{}, err
	}
	_, err = eachEventRow(r.src, r.enc, loc, nil, func(row EventRow, rowErr error) error {
		if rowErr != nil {
			return InputError{fmt.Errorf("line %d changed while it was imported: %v", row.Line, rowErr)}
		}
		if row.Line <= r.from.Line {
			return nil
		}
		code := known[row.Campaign]
		if code == "" {
			return InputError{fmt.Errorf("line %d changed while it was imported", row.Line)}
		}
		if toCreate[code] {
			newCampaigns = append(newCampaigns, code)
			delete(toCreate, code)
		}
		// The row names the campaign as stored, so that its touches find it.
		row.Campaign = code
		last, pending = row.Line, pending+1
		if evs := row.Events(key.ID, now); !suppressed.Suppressed(&evs[0]) && !suppressed.Suppressed(&evs[1]) {
			chunk = append(chunk, evs)
		} else {
			nsuppressed++
		}
		if pending >= im.chunkRows() {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return Result{}, err
	}
	if nsuppressed > 0 {
		nb.add("%d rows not imported: they name a person who was erased or withdrew consent to tracking", nsuppressed)
	}
	rec := model.Import{Kind: "events", FileHash: r.hash, FileName: r.name, Layout: "events", RowsRead: rows, RowsNew: cp.New, RowsSame: cp.Same, CreatedAt: now}
	return r.finish(ctx, rec, enc, nb.all())
}

// NewWriteKey draws a random write key for revloop's own event sources.
func NewWriteKey() string {
	b := make([]byte, 18)
	rand.Read(b)
	return "wk_" + base64.RawURLEncoding.EncodeToString(b)
}
