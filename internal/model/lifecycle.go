package model

import "time"

// StageMove asks to move one person from one lifecycle stage to another.
// internal/lifecycle decides which moves are allowed; the store only
// applies them, and only while the person is still in From, so that two
// writers racing for the same person cannot both move it.
type StageMove struct {
	PersonID    int64
	From        Stage // the stage the person must be in now
	To          Stage
	At          time.Time
	Reason      string
	Actor       string
	RuleVersion int64 // 0 when no scoring rule version is behind the move
}

// Qualification fields a person or a rule may set.
const (
	FieldGrade    = "grade"
	FieldSDRClass = "sdr_class"
)

// QualificationSet asks to set one qualification field of a person.
type QualificationSet struct {
	PersonID    int64
	Field       string // FieldGrade or FieldSDRClass
	Value       string // "" clears the field
	At          time.Time
	Actor       string // "user:12", "apikey:NAME", "rule:NAME"
	Reason      string
	RuleVersion int64
	// KeepManual skips the change when the current value was set by a
	// person (actor "user:..." or "apikey:..."): rules pass it unless the
	// rule says it may override people.
	KeepManual bool
}

// QualificationChange is one step of a person's grade or SDR class history.
type QualificationChange struct {
	PersonID    int64     `json:"person_id"`
	Field       string    `json:"field"`
	Old         string    `json:"old"`
	New         string    `json:"new"`
	At          time.Time `json:"at"`
	Actor       string    `json:"actor"`
	Reason      string    `json:"reason"`
	RuleVersion int64     `json:"rule_version,omitempty"`
}

// PersonQualification is who set a person's grade and SDR class.
type PersonQualification struct {
	Grade         string     `json:"grade"`
	GradeSetBy    string     `json:"grade_set_by"`
	GradeSetAt    *time.Time `json:"grade_set_at"`
	SDRClass      string     `json:"sdr_class"`
	SDRClassSetBy string     `json:"sdr_class_set_by"`
	SDRClassSetAt *time.Time `json:"sdr_class_set_at"`
}
