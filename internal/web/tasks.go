package web

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/revloop/revloop/internal/model"
)

// My tasks (/tasks and GET /api/v1/tasks): the caller's tasks — review
// action items, SLA escalations, follow-ups — the soonest due first, each
// with where it stands now (overdue, due today, upcoming). A task's
// reminder is its state: computed when the list is read, so that a task
// becomes overdue the moment its due time passes, with no background run
// (docs/reviews.md, "Action items").

// tasksMax bounds the tasks listed.
const tasksMax = 200

func (s *Server) taskRoutes(m *http.ServeMux) error {
	m.Handle("GET /tasks", s.page("tasks", s.tasksPage))
	m.Handle("GET /api/v1/tasks", s.requireAPI(s.apiTasks))
	return nil
}

type tasksView struct {
	Done    bool // the done tasks instead of the open ones
	Table   *dataTable
	Actions []model.UserTask // open review action items, for the done form
	Overdue int
	Open    int
	Notice  string
}

func (tasksView) NavKey() string { return "tasks" }

// taskState is where a task stands at now: done, overdue, due today (in
// the team's time zone), upcoming, or without a due time.
func taskState(t model.UserTask, cal model.Calendar, now time.Time) string {
	switch {
	case t.DoneAt != nil:
		return "done"
	case t.DueAt == nil:
		return "no_due"
	case now.After(*t.DueAt):
		return "overdue"
	case cal.Day(*t.DueAt).Equal(cal.Day(now)):
		return "due_today"
	}
	return "upcoming"
}

func (s *Server) tasksPage(w http.ResponseWriter, r *http.Request) {
	loc := s.catalog.locale(langOnly(r))
	u, _ := userFrom(r.Context())
	cal, err := s.store.Calendar(r.Context())
	if err != nil {
		s.pageInternal(w, r, "tasks page", err)
		return
	}
	v := tasksView{Done: r.URL.Query().Get("show") == "done"}
	tasks, err := s.store.UserTasks(r.Context(), u.ID, v.Done, tasksMax)
	if err != nil {
		s.pageInternal(w, r, "tasks page", err)
		return
	}
	now := s.app.Now()
	if v.Open, v.Overdue, err = s.store.CountUserTasks(r.Context(), u.ID, now); err != nil {
		s.pageInternal(w, r, "tasks page", err)
		return
	}
	if r.URL.Query().Get("done") == "status" {
		v.Notice = loc.T("review.done.status")
	}
	t := &dataTable{ID: "tasks", Loc: cal.Loc, Empty: loc.T("tasks.empty"), Columns: []column{
		{Key: "task", Label: loc.T("tasks.col.task"), Kind: kindText},
		{Key: "kind", Label: loc.T("tasks.col.kind"), Kind: kindText},
		{Key: "about", Label: loc.T("tasks.col.about"), Kind: kindText},
		{Key: "due", Label: loc.T("tasks.col.due"), Kind: kindTime},
		{Key: "state", Label: loc.T("tasks.col.state"), Kind: kindText},
		{Key: "created", Label: loc.T("tasks.col.created"), Kind: kindTime},
	}}
	for _, x := range tasks {
		var about cell
		switch {
		case x.CampaignID != 0:
			about = cell{V: campaignName(loc, x.CampaignName, x.CampaignEN), Href: fmt.Sprintf("/campaigns/%d/review#actions", x.CampaignID)}
			if x.DoneAt == nil {
				v.Actions = append(v.Actions, x)
			}
		case x.PersonID != 0:
			about = cell{V: cmpOr(x.PersonName, fmt.Sprintf("#%d", x.PersonID)), Href: fmt.Sprintf("/persons/%d", x.PersonID)}
		case x.OpportunityID != 0:
			about = cell{V: cmpOr(x.Opportunity, fmt.Sprintf("#%d", x.OpportunityID))}
		}
		var due any
		if x.DueAt != nil {
			due = *x.DueAt
		}
		state := taskState(x, cal, now)
		t.Rows = append(t.Rows, []cell{{V: x.Title}, {V: x.Kind, Text: taskKindText(loc, x.Kind)}, about, {V: due},
			{V: state, Text: loc.T("tasks.state." + state)}, {V: x.CreatedAt}})
	}
	t.prepare(r, "", false)
	v.Table = t
	if s.exportTable(w, r, "tasks", viewFilter{}, t) {
		return
	}
	s.render(w, r, http.StatusOK, "tasks", "tasks.title", v)
}

func taskKindText(loc Locale, kind string) string {
	if k := "tasks.kind." + kind; loc.T(k) != k {
		return loc.T(k)
	}
	return kind
}

// taskJSON is a task in the API.
type taskJSON struct {
	ID         int64      `json:"id"`
	Kind       string     `json:"kind"`
	Title      string     `json:"title"`
	DueAt      *time.Time `json:"due_at"`
	DoneAt     *time.Time `json:"done_at"`
	CreatedAt  time.Time  `json:"created_at"`
	State      string     `json:"state"` // overdue, due_today, upcoming, no_due, done
	PersonID   int64      `json:"person_id,omitempty"`
	CampaignID int64      `json:"campaign_id,omitempty"`
	ActionID   int64      `json:"action_id,omitempty"`
}

func (s *Server) apiTasks(w http.ResponseWriter, r *http.Request) {
	uid, err := s.requestUserID(r)
	if err != nil {
		s.apiInternal(w, r, err)
		return
	}
	if uid == 0 {
		writeJSONError(w, http.StatusBadRequest, "this API key belongs to no user, so it has no tasks")
		return
	}
	status := strings.TrimSpace(r.URL.Query().Get("status"))
	if status != "" && status != "open" && status != "done" {
		writeJSONError(w, http.StatusBadRequest, fmt.Sprintf("status %q: want open or done", clip(status, 40)))
		return
	}
	cal, err := s.store.Calendar(r.Context())
	if err != nil {
		s.apiInternal(w, r, err)
		return
	}
	tasks, err := s.store.UserTasks(r.Context(), uid, status == "done", tasksMax)
	if err != nil {
		s.apiInternal(w, r, err)
		return
	}
	now := s.app.Now()
	open, overdue, err := s.store.CountUserTasks(r.Context(), uid, now)
	if err != nil {
		s.apiInternal(w, r, err)
		return
	}
	out := make([]taskJSON, 0, len(tasks))
	for _, t := range tasks {
		out = append(out, taskJSON{ID: t.ID, Kind: t.Kind, Title: t.Title, DueAt: t.DueAt, DoneAt: t.DoneAt, CreatedAt: t.CreatedAt,
			State: taskState(t, cal, now), PersonID: t.PersonID, CampaignID: t.CampaignID, ActionID: t.ActionID})
	}
	writeJSON(w, http.StatusOK, map[string]any{"user_id": uid, "open": open, "overdue": overdue, "tasks": out, "truncated": len(tasks) == tasksMax})
}
