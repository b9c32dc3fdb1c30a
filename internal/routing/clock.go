package routing

import (
	"fmt"
	"slices"
	"strings"
	"time"
	_ "time/tzdata" // the SLA time zone must load on hosts without a zoneinfo database
)

var weekdayNames = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
}

func (b *BusinessHours) normalise() error {
	if len(b.Days) == 0 {
		b.Days = slices.Clone(DefaultDays)
	}
	if len(b.Days) > 7 {
		return invalid("sla.business_hours.days", "%d days; a week has 7", len(b.Days))
	}
	seen := map[string]bool{}
	for i, d := range b.Days {
		d = strings.ToLower(strings.TrimSpace(d))
		if len(d) > 3 {
			d = d[:3] // "monday" → "mon"
		}
		if _, ok := weekdayNames[d]; !ok {
			return invalid(fmt.Sprintf("sla.business_hours.days[%d]", i), "%q is not a week day: use mon, tue, wed, thu, fri, sat or sun", clipText(b.Days[i]))
		}
		if seen[d] {
			return invalid(fmt.Sprintf("sla.business_hours.days[%d]", i), "%s is listed twice", d)
		}
		seen[d] = true
		b.Days[i] = d
	}
	if b.Start = strings.TrimSpace(b.Start); b.Start == "" {
		b.Start = DefaultStart
	}
	if b.End = strings.TrimSpace(b.End); b.End == "" {
		b.End = DefaultEnd
	}
	start, err := parseClock(b.Start)
	if err != nil {
		return invalid("sla.business_hours.start", "%v", err)
	}
	end, err := parseClock(b.End)
	if err != nil {
		return invalid("sla.business_hours.end", "%v", err)
	}
	if end <= start {
		return invalid("sla.business_hours", "end (%s) must be after start (%s) on the same day", b.End, b.Start)
	}
	if b.TimeZone = strings.TrimSpace(b.TimeZone); b.TimeZone == "" {
		b.TimeZone = DefaultTimeZone
	}
	if len(b.TimeZone) > 64 {
		return invalid("sla.business_hours.time_zone", "not a time zone name")
	}
	if _, err := time.LoadLocation(b.TimeZone); err != nil || b.TimeZone == "Local" {
		return invalid("sla.business_hours.time_zone", "unknown time zone %q: use an IANA name such as Asia/Shanghai", clipText(b.TimeZone))
	}
	if len(b.Holidays) > maxHolidays {
		return invalid("sla.business_hours.holidays", "%d holidays; at most %d", len(b.Holidays), maxHolidays)
	}
	for i, h := range b.Holidays {
		h = strings.TrimSpace(h)
		if _, err := time.Parse(time.DateOnly, h); err != nil {
			return invalid(fmt.Sprintf("sla.business_hours.holidays[%d]", i), "%q is not a date: use YYYY-MM-DD", clipText(h))
		}
		b.Holidays[i] = h
	}
	if b.Holidays == nil {
		b.Holidays = []string{}
	}
	return nil
}

// parseClock reads "HH:MM" as minutes after midnight; "24:00" is midnight
// at the end of the day.
func parseClock(s string) (int, error) {
	t, err := time.Parse("15:04", s)
	if err == nil {
		return t.Hour()*60 + t.Minute(), nil
	}
	if s == "24:00" {
		return 24 * 60, nil
	}
	return 0, fmt.Errorf("%q is not a time of day: use HH:MM, e.g. 09:00", clipText(s))
}

// Clock counts business time: the working days' hours in one time zone,
// minus holidays. It is built from validated BusinessHours.
type Clock struct {
	loc        *time.Location
	days       [7]bool
	start, end int // minutes after local midnight
	holidays   map[string]bool
}

// NewClock validates b (filling defaults) and returns its clock.
func NewClock(b BusinessHours) (*Clock, error) {
	b.Days, b.Holidays = slices.Clone(b.Days), slices.Clone(b.Holidays)
	if err := b.normalise(); err != nil {
		return nil, err
	}
	return b.clock(), nil
}

// clock builds the clock of normalised business hours.
func (b *BusinessHours) clock() *Clock {
	c := &Clock{holidays: map[string]bool{}}
	c.loc, _ = time.LoadLocation(b.TimeZone)
	for _, d := range b.Days {
		c.days[weekdayNames[d]] = true
	}
	c.start, _ = parseClock(b.Start)
	c.end, _ = parseClock(b.End)
	for _, h := range b.Holidays {
		c.holidays[h] = true
	}
	return c
}

// Location is the clock's time zone.
func (c *Clock) Location() *time.Location { return c.loc }

// window is one local day's business hours; ok is false on days off.
func (c *Clock) window(y int, m time.Month, d int) (open, close time.Time, ok bool) {
	midnight := time.Date(y, m, d, 0, 0, 0, 0, c.loc)
	if !c.days[midnight.Weekday()] || c.holidays[midnight.Format(time.DateOnly)] {
		return time.Time{}, time.Time{}, false
	}
	open = time.Date(y, m, d, c.start/60, c.start%60, 0, 0, c.loc)
	close = time.Date(y, m, d, c.end/60, c.end%60, 0, 0, c.loc)
	return open, close, true
}

// Add returns the moment d of business time after t. Outside business
// hours the clock stands still: a lead assigned on Friday evening with a
// 2-hour SLA is due at 11:00 on Monday.
func (c *Clock) Add(t time.Time, d time.Duration) time.Time {
	cur := t.In(c.loc)
	for {
		y, m, dd := cur.Date()
		next := time.Date(y, m, dd+1, 0, 0, 0, 0, c.loc)
		open, close, ok := c.window(y, m, dd)
		if !ok || !cur.Before(close) {
			cur = next
			continue
		}
		if cur.Before(open) {
			cur = open
		}
		if left := close.Sub(cur); d <= left {
			return cur.Add(d).In(t.Location())
		} else {
			d -= left
		}
		cur = next
	}
}

// Between is the business time from a to b (0 when b is not after a).
func (c *Clock) Between(a, b time.Time) time.Duration {
	if !b.After(a) {
		return 0
	}
	var total time.Duration
	cur, end := a.In(c.loc), b.In(c.loc)
	for cur.Before(end) {
		y, m, dd := cur.Date()
		next := time.Date(y, m, dd+1, 0, 0, 0, 0, c.loc)
		if open, close, ok := c.window(y, m, dd); ok {
			from, to := maxTime(cur, open), minTime(end, close)
			if to.After(from) {
				total += to.Sub(from)
			}
		}
		cur = next
	}
	return total
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
