package fluentbit

import (
	"regexp"
	"strings"
)

// route is how much of an input's records a Match (or Match_Regex) takes.
type route uint8

const (
	routeNone route = iota
	routeAll
	routePart // it depends on the file name or the unit: not translated
)

// matcher is a filter's or output's Match, or Match_Regex.
type matcher struct {
	glob  string         // Match: "*" matches any text, dots included
	re    *regexp.Regexp // Match_Regex
	entry Entry          // where it is written
	bad   string         // why it cannot be used ("" when it can)
}

// matcherOf reads a section's Match_Regex, else its Match. Fluent Bit's
// default Match matches nothing.
func matcherOf(s *Section) matcher {
	if e, ok := s.Get("match_regex"); ok {
		re, err := regexp.Compile(e.Value)
		if err != nil {
			return matcher{entry: e, bad: "Match_Regex is not an RE2 regular expression: " + err.Error()}
		}
		return matcher{re: re, entry: e}
	}
	e, ok := s.Get("match")
	if !ok {
		return matcher{bad: "no Match: it takes no records"}
	}
	return matcher{glob: e.Value, entry: e}
}

// routes says how much of the records with tags of templates (a "*" in
// a template stands for the part of the tag that varies: the file's path
// or the journal unit) m takes.
func (m matcher) routes(templates []string) route {
	if m.bad != "" && m.re == nil && m.glob == "" {
		return routeNone
	}
	all, none := true, true
	for _, t := range templates {
		var r route
		if m.re != nil {
			// A regex against a pattern is not decidable here: judge by
			// a sample, and say so in the report.
			if m.re.MatchString(strings.ReplaceAll(t, "*", "x")) {
				r = routeAll
			}
		} else {
			switch {
			case globCovers(m.glob, t):
				r = routeAll
			case globsMeet(m.glob, t):
				r = routePart
			}
		}
		all = all && r == routeAll
		none = none && r == routeNone
	}
	switch {
	case len(templates) == 0 || none:
		return routeNone
	case all:
		return routeAll
	}
	return routePart
}

// maxGlobWork bounds the table globCovers and globsMeet fill: beyond it
// (tags or patterns thousands of bytes long) they answer conservatively,
// "does not cover" and "may meet", so that routing is reported rather
// than guessed.
const maxGlobWork = 1 << 20

// globCovers reports whether the glob pattern p matches every text the
// template t stands for: p's "*" may absorb t's "*", but no literal of p
// may.
func globCovers(p, t string) bool {
	n, m := len(p), len(t)
	if (n+1)*(m+1) > maxGlobWork {
		return false
	}
	// dp[i*(m+1)+j]: p[i:] covers t[j:].
	dp := make([]bool, (n+1)*(m+1))
	dp[n*(m+1)+m] = true
	for i := n - 1; i >= 0; i-- {
		for j := m; j >= 0; j-- {
			if p[i] == '*' {
				dp[i*(m+1)+j] = dp[(i+1)*(m+1)+j] || j < m && dp[i*(m+1)+j+1]
			} else {
				dp[i*(m+1)+j] = j < m && t[j] != '*' && p[i] == t[j] && dp[(i+1)*(m+1)+j+1]
			}
		}
	}
	return dp[0]
}

// globsMeet reports whether some text matches both glob patterns, "*"
// being any text in both.
func globsMeet(a, b string) bool {
	n, m := len(a), len(b)
	if (n+1)*(m+1) > maxGlobWork {
		return true
	}
	// dp[i*(m+1)+j]: a[i:] and b[j:] match a common text.
	dp := make([]bool, (n+1)*(m+1))
	for i := n; i >= 0; i-- {
		for j := m; j >= 0; j-- {
			var v bool
			switch {
			case i == n:
				v = strings.Trim(b[j:], "*") == ""
			case j == m:
				v = strings.Trim(a[i:], "*") == ""
			case a[i] == '*' || b[j] == '*':
				v = dp[(i+1)*(m+1)+j] || dp[i*(m+1)+j+1]
			default:
				v = a[i] == b[j] && dp[(i+1)*(m+1)+j+1]
			}
			dp[i*(m+1)+j] = v
		}
	}
	return dp[0]
}

// starGlob turns a path glob into a "*"-only glob that matches at least
// what it matches: "?" and "[...]" become "*".
func starGlob(g string) string {
	var b strings.Builder
	for i := 0; i < len(g); i++ {
		switch g[i] {
		case '?':
			b.WriteByte('*')
		case '[':
			if end := strings.IndexByte(g[i:], ']'); end > 0 {
				i += end
			}
			b.WriteByte('*')
		default:
			b.WriteByte(g[i])
		}
	}
	return b.String()
}

// pathTag is the tag Fluent Bit's tail input gives a path in place of
// "*": the path without its leading slash, with dots for slashes.
func pathTag(path string) string {
	return strings.ReplaceAll(strings.TrimPrefix(path, "/"), "/", ".")
}
