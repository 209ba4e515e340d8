package deploy

import (
	"encoding/json"
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

// The dashboard is well formed: unique panel ids, every panel queries
// something through the datasource variable, and panels fit the 24-column
// grid without overlapping.
func TestDashboardShape(t *testing.T) {
	data, err := os.ReadFile("grafana/skiff-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		UID        string
		Templating struct{ List []struct{ Name, Type string } }
		Panels     []struct {
			ID      int
			Type    string
			Title   string
			GridPos struct{ H, W, X, Y int }
			Targets []struct {
				Expr       string
				Datasource struct{ UID string }
			}
		}
	}
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatalf("dashboard JSON: %v", err)
	}
	if d.UID == "" || len(d.Templating.List) == 0 || d.Templating.List[0].Type != "datasource" {
		t.Errorf("uid %q, templating %+v: want a uid and a datasource variable first", d.UID, d.Templating.List)
	}
	ids := map[int]bool{}
	cells := map[[2]int]string{}
	for _, p := range d.Panels {
		if ids[p.ID] {
			t.Errorf("panel id %d used twice", p.ID)
		}
		ids[p.ID] = true
		g := p.GridPos
		if g.W <= 0 || g.H <= 0 || g.X < 0 || g.X+g.W > 24 {
			t.Errorf("panel %q: gridPos %+v outside the 24-column grid", p.Title, g)
		}
		for x := g.X; x < g.X+g.W; x++ {
			for y := g.Y; y < g.Y+g.H; y++ {
				if other, ok := cells[[2]int{x, y}]; ok {
					t.Fatalf("panels %q and %q overlap at %d,%d", other, p.Title, x, y)
				}
				cells[[2]int{x, y}] = p.Title
			}
		}
		if p.Type == "row" {
			continue
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, q := range p.Targets {
			if strings.TrimSpace(q.Expr) == "" || q.Datasource.UID != "${datasource}" {
				t.Errorf("panel %q: query %q with datasource %q", p.Title, q.Expr, q.Datasource.UID)
			}
		}
	}
}
