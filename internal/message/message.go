// Package message sends what journeys ask to send: email over SMTP, WeCom
// app and external-contact messages, and webhooks. Before a message leaves,
// the person's consent for the channel, the suppression of their address
// and the channel's frequency cap are checked; a message that may not go is
// skipped with its reason, never silently dropped.
//
// Every request carries a key unique to the journey ledger row it comes
// from. It is the email's Message-ID, the WeCom duplicate-check key and the
// webhook's delivery id, so that the only possible duplicate (provider
// accepted, ledger write lost) can be dropped by its receiver.
package message

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// The channels a journey step can send on.
const (
	ChannelEmail   = "email"
	ChannelWeCom   = "wecom"
	ChannelWebhook = "webhook"
)

// Status is what became of one request.
type Status string

// The statuses. A transient failure is not a status: Send returns an error
// and the caller retries with back-off.
const (
	Sent    Status = "sent"    // the provider accepted it
	Skipped Status = "skipped" // not sent on purpose: no consent, suppressed, capped, no address
	Failed  Status = "failed"  // refused for good (bad address, 4xx from a webhook, ...)
)

// Request is one message to one person for one journey step.
type Request struct {
	// Key is unique per journey ledger row; see the package comment.
	Key       string
	Channel   string
	PersonID  int64
	JourneyID int64
	Version   int
	StepID    string
	// Step is the step's definition as the journey stored it
	// (model.JourneyStep in JSON); each channel reads its own fields.
	Step json.RawMessage
	Now  time.Time
}

// Result is the outcome of a request that did not fail transiently.
type Result struct {
	Status Status `json:"status"`
	// Reason says why a message was skipped or failed, in a few words
	// ("no_consent", "suppressed", "frequency_cap", "no_address", ...).
	Reason string `json:"reason,omitempty"`
	// ProviderID is the provider's id of the message, when it gives one.
	ProviderID string `json:"provider_id,omitempty"`
}

// Sender sends one request on one channel. An error means a transient
// failure: the request may be tried again with the same key.
type Sender interface {
	Send(ctx context.Context, r Request) (Result, error)
}

// Gate decides whether a person may get a message on a channel now:
// consent, suppression and frequency caps. Record counts a sent message
// against the caps.
type Gate interface {
	Allow(ctx context.Context, r Request) (ok bool, reason string, err error)
	Record(ctx context.Context, r Request, res Result) error
}

// Releaser is a Gate that can give back what Allow took (a frequency
// cap's slot) for a message its sender refused for good or skipped.
type Releaser interface {
	Release(ctx context.Context, r Request) error
}

// Dispatcher sends a request on its channel after the gate allowed it.
type Dispatcher struct {
	Gate    Gate // nil lets every request through
	Senders map[string]Sender
}

// Send passes the request through the gate and to its channel's sender.
// When the message went but counting it failed, Send returns the Sent
// result together with the error: the caller must keep the result (the
// message must not be sent again).
func (d *Dispatcher) Send(ctx context.Context, r Request) (Result, error) {
	s, ok := d.Senders[r.Channel]
	if !ok {
		return Result{Status: Failed, Reason: "unknown_channel"}, nil
	}
	if d.Gate != nil {
		allowed, reason, err := d.Gate.Allow(ctx, r)
		if err != nil {
			return Result{}, fmt.Errorf("message %s: gate: %w", r.Key, err)
		}
		if !allowed {
			return Result{Status: Skipped, Reason: reason}, nil
		}
	}
	res, err := s.Send(ctx, r)
	if err != nil {
		return Result{}, err
	}
	if rel, ok := d.Gate.(Releaser); ok && res.Status != Sent {
		// Not sent: the slot the gate took is free again. (After a
		// transient error it stays taken: the message may have gone.)
		if err := rel.Release(ctx, r); err != nil {
			return res, fmt.Errorf("message %s: release: %w", r.Key, err)
		}
	}
	if d.Gate != nil && res.Status == Sent {
		if err := d.Gate.Record(ctx, r, res); err != nil {
			return res, fmt.Errorf("message %s: record: %w", r.Key, err)
		}
	}
	return res, nil
}
