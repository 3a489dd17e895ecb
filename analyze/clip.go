package analyze

// clipChildren computes, for the critical path, every span's effective
// interval: its interval cut to its parent's effective interval (a root's is
// its own). A child that does not meet its parent's interval at all is
// marked outside and, with its subtree, ignored by the critical path; a
// child touching it at one point keeps a zero-length interval. Subtrees
// below an asynchronous edge are marked never-walked. Fan-in, hops and
// overhead use the unclipped (skew-adjusted) intervals. Jaeger mode clips
// by the UI's own rules instead (jaeger.go), so this pass does not run.
func clipChildren(ts *traceState) {
	if ts.opts.CriticalPath == ModeJaeger {
		return
	}
	nd := ts.nodes
	for _, i := range ts.topo {
		n := &nd[i]
		if n.parent < 0 {
			n.cs, n.ce = n.start, n.end
			continue
		}
		p := &nd[n.parent]
		switch {
		case n.has(fAsync) || p.has(fNoCP):
			n.flags |= fNoCP
			continue
		case p.has(fOutside):
			n.flags |= fOutside
			continue
		}
		n.cs, n.ce = max(n.start, p.cs), min(n.end, p.ce)
		if n.cs > n.ce {
			n.flags |= fOutside
			ts.counts.ChildrenOutsideParent++
		} else if n.cs != n.start || n.ce != n.end {
			ts.counts.ChildrenClipped++
		}
	}
}
