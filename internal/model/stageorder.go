package model

// FurtherStage is the stage a person keeps when two records of the same
// human are merged: the one further along in merge order
//
//	visitor < subscriber < lead < mql < sql < nurture < disqualified < opportunity < customer
//
// which is LifecycleStages with the two side states placed after sql.
// nurture and disqualified are decisions a person or an explicit rule made
// about the human ("not now", "not a buyer"); what automation or an SDR
// did on the other record (a score crossing the MQL threshold, an SDR
// accepting) does not overturn them, just as scoring never moves a person
// out of them. An opportunity or a customer is a fact from the CRM (money
// on the table, or paid) and outweighs an earlier judgement. Of the two
// side states, disqualified is the stronger statement. An unknown stage
// loses to any known one; on a tie a is kept.
func FurtherStage(a, b Stage) Stage {
	if b.mergeRank() > a.mergeRank() {
		return b
	}
	return a
}

// mergeRank is a stage's position in FurtherStage's order, -1 for an
// unknown stage.
func (s Stage) mergeRank() int {
	sql := StageSQL.Rank()
	switch r := s.Rank(); {
	case s == StageNurture:
		return sql + 1
	case s == StageDisqualified:
		return sql + 2
	case r > sql:
		return r + 2
	default:
		return r
	}
}
