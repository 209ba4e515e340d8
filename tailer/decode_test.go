package tailer

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestParseTime(t *testing.T) {
	want := time.Date(2026, 11, 26, 14, 2, 3, 123456789, time.UTC)
	tests := []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"2026-11-26T14:02:03.123456789Z", want, true},
		{"2026-11-26T14:02:03.123456789+00:00", want, true},
		{"2026-11-26T16:02:03.123456789+02:00", want, true},
		{"2026-11-26T09:02:03.123456789-05:00", want, true},
		{"2026-11-26T14:02:03.1Z", time.Date(2026, 11, 26, 14, 2, 3, 100000000, time.UTC), true},
		{"2026-11-26T14:02:03Z", time.Date(2026, 11, 26, 14, 2, 3, 0, time.UTC), true},
		{"2024-02-29T00:00:00Z", time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC), true},
		{"1969-12-31T23:59:59.5Z", time.Date(1969, 12, 31, 23, 59, 59, 500000000, time.UTC), true},
		{"2023-02-29T00:00:00Z", time.Time{}, false},
		{"2026-11-26T14:02:03.Z", time.Time{}, false},
		{"2026-11-26T14:02:03.1234567891Z", time.Time{}, false},
		{"2026-11-26 14:02:03Z", time.Time{}, false},
		{"2026-11-26T14:02:03", time.Time{}, false},
		{"2026-11-26T14:02:03+0000", time.Time{}, false},
		{"2026-13-26T14:02:03Z", time.Time{}, false},
		{"2026-11-26T24:02:03Z", time.Time{}, false},
		{"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00", time.Time{}, false},
	}
	for _, tt := range tests {
		got, ok := parseTime([]byte(tt.in))
		if ok != tt.ok || !got.Equal(tt.want) {
			t.Errorf("parseTime(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
		if ok {
			if std, err := time.Parse(time.RFC3339Nano, tt.in); err != nil || !std.Equal(got) {
				t.Errorf("parseTime(%q) = %v; time.Parse says %v, %v", tt.in, got, std, err)
			}
		}
	}
}

func TestParseCRI(t *testing.T) {
	ts := time.Date(2026, 11, 26, 14, 2, 3, 120000000, time.UTC)
	tests := []struct {
		in      string
		stream  Stream
		partial bool
		msg     string
		err     error
	}{
		{"2026-11-26T14:02:03.12Z stdout F hello world", Stdout, false, "hello world", nil},
		{"2026-11-26T14:02:03.12Z stderr P hello ", Stderr, true, "hello ", nil},
		{"2026-11-26T14:02:03.12Z stdout F ", Stdout, false, "", nil},
		{"2026-11-26T14:02:03.12Z stdout F", Stdout, false, "", nil},
		{"2026-11-26T14:02:03.12Z stdout F:extra x", Stdout, false, "x", nil},
		{"2026-11-26T14:02:03.12Z stdout F  two spaces", Stdout, false, " two spaces", nil},
		{"2026-11-26T14:02:03.12+00:00 stdout F crio", Stdout, false, "crio", nil},
		{"2026-11-26T14:02:03.12Z stdin F x", 0, false, "", errStream},
		{"2026-11-26T14:02:03.12Z stdout X x", 0, false, "", errTag},
		{"2026-11-26T14:02:03.12Z", 0, false, "", errSyntax},
		{"not a time stdout F x", 0, false, "", errTime},
		{"", 0, false, "", errSyntax},
		{"\x00\x00\x00 \x00", 0, false, "", errTime},
	}
	for _, tt := range tests {
		d, err := parseCRI([]byte(tt.in), new(timeCache))
		if err != tt.err {
			t.Errorf("parseCRI(%q) error = %v; want %v", tt.in, err, tt.err)
			continue
		}
		if err != nil {
			continue
		}
		if d.stream != tt.stream || d.partial != tt.partial || string(d.msg) != tt.msg || !d.time.Equal(ts) {
			t.Errorf("parseCRI(%q) = %v %v %v %q; want %v %v %v %q", tt.in, d.time, d.stream, d.partial, d.msg, ts, tt.stream, tt.partial, tt.msg)
		}
	}
}

func TestParseDocker(t *testing.T) {
	tests := []struct {
		in      string
		stream  Stream
		partial bool
		msg     string
		err     error
	}{
		{`{"log":"hello\n","stream":"stdout","time":"2026-11-26T14:02:03Z"}`, Stdout, false, "hello", nil},
		{`{"log":"crlf\r\n","stream":"stdout","time":"2026-11-26T14:02:03Z"}`, Stdout, false, "crlf", nil},
		{`{"log":"part","stream":"stderr","time":"2026-11-26T14:02:03Z"}`, Stderr, true, "part", nil},
		{`{"time":"2026-11-26T14:02:03Z","stream":"stdout","log":"\u003c\u0026\ufffd\u2028 \ud83d\ude00 \"q\" \\ \/\n"}`, Stdout, false, "<&\ufffd\u2028 😀 \"q\" \\ /", nil},
		{`{"log":"lone \ud83d x\n","stream":"stdout","time":"2026-11-26T14:02:03Z"}`, Stdout, false, "lone \ufffd x", nil},
		{` { "log" : "ws\n" , "stream" : "stdout" , "attrs" : {"a":[1,{"b":null}]} , "time" : "2026-11-26T14:02:03Z" } `, Stdout, false, "ws", nil},
		{`{"log":"x\n","stream":"stdin","time":"2026-11-26T14:02:03Z"}`, 0, false, "", errStream},
		{`{"log":"x\n","stream":"stdout","time":"yesterday"}`, 0, false, "", errTime},
		{`{"log":"x\n","stream":"stdout"}`, 0, false, "", errTime},
		{`{"stream":"stdout","time":"2026-11-26T14:02:03Z"}`, 0, false, "", errNoField},
		{`{"log":"x\n","stream":"stdout","time":"2026-11-26T14:02:03Z"`, 0, false, "", errJSON},
		{`{"log":"x\n","stream":"stdout","time":"2026-11-26T14:02:03Z"} trailing`, 0, false, "", errJSON},
		{`{"log":"bad \q escape","stream":"stdout","time":"2026-11-26T14:02:03Z"}`, 0, false, "", errJSON},
		{`{}`, 0, false, "", errNoField},
		{`{`, 0, false, "", errJSON},
	}
	for _, tt := range tests {
		d, scratch, err := parseDocker([]byte(tt.in), []byte("keep"), new(timeCache))
		if err != tt.err {
			t.Errorf("parseDocker(%q) error = %v; want %v", tt.in, err, tt.err)
			continue
		}
		if string(scratch[:4]) != "keep" {
			t.Errorf("parseDocker(%q) overwrote the scratch prefix: %q", tt.in, scratch)
		}
		if err != nil {
			if len(scratch) != 4 {
				t.Errorf("parseDocker(%q) left %q in scratch after an error", tt.in, scratch)
			}
			continue
		}
		if d.stream != tt.stream || d.partial != tt.partial || string(d.msg) != tt.msg {
			t.Errorf("parseDocker(%q) = %v %v %q; want %v %v %q", tt.in, d.stream, d.partial, d.msg, tt.stream, tt.partial, tt.msg)
		}
	}
}

// assembleAll feeds a whole file to an assembler and returns its records,
// with messages copied.
func assembleAll(data []byte, maxLine int, truncate bool) []Record {
	a := newAssembler(&FileMeta{Path: "test"}, maxLine, truncate)
	a.startRound(time.Unix(1, 0))
	var off int64
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			break
		}
		a.line(data[:i], off, off+int64(i)+1)
		off += int64(i) + 1
		data = data[i+1:]
	}
	a.flush(off)
	out := make([]Record, len(a.recs))
	for i, r := range a.recs {
		r.Message = bytes.Clone(r.Message)
		out[i] = r
	}
	return out
}

func recString(r Record) string {
	return fmt.Sprintf("%s %s %d %q @%d", r.Time.UTC().Format(time.RFC3339Nano), r.Stream, r.Flags, r.Message, r.Pos.Offset)
}

func TestAssembleSamples(t *testing.T) {
	tests := []struct {
		file string
		want []string
	}{
		{"containerd.log", []string{
			`2026-11-26T14:02:03.123456789Z stdout 0 "starting server on :8080" @65`,
			`2026-11-26T14:02:03.1234567Z stderr 0 "warning: config file not found, using defaults" @150`,
			`2026-11-26T14:02:03.12Z stdout 0 "GET /healthz 200 0.4ms" @206`,
			`2026-11-26T14:02:04Z stdout 0 "" @237`,
			`2026-11-26T14:02:04.5Z stderr 0 "an interleaved stderr line" @356`,
			`2026-11-26T14:02:04.5Z stdout 0 "first half of a long line, second half" @404`,
			`2026-11-26T14:02:05.000000001Z stdout 0 "café au lait" @499`,
			`2026-11-26T14:02:06.7Z stdout 0 "{\"level\":\"info\",\"msg\":\"json payload\"}" @569`,
		}},
		{"crio.log", []string{
			`2026-11-26T14:02:03.123456789Z stdout 0 "conmon says hello" @63`,
			`2026-11-26T14:02:03.123456789Z stderr 0 "same instant, other zone" @133`,
			`2026-11-26T14:02:03.1Z stdout 0 "part one part two part three" @299`,
			`2026-11-26T14:02:03Z stdout 0 "negative offset" @360`,
		}},
		{"docker.log", []string{
			`2026-11-26T14:02:03.123456789Z stdout 0 "starting server" @86`,
			`2026-11-26T14:02:03.2Z stderr 0 "<b>escaped</b> & \"quoted\" \\ tab\t" @210`,
			`2026-11-26T14:02:04Z stdout 0 "a chunk without newline, joined with this one" @382`,
			`2026-11-26T14:02:05.5Z stdout 0 "with attrs 😀" @510`,
		}},
	}
	for _, tt := range tests {
		data, err := os.ReadFile(filepath.Join("testdata", tt.file))
		if err != nil {
			t.Fatal(err)
		}
		recs := assembleAll(data, 1<<20, false)
		var got []string
		for _, r := range recs {
			got = append(got, recString(r))
		}
		if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
			t.Errorf("%s decoded to\n%s\nwant\n%s", tt.file, strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
		}
	}
}

func TestAssembleLongAndMalformed(t *testing.T) {
	const ts = "2026-11-26T14:02:03Z"
	in := ts + " stdout P aaaaaa\n" + ts + " stdout P bbbbbb\n" + ts + " stdout F cc\n" +
		"garbage\x00line\n" + ts + " stdout F short\n" +
		ts + " stdout P éééé\n" + ts + " stdout F x\n"
	t.Run("split", func(t *testing.T) {
		recs := assembleAll([]byte(in), 5, false)
		var got []string
		for _, r := range recs {
			got = append(got, fmt.Sprintf("%d %q @%d", r.Flags, r.Message, r.Pos.Offset))
		}
		want := []string{
			`2 "aaaaa" @0`, `2 "abbbb" @0`, `2 "bbcc" @107`,
			`3 "garba" @120`, `3 "ge\x00li" @120`, `3 "ne" @120`,
			`0 "short" @156`,
			`2 "éé" @156`, `2 "ééx" @227`,
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("split gave\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		for _, r := range recs {
			if !utf8.Valid(r.Message) {
				t.Errorf("piece %q is not valid UTF-8", r.Message)
			}
		}
	})
	t.Run("truncate", func(t *testing.T) {
		recs := assembleAll([]byte(in), 5, true)
		var got []string
		for _, r := range recs {
			got = append(got, fmt.Sprintf("%d %q @%d", r.Flags, r.Message, r.Pos.Offset))
		}
		want := []string{`4 "aaaaa" @107`, `5 "garba" @120`, `0 "short" @156`, `4 "éé" @227`}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("truncate gave\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	})
}

func TestAssembleOverlongPhysicalLine(t *testing.T) {
	a := newAssembler(&FileMeta{}, 8, false)
	a.startRound(time.Unix(1, 0))
	a.longStart([]byte("2026-11-26T14:02:03Z stdout F abcdef"), 0)
	a.longMore([]byte("ghijkl"))
	if a.safeOffset(100) != 0 || !a.pending() {
		t.Errorf("inside an overlong line: safeOffset = %d, pending %v; want 0, true", a.safeOffset(100), a.pending())
	}
	a.line([]byte("mn"), 0, 44)
	a.longStart([]byte(`{"log":"not decodable in pieces`), 44)
	a.line([]byte(`"}`), 0, 80)
	var got []string
	for _, r := range a.recs {
		got = append(got, fmt.Sprintf("%s %d %q @%d", r.Stream, r.Flags, r.Message, r.Pos.Offset))
	}
	want := []string{
		`stdout 2 "abcdefgh" @0`, `stdout 2 "ijklmn" @44`,
		`unknown 3 "{\"log\":\"" @44`, `unknown 3 "not deco" @44`, `unknown 3 "dable in" @44`,
		`unknown 3 " pieces\"" @44`, `unknown 3 "}" @80`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("overlong lines gave\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	a.reset()
	if a.pending() || a.format != formatUnknown {
		t.Errorf("reset left pending %v, format %v", a.pending(), a.format)
	}
}
