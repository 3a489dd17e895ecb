package analyze

import (
	"strings"
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
	bad := []struct{ in, want string }{
		{"p98>+10%", `fail-on rule "p98>+10%", column 1: unknown metric: found "p98>+10%", want one of p50, p95, p99, mean`},
		{"p99<+10%", `fail-on rule "p99<+10%", column 4: missing comparison: found "<+10%", want ">" (a gate fails on growth)`},
		{"p99>+10", `fail-on rule "p99>+10", column 8: unknown unit: found the end, want % or a duration unit: ns, us, µs, ms, s`},
		{"p99>+10 min", `fail-on rule "p99>+10 min", column 9: unknown unit: found "min", want % or a duration unit`},
		{"p99>-10%", `column 5: missing threshold: found "-10%", want a non-negative number`},
		{"", `fail-on rule "", column 1: unknown metric: found the end`},
	}
	for _, tc := range bad {
		_, err := ParseGate(tc.in)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: got error %v, want it to contain %q", tc.in, err, tc.want)
		}
	}
}

// ms builds ascending samples in ns from values in ms.
func ms(vs ...float64) []int64 {
	out := make([]int64, len(vs))
	for i, v := range vs {
		out[i] = int64(v * 1e6)
	}
	return out
}

func rangeMs(n int, from, step float64) []int64 {
	vs := make([]float64, n)
	for i := range vs {
		vs[i] = from + step*float64(i)
	}
	return ms(vs...)
}

func TestCompare(t *testing.T) {
	base := &Report{
		Endpoints: []Endpoint{
			{Service: "api", Operation: "GET /a", Samples: rangeMs(100, 10, 0.1)},
			{Service: "api", Operation: "GET /old", Samples: rangeMs(10, 1, 1)},
		},
		Hops: []Hop{
			{From: "api", To: "db", Operation: "query", Samples: rangeMs(100, 5, 0.01), CriticalPathMeanUs: 5000, OnPathFraction: 1},
			{From: "api", To: "cache", Operation: "get", Samples: rangeMs(100, 1, 0.01)},
		},
	}
	cand := &Report{
		Endpoints: []Endpoint{
			{Service: "api", Operation: "GET /a", Samples: rangeMs(100, 10, 0.1)}, // unchanged
			{Service: "api", Operation: "GET /new", Samples: rangeMs(10, 1, 1)},
		},
		Hops: []Hop{
			// 20% slower throughout.
			{From: "api", To: "db", Operation: "query", Samples: rangeMs(100, 6, 0.012), CriticalPathMeanUs: 6000, OnPathFraction: 1},
			// 1 ms slower: a large relative change, significant.
			{From: "api", To: "cache", Operation: "get", Samples: rangeMs(100, 2, 0.01)},
		},
	}
	p99, _ := ParseGate("p99>+10%")
	abs, _ := ParseGate("p50>+1.5ms")
	c := Compare(base, cand, CompareOptions{Gates: []Gate{p99, abs}})
	if c.Compared != 3 || c.Significant != 2 || !c.Failed || c.Correction != CorrectionHolm {
		t.Fatalf("compared %d, significant %d, failed %v, correction %s", c.Compared, c.Significant, c.Failed, c.Correction)
	}
	if len(c.Endpoints) != 3 {
		t.Fatalf("endpoints %+v", c.Endpoints)
	}
	a, nw, old := c.Endpoints[0], c.Endpoints[1], c.Endpoints[2]
	if a.Operation != "GET /a" || a.Significant || a.PValue != 1 || a.Direction != "" || *a.DeltaPct.P99 != 0 {
		t.Errorf("unchanged endpoint: %+v", a)
	}
	if nw.Status != StatusAdded || nw.Before != nil || nw.After.Count != 10 || old.Status != StatusRemoved || old.After != nil {
		t.Errorf("added/removed: %+v / %+v", nw.Change, old.Change)
	}
	cache, db := c.Hops[0], c.Hops[1]
	if db.To != "db" || !db.Significant || db.Direction != "slower" || len(db.Regressions) != 1 || db.Regressions[0] != "p99>+10%" {
		t.Errorf("db hop: %+v", db)
	}
	if db.Before.P50Us != 5490 || db.After.P50Us != 6588 || db.DeltaUs.P50 != 1098 || db.CriticalPath.DeltaMeanUs != 1000 {
		t.Errorf("db hop figures: before %+v after %+v delta %+v cp %+v", db.Before, db.After, db.DeltaUs, db.CriticalPath)
	}
	// +1 ms at p50: over 10% but not over 1.5 ms.
	if cache.To != "cache" || !cache.Significant || len(cache.Regressions) != 1 || cache.Regressions[0] != "p99>+10%" {
		t.Errorf("cache hop: %+v", cache)
	}
	if cache.PAdjusted < cache.PValue || cache.PAdjusted > 3*cache.PValue+1e-15 {
		t.Errorf("Holm: p %g adjusted %g", cache.PValue, cache.PAdjusted)
	}

	// Without gates nothing fails; significance stays.
	c = Compare(base, cand, CompareOptions{})
	if c.Failed || c.Significant != 2 || len(c.FailOn) != 0 {
		t.Errorf("no gates: failed %v, significant %d", c.Failed, c.Significant)
	}
}

func TestCompareFewSamples(t *testing.T) {
	base := &Report{Hops: []Hop{{From: "a", To: "b", Operation: "x", Samples: ms(1, 2, 3)}}}
	cand := &Report{Hops: []Hop{{From: "a", To: "b", Operation: "x", Samples: ms(10, 20, 30)}}}
	c := Compare(base, cand, CompareOptions{})
	h := c.Hops[0]
	// 3 and 3 values: the smallest possible p-value is 2/C(6,3) = 0.1.
	if h.Significant || h.PValue != 0.1 || len(h.Warnings) != 1 || !strings.Contains(h.Warnings[0], "no change can be significant") {
		t.Errorf("%+v", h)
	}
}
