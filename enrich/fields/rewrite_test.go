package fields

import (
	"fmt"
	"strings"
	"testing"
)

func TestRewrite(t *testing.T) {
	const obj = `{"a":1, "b":{"x":1,"y":{"z":2,"w":3}}, "c":"s", "x":0}`
	tests := []struct {
		name string
		obj  string
		ops  []Op
		want string
	}{
		{"no ops", obj, nil, `{"a":1,"b":{"x":1,"y":{"z":2,"w":3}},"c":"s","x":0}`},
		{"empty", `{}`, nil, `{}`},
		{"empty with ws", " { \n } ", []Op{{Kind: Remove, Key: "a"}}, `{}`},
		{"set on empty", `{}`, []Op{{Kind: Set, Key: "k", To: "v"}}, `{"k":"v"}`},
		{"duplicates: last wins in its place", `{"a":1,"b":2,"a":3}`, nil, `{"b":2,"a":3}`},
		{"duplicates by escape", `{"\u0061":1,"a":2}`, nil, `{"a":2}`},

		{"remove", obj, []Op{{Kind: Remove, Key: "a"}}, `{"b":{"x":1,"y":{"z":2,"w":3}},"c":"s","x":0}`},
		{"remove absent", obj, []Op{{Kind: Remove, Key: "q"}}, `{"a":1,"b":{"x":1,"y":{"z":2,"w":3}},"c":"s","x":0}`},
		{"remove nested", obj, []Op{{Kind: Remove, Key: "b.y.z"}}, `{"a":1,"b":{"x":1,"y":{"w":3}},"c":"s","x":0}`},
		{"remove nested twice", obj, []Op{{Kind: Remove, Key: "b.y.z"}, {Kind: Remove, Key: "b.x"}},
			`{"a":1,"b":{"y":{"w":3}},"c":"s","x":0}`},
		{"remove nested absent", obj, []Op{{Kind: Remove, Key: "b.q"}}, `{"a":1,"b":{"x":1,"y":{"z":2,"w":3}},"c":"s","x":0}`},
		{"remove into a non-object", obj, []Op{{Kind: Remove, Key: "a.b"}}, `{"a":1,"b":{"x":1,"y":{"z":2,"w":3}},"c":"s","x":0}`},
		{"remove dotted key first", `{"a.b":1,"a":{"b":2}}`, []Op{{Kind: Remove, Key: "a.b"}}, `{"a":{"b":2}}`},
		{"remove nested duplicates", `{"a":{"b":1,"c":2,"b":3}}`, []Op{{Kind: Remove, Key: "a.b"}}, `{"a":{"c":2}}`},

		{"rename", obj, []Op{{Kind: Rename, Key: "a", To: "A"}}, `{"A":1,"b":{"x":1,"y":{"z":2,"w":3}},"c":"s","x":0}`},
		{"rename over existing", obj, []Op{{Kind: Rename, Key: "a", To: "x"}}, `{"x":1,"b":{"x":1,"y":{"z":2,"w":3}},"c":"s"}`},
		{"rename over earlier", obj, []Op{{Kind: Rename, Key: "x", To: "a"}}, `{"b":{"x":1,"y":{"z":2,"w":3}},"c":"s","a":0}`},
		{"rename to itself", obj, []Op{{Kind: Rename, Key: "a", To: "a"}}, `{"a":1,"b":{"x":1,"y":{"z":2,"w":3}},"c":"s","x":0}`},
		{"rename absent", obj, []Op{{Kind: Rename, Key: "q", To: "a"}}, `{"a":1,"b":{"x":1,"y":{"z":2,"w":3}},"c":"s","x":0}`},
		{"rename escapes", `{"a":1}`, []Op{{Kind: Rename, Key: "a", To: "é\"\n\x01\xff"}}, `{"é\"\n\u0001\ufffd":1}`},
		{"rename matches escaped key", `{"\u00e9":1}`, []Op{{Kind: Rename, Key: "é", To: "e"}}, `{"e":1}`},
		{"rename keeps nested removal", obj, []Op{{Kind: Remove, Key: "b.x"}, {Kind: Rename, Key: "b", To: "B"}},
			`{"a":1,"B":{"y":{"z":2,"w":3}},"c":"s","x":0}`},

		{"set replaces", obj, []Op{{Kind: Set, Key: "b", To: "v"}}, `{"a":1,"b":"v","c":"s","x":0}`},
		{"set adds", obj, []Op{{Kind: Set, Key: "d", To: "tab\there"}}, `{"a":1,"b":{"x":1,"y":{"z":2,"w":3}},"c":"s","x":0,"d":"tab\there"}`},
		{"set then remove nested", obj, []Op{{Kind: Set, Key: "b", To: "v"}, {Kind: Remove, Key: "b.x"}}, `{"a":1,"b":"v","c":"s","x":0}`},
		{"remove nested then set", obj, []Op{{Kind: Remove, Key: "b.x"}, {Kind: Set, Key: "b", To: "v"}}, `{"a":1,"b":"v","c":"s","x":0}`},

		{"lift", obj, []Op{{Kind: Lift, Key: "b", Prefix: "b_"}}, `{"a":1,"b_x":1,"b_y":{"z":2,"w":3},"c":"s","x":0}`},
		{"lift replaces existing", obj, []Op{{Kind: Lift, Key: "b"}}, `{"a":1,"x":1,"y":{"z":2,"w":3},"c":"s"}`},
		{"lift twice", obj, []Op{{Kind: Lift, Key: "b", Prefix: "b."}, {Kind: Lift, Key: "b.y", Prefix: "b.y."}},
			`{"a":1,"b.x":1,"b.y.z":2,"b.y.w":3,"c":"s","x":0}`},
		{"lift non-object", obj, []Op{{Kind: Lift, Key: "a"}}, `{"a":1,"b":{"x":1,"y":{"z":2,"w":3}},"c":"s","x":0}`},
		{"lift set", obj, []Op{{Kind: Set, Key: "b", To: "{}"}, {Kind: Lift, Key: "b"}}, `{"a":1,"b":"{}","c":"s","x":0}`},
		{"lift absent", obj, []Op{{Kind: Lift, Key: "q"}}, `{"a":1,"b":{"x":1,"y":{"z":2,"w":3}},"c":"s","x":0}`},
		{"lift empty", `{"a":1,"b":{},"c":2}`, []Op{{Kind: Lift, Key: "b"}}, `{"a":1,"c":2}`},
		{"lift duplicates", `{"a":1,"b":{"a":2,"c":3,"a":4}}`, []Op{{Kind: Lift, Key: "b"}}, `{"c":3,"a":4}`},
		{"lift own name", `{"b":{"b":1}}`, []Op{{Kind: Lift, Key: "b"}}, `{"b":1}`},
		{"lift after nested removal", obj, []Op{{Kind: Remove, Key: "b.y.w"}, {Kind: Remove, Key: "b.x"}, {Kind: Lift, Key: "b"}},
			`{"a":1,"y":{"z":2},"c":"s","x":0}`},
		{"lift escaped prefix", `{"b":{"k\u00e9":1}}`, []Op{{Kind: Lift, Key: "b", Prefix: `"`}}, `{"\"k\u00e9":1}`},

		{"chain", obj, []Op{
			{Kind: Lift, Key: "b", Prefix: "b_"},
			{Kind: Rename, Key: "b_x", To: "a"},
			{Kind: Set, Key: "level", To: "info"},
			{Kind: Remove, Key: "b_y.z"},
			{Kind: Remove, Key: "c"},
		}, `{"a":1,"b_y":{"w":3},"x":0,"level":"info"}`},
		{"unknown op", obj, []Op{{Kind: 0, Key: "a"}, {Kind: 99, Key: "a"}}, `{"a":1,"b":{"x":1,"y":{"z":2,"w":3}},"c":"s","x":0}`},

		{"invalid input unchanged", `{"a":1,`, []Op{{Kind: Remove, Key: "a"}}, `{"a":1,`},
		{"not an object", `[1]`, []Op{{Kind: Set, Key: "a"}}, `[1]`},
	}
	for _, tt := range tests {
		got := Rewrite([]byte("pre"), []byte(tt.obj), tt.ops)
		if string(got) != "pre"+tt.want {
			t.Errorf("%s: Rewrite(%s, %v) = %s; want %s", tt.name, tt.obj, tt.ops, got[min(3, len(got)):], tt.want)
		}
	}
}

func TestRewriteMany(t *testing.T) {
	// Above the stack arrays: 40 members, 10 nested removals on one member.
	var b strings.Builder
	b.WriteString(`{"n":{`)
	for i := range 12 {
		fmt.Fprintf(&b, `"k%d":%d,`, i, i)
	}
	b.WriteString(`"last":0}`)
	for i := range 40 {
		fmt.Fprintf(&b, `,"m%d":%d`, i, i)
	}
	b.WriteString("}")
	var ops []Op
	for i := range 10 {
		ops = append(ops, Op{Kind: Remove, Key: fmt.Sprintf("n.k%d", i)})
	}
	for i := range 39 {
		ops = append(ops, Op{Kind: Remove, Key: fmt.Sprintf("m%d", i)})
	}
	got := Rewrite(nil, []byte(b.String()), ops)
	if want := `{"n":{"k10":10,"k11":11,"last":0},"m39":39}`; string(got) != want {
		t.Errorf("Rewrite of a large object = %s; want %s", got, want)
	}
}

func TestRewriteManyDuplicates(t *testing.T) {
	// Above the stack arrays, duplicates are found by sorting.
	var b strings.Builder
	b.WriteString(`{"sub":{`)
	for i := range 40 {
		fmt.Fprintf(&b, `"k%d":%d,`, i%20, i)
	}
	b.WriteString(`"z":0}`)
	for i := range 60 {
		fmt.Fprintf(&b, `,"k%d":%d`, i%30, i)
	}
	b.WriteString("}")
	got := Rewrite(nil, []byte(b.String()), nil)
	var want strings.Builder
	want.WriteString(`{"sub":{`)
	want.WriteString(b.String()[len(`{"sub":{`):strings.Index(b.String(), `"z":0}`)])
	want.WriteString(`"z":0}`)
	for i := 30; i < 60; i++ {
		fmt.Fprintf(&want, `,"k%d":%d`, i%30, i)
	}
	want.WriteString("}")
	if string(got) != want.String() {
		t.Errorf("Rewrite(60 members, 30 keys) = %s; want %s", got, want.String())
	}
	// Lifting sub: its last k0..k19 beat the top-level ones, z is added.
	got = Rewrite(nil, got, []Op{{Kind: Lift, Key: "sub"}})
	want.Reset()
	want.WriteString("{")
	for i := 20; i < 40; i++ {
		fmt.Fprintf(&want, `"k%d":%d,`, i%20, i)
	}
	want.WriteString(`"z":0`)
	for i := 50; i < 60; i++ {
		fmt.Fprintf(&want, `,"k%d":%d`, i%30, i)
	}
	want.WriteString("}")
	if string(got) != want.String() {
		t.Errorf("Rewrite(lift of 40 members) = %s; want %s", got, want.String())
	}
}

func TestOpKindString(t *testing.T) {
	for k, want := range map[OpKind]string{Remove: "remove", Rename: "rename", Lift: "lift", Set: "set", 0: "unknown"} {
		if got := k.String(); got != want {
			t.Errorf("OpKind(%d).String() = %q; want %q", k, got, want)
		}
	}
}

func TestAllocs(t *testing.T) {
	obj := []byte(benchObj)
	dst := make([]byte, 0, 1024)
	if n := testing.AllocsPerRun(100, func() { Get(obj, "kubernetes.labels.app") }); n != 0 {
		t.Errorf("Get allocates %v times; want 0", n)
	}
	if n := testing.AllocsPerRun(100, func() { String(dst[:0], obj, "msg") }); n != 0 {
		t.Errorf("String allocates %v times; want 0", n)
	}
	if n := testing.AllocsPerRun(100, func() { Rewrite(dst[:0], obj, benchOps) }); n != 0 {
		t.Errorf("Rewrite allocates %v times; want 0", n)
	}
}
