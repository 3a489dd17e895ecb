package analyze

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"hopbudget/grammar"
	"hopbudget/tracefmt"
)

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
	p99, _ := grammar.ParseGate("p99>+10%")
	abs, _ := grammar.ParseGate("p50>+1.5ms")
	c := Compare(base, cand, CompareOptions{Gates: []grammar.Gate{p99, abs}})
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
	if h.Significant || h.PValue != 0.1 || len(h.Warnings) != 3 || !strings.Contains(h.Warnings[0], "no change can be significant") ||
		h.Warnings[1] != "base: only 3 samples: p95 is the maximum, p99 is the maximum" || h.Verdict != VerdictSame || h.Direction != "" {
		t.Errorf("%+v", h)
	}
}

// The case: on 160 samples a hop's p50 fell 21% while its p99 (the
// 2nd largest value) rose 25.6%. The U test finds it faster; the p99 gate
// is exceeded, but rests on two requests: its bootstrap interval reaches
// below zero, so no regression, and the verdict is one word.
func TestCompareTailOfTwoIsNoRegression(t *testing.T) {
	n := 160
	base, cand := make([]int64, n), make([]int64, n)
	for i := range n {
		base[i] = int64(10e6 + float64(i)*100e3) // 10 … 25.9 ms
		cand[i] = int64(float64(base[i]) * 0.79) // 21% faster
	}
	cand[n-2], cand[n-1] = int64(float64(base[n-2])*1.256), int64(float64(base[n-1])*1.256)
	gate, _ := grammar.ParseGate("p99>+10%")
	c := Compare(&Report{Hops: []Hop{{From: "a", To: "b", Operation: "x", Samples: base}}},
		&Report{Hops: []Hop{{From: "a", To: "b", Operation: "x", Samples: cand}}}, CompareOptions{Gates: []grammar.Gate{gate}})
	h := c.Hops[0]
	if *h.DeltaPct.P99 < 25 || *h.DeltaPct.P50 > -20 {
		t.Fatalf("fixture: p50 %+.1f%%, p99 %+.1f%%", *h.DeltaPct.P50, *h.DeltaPct.P99)
	}
	g := h.Gates[0]
	if !g.Exceeded || g.Regression || g.CILowUs == nil || *g.CILowUs >= 0 || g.Method != "bootstrap" || c.Failed {
		t.Errorf("gate %+v (CI %v…%v); failed %v", g, deref(g.CILowUs), deref(g.CIHighUs), c.Failed)
	}
	if h.Verdict != VerdictFaster || h.Direction != VerdictFaster || len(h.Regressions) != 0 || c.Faster != 1 || c.Regressions != 0 {
		t.Errorf("verdict %q direction %q regressions %v; counts %d faster, %d regressions", h.Verdict, h.Direction, h.Regressions, c.Faster, c.Regressions)
	}
	if !slices.Contains(h.Warnings, "base: only 160 samples: p99 is the 2nd largest") {
		t.Errorf("warnings %q", h.Warnings)
	}
}

// A tail that really grew: the body 10% faster (the U test says faster),
// the slowest 5% half again as slow, on 2000 samples a side. The p99 gate
// finds a regression, and the verdict says regression, direction slower:
// never faster.
func TestCompareTailRegression(t *testing.T) {
	n := 2000
	base, cand := make([]int64, n), make([]int64, n)
	for i := range n {
		base[i] = int64(10e6 + float64(i)*10e3)
		cand[i] = int64(float64(base[i]) * 0.9)
		if i >= n*95/100 {
			cand[i] = int64(float64(base[i]) * 1.5)
		}
	}
	gate, _ := grammar.ParseGate("p99>+10%")
	c := Compare(&Report{Endpoints: []Endpoint{{Service: "s", Operation: "o", Samples: base}}},
		&Report{Endpoints: []Endpoint{{Service: "s", Operation: "o", Samples: cand}}}, CompareOptions{Gates: []grammar.Gate{gate}})
	e := c.Endpoints[0]
	g := e.Gates[0]
	if e.Shift != VerdictFaster || !e.Significant {
		t.Fatalf("fixture: shift %q significant %v", e.Shift, e.Significant)
	}
	if !g.Regression || *g.CILowUs <= 0 || e.Verdict != VerdictRegression || e.Direction != VerdictSlower || !c.Failed ||
		c.Regressions != 1 || c.Faster != 0 || c.Level != 0.95 {
		t.Errorf("gate %+v (CI %v…%v); verdict %q direction %q; counts %d regressions %d faster; level %v",
			g, deref(g.CILowUs), deref(g.CIHighUs), e.Verdict, e.Direction, c.Regressions, c.Faster, c.Level)
	}
	// Deterministic: the same interval every time.
	c2 := Compare(&Report{Endpoints: []Endpoint{{Service: "s", Operation: "o", Samples: base}}},
		&Report{Endpoints: []Endpoint{{Service: "s", Operation: "o", Samples: cand}}}, CompareOptions{Gates: []grammar.Gate{gate}})
	if g2 := c2.Endpoints[0].Gates[0]; *g2.CILowUs != *g.CILowUs || *g2.CIHighUs != *g.CIHighUs {
		t.Errorf("intervals differ between runs: %d…%d, %d…%d", *g.CILowUs, *g.CIHighUs, *g2.CILowUs, *g2.CIHighUs)
	}
}

// The bootstrap interval of a percentile difference covers the true
// difference of two known distributions about as often as its level says.
func TestBootstrapIntervalCoverage(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	const trials, n = 200, 400
	covered := 0
	for trial := range trials {
		b, a := make([]int64, n), make([]int64, n)
		for i := range n {
			b[i] = int64(r.ExpFloat64() * 1e6)       // exponential, mean 1 ms: p95 = 3.00 ms
			a[i] = int64(r.ExpFloat64()*1e6) + 500e3 // shifted by 0.5 ms
		}
		slices.Sort(b)
		slices.Sort(a)
		lo, hi := bootstrapInterval(b, a, 95, 0.9, fmt.Sprint(trial))
		if lo <= 500e3 && 500e3 <= hi {
			covered++
		}
	}
	if covered < trials*80/100 || covered > trials*98/100 {
		t.Errorf("a 90%% interval covered the true difference in %d of %d trials", covered, trials)
	}
}

func deref(p *int64) any {
	if p == nil {
		return nil
	}
	return *p
}

// An N+1 regression shows as more calls per request, significant, even
// when each call got faster.
func TestCompareCallsPerTrace(t *testing.T) {
	var base, cand []tracefmt.Trace
	for i := range uint64(20) {
		base = append(base, callTrace(i+1, 10000, call{"db", "SELECT", 1000, 6000}))
		cand = append(cand, callTrace(i+1, 10000, call{"db", "SELECT", 1000, 3000}, call{"db", "SELECT", 3010, 5000}, call{"db", "SELECT", 5010, 7000}))
	}
	c := Compare(mustAnalyze(base, DefaultOptions()), mustAnalyze(cand, DefaultOptions()), CompareOptions{})
	if len(c.Hops) != 1 {
		t.Fatalf("hops %+v", c.Hops)
	}
	cs := c.Hops[0].CallsPerTrace
	if cs.BeforeMean != 1 || cs.AfterMean != 3 || cs.Ratio != 3 || !cs.Significant {
		t.Errorf("calls per trace %+v, want 1 → 3 (3×), significant", cs)
	}
	same := Compare(mustAnalyze(base, DefaultOptions()), mustAnalyze(base, DefaultOptions()), CompareOptions{})
	if cs := same.Hops[0].CallsPerTrace; cs.Significant || cs.Ratio != 1 {
		t.Errorf("no change: %+v", cs)
	}
}
