package importer

import (
	"bytes"
	"encoding/csv"
	"slices"
	"sort"
	"unicode"
)

// Column is one column a kind of file may have, as the import page's help
// and sample files show it. They are read from the same aliases the
// importer matches headers with, so that a column added to the importer
// shows in the help and the samples without more work.
type Column struct {
	Field    string   `json:"field"`
	Required bool     `json:"required"`
	OneOf    string   `json:"one_of,omitempty"` // a group of which at least one is required ("identifier")
	Names    []string `json:"names"`            // the header names accepted
}

// usual orders the known fields of each kind; fields the importer learns
// later follow, in alphabetical order.
var usual = map[string][]string{
	"costs":  {"date", "platform", "account", "campaign", "ad_group", "keyword", "impressions", "clicks", "cost", "currency"},
	"events": {"time", "event", "campaign", "email", "phone", "unionid", "user_id", "name", "company", "title"},
}

// identifiers are the event columns of which a file needs one.
var identifiers = []string{"email", "phone", "unionid", "user_id"}

// Columns lists the columns of a kind of file: "costs" (the generic
// layout; a platform's own export is read as it is, see CostLayouts) or
// "events". Unknown kinds have none.
func Columns(kind string) []Column {
	var aliases map[string][]string
	var required []string
	switch kind {
	case "costs":
		for _, l := range CostLayouts {
			if l.Name == "generic" {
				aliases, required = l.Aliases, l.Required
			}
		}
	case "events":
		aliases, required = eventAliases, []string{"time", "event", "campaign"}
	default:
		return nil
	}
	fields := make([]string, 0, len(aliases))
	for f := range aliases {
		fields = append(fields, f)
	}
	order := usual[kind]
	sort.Slice(fields, func(i, j int) bool {
		a, b := slices.Index(order, fields[i]), slices.Index(order, fields[j])
		switch {
		case a >= 0 && b >= 0:
			return a < b
		case a >= 0 || b >= 0:
			return a >= 0
		}
		return fields[i] < fields[j]
	})
	out := make([]Column, 0, len(fields))
	for _, f := range fields {
		c := Column{Field: f, Required: slices.Contains(required, f), Names: slices.Clone(aliases[f])}
		if kind == "events" && slices.Contains(identifiers, f) {
			c.OneOf = "identifier"
		}
		out = append(out, c)
	}
	return out
}

// HeaderName is the name a sample file gives a column in a language:
// the first accepted name in Chinese for "zh-CN", else the first in
// English.
func (c Column) HeaderName(lang string) string {
	if lang == "zh-CN" {
		for _, n := range c.Names {
			if hasHan(n) {
				return n
			}
		}
	}
	for _, n := range c.Names {
		if !hasHan(n) {
			return n
		}
	}
	if len(c.Names) > 0 {
		return c.Names[0]
	}
	return c.Field
}

func hasHan(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			return true
		}
	}
	return false
}

// sampleValues are two example rows per field and language; a field
// without examples is left empty in the samples.
var sampleValues = map[string]map[string][2]string{
	"zh-CN": {
		"date": {"2026-05-01", "2026-05-01"}, "platform": {"百度", "巨量引擎"}, "account": {"品牌账户", "信息流账户"},
		"campaign": {"品牌词", "春季新品"}, "ad_group": {"产品词", "华东-白领"}, "keyword": {"营销自动化", ""},
		"impressions": {"1200", "56000"}, "clicks": {"36", "410"}, "cost": {"356.80", "2310.00"}, "currency": {"CNY", "CNY"},
		"time": {"2026-05-18 09:30", "2026-05-18 10:05"}, "event": {"报名", "签到"},
		"email": {"li.na@example.cn", ""}, "phone": {"", "13800138000"}, "name": {"李娜", "王伟"},
		"company": {"云启数据", "华信制造"}, "title": {"市场总监", "IT 经理"},
	},
	"en": {
		"date": {"2026-05-01", "2026-05-01"}, "platform": {"baidu", "oceanengine"}, "account": {"Brand account", "Feed account"},
		"campaign": {"Brand terms", "Spring launch"}, "ad_group": {"Product terms", "East China"}, "keyword": {"marketing automation", ""},
		"impressions": {"1200", "56000"}, "clicks": {"36", "410"}, "cost": {"356.80", "2310.00"}, "currency": {"CNY", "CNY"},
		"time": {"2026-05-18 09:30", "2026-05-18 10:05"}, "event": {"registered", "checked_in"},
		"email": {"li.na@example.cn", ""}, "phone": {"", "13800138000"}, "name": {"Li Na", "Wang Wei"},
		"company": {"Yunqi Data", "Huaxin Manufacturing"}, "title": {"Marketing Director", "IT Manager"},
	},
}

// eventSampleCampaign is the campaign the event sample's rows name.
const eventSampleCampaign = "EXPO-2026-SH"

// Sample is a small file of kind ("costs" or "events") with every column
// the importer reads and two example rows, its headers in lang ("zh-CN"
// or "en"): UTF-8 with a byte order mark, so that Excel opens it as
// such. Columns without an example are left empty.
func Sample(kind, lang string) []byte {
	if lang != "zh-CN" {
		lang = "en"
	}
	cols := Columns(kind)
	var buf bytes.Buffer
	buf.WriteString("\uFEFF")
	w := csv.NewWriter(&buf)
	w.UseCRLF = true
	head := make([]string, len(cols))
	for i, c := range cols {
		head[i] = c.HeaderName(lang)
	}
	w.Write(head)
	for r := 0; r < 2; r++ {
		row := make([]string, len(cols))
		for i, c := range cols {
			row[i] = sampleValues[lang][c.Field][r]
			if kind == "events" && c.Field == "campaign" {
				row[i] = eventSampleCampaign
			}
		}
		w.Write(row)
	}
	w.Flush()
	return buf.Bytes()
}
