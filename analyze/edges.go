package analyze

import "hopbudget/tracefmt"

// resolveEdges turns each span's parent ID into a node index and decides
// whether that edge is synchronous.
//
// The parent is Span.Parent: the OTLP parentSpanId, or for Jaeger the first
// CHILD_OF reference (else FOLLOWS_FROM) that the reader already chose. The
// edge is asynchronous when the parent reference is FOLLOWS_FROM, when a
// CONSUMER span hangs off a PRODUCER, or when the span also carries a
// follows-from reference (an OTLP link) to its parent. Asynchronous children
// are never on the critical path and take no part in fan-in.
//
// A parent ID that is not in the trace is marked parentMissing for the
// orphans pass. Afterwards the child lists are built (input order).
func resolveEdges(ts *traceState) {
	for i := range ts.nodes {
		n := &ts.nodes[i]
		s := n.span
		if s.Parent.IsZero() {
			n.parent = -1
			n.flags |= fTrueRoot
			continue
		}
		p, ok := ts.ids[s.Parent]
		if !ok {
			n.parent = parentMissing
			continue
		}
		n.parent = p
		if isAsyncEdge(ts.nodes[p].span, s) {
			n.flags |= fAsync
			ts.counts.AsyncEdges++
		}
	}
	ts.buildChildren()
}

func isAsyncEdge(parent, child *tracefmt.Span) bool {
	if child.ParentFollowsFrom || parent.Kind == tracefmt.KindProducer && child.Kind == tracefmt.KindConsumer {
		return true
	}
	for _, r := range child.Refs {
		if r.Type == tracefmt.FollowsFrom && r.SpanID == child.Parent && (r.TraceID == child.TraceID || r.TraceID.IsZero()) {
			return true
		}
	}
	return false
}
