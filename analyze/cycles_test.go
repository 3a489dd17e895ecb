package analyze

import (
	"encoding/hex"
	"testing"

	"hopbudget/tracefmt"
)

func mustID(s string) tracefmt.SpanID {
	var id tracefmt.SpanID
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 8 {
		panic(s)
	}
	copy(id[:], b)
	return id
}

func TestBreakCycles(t *testing.T) {
	for _, tc := range []struct {
		name   string
		spans  []sp
		cycles int
		broken []uint64 // spans that became roots
	}{
		{"no cycle", []sp{{id: 1}, {id: 2, parent: 1}}, 0, nil},
		{"self parent", []sp{{id: 1}, {id: 2, parent: 2, start: 5}}, 1, []uint64{2}},
		{"two-cycle broken at the earliest start", []sp{{id: 1, parent: 2, start: 5}, {id: 2, parent: 1, start: 3}}, 1, []uint64{2}},
		{"tie on start: smallest ID", []sp{{id: 3, parent: 2, start: 5}, {id: 2, parent: 3, start: 5}}, 1, []uint64{2}},
		{"cycle with a tail", []sp{{id: 1, parent: 3, start: 1}, {id: 2, parent: 1, start: 2}, {id: 3, parent: 2, start: 3}, {id: 4, parent: 3, start: 4}}, 1, []uint64{1}},
		{"two cycles", []sp{{id: 1, parent: 2}, {id: 2, parent: 1}, {id: 3, parent: 4, start: 9}, {id: 4, parent: 3, start: 8}}, 2, []uint64{1, 4}},
		{"cycle beside a tree", []sp{{id: 1}, {id: 2, parent: 1}, {id: 5, parent: 6}, {id: 6, parent: 5}}, 1, []uint64{5}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Same result whatever the input order.
			for _, rev := range []bool{false, true} {
				spans := append([]sp(nil), tc.spans...)
				if rev {
					for i, j := 0, len(spans)-1; i < j; i, j = i+1, j-1 {
						spans[i], spans[j] = spans[j], spans[i]
					}
				}
				ts := built(t, mkTrace(1, spans...), DefaultOptions())
				if ts.counts.CyclesBroken != tc.cycles || len(ts.warns) != tc.cycles {
					t.Errorf("cycles %d warnings %d; want %d", ts.counts.CyclesBroken, len(ts.warns), tc.cycles)
				}
				var got []uint64
				for _, r := range ts.roots {
					if ts.nodes[r].has(fCycleRoot) {
						got = append(got, idNum(ts.nodes[r].span.SpanID))
					}
				}
				if len(got) != len(tc.broken) {
					t.Fatalf("broken at %v; want %v", got, tc.broken)
				}
				for i := range got {
					if got[i] != tc.broken[i] {
						t.Errorf("broken at %v; want %v", got, tc.broken)
					}
				}
				if msg := checkTrace(ts); msg != "" {
					t.Error(msg)
				}
			}
		})
	}
}
