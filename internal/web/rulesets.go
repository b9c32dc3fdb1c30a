package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// What the rule-set APIs (channels, scoring, routing, lifecycle) share:
// a PUT takes back what the GET answered, read-only fields and all; an
// identical PUT stores no new version; ?dry_run=true says what a PUT would
// change without saving anything.

// dryRunSample bounds the persons or touchpoints a dry run lists; all of
// them are counted.
const dryRunSample = 50

// ruleSetBody returns a PUT body ready for the owning package's strict
// parser: the read-only keys a GET adds (version, updated_at, ...) are
// dropped, and when nested is not "" and the body has that key (the GET
// wraps the rules in an envelope), the rules under it. A body that is not
// a JSON object is returned as it is, for the parser to explain.
func ruleSetBody(body []byte, readOnly []string, nested string) ([]byte, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return body, nil
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(trimmed, &top); err != nil {
		return body, nil
	}
	dropped := false
	for _, k := range readOnly {
		if _, ok := top[k]; ok {
			delete(top, k)
			dropped = true
		}
	}
	if nested != "" {
		if inner, ok := top[nested]; ok {
			delete(top, nested)
			if len(top) > 0 {
				var extra []string
				for k := range top {
					extra = append(extra, k)
				}
				slices.Sort(extra)
				return nil, fmt.Errorf("unknown key %q beside %q (an envelope as GET answers it has only %s and %q)",
					extra[0], nested, strings.Join(quoted(readOnly), ", "), nested)
			}
			return inner, nil
		}
	}
	if !dropped {
		return body, nil
	}
	return json.Marshal(top)
}

func quoted(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = strconv.Quote(s)
	}
	return out
}

// dryRun reads ?dry_run: true (also 1) previews a PUT, false or absent
// saves it.
func dryRun(r *http.Request) (bool, error) {
	v := r.URL.Query().Get("dry_run")
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("dry_run: want true or false, not %q", clipParam(v))
	}
	return b, nil
}

// readRuleSet reads a rule-set PUT: the dry_run flag and the body without
// GET's read-only keys. On failure it has answered and returns false.
func readRuleSet(w http.ResponseWriter, r *http.Request, kind string, readOnly []string, nested string) ([]byte, bool, bool) {
	dry, err := dryRun(r)
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, err.Error())
		return nil, false, false
	}
	body, ok := readBody(w, r, "rule set")
	if !ok {
		return nil, false, false
	}
	body, err = ruleSetBody(body, readOnly, nested)
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, "invalid "+kind+" rules: "+err.Error())
		return nil, false, false
	}
	return body, dry, true
}

// plural is "1 person" or "3 persons".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}
