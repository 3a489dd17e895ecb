package analyze

import (
	"cmp"
	"slices"

	"hopbudget/tracefmt"
)

// Node flags.
const (
	fAsync       uint16 = 1 << iota // the edge to the parent is asynchronous
	fTrueRoot                       // no parent ID at all
	fOrphan                         // parent ID not in the trace: extra root
	fCycleRoot                      // parent edge removed to break a cycle
	fDupConflict                    // same span ID as an earlier, different span
	fOutside                        // clipped interval empty: off the critical path with its subtree
	fNoCP                           // under an asynchronous edge: never walked
)

// parentMissing marks, between the edges and orphans passes, a parent ID
// that is not in the trace.
const parentMissing = -2

// node is one span of a trace in the working DAG. Indices are int32 so that a
// trace's arrays stay compact; node order is input order (merged copies left
// out).
type node struct {
	span       *tracefmt.Span
	start, end int64 // ns, after the clock-skew pass
	cs, ce     int64 // ns, clipped to the parent's clipped interval (critical path)
	g          int64 // ns, the clock granularity of the span's service (0: exact)
	parent     int32 // -1: a root
	sameNext   int32 // next node with the same span ID (duplicate conflicts), -1
	flags      uint16
}

func (n *node) has(f uint16) bool { return n.flags&f != 0 }

// traceState holds one trace's working data. A worker reuses one traceState
// for all its traces, so the per-trace cost is mostly free of allocation.
type traceState struct {
	opts  *Options
	gran  map[string]int64 // coarse clock granularities by service; nil: all exact
	ti    int32            // index of the trace in the input
	tr    *tracefmt.Trace
	nodes []node
	ids   map[tracefmt.SpanID]int32 // span ID → first node with that ID

	// Children in CSR form: the children of i are kids[off[i]:off[i+1]].
	// After sortChildren, kids is in fan-in order (start, end, ID, index)
	// and cpKids in critical-path order (clipped end desc, clipped start,
	// ID, index).
	off    []int32
	kids   []int32
	cpKids []int32
	topo   []int32 // every node once, parents before children
	roots  []int32 // sorted by start, span ID, index

	counts Counts
	warns  []Warning

	// scratch
	cur    []int32
	mark   []int32
	segs   []segment
	sub    []int64
	frames []cpFrame
	group  []int32 // fan-in group members (per-trace detail)
	fg     []int32 // the fan-in group being built
	gk, gg []int32 // syncKids and groupKids results
	// settleGranularity: sync children in start order and their groups
	// (CSR, aligned with kids), their count per node, each node's move.
	gorder, ggrp, gcnt []int32
	gmove              []int64
	gid                []int32 // each node's group among its siblings (-1: async)
	settled            bool    // the granularity pass ran: use its groups
	jg                 jaegerScratch
	sg                 *sibScratch // suggest and what-if (siblings.go), made on first use

	// rowHops: this trace's hops (worker-local ids), chunkHops those of
	// the chunk so far; see addRow.
	rowHops, chunkHops []TraceHop
}

// segment is a critical-path piece in ns: node n owns [s, e).
type segment struct {
	n    int32
	s, e int64
}

func newTraceState(opts *Options, gran map[string]int64) *traceState {
	return &traceState{opts: opts, gran: gran, ids: make(map[tracefmt.SpanID]int32)}
}

// reset prepares ts for trace tr (index ti).
func (ts *traceState) reset(ti int32, tr *tracefmt.Trace) {
	ts.ti, ts.tr = ti, tr
	ts.settled = false
	ts.nodes = ts.nodes[:0]
	clear(ts.ids)
	ts.counts = Counts{}
	ts.warns = ts.warns[:0]
	ts.segs = ts.segs[:0]
	ts.roots = ts.roots[:0]
	ts.topo = ts.topo[:0]
}

// pass is one clean-up step. The passes run in the order of cleanup; each
// does one thing and records what it changed in ts.counts and ts.warns.
type pass struct {
	name string
	run  func(*traceState)
}

// cleanup is the documented order (see doc.go).
var cleanup = [...]pass{
	{"dedupe", dedupe},
	{"edges", resolveEdges},
	{"orphans", adoptOrphans},
	{"cycles", breakCycles},
	{"clocks", (*traceState).assignClocks},
	{"skew", adjustSkew},
	{"granularity", settleGranularity},
	{"clip", clipChildren},
}

// build runs the clean-up passes and sorts the children: afterwards the
// trace is a forest of roots with compact indices, ready for analysis.
func (ts *traceState) build() {
	for _, p := range cleanup {
		p.run(ts)
	}
	ts.sortChildren()
}

// buildChildren fills the CSR child lists from the parent indices, children
// in node (input) order.
func (ts *traceState) buildChildren() {
	n := len(ts.nodes)
	ts.off = resize(ts.off, n+1)
	clear(ts.off)
	for i := range ts.nodes {
		if p := ts.nodes[i].parent; p >= 0 {
			ts.off[p+1]++
		}
	}
	for i := 1; i <= n; i++ {
		ts.off[i] += ts.off[i-1]
	}
	ts.kids = resize(ts.kids, int(ts.off[n]))
	ts.cur = resize(ts.cur, n)
	copy(ts.cur, ts.off[:n])
	for i := range ts.nodes {
		if p := ts.nodes[i].parent; p >= 0 {
			ts.kids[ts.cur[p]] = int32(i)
			ts.cur[p]++
		}
	}
}

func (ts *traceState) children(i int32) []int32 { return ts.kids[ts.off[i]:ts.off[i+1]] }

// sortChildren orders every child list once, for fan-in and critical path,
// and the roots. Ties end with the node index, so the order is total.
func (ts *traceState) sortChildren() {
	nd := ts.nodes
	byCP := func(a, b int32) int {
		x, y := &nd[a], &nd[b]
		if c := cmp.Compare(y.ce, x.ce); c != 0 {
			return c
		}
		if c := cmp.Compare(x.cs, y.cs); c != 0 {
			return c
		}
		return cmpID(x, y, a, b)
	}
	ts.cpKids = resize(ts.cpKids, len(ts.kids))
	for i := range nd {
		k := ts.children(int32(i))
		if len(k) > 1 {
			slices.SortFunc(k, ts.byStart)
		}
		c := ts.cpKids[ts.off[i]:ts.off[i+1]]
		copy(c, k)
		if len(c) > 1 {
			slices.SortFunc(c, byCP)
		}
	}
	slices.SortFunc(ts.roots, func(a, b int32) int {
		if c := cmp.Compare(nd[a].start, nd[b].start); c != 0 {
			return c
		}
		return cmpID(&nd[a], &nd[b], a, b)
	})
}

// cmpID orders by span ID (bytewise, i.e. as an unsigned number), then by
// node index so that duplicate IDs still order deterministically.
func cmpID(x, y *node, a, b int32) int {
	if x.span.SpanID != y.span.SpanID {
		for i := range x.span.SpanID {
			if x.span.SpanID[i] != y.span.SpanID[i] {
				return cmp.Compare(x.span.SpanID[i], y.span.SpanID[i])
			}
		}
	}
	return cmp.Compare(a, b)
}

// primaryRoot is the trace's main root: the first true root (no parent ID)
// in root order, else the first root.
func (ts *traceState) primaryRoot() int32 {
	for _, r := range ts.roots {
		if ts.nodes[r].has(fTrueRoot) {
			return r
		}
	}
	if len(ts.roots) > 0 {
		return ts.roots[0]
	}
	return -1
}

func (ts *traceState) warn(rule string, i int32, shift int64, msg string) {
	s := ts.nodes[i].span
	ts.warns = append(ts.warns, Warning{Rule: rule, TraceID: ts.tr.ID.String(), SpanID: s.SpanID.String(),
		Service: s.Service, Operation: s.Operation, ShiftUs: us(shift), Message: msg})
}

// resize returns s with length n, reusing its storage when large enough.
// The contents are unspecified.
func resize[T any](s []T, n int) []T {
	if cap(s) >= n {
		return s[:n]
	}
	return make([]T, n, n+n/4)
}

// us converts ns to µs by integer division (see Report).
func us(ns int64) int64 { return ns / 1000 }
