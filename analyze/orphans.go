package analyze

import "fmt"

// adoptOrphans makes every span whose parent is not in the trace an extra
// root: it is analysed on its own (its own critical path), never dropped, and
// warned and counted. Orphan roots are not endpoints: an endpoint is a span
// that declares no parent.
func adoptOrphans(ts *traceState) {
	n := 0
	for i := range ts.nodes {
		nd := &ts.nodes[i]
		if nd.parent != parentMissing {
			continue
		}
		nd.parent = -1
		nd.flags |= fOrphan
		n++
		ts.warn(RuleOrphan, int32(i), 0, fmt.Sprintf("parent %s is not in the trace: analysed as an extra root", nd.span.Parent))
	}
	if n > 0 {
		ts.counts.Orphans += n
		ts.counts.TracesWithOrphans++
	}
}
