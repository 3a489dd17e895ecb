package summary

import (
	"bytes"
	"cmp"
	"math"
	"slices"

	"github.com/DataDog/sketches-go/ddsketch/mapping"

	"hopbudget/tracefmt"
)

// TraceRef names a trace in the order every result follows (see
// analyze.SortTraces): by its earliest span's start, then by ID.
type TraceRef struct {
	First int64            `json:"first"`
	ID    tracefmt.TraceID `json:"id"`
}

func (a TraceRef) compare(b TraceRef) int {
	if c := cmp.Compare(a.First, b.First); c != 0 {
		return c
	}
	return bytes.Compare(a.ID[:], b.ID[:])
}

// Point is one exact sample value with the trace it came from; Aux carries
// a figure that travels with the value (an endpoint request's start).
type Point struct {
	V   int64
	Tr  TraceRef
	Aux int64
}

func (p Point) compare(q Point) int {
	if c := cmp.Compare(p.V, q.V); c != 0 {
		return c
	}
	if c := p.Tr.compare(q.Tr); c != 0 {
		return c
	}
	return cmp.Compare(p.Aux, q.Aux)
}

// Bin is one bucket of a sketched distribution: Key orders bins as their
// values (0 holds zeros, k > 0 the positive values of the mapping's index
// k−1, k < 0 the negative values of index −k−1), Ex is the first trace
// (in trace order) with a value in it.
type Bin struct {
	Key   int32
	Count int64
	Ex    TraceRef
}

// Dist is one figure's distribution: every value exactly (with its trace)
// while there are at most Limits.Exact, else a DDSketch of them (relative
// accuracy Limits.Accuracy) with an exemplar per bin and the exact extremes.
// N and Sum are always exact. The form depends only on the multiset of
// values, never on how they were merged, so merging is associative and
// commutative.
type Dist struct {
	N   int64
	Sum int64
	// Exact: the values sorted by (value, trace, aux); nil once sketched.
	Exact []Point
	// Bins ascending by Key, and the extremes, when sketched.
	Bins     []Bin
	Min      *Point
	Max      *Point
	Sketched bool
}

// Limits say when a distribution stops being exact.
type Limits struct {
	// Exact is the largest number of values kept exactly.
	Exact int `json:"exact"`
	// Accuracy is the sketch's relative accuracy (0.005: every percentile
	// within ±0.5 % of a true sample value's magnitude).
	Accuracy float64 `json:"accuracy"`
	// Rows is the largest number of traces whose rows are kept.
	Rows int `json:"rows"`
	m    *mapping.LogarithmicMapping
}

// DefaultLimits: exact up to 10,000 values per figure, then ±0.5 %; rows
// for up to 200,000 traces.
func DefaultLimits() Limits { return Limits{Exact: 10_000, Accuracy: 0.005, Rows: 200_000} }

func (l *Limits) mapping() *mapping.LogarithmicMapping {
	if l.m == nil {
		m, err := mapping.NewLogarithmicMapping(l.Accuracy)
		if err != nil {
			panic(err) // Limits are validated when read
		}
		l.m = m
	}
	return l.m
}

// newDist makes an exact distribution of ps (sorted here), sketched at once
// when there are too many.
func newDist(ps []Point, l *Limits) Dist {
	slices.SortFunc(ps, Point.compare)
	d := Dist{N: int64(len(ps)), Exact: ps}
	for _, p := range ps {
		d.Sum += p.V
	}
	if len(ps) > l.Exact {
		d.sketch(l)
	}
	if d.Exact == nil && !d.Sketched {
		d.Exact = []Point{}
	}
	return d
}

func (l *Limits) key(v int64) int32 {
	switch {
	case v > 0:
		return int32(l.mapping().Index(float64(v))) + 1
	case v < 0:
		return -int32(l.mapping().Index(float64(-v))) - 1
	}
	return 0
}

func (l *Limits) value(k int32) int64 {
	switch {
	case k > 0:
		return int64(math.Round(l.mapping().Value(int(k - 1))))
	case k < 0:
		return -int64(math.Round(l.mapping().Value(int(-k - 1))))
	}
	return 0
}

// sketch turns the exact values into bins.
func (d *Dist) sketch(l *Limits) {
	if d.Sketched {
		return
	}
	ps := d.Exact
	d.Exact, d.Sketched = nil, true
	if len(ps) == 0 {
		return
	}
	lo, hi := ps[0], ps[len(ps)-1]
	d.Min, d.Max = &lo, &hi
	for _, p := range ps {
		k := l.key(p.V)
		if n := len(d.Bins); n > 0 && d.Bins[n-1].Key == k {
			b := &d.Bins[n-1]
			b.Count++
			if p.Tr.compare(b.Ex) < 0 {
				b.Ex = p.Tr
			}
			continue
		}
		d.Bins = append(d.Bins, Bin{Key: k, Count: 1, Ex: p.Tr})
	}
}

// merge returns the distribution of a's and b's values together.
func merge(a, b Dist, l *Limits) Dist {
	out := Dist{N: a.N + b.N, Sum: a.Sum + b.Sum}
	if !a.Sketched && !b.Sketched && out.N <= int64(l.Exact) {
		// Both sorted: one linear merge.
		out.Exact = make([]Point, 0, out.N)
		i, j := 0, 0
		for i < len(a.Exact) && j < len(b.Exact) {
			if b.Exact[j].compare(a.Exact[i]) < 0 {
				out.Exact = append(out.Exact, b.Exact[j])
				j++
			} else {
				out.Exact = append(out.Exact, a.Exact[i])
				i++
			}
		}
		out.Exact = append(append(out.Exact, a.Exact[i:]...), b.Exact[j:]...)
		return out
	}
	a, b = a.clone(), b.clone()
	a.sketch(l)
	b.sketch(l)
	out.Sketched = true
	out.Min, out.Max = extreme(a.Min, b.Min, -1), extreme(a.Max, b.Max, 1)
	i, j := 0, 0
	for i < len(a.Bins) || j < len(b.Bins) {
		switch {
		case j == len(b.Bins) || i < len(a.Bins) && a.Bins[i].Key < b.Bins[j].Key:
			out.Bins = append(out.Bins, a.Bins[i])
			i++
		case i == len(a.Bins) || b.Bins[j].Key < a.Bins[i].Key:
			out.Bins = append(out.Bins, b.Bins[j])
			j++
		default:
			x := a.Bins[i]
			x.Count += b.Bins[j].Count
			if b.Bins[j].Ex.compare(x.Ex) < 0 {
				x.Ex = b.Bins[j].Ex
			}
			out.Bins = append(out.Bins, x)
			i++
			j++
		}
	}
	return out
}

func (d Dist) clone() Dist {
	d.Exact = slices.Clone(d.Exact)
	d.Bins = slices.Clone(d.Bins)
	return d
}

// extreme picks the smaller (sign −1) or larger (sign 1) point.
func extreme(a, b *Point, sign int) *Point {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	case sign*a.compare(*b) >= 0:
		return a
	}
	return b
}

// values lays the distribution out as a sample of N ascending values with
// the trace of each: exact values as they are; a sketch's bins as Count
// copies of the bin's value (its exemplar's trace), the first and last
// replaced by the exact extremes. Every nearest-rank percentile of it is
// then within the sketch's accuracy, and the count, minimum and maximum are
// exact.
func (d Dist) values(l *Limits) (vs []int64, trs []TraceRef, aux []int64) {
	if !d.Sketched {
		vs, trs, aux = make([]int64, len(d.Exact)), make([]TraceRef, len(d.Exact)), make([]int64, len(d.Exact))
		for i, p := range d.Exact {
			vs[i], trs[i], aux[i] = p.V, p.Tr, p.Aux
		}
		return
	}
	vs, trs = make([]int64, 0, d.N), make([]TraceRef, 0, d.N)
	for _, b := range d.Bins {
		v := l.value(b.Key)
		for range b.Count {
			vs = append(vs, v)
			trs = append(trs, b.Ex)
		}
	}
	if len(vs) > 0 {
		vs[0], trs[0] = d.Min.V, d.Min.Tr
		vs[len(vs)-1], trs[len(vs)-1] = d.Max.V, d.Max.Tr
		// A bin's value may lie beyond an extreme of its own values.
		for i := range vs {
			vs[i] = min(max(vs[i], d.Min.V), d.Max.V)
		}
	}
	return vs, trs, nil
}
