package analyze

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"hopbudget/grammar"
)

// Comparing two sets of traces (before and after a deploy): per endpoint
// and per hop, the percentiles on each side, their change, and whether the
// change is statistically significant by a Mann–Whitney U test, as
// benchstat compares benchmark runs. A gate (--fail-on) fails on a gated
// statistic that grew beyond a threshold with a confidence interval above
// zero (see compare_gate.go for the one verdict rule).

// DefaultAlpha is the significance level of Compare.
const DefaultAlpha = 0.05

// CompareOptions control Compare.
type CompareOptions struct {
	// Alpha: a change is significant when the U test's p-value, after
	// the multiple-comparison correction, is below it; 0 means
	// DefaultAlpha.
	Alpha float64
	// Gates: a significant change of an endpoint or hop that exceeds any
	// of them is a regression and fails the comparison.
	Gates []grammar.Gate
	// NoCorrection judges each p-value on its own against Alpha, as
	// benchstat does. By default they are Holm-adjusted over all the
	// endpoints and hops compared (see Comparison.Correction).
	NoCorrection bool
}

// Multiple-comparison corrections.
const (
	CorrectionHolm = "holm"
	CorrectionNone = "none"
)

// Comparison is the result of Compare. Its JSON is `hopbudget diff -o
// json`'s (with the inputs beside it).
type Comparison struct {
	Alpha float64 `json:"alpha"`
	// Correction: "holm" (default) or "none". A diff runs one test per
	// endpoint and hop, dozens at once: at alpha 0.05 each, two runs of
	// one build would show a "significant" change more often than not.
	// Holm's step-down adjustment keeps the chance of any false alarm
	// below alpha, whatever the dependence between the tests (an
	// endpoint and its hops are strongly dependent), and loses little
	// power for real regressions, whose p-values are tiny.
	Correction string `json:"correction"`
	// Compared: endpoints and hops on both sides, i.e. tests run.
	Compared int `json:"compared"`
	// FailOn: the gates, as parsed (Gate.String).
	FailOn []string `json:"failOn"`
	// Failed: some item is a regression by a gate.
	Failed bool `json:"failed"`
	// Significant counts the endpoints and hops whose distribution
	// changed significantly (the U test).
	Significant int `json:"significant"`
	// The compared items by verdict (Change.Verdict): they add up to
	// Compared.
	Regressions int `json:"regressions"`
	Slower      int `json:"slower"`
	Faster      int `json:"faster"`
	Unchanged   int `json:"unchanged"`
	// Level is the confidence of each gate's interval: 1 − alpha, or with
	// the Holm correction 1 − alpha/(compared × gates) (Bonferroni: the
	// chance of any false regression stays below alpha).
	Level float64 `json:"level,omitempty"`
	// Endpoints sorted by (service, operation); hops by (from, to,
	// operation): the union of both sides.
	Endpoints []EndpointChange `json:"endpoints"`
	Hops      []HopChange      `json:"hops"`
}

// Stats are one side's figures for an endpoint or hop (latency of the
// request or call), exact nearest-rank percentiles as in Report.
type Stats struct {
	Count  int   `json:"count"`
	P50Us  int64 `json:"p50Us"`
	P95Us  int64 `json:"p95Us"`
	P99Us  int64 `json:"p99Us"`
	MeanUs int64 `json:"meanUs"`

	ns [numMetrics]int64 // the same in ns, for deltas and gates
}

// Metrics a gate can test, in Stats order.
const (
	metricP50 = iota
	metricP95
	metricP99
	metricMean
	numMetrics
)

// metricNames are the metrics by name, as grammar.GateMetrics names them.
var metricNames = [numMetrics]string{"p50", "p95", "p99", "mean"}

// Deltas are after − before per metric, in µs.
type Deltas struct {
	P50  int64 `json:"p50"`
	P95  int64 `json:"p95"`
	P99  int64 `json:"p99"`
	Mean int64 `json:"mean"`
}

// PctDeltas are (after − before) / before in percent, per metric; null
// when before is 0.
type PctDeltas struct {
	P50  *float64 `json:"p50"`
	P95  *float64 `json:"p95"`
	P99  *float64 `json:"p99"`
	Mean *float64 `json:"mean"`
}

// Change statuses.
const (
	StatusBoth    = "both"    // on both sides: compared
	StatusAdded   = "added"   // only in the candidate
	StatusRemoved = "removed" // only in the base
)

// Change is how one endpoint or hop changed.
type Change struct {
	Status string `json:"status"`
	// Before and After are null on the side where the item is absent.
	Before *Stats `json:"before"`
	After  *Stats `json:"after"`
	// DeltaUs and DeltaPct: after − before (status "both" only).
	DeltaUs  *Deltas    `json:"deltaUs,omitempty"`
	DeltaPct *PctDeltas `json:"deltaPct,omitempty"`
	// PValue of the two-sided Mann–Whitney U test of the latency samples
	// (1 when not compared); PAdjusted the same after the correction for
	// multiple comparisons (Comparison.Correction; equal with "none").
	// Significant when PAdjusted is below alpha.
	PValue      float64 `json:"pValue"`
	PAdjusted   float64 `json:"pAdjusted"`
	Significant bool    `json:"significant"`
	// Verdict: one of regression, slower, faster, ~ (no significant
	// change), added, removed (see compare_gate.go).
	Verdict string `json:"verdict"`
	// Direction is the verdict's: "slower" for a regression or a
	// significant shift up, "faster" for one down, "" otherwise; never
	// "faster" on a regression.
	Direction string `json:"direction"`
	// Shift is the U test's direction, significant or not: "slower" when
	// candidate values tend to be larger (U above n1·n2/2), "faster" when
	// smaller, "" when neither.
	Shift string `json:"shift"`
	// Regressions: the gates this change fails (GateCheck.Regression).
	Regressions []string `json:"regressions,omitempty"`
	// Gates: each --fail-on rule held to this change (status both only).
	Gates []GateCheck `json:"gates,omitempty"`
	// Warnings about the statistics, e.g. too few samples to ever be
	// significant, or a tail percentile that is one of the few largest
	// values.
	Warnings []string `json:"warnings,omitempty"`

	b, a []int64 // the sorted samples, for the gates' intervals
	key  string  // the item's identity, seeding its bootstrap
}

// EndpointChange is an endpoint's change (root span durations).
type EndpointChange struct {
	Service   string `json:"service"`
	Operation string `json:"operation"`
	Change
}

// HopChange is a hop's change (client-side call latency), with its
// critical-path share on each side.
type HopChange struct {
	From      string `json:"from"`
	To        string `json:"to"`
	Operation string `json:"operation"`
	Statement string `json:"statement,omitempty"` // as Hop.Statement: part of the identity
	Change
	CriticalPath CPShift `json:"criticalPath"`
	// CallsPerTrace: how many calls of the hop a trace makes (over the
	// traces that make any), before and after, so that an N+1 regression
	// reads "3.3× more queries per request", not "faster per call".
	CallsPerTrace CallsShift `json:"callsPerTrace"`
}

// CallsShift compares calls per trace: means, their ratio (after/before,
// 0 without both sides) and the Mann–Whitney p-value of the per-trace
// counts (unadjusted; Significant at the comparison's alpha).
type CallsShift struct {
	BeforeMean  float64 `json:"beforeMean"`
	AfterMean   float64 `json:"afterMean"`
	Ratio       float64 `json:"ratio"`
	P           float64 `json:"p"`
	Significant bool    `json:"significant"`
}

// CPShift is a hop's critical-path share before and after: the mean time
// the critical path spends in its calls per trace containing it
// (Hop.CriticalPathMeanUs) and the fraction of those traces where it is on
// the path at all (Hop.OnPathFraction). Zero on a side without the hop.
type CPShift struct {
	BeforeMeanUs int64   `json:"beforeMeanUs"`
	AfterMeanUs  int64   `json:"afterMeanUs"`
	DeltaMeanUs  int64   `json:"deltaMeanUs"`
	BeforeOnPath float64 `json:"beforeOnPath"`
	AfterOnPath  float64 `json:"afterOnPath"`
}

// Compare compares base (before) with cand (after): every endpoint and hop
// of either side, matched by key.
func Compare(base, cand *Report, opts CompareOptions) *Comparison {
	if opts.Alpha <= 0 {
		opts.Alpha = DefaultAlpha
	}
	c := &Comparison{Alpha: opts.Alpha, Correction: CorrectionHolm, FailOn: []string{}, Endpoints: []EndpointChange{}, Hops: []HopChange{}}
	if opts.NoCorrection {
		c.Correction = CorrectionNone
	}
	for _, g := range opts.Gates {
		c.FailOn = append(c.FailOn, g.String())
	}
	eps := map[key2][2]*Endpoint{}
	for side, r := range []*Report{base, cand} {
		for i := range r.Endpoints {
			e := &r.Endpoints[i]
			k := key2{e.Service, e.Operation}
			v := eps[k]
			v[side] = &r.Endpoints[i]
			eps[k] = v
		}
	}
	for _, k := range sortedKeys2(eps) {
		v := eps[k]
		var b, a []int64
		if v[0] != nil {
			b = v[0].Samples
		}
		if v[1] != nil {
			a = v[1].Samples
		}
		ec := EndpointChange{Service: k.a, Operation: k.b,
			Change: compareSamples(b, a, v[0] != nil, v[1] != nil)}
		ec.key = "endpoint\x00" + k.a + "\x00" + k.b
		c.Endpoints = append(c.Endpoints, ec)
	}
	hops := map[hopKey][2]*Hop{}
	for side, r := range []*Report{base, cand} {
		for i := range r.Hops {
			h := &r.Hops[i]
			k := hopKey{h.From, h.To, h.Operation, h.Statement}
			v := hops[k]
			v[side] = h
			hops[k] = v
		}
	}
	for _, k := range sortedHopKeys(hops) {
		v := hops[k]
		var b, a []int64
		var cp CPShift
		if v[0] != nil {
			b = v[0].Samples
			cp.BeforeMeanUs, cp.BeforeOnPath = v[0].CriticalPathMeanUs, v[0].OnPathFraction
		}
		if v[1] != nil {
			a = v[1].Samples
			cp.AfterMeanUs, cp.AfterOnPath = v[1].CriticalPathMeanUs, v[1].OnPathFraction
		}
		cp.DeltaMeanUs = cp.AfterMeanUs - cp.BeforeMeanUs
		hc := HopChange{From: k.a, To: k.b, Operation: k.c, Statement: k.stmt,
			Change: compareSamples(b, a, v[0] != nil, v[1] != nil), CriticalPath: cp}
		if v[0] != nil && v[1] != nil {
			x, y := v[0].CallsPerTrace, v[1].CallsPerTrace
			cs := CallsShift{BeforeMean: x.Mean, AfterMean: y.Mean, P: 1}
			if x.Mean > 0 {
				cs.Ratio = y.Mean / x.Mean
			}
			if len(x.Sample) > 0 && len(y.Sample) > 0 {
				cs.P = MannWhitney(x.Sample, y.Sample).P
				cs.Significant = cs.P < opts.Alpha && x.Mean != y.Mean
			}
			hc.CallsPerTrace = cs
		}
		hc.key = "hop\x00" + k.a + "\x00" + k.b + "\x00" + k.c + "\x00" + k.stmt
		c.Hops = append(c.Hops, hc)
	}
	c.judge(&opts)
	return c
}

// judge adjusts the p-values, then marks significant changes and gate
// failures.
func (c *Comparison) judge(opts *CompareOptions) {
	var tested []*Change
	for i := range c.Endpoints {
		tested = append(tested, &c.Endpoints[i].Change)
	}
	for i := range c.Hops {
		tested = append(tested, &c.Hops[i].Change)
	}
	for _, ch := range tested {
		switch ch.Status {
		case StatusAdded:
			ch.Verdict = VerdictAdded
		case StatusRemoved:
			ch.Verdict = VerdictRemoved
		}
	}
	tested = slices.DeleteFunc(tested, func(ch *Change) bool { return ch.Status != StatusBoth })
	c.Compared = len(tested)
	if len(opts.Gates) > 0 {
		c.Level = 1 - opts.Alpha
		if !opts.NoCorrection && len(tested) > 0 {
			c.Level = 1 - opts.Alpha/float64(len(tested)*len(opts.Gates))
		}
	}
	ps := make([]float64, len(tested))
	for i, ch := range tested {
		ps[i] = ch.PValue
	}
	if !opts.NoCorrection {
		ps = holm(ps)
	}
	for i, ch := range tested {
		ch.PAdjusted = ps[i]
		ch.Significant = ps[i] < opts.Alpha
		if ch.Significant {
			c.Significant++
		} else if ch.Before.Count > 0 && ch.After.Count > 0 && minUTestP(ch.Before.Count, ch.After.Count) >= opts.Alpha {
			ch.Warnings = append(ch.Warnings, fmt.Sprintf("only %d and %d samples: no change can be significant at alpha %g",
				ch.Before.Count, ch.After.Count, opts.Alpha))
		}
		ch.Warnings = appendNonEmpty(ch.Warnings, tailCaution("base", ch.Before.Count, 95, 99), tailCaution("candidate", ch.After.Count, 95, 99))
		if ch.Before.Count > 0 && ch.After.Count > 0 {
			checkGates(ch, ch.b, ch.a, opts.Gates, c.Level, ch.key)
		}
		switch {
		case len(ch.Regressions) > 0:
			ch.Verdict, ch.Direction = VerdictRegression, VerdictSlower
			c.Regressions++
		case ch.Significant && ch.Shift == VerdictSlower:
			ch.Verdict, ch.Direction = VerdictSlower, VerdictSlower
			c.Slower++
		case ch.Significant && ch.Shift == VerdictFaster:
			ch.Verdict, ch.Direction = VerdictFaster, VerdictFaster
			c.Faster++
		default:
			ch.Verdict = VerdictSame
			c.Unchanged++
		}
		c.Failed = c.Failed || len(ch.Regressions) > 0
	}
}

// holm returns Holm's step-down adjusted p-values: with the m p-values
// ascending, the i-th (1-based) becomes max over j <= i of (m−j+1)·p(j),
// capped at 1. A test is significant at level alpha when its adjusted
// value is below alpha, which bounds the family-wise error rate by alpha.
func holm(ps []float64) []float64 {
	m := len(ps)
	idx := make([]int, m)
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(ps[a], ps[b]) })
	out := make([]float64, m)
	run := 0.0
	for rank, i := range idx {
		run = max(run, min(1, float64(m-rank)*ps[i]))
		out[i] = run
	}
	return out
}

// stats summarises ascending samples (ns).
func stats(xs []int64) *Stats {
	s := &Stats{Count: len(xs)}
	if len(xs) == 0 {
		return s
	}
	var sum float64
	for _, x := range xs {
		sum += float64(x)
	}
	s.ns = [numMetrics]int64{pct(xs, 50), pct(xs, 95), pct(xs, 99), int64(math.Round(sum / float64(len(xs))))}
	s.P50Us, s.P95Us, s.P99Us, s.MeanUs = us(s.ns[0]), us(s.ns[1]), us(s.ns[2]), us(s.ns[3])
	return s
}

// compareSamples compares one item's sides; inB/inA say whether it exists
// there (an item can exist with no samples only in theory).
func compareSamples(b, a []int64, inB, inA bool) Change {
	ch := Change{PValue: 1, PAdjusted: 1}
	// Report samples are ascending; others are sorted here, once.
	if !slices.IsSorted(b) {
		b = slices.Sorted(slices.Values(b))
	}
	if !slices.IsSorted(a) {
		a = slices.Sorted(slices.Values(a))
	}
	if inB {
		ch.Before = stats(b)
	}
	if inA {
		ch.After = stats(a)
	}
	switch {
	case inB && inA:
		ch.Status = StatusBoth
	case inA:
		ch.Status = StatusAdded
		return ch
	default:
		ch.Status = StatusRemoved
		return ch
	}
	ch.b, ch.a = b, a
	bs, as := ch.Before, ch.After
	ch.DeltaUs = &Deltas{as.P50Us - bs.P50Us, as.P95Us - bs.P95Us, as.P99Us - bs.P99Us, as.MeanUs - bs.MeanUs}
	var pd [numMetrics]*float64
	for m := range numMetrics {
		if bs.ns[m] != 0 {
			v := 100 * float64(as.ns[m]-bs.ns[m]) / float64(bs.ns[m])
			pd[m] = &v
		}
	}
	ch.DeltaPct = &PctDeltas{pd[0], pd[1], pd[2], pd[3]}
	t := MannWhitney(b, a)
	ch.PValue, ch.PAdjusted = t.P, t.P
	mid := float64(t.N1) * float64(t.N2) / 2
	switch {
	case t.U > mid:
		ch.Shift = VerdictSlower
	case t.U < mid:
		ch.Shift = VerdictFaster
	}
	return ch
}

// minUTestP is the smallest two-sided p-value the U test can give samples
// of n1 and n2 values (no ties): 2 / C(n1+n2, n1).
func minUTestP(n1, n2 int) float64 {
	if n1+n2 > exactUTestLimit {
		return 0 // far below any sensible alpha
	}
	c := 1.0
	for i := 1; i <= min(n1, n2); i++ {
		c = c * float64(n1+n2-min(n1, n2)+i) / float64(i)
	}
	return min(1, 2/c)
}

// gateExceeded reports whether a change from b to a is beyond g's
// threshold: for a percentage, of before (from 0, any growth is).
func gateExceeded(g grammar.Gate, b, a *Stats) bool {
	m := gateMetric(g)
	before, after := b.ns[m], a.ns[m]
	if g.Relative {
		if before <= 0 {
			return after > before
		}
		return 100*float64(after-before)/float64(before) > g.Pct
	}
	return after-before > g.Ns
}

// gateMetric is the index in Stats of the gate's metric.
func gateMetric(g grammar.Gate) int { return slices.Index(metricNames[:], g.Metric) }

// SortChanges orders changes for display: regressions and significant
// changes first, then by the size of the p99 change; ties keep the input
// order. It returns indices into n items described by get.
func SortChanges(n int, get func(i int) *Change) []int {
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	rank := func(c *Change) int {
		switch {
		case len(c.Regressions) > 0:
			return 0
		case c.Significant:
			return 1
		case c.Status != StatusBoth:
			return 2
		}
		return 3
	}
	mag := func(c *Change) int64 {
		if c.DeltaUs == nil {
			return 0
		}
		return max(c.DeltaUs.P99, -c.DeltaUs.P99)
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		x, y := get(a), get(b)
		if c := cmp.Compare(rank(x), rank(y)); c != 0 {
			return c
		}
		return cmp.Compare(mag(y), mag(x))
	})
	return idx
}
