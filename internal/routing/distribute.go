package routing

import (
	"cmp"
	"slices"
	"strings"
	"time"
)

// User is a possible assignee as routing sees it.
type User struct {
	ID        int64
	Email     string
	Team      string
	ManagerID int64
	// Capacity is the most open assignments the user takes; 0 = no limit.
	Capacity int
	// Open counts the user's open assignments (see docs/routing.md: the
	// current assignment of a person still in a working stage, not yet
	// followed up).
	Open         int
	Disabled     bool
	Viewer       bool // viewers never take leads
	OutOfOffice  *time.Time
	BackInOffice *time.Time
}

// Away reports whether the user is out of office at t: from OutOfOffice
// (inclusive, open-ended when unset) until BackInOffice (exclusive,
// open-ended when unset); with neither set the user is in.
func (u *User) Away(t time.Time) bool {
	if u.OutOfOffice == nil && u.BackInOffice == nil {
		return false
	}
	started := u.OutOfOffice == nil || !t.Before(*u.OutOfOffice)
	ended := u.BackInOffice != nil && !t.Before(*u.BackInOffice)
	return started && !ended
}

// Available reports whether the user can take one more lead at t.
func (u *User) Available(t time.Time) bool {
	return !u.Disabled && !u.Viewer && !u.Away(t) && (u.Capacity <= 0 || u.Open < u.Capacity)
}

// Decision is where one lead goes. UserID 0 means nobody could take it:
// the lead waits.
type Decision struct {
	UserID int64
	Rule   string // the rule's name, account_owner or fallback
	Method string // round_robin, least_busy; empty for account_owner
}

// Cursors is the round-robin state: per rule name, the user who took the
// rule's last lead.
type Cursors map[string]int64

// Decide places one lead: the account owner first when the set keeps
// account owners, then the first matching rule with somebody available,
// then the fallback pool. It advances cursors for the rule that decided;
// the caller counts the new open assignment on the chosen user.
func (rs *RuleSet) Decide(l Lead, users []User, cursors Cursors, now time.Time) Decision {
	if rs.KeepAccountOwner && l.AccountOwnerID != 0 {
		for i := range users {
			if users[i].ID == l.AccountOwnerID && users[i].Available(now) {
				return Decision{UserID: l.AccountOwnerID, Rule: RuleAccountOwner}
			}
		}
	}
	for i := range rs.Rules {
		r := &rs.Rules[i]
		if !r.Match.Matches(l) {
			continue
		}
		if id := pick(r.Pool, r.Method, r.Name, users, cursors, now); id != 0 {
			return Decision{UserID: id, Rule: r.Name, Method: r.Method}
		}
	}
	if f := rs.Fallback; f != nil {
		if id := pick(f.Pool, f.Method, RuleFallback, users, cursors, now); id != 0 {
			return Decision{UserID: id, Rule: RuleFallback, Method: f.Method}
		}
	}
	return Decision{}
}

// PoolMembers are the ids of the users a pool names, ascending.
func PoolMembers(p Pool, users []User) []int64 {
	var ids []int64
	for i := range users {
		if inPool(p, &users[i]) {
			ids = append(ids, users[i].ID)
		}
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

// pick chooses among the pool's available users and records the choice
// in cursors. Round robin takes the first available user after the one
// who had the last turn (in id order, wrapping around), so that a user who
// was away or full simply misses turns. Least busy takes the fewest open
// assignments, and among equals the next in round-robin order.
func pick(p Pool, method, key string, users []User, cursors Cursors, now time.Time) int64 {
	var avail []*User
	for i := range users {
		if u := &users[i]; inPool(p, u) && u.Available(now) {
			avail = append(avail, u)
		}
	}
	if len(avail) == 0 {
		return 0
	}
	slices.SortFunc(avail, func(a, b *User) int { return cmp.Compare(a.ID, b.ID) })
	if method == LeastBusy {
		least := avail[0].Open
		for _, u := range avail {
			least = min(least, u.Open)
		}
		avail = slices.DeleteFunc(avail, func(u *User) bool { return u.Open > least })
	}
	last := cursors[key]
	chosen := avail[0]
	for _, u := range avail {
		if u.ID > last {
			chosen = u
			break
		}
	}
	cursors[key] = chosen.ID
	return chosen.ID
}

func inPool(p Pool, u *User) bool {
	if p.Team != "" && strings.EqualFold(u.Team, p.Team) {
		return true
	}
	for _, ref := range p.Users {
		if (ref.ID != 0 && ref.ID == u.ID) || (ref.Email != "" && strings.EqualFold(ref.Email, u.Email)) {
			return true
		}
	}
	return false
}
