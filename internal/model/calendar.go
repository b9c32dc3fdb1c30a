package model

import (
	"fmt"
	"strings"
	"time"
	_ "time/tzdata" // the team time zone must load on hosts without a zone database
)

// SettingTimeZone names the setting that holds the team's time zone: days,
// weeks, months and quarters of every report begin at its midnight.
const SettingTimeZone = "time_zone"

// DefaultTimeZone is the team time zone until an administrator sets one.
const DefaultTimeZone = "Asia/Shanghai"

// LoadTimeZone resolves an IANA time zone name, refusing "Local" (the
// server's zone, which differs between hosts) and names that do not exist.
func LoadTimeZone(name string) (*time.Location, error) {
	name = strings.TrimSpace(name)
	if name == "" || name == "Local" || len(name) > 64 {
		return nil, fmt.Errorf("%q is not a time zone: use an IANA name such as Asia/Shanghai or Europe/Berlin", name)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("unknown time zone %q: use an IANA name such as Asia/Shanghai or Europe/Berlin", name)
	}
	return loc, nil
}

// A day is a calendar date, held as midnight UTC of that date: the form
// DATE columns store and compare. LocalDay and Calendar.Start convert
// between instants and the team's days.

// Calendar is the team's calendar: which day an instant falls on and when
// a day begins, in the team's time zone.
type Calendar struct{ Loc *time.Location }

// DefaultCalendar is the calendar of DefaultTimeZone.
func DefaultCalendar() Calendar {
	loc, err := time.LoadLocation(DefaultTimeZone)
	if err != nil {
		panic("the embedded zone database lacks " + DefaultTimeZone)
	}
	return Calendar{Loc: loc}
}

func (c Calendar) loc() *time.Location {
	if c.Loc == nil {
		return time.UTC
	}
	return c.Loc
}

// Day is the team's calendar date of instant t.
func (c Calendar) Day(t time.Time) time.Time {
	t = t.In(c.loc())
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// Start is the instant the team's day begins (its local midnight; the
// first instant of the day where a transition skips midnight).
func (c Calendar) Start(day time.Time) time.Time {
	return time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, c.loc())
}

// EndOfDay is the last instant of the team's day: what a date-only time
// from a CRM ("closed on 2026-11-03") means, so that everything that
// happened that day counts before it.
func (c Calendar) EndOfDay(day time.Time) time.Time {
	return c.Start(day.AddDate(0, 0, 1)).Add(-time.Second)
}

// Period is a range of the team's days, both ends included; a zero end is
// open. It is what a page's from and to select.
type Period struct {
	From, To time.Time // calendar days (midnight UTC), inclusive
	Cal      Calendar
}

// Window is the period as instants: from the first day's local midnight
// to the midnight after the last day.
func (p Period) Window() Window {
	var w Window
	if !p.From.IsZero() {
		w.From = p.Cal.Start(p.From)
	}
	if !p.To.IsZero() {
		w.To = p.Cal.Start(p.To.AddDate(0, 0, 1))
	}
	return w
}

// Contains says whether a calendar day lies in the period.
func (p Period) Contains(day time.Time) bool {
	return (p.From.IsZero() || !day.Before(p.From)) && (p.To.IsZero() || !day.After(p.To))
}

// Days is the number of days in a closed period (0 when an end is open).
func (p Period) Days() int {
	if p.From.IsZero() || p.To.IsZero() {
		return 0
	}
	return int(p.To.Sub(p.From)/(24*time.Hour)) + 1
}

// MonthOf is the first day of the month of a calendar day.
func MonthOf(day time.Time) time.Time {
	return time.Date(day.Year(), day.Month(), 1, 0, 0, 0, 0, time.UTC)
}

// WeekOf is the Monday of the ISO week of a calendar day.
func WeekOf(day time.Time) time.Time {
	back := (int(day.Weekday()) + 6) % 7
	return day.AddDate(0, 0, -back)
}

// QuarterOf is the first day of the quarter of a calendar day.
func QuarterOf(day time.Time) time.Time {
	m := (day.Month()-1)/3*3 + 1
	return time.Date(day.Year(), m, 1, 0, 0, 0, 0, time.UTC)
}
