package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Email: the recipient of a message with what its templates may say, the
// suppressed addresses, the bounces, complaints and replies reported, and
// what became of each message sent (message_events). docs/email.md says
// how they are used.

// Message outcome kinds (message_events.kind).
const (
	MessageOpened       = "opened"
	MessageClicked      = "clicked"
	MessageReplied      = "replied"
	MessageBounced      = "bounced"
	MessageComplained   = "complained"
	MessageUnsubscribed = "unsubscribed"
)

// ValidMessageOutcome reports whether kind is one of the outcome kinds.
func ValidMessageOutcome(kind string) bool {
	switch kind {
	case MessageOpened, MessageClicked, MessageReplied, MessageBounced, MessageComplained, MessageUnsubscribed:
		return true
	}
	return false
}

// Email report types (what a bounce webhook or mailbox reports).
const (
	EmailHardBounce = "hard"
	EmailSoftBounce = "soft"
	EmailComplaint  = "complaint"
	EmailReply      = "reply"
)

// Suppression reasons.
const (
	SuppressHardBounce = "hard_bounce"
	SuppressComplaint  = "complaint"
	SuppressSoftBounce = "soft_bounce"
	SuppressManual     = "manual"
)

// Soft bounces suppress an address when SoftBounceLimit of them come
// within SoftBounceWindow.
const (
	SoftBounceLimit  = 3
	SoftBounceWindow = 7 * 24 * time.Hour
)

// NormalizeEmail is the form addresses are suppressed and compared in.
func NormalizeEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// EmailRecipient is a person as an email's templates see them: their
// address, name and traits, their account and their owner (the person's
// own, or else the account's). Merged is the survivor's id when the
// person was merged into another (the caller mails the survivor).
type EmailRecipient struct {
	PersonID   int64
	Merged     int64
	Email      string
	Name       string
	Title      string
	Phone      string
	Traits     map[string]any
	Account    string
	AccountEN  string
	Domain     string
	Industry   string
	OwnerName  string
	OwnerEmail string
	// Suppressed is the reason the address is suppressed ("" when not).
	Suppressed string
}

// EmailRecipient reads person id for an email in one query; an unknown
// person is ErrNotFound.
func (s *Store) EmailRecipient(ctx context.Context, id int64) (EmailRecipient, error) {
	var r EmailRecipient
	var merged sql.NullInt64
	var traits string
	err := s.r.QueryRowContext(ctx, s.q(`SELECT p.id, p.merged_into_id, p.email, p.name, p.title, p.phone, p.traits,
		COALESCE(a.name, ''), COALESCE(a.name_en, ''), COALESCE(a.domain, ''), COALESCE(a.industry, ''),
		COALESCE(u.name, au.name, ''), COALESCE(u.email, au.email, ''),
		COALESCE((SELECT reason FROM email_suppressions es WHERE es.email = LOWER(TRIM(p.email))), '')
		FROM persons p LEFT JOIN accounts a ON a.id = p.account_id
		LEFT JOIN users u ON u.id = p.owner_id LEFT JOIN users au ON au.id = a.owner_id
		WHERE p.id = ?`), id).Scan(&r.PersonID, &merged, &r.Email, &r.Name, &r.Title, &r.Phone, &traits,
		&r.Account, &r.AccountEN, &r.Domain, &r.Industry, &r.OwnerName, &r.OwnerEmail, &r.Suppressed)
	if errors.Is(err, sql.ErrNoRows) {
		return r, ErrNotFound
	}
	if err != nil {
		return r, err
	}
	r.Merged = merged.Int64
	r.Traits = parseTraits(traits)
	return r, nil
}

// EmailSuppression is a suppressed address.
type EmailSuppression struct {
	Email     string    `json:"email"`
	Reason    string    `json:"reason"`
	Detail    string    `json:"detail,omitempty"`
	CreatedBy string    `json:"created_by,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// EmailSuppressed returns the reason email is suppressed, "" when it is not.
func (s *Store) EmailSuppressed(ctx context.Context, email string) (string, error) {
	var reason string
	err := s.r.QueryRowContext(ctx, s.q("SELECT reason FROM email_suppressions WHERE email = ?"), NormalizeEmail(email)).Scan(&reason)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return reason, err
}

// SuppressEmail adds email to the suppressions (an address already there
// keeps its first reason). It reports whether the address is new.
func (s *Store) SuppressEmail(ctx context.Context, email, reason, detail, actor string, now time.Time) (bool, error) {
	switch reason {
	case SuppressHardBounce, SuppressComplaint, SuppressSoftBounce, SuppressManual:
	default:
		return false, fmt.Errorf("unknown suppression reason %q", reason)
	}
	return s.suppressEmailOn(ctx, s.w, email, reason, detail, actor, now)
}

func (s *Store) suppressEmailOn(ctx context.Context, e execer, email, reason, detail, actor string, now time.Time) (bool, error) {
	res, err := e.ExecContext(ctx, s.q(`INSERT INTO email_suppressions (email, reason, detail, created_by, created_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (email) DO NOTHING`), NormalizeEmail(email), reason, clipText(detail, 500), actor, utc(now))
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// UnsuppressEmail removes email from the suppressions; it reports whether
// it was there. The soft bounces counted so far are forgotten with it, so
// that the next one does not suppress it again at once.
func (s *Store) UnsuppressEmail(ctx context.Context, email string) (bool, error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	e := NormalizeEmail(email)
	res, err := tx.ExecContext(ctx, s.q("DELETE FROM email_suppressions WHERE email = ?"), e)
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	if _, err := tx.ExecContext(ctx, s.q("DELETE FROM email_reports WHERE email = ? AND type = 'soft'"), e); err != nil {
		return false, err
	}
	return n > 0, tx.Commit()
}

// EmailSuppressions lists suppressed addresses, newest first: those
// containing like (all when empty), at most limit.
func (s *Store) EmailSuppressions(ctx context.Context, like string, limit int) ([]EmailSuppression, error) {
	args := []any{}
	where := ""
	if like != "" {
		where = " WHERE email LIKE ?"
		args = append(args, "%"+strings.NewReplacer("%", "", "_", "").Replace(NormalizeEmail(like))+"%")
	}
	args = append(args, limit)
	return orEmpty(scanAll(ctx, s, s.r, "SELECT email, reason, detail, created_by, created_at FROM email_suppressions"+where+
		" ORDER BY created_at DESC, email LIMIT ?", args, func(r rowScanner) (EmailSuppression, error) {
		var e EmailSuppression
		err := r.Scan(&e.Email, &e.Reason, &e.Detail, &e.CreatedBy, &e.CreatedAt)
		e.CreatedAt = e.CreatedAt.UTC()
		return e, err
	}))
}

// EmailReport is a bounce, complaint or reply reported for an address.
type EmailReport struct {
	Email      string
	Type       string // EmailHardBounce, EmailSoftBounce, EmailComplaint or EmailReply
	MessageKey string // the message's key when known (from its Message-ID)
	Detail     string
	At         time.Time
}

// EmailReportResult is what one report did.
type EmailReportResult struct {
	Email      string `json:"email"`
	Type       string `json:"type"`
	Suppressed bool   `json:"suppressed"`       // the address is suppressed now
	Reason     string `json:"reason,omitempty"` // why it is (its first reason)
	Outcome    string `json:"outcome,omitempty"`
}

// ReportEmail records a bounce, complaint or reply in one transaction: the
// report itself, the suppression it calls for (a hard bounce or a
// complaint at once, a soft bounce when it is the SoftBounceLimit-th
// within SoftBounceWindow), and the message's outcome when its key is
// known (bounced, complained, replied), for the person whose address it
// is.
func (s *Store) ReportEmail(ctx context.Context, rep EmailReport, actor string) (EmailReportResult, error) {
	email := NormalizeEmail(rep.Email)
	out := EmailReportResult{Email: email, Type: rep.Type}
	var reason, outcome string
	switch rep.Type {
	case EmailHardBounce:
		reason, outcome = SuppressHardBounce, MessageBounced
	case EmailComplaint:
		reason, outcome = SuppressComplaint, MessageComplained
	case EmailSoftBounce:
		outcome = MessageBounced
	case EmailReply:
		outcome = MessageReplied
	default:
		return out, fmt.Errorf("unknown report type %q (hard, soft, complaint or reply)", rep.Type)
	}
	at := utc(rep.At)
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return out, err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, s.q("INSERT INTO email_reports (email, type, message_key, detail, reported_at) VALUES (?, ?, ?, ?, ?)"),
		email, rep.Type, clipText(rep.MessageKey, 200), clipText(rep.Detail, 500), at); err != nil {
		return out, err
	}
	if rep.Type == EmailSoftBounce {
		var n int
		if err := tx.QueryRowContext(ctx, s.q("SELECT COUNT(*) FROM email_reports WHERE email = ? AND type = 'soft' AND reported_at > ? AND reported_at <= ?"),
			email, at.Add(-SoftBounceWindow), at).Scan(&n); err != nil {
			return out, err
		}
		if n >= SoftBounceLimit {
			reason = SuppressSoftBounce
		}
	}
	if reason != "" {
		if _, err := s.suppressEmailOn(ctx, tx, email, reason, rep.Detail, actor, at); err != nil {
			return out, err
		}
	}
	if rep.MessageKey != "" {
		var pid sql.NullInt64
		err := tx.QueryRowContext(ctx, s.q("SELECT id FROM persons WHERE LOWER(email) = ? AND merged_into_id IS NULL ORDER BY id LIMIT 1"), email).Scan(&pid)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return out, err
		}
		var person *int64
		if pid.Valid {
			person = &pid.Int64
		}
		if _, err := s.recordMessageEventOn(ctx, tx, rep.MessageKey, outcome, person, rep.Detail, at); err != nil {
			return out, err
		}
		out.Outcome = outcome
	}
	if err := tx.QueryRowContext(ctx, s.q("SELECT reason FROM email_suppressions WHERE email = ?"), email).Scan(&out.Reason); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return out, err
	}
	out.Suppressed = out.Reason != ""
	return out, tx.Commit()
}

// RecordMessageEvent records what became of a message: the first time of
// each kind is kept. It reports whether this was the first.
func (s *Store) RecordMessageEvent(ctx context.Context, key, kind string, personID int64, detail string, at time.Time) (bool, error) {
	var person *int64
	if personID != 0 {
		person = &personID
	}
	return s.recordMessageEventOn(ctx, s.w, key, kind, person, detail, at)
}

func (s *Store) recordMessageEventOn(ctx context.Context, e execer, key, kind string, person *int64, detail string, at time.Time) (bool, error) {
	if !ValidMessageOutcome(kind) {
		return false, fmt.Errorf("unknown message outcome %q", kind)
	}
	if key == "" || len(key) > 200 {
		return false, fmt.Errorf("message key: want 1 to 200 characters")
	}
	// A person erased since the message went is no one: the outcome is
	// kept without them.
	res, err := e.ExecContext(ctx, s.q(`INSERT INTO message_events (message_key, kind, person_id, detail, at)
		SELECT ?, ?, (SELECT id FROM persons WHERE id = ?), ?, ?
		ON CONFLICT (message_key, kind) DO NOTHING`), key, kind, person, clipText(detail, 500), utc(at))
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// MessageOutcome reports whether the message with key had an outcome of
// kind (opened, clicked, replied, bounced, complained, unsubscribed): what
// a journey's branch asks about an earlier step.
func (s *Store) MessageOutcome(ctx context.Context, key, kind string) (bool, error) {
	if !ValidMessageOutcome(kind) {
		return false, fmt.Errorf("unknown message outcome %q", kind)
	}
	var one int
	err := s.r.QueryRowContext(ctx, s.q("SELECT 1 FROM message_events WHERE message_key = ? AND kind = ?"), key, kind).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// MessageEvent is one outcome of a message.
type MessageEvent struct {
	Key      string    `json:"message_key"`
	Kind     string    `json:"kind"`
	PersonID int64     `json:"person_id,omitempty"`
	Detail   string    `json:"detail,omitempty"`
	At       time.Time `json:"at"`
}

// MessageEvents lists the outcomes of the message with key, by time.
func (s *Store) MessageEvents(ctx context.Context, key string) ([]MessageEvent, error) {
	return orEmpty(scanAll(ctx, s, s.r, "SELECT message_key, kind, person_id, detail, at FROM message_events WHERE message_key = ? ORDER BY at, kind", []any{key},
		func(r rowScanner) (MessageEvent, error) {
			var e MessageEvent
			var pid sql.NullInt64
			err := r.Scan(&e.Key, &e.Kind, &pid, &e.Detail, &e.At)
			e.PersonID, e.At = pid.Int64, e.At.UTC()
			return e, err
		}))
}

// emailLinkKeySetting holds the database's key for signing the links of
// emails (unsubscribe, open pixel, tracked clicks).
const emailLinkKeySetting = "email.link_key"

// EmailLinkKey is the database's key for signing email links, made on
// first use; every node of a deployment signs and checks with it.
func (s *Store) EmailLinkKey(ctx context.Context) ([]byte, error) {
	return s.settingKey(ctx, emailLinkKeySetting)
}

// clipText cuts s to at most n bytes on a rune boundary.
func clipText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }
