package model

// PersonScore is one person's computed score.
type PersonScore struct {
	PersonID   int64
	Fit        float64
	Engagement float64
	Score      float64
}
