package message

import (
	"fmt"
	"html"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
)

// Email templates: the subject, HTML and text of an email step hold
// variables written {{person.first_name}}, with a fallback for an empty
// value written {{person.first_name | default:"there"}}. Nothing else is
// evaluated: no loops, no calls, so rendering takes time linear in the
// template and cannot run away. Values are HTML-escaped in the HTML body
// and written as they are in the subject and text.

// Bounds of templates and of what they render to.
const (
	MaxEmailSubjectLen  = 1000    // bytes of a subject template
	MaxEmailBodyLen     = 200_000 // bytes of an HTML or text template (model.MaxStepTextLen)
	maxVariableValueLen = 1000    // bytes of one variable's value
	maxTemplateVars     = 2000    // variables in one template
	maxRenderedSubject  = 2000    // bytes of a rendered subject
)

// emailVariables are the variables a template may use, with what each
// says; person.traits.KEY reads any trait.
var emailVariables = map[string]string{
	"person.name":       "the person's name",
	"person.first_name": "the first_name trait, or the first word of the name (the whole name when it has no space)",
	"person.last_name":  "the last_name trait, or the name's last word",
	"person.email":      "the person's email address",
	"person.title":      "the person's job title",
	"person.phone":      "the person's phone",
	"account.name":      "the account's name",
	"account.name_en":   "the account's English name",
	"account.domain":    "the account's domain",
	"account.industry":  "the account's industry",
	"owner.name":        "the owner's name (the person's, else the account's)",
	"owner.email":       "the owner's email address",
	"unsubscribe_url":   "the one-click unsubscribe link (added at the end when the template has none)",
}

// EmailVariables lists the variables templates may use, sorted, with
// what each says.
func EmailVariables() [][2]string {
	out := make([][2]string, 0, len(emailVariables)+1)
	for k, v := range emailVariables {
		out = append(out, [2]string{k, v})
	}
	out = append(out, [2]string{"person.traits.KEY", "the person's trait KEY"})
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	return out
}

// TemplateError is a template that cannot be rendered: Field says which
// one (subject, html or text).
type TemplateError struct {
	Field string
	Msg   string
}

func (e *TemplateError) Error() string { return e.Field + ": " + e.Msg }

// emailTemplate is a parsed template: literal text and variables in turn.
type emailTemplate struct {
	parts []tmplPart
}

type tmplPart struct {
	literal string
	name    string // the variable; "" for a literal
	def     string // the default for an empty value
}

// usesUnsubscribe reports whether the template has the unsubscribe link.
func (t emailTemplate) usesUnsubscribe() bool {
	for _, p := range t.parts {
		if p.name == "unsubscribe_url" {
			return true
		}
	}
	return false
}

// parseEmailTemplate reads src; field names it in errors.
func parseEmailTemplate(field, src string, max int) (emailTemplate, error) {
	var t emailTemplate
	if len(src) > max {
		return t, &TemplateError{field, fmt.Sprintf("%d bytes, at most %d", len(src), max)}
	}
	if !utf8.ValidString(src) {
		return t, &TemplateError{field, "not valid UTF-8"}
	}
	rest := src
	for {
		i := strings.Index(rest, "{{")
		if i < 0 {
			t.parts = append(t.parts, tmplPart{literal: rest})
			return t, nil
		}
		if i > 0 {
			t.parts = append(t.parts, tmplPart{literal: rest[:i]})
		}
		j := strings.Index(rest[i:], "}}")
		if j < 0 {
			return t, &TemplateError{field, fmt.Sprintf("%q at byte %d is not closed with }}", clipStr(rest[i:], 30), len(src)-len(rest)+i)}
		}
		expr := rest[i+2 : i+j]
		p, err := parseVariable(expr)
		if err != nil {
			return t, &TemplateError{field, fmt.Sprintf("{{%s}}: %v", clipStr(expr, 60), err)}
		}
		t.parts = append(t.parts, p)
		if len(t.parts) > 2*maxTemplateVars+1 {
			return t, &TemplateError{field, fmt.Sprintf("more than %d variables", maxTemplateVars)}
		}
		rest = rest[i+j+2:]
	}
}

// parseVariable reads `name` or `name | default:"value"`.
func parseVariable(expr string) (tmplPart, error) {
	name, filter, hasFilter := strings.Cut(expr, "|")
	name = strings.TrimSpace(name)
	if !knownVariable(name) {
		return tmplPart{}, fmt.Errorf("unknown variable %q (known: %s, person.traits.KEY)", name, knownList())
	}
	p := tmplPart{name: name}
	if hasFilter {
		f := strings.TrimSpace(filter)
		v, ok := strings.CutPrefix(f, "default:")
		if !ok {
			return p, fmt.Errorf(`unknown filter %q (only default:"value")`, clipStr(f, 30))
		}
		v = strings.TrimSpace(v)
		if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' || strings.Contains(v[1:len(v)-1], `"`) {
			return p, fmt.Errorf(`the default must be written in double quotes: default:"value"`)
		}
		p.def = v[1 : len(v)-1]
		if len(p.def) > maxVariableValueLen {
			return p, fmt.Errorf("the default is longer than %d bytes", maxVariableValueLen)
		}
	}
	return p, nil
}

func knownVariable(name string) bool {
	if _, ok := emailVariables[name]; ok {
		return true
	}
	key, ok := strings.CutPrefix(name, "person.traits.")
	if !ok || key == "" || len(key) > 100 {
		return false
	}
	for _, r := range key {
		if !(r == '_' || r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

func knownList() string {
	names := make([]string, 0, len(emailVariables))
	for k := range emailVariables {
		names = append(names, k)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// render writes the template with vars; escape HTML-escapes the values.
func (t emailTemplate) render(vars func(string) string, escape bool) string {
	var b strings.Builder
	for _, p := range t.parts {
		if p.name == "" {
			b.WriteString(p.literal)
			continue
		}
		v := clipStr(vars(p.name), maxVariableValueLen)
		if strings.TrimSpace(v) == "" {
			v = p.def
		}
		if escape {
			v = html.EscapeString(v)
		}
		b.WriteString(v)
	}
	return b.String()
}

// EmailTemplates are the three parsed templates of an email.
type EmailTemplates struct {
	subject, html, text emailTemplate
}

// ParseEmailTemplates checks an email step's subject, HTML and text; the
// error is a *TemplateError naming the field. At least a subject and one
// of the bodies are needed.
func ParseEmailTemplates(subject, htmlBody, textBody string) (EmailTemplates, error) {
	var t EmailTemplates
	var err error
	if strings.TrimSpace(subject) == "" {
		return t, &TemplateError{"subject", "required"}
	}
	if strings.ContainsAny(subject, "\r\n") {
		return t, &TemplateError{"subject", "must be one line"}
	}
	if strings.TrimSpace(htmlBody) == "" && strings.TrimSpace(textBody) == "" {
		return t, &TemplateError{"html", "an email needs an HTML or a text body"}
	}
	if t.subject, err = parseEmailTemplate("subject", subject, MaxEmailSubjectLen); err != nil {
		return t, err
	}
	if t.html, err = parseEmailTemplate("html", htmlBody, MaxEmailBodyLen); err != nil {
		return t, err
	}
	if t.text, err = parseEmailTemplate("text", textBody, MaxEmailBodyLen); err != nil {
		return t, err
	}
	return t, nil
}

// recipientVars answers a template's variables for r; unsub is the
// unsubscribe link.
func recipientVars(r store.EmailRecipient, unsub string) func(string) string {
	return func(name string) string {
		switch name {
		case "person.name":
			return r.Name
		case "person.first_name":
			if v := traitString(r.Traits, "first_name"); v != "" {
				return v
			}
			f := strings.Fields(r.Name)
			if len(f) > 0 {
				return f[0]
			}
			return ""
		case "person.last_name":
			if v := traitString(r.Traits, "last_name"); v != "" {
				return v
			}
			f := strings.Fields(r.Name)
			if len(f) > 1 {
				return f[len(f)-1]
			}
			return ""
		case "person.email":
			return r.Email
		case "person.title":
			return r.Title
		case "person.phone":
			return r.Phone
		case "account.name":
			return r.Account
		case "account.name_en":
			return r.AccountEN
		case "account.domain":
			return r.Domain
		case "account.industry":
			return r.Industry
		case "owner.name":
			return r.OwnerName
		case "owner.email":
			return r.OwnerEmail
		case "unsubscribe_url":
			return unsub
		}
		if key, ok := strings.CutPrefix(name, "person.traits."); ok {
			return traitString(r.Traits, key)
		}
		return ""
	}
}

// traitString writes a trait's value as text: strings as they are,
// numbers and booleans in JSON form, anything else (objects, lists,
// null) as nothing.
func traitString(traits map[string]any, key string) string {
	switch v := traits[key].(type) {
	case string:
		return v
	case float64, bool:
		return fmt.Sprint(v)
	}
	return ""
}

func clipStr(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// CheckEmailStep checks an email step as a journey saves it: its
// templates (a *TemplateError naming subject, html or text) and its
// sender when it sets one.
func CheckEmailStep(step model.JourneyStep) error {
	if _, err := ParseEmailTemplates(step.Subject, step.HTML, step.Text); err != nil {
		return err
	}
	if step.From != "" {
		if _, err := parseFrom(step.From); err != nil {
			return &TemplateError{"from", err.Error()}
		}
	}
	return nil
}
