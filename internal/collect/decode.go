package collect

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tidwall/gjson"

	"github.com/revloop/revloop/internal/channel"
	"github.com/revloop/revloop/internal/model"
)

// Limits of the Segment HTTP API.
const (
	MaxEventBytes = 32 << 10  // one message, as sent and as stored (after merging the batch context)
	MaxBatchBytes = 500 << 10 // one batch request, after decompression
	// MaxDecodedBytes bounds the payloads one request stores in all, after
	// the batch-level context and integrations are merged into every
	// message: without it a large batch context over many tiny messages
	// multiplies a 500 KB request into hundreds of megabytes.
	MaxDecodedBytes = 4 << 20
)

// The window around the receive time a message's time may fall in; a time
// outside it (a clock set to 9999, a skew correction that lands in 1734) is
// clamped to the window's edge and flagged in context.revloop (see
// docs/collector.md). The past reaches far so that /v1/import can bring
// years of history.
const (
	MaxFutureSkew = 24 * time.Hour
	MaxPastAge    = 10 * 365 * 24 * time.Hour
)

// Kind is what an endpoint takes: one message type, or a batch.
type Kind string

// KindBatch is /v1/batch, /v1/import and /v1/b; the other kinds are the
// model's event types.
const KindBatch Kind = "batch"

// Reasons for rejecting input, the label of the rejection counter.
const (
	ReasonMalformed       = "malformed_json"
	ReasonEventTooLarge   = "event_too_large"
	ReasonBatchTooLarge   = "batch_too_large"
	ReasonEmptyBatch      = "empty_batch"
	ReasonUnknownType     = "unknown_type"
	ReasonMissingID       = "missing_user_or_anonymous_id"
	ReasonMissingEvent    = "track_without_event"
	ReasonMissingGroupID  = "group_without_group_id"
	ReasonMissingPrevious = "alias_without_previous_id"
	ReasonBadField        = "invalid_field"
	ReasonMediaType       = "unsupported_media_type"
	ReasonEncoding        = "unsupported_encoding"
	ReasonNoWriteKey      = "missing_write_key"
	ReasonUnknownWriteKey = "unknown_write_key"
	ReasonRevokedWriteKey = "revoked_write_key"
	ReasonRateLimited     = "rate_limited"
	ReasonBadCompression  = "malformed_gzip"
	ReasonUnreadableBody  = "unreadable_body"
	maxStoredFieldLength  = 2048 // name, ids, user agent, referrer: longer values are cut (the payload keeps all)
	maxStoredURLLength    = 8192
)

var reasons = []string{ReasonMalformed, ReasonEventTooLarge, ReasonBatchTooLarge, ReasonEmptyBatch, ReasonUnknownType,
	ReasonMissingID, ReasonMissingEvent, ReasonMissingGroupID, ReasonMissingPrevious, ReasonBadField, ReasonMediaType,
	ReasonEncoding, ReasonNoWriteKey, ReasonUnknownWriteKey, ReasonRevokedWriteKey, ReasonRateLimited,
	ReasonBadCompression, ReasonUnreadableBody}

// Rejection is input the collector refuses: the HTTP status to answer, the
// reason counted in the metrics, and a message that says what was wrong.
type Rejection struct {
	Status int
	Reason string
	Msg    string
}

func (r *Rejection) Error() string { return r.Msg }

func reject(status int, reason, format string, args ...any) *Rejection {
	return &Rejection{Status: status, Reason: reason, Msg: fmt.Sprintf(format, args...)}
}

// Input is one request body and what the collector knows about its sender.
type Input struct {
	Kind        Kind
	Body        []byte // decompressed
	ReceivedAt  time.Time
	RemoteIP    string // the client address, proxies already resolved
	UserAgent   string // the request's User-Agent header: stored when the message names none, never used to flag bots
	AnonymizeIP bool
	// IsBot tells bots by user agent; nil flags nothing.
	IsBot func(userAgent string) bool
}

// Decoded is an accepted request: its events (WriteKeyID not yet set) and
// the write key named in the body, if any.
type Decoded struct {
	WriteKey string
	Events   []model.Event
}

// Decode validates and translates a Segment-spec request body into events.
// Batch-level context and integrations are merged into every message (the
// message's own values win), timestamps are corrected for the sender's clock,
// and UTM parameters and click ids are read from context.campaign and the
// page URL. Any invalid message rejects the whole request, so that nothing
// is half accepted; the error is a *Rejection.
func Decode(in Input) (Decoded, error) {
	var out Decoded
	body := in.Body
	if !utf8.Valid(body) {
		body = bytes.ToValidUTF8(body, []byte("\uFFFD"))
	}
	if in.ReceivedAt.IsZero() {
		in.ReceivedAt = time.Now()
	}
	if depth := nestingDepth(body); depth > maxNesting {
		return out, reject(http.StatusBadRequest, ReasonMalformed, "malformed JSON: nested %d levels deep; at most %d are allowed", depth, maxNesting)
	}
	if in.Kind == KindBatch && len(body) > MaxBatchBytes {
		return out, reject(http.StatusRequestEntityTooLarge, ReasonBatchTooLarge, "batch is %d bytes, over the limit of %d bytes (500 KB): send fewer events per batch", len(body), MaxBatchBytes)
	}
	if in.Kind != KindBatch && len(body) > MaxEventBytes {
		return out, reject(http.StatusRequestEntityTooLarge, ReasonEventTooLarge, "event is %d bytes, over the limit of %d bytes (32 KB)", len(body), MaxEventBytes)
	}
	if !gjson.ValidBytes(body) {
		var v any
		return out, reject(http.StatusBadRequest, ReasonMalformed, "malformed JSON: %s", jsonErr(json.Unmarshal(body, &v)))
	}
	root := gjson.ParseBytes(body)
	var messages []gjson.Result
	var env gjson.Result // the batch envelope; none for a single message
	if in.Kind == KindBatch {
		batch := root.Get("batch")
		if !root.IsObject() || !batch.IsArray() {
			return out, reject(http.StatusBadRequest, ReasonMalformed, "malformed JSON: want {\"batch\": [...]}")
		}
		if messages = batch.Array(); len(messages) == 0 {
			return out, reject(http.StatusBadRequest, ReasonEmptyBatch, "batch has no events: send {\"batch\": [ {...}, ... ]}")
		}
		env = root
	} else {
		messages = []gjson.Result{root}
	}
	var err error
	if out.WriteKey, err = str(env.Get("writeKey")); err != nil {
		return out, reject(http.StatusBadRequest, ReasonBadField, "writeKey must be a string")
	}
	batchSentAt, _ := parseTime(env.Get("sentAt"))
	var batchContext, batchIntegrations map[string]json.RawMessage
	if c := env.Get("context"); c.Exists() && c.Type != gjson.Null {
		if batchContext = object(json.RawMessage(c.Raw)); batchContext == nil {
			return out, reject(http.StatusBadRequest, ReasonBadField, "batch context must be an object")
		}
	}
	if c := env.Get("integrations"); c.Exists() && c.Type != gjson.Null {
		if batchIntegrations = object(json.RawMessage(c.Raw)); batchIntegrations == nil {
			return out, reject(http.StatusBadRequest, ReasonBadField, "batch integrations must be an object")
		}
	}
	out.Events = make([]model.Event, 0, len(messages))
	total := 0
	for i, m := range messages {
		where := "event"
		if in.Kind == KindBatch {
			where = fmt.Sprintf("batch[%d]", i)
		}
		e, key, rej := decodeMessage(in, m, batchContext, batchIntegrations, batchSentAt)
		if rej != nil {
			rej.Msg = where + ": " + rej.Msg
			return Decoded{}, rej
		}
		if total += len(e.Payload); total > MaxDecodedBytes {
			return Decoded{}, reject(http.StatusRequestEntityTooLarge, ReasonBatchTooLarge,
				"%s: the batch's events come to over %d bytes (4 MB) once the batch context is merged into each: send a smaller batch context or fewer events per batch", where, MaxDecodedBytes)
		}
		if out.WriteKey == "" {
			out.WriteKey = key
		}
		out.Events = append(out.Events, e)
	}
	return out, nil
}

// maxNesting bounds how deep a document may nest: real messages stay
// within a handful of levels, and deep nesting costs stack in any parser.
const maxNesting = 64

// nestingDepth is the deepest nesting of objects and arrays in a document.
func nestingDepth(b []byte) int {
	depth, deepest := 0, 0
	inString, escaped := false, false
	for _, c := range b {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			if depth++; depth > deepest {
				deepest = depth
			}
		case c == '}' || c == ']':
			depth--
		}
	}
	return deepest
}

// message holds the fields of a message the collector reads, found in one
// pass over its keys.
type message struct {
	typ, messageID, userID, anonymousID, groupID, previousID, event, name, writeKey gjson.Result
	timestamp, originalTimestamp, sentAt, context, properties                       gjson.Result
}

func readMessage(m gjson.Result) message {
	var w message
	m.ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "type":
			w.typ = v
		case "messageId":
			w.messageID = v
		case "userId":
			w.userID = v
		case "anonymousId":
			w.anonymousID = v
		case "groupId":
			w.groupID = v
		case "previousId":
			w.previousID = v
		case "event":
			w.event = v
		case "name":
			w.name = v
		case "writeKey":
			w.writeKey = v
		case "timestamp":
			w.timestamp = v
		case "originalTimestamp":
			w.originalTimestamp = v
		case "sentAt":
			w.sentAt = v
		case "context":
			w.context = v
		case "properties":
			w.properties = v
		}
		return true
	})
	return w
}

func decodeMessage(in Input, msg gjson.Result, batchContext, batchIntegrations map[string]json.RawMessage, batchSentAt *time.Time) (model.Event, string, *Rejection) {
	var e model.Event
	raw := []byte(msg.Raw)
	if len(raw) > MaxEventBytes {
		return e, "", reject(http.StatusRequestEntityTooLarge, ReasonEventTooLarge, "event is %d bytes, over the limit of %d bytes (32 KB)", len(raw), MaxEventBytes)
	}
	if !msg.IsObject() {
		return e, "", reject(http.StatusBadRequest, ReasonMalformed, "not a JSON object")
	}
	w := readMessage(msg)
	// Changes to the stored payload, made on a map of the message only when
	// there are any.
	var changes map[string]json.RawMessage
	change := func(k string, v json.RawMessage) {
		if changes == nil {
			changes = map[string]json.RawMessage{}
		}
		changes[k] = v
	}
	typ, err := str(w.typ)
	if err != nil {
		return e, "", reject(http.StatusBadRequest, ReasonBadField, "type must be a string")
	}
	if in.Kind != KindBatch && typ != string(in.Kind) {
		typ = string(in.Kind)
		change("type", mustJSON(typ))
	}
	switch model.EventType(typ) {
	case model.EventTrack, model.EventIdentify, model.EventPage, model.EventScreen, model.EventGroup, model.EventAlias:
	case "":
		return e, "", reject(http.StatusBadRequest, ReasonUnknownType, "missing type (one of track, identify, page, screen, group, alias)")
	default:
		return e, "", reject(http.StatusBadRequest, ReasonUnknownType, "unknown type %q (want track, identify, page, screen, group, alias)", bound(typ, 40))
	}
	e.Type = model.EventType(typ)
	var strs [7]string
	for j, f := range []struct {
		name string
		raw  gjson.Result
	}{{"messageId", w.messageID}, {"userId", w.userID}, {"anonymousId", w.anonymousID}, {"groupId", w.groupID},
		{"previousId", w.previousID}, {"event", w.event}, {"name", w.name}} {
		v, err := str(f.raw)
		if err != nil {
			return e, "", reject(http.StatusBadRequest, ReasonBadField, "%s must be a string", f.name)
		}
		strs[j] = clean(v, maxStoredFieldLength)
	}
	e.MessageID, e.UserID, e.AnonymousID, e.GroupID, e.PreviousID = strs[0], strs[1], strs[2], strs[3], strs[4]
	if len(e.MessageID) > 200 {
		return e, "", reject(http.StatusBadRequest, ReasonBadField, "messageId is %d bytes; at most 200 are allowed", len(e.MessageID))
	}
	if e.UserID == "" && e.AnonymousID == "" {
		return e, "", reject(http.StatusBadRequest, ReasonMissingID, "no userId and no anonymousId: every message needs one of them")
	}
	switch e.Type {
	case model.EventTrack:
		if e.Name = strs[5]; e.Name == "" {
			return e, "", reject(http.StatusBadRequest, ReasonMissingEvent, "track without event: set \"event\" to the name of what happened")
		}
	case model.EventPage, model.EventScreen:
		e.Name = strs[6]
	case model.EventGroup:
		if e.GroupID == "" {
			return e, "", reject(http.StatusBadRequest, ReasonMissingGroupID, "group without groupId")
		}
	case model.EventAlias:
		if e.PreviousID == "" {
			return e, "", reject(http.StatusBadRequest, ReasonMissingPrevious, "alias without previousId")
		}
	}
	writeKey, err := str(w.writeKey)
	if err != nil {
		return e, "", reject(http.StatusBadRequest, ReasonBadField, "writeKey must be a string")
	}

	// Batch-level context and integrations, the message's own values winning.
	ctx := w.context
	if len(batchContext) > 0 {
		merged := merge(json.RawMessage(w.context.Raw), batchContext)
		change("context", merged)
		ctx = gjson.ParseBytes(merged)
	}
	if len(batchIntegrations) > 0 {
		change("integrations", merge(nil, batchIntegrations)) // replaced below by the merge with the message's own
	}
	if !ctx.IsObject() {
		ctx = gjson.Result{}
	}
	props := w.properties
	if !props.IsObject() {
		props = gjson.Result{}
	}
	page := ctx.Get("page")
	if !page.IsObject() {
		page = gjson.Result{}
	}
	camp := ctx.Get("campaign")
	if !camp.IsObject() {
		camp = gjson.Result{}
	}

	// Clock-skew correction: timestamp = receivedAt − (sentAt − originalTimestamp).
	e.ReceivedAt = in.ReceivedAt
	original, _ := parseTime(w.timestamp)
	if original == nil {
		original, _ = parseTime(w.originalTimestamp)
	}
	sentAt, _ := parseTime(w.sentAt)
	if sentAt == nil {
		sentAt = batchSentAt
	}
	e.SentAt = sentAt
	switch {
	case original != nil && sentAt != nil:
		e.Timestamp = in.ReceivedAt.Add(-sentAt.Sub(*original))
	case original != nil:
		e.Timestamp = *original
	default:
		e.Timestamp = in.ReceivedAt
	}
	var clampedFrom *time.Time
	if lo, hi := in.ReceivedAt.Add(-MaxPastAge), in.ReceivedAt.Add(MaxFutureSkew); e.Timestamp.Before(lo) || e.Timestamp.After(hi) {
		t := e.Timestamp
		clampedFrom = &t
		if e.Timestamp = lo; t.After(hi) {
			e.Timestamp = hi
		}
	}

	e.URL = firstString(maxStoredURLLength, page.Get("url"), props.Get("url"))
	e.Referrer = firstString(maxStoredURLLength, page.Get("referrer"), props.Get("referrer"))
	utm := channel.UTM{
		Source: firstString(512, camp.Get("source")), Medium: firstString(512, camp.Get("medium")),
		Campaign: firstString(512, camp.Get("name"), camp.Get("campaign")), Term: firstString(512, camp.Get("term")),
		Content: firstString(512, camp.Get("content")),
	}
	var click channel.ClickID
	for _, src := range []string{e.URL, firstString(maxStoredURLLength, page.Get("search"), props.Get("search"))} {
		if src == "" {
			continue
		}
		u, c := channel.ParseURL(src)
		fill(&utm.Source, u.Source)
		fill(&utm.Medium, u.Medium)
		fill(&utm.Campaign, u.Campaign)
		fill(&utm.Term, u.Term)
		fill(&utm.Content, u.Content)
		if click.Type == "" {
			click = c
		}
	}
	e.Source, e.Medium, e.Campaign, e.Term, e.Content = utm.Source, utm.Medium, utm.Campaign, utm.Term, utm.Content
	e.ClickIDType, e.ClickID = click.Type, click.Value

	// The person's address and browser: what the message says (a server-side
	// SDK reporting for a visitor), else the request's own.
	ip := in.RemoteIP
	ctxIP := ctx.Get("ip")
	if a, err := netip.ParseAddr(firstString(64, ctxIP)); err == nil {
		ip = a.String()
	}
	if in.AnonymizeIP {
		ip = AnonymizeIP(ip)
		if ctxIP.Exists() {
			m := object(json.RawMessage(ctx.Raw))
			m["ip"] = mustJSON(ip)
			change("context", mustJSON(m))
		}
	}
	e.IP = ip
	ctxUA := firstString(maxStoredFieldLength, ctx.Get("userAgent"))
	e.UserAgent = ctxUA
	if e.UserAgent == "" {
		e.UserAgent = clean(in.UserAgent, maxStoredFieldLength)
	}
	if in.IsBot != nil {
		// Only the person's own user agent can say they are a crawler. The
		// request's User-Agent names whatever HTTP client posted the message:
		// a backend calling the API directly (curl, python-requests, Java,
		// okhttp, no header at all) is a person's server, not a bot. Requests
		// a person's browser makes directly (link clicks, pixels) carry the
		// browser's user agent in context.userAgent (see hit.go).
		e.Bot = ctxUA != "" && in.IsBot(ctxUA)
	}

	if clampedFrom != nil {
		// The flag lives in the stored payload, beside whatever else the
		// context holds: context.revloop.timestamp_clamped is the time the
		// message claimed (after the clock-skew correction).
		m, ok := object(changes["context"]), changes["context"] != nil
		if !ok {
			m = object(json.RawMessage(ctx.Raw))
		}
		if m == nil {
			m = map[string]json.RawMessage{}
		}
		rv := object(m["revloop"])
		if rv == nil {
			rv = map[string]json.RawMessage{}
		}
		rv["timestamp_clamped"] = mustJSON(clampedFrom.UTC().Format(time.RFC3339Nano))
		m["revloop"] = mustJSON(rv)
		change("context", mustJSON(m))
	}
	if e.MessageID == "" {
		e.MessageID = newMessageID(raw, original != nil)
		change("messageId", mustJSON(e.MessageID))
	}
	e.Payload = raw
	if changes != nil {
		m := object(raw)
		if _, ok := changes["integrations"]; ok {
			changes["integrations"] = merge(m["integrations"], batchIntegrations)
		}
		for k, v := range changes {
			m[k] = v
		}
		if e.Payload, err = json.Marshal(m); err != nil {
			return e, "", reject(http.StatusBadRequest, ReasonMalformed, "malformed JSON: %v", err)
		}
	} else if bytes.IndexByte(raw, '\n') >= 0 || (len(raw) > 0 && (raw[0] == ' ' || raw[0] == '\t' || raw[0] == '\r')) {
		var buf bytes.Buffer
		if json.Compact(&buf, raw) == nil {
			e.Payload = buf.Bytes()
		}
	}
	if len(e.Payload) > MaxEventBytes {
		return e, "", reject(http.StatusRequestEntityTooLarge, ReasonEventTooLarge,
			"event is %d bytes once the batch context and integrations are merged into it, over the limit of %d bytes (32 KB): send a smaller batch context", len(e.Payload), MaxEventBytes)
	}
	return e, writeKey, nil
}

// newMessageID makes an id for a message that came without one. A message
// that carries its own timestamp gets an id derived from its content, so that
// a client retrying it is still stored once; one without gets a random id,
// since two identical messages sent at different times are two events.
func newMessageID(raw []byte, hasTimestamp bool) string {
	var b [16]byte
	if hasTimestamp {
		sum := sha256.Sum256(raw)
		copy(b[:], sum[:16])
		return "rl-" + hex.EncodeToString(b[:])
	}
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40 // UUID version 4
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// merge returns the message's object with the batch's keys it lacks; nested
// objects merge the same way.
func merge(own json.RawMessage, batch map[string]json.RawMessage) json.RawMessage {
	m := object(own)
	if m == nil {
		m = make(map[string]json.RawMessage, len(batch))
	}
	for k, bv := range batch {
		ov, ok := m[k]
		switch {
		case !ok || isNull(ov):
			m[k] = bv
		case isObject(ov) && isObject(bv):
			m[k] = merge(ov, object(bv))
		}
	}
	return mustJSON(m)
}

func object(raw json.RawMessage) map[string]json.RawMessage {
	if !isObject(raw) {
		return nil
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return nil
	}
	return m
}

func isObject(raw json.RawMessage) bool {
	raw = bytes.TrimLeft(raw, " \t\r\n")
	return len(raw) > 0 && raw[0] == '{'
}

func isNull(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }

// str reads a JSON string, or a number as its text (some clients send numeric
// user ids); absent or null is "".
func str(r gjson.Result) (string, error) {
	switch r.Type {
	case gjson.String:
		return r.Str, nil
	case gjson.Number:
		return r.Raw, nil
	case gjson.Null:
		return "", nil
	}
	return "", fmt.Errorf("not a string")
}

// firstString is the first of the values that is a non-empty string, cleaned
// and cut to max bytes.
func firstString(max int, rs ...gjson.Result) string {
	for _, r := range rs {
		if s, err := str(r); err == nil {
			if s = clean(s, max); s != "" {
				return s
			}
		}
	}
	return ""
}

func fill(dst *string, v string) {
	if *dst == "" {
		*dst = v
	}
}

// clean makes a decoded string safe for every engine's text columns: valid
// UTF-8 (guaranteed by the decoder), no NUL (PostgreSQL refuses it),
// trimmed, cut to max bytes on a character boundary.
func clean(s string, max int) string {
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", "")
	}
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	s = strings.TrimSpace(s)
	return bound(s, max)
}

func bound(s string, max int) string {
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("collect: marshal %T: %v", v, err)) // only maps of RawMessage and strings reach here
	}
	return b
}

// Timestamps as clients send them: ISO 8601 with or without fractional
// seconds and zone (no zone means UTC).
var timeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999Z0700"}

// parseTime reads a timestamp: an ISO 8601 string, or a number of
// milliseconds since the epoch. An absent or unreadable one is nil (the
// message is kept: its time becomes the time it was received).
func parseTime(r gjson.Result) (*time.Time, error) {
	switch r.Type {
	case gjson.Number:
		f := r.Num
		if f < 0 || f > 1e14 {
			return nil, fmt.Errorf("timestamp out of range")
		}
		t := time.UnixMilli(int64(f)).UTC()
		return &t, nil
	case gjson.String:
		s := strings.TrimSpace(r.Str)
		for _, l := range timeLayouts {
			if t, err := time.Parse(l, s); err == nil {
				if t.Year() < 1970 || t.Year() > 9999 {
					return nil, fmt.Errorf("timestamp out of range")
				}
				return &t, nil
			}
		}
		return nil, fmt.Errorf("bad timestamp %q", bound(s, 40))
	}
	return nil, nil
}

// jsonErr says where a JSON document broke, without echoing it.
func jsonErr(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case err == nil:
		return "invalid"
	case errors.As(err, &se):
		return fmt.Sprintf("%s at byte %d", se.Error(), se.Offset)
	case errors.As(err, &te):
		if te.Field != "" {
			return fmt.Sprintf("%s has the wrong type (got %s)", te.Field, te.Value)
		}
		return fmt.Sprintf("got %s", te.Value)
	}
	return err.Error()
}
