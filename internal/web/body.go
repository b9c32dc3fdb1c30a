package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// maxBody bounds every JSON request body of the API (rule sets are the
// largest: a few kilobytes in practice).
const maxBody = 1 << 20

// readBody reads a request body of at most maxBody bytes. On failure it
// answers (413 when too large, 400 when unreadable) and returns false;
// what names the body in the message ("rule set", "body").
func readBody(w http.ResponseWriter, r *http.Request, what string) ([]byte, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeJSONError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("%s larger than %d bytes", what, maxBody))
			return nil, false
		}
		writeJSONError(w, http.StatusBadRequest, "cannot read the request body")
		return nil, false
	}
	return body, true
}

// parseObject decodes exactly one JSON value from body into v, refusing
// unknown keys, with an error that says what was wrong in plain words.
func parseObject(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		switch {
		case errors.Is(err, io.EOF):
			return errors.New("empty body")
		case errors.As(err, &te):
			return fmt.Errorf("field %s: want %s, got a JSON %s", te.Field, te.Type, te.Value)
		}
		return errors.New(strings.TrimPrefix(err.Error(), "json: "))
	}
	if dec.More() {
		return errors.New("found more after the first JSON value")
	}
	return nil
}

// decodeBody reads and strictly decodes a JSON object into v. On failure
// it answers 413 or 400 ("body must be a JSON object WANT: reason") and
// returns false.
func decodeBody(w http.ResponseWriter, r *http.Request, v any, want string) bool {
	body, ok := readBody(w, r, "body")
	if !ok {
		return false
	}
	if err := parseObject(body, v); err != nil {
		writeJSONError(w, http.StatusBadRequest, "body must be a JSON object "+want+": "+err.Error())
		return false
	}
	return true
}
