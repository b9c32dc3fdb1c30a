package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/revloop/revloop/internal/journey"
	"github.com/revloop/revloop/internal/message"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/review"
	"github.com/revloop/revloop/internal/segment"
	"github.com/revloop/revloop/internal/store"
)

// What journeys use from the rest of revloop: the channels that send
// (through the consent and frequency-cap gate), segment membership and
// inline segment filters, the segments' change feed, and what became of
// a message (opened, clicked, replied).

// messageDispatcher sends journeys' messages on every channel revloop
// has, each behind the gate.
func (a *App) messageDispatcher() *message.Dispatcher {
	return &message.Dispatcher{Gate: message.NewGate(a.Store), Senders: map[string]message.Sender{
		message.ChannelEmail:   a.Email,
		message.ChannelWeCom:   message.NewWeCom(a.Store, a.Secrets),
		message.ChannelWebhook: message.NewWebhook(a.Store, a.Secrets),
	}}
}

// journeySegments answers a journey's segment conditions.
type journeySegments struct {
	st  *store.Store
	now func() time.Time
}

func (j journeySegments) Member(ctx context.Context, segmentID, personID int64) (bool, error) {
	return j.st.SegmentMember(ctx, segmentID, personID)
}

func (j journeySegments) Matches(ctx context.Context, filter json.RawMessage, personID int64) (bool, error) {
	return segment.MatchesAt(ctx, j.st, filter, personID, j.now())
}

// journeyFeed is the segments' change log as journeys read it: persons
// only (an account list's members are accounts, which enter no journey).
type journeyFeed struct {
	st    *store.Store
	mu    sync.Mutex
	kinds map[int64]string // segment → kind; a segment's kind never changes
}

func (f *journeyFeed) ChangesAfter(ctx context.Context, afterID int64, limit int) ([]journey.SegmentChange, error) {
	chs, err := f.st.SegmentChangesAfter(ctx, afterID, limit)
	if err != nil {
		return nil, err
	}
	out := make([]journey.SegmentChange, 0, len(chs))
	for _, c := range chs {
		kind, err := f.kind(ctx, c.SegmentID)
		if err != nil {
			return nil, err
		}
		ch := journey.SegmentChange{ID: c.ID, SegmentID: c.SegmentID, PersonID: c.MemberID, Entered: c.Entered, At: c.At}
		if kind != model.SegmentPersons {
			// Kept with no person, so that the feed's cursor still
			// passes it.
			ch.PersonID, ch.Entered = 0, false
		}
		out = append(out, ch)
	}
	return out, nil
}

func (f *journeyFeed) kind(ctx context.Context, id int64) (string, error) {
	f.mu.Lock()
	k, ok := f.kinds[id]
	f.mu.Unlock()
	if ok {
		return k, nil
	}
	g, err := f.st.Segment(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return "", nil // deleted since: nobody enters by it
	}
	if err != nil {
		return "", err
	}
	f.mu.Lock()
	if f.kinds == nil {
		f.kinds = map[int64]string{}
	}
	f.kinds[id] = g.Kind
	f.mu.Unlock()
	return g.Kind, nil
}

// journeyOutcomes says whether an email was opened, clicked or replied
// to, from the message events the tracking and bounce reports record.
type journeyOutcomes struct{ st *store.Store }

func (o journeyOutcomes) Outcome(ctx context.Context, key, kind string) (bool, error) {
	return o.st.MessageOutcome(ctx, key, kind)
}

// emailNotice mails a reminder to its owner over the SMTP server of the
// email.smtp setting. Without one, the reminder waits in the app (no
// failure) and goes once a server is set, within the reminders' week.
func (a *App) emailNotice(ctx context.Context, to, subject, text string) error {
	sum := sha256.Sum256([]byte(to + "\x00" + subject + "\x00" + text))
	res, err := a.Email.SendNotice(ctx, to, "notice."+hex.EncodeToString(sum[:12]), subject, text)
	switch {
	case errors.Is(err, message.ErrNotConfigured):
		return fmt.Errorf("%w: %w", review.ErrNoDelivery, err)
	case err != nil:
		return err
	case res.Status != message.Sent:
		return fmt.Errorf("reminder to %s: %s %s", to, res.Status, res.Reason)
	}
	return nil
}
