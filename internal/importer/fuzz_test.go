package importer

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func addTestdataSeeds(f *testing.F, match func(string) bool) {
	names, err := filepath.Glob(filepath.Join("testdata", "*"))
	if err != nil {
		f.Fatal(err)
	}
	for _, n := range names {
		if !match(filepath.Base(n)) {
			continue
		}
		b, err := os.ReadFile(n)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// FuzzImportCosts feeds the cost parser arbitrary files: it must never
// panic, and what it accepts must be sane.
func FuzzImportCosts(f *testing.F) {
	addTestdataSeeds(f, func(n string) bool { return !strings.HasPrefix(n, "events") })
	for _, s := range []string{
		"date,platform,account,campaign,ad_group,keyword,impressions,clicks,cost\n2024-05-01,baidu,a,c,g,k,1,1,1.005\n",
		"日期,账户,推广计划,推广单元,关键词,展现,点击,消费\n合计,,,,,1,1,1\n",
		"Day\tAccount\tCampaign\tAd group\tKeyword\tImpr.\tClicks\tCost\n2024-05-01\ta\tc\tg\tk\t1\t1\t99999999999999.999\n",
		"\"unterminated,\n", "\xef\xbb\xbf", "\xff\xfe\x00\x00",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cf, err := ParseCosts(data)
		if err != nil {
			var bad *BadRowsError
			if errors.As(err, &bad) && (bad.Total == 0 || len(bad.Rows) > maxErrors || bad.Rows[0].Line < 1) {
				t.Fatalf("bad rows error without rows or lines: %+v", bad)
			}
			return
		}
		if len(cf.Rows) == 0 {
			t.Fatal("accepted a file without rows")
		}
		for _, r := range cf.Rows {
			if r.Cost < 0 || r.Impressions < 0 || r.Clicks < 0 || r.Campaign == "" || r.Platform == "" || r.Line < 1 {
				t.Fatalf("insane row %+v", r)
			}
			if r.Day.Year() < 2000 || r.Day.Year() > 2100 {
				t.Fatalf("day %v", r.Day)
			}
		}
	})
}

// FuzzImportEvents does the same for offline events, and checks that every
// accepted row names a person and yields two events.
func FuzzImportEvents(f *testing.F) {
	addTestdataSeeds(f, func(n string) bool { return strings.HasPrefix(n, "events") })
	for _, s := range []string{
		"time,event,campaign,email\n2024-05-01 10:00,registered,C,a@b.cn\n",
		"time,event,campaign,phone\n2024-05-01,签到,C,+86 138\n",
		"time,event,campaign,user_id\n2024-05-01T10:00:00+08:00,attended,C,u1\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ef, err := ParseEvents(data, ChinaStandardTime)
		if err != nil {
			return
		}
		for _, r := range ef.Rows {
			if r.Email == "" && r.Phone == "" && r.UnionID == "" && r.UserID == "" {
				t.Fatalf("row without a person: %+v", r)
			}
			if _, ok := eventKinds[r.Kind]; !ok || r.Campaign == "" {
				t.Fatalf("row %+v", r)
			}
			evs := r.Events(1, time.Unix(0, 0))
			if len(evs) != 2 || evs[0].MessageID == evs[1].MessageID || evs[1].AnonymousID == "" {
				t.Fatalf("events %+v", evs)
			}
		}
	})
}

// FuzzImportWideRows builds files with wide headers and rows (up to
// thousands of columns, quoted or not, comma or tab separated): the parsers
// must refuse more than MaxColumns with the column error, never panic, and
// accept what fits.
func FuzzImportWideRows(f *testing.F) {
	f.Add(uint16(9), uint16(0), false, "c")
	f.Add(uint16(200), uint16(0), false, "")
	f.Add(uint16(201), uint16(0), false, "cost")
	f.Add(uint16(5000), uint16(3), true, `"a,b"`)
	f.Add(uint16(250), uint16(260), false, "x")
	f.Fuzz(func(t *testing.T, headerCols, rowCols uint16, tabs bool, cell string) {
		if len(cell) > 100 {
			cell = cell[:100]
		}
		sep := ","
		if tabs {
			sep = "\t"
		}
		extra := func(n uint16) string {
			if n == 0 {
				return ""
			}
			return sep + strings.Repeat(cell+sep, int(n)-1) + cell
		}
		header := strings.Join([]string{"date", "platform", "account", "campaign", "ad_group", "keyword", "impressions", "clicks", "cost"}, sep)
		row := strings.Join([]string{"2024-05-01", "baidu", "a", "c", "g", "k", "1", "1", "1"}, sep)
		data := []byte(header + extra(headerCols) + "\n" + row + extra(rowCols) + "\n")
		for _, parse := range []func([]byte) error{
			func(b []byte) error { _, err := ParseCosts(b); return err },
			func(b []byte) error { _, err := ParseEvents(b, ChinaStandardTime); return err },
		} {
			err := parse(data)
			// A quoted cell may hide delimiters; columns are what the CSV says.
			if plain(cell) && (9+int(headerCols) > MaxColumns || 9+int(rowCols) > MaxColumns) {
				if err == nil || !strings.Contains(err.Error(), "columns; a file may have at most") {
					t.Fatalf("%d+%d columns: %v", headerCols, rowCols, err)
				}
			}
		}
	})
}

// plain says whether a cell is printable ASCII without quotes, so that the
// columns of a row are its delimiters.
func plain(cell string) bool {
	for i := 0; i < len(cell); i++ {
		if c := cell[i]; c < 0x20 || c > 0x7e || c == '"' || c == ',' {
			return false
		}
	}
	return true
}
