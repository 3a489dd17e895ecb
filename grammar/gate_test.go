package grammar

import (
	"testing"
)

func TestParseGate(t *testing.T) {
	good := []struct {
		in, norm string
		rel      bool
		pct      float64
		ns       int64
	}{
		{"p99>+10%", "p99>+10%", true, 10, 0},
		{"p50 > 2.5%", "p50>+2.5%", true, 2.5, 0},
		{" mean>+5ms ", "mean>+5ms", false, 0, 5_000_000},
		{"P95>250us", "p95>+250us", false, 0, 250_000},
		{"p95>+250µs", "p95>+250µs", false, 0, 250_000},
		{"p99>1s", "p99>+1s", false, 0, 1_000_000_000},
		{"p99>0ns", "p99>+0ns", false, 0, 0},
	}
	for _, tc := range good {
		g, err := ParseGate(tc.in)
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		if g.String() != tc.norm || g.Relative != tc.rel || g.Pct != tc.pct || g.Ns != tc.ns {
			t.Errorf("%q: got %s %+v", tc.in, g, g)
		}
	}

}
