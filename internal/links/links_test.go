package links

import (
	"bytes"
	"encoding/xml"
	"image/png"
	"net/url"
	"strings"
	"testing"
)

func TestParseTarget(t *testing.T) {
	for _, ok := range []string{"https://example.cn/landing?a=1#top", "http://127.0.0.1:8080/x", "https://例子.中国/页面"} {
		if _, err := ParseTarget(ok); err != nil {
			t.Errorf("ParseTarget(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"", "javascript:alert(1)", "//evil.example/x", "/relative", "ftp://x.cn/", "https://user:pw@x.cn/",
		"https:///nohost", "https://x.cn/a b", "https://x.cn/\x00", "data:text/html,hi", "https://x.cn\\@evil.example/", "https://x.cn:99999/",
		"mailto:a@b.cn", "https://" + strings.Repeat("a", MaxURL)} {
		if _, err := ParseTarget(bad); err == nil {
			t.Errorf("ParseTarget(%q) accepted", bad)
		}
	}
}

func TestLanding(t *testing.T) {
	utm := UTM{Source: "wechat", Medium: "employee_sharing", Campaign: "EXPO-2024", Content: "海报 A"}
	for _, tc := range []struct{ target, aid, want string }{
		{"https://x.cn/p", "aid-12345678", "https://x.cn/p?utm_source=wechat&utm_medium=employee_sharing&utm_campaign=EXPO-2024&utm_content=%E6%B5%B7%E6%8A%A5+A&rl_aid=aid-12345678"},
		// Parameters the target already has win, and keep their place and encoding.
		{"https://x.cn/p?b=2&utm_source=baidu&a=%20#form", "", "https://x.cn/p?b=2&utm_source=baidu&a=%20&utm_medium=employee_sharing&utm_campaign=EXPO-2024&utm_content=%E6%B5%B7%E6%8A%A5+A#form"},
	} {
		u, err := ParseTarget(tc.target)
		if err != nil {
			t.Fatal(err)
		}
		if got := Landing(u, utm, tc.aid); got != tc.want {
			t.Errorf("Landing(%s)\n got %s\nwant %s", tc.target, got, tc.want)
		}
	}
}

func TestCodes(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		c := NewCode()
		if !ValidCode(c) || len(c) != 8 || strings.ContainsAny(c, "0O1lI") || seen[c] {
			t.Fatalf("code %q", c)
		}
		seen[c] = true
	}
	for _, bad := range []string{"", "abc", "a/b/c/d", "../../x", strings.Repeat("a", 33), "ab cd"} {
		if ValidCode(bad) {
			t.Errorf("ValidCode(%q)", bad)
		}
	}
	if id := NewAnonymousID(); !ValidAnonymousID(id) || len(id) != 36 {
		t.Errorf("anonymous id %q", id)
	}
}

func TestQRPNG(t *testing.T) {
	b, err := QRPNG("https://r.example.cn/r/AbCd2345", 4)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	size := img.Bounds().Dx()
	modules := size / 4
	if size != img.Bounds().Dy() || size%4 != 0 || (modules-2*quiet-21)%4 != 0 {
		t.Fatalf("image %v is not a square QR code of whole modules", img.Bounds())
	}
	dark := func(mx, my int) bool {
		r, _, _, _ := img.At(mx*4+1, my*4+1).RGBA()
		return r < 0x8000
	}
	// The quiet zone is white; each corner but the bottom right has a
	// finder pattern: a dark 7×7 ring around a white ring around a dark 3×3.
	for i := 0; i < modules; i++ {
		if dark(i, 0) || dark(0, i) || dark(i, modules-1) || dark(modules-1, i) {
			t.Fatal("quiet zone is not white")
		}
	}
	n := modules - 2*quiet
	for _, c := range [][2]int{{quiet, quiet}, {quiet + n - 7, quiet}, {quiet, quiet + n - 7}} {
		for y := 0; y < 7; y++ {
			for x := 0; x < 7; x++ {
				ring := x == 0 || y == 0 || x == 6 || y == 6
				centre := x >= 2 && x <= 4 && y >= 2 && y <= 4
				if want := ring || centre; dark(c[0]+x, c[1]+y) != want {
					t.Fatalf("finder at %v: module (%d,%d) dark=%v", c, x, y, !want)
				}
			}
		}
	}
}

func TestQRSVG(t *testing.T) {
	b, err := QRSVG("https://r.example.cn/r/AbCd2345")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		XMLName xml.Name
		ViewBox string `xml:"viewBox,attr"`
		Path    struct {
			D string `xml:"d,attr"`
		} `xml:"path"`
	}
	if err := xml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.XMLName.Local != "svg" || !strings.HasPrefix(doc.ViewBox, "0 0 ") || strings.Count(doc.Path.D, "M") < 50 {
		t.Errorf("svg %s", b[:120])
	}
}

func TestParsePixel(t *testing.T) {
	p, err := ParsePixel(url.Values{"k": {"wk1"}, "aid": {"a-123"}, "c": {"NURTURE-1"}, "mid": {"m1"}})
	if err != nil || p.Event != "Email Opened" || p.UTM.Campaign != "NURTURE-1" || p.MessageID != "m1" {
		t.Errorf("%+v, %v", p, err)
	}
	for _, tc := range []struct {
		q      url.Values
		reason string
	}{
		{url.Values{"aid": {"a"}}, "no_write_key"},
		{url.Values{"k": {"wk"}}, "no_identity"},
		{url.Values{"k": {"wk"}, "uid": {strings.Repeat("u", 201)}}, "too_long"},
		{url.Values{"k": {"wk"}, "uid": {"u\x01"}}, "bad_value"},
		{url.Values{"k": {"wk"}, "uid": {"u"}, "utm_source": {"x\x01y"}}, "bad_value"},
	} {
		_, err := ParsePixel(tc.q)
		pe, ok := err.(*PixelError)
		if !ok || pe.Reason != tc.reason {
			t.Errorf("ParsePixel(%v) = %v, want reason %s", tc.q, err, tc.reason)
		}
	}
}
