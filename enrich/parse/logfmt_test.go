package parse

import (
	"math/rand/v2"
	"strings"
	"testing"
)

func TestLogfmt(t *testing.T) {
	checkParse(t, builtin(t, "logfmt"), []parseCase{
		{ // slog's TextHandler.
			`time=2024-03-14T09:07:51.123Z level=INFO msg="request done" method=GET path=/api/v1/items status=200 took=1.52ms`,
			`{"time":"2024-03-14T09:07:51.123Z","level":"INFO","msg":"request done","method":"GET","path":"/api/v1/items","status":"200","took":"1.52ms"}`,
		},
		{ // Heroku's router.
			`at=info method=GET path="/" host=example.herokuapp.com fwd="204.204.204.204" dyno=web.1 connect=1ms status=200`,
			`{"at":"info","method":"GET","path":"/","host":"example.herokuapp.com","fwd":"204.204.204.204","dyno":"web.1","connect":"1ms","status":"200"}`,
		},
		{ // A bare key is true, key= is "", a repeated key keeps its last value at its first position.
			`a=1 debug b= a=2`,
			`{"a":"2","debug":true,"b":""}`,
		},
		{`  a=1   b=2  `, `{"a":"1","b":"2"}`},
		{"a=1\tb=2\r", `{"a":"1","b":"2"}`},
		{ // '=' in an unquoted value (base64 padding).
			`token=YWJjZA== x=1`,
			`{"token":"YWJjZA==","x":"1"}`,
		},
		{ // Go (strconv.Quote) and JSON escapes.
			`msg="say \"hi\"\n\tand \\ go" u="\u00e9\U0001F600\x41\101\/" s="\ud83d\ude00 \ud800" b="\xff"`,
			`{"msg":"say \"hi\"\n\tand \\ go","u":"é😀AA/","s":"😀 ` + "\uFFFD" + `","b":"` + "\uFFFD" + `"}`,
		},
		{"k=\xff v=\"a\x01b\" \xfe=1", `{"k":"` + "\uFFFD" + `","v":"a\u0001b","` + "\uFFFD" + `":"1"}`},
		{ // Two different invalid keys are the same key once written.
			"\xff=1 \xfe=2", `{"` + "\uFFFD" + `":"2"}`,
		},
		{`é=1 ключ="значение"`, `{"é":"1","ключ":"значение"}`},
		{`a=<b>&c=d`, `{"a":"<b>&c=d"}`},
		{`k=""`, `{"k":""}`},
		{`Hello world`, refused},
		{`Hello`, refused},
		{``, refused},
		{` `, refused},
		{`msg="unterminated`, refused},
		{`msg="bad escape \q"`, refused},
		{`msg="ends with backslash\`, refused},
		{`a="b"c`, refused},
		{`=v`, refused},
		{`a ="v"`, refused},
		{`a"b=c`, refused},
		{`a=b"c`, refused},
		{`"quoted"=1`, refused},
	})
}

func TestLogfmtManyPairs(t *testing.T) {
	// More pairs than the stack holds: the map path, with the same results.
	var line, want strings.Builder
	want.WriteString("{")
	for i := range 3 * stackPairs {
		k := string(rune('a'+i%26)) + strings.Repeat("x", i/26)
		line.WriteString(k + "=1 ")
		if i > 0 {
			want.WriteString(",")
		}
		want.WriteString(`"` + k + `":"` + map[bool]string{true: "2", false: "1"}[i%5 == 0] + `"`)
	}
	for i := range 3 * stackPairs {
		if i%5 == 0 {
			k := string(rune('a'+i%26)) + strings.Repeat("x", i/26)
			line.WriteString(k + "=2 ")
		}
	}
	want.WriteString("}")
	checkParse(t, builtin(t, "logfmt"), []parseCase{{line.String(), want.String()}})
}

// TestLogfmtRoundTrip is the fuzz target's round trip on random maps, so that plain test runs cover it.
func TestLogfmtRoundTrip(t *testing.T) {
	p := builtin(t, "logfmt")
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []rune("ab=\" \\\t\n\x00\x01\x7féλ😀\u2028\uFFFD")
	text := func(n int) string {
		r := make([]rune, rng.IntN(n))
		for i := range r {
			r[i] = alphabet[rng.IntN(len(alphabet))]
		}
		return string(r)
	}
	for range 2000 {
		kvs := make([]string, 2*rng.IntN(2*stackPairs))
		for i := range kvs {
			kvs[i] = text(8)
		}
		if rng.IntN(10) == 0 {
			kvs = append(kvs, "\xff\xfe", "in\xc3valid")
		}
		checkLogfmtRoundTrip(t, p, kvs)
	}
}
