package analyze

import "testing"

func TestAdoptOrphans(t *testing.T) {
	for _, tc := range []struct {
		name    string
		spans   []sp
		orphans int
		roots   int
	}{
		{"none", []sp{{id: 1}, {id: 2, parent: 1}}, 0, 1},
		{"one orphan with a child", []sp{{id: 1}, {id: 2, parent: 9}, {id: 3, parent: 2}}, 1, 2},
		{"two orphans", []sp{{id: 1}, {id: 2, parent: 9}, {id: 3, parent: 8}}, 2, 3},
		{"only orphans", []sp{{id: 2, parent: 9}}, 1, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := built(t, mkTrace(1, tc.spans...), DefaultOptions())
			if ts.counts.Orphans != tc.orphans || len(ts.roots) != tc.roots || len(ts.warns) != tc.orphans {
				t.Errorf("orphans %d roots %d warnings %d; want %d %d %d", ts.counts.Orphans, len(ts.roots), len(ts.warns), tc.orphans, tc.roots, tc.orphans)
			}
			if (ts.counts.TracesWithOrphans == 1) != (tc.orphans > 0) {
				t.Error("tracesWithOrphans wrong")
			}
			for _, w := range ts.warns {
				if w.Rule != RuleOrphan || ts.nodes[ts.ids[sid(idNum(mustID(w.SpanID)))]].flags&fOrphan == 0 {
					t.Errorf("warning %+v", w)
				}
			}
			if msg := checkTrace(ts); msg != "" {
				t.Error(msg)
			}
		})
	}
}
