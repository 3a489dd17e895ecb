package analyze

import "slices"

// cpFrame is a span being walked: next indexes its next candidate child in
// cpKids; t is the current point, moving backward.
type cpFrame struct {
	n    int32
	next int32
	t    int64
	from int32 // the child last walked (its start is t), -1 before any
}

// criticalPath computes the default critical path of every root into
// ts.segs (each root's segments in time order, roots in root order); see
// doc.go for the definition. The walk uses an explicit stack, and each
// child list is scanned once in total: t only decreases, so a child passed
// because it ends after t is never eligible again. Linear after the sort.
func (ts *traceState) criticalPath() {
	nd := ts.nodes
	ts.segs = ts.segs[:0]
	for _, r := range ts.roots {
		base := len(ts.segs)
		fr := append(ts.frames[:0], cpFrame{r, ts.off[r], nd[r].ce, -1})
		for len(fr) > 0 {
			f := &fr[len(fr)-1]
			end := ts.off[f.n+1]
			for f.next < end {
				c := &nd[ts.cpKids[f.next]]
				if c.flags&(fNoCP|fOutside) == 0 && c.ce <= f.t && !ts.sameStart(ts.cpKids[f.next], f.from) {
					break
				}
				f.next++
			}
			if f.next == end {
				// No child left: the rest back to the span's start is its own.
				lo := nd[f.n].cs
				ts.emit(base, f.n, lo, f.t)
				fr = fr[:len(fr)-1]
				if len(fr) > 0 {
					fr[len(fr)-1].t = lo
				}
				continue
			}
			c := ts.cpKids[f.next]
			f.next++
			f.from = c
			ts.emit(base, f.n, nd[c].ce, f.t)
			fr = append(fr, cpFrame{c, ts.off[c], nd[c].ce, -1})
		}
		ts.frames = fr
		slices.Reverse(ts.segs[base:])
	}
}

// emit prepends [s, e) of node n to the current root's backward-built
// segments (from base), merging with the following segment of the same span.
func (ts *traceState) emit(base int, n int32, s, e int64) {
	if s >= e {
		return
	}
	if k := len(ts.segs) - 1; k >= base && ts.segs[k].n == n && ts.segs[k].s == e {
		ts.segs[k].s = s
		return
	}
	ts.segs = append(ts.segs, segment{n, s, e})
}

// cpSubtree sets ts.sub[i] to the critical-path time spent in i's subtree
// (i and its descendants through synchronous edges), from ts.segs.
func (ts *traceState) cpSubtree() {
	ts.sub = resize(ts.sub, len(ts.nodes))
	clear(ts.sub)
	for _, s := range ts.segs {
		ts.sub[s.n] += s.e - s.s
	}
	for k := len(ts.topo) - 1; k >= 0; k-- {
		i := ts.topo[k]
		if n := &ts.nodes[i]; n.parent >= 0 && !n.has(fAsync) {
			ts.sub[n.parent] += ts.sub[i]
		}
	}
}

// sameStart says whether c, ending by t = the start of b (the sibling
// walked last), still cannot be b's predecessor: with coarse clocks, calls
// of one group (see groupKids) were started together, so one precedes
// another only if it certainly ended before it began, by b's granularity.
// With exact clocks any end by t precedes.
func (ts *traceState) sameStart(c, b int32) bool {
	if !ts.settled || b < 0 || ts.gid[c] < 0 || ts.gid[c] != ts.gid[b] {
		return false
	}
	x, y := &ts.nodes[c], &ts.nodes[b]
	return x.ce+y.g > y.cs
}
