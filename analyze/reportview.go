package analyze

import (
	"cmp"
	"slices"
)

// Views of profiles for the HTML report's tail section: the icicle of the
// tail's critical path and the heatmap of call paths × percentile bands.
// Both walk the profile's stack trie once (linear in its stacks, whatever
// the depth), so the renderer only draws.

// IcicleBox is one box of an icicle: a call path and the critical-path
// time of the kept requests inside it.
type IcicleBox struct {
	// Stack indexes Profile.Stacks: the box's call path (-1 for the top
	// box, all requests).
	Stack int32
	Depth int
	// SelfNs is owned by the path's last span (Stack.Ns); TotalNs by the
	// whole subtree.
	SelfNs, TotalNs int64
	// OffsetNs places the box: the time of the boxes left of it on its row.
	OffsetNs int64
}

// Icicle is the tree of a profile's critical_path samples.
type Icicle struct {
	Boxes []IcicleBox // pre-order; the first is the top box
	// Omitted boxes were too narrow (under the minimum share of the
	// total), deeper than the depth limit or past the box limit; their time
	// is inside their parents' boxes.
	Omitted  int
	MaxDepth int // of the boxes drawn
	TotalNs  int64
	Requests int
}

// NewIcicle lays out p's critical-path stacks: siblings ordered by time
// (largest first), then by frame name; boxes deeper than maxDepth, under
// minShare of the total or past maxBoxes are omitted.
func NewIcicle(p *Profile, maxDepth, maxBoxes int, minShare float64) Icicle {
	n := len(p.Stacks)
	total := make([]int64, n)
	for i := n - 1; i >= 0; i-- { // children come after their parents
		total[i] += p.Stacks[i].Ns[SampleCriticalPath]
		if par := p.Stacks[i].Parent; par >= 0 {
			total[par] += total[i]
		}
	}
	// Children lists of the stacks with time, and the roots' (the top box).
	kids := make([][]int32, n+1) // kids[n]: the roots
	var all int64
	for i := range p.Stacks {
		if total[i] == 0 {
			continue
		}
		par := int(p.Stacks[i].Parent)
		if par < 0 {
			par = n
			all += total[i]
		}
		kids[par] = append(kids[par], int32(i))
	}
	m := Icicle{TotalNs: all, Requests: p.Traces}
	name := func(i int32) string { return p.Frames[p.Stacks[i].Frame].Name() }
	type item struct {
		stack  int32 // -1: the top box
		depth  int
		offset int64
	}
	todo := []item{{stack: -1}}
	for len(todo) > 0 {
		it := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		b := IcicleBox{Stack: it.stack, Depth: it.depth, OffsetNs: it.offset, TotalNs: all}
		ks := kids[n]
		if it.stack >= 0 {
			b.SelfNs, b.TotalNs = p.Stacks[it.stack].Ns[SampleCriticalPath], total[it.stack]
			ks = kids[it.stack]
		}
		m.Boxes = append(m.Boxes, b)
		m.MaxDepth = max(m.MaxDepth, it.depth)
		slices.SortFunc(ks, func(a, b int32) int {
			if c := cmp.Compare(total[b], total[a]); c != 0 {
				return c
			}
			return cmp.Compare(name(a), name(b))
		})
		// Children left to right: push in reverse so the first pops first.
		off := it.offset
		from := len(todo)
		for _, c := range ks {
			if it.depth+1 > maxDepth || float64(total[c]) < minShare*float64(all) || len(m.Boxes)+len(todo) >= maxBoxes {
				m.Omitted++
			} else {
				todo = append(todo, item{stack: c, depth: it.depth + 1, offset: off})
			}
			off += total[c]
		}
		slices.Reverse(todo[from:])
	}
	return m
}

// HeatCell is one call path's critical-path time in one band: the total,
// per request kept, and as a share of the band's critical-path total.
type HeatCell struct {
	Ns, MeanNs int64
	Share      float64
}

// HeatRow is one call path, root first, across the bands.
type HeatRow struct {
	Path  []ProfileFrame
	Cells []HeatCell // one per band
}

// Heatmap shows the call paths with the most critical-path time in the tail
// profile in every band's profile.
type Heatmap struct {
	Bands []*Profile
	Rows  []HeatRow
}

// NewHeatmap takes the maxRows stacks with the most critical-path time in
// tail (ties in stack order) and finds the same call path, by frame names,
// in each of bands.
func NewHeatmap(tail *Profile, bands []*Profile, maxRows int) Heatmap {
	// A call path's identity across profiles.
	var paths stackPaths
	pathIDs := paths.of
	var rows []int32
	for i := range tail.Stacks {
		if tail.Stacks[i].Ns[SampleCriticalPath] > 0 {
			rows = append(rows, int32(i))
		}
	}
	slices.SortStableFunc(rows, func(a, b int32) int {
		return cmp.Compare(tail.Stacks[b].Ns[SampleCriticalPath], tail.Stacks[a].Ns[SampleCriticalPath])
	})
	rows = rows[:min(len(rows), maxRows)]
	tailIDs := pathIDs(tail)
	m := Heatmap{Bands: bands}
	vals := make([]map[int32]int64, len(bands))
	for b, p := range bands {
		vals[b] = map[int32]int64{}
		for i, id := range pathIDs(p) {
			vals[b][id] = p.Stacks[i].Ns[SampleCriticalPath]
		}
	}
	var buf []int32
	for _, r := range rows {
		row := HeatRow{}
		buf = tail.Path(int(r), buf)
		for _, f := range buf {
			row.Path = append(row.Path, tail.Frames[f])
		}
		for b, p := range bands {
			c := HeatCell{Ns: vals[b][tailIDs[r]]}
			if p.Traces > 0 {
				c.MeanNs = c.Ns / int64(p.Traces)
			}
			if t := p.TotalNs[SampleCriticalPath]; t > 0 {
				c.Share = float64(c.Ns) / float64(t)
			}
			row.Cells = append(row.Cells, c)
		}
		m.Rows = append(m.Rows, row)
	}
	return m
}
