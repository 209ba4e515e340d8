package cloudwatch

import (
	"cmp"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/skiff-agent/skiff/sinks"
	"github.com/skiff-agent/skiff/tailer"
)

func TestTemplateRender(t *testing.T) {
	pod := &tailer.PodMeta{Name: "web-1", Namespace: "shop", UID: "u", Host: "node-a", OwnerKind: "Deployment",
		Labels: map[string]string{"app": "web"}, Annotations: map[string]string{"team": "a"}}
	file := &tailer.FileMeta{Namespace: "fns", Pod: "fpod", PodUID: "fuid", Container: "app", ContainerID: "c1", Restart: 2,
		Input: "application", Tag: "var.log.containers.fpod_fns_app-c1.log"}
	e := env{cluster: "prod", host: "cfg-host"}
	tests := []struct {
		tmpl string
		pod  *tailer.PodMeta
		want string
	}{
		{DefaultLogGroup, pod, "/aws/containerinsights/prod/application"},
		{DefaultLogStream, pod, "web-1_shop_app"},
		{DefaultLogStream, nil, "fpod_fns_app"},
		{"{host}-application.{tag}", pod, "node-a-application.var.log.containers.fpod_fns_app-c1.log"},
		{"{host}-application.{tag}", nil, "cfg-host-application.var.log.containers.fpod_fns_app-c1.log"},
		{"{input}/{tag}", nil, "application/var.log.containers.fpod_fns_app-c1.log"},
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

// Templates read the same kubernetes.* values as the JSON shape writes.
func TestTemplateMatchesEncoder(t *testing.T) {
	file := &tailer.FileMeta{Namespace: "fns", Pod: "fpod", PodUID: "fuid", Container: "app"}
	pod := &tailer.PodMeta{Name: "web-1", Namespace: "shop", UID: "u", Containers: map[string]tailer.ContainerMeta{
		"app": {ContainerID: "containerd://abc", Image: "nginx:1", ImageID: "docker.io/nginx@sha256:1"}}}
	fields := []string{"pod_name", "namespace_name", "pod_id", "host", "container_name", "docker_id", "container_image"}
	enc, err := sinks.NewEncoder(sinks.EncoderConfig{Host: "node-a"})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []*tailer.PodMeta{nil, pod} {
		rec := &tailer.Record{File: file, Pod: p, Message: []byte("x")}
		var msg struct{ Kubernetes map[string]string }
		if err := json.Unmarshal(enc.Append(nil, rec), &msg); err != nil {
			t.Fatal(err)
		}
		for _, f := range fields {
			src := "{kubernetes." + f + "|-}"
			if f == "host" {
				src = "{host|-}"
			}
			tmpl, err := ParseTemplate(src)
			if err != nil {
				t.Fatal(err)
			}
			got := string(tmpl.appendRender(nil, rec, env{host: "node-a"}))
			if want := cmp.Or(msg.Kubernetes[f], "-"); got != want {
				t.Errorf("pod %v: %s renders %q; the JSON shape has %q", p != nil, src, got, want)
			}
		}
	}
}
