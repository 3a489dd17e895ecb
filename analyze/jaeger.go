package analyze

import (
	"cmp"
	"fmt"
	"slices"
	"sort"

	"hopbudget/tracefmt"
)

// jaegerScratch is the working data of the jaeger-mode critical path. It has
// its own tree: the Jaeger UI's tree parent differs from hopbudget's parent
// (see jaegerCriticalPath), and its times are the UI's microseconds.
type jaegerScratch struct {
	tparent  []int32 // tree parent: first reference present in the trace
	cpParent []int32 // the UI's parentSpanID: -1 none, parentMissing absent
	start    []int64 // µs, repaired, then clipped
	end      []int64 // µs
	off      []int32 // tree children CSR, sorted by start (stable)
	kids     []int32
	cnt      []int32 // walk: number of kept children at wkids[off[i]:]
	wkids    []int32 // walk: kept children by end desc, then tree order
	root     []int32 // root whose span map holds the node, -1 none
	deleted  []bool
	pre      []int32
	stack    []int32
	roots    []int32
	blocks   []int // ts.segs index where each root's sections start
}

// jaegerCriticalPath reproduces the Jaeger UI's critical path (jaeger-ui
// v2.15+, CriticalPath/index.ts and its utils, on the tree built by
// transform-trace-data.ts) into ts.segs: for each root in the UI's root
// order, its sections in time order (the UI lists them backward; tests
// reverse each block in ts.jg.blocks to compare). Times are the UI's
// integer microseconds, stored back as ns multiples of 1000.
//
// The rules, in the UI's order:
//  1. Tree parent: the first reference (OTLP: the parent, then links) whose
//     span ID is in the trace. Spans without one are roots, in start order
//     (stable). Children are in start order (stable: input order on ties).
//     A start <= 0 becomes the tree parent's start (0 for a root).
//  2. Per root, a pre-order walk collects the span map, skipping a CONSUMER
//     child of a PRODUCER with its subtree.
//  3. Sanitizing in that pre-order, against the span's parentSpanID (the
//     first CHILD_OF of the same trace, else FOLLOWS_FROM: Span.Parent) as
//     clipped so far: no parent ID → kept; parent not in the map → deleted
//     (so an orphan root and its subtree yield nothing); a child starting at
//     or after the parent's end, or ending at or before its start, is
//     deleted; otherwise it is clipped to the parent.
//  4. The walk from the root: pick the kept child with the greatest end
//     (strictly before the limit when there is one; ties: tree order), emit
//     the span's time after it, descend without limit; with no such child,
//     emit the rest from the span's start and continue in the parentSpanID
//     span with the limit at this span's start (a limit of 0 counts as none,
//     as in the UI). Zero-length sections are not emitted; nothing is merged.
func (ts *traceState) jaegerCriticalPath() {
	js := &ts.jg
	nd := ts.nodes
	n := len(nd)
	js.tparent = resize(js.tparent, n)
	js.cpParent = resize(js.cpParent, n)
	js.start = resize(js.start, n)
	js.end = resize(js.end, n)
	js.root = resize(js.root, n)
	js.deleted = resize(js.deleted, n)
	clear(js.deleted)
	repair := false
	for i := range nd {
		s := nd[i].span
		js.tparent[i] = jaegerTreeParent(ts.ids, s)
		js.cpParent[i] = -1
		if !s.Parent.IsZero() {
			if p, ok := ts.ids[s.Parent]; ok {
				js.cpParent[i] = p
			} else {
				js.cpParent[i] = parentMissing
			}
		}
		js.start[i] = s.Start / 1000
		js.end[i] = (s.End - s.Start) / 1000 // duration for now
		js.root[i] = -1
		repair = repair || js.start[i] <= 0
	}
	// Tree children, input order, then stable by start.
	js.off = resize(js.off, n+1)
	clear(js.off)
	for i := range nd {
		if p := js.tparent[i]; p >= 0 {
			js.off[p+1]++
		}
	}
	for i := 1; i <= n; i++ {
		js.off[i] += js.off[i-1]
	}
	js.kids = resize(js.kids, int(js.off[n]))
	ts.cur = resize(ts.cur, n)
	copy(ts.cur, js.off[:n])
	js.roots = js.roots[:0]
	for i := range nd {
		if p := js.tparent[i]; p >= 0 {
			js.kids[ts.cur[p]] = int32(i)
			ts.cur[p]++
		} else {
			js.roots = append(js.roots, int32(i))
		}
	}
	if repair {
		js.repairStarts()
	}
	for i := range nd {
		js.end[i] += js.start[i]
	}
	byStart := func(a, b int32) int { return cmp.Compare(js.start[a], js.start[b]) }
	for i := range nd {
		if k := js.kids[js.off[i]:js.off[i+1]]; len(k) > 1 {
			slices.SortStableFunc(k, byStart)
		}
	}
	slices.SortStableFunc(js.roots, byStart)

	js.cnt = resize(js.cnt, n)
	js.wkids = resize(js.wkids, len(js.kids))
	ts.segs = ts.segs[:0]
	js.blocks = js.blocks[:0]
	for _, r := range js.roots {
		js.blocks = append(js.blocks, len(ts.segs))
		ts.jaegerRoot(r)
	}
}

// repairStarts gives spans with start <= 0 their tree parent's start (0 for
// a root), parents first.
func (js *jaegerScratch) repairStarts() {
	q := append(js.stack[:0], js.roots...)
	for h := 0; h < len(q); h++ {
		i := q[h]
		if js.start[i] <= 0 {
			js.start[i] = 0
			if p := js.tparent[i]; p >= 0 {
				js.start[i] = js.start[p]
			}
		}
		q = append(q, js.kids[js.off[i]:js.off[i+1]]...)
	}
	js.stack = q[:0]
}

func jaegerTreeParent(ids map[tracefmt.SpanID]int32, s *tracefmt.Span) int32 {
	if !s.Parent.IsZero() && !hasRefTo(s.Refs, s.Parent) {
		// OTLP: the parent is not among the refs; Jaeger lists it first.
		if p, ok := ids[s.Parent]; ok {
			return p
		}
	}
	for _, r := range s.Refs {
		if p, ok := ids[r.SpanID]; ok {
			return p
		}
	}
	return -1
}

func hasRefTo(refs []tracefmt.Ref, id tracefmt.SpanID) bool {
	for _, r := range refs {
		if r.SpanID == id {
			return true
		}
	}
	return false
}

// jaegerRoot builds root r's span map, sanitizes it and walks it.
func (ts *traceState) jaegerRoot(r int32) {
	js := &ts.jg
	nd := ts.nodes
	// 2. Pre-order map, producer→consumer children pruned.
	js.pre = js.pre[:0]
	st := append(js.stack[:0], r)
	for len(st) > 0 {
		i := st[len(st)-1]
		st = st[:len(st)-1]
		js.root[i] = r
		js.pre = append(js.pre, i)
		k := js.kids[js.off[i]:js.off[i+1]]
		for j := len(k) - 1; j >= 0; j-- {
			c := k[j]
			if nd[i].span.Kind == tracefmt.KindProducer && nd[c].span.Kind == tracefmt.KindConsumer {
				ts.counts.JaegerConsumersPruned++
				continue
			}
			st = append(st, c)
		}
	}
	js.stack = st
	// 3. Sanitize in pre-order against the (clipped) parentSpanID span.
	for _, i := range js.pre {
		p := js.cpParent[i]
		if p == -1 {
			continue
		}
		if p == parentMissing || js.root[p] != r || js.deleted[p] {
			js.deleted[i] = true
			ts.counts.JaegerSpansDropped++
			continue
		}
		s, e, ps, pe := js.start[i], js.end[i], js.start[p], js.end[p]
		switch {
		case s >= ps && s >= pe, s < ps && e <= ps:
			js.deleted[i] = true
			ts.counts.JaegerSpansDropped++
		case s >= ps:
			js.end[i] = min(e, pe)
		case e <= pe:
			js.start[i] = ps
		default:
			js.start[i], js.end[i] = ps, pe
		}
	}
	// Kept children per span, by end desc then tree order.
	inMap := func(i int32) bool { return js.root[i] == r && !js.deleted[i] }
	for _, i := range js.pre {
		w := js.wkids[js.off[i]:js.off[i]]
		for _, c := range js.kids[js.off[i]:js.off[i+1]] {
			if inMap(c) {
				w = append(w, c)
			}
		}
		js.cnt[i] = int32(len(w))
		if len(w) > 1 {
			slices.SortStableFunc(w, func(a, b int32) int { return cmp.Compare(js.end[b], js.end[a]) })
		}
	}
	// 4. The walk. Each step descends into a child or returns to a parent,
	// so a tree needs at most 2 steps per span; the guard only stops
	// pathological parent IDs from looping forever.
	base := len(ts.segs)
	S, ret, hasRet := r, int64(0), false
	for steps := 0; inMap(S); steps++ {
		if steps > 2*len(js.pre)+2 {
			ts.warn(RuleJaegerWalk, S, 0, fmt.Sprintf("jaeger critical path: walk stopped after %d steps (looping parent IDs)", steps))
			break
		}
		w := js.wkids[js.off[S] : js.off[S]+js.cnt[S]]
		c := int32(-1)
		if !hasRet {
			if len(w) > 0 {
				c = w[0]
			}
		} else if k := sort.Search(len(w), func(j int) bool { return js.end[w[j]] < ret }); k < len(w) {
			c = w[k] // ends descending: the greatest end below the limit
		}
		secEnd := js.end[S]
		if hasRet {
			secEnd = ret
		}
		if c >= 0 {
			ts.jemit(S, js.end[c], secEnd)
			S, hasRet = c, false
			continue
		}
		ts.jemit(S, js.start[S], secEnd)
		p := js.cpParent[S]
		if p < 0 {
			break
		}
		ret = js.start[S]
		hasRet = ret != 0
		S = p
	}
	slices.Reverse(ts.segs[base:])
}

func (ts *traceState) jemit(n int32, s, e int64) {
	if s != e { // the UI skips only equal bounds
		ts.segs = append(ts.segs, segment{n, s * 1000, e * 1000})
	}
}
