package identity

import (
	"errors"
	"strings"
	"testing"

	"github.com/revloop/revloop/internal/model"
)

func TestJunkValuesNeverLink(t *testing.T) {
	n := Normaliser{}
	junk := []string{"", " ", "null", "NULL", "undefined", "Undefined", "anonymous", "0", "-1", "unknown", "nil", "none",
		"n/a", "NaN", "[object Object]", "{}", "test", "00000000-0000-0000-0000-000000000000", "\x00null\x00", "\u200bnull"}
	for _, typ := range Types {
		for _, v := range junk {
			if got, err := n.Normalise(typ, v); err == nil {
				t.Errorf("%s %q accepted as %q", typ, v, got)
			}
		}
	}
	for _, c := range []struct {
		typ model.IdentityType
		v   string
	}{
		{model.IdentityEmail, "test@test.com"},
		{model.IdentityEmail, "TEST@Test.COM"},
		{model.IdentityEmail, "a@a.com"},
		{model.IdentityEmail, "qq@qq.com"},
		{model.IdentityEmail, "123@123.com"},
		{model.IdentityEmail, "someone@example.com"},
		{model.IdentityEmail, "noreply@acme.cn"},
		{model.IdentityEmail, "xxx@acme.cn"},
		{model.IdentityEmail, "aaaa@acme.cn"},
		{model.IdentityEmail, "john@mailinator.com"},
		{model.IdentityEmail, "not-an-email"},
		{model.IdentityEmail, "a@b"},
		{model.IdentityEmail, "two@@x.cn"},
		{model.IdentityPhone, "11111111111"},
		{model.IdentityPhone, "00000000000"},
		{model.IdentityPhone, "13800138000"},
		{model.IdentityPhone, "12345678901"},
		{model.IdentityPhone, "123"},
		{model.IdentityPhone, "abc"},
		{model.IdentityPhone, "+86 188 8888 8888"},
		{model.IdentityUserID, "000000"},
		{model.IdentityWeChatUnion, "xxxxxxxx"},
		{model.IdentityWeChatUnion, "o6_b with space"},
		{model.IdentityWeChatOpenID, "oABCdef"},         // no app id
		{model.IdentityWeChatOpenID, "wx123:undefined"}, // junk OpenID
		{model.IdentityWeChatOpenID, ":oABC"},
		{model.IdentityUserID, strings.Repeat("x", 100) + strings.Repeat("y", 200)},
	} {
		if got, err := n.Normalise(c.typ, c.v); err == nil {
			t.Errorf("%s %q accepted as %q", c.typ, c.v, got)
		}
	}
	if _, err := n.Normalise(model.IdentityEmail, "test@test.com"); !errors.Is(err, ErrJunk) {
		t.Errorf("placeholder email error %v is not ErrJunk", err)
	}
}

func TestNormalise(t *testing.T) {
	cn := Normaliser{}
	sg := Normaliser{PhoneRegion: "SG"}
	cases := []struct {
		n    Normaliser
		typ  model.IdentityType
		in   string
		want string
	}{
		{cn, model.IdentityEmail, "  Foo@X.cn ", "foo@x.cn"},
		{cn, model.IdentityEmail, "Li.Lei+news@Acme.COM.CN", "li.lei+news@acme.com.cn"},
		{cn, model.IdentityEmail, "mailto:wang@acme.cn", "wang@acme.cn"},
		{cn, model.IdentityPhone, "138 1234 5679", "+8613812345679"},
		{cn, model.IdentityPhone, "+86-138-1234-5679", "+8613812345679"},
		{cn, model.IdentityPhone, "008613812345679", "+8613812345679"},
		{cn, model.IdentityPhone, "(010) 6552 9988", "+861065529988"},
		{cn, model.IdentityPhone, "+1 415 555 2671", "+14155552671"},
		{sg, model.IdentityPhone, "9123 4567", "+6591234567"},
		{sg, model.IdentityPhone, "+86 13812345679", "+8613812345679"},
		{cn, model.IdentityUserID, " u-42 ", "u-42"},
		{cn, model.IdentityUserID, "1", "1"},
		{cn, model.IdentityAnonymousID, "4f9c1b2a-7d3e", "4f9c1b2a-7d3e"},
		{cn, model.IdentityWeChatUnion, " o6_bmasdasdsad6_2sgVt7hMZOPfL ", "o6_bmasdasdsad6_2sgVt7hMZOPfL"},
		{cn, model.IdentityWeChatOpenID, "wx8888:oAbC123", "wx8888:oAbC123"},
		{cn, model.IdentityWeChatOpenID, " wx8888 : oAbC123 ", "wx8888:oAbC123"},
		{cn, model.IdentityWeComID, "wmABC123", "wmABC123"},
		{cn, model.IdentityCRMID, "SF-0031", "SF-0031"},
	}
	for _, c := range cases {
		got, err := c.n.Normalise(c.typ, c.in)
		if err != nil || got != c.want {
			t.Errorf("%s %q (region %q): got %q, %v; want %q", c.typ, c.in, c.n.PhoneRegion, got, err, c.want)
		}
	}
	// Mixed case matters for case-sensitive ids.
	if a, _ := cn.Normalise(model.IdentityUserID, "ABC"); a != "ABC" {
		t.Errorf("user id case changed: %q", a)
	}
}

func TestParseType(t *testing.T) {
	for _, typ := range Types {
		if got, err := ParseType(" " + strings.ToUpper(string(typ)) + " "); err != nil || got != typ {
			t.Errorf("%s: %v %v", typ, got, err)
		}
	}
	_, err := ParseType("mail")
	if err == nil || !strings.Contains(err.Error(), "anonymous_id") || !strings.Contains(err.Error(), "wecom_external_userid") {
		t.Fatalf("error does not list the valid types: %v", err)
	}
}

func TestBusinessDomain(t *testing.T) {
	for _, free := range []string{"qq.com", "163.com", "126.com", "gmail.com", "outlook.com", "hotmail.com", "sina.com", "foxmail.com", "yeah.net", "139.com", "aliyun.com"} {
		if d := BusinessDomain("someone@" + free); d != "" {
			t.Errorf("%s is free mail, got business domain %q", free, d)
		}
	}
	if d := BusinessDomain("li@acme.com.cn"); d != "acme.com.cn" {
		t.Errorf("business domain: %q", d)
	}
	for in, want := range map[string]string{
		"https://www.Acme.cn/about": "acme.cn", "acme.cn": "acme.cn", "ACME.CN.": "acme.cn", "sales@acme.cn": "acme.cn",
		"acme": "", "": "", "http://acme.cn:8080/x": "acme.cn",
	} {
		if got := NormaliseDomain(in); got != want {
			t.Errorf("NormaliseDomain(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestIdentifiersFromMessage(t *testing.T) {
	ev := &model.Event{Type: model.EventIdentify, UserID: "u1", AnonymousID: "a1", Payload: []byte(`{
		"traits": {"Email": " Li@Acme.cn ", "mobile": 13812345679, "unionId": "o6_union", "openid": "oOpen", "appId": "wxAPP",
			"external_userid": "wmEXT", "crm_id": "SF-1", "name": "null"},
		"context": {"externalIds": [{"id": "SF-1", "type": "crm_id"}, {"id": "x", "type": "bogus"}]}}`)}
	ids, dropped := Normaliser{}.Identifiers(ev, ParseMessage(ev))
	want := []string{"user_id:u1", "crm_id:SF-1", "wechat_unionid:o6_union", "wecom_external_userid:wmEXT",
		"wechat_openid:wxAPP:oOpen", "email:li@acme.cn", "phone:+8613812345679", "anonymous_id:a1"}
	if len(ids) != len(want) {
		t.Fatalf("got %v (dropped %v), want %v", ids, dropped, want)
	}
	for i := range want {
		if ids[i].String() != want[i] {
			t.Errorf("identifier %d: %s, want %s", i, ids[i], want[i])
		}
	}
	// Group traits describe the company, never the person.
	g := &model.Event{Type: model.EventGroup, UserID: "u1", GroupID: "g1", Payload: []byte(`{"traits":{"email":"info@acme.cn","name":"Acme"}}`)}
	ids, _ = Normaliser{}.Identifiers(g, ParseMessage(g))
	if len(ids) != 1 || ids[0].Type != model.IdentityUserID {
		t.Fatalf("group identifiers: %v", ids)
	}
}

func FuzzNormalise(f *testing.F) {
	for _, s := range []string{"Foo@X.cn", "+86 138 1234 5679", "wx1:o1", "null", "\xff\xfe", "00861", "a@b@c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		for _, typ := range Types {
			v, err := Normaliser{}.Normalise(typ, raw)
			if err != nil {
				continue
			}
			if v == "" || len(v) > maxValueLength {
				t.Fatalf("%s %q normalised to %q", typ, raw, v)
			}
			// Normalising is idempotent: a stored value finds itself.
			again, err := Normaliser{}.Normalise(typ, v)
			if err != nil || again != v {
				t.Fatalf("%s %q: %q normalises again to %q, %v", typ, raw, v, again, err)
			}
		}
	})
}
