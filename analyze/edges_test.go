package analyze

import (
	"testing"

	"hopbudget/tracefmt"
)

func TestResolveEdges(t *testing.T) {
	link := []tracefmt.Ref{{TraceID: tid(1), SpanID: sid(1), Type: tracefmt.FollowsFrom}}
	otherLink := []tracefmt.Ref{{TraceID: tid(1), SpanID: sid(9), Type: tracefmt.FollowsFrom}}
	for _, tc := range []struct {
		name   string
		parent sp
		child  sp
		want   int32 // child's parent index
		async  bool
	}{
		{"child-of", sp{id: 1}, sp{id: 2, parent: 1}, 0, false},
		{"follows-from reference", sp{id: 1}, sp{id: 2, parent: 1, ff: true}, 0, true},
		{"producer → consumer", sp{id: 1, kind: prod}, sp{id: 2, parent: 1, kind: cons}, 0, true},
		{"producer → internal stays sync", sp{id: 1, kind: prod}, sp{id: 2, parent: 1}, 0, false},
		{"client → consumer stays sync", sp{id: 1, kind: tracefmt.KindClient}, sp{id: 2, parent: 1, kind: cons}, 0, false},
		{"OTLP link to the parent", sp{id: 1}, sp{id: 2, parent: 1, refs: link}, 0, true},
		{"link elsewhere does not matter", sp{id: 1}, sp{id: 2, parent: 1, refs: otherLink}, 0, false},
		{"missing parent", sp{id: 1}, sp{id: 2, parent: 7}, parentMissing, false},
		{"no parent", sp{id: 1}, sp{id: 2}, -1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := mkTrace(1, tc.parent, tc.child)
			opts := DefaultOptions()
			ts := newTraceState(&opts, nil)
			ts.reset(0, &tr)
			dedupe(ts)
			resolveEdges(ts)
			c := &ts.nodes[1]
			if c.parent != tc.want || c.has(fAsync) != tc.async {
				t.Errorf("parent %d async %v; want %d %v", c.parent, c.has(fAsync), tc.want, tc.async)
			}
			if tc.async != (ts.counts.AsyncEdges == 1) {
				t.Errorf("async edges counted: %d", ts.counts.AsyncEdges)
			}
			if !ts.nodes[0].has(fTrueRoot) || c.has(fTrueRoot) != (tc.want == -1) {
				t.Error("true roots wrong")
			}
			if got := len(ts.children(0)); got != int(btoi(tc.want == 0)) {
				t.Errorf("root has %d children", got)
			}
		})
	}
}

func btoi(b bool) int32 {
	if b {
		return 1
	}
	return 0
}
