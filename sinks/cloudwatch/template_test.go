package cloudwatch

import (
	"errors"
	"strings"
	"testing"

	"github.com/skiff-agent/skiff/tailer"
)

func TestTemplateRender(t *testing.T) {
	pod := &tailer.PodMeta{Name: "web-1", Namespace: "shop", UID: "u", Host: "node-a", OwnerKind: "Deployment",
		Labels: map[string]string{"app": "web"}, Annotations: map[string]string{"team": "a"}}
	file := &tailer.FileMeta{Namespace: "fns", Pod: "fpod", PodUID: "fuid", Container: "app", ContainerID: "c1", Restart: 2}
	e := env{cluster: "prod", host: "cfg-host"}
	tests := []struct {
		tmpl string
		pod  *tailer.PodMeta
		want string
	}{
		{DefaultLogGroup, pod, "/aws/containerinsights/prod/application"},
		{DefaultLogStream, pod, "web-1_shop_app"},
		{DefaultLogStream, nil, "fpod_fns_app"},
		{"{kubernetes.labels.app}/{kubernetes.annotations.team}", pod, "web/a"},
		{"{kubernetes.labels.missing|none}-{kubernetes.labels.missing}", pod, "none-" + MissingValue},
		{"{host}", pod, "node-a"},
		{"{host}", nil, "cfg-host"},
		{"{file.namespace}.{file.pod}.{file.pod_uid}.{file.container}.{file.container_id}.{file.restart}", pod, "fns.fpod.fuid.app.c1.2"},
		{"{kubernetes.owner_kind}:{stream}", pod, "Deployment:stderr"},
		{"literal", nil, "literal"},
	}
	for _, tt := range tests {
		tp, err := ParseTemplate(tt.tmpl)
		if err != nil {
			t.Fatalf("ParseTemplate(%q): %v", tt.tmpl, err)
		}
		r := &tailer.Record{Stream: tailer.Stderr, File: file, Pod: tt.pod}
		if got := string(tp.appendRender(nil, r, e)); got != tt.want {
			t.Errorf("render %q = %q; want %q", tt.tmpl, got, tt.want)
		}
	}
}

func TestParseTemplateErrors(t *testing.T) {
	for _, src := range []string{"", "{", "a}", "{}", "{nope}", "{kubernetes.labels.}", "{a{b}}", "x{kubernetes.pod_name"} {
		if _, err := ParseTemplate(src); !errors.Is(err, ErrTemplate) {
			t.Errorf("ParseTemplate(%q) = %v; want ErrTemplate", src, err)
		}
	}
}

func TestSanitize(t *testing.T) {
	for _, tt := range []struct{ in, group, stream string }{
		{"/aws/a-b_c.d#e", "/aws/a-b_c.d#e", "/aws/a-b_c.d#e"},
		{"ns:pod*x é", "ns_pod_x__", "ns_pod_x é"},
		{"", MissingValue, MissingValue},
		{"a\xffb", "a_b", "a\uFFFDb"},
		{strings.Repeat("é", 400), strings.Repeat("_", 400), strings.Repeat("é", 256)},
		{strings.Repeat("a", 600), strings.Repeat("a", 512), strings.Repeat("a", 512)},
	} {
		if got := SanitizeGroup([]byte(tt.in)); got != tt.group {
			t.Errorf("SanitizeGroup(%q) = %q; want %q", tt.in, got, tt.group)
		}
		if got := SanitizeStream([]byte(tt.in)); got != tt.stream {
			t.Errorf("SanitizeStream(%q) = %q; want %q", tt.in, got, tt.stream)
		}
	}
}

// Pod annotations name destinations by the same templates as the config,
// with their literal text held to CloudWatch's naming rules.
func TestCheckOverrides(t *testing.T) {
	long := strings.Repeat("g", 513)
	for _, tc := range []struct {
		check func(string) error
		src   string
		ok    bool
	}{
		{CheckLogGroup, "/team/app#1", true},
		{CheckLogGroup, "/team/{kubernetes.namespace_name}/{kubernetes.labels.app|none}", true},
		{CheckLogGroup, "bad group", false},
		{CheckLogGroup, "/team/{nope}", false},
		{CheckLogGroup, long, false},
		{CheckLogGroup, "", false},
		{CheckLogStream, "web {kubernetes.pod_name}", true},
		{CheckLogStream, "web {x}", false},
		{CheckLogStream, "a:b", false},
		{CheckLogStream, "\xff", false},
		{CheckLogStream, "", false},
	} {
		err := tc.check(tc.src)
		if (err == nil) != tc.ok {
			t.Errorf("check(%q) = %v; want ok %v", tc.src, err, tc.ok)
		}
		if err != nil && !errors.Is(err, ErrTemplate) {
			t.Errorf("check(%q) = %v; want it to wrap ErrTemplate", tc.src, err)
		}
	}
}
