package model

import (
	"encoding/json"
	"testing"
)

func TestParseMoney(t *testing.T) {
	cases := []struct {
		in   string
		want Money
		err  bool
	}{
		{"0", 0, false},
		{"1234", 123400, false},
		{"1234.5", 123450, false},
		{"1,234.56", 123456, false},
		{" -0.07 ", -7, false},
		{".5", 50, false},
		{"+3.", 300, false},
		{"1.234", 0, true},
		{"", 0, true},
		{"abc", 0, true},
		{"1e3", 0, true},
		{"-", 0, true},
		{".", 0, true},
		{"99999999999999999999", 0, true},
	}
	for _, c := range cases {
		got, err := ParseMoney(c.in)
		if (err != nil) != c.err || got != c.want {
			t.Errorf("ParseMoney(%q) = %d, %v", c.in, got, err)
		}
	}
}

func TestMoneyJSON(t *testing.T) {
	b, err := json.Marshal(struct{ A, B, C Money }{123456789, -5, 0})
	if err != nil || string(b) != `{"A":1234567.89,"B":-0.05,"C":0.00}` {
		t.Fatalf("%s %v", b, err)
	}
	var v struct{ A Money }
	if err := json.Unmarshal([]byte(`{"A": 10.1}`), &v); err != nil || v.A != 1010 {
		t.Fatalf("%d %v", v.A, err)
	}
	if err := json.Unmarshal([]byte(`{"A": 0.001}`), &v); err == nil {
		t.Fatal("three decimals accepted")
	}
}

func TestParseRole(t *testing.T) {
	if r, err := ParseRole(" Admin "); err != nil || r != RoleAdmin {
		t.Fatalf("%q %v", r, err)
	}
	if _, err := ParseRole("root"); err == nil {
		t.Fatal("unknown role accepted")
	}
}
