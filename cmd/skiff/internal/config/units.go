package config

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// Duration is a time.Duration written as "1s", "250ms" or "5m".
type Duration time.Duration

// String formats d as time.Duration does.
func (d Duration) String() string { return time.Duration(d).String() }

// Std returns d as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// ParseDuration parses "1s", "250ms", "1m30s". A bare number is an error,
// since "25" could mean seconds or milliseconds.
func ParseDuration(s string) (Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		if _, nerr := strconv.ParseFloat(s, 64); nerr == nil {
			return 0, fmt.Errorf("%q is not a duration: add a unit, as in %ss or %sms", s, s, s)
		}
		return 0, fmt.Errorf("%q is not a duration (examples: 500ms, 1s, 5m)", s)
	}
	if d < 0 {
		return 0, fmt.Errorf("%q is negative", s)
	}
	return Duration(d), nil
}

// Size is a number of bytes, written as ParseSize reads it.
type Size int64

// String formats s in the largest binary unit that divides it.
func (s Size) String() string {
	for _, u := range []struct {
		name string
		n    int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if s != 0 && int64(s)%u.n == 0 {
			return fmt.Sprintf("%d%s", int64(s)/u.n, u.name)
		}
	}
	return strconv.FormatInt(int64(s), 10)
}

// MarshalYAML writes s as String does.
func (s Size) MarshalYAML() (any, error) { return s.String(), nil }

// MarshalYAML writes d as String does.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// sizeUnits are the multipliers of ParseSize, by prefix.
var sizeUnits = map[string]int64{
	"":  1,
	"K": 1e3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12,
	"Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30, "Ti": 1 << 40,
}

// ParseSize parses a whole number of bytes with an optional unit, the way
// Kubernetes quantities are written and the way people write bytes: K (or
// k), M, G, T are powers of 1000 and Ki, Mi, Gi, Ti powers of 1024, each
// with or without a trailing B; a bare B is bytes. So 64Mi, 64MiB and
// 67108864 are the same size, and 64M and 64MB are 64,000,000. A space may
// separate the number and the unit. Fractions and exponents are refused.
func ParseSize(s string) (Size, error) {
	num := strings.TrimSpace(s)
	end := len(num)
	for end > 0 && (num[end-1] < '0' || num[end-1] > '9') {
		end--
	}
	unit := strings.TrimSpace(num[end:])
	num = strings.TrimSpace(num[:end])
	mult, ok := sizeUnits[unit]
	if u, isB := strings.CutSuffix(unit, "B"); !ok && isB {
		mult, ok = sizeUnits[u]
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if !ok || err != nil || n < 0 || strings.ContainsAny(num, "+-") {
		return 0, fmt.Errorf("%q is not a size (examples: 65536, 512Ki, 64Mi, 64MiB, 64M, 1Gi)", s)
	}
	if n > (1<<62)/mult {
		return 0, fmt.Errorf("%q is too large", s)
	}
	return Size(n * mult), nil
}

func hostname() string {
	h, err := os.Hostname()
	if err != nil {
		return ""
	}
	return h
}
