package main

import "testing"

func TestGroupDigits(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -45678: "-45,678"} {
		if got := groupDigits(n); got != want {
			t.Errorf("groupDigits(%d) = %q; want %q", n, got, want)
		}
	}
}

func TestBar(t *testing.T) {
	for _, tc := range []struct {
		used, limit float64
		want        string
	}{
		{0, 100, "[····]"},
		{1, 100, "[█···]"}, // anything in use shows
		{50, 100, "[██··]"},
		{200, 100, "[████]"},
		{1, 0, ""},
	} {
		if got := bar(tc.used, tc.limit, 4); got != tc.want {
			t.Errorf("bar(%v, %v) = %q; want %q", tc.used, tc.limit, got, tc.want)
		}
	}
}
