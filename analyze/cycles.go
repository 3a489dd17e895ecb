package analyze

import "fmt"

// breakCycles makes the parent relation a forest. Spans not reachable from
// a root lie on (or hang below) a loop of parent IDs; each loop is broken at
// its span with the earliest start (then smallest span ID, then node index),
// which becomes a root: a deterministic point that does not depend on input
// order. The pass also lists the roots and a topological order (every node
// once, parents first) for the passes after it.
func breakCycles(ts *traceState) {
	n := len(ts.nodes)
	const visited = -1
	ts.mark = resize(ts.mark, n)
	clear(ts.mark)
	ts.topo = ts.topo[:0]
	ts.roots = ts.roots[:0]
	for i := range ts.nodes {
		if ts.nodes[i].parent < 0 {
			ts.roots = append(ts.roots, int32(i))
			ts.visitFrom(int32(i), ts.mark)
		}
	}
	if len(ts.topo) == n {
		return
	}
	broken := false
	for i := range ts.nodes {
		if ts.mark[i] != 0 {
			continue
		}
		walk := int32(i + 1)
		j := int32(i)
		for ts.mark[j] == 0 {
			ts.mark[j] = walk
			j = ts.nodes[j].parent
		}
		if ts.mark[j] != walk {
			continue // reached a visited node (cannot happen: see visitFrom)
		}
		// j is on the loop: find its best breaking point.
		best := j
		for k := ts.nodes[j].parent; k != j; k = ts.nodes[k].parent {
			a, b := &ts.nodes[k], &ts.nodes[best]
			if a.start < b.start || a.start == b.start && cmpID(a, b, k, best) < 0 {
				best = k
			}
		}
		b := &ts.nodes[best]
		old := b.parent
		b.parent = -1
		b.flags = b.flags&^fAsync | fCycleRoot
		ts.counts.CyclesBroken++
		ts.warn(RuleCycle, best, 0, fmt.Sprintf("parent chain loops: edge to parent %s removed, span analysed as a root", ts.nodes[old].span.SpanID))
		ts.roots = append(ts.roots, best)
		ts.visitFrom(best, ts.mark)
		broken = true
	}
	if broken {
		ts.buildChildren() // drop the removed edges from the child lists
	}
}

// visitFrom appends r's subtree to ts.topo breadth-first, marking it
// visited. A node already visited is skipped: the only such child is a
// loop's breaking point, still listed under its former parent until the
// child lists are rebuilt. Marks of unfinished walks are overwritten, so
// every node of a broken loop and below it ends up visited.
func (ts *traceState) visitFrom(r int32, mark []int32) {
	head := len(ts.topo)
	mark[r] = -1
	ts.topo = append(ts.topo, r)
	for head < len(ts.topo) {
		p := ts.topo[head]
		head++
		for _, c := range ts.children(p) {
			if mark[c] == -1 || ts.nodes[c].parent != p {
				continue
			}
			mark[c] = -1
			ts.topo = append(ts.topo, c)
		}
	}
}
