package model

import "time"

// Window is a half-open time range [From, To); a zero bound is open.
type Window struct {
	From time.Time
	To   time.Time
}
