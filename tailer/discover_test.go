package tailer

import (
	"errors"
	"strings"
	"testing"
)

func TestParseMeta(t *testing.T) {
	id := strings.Repeat("0f", 32)
	tests := []struct {
		path, target string
		want         FileMeta
	}{
		{
			"/var/log/containers/web-7d9f_prod_nginx-" + id + ".log",
			"/var/log/pods/prod_web-7d9f_0a1b2c3d-1111/nginx/3.log",
			FileMeta{Namespace: "prod", Pod: "web-7d9f", PodUID: "0a1b2c3d-1111", Container: "nginx", ContainerID: id, Restart: 3},
		},
		{ // a rotated file
			"/var/log/pods/prod_web_uid/nginx/0.log.20261126-140203",
			"/var/log/pods/prod_web_uid/nginx/0.log.20261126-140203",
			FileMeta{Namespace: "prod", Pod: "web", PodUID: "uid", Container: "nginx", Restart: 0},
		},
		{ // the link name was cut at 255 bytes: no container ID
			"/var/log/containers/web_prod_nginx-0f0f.log",
			"/var/log/pods/prod_web_uid/nginx/0.log",
			FileMeta{Namespace: "prod", Pod: "web", PodUID: "uid", Container: "nginx", Restart: 0},
		},
		{ // outside the layout: shipped with what is known
			"/var/log/app/server.log",
			"/var/log/app/server.log",
			FileMeta{Restart: -1},
		},
		{
			"/var/log/pods/bad_name/c/0.log",
			"/var/log/pods/bad_name/c/0.log",
			FileMeta{Restart: -1},
		},
	}
	for _, tt := range tests {
		got := parseMeta(tt.path, tt.target)
		tt.want.Path, tt.want.Target = tt.path, tt.target
		if *got != tt.want {
			t.Errorf("parseMeta(%q, %q) = %+v; want %+v", tt.path, tt.target, *got, tt.want)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	if err := (Config{}).Validate(); err != nil {
		t.Errorf("zero Config: %v; want valid (defaults)", err)
	}
	bad := []Config{
		{ReadFrom: "middle"},
		{LongLines: "fold"},
		{Include: []string{"[bad"}},
		{Exclude: []string{""}},
		{MaxLineBytes: 3},
		{MaxOpenFiles: -1},
		{MaxDeletedBytes: -1},
		{ReadBudget: 1},
		{CheckpointInterval: -1},
		{RescanInterval: -1},
	}
	for _, c := range bad {
		if err := c.Validate(); !errors.Is(err, ErrConfig) {
			t.Errorf("Validate(%+v) = %v; want ErrConfig", c, err)
		}
	}
	if _, err := New(Config{ReadFrom: "middle"}, nopConsumer{}); err == nil {
		t.Error("New accepted an invalid config")
	}
}
