package analyze

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"hopbudget/tracefmt"
)

// seg is an expected section: span id and [s, e) in µs.
type seg struct {
	id   uint64
	s, e int64
}

func (x seg) String() string { return fmt.Sprintf("%d[%d,%d)", x.id, x.s, x.e) }

// defaultPath returns the default critical path of tr in time order.
func defaultPath(tb testing.TB, tr tracefmt.Trace) []seg {
	ts := built(tb, tr, DefaultOptions())
	ts.criticalPath()
	out := []seg{}
	for _, s := range ts.segs {
		out = append(out, seg{idNum(ts.nodes[s.n].span.SpanID), s.s / 1000, s.e / 1000})
	}
	return out
}

// jaegerPath returns the jaeger-mode sections of tr in the UI's order.
func jaegerPath(tb testing.TB, tr tracefmt.Trace) []seg {
	opts := DefaultOptions()
	opts.CriticalPath = ModeJaeger
	ts := built(tb, tr, opts)
	ts.jaegerCriticalPath()
	out := []seg{}
	b := append(slices.Clone(ts.jg.blocks), len(ts.segs))
	for k := range len(b) - 1 {
		for _, s := range slices.Backward(ts.segs[b[k]:b[k+1]]) {
			out = append(out, seg{idNum(ts.nodes[s.n].span.SpanID), s.s / 1000, s.e / 1000})
		}
	}
	return out
}

func idNum(s tracefmt.SpanID) uint64 {
	var n uint64
	for _, b := range s {
		n = n<<8 | uint64(b)
	}
	return n
}

const (
	prod = tracefmt.KindProducer
	cons = tracefmt.KindConsumer
)

// Edge cases, with the default path (time order) and the Jaeger UI's
// sections (its order: backward) worked out by hand from the rules.
func TestCriticalPathCases(t *testing.T) {
	root := sp{id: 1, start: 1000, end: 1100}
	kid := func(id uint64, s, e int64) sp { return sp{id: id, parent: 1, start: s, end: e} } // same service: no skew shift
	for _, tc := range []struct {
		name   string
		spans  []sp
		def    []seg
		jaeger []seg
	}{
		{"leaf root", []sp{root}, []seg{{1, 1000, 1100}}, []seg{{1, 1000, 1100}}},
		{"back-to-back: default keeps both, the UI needs end < limit",
			[]sp{root, kid(2, 1010, 1030), kid(3, 1030, 1060)},
			[]seg{{1, 1000, 1010}, {2, 1010, 1030}, {3, 1030, 1060}, {1, 1060, 1100}},
			[]seg{{1, 1060, 1100}, {3, 1030, 1060}, {1, 1000, 1030}}},
		{"overlap: the earlier sibling is off the path",
			[]sp{root, kid(2, 1010, 1050), kid(3, 1020, 1060)},
			[]seg{{1, 1000, 1020}, {3, 1020, 1060}, {1, 1060, 1100}},
			[]seg{{1, 1060, 1100}, {3, 1020, 1060}, {1, 1000, 1020}}},
		{"same end: earliest start wins",
			[]sp{root, kid(3, 1020, 1050), kid(2, 1010, 1050)},
			[]seg{{1, 1000, 1010}, {2, 1010, 1050}, {1, 1050, 1100}},
			[]seg{{1, 1050, 1100}, {2, 1010, 1050}, {1, 1000, 1010}}},
		{"child outlives its parent: clipped",
			[]sp{root, kid(2, 1050, 1150)},
			[]seg{{1, 1000, 1050}, {2, 1050, 1100}},
			[]seg{{2, 1050, 1100}, {1, 1000, 1050}}},
		{"child starts before its parent: clipped",
			[]sp{root, kid(2, 990, 1040)},
			[]seg{{2, 1000, 1040}, {1, 1040, 1100}},
			[]seg{{1, 1040, 1100}, {2, 1000, 1040}}},
		{"child covers its parent",
			[]sp{root, kid(2, 990, 1110)},
			[]seg{{2, 1000, 1100}},
			[]seg{{2, 1000, 1100}}},
		{"child entirely after its parent: ignored / dropped",
			[]sp{root, kid(2, 1100, 1150), sp{id: 3, parent: 2, start: 1110, end: 1120}},
			[]seg{{1, 1000, 1100}},
			[]seg{{1, 1000, 1100}}},
		{"zero-length child: no loop, no empty segment",
			[]sp{root, kid(2, 1050, 1050)},
			[]seg{{1, 1000, 1100}},
			[]seg{{1, 1050, 1100}, {1, 1000, 1050}}},
		{"nested",
			[]sp{root, kid(2, 1010, 1090), sp{id: 3, parent: 2, start: 1020, end: 1080}, sp{id: 4, parent: 3, start: 1030, end: 1040}},
			[]seg{{1, 1000, 1010}, {2, 1010, 1020}, {3, 1020, 1030}, {4, 1030, 1040}, {3, 1040, 1080}, {2, 1080, 1090}, {1, 1090, 1100}},
			[]seg{{1, 1090, 1100}, {2, 1080, 1090}, {3, 1040, 1080}, {4, 1030, 1040}, {3, 1020, 1030}, {2, 1010, 1020}, {1, 1000, 1010}}},
		{"identical duplicate merged",
			[]sp{root, kid(2, 1010, 1030), kid(2, 1010, 1030)},
			[]seg{{1, 1000, 1010}, {2, 1010, 1030}, {1, 1030, 1100}},
			[]seg{{1, 1030, 1100}, {2, 1010, 1030}, {1, 1000, 1010}}},
		{"same ID, other content: both kept, children on the first",
			[]sp{root, kid(2, 1010, 1030), kid(2, 1040, 1070), sp{id: 3, parent: 2, start: 1015, end: 1020}},
			[]seg{{1, 1000, 1010}, {2, 1010, 1015}, {3, 1015, 1020}, {2, 1020, 1030}, {1, 1030, 1040}, {2, 1040, 1070}, {1, 1070, 1100}},
			[]seg{{1, 1070, 1100}, {2, 1040, 1070}, {1, 1030, 1040}, {2, 1020, 1030}, {3, 1015, 1020}, {2, 1010, 1015}, {1, 1000, 1010}}},
		{"two parentless roots, walked in start order",
			[]sp{{id: 5, start: 2000, end: 2050}, root, kid(2, 1010, 1030)},
			[]seg{{1, 1000, 1010}, {2, 1010, 1030}, {1, 1030, 1100}, {5, 2000, 2050}},
			[]seg{{1, 1030, 1100}, {2, 1010, 1030}, {1, 1000, 1010}, {5, 2000, 2050}}},
		{"orphan: an extra root by default, dropped by the UI",
			[]sp{root, sp{id: 7, parent: 99, start: 1200, end: 1300}, sp{id: 8, parent: 7, start: 1210, end: 1220}},
			[]seg{{1, 1000, 1100}, {7, 1200, 1210}, {8, 1210, 1220}, {7, 1220, 1300}},
			[]seg{{1, 1000, 1100}}},
		{"follows-from child: async by default, a plain child for the UI",
			[]sp{root, sp{id: 2, parent: 1, start: 1050, end: 1200, ff: true}},
			[]seg{{1, 1000, 1100}},
			[]seg{{2, 1050, 1100}, {1, 1000, 1050}}},
		{"consumer of a producer: off the path in both",
			[]sp{{id: 1, start: 1000, end: 1100, kind: prod}, sp{id: 2, parent: 1, start: 1050, end: 1090, kind: cons, svc: "w"}},
			[]seg{{1, 1000, 1100}},
			[]seg{{1, 1000, 1100}}},
		{"OTLP link to the parent marks it async",
			[]sp{root, sp{id: 2, parent: 1, start: 1050, end: 1090, refs: []tracefmt.Ref{{TraceID: tid(1), SpanID: sid(1), Type: tracefmt.FollowsFrom}}}},
			[]seg{{1, 1000, 1100}},
			[]seg{{1, 1090, 1100}, {2, 1050, 1090}, {1, 1000, 1050}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := mkTrace(1, tc.spans...)
			if got := defaultPath(t, tr); !slices.Equal(got, tc.def) {
				t.Errorf("default:\n got  %v\n want %v", got, tc.def)
			}
			if got := jaegerPath(t, tr); !slices.Equal(got, tc.jaeger) {
				t.Errorf("jaeger:\n got  %v\n want %v", got, tc.jaeger)
			}
		})
	}
}

// A 100,000-span serial chain and a 100,000-wide fan-out: no recursion, no
// quadratic rescans, in both modes and through the whole Analyze.
func TestCriticalPathHuge(t *testing.T) {
	const n = 100_000
	chain := tracefmt.Trace{ID: tid(1)}
	for i := range n {
		s := sp{id: uint64(i + 1), parent: uint64(i), start: int64(1000 + i), end: int64(1000 + 2*n - i), svc: fmt.Sprint("s", i%3)}
		chain.Spans = append(chain.Spans, s.span(chain.ID))
	}
	wide := tracefmt.Trace{ID: tid(2)}
	wide.Spans = append(wide.Spans, sp{id: 1, start: 1000, end: 1000 + 2*n}.span(wide.ID))
	for i := range n {
		// Heavily overlapping children: a rescan per child would be quadratic.
		s := sp{id: uint64(i + 2), parent: 1, start: int64(1000 + i), end: int64(1000 + n + i/2), kind: tracefmt.KindClient}
		wide.Spans = append(wide.Spans, s.span(wide.ID))
	}
	for _, mode := range []Mode{ModeDefault, ModeJaeger} {
		opts := DefaultOptions()
		opts.CriticalPath, opts.PerTrace = mode, true
		begin := time.Now()
		r := mustAnalyze([]tracefmt.Trace{chain, wide}, opts)
		if d := time.Since(begin); d > 5*time.Second {
			t.Errorf("%s: %v for 200,000 spans", mode, d)
		}
		var sum int64
		cp := r.Traces[0].CriticalPath
		for _, s := range cp {
			sum += s.EndUs - s.StartUs
		}
		if sum != 2*n || len(cp) < 2*n-1 {
			t.Errorf("%s chain: %d segments summing to %d µs", mode, len(cp), sum)
		}
		cp = r.Traces[1].CriticalPath
		if len(cp) != 3 || cp[1].SpanID != sid(n).String() {
			t.Errorf("%s fan-out: critical path %v", mode, cp)
		}
		if fi := r.Traces[1].FanIn; len(fi) != 1 || len(fi[0].Children) != n || fi[0].WaitUs != n/2-1 {
			t.Errorf("%s fan-out: fan-in %d groups", mode, len(fi))
		}
	}
}
