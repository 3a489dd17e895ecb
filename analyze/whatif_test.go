package analyze

import (
	"math/rand/v2"
	"testing"
	"time"

	"hopbudget/tracefmt"
)

// truthShift is tracegen's rule (truth.go pairSaving) for node c ending
// delta earlier: walk up; each parent continues at max(c's new end, ends of
// c's siblings that started before c's original end) and shifts by the
// change.
func truthShift(ts *traceState, c int32, delta int64) int64 {
	nd := ts.nodes
	for ; delta > 0 && nd[c].parent >= 0 && !nd[c].has(fAsync); c = nd[c].parent {
		p := nd[c].parent
		orig, moved := nd[c].end, nd[c].end-delta
		for _, k := range ts.children(p) {
			if k != c && !nd[k].has(fAsync) && nd[k].start < nd[c].end {
				orig, moved = max(orig, nd[k].end), max(moved, nd[k].end)
			}
		}
		delta = orig - moved
	}
	return max(delta, 0)
}

// randomTree is a well-formed request: children inside their parents, in
// serial stages of one call or of a few overlapping ones, a few levels deep.
func randomTree(r *rand.Rand, id uint64) tracefmt.Trace {
	spans := []sp{{id: 1, start: 0, end: 0, svc: "api", op: "root", kind: server}}
	// Lay out children first, then close each span after its children.
	var fill func(i, depth int) int64
	fill = func(i, depth int) int64 {
		t := spans[i].start + 1 + r.Int64N(50)
		if depth < 3 {
			for range r.IntN(4) {
				width := 1 + r.IntN(3)
				if r.IntN(2) == 0 {
					width = 1
				}
				end := t
				for range width {
					c := len(spans)
					spans = append(spans, sp{id: uint64(c + 1), parent: spans[i].id, start: t + r.Int64N(20), svc: "api", op: "op"})
					ce := fill(c, depth+1)
					end = max(end, ce)
				}
				t = end + r.Int64N(100)
			}
		}
		spans[i].end = t + 1 + r.Int64N(50)
		return spans[i].end
	}
	fill(0, 0)
	return mkTrace(id, spans...)
}

// For one shortened span, the engine gives exactly tracegen's rule.
func TestReplayMatchesTruthRule(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	opts := DefaultOptions()
	checked := 0
	for i := range 300 {
		tr := randomTree(r, uint64(i+1))
		ts := built(t, tr, opts)
		ts.sg = &sibScratch{}
		ts.placeNodes()
		root := ts.primaryRoot()
		for c := range int32(len(ts.nodes)) {
			n := &ts.nodes[c]
			if n.parent < 0 {
				continue
			}
			delta := 1 + r.Int64N(n.end-n.start)
			sim := &ts.sg.sim
			sim.begin(len(ts.nodes))
			sim.fix(c, delta)
			ts.touch(n.parent)
			ts.propagate()
			if got, want := sim.shift(root), truthShift(ts, c, delta); got != want {
				t.Fatalf("trace %d span %d shortened by %d: root %d earlier, truth rule %d\n%+v", i, c, delta, got, want, tr.Spans)
			}
			checked++
		}
	}
	if checked < 1000 {
		t.Errorf("only %d cases", checked)
	}
}

// pricing sits on the critical path, recommendations runs beside it and
// ends earlier.
func whatIfTraces() []tracefmt.Trace {
	var out []tracefmt.Trace
	for i := range int64(10) {
		out = append(out, mkTrace(uint64(i+1),
			sp{id: 1, start: 0, end: 10000 + i, svc: "frontend", op: "GET /", kind: server},
			sp{id: 2, parent: 1, start: 1000, end: 9000, svc: "frontend", op: "GetPrice", kind: client, attrs: tracefmt.Attrs{PeerService: "pricing"}},
			sp{id: 3, parent: 1, start: 1000, end: 3000, svc: "frontend", op: "List", kind: client, attrs: tracefmt.Attrs{PeerService: "recommendations"}},
		))
	}
	return out
}

func to(callee string) func(from, to, op string) bool {
	return func(_, t, _ string) bool { return t == callee }
}

func TestWhatIf(t *testing.T) {
	o := DefaultOptions()
	o.WhatIf = []WhatIf{
		{Spec: "to=pricing:x0.5", Match: to("pricing"), Factor: 0.5},
		{Spec: "to=recommendations:x0.5", Match: to("recommendations"), Factor: 0.5},
		{Spec: "to=pricing:-7ms", Match: to("pricing"), Factor: 1, Shift: -7 * time.Millisecond},
		{Spec: "to=nobody:-1ms", Match: to("nobody"), Factor: 1, Shift: -time.Millisecond},
	}
	r := mustAnalyze(whatIfTraces(), o)
	if len(r.WhatIf) != 5 {
		t.Fatalf("%d results", len(r.WhatIf))
	}
	type want struct {
		calls, endpoints int
		p99Before        int64
		p99After         int64
	}
	wants := []want{
		{10, 1, 10009, 10009 - 4000}, // 8 ms → 4 ms: the request ends 4 ms earlier
		{10, 1, 10009, 10009},        // off the path: nothing changes
		{10, 1, 10009, 10009 - 6000}, // 8 → 1 ms, but recommendations then holds the request until 3 ms
		{0, 0, 0, 0},
		{20, 1, 10009, 10009 - 7000}, // together: pricing 8 → 4 → 0 ms, recommendations 2 → 1 ms
	}
	for i, w := range wants {
		g := r.WhatIf[i]
		if g.Calls != w.calls || len(g.Endpoints) != w.endpoints {
			t.Errorf("%s: %+v", g.Spec, g)
			continue
		}
		if w.endpoints == 0 {
			continue
		}
		e := g.Endpoints[0]
		if e.P99BeforeUs != w.p99Before || e.P99AfterUs != w.p99After || e.Count != 10 || e.Affected != 10 {
			t.Errorf("%s: %+v", g.Spec, e)
		}
	}
	if s := r.WhatIf[4].Spec; s != "all together: to=pricing:x0.5; to=recommendations:x0.5; to=pricing:-7ms; to=nobody:-1ms" {
		t.Errorf("combined spec %q", s)
	}
	// Without what-ifs or Suggest, the report has neither section.
	plain := mustAnalyze(whatIfTraces(), DefaultOptions())
	if plain.WhatIf != nil || plain.Parallelizable != nil {
		t.Errorf("plain analysis filled %v %v", plain.WhatIf, plain.Parallelizable)
	}
}

// A change below an asynchronous edge never reaches the endpoint.
func TestWhatIfAsync(t *testing.T) {
	tr := mkTrace(1,
		sp{id: 1, start: 0, end: 1000, svc: "api", op: "POST /signup", kind: server},
		sp{id: 2, parent: 1, start: 100, end: 200, svc: "api", op: "publish", kind: tracefmt.KindProducer},
		sp{id: 3, parent: 2, start: 5000, end: 9000, svc: "worker", op: "process", kind: tracefmt.KindConsumer},
		sp{id: 4, parent: 3, start: 5100, end: 8000, svc: "worker", op: "POST", kind: client, attrs: tracefmt.Attrs{PeerService: "email"}},
	)
	o := DefaultOptions()
	o.WhatIf = []WhatIf{{Spec: "to=email:x0", Match: to("email"), Factor: 0}}
	r := mustAnalyze([]tracefmt.Trace{tr}, o)
	if e := r.WhatIf[0].Endpoints; len(e) != 1 || e[0].P99AfterUs != 1000 || e[0].SavingMeanUs != 0 {
		t.Errorf("%+v", r.WhatIf[0])
	}
}

// Huge traces stay near linear: a 100,000-deep chain of calls, a
// 100,000-wide fan-out and 100,000 serial calls (one batch run) under one
// parent, with what-ifs matching every call.
func TestSuggestHuge(t *testing.T) {
	const n = 100_000
	chain := tracefmt.Trace{ID: tid(1)}
	for i := range n {
		s := sp{id: uint64(i + 1), parent: uint64(i), start: int64(1000 + i), end: int64(1000 + 2*n - i), svc: "s", op: "Get",
			kind: client, attrs: tracefmt.Attrs{PeerService: "db"}}
		chain.Spans = append(chain.Spans, s.span(chain.ID))
	}
	wide := tracefmt.Trace{ID: tid(2)}
	serial := tracefmt.Trace{ID: tid(3)}
	wide.Spans = append(wide.Spans, sp{id: 1, start: 1000, end: 1000 + 2*n}.span(wide.ID))
	serial.Spans = append(serial.Spans, sp{id: 1, start: 0, end: 10*n + 10}.span(serial.ID))
	for i := range n {
		s := sp{id: uint64(i + 2), parent: 1, start: int64(1000 + i), end: int64(1000 + n + i/2), kind: client, attrs: tracefmt.Attrs{PeerService: "db"}}
		wide.Spans = append(wide.Spans, s.span(wide.ID))
		s = sp{id: uint64(i + 2), parent: 1, start: int64(10*i + 1), end: int64(10*i + 10), kind: client, attrs: tracefmt.Attrs{PeerService: "db"}}
		serial.Spans = append(serial.Spans, s.span(serial.ID))
	}
	opts := suggestOpts()
	opts.WhatIf = []WhatIf{{Spec: "to=db:x0.5", Match: to("db"), Factor: 0.5}}
	begin := time.Now()
	r := mustAnalyze([]tracefmt.Trace{chain, wide, serial}, opts)
	if d := time.Since(begin); d > 5*time.Second {
		t.Errorf("%v for 300,000 spans", d)
	}
	if len(r.Parallelizable) != 1 || r.Parallelizable[0].RunLengthMax != n || r.Parallelizable[0].SavingP50Us != 10*n-10 {
		t.Errorf("candidates %+v", r.Parallelizable)
	}
}
