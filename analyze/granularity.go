package analyze

import (
	"cmp"
	"math"
	"slices"
)

// The granularity pass (after skew, before clip) undoes what a coarse start
// clock does to structure, using only what such a clock allows: a span of a
// service with granularity G started in [start, start+G), so it may be moved
// later by less than G, never earlier (its duration is exact). It moves each
// span by the least amount (below its G) that makes the trace consistent:
//
//   - calls made one after another do not overlap: per parent, the
//     synchronous children in start order are cut into groups (groupKids:
//     the rule fan-in and suggest share), and a child starting before the
//     end of an earlier group starts there;
//   - a synchronous child starts no earlier than its parent, and the parent
//     ends no earlier than the child.
//
// Parents are moved for their children and children for their parents, so
// it runs top-down then bottom-up until nothing moves (a few rounds). Then
// the critical path, fan-in, overhead and what-ifs see calls back to back
// as the truth has them, and a server inside its client. A move that would
// take G or more is not made: that overlap or overhang is real (the clip
// pass cuts what still sticks out). With every clock exact it does nothing.
func settleGranularity(ts *traceState) {
	if ts.gran == nil || ts.opts.CriticalPath == ModeJaeger {
		return
	}
	nd := ts.nodes
	n := len(nd)
	ts.settled = true
	// The groups are read once, from the times as exported: order[off[p]:
	// off[p]+cnt[p]] is p's synchronous children in start order, grp their
	// group numbers.
	ts.gorder = resize(ts.gorder, len(ts.kids))
	ts.ggrp = resize(ts.ggrp, len(ts.kids))
	ts.gcnt = resize(ts.gcnt, n)
	ts.gmove = resize(ts.gmove, n)
	clear(ts.gmove)
	ts.gid = resize(ts.gid, n)
	for i := range ts.gid {
		ts.gid[i] = -1
	}
	for p := range nd {
		k := ts.syncKids(int32(p), true)
		ts.gcnt[p] = int32(len(k))
		o := ts.off[p]
		copy(ts.gorder[o:], k)
		grp := ts.groupKids(k)
		copy(ts.ggrp[o:], grp)
		for j, c := range k {
			ts.gid[c] = grp[j]
		}
	}
	// raise moves node i later so that it starts at or after at; false when
	// that would take its total move to G or more.
	raise := func(i int32, need int64) bool {
		x := &nd[i]
		if need <= 0 || ts.gmove[i]+need >= x.g {
			return false
		}
		ts.gmove[i] += need
		x.start += need
		x.end += need
		return true
	}
	const maxRounds = 8
	for round := 0; round < maxRounds; round++ {
		moved := false
		for _, p := range ts.topo {
			o, cnt := ts.off[p], ts.gcnt[p]
			k, grp := ts.gorder[o:o+cnt], ts.ggrp[o:o+cnt]
			pstart := nd[p].start
			prevEnd := int64(math.MinInt64)
			for lo := 0; lo < len(k); {
				hi := lo + 1
				for hi < len(k) && grp[hi] == grp[lo] {
					hi++
				}
				unitEnd := prevEnd
				for _, c := range k[lo:hi] {
					if raise(c, max(prevEnd, pstart)-nd[c].start) {
						moved = true
					}
					unitEnd = max(unitEnd, nd[c].end)
				}
				prevEnd = unitEnd
				lo = hi
			}
		}
		for j := len(ts.topo) - 1; j >= 0; j-- {
			c := ts.topo[j]
			x := &nd[c]
			if x.parent < 0 || x.has(fAsync) {
				continue
			}
			if raise(x.parent, x.end-nd[x.parent].end) {
				moved = true
			}
		}
		if !moved {
			break
		}
	}
	for i := range nd {
		if ts.gmove[i] != 0 {
			ts.counts.GranularityShifts++
			nd[i].cs, nd[i].ce = nd[i].start, nd[i].end
		}
	}
}

// kidGroups returns p's synchronous children in start order and their group
// numbers (see groupKids). After the granularity pass these are the groups
// it read from the times as exported: moving spans within their
// granularity must not regroup them.
func (ts *traceState) kidGroups(p int32) (k, grp []int32) {
	if ts.settled {
		o, c := ts.off[p], ts.gcnt[p]
		return ts.gorder[o : o+c], ts.ggrp[o : o+c]
	}
	k = ts.syncKids(p, false)
	return k, ts.groupKids(k)
}

// assignClocks sets every node's clock granularity (0: exact).
func (ts *traceState) assignClocks() {
	if ts.gran == nil {
		return
	}
	var seen lastString
	var last int64
	for i := range ts.nodes {
		n := &ts.nodes[i]
		if !seen.same(n.span.Service) {
			last = ts.gran[n.span.Service]
		}
		n.g = last
	}
}

// syncKids returns p's synchronous children in start order (then end, span
// ID, index), in scratch storage valid until the next call. Once
// sortChildren has run, the child lists are in that order already (sorted
// false).
func (ts *traceState) syncKids(p int32, sorted bool) []int32 {
	nd := ts.nodes
	k := ts.gk[:0]
	for _, c := range ts.children(p) {
		if !nd[c].has(fAsync) {
			k = append(k, c)
		}
	}
	if sorted && len(k) > 1 {
		slices.SortFunc(k, ts.byStart)
	}
	ts.gk = k
	return k
}

// byStart orders nodes by start, end, span ID, index.
func (ts *traceState) byStart(a, b int32) int {
	x, y := &ts.nodes[a], &ts.nodes[b]
	if c := cmp.Compare(x.start, y.start); c != 0 {
		return c
	}
	if c := cmp.Compare(x.end, y.end); c != 0 {
		return c
	}
	return cmpID(x, y, a, b)
}

// groupKids cuts siblings k (in start order) into groups of calls that ran
// together; it returns each one's group number (non-decreasing), in scratch
// storage valid until the next call.
//
//  1. A sibling joins the current group when it starts before the group's
//     latest end by more than an apparent overlap: by at least its own
//     clock granularity G (0 for an exact clock, so any overlap counts and
//     back-to-back does not).
//  2. With coarse clocks only: a lone sibling right before a group of two or
//     more that starts at most G after it (so may have started with it)
//     joins that group. A fan-out's short member, floored to the same
//     millisecond as the others (or the one before), ends before they seem
//     to start.
func (ts *traceState) groupKids(k []int32) []int32 {
	nd := ts.nodes
	g := resize(ts.gg, len(k))
	ts.gg = g
	if len(k) == 0 {
		return g
	}
	g[0] = 0
	maxEnd := nd[k[0]].end
	coarse := nd[k[0]].g > 0
	for i := 1; i < len(k); i++ {
		n := &nd[k[i]]
		coarse = coarse || n.g > 0
		if ov := maxEnd - n.start; ov > 0 && ov >= n.g {
			g[i] = g[i-1]
		} else {
			g[i] = g[i-1] + 1
		}
		maxEnd = max(maxEnd, n.end)
	}
	if !coarse {
		return g
	}
	for i := 0; i+2 < len(k); i++ {
		lone := (i == 0 || g[i-1] != g[i]) && g[i+1] != g[i]
		if !lone || g[i+2] != g[i+1] {
			continue
		}
		a, b := &nd[k[i]], &nd[k[i+1]]
		// Calls begun together have floored starts at most G apart; G apart
		// (across a tick), a member floored a tick earlier ends before the
		// others seem to start, while a call made before them runs into them.
		if d, tick := b.start-a.start, max(a.g, b.g); d < tick || d == tick && a.end <= b.start {
			for j := i + 1; j < len(k) && g[j] == g[i+1]; j++ {
				g[j] = g[i]
			}
			for j := i + 1; j < len(k); j++ {
				if g[j] > g[i] {
					g[j]-- // keep the numbers consecutive
				}
			}
		}
	}
	return g
}

// withinGranularity says whether child c sticking out of parent p is only
// what coarse clocks do: c starts before p by less than c's granularity
// (c's start was floored) and ends after p by less than p's (p's end
// is early by its floor). Such a child is clipped, never shifted as skew.
func withinGranularity(c, p *node, cs, ce, ps, pe int64) bool {
	if c.g == 0 && p.g == 0 {
		return false
	}
	return ps-cs < max(c.g, 1) && ce-pe < max(p.g, 1)
}
