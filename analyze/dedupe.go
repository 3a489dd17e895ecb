package analyze

import (
	"fmt"
	"slices"

	"hopbudget/tracefmt"
)

// dedupe creates the trace's nodes. A span identical to an earlier one with
// the same ID (a retried export, a span stored twice) is merged into it. A
// span with the same ID but other content is kept as a node of its own: its
// node index is its identity, the ID map keeps pointing at the first node,
// so children resolve to the first occurrence (as the Jaeger UI does, which
// renames later copies "<id>_1", …). The conflict is warned.
func dedupe(ts *traceState) {
	for _, s := range ts.tr.Spans {
		first, seen := ts.ids[s.SpanID]
		if !seen {
			ts.ids[s.SpanID] = int32(len(ts.nodes))
			ts.addNode(s, 0)
			continue
		}
		dup := false
		last := first
		for j := first; j >= 0; j = ts.nodes[j].sameNext {
			if sameSpan(ts.nodes[j].span, s) {
				dup = true
				break
			}
			last = j
		}
		if dup {
			ts.counts.DuplicatesMerged++
			continue
		}
		i := int32(len(ts.nodes))
		ts.nodes[last].sameNext = i
		ts.addNode(s, fDupConflict)
		ts.counts.DuplicateIDConflicts++
		ts.warn(RuleDuplicateID, i, 0, fmt.Sprintf("span ID %s appears again with different content: kept as a separate span; children attach to the first", s.SpanID))
	}
}

func (ts *traceState) addNode(s *tracefmt.Span, flags uint16) {
	ts.nodes = append(ts.nodes, node{span: s, start: s.Start, end: s.End, cs: s.Start, ce: s.End,
		parent: -1, sameNext: -1, flags: flags})
}

// sameSpan reports whether two spans carry the same content.
func sameSpan(a, b *tracefmt.Span) bool {
	if a == b {
		return true
	}
	if a.TraceID != b.TraceID || a.SpanID != b.SpanID || a.Parent != b.Parent || a.Start != b.Start ||
		a.End != b.End || a.Service != b.Service || a.Operation != b.Operation || a.Kind != b.Kind ||
		a.Status != b.Status || a.ParentFollowsFrom != b.ParentFollowsFrom || !slices.Equal(a.Refs, b.Refs) {
		return false
	}
	if a.Attrs == b.Attrs {
		return true
	}
	return a.Attrs != nil && b.Attrs != nil && *a.Attrs == *b.Attrs
}
