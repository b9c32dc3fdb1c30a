package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/store"
)

type attributeOutput struct {
	Model            string  `json:"model"`
	TotalConversions float64 `json:"total_conversions"`
	TotalValue       float64 `json:"total_value"`
	Channels         []struct {
		Channel       string   `json:"channel"`
		Conversions   float64  `json:"conversions"`
		Value         float64  `json:"value"`
		RemovalEffect *float64 `json:"removal_effect"`
		P5            *float64 `json:"p5"`
		P95           *float64 `json:"p95"`
	} `json:"channels"`
}

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func decodeAttribution(t *testing.T, r result) attributeOutput {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("code %d, stderr %q", r.code, r.stderr)
	}
	var out attributeOutput
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, r.stdout)
	}
	return out
}

func approx(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

const pathsCSV = "path;total_conversions;total_conversion_value;total_null\n" +
	"\"Search > Email\";1;30;0\n" +
	"Search;0;;1\n" +
	" Email ; 1 ; 60,5 ; 0\n"

func TestAttributePaths(t *testing.T) {
	dir := writeFiles(t, map[string]string{"p.csv": pathsCSV})
	out := decodeAttribution(t, revloop(t, "", nil, "attribute", "--paths", filepath.Join(dir, "p.csv"), "--model", "markov"))
	if out.Model != "markov" || out.TotalConversions != 2 || out.TotalValue != 90.5 || len(out.Channels) != 2 {
		t.Fatalf("%+v", out)
	}
	// Order 1 by hand: P = 2/3, without Search 1/3, without Email 0.
	email, search := out.Channels[0], out.Channels[1]
	if email.Channel != "Email" || !approx(email.Conversions, 4./3) || !approx(*email.RemovalEffect, 1) ||
		search.Channel != "Search" || !approx(search.Conversions, 2./3) || !approx(*search.RemovalEffect, .5) || !approx(search.Value, 90.5/3) {
		t.Errorf("markov: %+v", out.Channels)
	}
	// Standard input, a custom separator, CSV output.
	r := revloop(t, "path,total_conversions,total_conversion_value\nA|B|C,2,100\nC,1,10\n", nil,
		"attribute", "--paths", "-", "--sep", "|", "--model", "position", "--format", "csv")
	if r.code != 0 {
		t.Fatalf("csv: %+v", r)
	}
	recs, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{{"model", "channel", "conversions", "value"}, {"position", "C", "1.8", "50"}, {"position", "A", "0.8", "40"},
		{"position", "B", "0.4", "20"}, {"position", "(total)", "3", "110"}}
	if len(recs) != len(want) {
		t.Fatalf("csv rows %v", recs)
	}
	for i := range want {
		if strings.Join(recs[i], ",") != strings.Join(want[i], ",") {
			t.Errorf("csv row %d: %v, want %v", i, recs[i], want[i])
		}
	}
	// A bootstrap adds p5 and p95 and is the same for the same seed.
	args := []string{"attribute", "--paths", filepath.Join(dir, "p.csv"), "--model", "shapley-rate", "--bootstrap", "30", "--seed", "4"}
	a, b := revloop(t, "", nil, args...), revloop(t, "", nil, args...)
	if a.stdout != b.stdout || !strings.Contains(a.stdout, `"p95"`) {
		t.Errorf("bootstrap not repeatable or missing:\n%s\n%s", a.stdout, b.stdout)
	}
}

func TestAttributeTouches(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"t.csv": "journey_id,time,channel\n" +
			"j1,2026-01-01T00:00:00Z,Search\n" +
			"j1,2026-01-03T00:00:00Z,Email\n" +
			"j1,2026-01-02T00:00:00Z,Webinar\n" +
			"j1,2026-02-01T00:00:00Z,Direct\n" + // after the conversion
			"j2,2025-01-01T00:00:00Z,Search\n" + // outside a 30-day lookback
			"j2,2026-01-10T00:00:00+08:00,Email\n" +
			"j3,2026-01-05T00:00:00Z,Social\n",
		"j.csv": "journey_id,converted,value,lead_at,opportunity_at,converted_at\n" +
			"j1,true,1000,2026-01-02T12:00:00Z,2026-01-03T00:00:00Z,2026-01-04T00:00:00Z\n" +
			"j2,1,500,,,\n" +
			"j3,false,,,,\n",
	})
	tf, jf := filepath.Join(dir, "t.csv"), filepath.Join(dir, "j.csv")
	// w-shaped on j1: Search (FT) .3, Webinar (LC) .3, Email (OC, CW) .3 and
	// the .1 of no other touches split over the three; j2 only Email.
	out := decodeAttribution(t, revloop(t, "", nil, "attribute", "--touches", tf, "--journeys", jf, "--model", "w-shaped", "--lookback", "30"))
	got := map[string][2]float64{}
	for _, c := range out.Channels {
		got[c.Channel] = [2]float64{c.Conversions, c.Value}
	}
	if !approx(got["Search"][0], 1./3) || !approx(got["Webinar"][0], 1./3) || !approx(got["Email"][0], 1+1./3) ||
		!approx(got["Email"][1], 500+1000./3) || got["Direct"] != [2]float64{} || out.TotalConversions != 2 || out.TotalValue != 1500 {
		t.Errorf("w-shaped: %+v", got)
	}
	// first: without a lookback limit j2's Search counts.
	out = decodeAttribution(t, revloop(t, "", nil, "attribute", "--touches", tf, "--journeys", jf, "--model", "first", "--lookback", "0"))
	if out.Channels[0].Channel != "Search" || out.Channels[0].Conversions != 2 {
		t.Errorf("first without lookback: %+v", out.Channels)
	}
	// time-decay with a one-day half-life on j1: Search@1, Webinar@2, Email@3.
	out = decodeAttribution(t, revloop(t, "", nil, "attribute", "--touches", tf, "--journeys", jf, "--model", "time-decay", "--half-life", "1"))
	for _, c := range out.Channels {
		want := map[string]float64{"Email": 1 + 4./7, "Webinar": 2. / 7, "Search": 1. / 7}[c.Channel]
		if !approx(c.Conversions, want) {
			t.Errorf("time-decay %s: %v, want %v", c.Channel, c.Conversions, want)
		}
	}
	// Touches from standard input.
	body, _ := os.ReadFile(tf)
	out = decodeAttribution(t, revloop(t, string(body), nil, "attribute", "--touches", "-", "--journeys", jf, "--model", "markov", "--order", "2"))
	if out.TotalConversions != 2 {
		t.Errorf("markov from stdin: %+v", out)
	}
}

func TestAttributeBadInput(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"p.csv":           pathsCSV,
		"nohead.csv":      "route,conversions\nA,1\n",
		"badnum.csv":      "path,total_conversions,total_conversion_value\nA>B,1,5\nB,-2,0\n",
		"emptych.csv":     "path,total_conversions\nA>B,1\nA> >B,1\n",
		"fields.csv":      "path,total_conversions\nA,1\nB,1,7\n",
		"quote.csv":       "path,total_conversions\nA,1\n\"B,1\n",
		"empty.csv":       "",
		"t.csv":           "journey_id,time,channel\nj1,2026-01-01T00:00:00Z,A\nj9,2026-01-01T00:00:00Z,A\n",
		"tbadtime.csv":    "journey_id,time,channel\nj1,yesterday,A\n",
		"j.csv":           "journey_id,converted,value\nj1,true,5\n",
		"jdup.csv":        "journey_id,converted\nj1,true\nj1,false\n",
		"jbadconv.csv":    "journey_id,converted\nj1,maybe\n",
		"jbadtime.csv":    "journey_id,converted,converted_at\nj1,true,2026-13-01\n",
		"wide.csv":        "path,total_conversions,total_null\n" + wideRows(),
		"valuenoconv.csv": "path,total_conversions,total_conversion_value\nA,0,10\n",
	})
	p := func(name string) string { return filepath.Join(dir, name) }
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"attribute", "--paths", p("p.csv")}, 2, "--model is required"},
		{[]string{"attribute", "--paths", p("p.csv"), "--model", "fancy"}, 2, `unknown model "fancy"`},
		{[]string{"attribute", "--model", "first"}, 2, "give --paths FILE, or --touches FILE and --journeys FILE"},
		{[]string{"attribute", "--paths", p("p.csv"), "--touches", p("t.csv"), "--model", "first"}, 2, "not both"},
		{[]string{"attribute", "--touches", p("t.csv"), "--model", "first"}, 2, "--journeys"},
		{[]string{"attribute", "--touches", "-", "--journeys", "-", "--model", "first"}, 2, "standard input"},
		{[]string{"attribute", "--paths", p("p.csv"), "--model", "first", "--format", "xml"}, 2, `--format "xml"`},
		{[]string{"attribute", "--paths", p("p.csv"), "--model", "first", "--order", "2"}, 2, "--order applies to markov only"},
		{[]string{"attribute", "--paths", p("p.csv"), "--model", "markov", "--order", "5"}, 2, `--order "5": want 1 to 4`},
		{[]string{"attribute", "--paths", p("p.csv"), "--model", "linear", "--bootstrap", "10"}, 2, "--bootstrap applies"},
		{[]string{"attribute", "--paths", p("p.csv"), "--model", "markov", "--bootstrap", "0"}, 2, "--bootstrap \"0\""},
		{[]string{"attribute", "--paths", p("p.csv"), "--model", "markov", "--seed", "3"}, 2, "--seed applies"},
		{[]string{"attribute", "--paths", p("p.csv"), "--model", "markov", "--lookback", "3"}, 2, "--lookback applies to touch data only"},
		{[]string{"attribute", "--paths", p("p.csv"), "--model", "time-decay"}, 2, "needs touch times"},
		{[]string{"attribute", "--paths", p("p.csv"), "--model", "w-shaped"}, 2, "needs touch times"},
		{[]string{"attribute", "--touches", p("t.csv"), "--journeys", p("j.csv"), "--model", "time-decay", "--half-life", "-1"}, 2, "--half-life"},
		{[]string{"attribute", "--paths", p("p.csv"), "--model", "shapley", "--samples", "10"}, 2, "exact for any number"},
		{[]string{"attribute", "--paths", p("nope.csv"), "--model", "first"}, 1, "no such file"},
		{[]string{"attribute", "--paths", p("nohead.csv"), "--model", "first"}, 1, `nohead.csv: line 1: the header has no "path" column`},
		{[]string{"attribute", "--paths", p("badnum.csv"), "--model", "first"}, 1, "badnum.csv: line 3: total_conversions -2 is negative"},
		{[]string{"attribute", "--paths", p("emptych.csv"), "--model", "first"}, 1, `emptych.csv: line 3: the path "A> >B" has an empty channel name`},
		{[]string{"attribute", "--paths", p("fields.csv"), "--model", "first"}, 1, "fields.csv: line 3: wrong number of fields"},
		{[]string{"attribute", "--paths", p("quote.csv"), "--model", "first"}, 1, "quote.csv: line 3"},
		{[]string{"attribute", "--paths", p("empty.csv"), "--model", "first"}, 1, "the file is empty"},
		{[]string{"attribute", "--paths", p("valuenoconv.csv"), "--model", "first"}, 1, "line 2: total_conversion_value is 10 but total_conversions is 0"},
		{[]string{"attribute", "--touches", p("t.csv"), "--journeys", p("j.csv"), "--model", "first"}, 1, `t.csv: line 3: journey "j9" is not in the journeys file`},
		{[]string{"attribute", "--touches", p("tbadtime.csv"), "--journeys", p("j.csv"), "--model", "first"}, 1, `tbadtime.csv: line 2: time: "yesterday" is not an RFC 3339 time`},
		{[]string{"attribute", "--touches", p("t.csv"), "--journeys", p("jdup.csv"), "--model", "first"}, 1, `jdup.csv: line 3: journey "j1" is already on line 2`},
		{[]string{"attribute", "--touches", p("t.csv"), "--journeys", p("jbadconv.csv"), "--model", "first"}, 1, `jbadconv.csv: line 2: converted "maybe"`},
		{[]string{"attribute", "--touches", p("t.csv"), "--journeys", p("jbadtime.csv"), "--model", "first"}, 1, `jbadtime.csv: line 2: converted_at`},
		{[]string{"attribute", "--paths", p("wide.csv"), "--model", "shapley-rate"}, 1, "exact up to 20 channels and the data has 22"},
	}
	for _, c := range cases {
		r := revloop(t, "", nil, c.args...)
		if r.code != c.code || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%v: code %d, stderr %q; want code %d and %q", c.args[1:], r.code, r.stderr, c.code, c.want)
		}
		if r.stdout != "" {
			t.Errorf("%v: printed %q before failing", c.args[1:], r.stdout)
		}
		if strings.Count(strings.TrimSpace(r.stderr), "\n") > 0 {
			t.Errorf("%v: error is not one line: %q", c.args[1:], r.stderr)
		}
	}
	// With --samples the wide file works.
	out := decodeAttribution(t, revloop(t, "", nil, "attribute", "--paths", p("wide.csv"), "--model", "shapley-rate", "--samples", "100", "--seed", "2"))
	sum := 0.0
	for _, c := range out.Channels {
		sum += c.Conversions
	}
	if len(out.Channels) != 22 || !approx(sum, out.TotalConversions) {
		t.Errorf("sampled: %d channels, sum %v of %v", len(out.Channels), sum, out.TotalConversions)
	}
	if r := revloop(t, "", nil, "attribute", "-h"); r.code != 0 || !strings.Contains(r.stdout, "Usage: revloop attribute") || !strings.Contains(r.stdout, "shapley-rate") {
		t.Errorf("help: %+v", r)
	}
}

func wideRows() string {
	var b strings.Builder
	for i := range 21 {
		b.WriteString("C" + string(rune('a'+i)) + " > D,1,2\n")
	}
	return b.String()
}

func TestAttributeRecompute(t *testing.T) {
	onBothEngines(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s, err := store.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		// One person with two touches and an opportunity.
		day := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		err = s.Load(ctx, func(l store.Loader) error {
			for _, e := range []error{
				l.Insert("accounts", []string{"id", "name", "created_at"}, [][]any{{int64(1), "甲公司", day}}),
				l.Insert("persons", []string{"id", "account_id", "stage", "first_seen_at", "created_at"}, [][]any{{int64(1), int64(1), "opportunity", day, day}}),
				l.Insert("touchpoints", []string{"id", "person_id", "occurred_at", "type", "channel"},
					[][]any{{int64(1), int64(1), day, "ad_click", "paid_search"}, {int64(2), int64(1), day.Add(time.Hour), "page_view", "direct"}}),
				l.Insert("opportunities", []string{"id", "account_id", "name", "stage", "amount_fen", "created_at"},
					[][]any{{int64(1), int64(1), "CDP", "proposal", int64(100000), day.Add(24 * time.Hour)}}),
				l.Insert("opportunity_contacts", []string{"opportunity_id", "person_id", "is_primary"}, [][]any{{int64(1), int64(1), true}}),
			} {
				if e != nil {
					return e
				}
			}
			return nil
		})
		s.Close()
		if err != nil {
			t.Fatal(err)
		}
		r := revloop(t, "", nil, "attribute", "--recompute", "--db", dsn)
		if r.code != 0 || !strings.HasPrefix(r.stdout, "full recompute: 1 conversions, 2 credit rows written, 0 conversions dropped in ") {
			t.Errorf("full: %+v", r)
		}
		r = revloop(t, "", map[string]string{"REVLOOP_DB": dsn}, "attribute", "--recompute", "--incremental")
		if r.code != 0 || !strings.HasPrefix(r.stdout, "incremental recompute: 0 conversions, 0 credit rows written, 0 conversions dropped") {
			t.Errorf("incremental: %+v", r)
		}
	})
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"attribute", "--recompute", "--model", "linear"}, "flag provided but not defined: -model"},
		{[]string{"attribute", "--recompute=false"}, "--recompute is required"},
	} {
		if r := revloop(t, "", nil, c.args...); r.code != 2 || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%v: %+v", c.args, r)
		}
	}
}
