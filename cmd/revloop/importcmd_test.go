package main

import (
	"context"
	"strings"
	"testing"

	"github.com/revloop/revloop/internal/importer"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store/storetest"
)

func TestImportAndLinkCommands(t *testing.T) {
	onBothEngines(t, func(t *testing.T, dsn string) {
		env := map[string]string{"REVLOOP_DB": dsn}
		costs := "../../internal/importer/testdata/baidu_keywords_gbk.csv"
		r := revloop(t, "", env, "import", "costs", costs)
		if r.code != 1 || !strings.Contains(r.stderr, `line 4: campaign "品牌词" does not exist on baidu`) || !strings.Contains(r.stderr, "--create-campaigns") {
			t.Errorf("costs, unknown campaigns: %+v", r)
		}
		r = revloop(t, "", env, "import", "costs", costs, "--create-campaigns")
		if r.code != 0 || !strings.Contains(r.stdout, `note: line 4: campaign "品牌词" created as paid_search (platform baidu`) || !strings.Contains(r.stdout, "(baidu layout, gb18030): 5 rows new") || !strings.Contains(r.stdout, "note: line 9: totals row skipped") {
			t.Fatalf("import costs: %+v", r)
		}
		r = revloop(t, "", env, "import", "costs", costs)
		if r.code != 0 || !strings.Contains(r.stdout, "already imported") || !strings.Contains(r.stdout, "nothing changed") {
			t.Errorf("re-import: %+v", r)
		}
		bad := "date,platform,account,campaign,ad_group,keyword,impressions,clicks,cost\n2024-01-01,baidu,a,c,,,x,1,1\n2024-01-02,baidu,a,,,,1,1,1\n"
		r = revloop(t, bad, env, "import", "costs", "-")
		if r.code != 1 || !strings.Contains(r.stderr, "stdin: line 2: impressions") || !strings.Contains(r.stderr, "stdin: line 3: campaign name is empty") ||
			!strings.Contains(r.stderr, "2 bad row(s), nothing imported") {
			t.Errorf("bad rows: %+v", r)
		}
		events := "../../internal/importer/testdata/events.csv"
		if r = revloop(t, "", env, "import", "events", events); r.code != 1 || !strings.Contains(r.stderr, `campaign "EXPO-2024-SH" does not exist`) {
			t.Errorf("events, unknown campaign: %+v", r)
		}
		r = revloop(t, "", env, "import", "events", events, "--create-campaigns", "--tz", "+08:00")
		if r.code != 0 || !strings.Contains(r.stdout, "4 rows new") {
			t.Fatalf("events: %+v", r)
		}
		if r = revloop(t, "", env, "import", "events", "--tz", "CST", events); r.code != 2 {
			t.Errorf("bad --tz: %+v", r)
		}
		if r = revloop(t, "", env, "import", "costs"); r.code != 2 || !strings.Contains(r.stderr, "missing FILE") {
			t.Errorf("no file: %+v", r)
		}

		r = revloop(t, "", env, "link", "create", "--campaign", "EXPO-2024-SH", "--url", "https://expo.example.cn/booth", "--card", "C-7",
			"--base-url", "https://m.example.cn/")
		lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
		short := lines[len(lines)-1]
		if r.code != 0 || !strings.HasPrefix(short, "https://m.example.cn/r/") || len(short) != len("https://m.example.cn/r/")+8 {
			t.Fatalf("link create: %+v", r)
		}
		if r = revloop(t, "", env, "link", "create", "--campaign", "EXPO-2024-SH", "--url", "javascript:alert(1)"); r.code != 2 || !strings.Contains(r.stderr, "http://") {
			t.Errorf("bad url: %+v", r)
		}
		r = revloop(t, "", env, "link", "list")
		if r.code != 0 || !strings.Contains(r.stdout, "EXPO-2024-SH") || !strings.Contains(r.stdout, "C-7") || !strings.Contains(r.stdout, "active") {
			t.Errorf("link list: %+v", r)
		}
		code := short[strings.LastIndex(short, "/")+1:]
		if r = revloop(t, "", env, "link", "revoke", "--code", code); r.code != 0 {
			t.Errorf("revoke: %+v", r)
		}
		if r = revloop(t, "", env, "link", "list", "--campaign", "EXPO-2024-SH"); !strings.Contains(r.stdout, "revoked") {
			t.Errorf("after revoke: %+v", r)
		}
	})
}

func TestImportWhileAnotherRuns(t *testing.T) {
	env := map[string]string{"REVLOOP_DB": storetest.SQLiteDSN(t)}
	s, err := openStore(context.Background(), env["REVLOOP_DB"])
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.CreateJob(context.Background(), model.Job{Kind: "import.costs", LockName: importer.ImportLock, State: model.JobRunning}); err != nil {
		t.Fatal(err)
	}
	r := revloop(t, "", env, "import", "costs", "../../internal/importer/testdata/generic.csv", "--create-campaigns")
	if r.code != 1 || !strings.Contains(r.stderr, "another import is running") {
		t.Fatalf("import while another runs: %+v", r)
	}
}
