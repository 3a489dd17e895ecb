package grammar

import (
	"strings"
	"testing"
)

func TestBandKeep(t *testing.T) {
	tests := []struct {
		band     string
		slowest  string
		n        int
		from, to int // 0-based [from, to)
	}{
		{"p95-p100", "", 100, 95, 100},
		{"p0-p100", "", 7, 0, 7},
		{"p0-p50", "", 101, 0, 51},
		{"p50-p100", "", 101, 50, 101},
		{"p99-p100", "", 10, 9, 10},
		{"p99.9-p100", "", 1000, 999, 1000},
		{"p25-p75", "", 8, 2, 6},
		{"", "1%", 100, 99, 100},
		{"", "1%", 10, 9, 10}, // at least the slowest one
		{"", "5%", 1, 0, 1},
		{"", "100%", 3, 0, 3},
		{"", "0.1", 2000, 1998, 2000},
	}
	for _, tc := range tests {
		var b Band
		var err error
		if tc.band != "" {
			b, err = ParseBand(tc.band)
		} else {
			b, err = ParseSlowest(tc.slowest)
		}
		if err != nil {
			t.Fatalf("%s%s: %v", tc.band, tc.slowest, err)
		}
		if from, to := b.Ranks(tc.n); from != tc.from || to != tc.to {
			t.Errorf("%s%s of %d: keeps [%d, %d), want [%d, %d)", tc.band, tc.slowest, tc.n, from, to, tc.from, tc.to)
		}
	}
	for _, bad := range []string{"p95", "p100-p95", "p50-p50", "p-1-p10", "p95-p101", "pa-p100", "p95.0001-p100"} {
		if _, err := ParseBand(bad); err == nil || !strings.Contains(err.Error(), bad) {
			t.Errorf("ParseBand(%q): %v", bad, err)
		}
	}
	for _, bad := range []string{"0%", "101%", "x", "-1%"} {
		if _, err := ParseSlowest(bad); err == nil || !strings.Contains(err.Error(), bad) {
			t.Errorf("ParseSlowest(%q): %v", bad, err)
		}
	}
}
