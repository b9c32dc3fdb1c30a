package importer

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/revloop/revloop/internal/model"
)

// Offline event kinds and the track event each becomes.
var eventKinds = map[string]string{
	"registered": "Event Registered",
	"checked_in": "Event Checked In",
	"badge_scan": "Badge Scanned",
	"attended":   "Event Attended",
}

// kindAliases reads the event column, in English or Chinese.
var kindAliases = map[string]string{
	"registered": "registered", "register": "registered", "registration": "registered", "signup": "registered", "sign_up": "registered", "报名": "registered", "已报名": "registered", "注册": "registered",
	"checked_in": "checked_in", "check_in": "checked_in", "checkin": "checked_in", "check-in": "checked_in", "签到": "checked_in", "已签到": "checked_in",
	"badge_scan": "badge_scan", "badge": "badge_scan", "scan": "badge_scan", "badge scan": "badge_scan", "扫码": "badge_scan", "扫描": "badge_scan", "扫胸卡": "badge_scan", "展会扫码": "badge_scan",
	"attended": "attended", "attend": "attended", "attendee": "attended", "参会": "attended", "出席": "attended", "已参会": "attended",
}

var eventAliases = map[string][]string{
	"time":     {"time", "timestamp", "datetime", "date", "时间", "日期", "报名时间", "签到时间", "扫码时间"},
	"event":    {"event", "event_type", "type", "action", "事件", "类型", "事件类型", "状态"},
	"campaign": {"campaign", "campaign_code", "活动", "活动编号", "活动代码", "活动编码"},
	"email":    {"email", "e-mail", "mail", "邮箱", "电子邮件", "电子邮箱"},
	"phone":    {"phone", "mobile", "tel", "手机", "手机号", "手机号码", "电话"},
	"name":     {"name", "full_name", "姓名"},
	"company":  {"company", "company_name", "organisation", "organization", "公司", "公司名称", "单位"},
	"title":    {"title", "job_title", "position", "职位", "职务"},
	"unionid":  {"wechat_unionid", "unionid", "union_id", "微信unionid"},
	"user_id":  {"user_id", "userid", "crm_id"},
	// Live platforms (保利威, 微吼, 小鹅通, 腾讯会议) export a viewer's
	// watch time; a unit in brackets is ignored when headers are compared,
	// so 观看时长(分钟) is 观看时长.
	"watch": {"watch_minutes", "watch_time", "minutes_watched", "watched_minutes", "viewing_minutes", "viewing_time", "duration",
		"观看时长", "观看时长分钟", "观看分钟", "观看分钟数", "直播观看时长", "收看时长", "在线时长", "参会时长"},
}

// EventRow is one offline touch.
type EventRow struct {
	Line     int
	Time     time.Time
	Kind     string // registered, checked_in, badge_scan, attended
	Campaign string // campaign code
	Email    string
	Phone    string
	Name     string
	Company  string
	Title    string
	UnionID  string
	UserID   string
	// WatchSeconds is how long an attendee watched the live session (the
	// watch_minutes column); 0 when not given.
	WatchSeconds int64
}

// EventFile is a parsed offline events file.
type EventFile struct {
	Encoding string
	Rows     []EventRow
	Notes    []string
}

// ParseEvents reads registrations, check-ins and badge scans: one person
// and one event per row. Times without a zone are in loc. It returns
// *BadRowsError when any row is bad.
func ParseEvents(data []byte, loc *time.Location) (*EventFile, error) {
	_, enc, err := sniff(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	f := &EventFile{}
	var bad rowErrors
	f.Encoding, err = eachEventRow(bytes.NewReader(data), enc, loc, nil, func(row EventRow, rowErr error) error {
		if rowErr != nil {
			bad.addErr(row.Line, columns{}, rowErr)
			return nil
		}
		f.Rows = append(f.Rows, row)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := bad.err(); err != nil {
		return nil, err
	}
	if len(f.Rows) == 0 {
		return nil, errors.New("the file has a header but no data rows")
	}
	return f, nil
}

// eachEventRow reads an events file from its start: fn gets every row that
// is not blank, a bad one with its error (a CellError naming its column).
// It answers the file's encoding; hdr, when not nil, gets the header's
// columns before the first row.
func eachEventRow(r io.Reader, enc string, loc *time.Location, hdr *columns, fn func(row EventRow, rowErr error) error) (string, error) {
	if loc == nil {
		loc = time.UTC
	}
	in, err := newCSVStream(r, enc)
	if err != nil {
		return "", err
	}
	idx := newAliasIndex(eventAliases)
	var cols columns
	for i := 0; i <= maxPreamble && cols.idx == nil; i++ {
		rec, err := in.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return in.enc, err
		}
		if c, ok := matchHeader(rec.fields, idx, []string{"time", "event", "campaign"}); ok {
			cols = c
		}
	}
	if cols.idx == nil {
		return in.enc, errors.New("no header found: expected columns time, event, campaign and at least one of email, phone, wechat_unionid, user_id " +
			"(optional: name, company, title, watch_minutes)")
	}
	if !cols.has("email") && !cols.has("phone") && !cols.has("unionid") && !cols.has("user_id") {
		return in.enc, errors.New("the header has no person identifier: add an email, phone, wechat_unionid or user_id column")
	}
	if hdr != nil {
		*hdr = cols
	}
	rows := 0
	for {
		rec, err := in.next()
		if errors.Is(err, io.EOF) {
			return in.enc, nil
		}
		if err != nil {
			return in.enc, err
		}
		if blank(rec.fields) {
			continue
		}
		if rows++; rows > MaxRows {
			return in.enc, fmt.Errorf("line %d: the file has more than %d rows: split it", rec.line, MaxRows)
		}
		row, rerr := eventRow(cols, rec, loc)
		if err := fn(row, cols.locate(rerr)); err != nil {
			return in.enc, err
		}
	}
}

func eventRow(cols columns, rec record, loc *time.Location) (EventRow, error) {
	get := func(f string) string { return cols.get(rec.fields, f) }
	row := EventRow{Line: rec.line, Campaign: get("campaign"), Name: get("name"), Company: get("company"), Title: get("title"),
		UnionID: get("unionid"), UserID: get("user_id")}
	for _, c := range []struct{ field, v, what string }{{"campaign", row.Campaign, "campaign"}, {"name", row.Name, "name"}, {"company", row.Company, "company"},
		{"title", row.Title, "title"}, {"unionid", row.UnionID, "WeChat UnionID"}, {"user_id", row.UserID, "user id"}, {"email", get("email"), "email"},
		{"phone", get("phone"), "phone"}} {
		if err := checkCell(c.field, c.v, c.what); err != nil {
			return row, err
		}
	}
	t, err := parseEventTime(get("time"), loc)
	if err != nil {
		return row, err
	}
	row.Time = t
	kind, ok := kindAliases[strings.ToLower(strings.TrimSpace(get("event")))]
	if !ok {
		return row, badCell("event", "bad_event", get("event"), "event %q is not one of registered, checked_in, badge_scan, attended", get("event"))
	}
	row.Kind = kind
	if row.Campaign == "" {
		return row, badCell("campaign", "empty", "", "campaign code is empty")
	}
	if e := strings.ToLower(strings.TrimSpace(get("email"))); e != "" {
		at := strings.LastIndexByte(e, '@')
		if at < 1 || at == len(e)-1 || strings.ContainsAny(e, " ,;<>") {
			return row, badCell("email", "bad_email", get("email"), "email %q is not an email address", get("email"))
		}
		row.Email = e
	}
	if p := strings.TrimSpace(get("phone")); p != "" {
		digits := 0
		for _, c := range p {
			switch {
			case c >= '0' && c <= '9':
				digits++
			case strings.ContainsRune("+-() .", c):
			default:
				return row, badCell("phone", "bad_phone", p, "phone %q holds characters a phone number does not", p)
			}
		}
		if digits < 5 || digits > 20 {
			return row, badCell("phone", "bad_phone", p, "phone %q is not a phone number", p)
		}
		row.Phone = p
	}
	if row.Email == "" && row.Phone == "" && row.UnionID == "" && row.UserID == "" {
		return row, badCell("", "no_identifier", "", "no email, phone, WeChat UnionID or user id: the touch would belong to nobody")
	}
	if w := get("watch"); w != "" {
		secs, err := parseWatchTime(w)
		if err != nil {
			return row, err
		}
		if secs > 0 && row.Kind != "attended" {
			return row, fmt.Errorf("watch time %q on a %s row: only attended rows (参会) have a watch time; mark the row attended, or leave the cell empty or 0", w, row.Kind)
		}
		row.WatchSeconds = secs
	}
	return row, nil
}

// maxWatch bounds a watch time: a day. More is an export in seconds read
// as minutes, or a typing error.
const maxWatch = 24 * 3600

// parseWatchTime reads a watch time as live platforms export it: minutes
// ("45", "45.5", "45分钟", "45 min"), a clock ("0:45:30", "45:30", hours
// only when there are three parts), or Chinese units ("1小时5分", "45分30秒").
// Empty, "-" or "--" is no time.
func parseWatchTime(s string) (int64, error) {
	v := strings.ToLower(strings.TrimSpace(s))
	if emptyNumber(v) {
		return 0, nil
	}
	bad := func() (int64, error) {
		return 0, fmt.Errorf("watch time %q is not a time: write minutes (45 or 45.5), a clock (0:45:30) or 1小时5分", s)
	}
	var secs float64
	switch {
	case strings.Contains(v, ":"):
		parts := strings.Split(v, ":")
		if len(parts) > 3 {
			return bad()
		}
		for _, p := range parts {
			n, err := strconv.ParseUint(strings.TrimSpace(p), 10, 32)
			if err != nil {
				return bad()
			}
			secs = secs*60 + float64(n)
		}
	case strings.ContainsAny(v, "时分秒"):
		rest := v
		for _, u := range []struct {
			mark string
			secs float64
		}{{"小时", 3600}, {"时", 3600}, {"分钟", 60}, {"分", 60}, {"秒钟", 1}, {"秒", 1}} {
			num, after, ok := strings.Cut(rest, u.mark)
			if !ok {
				continue
			}
			n, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
			if err != nil || n < 0 {
				return bad()
			}
			secs += n * u.secs
			rest = after
		}
		if strings.TrimSpace(rest) != "" {
			return bad()
		}
	default:
		v = strings.TrimSpace(strings.TrimSuffix(strings.TrimSuffix(v, "minutes"), "min"))
		n, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsNaN(n) || math.IsInf(n, 0) {
			return bad()
		}
		if n < 0 {
			return 0, fmt.Errorf("watch time %q is negative", s)
		}
		secs = n * 60
	}
	if secs > maxWatch {
		return 0, fmt.Errorf("watch time %q is more than 24 hours: the column holds minutes (an export in seconds must be divided by 60)", s)
	}
	return int64(math.Round(secs)), nil
}

// parseEventTime reads a time ("2024-05-01 09:30", "2024/5/1 9:30:00",
// RFC 3339) or a bare day (taken as midnight); times without a zone are in loc.
func parseEventTime(s string, loc *time.Location) (time.Time, error) {
	v := strings.TrimSpace(s)
	inRange := func(t time.Time) (time.Time, error) {
		if t.Year() < 2000 || t.Year() > 2100 {
			return time.Time{}, badCell("time", "time_out_of_range", s, "time %q is out of range (years 2000 to 2100)", s)
		}
		return t.UTC(), nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return inRange(t)
	}
	for _, layout := range []string{"2006-1-2 15:04:05", "2006-1-2 15:04", "2006/1/2 15:04:05", "2006/1/2 15:04", "2006-1-2T15:04:05", "2006-1-2T15:04"} {
		if t, err := time.ParseInLocation(layout, v, loc); err == nil {
			return inRange(t)
		}
	}
	if strings.ContainsAny(v, ":") {
		return time.Time{}, badCell("time", "bad_time", s, "time %q is not a time (use YYYY-MM-DD HH:MM)", s)
	}
	d, err := parseDay(v)
	if err != nil {
		return time.Time{}, badCell("time", "bad_time", s, "time %q is not a time (use YYYY-MM-DD HH:MM)", s)
	}
	return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, loc).UTC(), nil
}

// identifier is the row's strongest person identifier, for its anonymous id.
func (r EventRow) identifier() string {
	switch {
	case r.UserID != "":
		return "user_id:" + r.UserID
	case r.Email != "":
		return "email:" + r.Email
	case r.UnionID != "":
		return "wechat_unionid:" + r.UnionID
	}
	return "phone:" + r.Phone
}

func hashHex(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Events turns a row into an identify (the person's traits) and a track
// (the touch). Their message ids are hashes of the row's content, not of
// the file, so importing the same rows again (in any file) adds nothing.
func (r EventRow) Events(writeKeyID int64, receivedAt time.Time) []model.Event {
	anon := "imp-" + hashHex(r.identifier())[:24]
	touchID := "imp-t-" + hashHex("touch", r.Kind, r.Time.UTC().Format(time.RFC3339Nano), r.Campaign, r.Email, r.Phone, r.UnionID, r.UserID)[:40]
	traitsID := "imp-i-" + hashHex("traits", r.Email, r.Phone, r.UnionID, r.UserID, r.Name, r.Company, r.Title)[:40]
	medium := "event"
	if r.Kind == "badge_scan" {
		medium = "exhibition"
	}
	traits := map[string]string{}
	for k, v := range map[string]string{"email": r.Email, "phone": r.Phone, "name": r.Name, "company": r.Company, "title": r.Title, "wechat_unionid": r.UnionID} {
		if v != "" {
			traits[k] = v
		}
	}
	campaign := map[string]string{"name": r.Campaign, "source": "offline", "medium": medium}
	library := map[string]string{"name": "revloop-import", "version": "1"}
	ts := r.Time.UTC()
	base := func(typ model.EventType, id, name string) model.Event {
		return model.Event{WriteKeyID: writeKeyID, MessageID: id, Type: typ, Name: name, UserID: r.UserID, AnonymousID: anon,
			Timestamp: ts, ReceivedAt: receivedAt, Source: "offline", Medium: medium, Campaign: r.Campaign}
	}
	identify := base(model.EventIdentify, traitsID, "")
	identify.Payload = mustJSON(map[string]any{"type": "identify", "messageId": traitsID, "anonymousId": anon, "userId": nilIfEmpty(r.UserID),
		"timestamp": ts, "traits": traits, "context": map[string]any{"library": library, "campaign": campaign}})
	name := eventKinds[r.Kind]
	track := base(model.EventTrack, touchID, name)
	track.Payload = mustJSON(map[string]any{"type": "track", "event": name, "messageId": touchID, "anonymousId": anon, "userId": nilIfEmpty(r.UserID),
		"timestamp": ts, "properties": r.properties(),
		"context": map[string]any{"library": library, "campaign": campaign, "traits": traits}})
	return []model.Event{identify, track}
}

// properties are the track event's: the campaign, the kind and, for an
// attendance with a watch time, watch_seconds (what processing stores on
// the touch and engagement rules with min_watch_minutes read).
func (r EventRow) properties() map[string]any {
	p := map[string]any{"campaign_code": r.Campaign, "event_type": r.Kind}
	if r.WatchSeconds > 0 {
		p["watch_seconds"] = r.WatchSeconds
	}
	return p
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only maps of strings and times: cannot fail
	}
	return b
}
