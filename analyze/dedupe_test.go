package analyze

import (
	"testing"

	"hopbudget/tracefmt"
)

func TestDedupe(t *testing.T) {
	a := sp{id: 1, start: 0, end: 10}
	b := sp{id: 2, parent: 1, start: 1, end: 5}
	for _, tc := range []struct {
		name              string
		spans             []sp
		nodes, merged     int
		conflicts, warned int
	}{
		{"distinct", []sp{a, b}, 2, 0, 0, 0},
		{"identical copy merged", []sp{a, b, b}, 2, 1, 0, 0},
		{"three copies", []sp{a, b, b, b}, 2, 2, 0, 0},
		{"same ID other times kept", []sp{a, b, {id: 2, parent: 1, start: 2, end: 6}}, 3, 0, 1, 1},
		{"same ID other service kept", []sp{a, b, {id: 2, parent: 1, start: 1, end: 5, svc: "x"}}, 3, 0, 1, 1},
		{"copy of the conflicting one merged", []sp{a, b, {id: 2, parent: 1, start: 2, end: 6}, {id: 2, parent: 1, start: 2, end: 6}}, 3, 1, 1, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := mkTrace(1, tc.spans...)
			opts := DefaultOptions()
			ts := newTraceState(&opts, nil)
			ts.reset(0, &tr)
			dedupe(ts)
			if len(ts.nodes) != tc.nodes || ts.counts.DuplicatesMerged != tc.merged ||
				ts.counts.DuplicateIDConflicts != tc.conflicts || len(ts.warns) != tc.warned {
				t.Errorf("nodes %d merged %d conflicts %d warnings %d; want %d %d %d %d", len(ts.nodes),
					ts.counts.DuplicatesMerged, ts.counts.DuplicateIDConflicts, len(ts.warns), tc.nodes, tc.merged, tc.conflicts, tc.warned)
			}
			if first := ts.ids[sid(2)]; ts.nodes[first].span != tr.Spans[1] {
				t.Error("the ID does not resolve to its first occurrence")
			}
			for _, w := range ts.warns {
				if w.Rule != RuleDuplicateID || w.SpanID != sid(2).String() {
					t.Errorf("warning %+v", w)
				}
			}
		})
	}
}

func TestSameSpan(t *testing.T) {
	tr := mkTrace(1, sp{id: 1, start: 0, end: 10, attrs: tracefmt.Attrs{PeerService: "x"}},
		sp{id: 1, start: 0, end: 10, attrs: tracefmt.Attrs{PeerService: "x"}},
		sp{id: 1, start: 0, end: 10, attrs: tracefmt.Attrs{PeerService: "y"}})
	if !sameSpan(tr.Spans[0], tr.Spans[1]) {
		t.Error("equal attributes behind different pointers are not the same")
	}
	if sameSpan(tr.Spans[0], tr.Spans[2]) {
		t.Error("different attributes are the same")
	}
}
