package analyze

import "testing"

func TestClipChildren(t *testing.T) {
	root := sp{id: 1, start: 100, end: 200}
	type iv struct{ s, e int64 }
	for _, tc := range []struct {
		name             string
		child            sp
		want             iv
		outside, clipped int
	}{
		{"inside", sp{id: 2, parent: 1, start: 120, end: 150}, iv{120, 150}, 0, 0},
		{"ends after", sp{id: 2, parent: 1, start: 150, end: 250}, iv{150, 200}, 0, 1},
		{"starts before", sp{id: 2, parent: 1, start: 50, end: 150}, iv{100, 150}, 0, 1},
		{"covers", sp{id: 2, parent: 1, start: 50, end: 250}, iv{100, 200}, 0, 1},
		{"touches the end", sp{id: 2, parent: 1, start: 200, end: 220}, iv{200, 200}, 0, 1},
		{"after", sp{id: 2, parent: 1, start: 201, end: 220}, iv{0, 0}, 1, 0},
		{"before", sp{id: 2, parent: 1, start: 10, end: 99}, iv{0, 0}, 1, 0},
		{"async: not clipped", sp{id: 2, parent: 1, start: 150, end: 250, ff: true}, iv{150, 250}, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			grand := sp{id: 3, parent: 2, start: tc.child.start, end: tc.child.end} // same interval as its parent
			ts := built(t, mkTrace(1, root, tc.child, grand), DefaultOptions())
			c, g := &ts.nodes[1], &ts.nodes[2]
			if ts.counts.ChildrenOutsideParent != tc.outside || ts.counts.ChildrenClipped != tc.clipped*2 {
				t.Errorf("outside %d clipped %d; want %d %d", ts.counts.ChildrenOutsideParent, ts.counts.ChildrenClipped, tc.outside, tc.clipped*2)
			}
			if tc.outside > 0 {
				if !c.has(fOutside) || !g.has(fOutside) {
					t.Error("outside child or its subtree not marked")
				}
				return
			}
			if c.cs != tc.want.s*1000 || c.ce != tc.want.e*1000 || g.cs != c.cs || g.ce != c.ce {
				t.Errorf("clipped to [%d, %d], grandchild [%d, %d]; want %v", c.cs/1000, c.ce/1000, g.cs/1000, g.ce/1000, tc.want)
			}
			if c.has(fAsync) && (!c.has(fNoCP) || !g.has(fNoCP)) {
				t.Error("async subtree not marked off-path")
			}
		})
	}
}
