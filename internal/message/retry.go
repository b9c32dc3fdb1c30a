package message

import (
	"errors"
	"fmt"
	"time"
)

// RetryError is a transient failure that says when to try again: a
// WeCom member over their sending limit, a webhook answering 429 with
// Retry-After. Callers find it with errors.As and wait until At before
// sending the same request again.
type RetryError struct {
	At     time.Time
	Reason string
	Err    error
}

func (e *RetryError) Error() string {
	msg := e.Reason
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return fmt.Sprintf("%s (retry at %s)", msg, e.At.UTC().Format(time.RFC3339))
}

func (e *RetryError) Unwrap() error { return e.Err }

// RetryAt is the time a transient error asks to wait for, when it says.
func RetryAt(err error) (time.Time, bool) {
	var re *RetryError
	if errors.As(err, &re) {
		return re.At, true
	}
	return time.Time{}, false
}
