package collect

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/revloop/revloop/internal/model"
)

// errClosed answers requests that arrive while the collector shuts down;
// their events are not stored and the client is told to retry.
var errClosed = errors.New("collector is shutting down")

// committer is the group commit: request handlers queue their events, and
// committer goroutines write everything queued so far in one transaction,
// then answer every request in it. A burst of small requests thus costs one
// commit (one fsync) instead of one each.
type committer struct {
	ingest    func(ctx context.Context, events []model.Event) (int, error)
	log       *slog.Logger
	maxEvents int
	workers   int
	timeout   time.Duration
	onCommit  func(groupEvents, newEvents int, d time.Duration, err error)

	// writing counts the committers in a commit; wrote is signalled when
	// one ends.
	writing atomic.Int32
	wrote   chan struct{}

	queue   chan *commitRequest
	quit    chan struct{}
	exited  chan struct{}
	start   sync.Once
	stop    sync.Once
	running sync.WaitGroup
}

type commitRequest struct {
	events []model.Event
	done   chan error
}

func newCommitter(ingest func(context.Context, []model.Event) (int, error), log *slog.Logger, workers, maxEvents int,
	onCommit func(int, int, time.Duration, error)) *committer {
	return &committer{ingest: ingest, log: log, maxEvents: maxEvents, workers: workers, timeout: 30 * time.Second, onCommit: onCommit,
		wrote: make(chan struct{}, 1), queue: make(chan *commitRequest, 4096), quit: make(chan struct{}), exited: make(chan struct{})}
}

func (c *committer) ensureStarted() {
	c.start.Do(func() {
		for range c.workers {
			c.running.Add(1)
			go c.loop()
		}
		go func() { c.running.Wait(); close(c.exited) }()
	})
}

// submit queues events and waits until they are committed (nil) or not.
// It does not give up when the client goes away: the events may already be
// in a transaction, and the answer no longer matters to anyone.
func (c *committer) submit(ctx context.Context, events []model.Event) error {
	c.ensureStarted()
	req := &commitRequest{events: events, done: make(chan error, 1)}
	select {
	case <-c.quit:
		return errClosed
	default:
	}
	select {
	case c.queue <- req:
	case <-c.quit:
		return errClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-req.done:
		return err
	case <-c.exited:
		select {
		case err := <-req.done:
			return err
		default:
			return errClosed // queued after the last drain: never written
		}
	}
}

// close stops taking requests, commits what is queued and waits for the
// workers to finish, or for ctx to end.
func (c *committer) close(ctx context.Context) error {
	c.stop.Do(func() { close(c.quit) })
	c.ensureStarted()
	select {
	case <-c.exited:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *committer) loop() {
	defer c.running.Done()
	group := make([]*commitRequest, 0, 64)
	for {
		group = group[:0]
		select {
		case r := <-c.queue:
			group = append(group, r)
		case <-c.quit:
			c.drain()
			return
		}
		n := len(group[0].events)
	more:
		for n < c.maxEvents {
			// While another committer writes, this one could not write
			// anyway (one writer, or one processing lock): it gathers
			// what arrives meanwhile into one larger commit.
			if c.writing.Load() == 0 {
				select {
				case r := <-c.queue:
					group = append(group, r)
					n += len(r.events)
					continue
				default:
					break more
				}
			}
			select {
			case r := <-c.queue:
				group = append(group, r)
				n += len(r.events)
			case <-c.wrote:
			case <-c.quit:
				break more
			case <-time.After(maxGather):
				break more
			}
		}
		c.writing.Add(1)
		c.commit(group, n)
		c.writing.Add(-1)
		select {
		case c.wrote <- struct{}{}:
		default:
		}
	}
}

// maxGather bounds how long a committer gathers while another writes.
const maxGather = 100 * time.Millisecond

// drain commits whatever is still queued at shutdown.
func (c *committer) drain() {
	for {
		group := []*commitRequest{}
		n := 0
	fill:
		for n < c.maxEvents {
			select {
			case r := <-c.queue:
				group = append(group, r)
				n += len(r.events)
			default:
				break fill
			}
		}
		if len(group) == 0 {
			return
		}
		c.commit(group, n)
	}
}

func (c *committer) commit(group []*commitRequest, n int) {
	events := group[0].events
	if len(group) > 1 {
		events = make([]model.Event, 0, n)
		for _, r := range group {
			events = append(events, r.events...)
		}
	}
	err := c.write(events)
	if err != nil && len(group) > 1 {
		// One bad request must not fail the others: write each on its own.
		c.log.Warn("group commit failed; committing its requests one by one", "requests", len(group), "events", n, "err", err)
		for _, r := range group {
			r.done <- c.write(r.events)
		}
		return
	}
	for _, r := range group {
		r.done <- err
	}
}

func (c *committer) write(events []model.Event) error {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	start := time.Now()
	n, err := c.ingest(ctx, events)
	if c.onCommit != nil {
		c.onCommit(len(events), n, time.Since(start), err)
	}
	return err
}
