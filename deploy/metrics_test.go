package deploy

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// Every skiff_ metric the dashboard and the alerts query is one the agent
// defines (a quoted name in a non-test Go file of the agent's packages).
func TestDashboardMetricsExist(t *testing.T) {
	defined := map[string]bool{}
	quoted := regexp.MustCompile(`"(skiff_[a-z0-9_]+)"`)
	for _, dir := range []string{"tailer", "enrich", "sinks", "cmd"} {
		err := filepath.WalkDir(filepath.Join("..", dir), func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return nil
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for _, m := range quoted.FindAllSubmatch(data, -1) {
				defined[string(m[1])] = true
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	used := regexp.MustCompile(`skiff_[a-z0-9_]+`)
	for _, f := range []string{"grafana/skiff-dashboard.json", "grafana/alerts.yaml", "helm/skiff/templates/_alerts.tpl"} {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var missing []string
		for _, name := range used.FindAllString(string(data), -1) {
			base := name
			for _, suffix := range []string{"_bucket", "_sum", "_count"} {
				base = strings.TrimSuffix(base, suffix)
			}
			if !defined[name] && !defined[base] && !slices.Contains(missing, name) {
				missing = append(missing, name)
			}
		}
		if len(missing) > 0 {
			t.Errorf("%s queries metrics the agent does not define: %v", f, missing)
		}
	}
}
