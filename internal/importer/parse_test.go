package importer

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/model"
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseCostsLayouts(t *testing.T) {
	for _, tc := range []struct {
		file, layout, platform, encoding string
		channel                          model.Channel
		rows, skipped                    int
		cost                             model.Money
		impressions, clicks              int64
		first                            string // account|campaign|ad group|keyword of the first row
	}{
		{"baidu_keywords_gbk.csv", "baidu", "baidu", "gb18030", model.ChannelPaidSearch, 5, 1, 156451, 7449, 200, "revloop-北京|品牌词|品牌-核心|revloop"},
		{"oceanengine.csv", "oceanengine", "oceanengine", "utf-8", model.ChannelPaidSocial, 3, 1, 411103, 123012, 992, "revloop巨量引擎|线索-制造业|信息流-视频A|"},
		{"tencent_ads.csv", "tencent_ads", "tencent_ads", "utf-8", model.ChannelPaidSocial, 3, 1, 230175, 74370, 674, "21345678|朋友圈-白皮书|白皮书下载-图文|"},
		// 356.125 rounds half to even to 356.12, 48.135 to 48.14.
		{"google_ads.csv", "google_ads", "google_ads", "utf-8", model.ChannelPaidSearch, 4, 2, 35612 + 4814 + 120350 + 30100, 4734, 220, "Revloop APAC|Search - Brand|Brand - Exact|revloop"},
		{"google_ads_utf16.tsv", "google_ads", "google_ads", "utf-16", model.ChannelPaidSearch, 4, 2, 35612 + 4814 + 120350 + 30100, 4734, 220, "Revloop APAC|Search - Brand|Brand - Exact|revloop"},
		{"linkedin_ads.csv", "linkedin_ads", "linkedin_ads", "utf-8", model.ChannelPaidSocial, 3, 0, 555125, 26900, 224, "Revloop Global|ABM Manufacturing|Sponsored Content - CFO|"},
		{"generic.csv", "generic", "sogou", "utf-8", model.ChannelPaidSearch, 3, 0, 42840, 4020, 87, "sogou-main|搜狗品牌词|品牌|revloop"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			f, err := ParseCosts(readTestdata(t, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if f.Layout != tc.layout || f.Encoding != tc.encoding {
				t.Errorf("layout %s encoding %s, want %s %s", f.Layout, f.Encoding, tc.layout, tc.encoding)
			}
			if len(f.Rows) != tc.rows || f.Skipped != tc.skipped || f.Read != tc.rows+tc.skipped {
				t.Errorf("rows %d skipped %d read %d, want %d %d", len(f.Rows), f.Skipped, f.Read, tc.rows, tc.skipped)
			}
			if tc.skipped > 0 && (len(f.Notes) == 0 || !strings.Contains(f.Notes[0], "totals row skipped")) {
				t.Errorf("notes %q, want the totals row named", f.Notes)
			}
			var cost model.Money
			var impr, clicks int64
			for _, r := range f.Rows {
				cost += r.Cost
				impr += r.Impressions
				clicks += r.Clicks
			}
			if cost != tc.cost || impr != tc.impressions || clicks != tc.clicks {
				t.Errorf("cost %s impressions %d clicks %d, want %s %d %d", cost, impr, clicks, tc.cost, tc.impressions, tc.clicks)
			}
			r := f.Rows[0]
			if got := strings.Join([]string{r.Account, r.Campaign, r.AdGroup, r.Keyword}, "|"); got != tc.first {
				t.Errorf("first row %q, want %q", got, tc.first)
			}
			if r.Platform != tc.platform || r.Channel != tc.channel {
				t.Errorf("platform %s channel %s, want %s %s", r.Platform, r.Channel, tc.platform, tc.channel)
			}
			if r.Day != time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC) {
				t.Errorf("day %v", r.Day)
			}
		})
	}
}

func TestParseCostsBadRows(t *testing.T) {
	csv := "date,platform,account,campaign,ad_group,keyword,impressions,clicks,cost\n" +
		"2024-05-01,baidu,a,c1,,,10,1,1.00\n" +
		"2024-13-01,baidu,a,c1,,,10,1,1.00\n" +
		"2024-05-02,baidu,a,,,,10,1,1.00\n" +
		"2024-05-03,baidu,a,c1,,,ten,1,1.00\n" +
		"2024-05-04,baidu,a,c1,,,10,1,-5\n" +
		"2024-05-05,百度,a,c1,,,10,1,abc\n" +
		"2024-05-06,bad platform!,a,c1,,,10,1,1\n" +
		"\"2024-05-07\",baidu,a,\"multi\nline\",,,10,1,1\n" +
		"2024-05-08,google,a,c1,,,10,1,1\n"
	_, err := ParseCosts([]byte(csv))
	var bad *BadRowsError
	if !errors.As(err, &bad) {
		t.Fatalf("err = %v, want *BadRowsError", err)
	}
	want := map[int]string{3: "date", 4: "campaign name is empty", 5: "impressions", 6: "negative", 7: "cost", 8: "platform", 9: "control character"}
	if bad.Total != len(want) {
		t.Errorf("%d bad rows, want %d: %v", bad.Total, len(want), err)
	}
	for _, r := range bad.Rows {
		if w, ok := want[r.Line]; !ok || !strings.Contains(r.Reason, w) {
			t.Errorf("line %d: %q, want a reason with %q", r.Line, r.Reason, w)
		}
	}
	if !strings.Contains(err.Error(), "line 3: ") || !strings.Contains(err.Error(), "nothing imported") {
		t.Errorf("message %q", err)
	}
}

func TestParseCostsFileErrors(t *testing.T) {
	for _, tc := range []struct{ name, data, want string }{
		{"empty", "", "empty"},
		{"unknown header", "a,b,c\n1,2,3\n", "no known header"},
		{"header only", "date,platform,account,campaign,ad_group,keyword,impressions,clicks,cost\n", "no data rows"},
		{"foreign currency", "Day,Account,Campaign,Ad group,Keyword,Currency,Impr.,Clicks,Cost\n2024-05-01,a,c,g,k,USD,1,1,1.00\n", "currency USD"},
		{"bad UTF-16", "\xff\xfe\x00", "UTF-16"},
		{"binary", "\x80\x80\x80,\xff", "neither UTF-8 nor GBK"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseCosts([]byte(tc.data))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want one naming %q", err, tc.want)
			}
		})
	}
}

func TestParseCostsDuplicateKeysAddUp(t *testing.T) {
	f, err := ParseCosts([]byte("date,platform,account,campaign,ad_group,keyword,impressions,clicks,cost\n" +
		"2024-05-01,baidu,a,c,g,k,10,1,1.10\n2024-05-01,baidu,a,c,g,k,5,2,0.90\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Rows) != 1 || f.Rows[0].Impressions != 15 || f.Rows[0].Clicks != 3 || f.Rows[0].Cost != 200 {
		t.Fatalf("rows %+v", f.Rows)
	}
	if len(f.Notes) != 1 || !strings.Contains(f.Notes[0], "line 3") || !strings.Contains(f.Notes[0], "line 2") {
		t.Errorf("notes %q", f.Notes)
	}
}

func TestParseCost(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want model.Money
		err  bool
	}{
		{"1234", 123400, false}, {"¥1,234.56", 123456, false}, {"￥0.5", 50, false}, {"RMB 12", 1200, false}, {"--", 0, false}, {"", 0, false},
		{"1.005", 100, false}, {"1.015", 102, false}, {"1.0051", 101, false}, {"1.00499", 100, false}, {"2.125", 212, false}, {"2.135", 214, false},
		{"-1", 0, true}, {"abc", 0, true}, {"1.2.3", 0, true}, {"1e5", 0, true}, {"99999999999999999999", 0, true},
	} {
		got, err := parseCost(tc.in)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("parseCost(%q) = %v, %v; want %v, error %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func TestParseDay(t *testing.T) {
	want := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	for _, in := range []string{"2024-05-01", "2024/5/1", "20240501", "2024年5月1日", "5/1/2024", "May 1, 2024", "2024-05-01 00:00:00", "2024-05-01T08:00:00Z", "2024.05.01"} {
		got, err := parseDay(in)
		if err != nil || !got.Equal(want) {
			t.Errorf("parseDay(%q) = %v, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "yesterday", "2024-02-30", "1899-01-01", "合计"} {
		if _, err := parseDay(in); err == nil {
			t.Errorf("parseDay(%q) accepted", in)
		}
	}
}

func TestLayoutAliasesDoNotOverlap(t *testing.T) {
	for _, l := range CostLayouts {
		seen := map[string]string{}
		for field, names := range l.Aliases {
			for _, n := range names {
				if other, ok := seen[normHeader(n)]; ok && other != field {
					t.Errorf("%s: header %q names both %s and %s", l.Name, n, other, field)
				}
				seen[normHeader(n)] = field
			}
		}
	}
}

func TestParseEvents(t *testing.T) {
	f, err := ParseEvents(readTestdata(t, "events.csv"), ChinaStandardTime)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Rows) != 4 {
		t.Fatalf("%d rows", len(f.Rows))
	}
	r := f.Rows[0]
	if r.Kind != "registered" || r.Email != "zhang.wei@example-mfg.cn" || r.Campaign != "EXPO-2024-SH" || r.Company != "示例制造有限公司" ||
		!r.Time.Equal(time.Date(2024, 5, 10, 1, 12, 0, 0, time.UTC)) {
		t.Errorf("row 1 %+v", r)
	}
	if f.Rows[2].Kind != "badge_scan" || f.Rows[2].Phone != "+86 139 0013 9000" || f.Rows[3].UnionID == "" {
		t.Errorf("rows %+v", f.Rows[2:])
	}
	zh, err := ParseEvents(readTestdata(t, "events_zh.csv"), ChinaStandardTime)
	if err != nil {
		t.Fatal(err)
	}
	if zh.Rows[0].Kind != "checked_in" || zh.Rows[1].Kind != "registered" || zh.Rows[0].Phone != "13700137000" || zh.Rows[0].Title != "CTO" {
		t.Errorf("zh rows %+v", zh.Rows)
	}
}

func TestParseEventsBadRows(t *testing.T) {
	csv := "time,event,campaign,email,phone\n" +
		"2024-05-01 10:00,registered,C1,a@b.cn,\n" +
		"tomorrow,registered,C1,a@b.cn,\n" +
		"2024-05-01 10:00,danced,C1,a@b.cn,\n" +
		"2024-05-01 10:00,registered,,a@b.cn,\n" +
		"2024-05-01 10:00,registered,C1,not-an-email,\n" +
		"2024-05-01 10:00,registered,C1,,\n" +
		"2024-05-01 10:00,registered,C1,,12ab\n" +
		"9999-12-31T23:59:59Z,registered,C1,a@b.cn,\n" +
		"1734-01-01 00:00,registered,C1,a@b.cn,\n"
	_, err := ParseEvents([]byte(csv), time.UTC)
	var bad *BadRowsError
	if !errors.As(err, &bad) {
		t.Fatalf("err = %v", err)
	}
	want := map[int]string{3: "time", 4: "event", 5: "campaign", 6: "email", 7: "nobody", 8: "phone", 9: "out of range", 10: "out of range"}
	if bad.Total != len(want) {
		t.Errorf("%d bad rows: %v", bad.Total, err)
	}
	for _, r := range bad.Rows {
		if !strings.Contains(r.Reason, want[r.Line]) {
			t.Errorf("line %d: %q, want %q", r.Line, r.Reason, want[r.Line])
		}
	}
	if _, err := ParseEvents([]byte("time,event,campaign,name\n2024-05-01,registered,C,Zhang\n"), time.UTC); err == nil || !strings.Contains(err.Error(), "identifier") {
		t.Errorf("no identifier column: %v", err)
	}
}

func TestEventMessageIDsDependOnRowNotFile(t *testing.T) {
	a, err := ParseEvents([]byte("time,event,campaign,email\n2024-05-01 10:00,registered,C1,a@b.cn\n"), time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	// Other column order, other case, another file.
	b, err := ParseEvents([]byte("\ufeffEmail,Campaign,Event,Time,Name\nA@B.cn,C1,Register,2024-05-01 10:00,A\n"), time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	ea, eb := a.Rows[0].Events(1, time.Now()), b.Rows[0].Events(1, time.Now())
	if ea[1].MessageID != eb[1].MessageID || ea[1].AnonymousID != eb[1].AnonymousID {
		t.Errorf("touch ids differ: %s %s", ea[1].MessageID, eb[1].MessageID)
	}
	if ea[1].Type != model.EventTrack || ea[1].Name != "Event Registered" || ea[0].Type != model.EventIdentify {
		t.Errorf("events %+v", ea)
	}
	if !strings.Contains(string(ea[1].Payload), `"campaign_code":"C1"`) || !strings.Contains(string(ea[0].Payload), `"email":"a@b.cn"`) {
		t.Errorf("payloads %s %s", ea[0].Payload, ea[1].Payload)
	}
}

func TestParseEventsWatchTime(t *testing.T) {
	f, err := ParseEvents(readTestdata(t, "events_live_zh.csv"), ChinaStandardTime)
	if err != nil {
		t.Fatal(err)
	}
	var got []int64
	for _, r := range f.Rows {
		got = append(got, r.WatchSeconds)
	}
	// 52 minutes, 12.5 minutes, 0:31:20; registrations have none.
	want := []int64{0, 3120, 0, 750, 0, 1880, 0}
	if !slices.Equal(got, want) || f.Rows[1].Kind != "attended" || f.Rows[0].Kind != "registered" {
		t.Errorf("watch seconds %v, want %v (rows %+v)", got, want, f.Rows[:2])
	}
	ev := f.Rows[1].Events(1, time.Now())[1]
	if !strings.Contains(string(ev.Payload), `"watch_seconds":3120`) || ev.Name != "Event Attended" {
		t.Errorf("attendance event %s %s", ev.Name, ev.Payload)
	}
	if ev := f.Rows[0].Events(1, time.Now())[1]; strings.Contains(string(ev.Payload), "watch_seconds") {
		t.Errorf("registration carries a watch time: %s", ev.Payload)
	}
	// The watch time is not part of the touch's identity: the same
	// attendance imported again with a corrected time adds nothing.
	again := f.Rows[1]
	again.WatchSeconds = 60
	if again.Events(1, time.Now())[1].MessageID != ev.MessageID {
		t.Error("the watch time changes the message id")
	}
}

func TestParseWatchTime(t *testing.T) {
	for _, c := range []struct {
		in   string
		secs int64
		err  string
	}{
		{"", 0, ""}, {"--", 0, ""}, {"0", 0, ""}, {"45", 2700, ""}, {"45.5", 2730, ""}, {" 30 ", 1800, ""},
		{"45 min", 2700, ""}, {"45分钟", 2700, ""}, {"45分30秒", 2730, ""}, {"1小时5分", 3900, ""}, {"1小时", 3600, ""},
		{"90秒", 90, ""}, {"0:45:30", 2730, ""}, {"45:30", 2730, ""}, {"1:00:00", 3600, ""},
		{"-5", 0, "negative"}, {"abc", 0, "not a time"}, {"1:2:3:4", 0, "not a time"}, {"4500", 0, "more than 24 hours"},
		{"25小时", 0, "more than 24 hours"}, {"3分abc", 0, "not a time"}, {"NaN", 0, "not a time"},
	} {
		secs, err := parseWatchTime(c.in)
		switch {
		case c.err == "" && (err != nil || secs != c.secs):
			t.Errorf("%q: %d, %v; want %d", c.in, secs, err, c.secs)
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%q: %d, %v; want an error saying %q", c.in, secs, err, c.err)
		}
	}
	// Only attendance rows carry a watch time.
	_, err := ParseEvents([]byte("time,event,campaign,email,watch_minutes\n2026-06-18 14:00,registered,C1,a@b.cn,45\n"), time.UTC)
	var bad *BadRowsError
	if !errors.As(err, &bad) || !strings.Contains(bad.Rows[0].Reason, "only attended rows") {
		t.Errorf("watch time on a registration: %v", err)
	}
}
