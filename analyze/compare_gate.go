package analyze

import (
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"slices"

	"gonum.org/v1/gonum/stat/distuv"

	"hopbudget/grammar"
)

// The verdict rule of a comparison, one for every output:
//
//   - A regression is a gated statistic (p50, p95, p99, mean) that grew
//     beyond the gate's threshold AND whose growth is significant on its
//     own: the confidence interval of after − before lies above zero. The
//     U test's p-value says whether the distributions differ, not whether
//     a tail percentile did, so it decides no gate.
//   - Otherwise an item is "slower" or "faster" when the U test finds a
//     significant shift, else "~".
//
// An item has one verdict; the summary counts verdicts, so "faster" and
// "regression" never describe one item.

// Verdicts of a Change.
const (
	VerdictRegression = "regression"
	VerdictSlower     = "slower"
	VerdictFaster     = "faster"
	VerdictSame       = "~"
	VerdictAdded      = "added"
	VerdictRemoved    = "removed"
)

// GateCheck is one --fail-on rule held to one endpoint or hop.
type GateCheck struct {
	Rule   string `json:"rule"` // as Gate.String: "p99>+10%"
	Metric string `json:"metric"`
	// DeltaUs is after − before of the metric; DeltaPct the same in
	// percent of before (null from 0).
	DeltaUs  int64    `json:"deltaUs"`
	DeltaPct *float64 `json:"deltaPct"`
	// Exceeded: the change is beyond the rule's threshold.
	Exceeded bool `json:"exceeded"`
	// The confidence interval of after − before at Level, computed only
	// when Exceeded (else no regression is possible): Method "bootstrap"
	// for percentiles (deterministic: a fixed seed per item and metric),
	// "welch" for the mean (normal approximation). Null otherwise.
	CILowUs  *int64  `json:"ciLowUs"`
	CIHighUs *int64  `json:"ciHighUs"`
	Level    float64 `json:"level,omitempty"`
	Method   string  `json:"method,omitempty"`
	// Regression: Exceeded, and the interval lies above zero.
	Regression bool `json:"regression"`
}

// bootstrapReps is the number of bootstrap replicates per interval, at
// least; more when the level is so high that its tails would hold too few.
const bootstrapReps = 10_000

// checkGates holds ch to the gates; level is the confidence of each
// interval; key seeds the bootstrap, so that an item's interval does not
// depend on which other items are compared.
func checkGates(ch *Change, b, a []int64, gates []grammar.Gate, level float64, key string) {
	for _, g := range gates {
		m := gateMetric(g)
		gc := GateCheck{Rule: g.String(), Metric: g.Metric, Exceeded: gateExceeded(g, ch.Before, ch.After)}
		before, after := ch.Before.ns[m], ch.After.ns[m]
		gc.DeltaUs = us(after) - us(before)
		if before != 0 {
			v := 100 * float64(after-before) / float64(before)
			gc.DeltaPct = &v
		}
		if gc.Exceeded {
			var lo, hi float64
			if m == metricMean {
				lo, hi = welchInterval(b, a, level)
				gc.Method = "welch"
			} else {
				p := []int{50, 95, 99}[m]
				lo, hi = bootstrapInterval(b, a, p, level, key+"\x00"+g.Metric)
				gc.Method = "bootstrap"
			}
			l, h := us(int64(math.Floor(lo))), us(int64(math.Ceil(hi)))
			gc.CILowUs, gc.CIHighUs, gc.Level = &l, &h, level
			gc.Regression = lo > 0
		}
		if gc.Regression {
			ch.Regressions = append(ch.Regressions, gc.Rule)
		}
		ch.Gates = append(ch.Gates, gc)
	}
}

// bootstrapInterval is the percentile-bootstrap interval of the
// difference of the nearest-rank p-th percentiles, after − before, of the
// sorted samples b and a, in ns.
//
// A bootstrap resample of n values draws n times from the sample, i.e.
// F⁻¹(U) for n uniforms U; its k-th smallest value is F⁻¹(U₍ₖ₎), and the
// k-th smallest of n uniforms is Beta(k, n−k+1) distributed. So each
// replicate of a percentile costs one Beta draw instead of n, exactly.
func bootstrapInterval(b, a []int64, p int, level float64, key string) (lo, hi float64) {
	h := fnv.New64a()
	h.Write([]byte(key))
	seed := h.Sum64()
	src := rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)
	draw := func(xs []int64) func() int64 {
		n := len(xs)
		k := rankIndex(p, n) + 1
		beta := distuv.Beta{Alpha: float64(k), Beta: float64(n - k + 1), Src: src}
		return func() int64 {
			i := int(math.Ceil(beta.Rand()*float64(n))) - 1
			return xs[min(max(i, 0), n-1)]
		}
	}
	fb, fa := draw(b), draw(a)
	tail := (1 - level) / 2
	reps := min(max(bootstrapReps, int(math.Ceil(20/tail))), 200_000)
	diffs := make([]float64, reps)
	for i := range diffs {
		// Before, then after: the draws' order is part of the seed's result.
		x := fb()
		diffs[i] = float64(fa() - x)
	}
	slices.Sort(diffs)
	at := func(q float64) float64 {
		return diffs[min(max(int(math.Floor(q*float64(reps))), 0), reps-1)]
	}
	return at(tail), at(1 - tail)
}

// welchInterval is the normal-approximation interval of the difference of
// the means, after − before, with unpooled variances (Welch), in ns.
func welchInterval(b, a []int64, level float64) (lo, hi float64) {
	mv := func(xs []int64) (mean, v float64) {
		for _, x := range xs {
			mean += float64(x)
		}
		mean /= float64(len(xs))
		for _, x := range xs {
			d := float64(x) - mean
			v += d * d
		}
		if len(xs) > 1 {
			v /= float64(len(xs) - 1)
		}
		return mean, v / float64(len(xs))
	}
	mb, vb := mv(b)
	ma, va := mv(a)
	z := distuv.UnitNormal.Quantile(1 - (1-level)/2)
	d, se := ma-mb, math.Sqrt(va+vb)
	return d - z*se, d + z*se
}

// tailCaution warns when a percentile of n samples rests on one of its
// few largest values, e.g. "base: only 160 samples: p99 is the 2nd
// largest": a change there is one request's, whatever the test says.
func tailCaution(side string, n int, ps ...int) string {
	const top = 3 // resting on one of the 3 largest values is anecdotal
	if n == 0 {
		return ""
	}
	var at []string
	for _, p := range ps {
		if r := n - rankIndex(p, n); r <= top && n > 1 {
			switch r {
			case 1:
				at = append(at, fmt.Sprintf("p%d is the maximum", p))
			case 2:
				at = append(at, fmt.Sprintf("p%d is the 2nd largest", p))
			default:
				at = append(at, fmt.Sprintf("p%d is the %drd largest", p, r))
			}
		}
	}
	if len(at) == 0 {
		return ""
	}
	s := fmt.Sprintf("%s: only %d samples: ", side, n)
	for i, x := range at {
		if i > 0 {
			s += ", "
		}
		s += x
	}
	return s
}
