package config

import (
	"fmt"
	"strings"
)

// Expand replaces ${VAR} with getenv("VAR"), and ${VAR:-default} with the
// default when VAR is unset or empty. "$$" is a literal "$"; a "$" followed
// by anything else is kept as it is. The result is never parsed again, so
// a variable cannot inject YAML or further references. (Parse keeps a key's
// default when its value expands to nothing.)
func Expand(s string, getenv func(string) string) (string, error) {
	if !strings.Contains(s, "$") {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '$' || i+1 == len(s) {
			b.WriteByte(c)
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i++
			continue
		case '{':
		default:
			b.WriteByte(c)
			continue
		}
		end := strings.IndexByte(s[i:], '}')
		if end < 0 {
			return "", fmt.Errorf("%q: ${ without a closing }", s)
		}
		ref := s[i+2 : i+end]
		name, def, hasDef := strings.Cut(ref, ":-")
		if !validVarName(name) {
			return "", fmt.Errorf("%q: %q is not a variable name (want ${NAME} or ${NAME:-default})", s, "${"+ref+"}")
		}
		val := getenv(name)
		if val == "" && hasDef {
			val = def
		}
		b.WriteString(val)
		i += end
	}
	return b.String(), nil
}

func validVarName(name string) bool {
	if name == "" {
		return false
	}
	for i, r := range name {
		switch {
		case r == '_', r >= 'A' && r <= 'Z', r >= 'a' && r <= 'z':
		case r >= '0' && r <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}
