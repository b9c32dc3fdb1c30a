// Package process turns stored events into persons, accounts and
// touchpoints: OneID resolution (identity), channel classification
// (channel), leads from form fills. It runs at intake, in the collector's
// commit (Ingester), and for events stored otherwise or left over (the
// runner's processing jobs call ProcessFor). Processing is idempotent:
// events are marked processed in the same transaction as what was derived
// from them, and a replayed event rewrites its own touchpoint rather than
// adding one. Reclassification after the channel rules change lives here
// too.
package process

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/revloop/revloop/internal/channel"
	"github.com/revloop/revloop/internal/identity"
	"github.com/revloop/revloop/internal/lifecycle"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
)

// batchSize is how many events one processing transaction takes.
const batchSize = 1000

// ChannelRules returns the channel rules in force: the saved ones, or
// the defaults when none were saved.
func ChannelRules(ctx context.Context, s *store.Store) (*channel.RuleSet, error) {
	saved, err := s.ActiveRuleSet(ctx, model.ChannelRuleSets)
	if errors.Is(err, store.ErrNotFound) {
		return channel.Load(nil)
	}
	if err != nil {
		return nil, err
	}
	return channel.Load(&channel.Saved{JSON: saved.Rules, Version: saved.Version, At: saved.CreatedAt, By: saved.CreatedBy})
}

// Processor derives persons, accounts and touchpoints from stored events.
type Processor struct {
	Store    *store.Store
	Rules    *channel.RuleSet
	Resolver identity.Resolver

	// parsed holds each event of the current batch read once by Prepare;
	// early those read before the batch began (ParseAhead), by message.
	parsed map[int64]parsedEvent
	early  map[messageKey]parsedEvent
}

type messageKey struct {
	writeKey int64
	message  string
}

// ParseAhead reads the payloads and identifiers of events about to be
// processed, before their transaction begins: the work that needs no
// database then runs while another commit holds the writer.
func (p *Processor) ParseAhead(events []model.Event) {
	p.early = make(map[messageKey]parsedEvent, len(events))
	for i := range events {
		ev := &events[i]
		msg := identity.ParseMessage(ev)
		ids, _ := p.Resolver.Normaliser.Identifiers(ev, msg)
		p.early[messageKey{ev.WriteKeyID, ev.MessageID}] = parsedEvent{msg, ids}
	}
}

// parsedEvent is what an event's payload says, read once per batch.
type parsedEvent struct {
	msg identity.Message
	ids []identity.Identifier
}

// parse reads an event's message and identifiers, from the batch's
// copy when Prepare saw the event.
func (p *Processor) parse(ev *model.Event) parsedEvent {
	if pe, ok := p.parsed[ev.ID]; ok {
		return pe
	}
	msg := identity.ParseMessage(ev)
	ids, _ := p.Resolver.Normaliser.Identifiers(ev, msg)
	return parsedEvent{msg, ids}
}

// NewProcessor loads the current rules and settings.
func NewProcessor(ctx context.Context, s *store.Store) (*Processor, error) {
	rules, err := ChannelRules(ctx, s)
	if err != nil {
		return nil, err
	}
	region, err := identity.PhoneRegion(ctx, s)
	if err != nil {
		return nil, err
	}
	servers, err := s.ServerWriteKeys(ctx)
	if err != nil {
		return nil, err
	}
	trusted := func(writeKeyID int64) bool { return servers[writeKeyID] }
	return &Processor{Store: s, Rules: rules, Resolver: identity.Resolver{Normaliser: identity.Normaliser{PhoneRegion: region}, Trusted: trusted}}, nil
}

// ProcessPending processes every unprocessed event and returns how many it
// processed. It is what the processing job runs; tests and the CLI call it
// directly.
func ProcessPending(ctx context.Context, s *store.Store) (int, error) {
	n, _, err := ProcessFor(ctx, s, 0)
	return n, err
}

// ProcessFor processes events until none are left or, when budget > 0, the
// budget is spent; more says whether events may remain.
func ProcessFor(ctx context.Context, s *store.Store, budget time.Duration) (total int, more bool, err error) {
	p, err := NewProcessor(ctx, s)
	if err != nil {
		return 0, false, err
	}
	start := time.Now()
	for {
		n, err := s.ProcessEventsWith(ctx, batchSize, p.Prepare, p.Process)
		total += n
		if err != nil {
			return total, true, err
		}
		if n == 0 {
			return total, false, nil
		}
		if budget > 0 && time.Since(start) > budget {
			return total, true, nil
		}
	}
}

// leadEvents are the track events that make a known visitor a lead (form
// fills), compared lower-cased.
var leadEvents = map[string]bool{
	"form submitted": true, "signed up": true, "demo requested": true, "trial started": true, "contact requested": true,
}

// Prepare reads, in one query per few hundred identifiers, who owns every
// identifier the batch's events carry, so that resolving them costs no
// round trip per identifier.
func (p *Processor) Prepare(tx *store.ProcessTx, events []model.Event) error {
	keys := make([]store.IdentityKey, 0, 2*len(events))
	var domains []string
	p.parsed = make(map[int64]parsedEvent, len(events))
	for i := range events {
		ev := &events[i]
		pe, ok := p.early[messageKey{ev.WriteKeyID, ev.MessageID}]
		if !ok {
			pe.msg = identity.ParseMessage(ev)
			pe.ids, _ = p.Resolver.Normaliser.Identifiers(ev, pe.msg)
		}
		p.parsed[ev.ID] = pe
		ids := pe.ids
		for _, id := range ids {
			keys = append(keys, store.IdentityKey{Type: id.Type, Value: id.Value})
			if id.Type == model.IdentityEmail {
				if d := identity.BusinessDomain(id.Value); d != "" {
					domains = append(domains, d)
				}
			}
		}
		if ev.Type == model.EventAlias && strings.TrimSpace(ev.PreviousID) != "" {
			for _, t := range []model.IdentityType{model.IdentityUserID, model.IdentityAnonymousID} {
				if v, err := p.Resolver.Normaliser.Normalise(t, ev.PreviousID); err == nil {
					keys = append(keys, store.IdentityKey{Type: t, Value: v})
				}
			}
		}
	}
	if err := tx.PrefetchIdentities(keys); err != nil {
		return err
	}
	return tx.PrefetchAccountDomains(domains)
}

// known says whether a person holds an identifier stronger than an
// anonymous id: answered from the batch's identity cache when one of the
// event's own strong identifiers points at the person, else by a query.
func (p *Processor) known(tx *store.ProcessTx, ids []identity.Identifier, person int64) (bool, error) {
	for _, id := range ids {
		if !id.Strong() {
			continue
		}
		if owner, ok := tx.CachedOwner(id.Type, id.Value); ok && owner == person {
			return true, nil
		}
	}
	return tx.Known(person)
}

// Process derives everything from one event inside the batch transaction.
func (p *Processor) Process(tx *store.ProcessTx, ev *model.Event) error {
	if ev.Bot && (isTouch(ev.Type) || ev.Type == model.EventIdentify) {
		// A crawler's page views are kept raw but are never a touch or a
		// person, and its identify calls give nobody identifiers or traits:
		// a bot is flagged only by the person's own user agent
		// (context.userAgent), never by the server SDK's, so a flagged
		// identify is a script posing as a browser. alias and group still
		// link identities.
		return nil
	}
	pe := p.parse(ev)
	msg := pe.msg
	res, err := p.Resolver.ResolveWith(tx, ev, msg, pe.ids)
	if err != nil {
		return fmt.Errorf("resolve identity: %w", err)
	}
	if isTouch(ev.Type) {
		tp, err := p.touchpoint(tx, ev, msg, res.PersonID)
		if err != nil {
			return err
		}
		// The batch moves the person's first touch when it writes this
		// one, if it is earlier.
		if err := tx.UpsertTouchpoint(tp, ev.ID); err != nil {
			return fmt.Errorf("write touchpoint: %w", err)
		}
	}
	if res.PersonID != 0 {
		reason := ""
		switch {
		case ev.Type == model.EventTrack && leadEvents[strings.ToLower(strings.TrimSpace(ev.Name))]:
			reason = fmt.Sprintf("form fill: %s (event %d)", ev.Name, ev.ID)
		case ev.Type == model.EventIdentify && res.Email != "":
			reason = fmt.Sprintf("identified with an email (event %d)", ev.ID)
		}
		if reason != "" {
			// A form that told us nothing about who filled it makes no lead.
			known, err := p.known(tx, pe.ids, res.PersonID)
			if err != nil {
				return err
			}
			if !known {
				reason = ""
			}
		}
		if reason != "" {
			if _, err := tx.MoveStage(lifecycle.LeadMove(res.PersonID, ev.Timestamp, reason)); err != nil {
				return fmt.Errorf("make lead: %w", err)
			}
		}
	}
	return nil
}

func isTouch(t model.EventType) bool {
	return t == model.EventPage || t == model.EventScreen || t == model.EventTrack
}

// touchpoint derives the touchpoint of a page, screen or track event.
func (p *Processor) touchpoint(tx *store.ProcessTx, ev *model.Event, msg identity.Message, person int64) (model.Touchpoint, error) {
	camp, err := tx.CampaignByRef(ev.Campaign)
	if err != nil {
		return model.Touchpoint{}, err
	}
	kw, err := tx.KeywordID(camp.ID, ev.Term)
	if err != nil {
		return model.Touchpoint{}, err
	}
	content, err := tx.ContentID(ev.Content, ev.URL)
	if err != nil {
		return model.Touchpoint{}, err
	}
	promoter, err := tx.PromoterID(promoterRef(msg))
	if err != nil {
		return model.Touchpoint{}, err
	}
	var link int64
	if ev.Type == model.EventTrack && ev.Name == LinkClickEvent {
		code, _ := msg.Properties["link_code"].(string)
		if link, err = tx.ClickedLink(ev.WriteKeyID, code); err != nil {
			return model.Touchpoint{}, err
		}
	}
	t := TouchOf(TouchInput{
		EventType: string(ev.Type), EventName: ev.Name, URL: ev.URL, Referrer: ev.Referrer,
		Source: ev.Source, Medium: ev.Medium, Campaign: ev.Campaign, Term: ev.Term, Content: ev.Content,
		ClickIDType: ev.ClickIDType, ClickID: ev.ClickID, CampaignChannel: camp.Channel, PromoterID: promoter,
	})
	c := p.Rules.Classify(t)
	return model.Touchpoint{
		PersonID: person, AnonymousID: ev.AnonymousID, OccurredAt: ev.Timestamp, Type: touchType(ev),
		Channel: c.Channel, Source: c.Source, Medium: c.Medium, CampaignID: camp.ID, KeywordID: kw, ContentID: content,
		PromoterID: promoter, LinkID: link, URL: ev.URL, Referrer: ev.Referrer, ClickID: ev.ClickID, WatchSeconds: model.WatchSeconds(msg.Properties),
	}, nil
}

// LinkClickEvent is the track event a tracked link's click is stored as
// (collect.RecordClick).
const LinkClickEvent = "Tracked Link Clicked"

// promoterRef is the employee a shared link names: properties.promoter (a
// user id or email), or the same key in context.
func promoterRef(m identity.Message) string {
	for _, src := range []map[string]any{m.Properties, m.Context} {
		for _, k := range []string{"promoter_id", "promoter", "promoterId", "shared_by"} {
			switch v := src[k].(type) {
			case string:
				if strings.TrimSpace(v) != "" {
					return v
				}
			case float64:
				if v > 0 && v == float64(int64(v)) {
					return strconv.FormatInt(int64(v), 10)
				}
			}
		}
	}
	return ""
}

// TouchInput is what classification of a stored touch is derived from; the
// same for processing and reclassification, so that both agree.
type TouchInput struct {
	EventType, EventName, URL, Referrer     string
	Source, Medium, Campaign, Term, Content string
	ClickIDType, ClickID, CampaignChannel   string
	PromoterID                              int64
}

// TouchOf builds the channel.Touch of a stored event.
func TouchOf(in TouchInput) channel.Touch {
	t := channel.Touch{
		UTM:             channel.UTM{Source: in.Source, Medium: in.Medium, Campaign: in.Campaign, Term: in.Term, Content: in.Content},
		ClickID:         channel.ClickID{Type: in.ClickIDType, Value: in.ClickID},
		URL:             in.URL,
		Referrer:        in.Referrer,
		EventType:       in.EventType,
		EventName:       in.EventName,
		CampaignChannel: in.CampaignChannel,
	}
	if in.PromoterID != 0 {
		t.Promoter = strconv.FormatInt(in.PromoterID, 10)
	}
	return t
}

var nonWord = regexp.MustCompile(`[^a-z0-9]+`)

// touchType names a touchpoint by its event: page_view, screen_view, or the
// track event's name in snake case ("Form Submitted" → form_submit).
func touchType(ev *model.Event) string {
	switch ev.Type {
	case model.EventPage:
		return "page_view"
	case model.EventScreen:
		return "screen_view"
	}
	name := strings.Trim(nonWord.ReplaceAllString(strings.ToLower(ev.Name), "_"), "_")
	switch name {
	case "form_submitted":
		return "form_submit"
	case "":
		return "track"
	}
	if len(name) > 64 {
		name = name[:64]
	}
	return name
}

// Ingester stores collected events and processes them in the same
// transaction (store.IngestProcessed), so that intake and processing write
// each event once. When processing fails for any event of a commit, the
// commit's events are stored unprocessed instead and the runner processes
// them (and pins the failure on its event): nothing acknowledged is lost.
type Ingester struct {
	store *store.Store
	log   *slog.Logger
	// processed is called after a commit whose events were processed
	// (the runner's tasks that follow processing); unprocessed after one
	// that left them to the runner.
	processed, unprocessed func()

	mu      sync.Mutex
	proc    *Processor
	loaded  time.Time
	refresh time.Duration
}

// NewIngester builds an Ingester. processed and unprocessed may be nil.
func NewIngester(s *store.Store, log *slog.Logger, processed, unprocessed func()) *Ingester {
	if log == nil {
		log = slog.Default()
	}
	return &Ingester{store: s, log: log, processed: processed, unprocessed: unprocessed, refresh: time.Second}
}

// processor is the current Processor: channel rules and settings are read
// again at most once a second, so that a change applies to what arrives
// a second later (a rules change reclassifies what came before).
func (in *Ingester) processor(ctx context.Context) (*Processor, error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.proc != nil && time.Since(in.loaded) < in.refresh {
		return in.proc, nil
	}
	p, err := NewProcessor(ctx, in.store)
	if err != nil {
		return nil, err
	}
	in.proc, in.loaded = p, time.Now()
	return p, nil
}

// Ingest stores events (once per write key and message id) and returns how
// many were new.
func (in *Ingester) Ingest(ctx context.Context, events []model.Event) (int, error) {
	p, err := in.processor(ctx)
	if err == nil {
		// A Processor keeps the batch it prepared: one commit at a time.
		batch := &Processor{Store: p.Store, Rules: p.Rules, Resolver: p.Resolver}
		batch.ParseAhead(events)
		var n int
		n, err = in.store.IngestProcessed(ctx, events, batch.Prepare, batch.Process)
		if err == nil {
			if n > 0 && in.processed != nil {
				in.processed()
			}
			return n, nil
		}
	}
	if ctx.Err() != nil {
		return 0, ctx.Err()
	}
	in.log.Warn("processing at intake failed; events are stored for the runner", "events", len(events), "err", err)
	n, err := in.store.IngestEvents(ctx, events)
	if err == nil && n > 0 && in.unprocessed != nil {
		in.unprocessed()
	}
	return n, err
}
