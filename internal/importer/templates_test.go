package importer

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

// The sample files the import page hands out import as they are, in
// both languages, with every column the importer reads.
func TestSamplesImport(t *testing.T) {
	for _, lang := range []string{"zh-CN", "en"} {
		costs := Sample("costs", lang)
		f, err := ParseCosts(costs)
		if err != nil {
			t.Fatalf("%s cost sample: %v\n%s", lang, err, costs)
		}
		if f.Layout != "generic" || len(f.Rows) != 2 || f.Rows[0].Platform != "baidu" || f.Rows[1].Platform != "oceanengine" ||
			f.Rows[0].Cost.String() != "356.80" || f.Rows[1].Impressions != 56000 {
			t.Errorf("%s cost sample read as %s: %+v", lang, f.Layout, f.Rows)
		}
		ev, err := ParseEvents(Sample("events", lang), ChinaStandardTime)
		if err != nil {
			t.Fatalf("%s event sample: %v", lang, err)
		}
		if len(ev.Rows) != 2 || ev.Rows[0].Kind != "registered" || ev.Rows[1].Kind != "checked_in" || ev.Rows[1].Phone != "13800138000" ||
			ev.Rows[0].Campaign != eventSampleCampaign || !ev.Rows[0].Time.Equal(time.Date(2026, 5, 18, 1, 30, 0, 0, time.UTC)) {
			t.Errorf("%s event sample: %+v", lang, ev.Rows)
		}
		head := strings.SplitN(strings.TrimPrefix(string(Sample("events", lang)), "\uFEFF"), "\r\n", 2)[0]
		wantHead := map[string]string{"zh-CN": "时间,事件,活动,邮箱,手机", "en": "time,event,campaign,email,phone"}[lang]
		if !strings.HasPrefix(head, wantHead) {
			t.Errorf("%s event header %q, want it to start %q", lang, head, wantHead)
		}
	}
}

// A column the importer learns (an alias added to its table) shows in
// the help and the samples without more work, after the known ones.
func TestColumnsFollowTheAliases(t *testing.T) {
	saved := eventAliases["watch_minutes"]
	eventAliases["watch_minutes"] = []string{"watch_minutes", "观看分钟"}
	defer func() {
		if saved == nil {
			delete(eventAliases, "watch_minutes")
		} else {
			eventAliases["watch_minutes"] = saved
		}
	}()
	cols := Columns("events")
	var fields []string
	for _, c := range cols {
		fields = append(fields, c.Field)
	}
	if !slices.Contains(fields, "watch_minutes") || fields[0] != "time" {
		t.Fatalf("fields %v", fields)
	}
	if i := slices.Index(fields, "watch_minutes"); i < slices.Index(fields, "title") {
		t.Errorf("a new field comes after the known ones: %v", fields)
	}
	zh := string(Sample("events", "zh-CN"))
	if !strings.Contains(zh, "观看分钟") || !strings.Contains(string(Sample("events", "en")), "watch_minutes") {
		t.Errorf("the samples lack the new column:\n%s", zh)
	}
	for _, c := range cols {
		if c.Field == "email" && (c.OneOf != "identifier" || c.Required) {
			t.Errorf("email column %+v", c)
		}
		if c.Field == "time" && !c.Required {
			t.Errorf("time column %+v", c)
		}
	}
	if Columns("nonsense") != nil {
		t.Error("columns of an unknown kind")
	}
}

// A bad cell is named by its column as the file writes it, its position
// and a code a translation can key on.
func TestBadCellsNameTheirColumn(t *testing.T) {
	data := "日期,平台,账户,推广计划,推广单元,关键词,展现,点击,消费\n" +
		"2026-05-01,百度,a,品牌词,,,10,1,1.00\n" +
		"2026-05-02,百度,a,品牌词,,,10,1,abc\n" +
		"2026/13/40,百度,a,品牌词,,,10,1,1\n" +
		"2026-05-03,百度,a,品牌词,,,十,1,1\n" +
		"2026-05-04,百度,a,,,,10,1,1\n"
	_, err := ParseCosts([]byte(data))
	var bad *BadRowsError
	if !errors.As(err, &bad) || bad.Total != 4 {
		t.Fatalf("err %v", err)
	}
	want := []RowError{
		{Line: 3, Column: "消费", ColumnIndex: 9, Field: "cost", Code: "bad_cost", Value: "abc"},
		{Line: 4, Column: "日期", ColumnIndex: 1, Field: "date", Code: "bad_date", Value: "2026/13/40"},
		{Line: 5, Column: "展现", ColumnIndex: 7, Field: "impressions", Code: "bad_count", Value: "十"},
		{Line: 6, Column: "推广计划", ColumnIndex: 4, Field: "campaign", Code: "empty"},
	}
	for i, w := range want {
		got := bad.Rows[i]
		w.Reason = got.Reason
		if got != w || got.Reason == "" {
			t.Errorf("row %d: %+v, want %+v", i, got, w)
		}
	}

	events := "time,event,campaign,email,phone\n" +
		"2026-05-18 09:30,registered,EXPO,li@x.cn,\n" +
		"2026-05-18 09:30,danced,EXPO,li@x.cn,\n" +
		"2026-05-18 09:30,registered,EXPO,not-an-email,\n" +
		"2026-05-18 09:30,registered,EXPO,,\n"
	_, err = ParseEvents([]byte(events), ChinaStandardTime)
	if !errors.As(err, &bad) || bad.Total != 3 {
		t.Fatalf("events err %v", err)
	}
	for i, w := range []RowError{
		{Line: 3, Column: "event", ColumnIndex: 2, Field: "event", Code: "bad_event", Value: "danced"},
		{Line: 4, Column: "email", ColumnIndex: 4, Field: "email", Code: "bad_email", Value: "not-an-email"},
		{Line: 5, Code: "no_identifier"},
	} {
		got := bad.Rows[i]
		w.Reason = got.Reason
		if got != w {
			t.Errorf("event row %d: %+v, want %+v", i, got, w)
		}
	}
}
