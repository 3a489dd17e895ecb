package analyze

import (
	"cmp"
	"slices"
	"time"

	"hopbudget/tracefmt"
)

// DefaultSerialTolerance is how much two sibling calls may seem to overlap
// and still count as one after the other, and how soon after the earlier
// one's end the later may start and count as "right after" it. Some SDKs
// take span starts from a millisecond clock, so calls made back to back can
// appear to overlap, or to be apart, by up to 1 ms.
const DefaultSerialTolerance = time.Millisecond

// Evidence levels of a Candidate, weakest claim of independence last.
const (
	// EvidenceIndependent: in some traces the calls overlap or run in the
	// other order, so neither can need the other's result.
	EvidenceIndependent = "independent"
	// EvidenceLikelyIndependent: always serial in one order, but the later
	// call does not start right after the earlier one ends.
	EvidenceLikelyIndependent = "likely independent"
	// EvidencePossiblyDependent: always serial in one order and the later
	// call starts right after the earlier one ends, as if waiting for it.
	EvidencePossiblyDependent = "possibly dependent"
	// EvidenceDependent: always in one order, and the later call uses what
	// the earlier one did: it writes back the key the earlier read, or the
	// earlier prepares it on the same callee (a pool connect, then the
	// query on that connection).
	EvidenceDependent = "dependent"
	// EvidenceBatching: repeated calls to the same callee and operation one
	// after another (a loop, N+1 queries).
	EvidenceBatching = "batching"
)

// callKey names a call's target as the hop table does: callee, operation
// and normalised statement.
type callKey struct{ to, op, stmt string }

func cmpCall(x, y callKey) int {
	if c := cmp.Compare(x.to, y.to); c != 0 {
		return c
	}
	if c := cmp.Compare(x.op, y.op); c != 0 {
		return c
	}
	return cmp.Compare(x.stmt, y.stmt)
}

// pairKey identifies a sibling pair across traces: the parent's service and
// operation and the two calls, a <= b (so both orders share one key). A
// batch run has a == b.
type pairKey struct {
	svc, op string
	a, b    callKey
}

func cmpPair(x, y pairKey) int {
	if c := cmp.Compare(x.svc, y.svc); c != 0 {
		return c
	}
	if c := cmp.Compare(x.op, y.op); c != 0 {
		return c
	}
	if c := cmpCall(x.a, y.a); c != 0 {
		return c
	}
	return cmpCall(x.b, y.b)
}

// sibCall is one call child of the parent being scanned.
type sibCall struct {
	n   int32
	key callKey
}

// sibObs is one serial pair or batch run seen in the current trace: its
// calls are sc.members[from:to], in start order, all children of parent.
type sibObs struct {
	key      pairKey
	parent   int32
	from, to int32
	unit     int32 // calls per unit of a batch run (1: single calls)
}

// sibScratch is a worker's reusable per-trace state for suggest and what-if.
type sibScratch struct {
	calls   []sibCall
	stages  []int32 // start index in calls of each stage, then len(calls)
	obs     []sibObs
	members []int32
	top     []int32 // the root above each node (through asynchronous edges too)
	depth   []int32
	tops    []int32
	hops    []hopRef
	ordered map[pairKey]bool // pairs of the current parent span whose order is counted
	sim     simState
}

// tolerance is the serial tolerance in ns (see DefaultSerialTolerance).
func (o *Options) tolerance() int64 {
	switch {
	case o.SerialTolerance < 0:
		return 0
	case o.SerialTolerance == 0:
		return int64(DefaultSerialTolerance)
	}
	return int64(o.SerialTolerance)
}

// suggestFacts is the hook of collect for Options.Suggest and
// Options.WhatIf: sibling observations, their what-if savings, and the
// general what-ifs.
func (ts *traceState) suggestFacts(acc *accum) {
	if ts.sg == nil {
		ts.sg = &sibScratch{}
	}
	sc := ts.sg
	sa := acc.suggest()
	ts.placeNodes()
	if ts.opts.Suggest {
		sc.obs, sc.members = sc.obs[:0], sc.members[:0]
		for p := range ts.nodes {
			ts.siblings(int32(p), sa)
		}
		if len(sc.obs) > 0 {
			ts.pairSavings(sa)
		}
	}
	if len(ts.opts.WhatIf) > 0 {
		ts.whatIfs(sa)
	}
}

// placeNodes fills top and depth from the topological order.
func (ts *traceState) placeNodes() {
	sc := ts.sg
	n := len(ts.nodes)
	sc.top, sc.depth = resize(sc.top, n), resize(sc.depth, n)
	for _, i := range ts.topo {
		if p := ts.nodes[i].parent; p >= 0 {
			sc.top[i], sc.depth[i] = sc.top[p], sc.depth[p]+1
		} else {
			sc.top[i], sc.depth[i] = i, 0
		}
	}
}

// callOf says whether node i is a call and names it, exactly as hopFacts
// counts hops: a CLIENT span, or a span without kind whose parent (not a
// CLIENT) is in another service.
func (ts *traceState) callOf(i int32) (from string, key callKey, ok bool) {
	n := &ts.nodes[i]
	s := n.span
	switch {
	case s.Kind == tracefmt.KindClient:
		to, op, _ := ts.hopTo(i)
		return s.Service, callKey{to, op, statement(s)}, true
	case s.Kind == tracefmt.KindUnspecified && n.parent >= 0 && !n.has(fAsync):
		p := ts.nodes[n.parent].span
		if p.Kind == tracefmt.KindClient || p.Service == s.Service {
			return "", callKey{}, false
		}
		return p.Service, callKey{s.Service, s.Operation, statement(s)}, true
	}
	return "", callKey{}, false
}

// apparent says whether an overlap of ov ns between calls x and y is only
// an artefact of coarse timestamps: no longer than the tolerance and less
// than half the shorter call (short calls that truly run together overlap
// by most of their length).
func apparent(ov, tol int64, x, y *node) bool {
	return ov <= tol && 2*ov < min(x.end-x.start, y.end-y.start)
}

// siblings scans p's synchronous call children (in start order) for serial
// pairs and batch runs. The calls are cut into stages: a call overlapping
// (beyond an apparent overlap) the stage's latest-ending call joins it,
// otherwise it starts the next stage. Two consecutive one-call stages are a
// serial pair, or with the same callee and operation part of a batch run;
// calls sharing a stage are recorded as overlapping. Calls in a stage with
// others (a fan-out) are never a candidate themselves.
func (ts *traceState) siblings(p int32, sa *suggestAcc) {
	k := ts.children(p)
	if ts.settled {
		k, _ = ts.kidGroups(p) // in the order the groups were read
	}
	if len(k) < 2 {
		return
	}
	sc, nd := ts.sg, ts.nodes
	sc.calls = sc.calls[:0]
	for _, c := range k {
		if nd[c].has(fAsync) {
			continue
		}
		if _, key, ok := ts.callOf(c); ok {
			sc.calls = append(sc.calls, sibCall{c, key})
		}
	}
	calls := sc.calls
	if len(calls) < 2 {
		return
	}
	tol := ts.opts.tolerance()
	sc.stages = append(sc.stages[:0], 0)
	if ts.settled {
		// Coarse clocks: the groups the granularity pass read from the
		// times as exported (one rule with fan-in).
		for i := 1; i < len(calls); i++ {
			if ts.gid[calls[i].n] != ts.gid[calls[i-1].n] {
				sc.stages = append(sc.stages, int32(i))
			}
		}
	} else {
		last := calls[0].n // the stage's latest-ending call
		for i := 1; i < len(calls); i++ {
			c, m := &nd[calls[i].n], &nd[last]
			if ov := m.end - c.start; ov > 0 && !apparent(ov, tol, m, c) {
				if c.end > m.end {
					last = calls[i].n
				}
				continue
			}
			sc.stages = append(sc.stages, int32(i))
			last = calls[i].n
		}
	}
	sc.stages = append(sc.stages, int32(len(calls)))

	ps := nd[p].span
	if len(sc.ordered) > 0 {
		clear(sc.ordered)
	}
	runFrom := -1 // first call of the current batch run
	prev := -1    // the previous stage's call, when that stage had one call
	flush := func(end int) {
		if runFrom >= 0 {
			key := calls[runFrom].key
			ts.observe(sa, pairKey{ps.Service, ps.Operation, key, key}, p, calls[runFrom:end+1], tol)
			runFrom = -1
		}
	}
	for s := 0; s+1 < len(sc.stages); s++ {
		lo, hi := int(sc.stages[s]), int(sc.stages[s+1])
		if hi-lo > 1 {
			flush(prev)
			prev = -1
			ts.overlaps(sa, ps, calls[lo:hi])
			continue
		}
		if prev >= 0 {
			a, b := calls[prev].key, calls[lo].key
			if a == b {
				if runFrom < 0 {
					runFrom = prev
				}
			} else {
				flush(prev)
				if cmpCall(a, b) > 0 {
					a, b = b, a
				}
				ts.observe(sa, pairKey{ps.Service, ps.Operation, a, b}, p, calls[prev:lo+1], tol)
			}
		}
		prev = lo
	}
	flush(prev)
	ts.unitRuns(sa, p, calls, tol)
}

// unitRuns finds batch runs whose repeated unit is two calls, the first
// preparing the second (a pool connect before each query, a token fetch
// before each request): within consecutive one-call stages, the keys
// x y x y … repeated at least twice. The run is named by its second call
// and moved as whole units by the what-if.
func (ts *traceState) unitRuns(sa *suggestAcc, p int32, calls []sibCall, tol int64) {
	sc := ts.sg
	ps := ts.nodes[p].span
	st := sc.stages
	for s := 0; s+1 < len(st); {
		// A segment of consecutive one-call stages: calls[from:to].
		if st[s+1]-st[s] != 1 {
			s++
			continue
		}
		from := int(st[s])
		e := s
		for e+1 < len(st) && st[e+1]-st[e] == 1 {
			e++
		}
		to := int(st[e])
		s = e
		for j := from; j+3 < to; {
			x, y := calls[j].key, calls[j+1].key
			// Only a helper of the call on its own callee makes a unit.
			if x == y || x.to != y.to || calls[j+2].key != x || calls[j+3].key != y {
				j++
				continue
			}
			r := 2
			for j+2*r+1 < to && calls[j+2*r].key == x && calls[j+2*r+1].key == y {
				r++
			}
			ts.observeRun(sa, pairKey{ps.Service, ps.Operation, y, y}, p, calls[j:j+2*r], 2, tol)
			j += 2 * r
		}
	}
}

// maxOverlapPairs bounds the pairs recorded per stage: all pairs of its
// first members, then only neighbours (a 100,000-wide fan-out stays linear).
const maxOverlapPairs = 8

// overlaps records the calls of one stage as overlapping pairs.
func (ts *traceState) overlaps(sa *suggestAcc, ps *tracefmt.Span, st []sibCall) {
	var last *pairAcc
	var lastKey pairKey
	add := func(x, y callKey) {
		if cmpCall(x, y) > 0 {
			x, y = y, x
		}
		k := pairKey{ps.Service, ps.Operation, x, y}
		if last == nil || k != lastKey {
			last, lastKey = sa.pair(k), k
		}
		last.overlap++
	}
	for i := range st {
		if i < maxOverlapPairs {
			for j := i + 1; j < min(len(st), maxOverlapPairs); j++ {
				add(st[i].key, st[j].key)
			}
		}
		if i+1 >= maxOverlapPairs && i+1 < len(st) {
			add(st[i].key, st[i+1].key)
		}
	}
}

// observe records one serial pair (two calls) or batch run (two or more):
// order, gaps, whether each call starts right after the previous one ends;
// and keeps it for the what-if savings of this trace. A pair's order counts
// once per parent span, at its first occurrence: a loop making A then B
// gives A B A B, which says nothing about the order of one A and its B.
func (ts *traceState) observe(sa *suggestAcc, key pairKey, p int32, run []sibCall, tol int64) {
	ts.observeRun(sa, key, p, run, 1, tol)
}

// observeRun is observe for a run of units of unit calls each.
func (ts *traceState) observeRun(sa *suggestAcc, key pairKey, p int32, run []sibCall, unit int, tol int64) {
	nd, sc := ts.nodes, ts.sg
	pa := sa.pair(key)
	pa.serial++
	switch {
	case key.a == key.b:
		pa.runs = push(pa.runs, int64(len(run)/unit))
	case sc.ordered[key]:
	default:
		if sc.ordered == nil {
			sc.ordered = map[pairKey]bool{}
		}
		sc.ordered[key] = true
		if !ts.orderCertain(run[0].n, run[1].n) {
			// Started within the earlier call's clock tick: which came
			// first is not known, and says nothing.
			break
		}
		if run[0].key == key.a {
			pa.first[0]++
		} else {
			pa.first[1]++
		}
	}
	for i := unit; i < len(run); i += unit {
		gap := nd[run[i].n].start - nd[run[i-1].n].end
		pa.gaps = push(pa.gaps, gap)
		if gap <= tol+max(nd[run[i].n].g, nd[run[i-1].n].g) {
			pa.immediate++
		}
	}
	if key.a != key.b && len(run) == 2 {
		x, y := run[0].key, run[1].key
		switch {
		case readThenWrite(x, y):
			pa.rw++
		case x.to == y.to && x.to != "" && x.stmt == "" && y.stmt != "" &&
			nd[run[1].n].start-nd[run[0].n].end <= tol+max(nd[run[1].n].g, nd[run[0].n].g):
			pa.helper++
		}
	}
	from := int32(len(sc.members))
	for _, c := range run {
		sc.members = append(sc.members, c.n)
	}
	sc.obs = append(sc.obs, sibObs{key, p, from, int32(len(sc.members)), int32(unit)})
}

// orderCertain says whether call a, exported with the earlier start,
// surely started before b: b started at least a's clock tick later (with
// exact clocks, always).
func (ts *traceState) orderCertain(a, b int32) bool {
	x, y := &ts.nodes[a], &ts.nodes[b]
	if x.g == 0 {
		return true
	}
	xs, ys := x.start, y.start
	if ts.settled {
		xs, ys = xs-ts.gmove[a], ys-ts.gmove[b]
	}
	return ys-xs >= x.g
}

// pairSavings runs the what-if of every pair key seen in the trace: all its
// occurrences started together at once (each later call moved to the start
// of its run's first call), and records the saving on each endpoint root
// above them (0 when the change does not reach the root).
func (ts *traceState) pairSavings(sa *suggestAcc) {
	sc := ts.sg
	obs := sc.obs
	slices.SortStableFunc(obs, func(x, y sibObs) int { return cmpPair(x.key, y.key) })
	for i := 0; i < len(obs); {
		j := i + 1
		for j < len(obs) && obs[j].key == obs[i].key {
			j++
		}
		sim := &sc.sim
		sim.begin(len(ts.nodes))
		for _, o := range obs[i:j] {
			sim.run(ts, sc.members[o.from:o.to], int(o.unit))
		}
		for _, o := range obs[i:j] {
			ts.touch(o.parent)
		}
		ts.propagate()
		sc.tops = sc.tops[:0]
		for _, o := range obs[i:j] {
			if t := sc.top[o.parent]; !slices.Contains(sc.tops, t) {
				sc.tops = append(sc.tops, t)
			}
		}
		for _, t := range sc.tops {
			n := &ts.nodes[t]
			if !n.has(fTrueRoot) {
				continue // an orphan's subtree: no endpoint to credit
			}
			sa.cand(candKey{key2{n.span.Service, n.span.Operation}, obs[i].key}).add(max(0, sim.shift(t)), ts.ti) // starting calls earlier never delays; a negative shift is timing noise
		}
		i = j
	}
}
