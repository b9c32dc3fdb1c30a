package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/revloop/revloop/internal/attribution"
	"github.com/revloop/revloop/internal/config"
	"github.com/revloop/revloop/internal/credits"
	"github.com/revloop/revloop/internal/store"
)

func runAttribute(ctx context.Context, c *cli, args []string) error {
	for _, a := range args {
		if a == "--" {
			break
		}
		if name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "="); strings.HasPrefix(a, "-") && name == "recompute" {
			return runAttributeRecompute(ctx, c, args)
		}
	}
	var paths, touches, journeys, modelName, format, sep, order, halfLife, lookback, bootstrap, samples, seed string
	fs := newFlags(c, "attribute",
		"attribute (--paths FILE | --touches FILE --journeys FILE) --model MODEL [--order K] [--half-life DAYS] [--lookback DAYS] [--bootstrap N --seed S] [--samples N --seed S] [--sep '>'] [--format json|csv]\n"+
			"       revloop attribute --recompute [--incremental] [--db DB]",
		"Credit conversions to channels under an attribution model, from path data (ChannelAttribution's layout:\n"+
			"path,total_conversions,total_conversion_value[,total_null]) or from touch-level data (touches: journey_id,time,channel;\n"+
			"journeys: journey_id,converted,value,lead_at,opportunity_at,converted_at). FILE - reads standard input.\n\n"+
			"Models: "+modelList()+".\nSee docs/attribution.md for their exact definitions.\n\n"+
			"With --recompute it recomputes the credits stored in the database instead (see revloop attribute --recompute -h).")
	b := config.NewBinder(fs, c.env)
	b.String(&paths, "paths", "REVLOOP_ATTRIBUTE_PATHS", "", "path data file (CSV, comma or semicolon delimited)")
	b.String(&touches, "touches", "REVLOOP_ATTRIBUTE_TOUCHES", "", "touches file: journey_id,time,channel")
	b.String(&journeys, "journeys", "REVLOOP_ATTRIBUTE_JOURNEYS", "", "journeys file: journey_id,converted,value,lead_at,opportunity_at,converted_at")
	b.String(&modelName, "model", "REVLOOP_ATTRIBUTE_MODEL", "", "attribution model (required)")
	b.String(&format, "format", "REVLOOP_ATTRIBUTE_FORMAT", "json", "output format: json or csv")
	b.String(&sep, "sep", "REVLOOP_ATTRIBUTE_SEP", ">", "separator of the channels in a path")
	b.String(&order, "order", "REVLOOP_ATTRIBUTE_ORDER", "", "markov: order of the chain, 1 to 4 (default 1)")
	b.String(&halfLife, "half-life", "REVLOOP_ATTRIBUTE_HALF_LIFE", "", "time-decay: half-life in days (default 7)")
	b.String(&lookback, "lookback", "REVLOOP_ATTRIBUTE_LOOKBACK", "", "touch data: days before the conversion (or last touch) that count; 0 counts all (default 365)")
	b.String(&bootstrap, "bootstrap", "REVLOOP_ATTRIBUTE_BOOTSTRAP", "", "markov, shapley, shapley-rate: resample journeys N times and report p5 and p95 of each credit")
	b.String(&samples, "samples", "REVLOOP_ATTRIBUTE_SAMPLES", "", "shapley-rate: estimate from N random channel orders instead of exactly (needed above 20 channels)")
	b.String(&seed, "seed", "REVLOOP_ATTRIBUTE_SEED", "", "seed of --bootstrap and --samples (default 1)")
	if err := parse(fs, b, args); err != nil {
		return err
	}

	// Check the whole command line before reading anything.
	if modelName == "" {
		return usageError{"--model is required (one of " + modelList() + ")"}
	}
	m, err := attribution.ParseModel(modelName)
	if err != nil {
		return usageError{err.Error()}
	}
	pathInput := paths != ""
	switch {
	case pathInput && (touches != "" || journeys != ""):
		return usageError{"give either --paths or --touches with --journeys, not both"}
	case !pathInput && (touches == "" || journeys == ""):
		return usageError{"give --paths FILE, or --touches FILE and --journeys FILE"}
	case touches == "-" && journeys == "-":
		return usageError{"only one of --touches and --journeys can read standard input"}
	}
	if format != "json" && format != "csv" {
		return usageError{fmt.Sprintf("--format %q: want json or csv", format)}
	}
	var o attribution.Options
	only := func(flag, value string, ok bool, why string) error {
		if value != "" && !ok {
			return usageError{fmt.Sprintf("%s applies to %s", flag, why)}
		}
		return nil
	}
	for _, e := range []error{
		only("--order", order, m == attribution.Markov, "markov only"),
		only("--half-life", halfLife, m == attribution.TimeDecay, "time-decay only"),
		only("--samples", samples, m == attribution.ShapleyRate, "shapley-rate only (shapley is exact for any number of channels)"),
		only("--bootstrap", bootstrap, m.DataDriven(), "the data-driven models only (markov, shapley, shapley-rate)"),
		only("--seed", seed, bootstrap != "" || samples != "", "--bootstrap and --samples only"),
		only("--lookback", lookback, !pathInput, "touch data only"),
	} {
		if e != nil {
			return e
		}
	}
	if pathInput && m.NeedsTimes() {
		return usageError{fmt.Sprintf("model %s needs touch times and milestones, which path data does not have; use --touches and --journeys", m)}
	}
	if order != "" {
		k, err := strconv.Atoi(order)
		if err != nil || k < 1 || k > attribution.MaxMarkovOrder {
			return usageError{fmt.Sprintf("--order %q: want 1 to %d", order, attribution.MaxMarkovOrder)}
		}
		o.Order = k
	}
	if halfLife != "" {
		d, err := days("--half-life", halfLife, false)
		if err != nil {
			return err
		}
		o.HalfLife = d
	}
	window := 365 * 24 * time.Hour
	if lookback != "" {
		if window, err = days("--lookback", lookback, true); err != nil {
			return err
		}
	}
	for _, f := range []struct {
		name, value string
		to          *int
	}{{"--bootstrap", bootstrap, &o.Bootstrap}, {"--samples", samples, &o.Samples}} {
		if f.value == "" {
			continue
		}
		n, err := strconv.Atoi(f.value)
		if err != nil || n < 1 || n > 1_000_000 {
			return usageError{fmt.Sprintf("%s %q: want a count from 1 to 1000000", f.name, f.value)}
		}
		*f.to = n
	}
	o.Seed = 1
	if seed != "" {
		s, err := strconv.ParseUint(seed, 10, 64)
		if err != nil {
			return usageError{fmt.Sprintf("--seed %q: want a non-negative integer", seed)}
		}
		o.Seed = s
	}

	// Read and check every input fully before printing anything.
	var js *attribution.Journeys
	if pathInput {
		in, done, err := c.open(paths)
		if err != nil {
			return err
		}
		js, err = attribution.ReadPaths(in, sep)
		done()
		if err != nil {
			return fmt.Errorf("%s: %w", displayName(paths), err)
		}
	} else {
		tin, tclose, err := c.open(touches)
		if err != nil {
			return err
		}
		defer tclose()
		jin, jclose, err := c.open(journeys)
		if err != nil {
			return err
		}
		defer jclose()
		var st attribution.TouchStats
		js, st, err = attribution.ReadTouches(tin, jin, window)
		var fe *attribution.FileError
		if errors.As(err, &fe) {
			name := touches
			if fe.File == "journeys" {
				name = journeys
			}
			return fmt.Errorf("%s: %w", displayName(name), fe.Err)
		}
		if err != nil {
			return err
		}
		if st.Unattributed > 0 {
			fmt.Fprintf(c.stderr, "revloop attribute: %d converting journeys have no touches in their window and are left out\n", st.Unattributed)
		}
	}
	if js.Len() == 0 {
		return fmt.Errorf("no journeys with touches to attribute")
	}
	r, err := attribution.Attribute(js, m, o)
	if err != nil {
		return err
	}
	if format == "csv" {
		return writeCreditsCSV(c.stdout, r)
	}
	enc := json.NewEncoder(c.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

func modelList() string {
	names := make([]string, len(attribution.Models))
	for i, m := range attribution.Models {
		names[i] = string(m)
	}
	return strings.Join(names, ", ")
}

// days parses a number of days into a duration.
func days(flag, s string, zeroOK bool) (time.Duration, error) {
	x, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(x) || x < 0 || (x == 0 && !zeroOK) || x > 100*365 {
		want := "a positive number of days"
		if zeroOK {
			want = "a number of days, 0 or more"
		}
		return 0, usageError{fmt.Sprintf("%s %q: want %s", flag, s, want)}
	}
	return time.Duration(x * 24 * float64(time.Hour)), nil
}

func displayName(file string) string {
	if file == "-" {
		return "standard input"
	}
	return file
}

// open opens a file, or standard input for "-".
func (c *cli) open(name string) (io.Reader, func(), error) {
	if name == "-" {
		return c.stdin, func() {}, nil
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, nil, err
	}
	return f, func() { f.Close() }, nil
}

// writeCreditsCSV writes one row per channel, then a (total) row.
func writeCreditsCSV(w io.Writer, r *attribution.Result) error {
	removal, boot := false, false
	for _, ch := range r.Channels {
		removal = removal || ch.RemovalEffect != nil
		boot = boot || ch.P5 != nil
	}
	cw := csv.NewWriter(w)
	head := []string{"model", "channel", "conversions", "value"}
	if removal {
		head = append(head, "removal_effect")
	}
	if boot {
		head = append(head, "p5", "p95")
	}
	cw.Write(head)
	num := func(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }
	for _, ch := range r.Channels {
		rec := []string{string(r.Model), ch.Channel, num(ch.Conversions), num(ch.Value)}
		if removal {
			rec = append(rec, num(*ch.RemovalEffect))
		}
		if boot {
			rec = append(rec, num(*ch.P5), num(*ch.P95))
		}
		cw.Write(rec)
	}
	total := []string{string(r.Model), "(total)", num(r.TotalConversions), num(r.TotalValue)}
	for len(total) < len(head) {
		total = append(total, "")
	}
	cw.Write(total)
	cw.Flush()
	return cw.Error()
}

// runAttributeRecompute recomputes the stored attribution credits of a
// database: all of them, or with --incremental only what changed since the
// last run.
func runAttributeRecompute(ctx context.Context, c *cli, args []string) error {
	var recompute, incremental bool
	return storeCommand{name: "attribute --recompute", usage: "attribute --recompute [--incremental] [--db DB]",
		summary: "Recompute the attribution credits stored per conversion and touch for every model, as a running server\n" +
			"does once a day (fully) and after new events and every five minutes (incrementally).",
		flags: func(fs *flag.FlagSet) {
			fs.BoolVar(&recompute, "recompute", false, "recompute the stored credits (required)")
			fs.BoolVar(&incremental, "incremental", false, "recompute only conversions that are new or changed or got new touches")
		},
		check: func() error {
			if !recompute {
				return usageError{"--recompute is required"}
			}
			return nil
		},
		run: func(s *store.Store) error {
			mode := credits.Full
			if incremental {
				mode = credits.Incremental
			}
			st, err := credits.Recompute(ctx, s, mode, time.Now())
			if err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "%s recompute: %d conversions, %d credit rows written, %d conversions dropped in %.2f s\n",
				st.Mode, st.Conversions, st.Credits, st.Deleted, st.Took.Seconds())
			for _, n := range st.Notes {
				fmt.Fprintln(c.stdout, "note:", n)
			}
			return nil
		}}.exec(ctx, c, args)
}
