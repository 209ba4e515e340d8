package deploy

import (
	"encoding/json"
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

func TestIAMPolicy(t *testing.T) {
	data, err := os.ReadFile("iam/policy.json")
	if err != nil {
		t.Fatal(err)
	}
	var p policy
	if err := json.Unmarshal(data, &p); err != nil {
		t.Fatalf("policy.json: %v", err)
	}
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
