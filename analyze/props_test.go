package analyze

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"hopbudget/tracefmt"
)

// checkProperties checks, on every trace, that each root's critical path
// tiles the root's clipped interval exactly, that every span read belongs
// to exactly one node reachable from exactly one root, and, on the report,
// that p50 <= p95 <= p99 <= max everywhere.
func checkProperties(t *testing.T, traces []tracefmt.Trace, r *Report) {
	t.Helper()
	opts := DefaultOptions()
	ts := newTraceState(&opts, nil)
	for ti := range traces {
		tr := &traces[ti]
		ts.reset(int32(ti), tr)
		ts.build()
		if msg := checkTrace(ts); msg != "" {
			t.Fatalf("trace %s: %s", tr.ID, msg)
		}
	}
	for _, e := range r.Endpoints {
		if !(e.P50Us <= e.P95Us && e.P95Us <= e.P99Us && e.P99Us <= e.MaxUs) {
			t.Errorf("endpoint %s %s: percentiles out of order %+v", e.Service, e.Operation, e)
		}
	}
	for _, h := range r.Hops {
		if !(h.P50Us <= h.P95Us && h.P95Us <= h.P99Us && h.P99Us <= h.MaxUs && h.NetworkP50Us <= h.NetworkP99Us &&
			h.ServerSelfP50Us <= h.ServerSelfP99Us) {
			t.Errorf("hop %s→%s %s: percentiles out of order %+v", h.From, h.To, h.Operation, h)
		}
	}
	for _, f := range r.FanIn {
		if !(f.WaitP50Us <= f.WaitP95Us && f.WaitP95Us <= f.WaitP99Us && f.OverheadP50Us <= f.OverheadP99Us) {
			t.Errorf("fan-in %s %s: percentiles out of order %+v", f.Service, f.Operation, f)
		}
	}
}

// checkTrace returns what is wrong with a built trace and its critical path.
func checkTrace(ts *traceState) string {
	ts.criticalPath()
	n := len(ts.nodes)
	// Every span is a node, or merged into an identical node with its ID.
	for _, s := range ts.tr.Spans {
		found := false
		for j := ts.ids[s.SpanID]; j >= 0; j = ts.nodes[j].sameNext {
			if ts.nodes[j].span == s || sameSpan(ts.nodes[j].span, s) {
				found = true
				break
			}
		}
		if !found {
			return "span " + s.SpanID.String() + " lost"
		}
	}
	// Every node exactly once in topo, parents first, reaching a root.
	if len(ts.topo) != n {
		return "topological order misses nodes"
	}
	seen := make([]bool, n)
	for _, i := range ts.topo {
		if seen[i] {
			return "node twice in topological order"
		}
		if p := ts.nodes[i].parent; p >= 0 && !seen[p] {
			return "child before its parent"
		}
		seen[i] = true
	}
	roots := 0
	for i := range ts.nodes {
		if ts.nodes[i].parent < 0 {
			roots++
		}
	}
	if roots != len(ts.roots) {
		return "roots list incomplete"
	}
	kids := 0
	for i := range ts.nodes {
		for _, c := range ts.children(int32(i)) {
			if ts.nodes[c].parent != int32(i) {
				return "child list disagrees with parent"
			}
			kids++
		}
	}
	if kids+roots != n {
		return "child lists incomplete"
	}
	// Each root's segments tile [cs, ce] of that root, in order.
	k := 0
	for _, r := range ts.roots {
		t := ts.nodes[r].cs
		if ts.nodes[r].ce <= t { // empty or malformed (end before start): no segment
			continue
		}
		for k < len(ts.segs) && t < ts.nodes[r].ce {
			s := ts.segs[k]
			if s.s != t || s.e <= s.s {
				return "segments do not tile the root"
			}
			t = s.e
			k++
		}
		if t != ts.nodes[r].ce {
			return "segments do not reach the root's end"
		}
	}
	if k != len(ts.segs) {
		return "segments beyond the roots"
	}
	return ""
}

// randomTrace builds a messy trace: children overflowing or outside their
// parent, zero-length and negative spans, duplicates (identical and not),
// orphans, cycles, async edges, several services.
func randomTrace(r *rand.Rand, id uint64, n int) tracefmt.Trace {
	spans := []sp{{id: 1, start: 1000, end: 1000 + r.Int64N(1000), svc: "s0"}}
	for i := 2; i <= n; i++ {
		p := uint64(1 + r.IntN(i-1))
		ps := spans[p-1]
		s := ps.start + r.Int64N(max(ps.end-ps.start, 1)+20) - 10
		x := sp{id: uint64(i), parent: p, start: s, end: s + r.Int64N(300) - 5, svc: fmt.Sprint("s", r.IntN(3)),
			kind: tracefmt.Kind(r.IntN(6))}
		switch r.IntN(20) {
		case 0:
			x.parent = uint64(n + 100) // orphan
		case 1:
			x.parent = uint64(1 + r.IntN(n)) // maybe a cycle or a forward reference
		case 2:
			x.ff = true
		case 3:
			x.end = x.start
		}
		spans = append(spans, x)
		if r.IntN(15) == 0 {
			spans = append(spans, x) // identical copy
		}
		if r.IntN(30) == 0 {
			y := x
			y.end += 7
			spans = append(spans, y) // same ID, other content
		}
	}
	r.Shuffle(len(spans), func(i, j int) { spans[i], spans[j] = spans[j], spans[i] })
	return mkTrace(id, spans...)
}

func TestRandomTraces(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	var traces []tracefmt.Trace
	for i := range 400 {
		traces = append(traces, randomTrace(r, uint64(i+1), 1+r.IntN(60)))
	}
	for _, skew := range []bool{true, false} {
		opts := DefaultOptions()
		opts.NoSkewAdjust = !skew
		ts := newTraceState(&opts, nil)
		for i := range traces {
			ts.reset(int32(i), &traces[i])
			ts.build()
			if msg := checkTrace(ts); msg != "" {
				t.Fatalf("trace %d: %s", i, msg)
			}
			// Each segment lies in its span's clipped interval.
			for _, s := range ts.segs {
				if n := &ts.nodes[s.n]; s.s < n.cs || s.e > n.ce || n.flags&(fNoCP|fOutside) != 0 {
					t.Fatalf("trace %d: segment %v outside its span [%d, %d]", i, s, n.cs, n.ce)
				}
			}
		}
	}
	for _, mode := range []Mode{ModeDefault, ModeJaeger} {
		opts := perTraceOpts()
		opts.CriticalPath = mode
		r := mustAnalyze(traces, opts)
		checkProperties(t, traces, r)
		// Jaeger sections never overlap and stay within the root span.
		if mode == ModeJaeger {
			for _, tr := range r.Traces {
				for j := 1; j < len(tr.CriticalPath); j++ {
					a, b := tr.CriticalPath[j-1], tr.CriticalPath[j]
					if b.StartUs < a.EndUs && b.StartUs >= a.StartUs {
						t.Fatalf("trace %s: sections overlap: %+v %+v", tr.TraceID, a, b)
					}
				}
			}
		}
	}
}
