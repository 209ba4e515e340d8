package parse

import (
	"errors"
	"strings"
	"testing"
)

func TestNewRegex(t *testing.T) {
	p, err := NewRegex("typed", `^(?P<n>\S+) (?P<f>\S+) (?P<b>\S+) (?<s>\S+)(?: (\d+))?$`,
		map[string]string{"n": "integer", "f": "float", "b": "bool", "s": "string"})
	if err != nil {
		t.Fatal(err)
	}
	if p.Name() != "typed" {
		t.Errorf("Name() = %q; want typed", p.Name())
	}
	checkParse(t, p, []parseCase{
		{`42 1.50 true x`, `{"n":42,"f":1.50,"b":true,"s":"x"}`},
		{`-7 -2e-3 false 9`, `{"n":-7,"f":-2e-3,"b":false,"s":"9"}`},
		{`+07 .5 T x 123`, `{"n":7,"f":0.5,"b":true,"s":"x"}`},      // the unnamed group is not a field
		{`0x10 1_0 yes x`, `{"n":"0x10","f":10,"b":"yes","s":"x"}`}, // floats as strconv.ParseFloat reads them
		{`99999999999999999999 1e400 0 x`, `{"n":"99999999999999999999","f":"1e400","b":false,"s":"x"}`},
		{`1.0 NaN 1 x`, `{"n":"1.0","f":"NaN","b":true,"s":"x"}`},
		{`1 Inf 1 x`, `{"n":1,"f":"Inf","b":true,"s":"x"}`},
		{`1 0x1p-2 1 x`, `{"n":1,"f":0.25,"b":true,"s":"x"}`},
		{`1 2 3`, refused},
	})

	// Not anchored unless the expression says so; empty and absent groups are left out.
	p, err = NewRegex("loose", `(?P<a>b+)(?P<empty>x*)(?:-(?P<c>c))?`, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkParse(t, p, []parseCase{
		{`aabbbyy`, `{"a":"bbb"}`},
		{`bb-c`, `{"a":"bb","c":"c"}`},
		{"\xffb\"\\\n", `{"a":"b"}`},
		{`yy`, refused},
	})
	p, err = NewRegex("all", `^(?P<all>.*)$`, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkParse(t, p, []parseCase{
		{"", `{}`},
		{"q\"\\\x01\xff<>&\u2028", `{"all":"q\"\\\u0001` + "\uFFFD" + `<>&` + "\u2028" + `"}`},
	})
}

func TestNewRegexErrors(t *testing.T) {
	for _, c := range []struct {
		name, expr string
		types      map[string]string
		want       error  // errors.Is, or nil to only check the message
		msg        string // in the message
	}{
		{"", `(?P<a>x)`, nil, errNoName, "name is empty"},
		{"p", `(?P<a>x`, nil, nil, "missing closing )"},
		{"p", `(?P<a-b>x)`, nil, nil, "invalid named capture"},
		{"p", `(x)(y)`, nil, errNoNamedGroup, "no named group"},
		{"p", `x`, nil, errNoNamedGroup, `parser "p"`},
		{"p", `(?P<a>x)(?P<a>y)`, nil, errDuplicateGroup, `group "a"`},
		{"p", `(?P<a>x)`, map[string]string{"a": "int"}, errUnknownType, `type "int"`},
		{"p", `(?P<a>x)`, map[string]string{"a": ""}, errUnknownType, `field "a"`},
		{"p", `(?P<a>x)`, map[string]string{"b": "integer"}, errNoSuchGroup, `field "b"`},
		{"p", `(?P<a>x)(y)`, map[string]string{"A": "integer"}, errNoSuchGroup, `field "A"`},
	} {
		p, err := NewRegex(c.name, c.expr, c.types)
		if err == nil {
			t.Errorf("NewRegex(%q, %q, %v) = %v; want an error", c.name, c.expr, c.types, p.Name())
			continue
		}
		if c.want != nil && !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("NewRegex(%q, %q, %v) error = %q; want %v, saying %q", c.name, c.expr, c.types, err, c.want, c.msg)
		}
	}
}
