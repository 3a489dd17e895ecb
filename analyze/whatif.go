package analyze

import (
	"cmp"
	"math"
	"slices"
	"strings"
	"time"
)

// WhatIf changes the duration of some calls, to see what the endpoints'
// percentiles would be: every matched call's new duration is
// max(0, duration·Factor + Shift), and the change propagates to the root
// as in the pair what-if (see replay). A call inside another matched call
// follows the outer one: the outer call's new duration is final.
type WhatIf struct {
	// Spec is the text the user gave, shown with the result.
	Spec string
	// Match selects calls (hops) by caller service, callee and operation,
	// named as in Report.Hops.
	Match func(from, to, operation string) bool
	// Factor multiplies the duration (1 = unchanged); Shift is then added
	// (negative = faster).
	Factor float64
	Shift  time.Duration
}

func (w *WhatIf) apply(d int64) int64 {
	return max(0, int64(math.Round(float64(d)*w.Factor))+int64(w.Shift))
}

// MaxWhatIfs is the most what-ifs one analysis takes (their matches are a
// bit mask per call).
const MaxWhatIfs = 63

// WhatIfResult is one what-if over every analysed trace. With several
// what-ifs, a last result applies them all together.
type WhatIfResult struct {
	Spec   string `json:"spec"`
	Calls  int    `json:"calls"`  // calls matched
	Traces int    `json:"traces"` // traces with a matched call
	// Endpoints with a matched call in at least one trace, sorted by
	// (service, operation).
	Endpoints []WhatIfEndpoint `json:"endpoints"`
}

// WhatIfEndpoint is an endpoint's percentiles before and after a what-if,
// over all its traces (those without a matched call keep their duration).
type WhatIfEndpoint struct {
	Service      string   `json:"service"`
	Operation    string   `json:"operation"`
	Count        int      `json:"count"`    // traces of the endpoint
	Affected     int      `json:"affected"` // traces with a matched call
	SavingMeanUs int64    `json:"savingMeanUs"`
	P50BeforeUs  int64    `json:"p50BeforeUs"`
	P50AfterUs   int64    `json:"p50AfterUs"`
	P95BeforeUs  int64    `json:"p95BeforeUs"`
	P95AfterUs   int64    `json:"p95AfterUs"`
	P99BeforeUs  int64    `json:"p99BeforeUs"`
	P99AfterUs   int64    `json:"p99AfterUs"`
	Warnings     []string `json:"warnings,omitempty"`
}

// ---- the what-if engine ----
//
// A change is a set of calls with a fixed shortening (general what-if) or
// runs of sibling calls started together (pair what-if). Only the changed
// calls' ancestors are replayed, deepest first: each replays its
// synchronous children in start order, grouped like fan-in (a child
// starting strictly before the group's latest end joins the group; a run's
// calls are forced into one group). The parent waits for each group to end:
// a group's children are launched shifted by the shift the parent had when
// the group began, and after the group the parent's shift is the group's
// old end minus its new end; the parent ends earlier by the shift after its
// last group. A group ending after the parent is not waited for.
//
// For one changed call this is exactly tracegen's rule (the parent then
// continues at max(the call's new end, ends of siblings that started
// before the call's original end)); for a pair moved together, the group of
// both ends at max(e1, s1 + (e2 − s2)). The walk stops at the root and at
// asynchronous edges, so a change below a CONSUMER never reaches the
// endpoint.

const (
	simFixed  uint8 = 1 << iota // shortening given (a what-if call)
	simDirty                    // ancestor of a change: replayed
	simHead                     // first call of a run
	simMember                   // later call of a run: starts earlier by extra
)

type simNode struct {
	epoch uint32
	flags uint8
	d     int64 // how much earlier the node ends relative to its start (ns)
	extra int64 // run member: how much earlier it starts
	until int64 // run head: start of the run's last call
}

// simState is one change being replayed. Nodes whose epoch is not the
// current one are untouched (zero); begin makes every node untouched in
// O(1).
type simState struct {
	nodes []simNode
	epoch uint32
	dirty []int32
}

func (s *simState) begin(n int) {
	if len(s.nodes) < n {
		s.nodes = append(s.nodes, make([]simNode, n-len(s.nodes))...)
	}
	if s.epoch++; s.epoch == 0 {
		clear(s.nodes)
		s.epoch = 1
	}
	s.dirty = s.dirty[:0]
}

func (s *simState) at(i int32) *simNode {
	x := &s.nodes[i]
	if x.epoch != s.epoch {
		*x = simNode{epoch: s.epoch}
	}
	return x
}

// shift is how much earlier node i ends under the current change.
func (s *simState) shift(i int32) int64 {
	if x := &s.nodes[i]; x.epoch == s.epoch && x.flags&(simFixed|simDirty) != 0 {
		return x.d
	}
	return 0
}

// fix gives call i a shortening of d.
func (s *simState) fix(i int32, d int64) {
	x := s.at(i)
	x.flags |= simFixed
	x.d = d
}

// run makes the sibling calls ms (start order), in units of unit calls,
// start together at ms[0]'s start: each unit moves whole.
func (s *simState) run(ts *traceState, ms []int32, unit int) {
	nd := ts.nodes
	h := s.at(ms[0])
	h.flags |= simHead
	h.until = nd[ms[len(ms)-1]].start
	for i, m := range ms[1:] {
		x := s.at(m)
		x.flags |= simMember
		x.extra = nd[ms[(i+1)/unit*unit]].start - nd[ms[0]].start
	}
}

// touch marks i and its ancestors for replay, up to the root or an
// asynchronous edge, stopping at nodes already marked or fixed.
func (ts *traceState) touch(i int32) {
	s := &ts.sg.sim
	for i >= 0 {
		x := s.at(i)
		if x.flags&(simDirty|simFixed) != 0 {
			return
		}
		x.flags |= simDirty
		s.dirty = append(s.dirty, i)
		n := &ts.nodes[i]
		if n.parent < 0 || n.has(fAsync) {
			return
		}
		i = n.parent
	}
}

// propagate replays the marked nodes, deepest first, so that every child's
// shift is known before its parent's replay.
func (ts *traceState) propagate() {
	s, depth := &ts.sg.sim, ts.sg.depth
	slices.SortFunc(s.dirty, func(a, b int32) int { return cmp.Compare(depth[b], depth[a]) })
	for _, p := range s.dirty {
		s.nodes[p].d = ts.replay(p)
	}
}

// replay returns how much earlier p ends (see the engine's description).
func (ts *traceState) replay(p int32) int64 {
	s, nd := &ts.sg.sim, ts.nodes
	pEnd := nd[p].end
	var shift, ge, gne int64
	open := false
	until := int64(math.MinInt64)
	for _, c := range ts.children(p) {
		n := &nd[c]
		if n.has(fAsync) {
			continue
		}
		var d, extra, u int64 = 0, 0, math.MinInt64
		if x := &s.nodes[c]; x.epoch == s.epoch {
			d = x.d
			if x.flags&simMember != 0 {
				extra = x.extra
			}
			if x.flags&simHead != 0 {
				u = x.until
			}
		}
		if !open || n.start >= ge && n.start > until {
			if open && ge <= pEnd {
				shift = ge - gne
			}
			open, ge, gne = true, n.end, math.MinInt64
		}
		until = max(until, u)
		ge = max(ge, n.end)
		gne = max(gne, n.end-shift-d-extra)
	}
	if open && ge <= pEnd {
		shift = ge - gne
	}
	return shift
}

// ---- general what-if ----

// hopRef is a call of the current trace with its name as a hop and the
// what-ifs that match it.
type hopRef struct {
	n    int32
	mask uint64
}

// whatIfs replays each what-if (and, with several, all together) on the
// trace and records every endpoint root's saving.
func (ts *traceState) whatIfs(sa *suggestAcc) {
	sc, nd := ts.sg, ts.nodes
	wis := ts.opts.WhatIf[:min(len(ts.opts.WhatIf), MaxWhatIfs)]
	sc.hops = sc.hops[:0]
	for i := range nd {
		if nd[i].parent < 0 {
			continue
		}
		from, key, ok := ts.callOf(int32(i))
		if !ok {
			continue
		}
		var mask uint64
		for w := range wis {
			if wis[w].Match(from, key.to, key.op) {
				mask |= 1 << w
			}
		}
		if mask != 0 {
			sc.hops = append(sc.hops, hopRef{int32(i), mask})
		}
	}
	if len(sc.hops) == 0 {
		return
	}
	results := len(wis)
	if results > 1 {
		results++
	}
	sim := &sc.sim
	for w := range results {
		sel := uint64(1) << w
		if w == len(wis) {
			sel = 1<<len(wis) - 1 // all together
		}
		sim.begin(len(nd))
		matched := 0
		for _, h := range sc.hops {
			if h.mask&sel == 0 {
				continue
			}
			matched++
			dur := nd[h.n].end - nd[h.n].start
			nw := dur
			for k := range wis {
				if h.mask&sel&(1<<k) != 0 {
					nw = wis[k].apply(nw)
				}
			}
			if nw != dur {
				sim.fix(h.n, dur-nw)
			}
		}
		if matched == 0 {
			continue
		}
		for _, h := range sc.hops {
			if x := &sim.nodes[h.n]; x.epoch == sim.epoch && x.flags&simFixed != 0 && !nd[h.n].has(fAsync) {
				ts.touch(nd[h.n].parent)
			}
		}
		ts.propagate()
		wa := sa.whatIf(w)
		wa.calls += matched
		wa.traces++
		for _, r := range ts.roots {
			if n := &nd[r]; n.has(fTrueRoot) {
				wa.endpoint(key2{n.span.Service, n.span.Operation}).add(sim.shift(r), ts.ti)
			}
		}
	}
}

// fillWhatIf writes Report.WhatIf.
func (a *accum) fillWhatIf(r *Report, opts *Options) {
	wis := opts.WhatIf[:min(len(opts.WhatIf), MaxWhatIfs)]
	if len(wis) == 0 {
		return
	}
	results := len(wis)
	if results > 1 {
		results++
	}
	r.WhatIf = make([]WhatIfResult, 0, results)
	for w := range results {
		res := WhatIfResult{Endpoints: []WhatIfEndpoint{}}
		if w < len(wis) {
			res.Spec = wis[w].Spec
		} else {
			specs := make([]string, len(wis))
			for i := range wis {
				specs[i] = wis[i].Spec
			}
			res.Spec = "all together: " + strings.Join(specs, "; ")
		}
		var wa *whatIfAcc
		if a.sug != nil && w < len(a.sug.whatifs) {
			wa = a.sug.whatifs[w]
		}
		if wa != nil {
			res.Calls, res.Traces = wa.calls, wa.traces
			for _, k := range sortedKeys2(wa.eps) {
				sav := wa.eps[k]
				ep := a.eps[k]
				if ep == nil {
					continue
				}
				before := ep.durs.sorted()
				after := afterSamples(&ep.durs, sav)
				var sum int64
				for _, v := range sav.v {
					sum += v
				}
				e := WhatIfEndpoint{Service: k.a, Operation: k.b, Count: len(before), Affected: sav.len(),
					SavingMeanUs: us(sum / int64(max(1, sav.len()))),
					P50BeforeUs:  us(pct(before, 50)), P50AfterUs: us(pct(after, 50)),
					P95BeforeUs: us(pct(before, 95)), P95AfterUs: us(pct(after, 95)),
					P99BeforeUs: us(pct(before, 99)), P99AfterUs: us(pct(after, 99))}
				e.Warnings = appendNonEmpty(nil, fewSamples("", len(before), 50, 95, 99))
				res.Endpoints = append(res.Endpoints, e)
			}
		}
		r.WhatIf = append(r.WhatIf, res)
	}
}

// afterSamples returns the endpoint's durations with each trace's saving
// taken off (a trace's savings apply to its samples in order), ascending.
func afterSamples(ep *series, sav *series) []int64 {
	head := make(map[int32]int32, sav.len()) // trace → 1 + index of its next saving
	next := make([]int32, sav.len())
	for i := sav.len() - 1; i >= 0; i-- {
		t := sav.t[i]
		next[i] = head[t]
		head[t] = int32(i) + 1
	}
	out := make([]int64, len(ep.v))
	for i, v := range ep.v {
		t := ep.t[i]
		if h := head[t]; h > 0 {
			v -= sav.v[h-1]
			head[t] = next[h-1]
		}
		out[i] = v
	}
	slices.Sort(out)
	return out
}
