package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
)

// Two live nurture journeys with their history: a whitepaper nurture
// entered by the persons the whitepaper ads brought in over the last eight
// months, and a webinar follow-up entered by the webinars' audience of the
// last three. Each person's ledger is what a runner would have left by the
// end of the data: steps due before then are done (an occasional email
// skipped for want of consent), a wait not over yet is the row due, and a
// branch on the stage reads the person's stage. Persons who moved on to
// SQL or an opportunity after entering are the journeys' conversions.

const whitepaperJourney = `{
  "name": "白皮书培育 · Whitepaper nurture",
  "trigger": {"event": "Whitepaper Downloaded"},
  "goal": {"stage": "sql"},
  "steps": [
    {"id": "welcome", "type": "email", "name": "白皮书送达", "subject": "您的白皮书《B2B客户数据平台选型指南》",
     "html": "<p>{{person.name}}，您好：</p><p>感谢下载白皮书，附件与在线版链接如下。</p>", "text": "{{person.name}}，您好：感谢下载白皮书。"},
    {"id": "wait3", "type": "wait", "for": "3d"},
    {"id": "case", "type": "email", "name": "客户案例", "subject": "同行如何用数据驱动获客：三个客户案例",
     "html": "<p>三个与您同行业的客户案例。</p>", "text": "三个与您同行业的客户案例。"},
    {"id": "wait7", "type": "wait", "for": "7d", "name": "等待一周"},
    {"id": "hot", "type": "branch", "name": "已达MQL？", "if": {"stage": "mql"}, "then": "handoff", "else": "digest"},
    {"id": "handoff", "type": "update", "name": "交给销售", "task": "跟进白皮书线索：预约演示"},
    {"id": "done", "type": "exit", "name": "移交销售后退出"},
    {"id": "digest", "type": "wecom", "kind": "external", "name": "企微推送月度精选", "content": "本月精选：B2B营销自动化实践合集"}
  ]
}`

const webinarJourney = `{
  "name": "直播跟进 · Webinar follow-up",
  "trigger": {"event": "Webinar Attended"},
  "reentry": "after_exit",
  "goal": {"stage": "sql"},
  "steps": [
    {"id": "thanks", "type": "email", "name": "感谢参会", "subject": "感谢参加直播：回放与讲义已就绪",
     "html": "<p>直播回放与讲义下载。</p>", "text": "直播回放与讲义下载。"},
    {"id": "wait1", "type": "wait", "for": "1d"},
    {"id": "crm", "type": "webhook", "name": "同步至CRM", "url": "https://crm.example.cn/hooks/webinar"},
    {"id": "wait5", "type": "wait", "for": "5d"},
    {"id": "engaged", "type": "branch", "name": "已达MQL？", "if": {"stage": "mql"}, "then": "sales", "else": "nudge"},
    {"id": "nudge", "type": "email", "name": "预约演示邀请", "subject": "一对一演示：30分钟看懂您的获客数据", "text": "点击预约演示。", "next": "stop"},
    {"id": "stop", "type": "exit"},
    {"id": "sales", "type": "update", "name": "销售电话跟进", "task": "直播后电话跟进", "score_delta": 10}
  ]
}`

// seedJourneys creates the two journeys, live since before their first
// entry, and writes their history up to asOf.
func seedJourneys(ctx context.Context, s *store.Store, asOf time.Time, scale float64) error {
	all, err := s.AllCampaigns(ctx)
	if err != nil {
		return err
	}
	var webinars []string
	for _, c := range all {
		if c.Kind == "webinar" {
			webinars = append(webinars, c.Code)
		}
	}
	for _, j := range []struct {
		def   string
		codes []string
		days  int
		limit int
	}{
		{whitepaperJourney, []string{"tx-moments", "li-leadgen"}, 240, max(20, int(400*scale))},
		{webinarJourney, webinars, 90, max(20, int(200*scale))},
	} {
		var def model.JourneyDef
		if err := json.Unmarshal([]byte(j.def), &def); err != nil {
			return err
		}
		if err := def.Validate(); err != nil {
			return fmt.Errorf("demo journey %q: %w", def.Name, err)
		}
		from := asOf.AddDate(0, 0, -j.days)
		jr, err := s.CreateJourney(ctx, def, "demo", from.Add(-24*time.Hour))
		if err != nil {
			return err
		}
		if _, err := s.ActivateJourney(ctx, jr.ID, from.Add(-23*time.Hour)); err != nil {
			return err
		}
		found, err := s.CampaignTouchedPersons(ctx, j.codes, from, asOf, 100*j.limit)
		if err != nil {
			return err
		}
		// Evenly over the window: some long done, some in flight.
		var cands []store.JourneyCandidate
		for i := 0; i < len(found) && len(cands) < j.limit; i++ {
			if i*j.limit/max(len(found), 1) >= len(cands) {
				cands = append(cands, found[i])
			}
		}
		entries := make([]store.SeededEntry, len(cands))
		for i, c := range cands {
			entries[i] = walkJourney(&def, c, asOf)
		}
		if err := s.SeedJourneyHistory(ctx, jr.ID, 1, entries); err != nil {
			return err
		}
	}
	return nil
}

// walkJourney is the ledger a runner would have written for the person
// by asOf.
func walkJourney(def *model.JourneyDef, c store.JourneyCandidate, asOf time.Time) store.SeededEntry {
	e := store.SeededEntry{PersonID: c.PersonID, EnteredAt: c.At, State: model.EntryActive}
	t := c.At
	cur := def.Steps[0].ID
	for cur != "" {
		idx := 0
		for i := range def.Steps {
			if def.Steps[i].ID == cur {
				idx = i
			}
		}
		st := &def.Steps[idx]
		row := store.SeededStep{StepID: st.ID, Type: st.Type, DueAt: t, Status: model.LedgerDone}
		next := def.After(idx)
		switch st.Type {
		case model.StepEmail, model.StepWeCom, model.StepWebhook:
			t = t.Add(20 * time.Second)
			row.Result = model.OutcomeSent
			if c.PersonID%13 == 0 && st.Type != model.StepWebhook {
				row.Status, row.Result, row.Reason = model.LedgerSkipped, model.OutcomeSkipped, "no_consent"
			}
		case model.StepWait:
			d, _ := model.ParseSpan(st.For)
			wake := t.Add(d)
			if wake.After(asOf) {
				row.Status, row.DueAt, row.WaitUntil = model.LedgerDue, wake, wake
				e.Steps = append(e.Steps, row)
				return e
			}
			t = wake
			row.Result = "waited"
		case model.StepBranch:
			if c.Stage.Rank() >= st.If.Stage.Rank() {
				row.Result = "then"
				if st.Then != "" {
					next = st.Then
				}
			} else {
				row.Result = "else"
				if st.Else != "" {
					next = st.Else
				}
			}
		case model.StepUpdate:
			row.Result = "updated"
		case model.StepExit:
			row.Result, next = "exit", ""
			e.State, e.Reason = model.EntryExited, "exit step "+st.ID
		}
		row.FinishedAt = t
		e.Steps = append(e.Steps, row)
		cur = next
	}
	if e.State == model.EntryActive {
		e.State = model.EntryCompleted
	}
	e.EndedAt = t
	return e
}
