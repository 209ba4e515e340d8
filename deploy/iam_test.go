package deploy

import (
	"encoding/json"
	"maps"
	"os"
	"path"
	"regexp"
	"slices"
	"strings"
	"testing"
)

type policy struct {
	Version   string
	Statement []struct {
		Effect   string
		Action   stringList
		Resource stringList
	}
}

// stringList is IAM's "one string or a list of strings".
type stringList []string

func (s *stringList) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*s = []string{one}
		return nil
	}
	return json.Unmarshal(b, (*[]string)(s))
}

// iamMatch matches an ARN against an IAM resource pattern (* and ?, which
// match across ':' and '/').
func iamMatch(pattern, arn string) bool {
	re := "^" + strings.NewReplacer(`\*`, ".*", `\?`, ".").Replace(regexp.QuoteMeta(pattern)) + "$"
	return regexp.MustCompile(re).MatchString(arn)
}

// allowed reports whether the policy allows action on arn.
func (p *policy) allowed(action, arn string) bool {
	for _, st := range p.Statement {
		if st.Effect == "Allow" && slices.Contains(st.Action, action) &&
			slices.ContainsFunc(st.Resource, func(r string) bool { return iamMatch(r, arn) }) {
			return true
		}
	}
	return false
}

func readPolicy(t *testing.T) *policy {
	t.Helper()
	data, err := os.ReadFile("iam/policy.json")
	if err != nil {
		t.Fatal(err)
	}
	var p policy
	if err := json.Unmarshal(data, &p); err != nil {
		t.Fatalf("policy.json: %v", err)
	}
	return &p
}

func TestIAMPolicy(t *testing.T) {
	p := readPolicy(t)
	if p.Version != "2012-10-17" {
		t.Errorf("Version %q", p.Version)
	}
	var actions []string
	for _, st := range p.Statement {
		actions = append(actions, st.Action...)
		for _, r := range st.Resource {
			if !strings.HasPrefix(r, "arn:aws:logs:") || strings.HasPrefix(r, "arn:aws:logs:*:*:*") {
				t.Errorf("resource %q: want a log group ARN pattern", r)
			}
		}
	}
	slices.Sort(actions)
	want := []string{"logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:PutRetentionPolicy"}
	if !slices.Equal(actions, want) {
		t.Errorf("actions %v; want exactly %v", actions, want)
	}

	const acct = "arn:aws:logs:eu-west-1:111122223333:"
	group := acct + "log-group:/aws/containerinsights/prod/application"
	stream := group + ":log-stream:web-1_shop_app"
	tests := []struct {
		action, arn string
		want        bool
	}{
		{"logs:CreateLogGroup", group, true},
		{"logs:PutRetentionPolicy", group, true},
		{"logs:CreateLogStream", group, true},
		{"logs:PutLogEvents", stream, true},
		{"logs:PutLogEvents", acct + "log-group:/aws/lambda/payments:log-stream:x", false},
		{"logs:CreateLogGroup", acct + "log-group:/aws/lambda/payments", false},
		{"logs:DeleteLogGroup", group, false},
		{"logs:DescribeLogStreams", group, false},
	}
	for _, tt := range tests {
		if got := p.allowed(tt.action, tt.arn); got != tt.want {
			t.Errorf("allowed(%s, %s) = %v; want %v", tt.action, tt.arn, got, tt.want)
		}
	}
}

// The policy lets skiff do everything it does on each of Container
// Insights' three groups, /aws/containerinsights/<cluster>/application,
// /dataplane and /host, and on every group the chart ships to by default
// (cloudwatch.log_group and the inputs' log_group).
func TestIAMPolicyCoversContainerInsightsGroups(t *testing.T) {
	p := readPolicy(t)
	groups := map[string]bool{}
	for _, g := range []string{"application", "dataplane", "host"} {
		groups["/aws/containerinsights/{cluster}/"+g] = true
	}
	values := readYAML(t, path.Join(chartDir, "values.yaml"))["config"].(map[string]any)
	groups[values["cloudwatch"].(map[string]any)["log_group"].(string)] = true
	inputs := values["inputs"].(map[string]any)
	for _, name := range slices.Sorted(maps.Keys(inputs)) {
		groups[inputs[name].(map[string]any)["log_group"].(string)] = true
	}
	if len(groups) != 3 {
		t.Errorf("the chart's default log groups and Container Insights' three: %v; want the same three", slices.Sorted(maps.Keys(groups)))
	}
	const acct = "arn:aws:logs:eu-west-1:111122223333:log-group:"
	for _, tmpl := range slices.Sorted(maps.Keys(groups)) {
		for _, cluster := range []string{"prod", "team-a.eu"} {
			group := acct + strings.ReplaceAll(tmpl, "{cluster}", cluster)
			stream := group + ":log-stream:ip-10-0-1-2.eu-west-1.compute.internal-application.var.log.containers.web-1_shop_app-0123.log"
			for _, c := range []struct{ action, arn string }{
				{"logs:CreateLogGroup", group},
				{"logs:PutRetentionPolicy", group},
				{"logs:CreateLogStream", group},
				{"logs:PutLogEvents", stream},
			} {
				if !p.allowed(c.action, c.arn) {
					t.Errorf("policy.json does not allow %s on %s", c.action, c.arn)
				}
			}
		}
	}
	// Nothing beyond the layout.
	for _, g := range []string{"/aws/containerinsight/prod/host", "/aws/eks/prod/cluster", "/dataplane"} {
		if p.allowed("logs:PutLogEvents", acct+g+":log-stream:x") || p.allowed("logs:CreateLogGroup", acct+g) {
			t.Errorf("policy.json allows writing to %s", g)
		}
	}
}

// The setup commands refer to files that exist, and the trust policies parse.
func TestIAMDocs(t *testing.T) {
	for _, f := range []string{"iam/trust-pod-identity.json", "iam/trust-irsa.json"} {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var v map[string]any
		if err := json.Unmarshal(data, &v); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	readme, err := os.ReadFile("iam/README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile(`deploy/(iam/[a-z-]+\.json|kubernetes/[a-z/-]+\.yaml)`).FindAllStringSubmatch(string(readme), -1) {
		if _, err := os.Stat(path.Clean(m[1])); err != nil {
			t.Errorf("iam/README.md refers to %s: %v", m[0], err)
		}
	}
}
