package analyze

import (
	"cmp"
	"slices"

	"hopbudget/tracefmt"
)

// collect computes the trace's facts (endpoints, critical path, hops,
// fan-in) into acc and, when res is not nil, the per-trace detail.
func (ts *traceState) collect(acc *accum, res *TraceResult) {
	nd := ts.nodes
	for _, r := range ts.roots {
		if n := &nd[r]; n.has(fTrueRoot) {
			e := acc.endpoint(key2{n.span.Service, n.span.Operation})
			e.durs.add(n.end-n.start, ts.ti)
			e.starts = push(e.starts, n.start)
			if SLOError(n.span) {
				e.sloErrs.add(n.end, ts.ti)
			}
		}
	}
	if ts.opts.CriticalPath == ModeJaeger {
		ts.jaegerCriticalPath()
	} else {
		ts.criticalPath()
	}
	ts.cpSubtree()
	for i := range nd {
		ts.hopFacts(int32(i), acc)
	}
	ts.group = ts.group[:0]
	var groups []groupRef
	if res != nil {
		groups = make([]groupRef, 0, 4)
	}
	for i := range nd {
		groups = ts.fanIn(int32(i), acc, groups)
	}
	if res != nil {
		ts.fillTrace(res, groups)
	}
	if ts.opts.Suggest || len(ts.opts.WhatIf) > 0 {
		ts.suggestFacts(acc)
	}
}

// hopFacts adds node i's hop sample, if it is a call: a CLIENT span, or a
// span without kind whose parent (not a CLIENT) is in another service.
func (ts *traceState) hopFacts(i int32, acc *accum) {
	n := &ts.nodes[i]
	s := n.span
	var h *hopAcc
	dur := n.end - n.start
	var gap int64
	hasGap := false // only calls with a server span have a network gap
	switch {
	case s.Kind == tracefmt.KindClient:
		to, op, sc := ts.hopTo(i)
		h = acc.hop(hopKey{s.Service, to, op, statement(s)})
		if sc >= 0 {
			sd := ts.nodes[sc].end - ts.nodes[sc].start
			gap, hasGap = dur-sd, true
			h.gaps.add(gap, ts.ti)
			h.selfs = push(h.selfs, sd-ts.cover(sc))
		}
	case s.Kind == tracefmt.KindUnspecified && n.parent >= 0 && !n.has(fAsync):
		p := ts.nodes[n.parent].span
		if p.Kind == tracefmt.KindClient || p.Service == s.Service {
			return
		}
		h = acc.hop(hopKey{p.Service, s.Service, s.Operation, statement(s)})
		h.selfs = push(h.selfs, dur-ts.cover(i))
	default:
		return
	}
	h.durs.add(dur, ts.ti)
	if SLOError(s) {
		h.sloErrs.add(n.end, ts.ti)
	}
	if isError(s) {
		h.errs++
	}
	if h.lastTrace != ts.ti {
		h.cp.add(0, ts.ti)
		h.calls = push(h.calls, 0)
		h.lastTrace = ts.ti
		h.row = int32(len(ts.rowHops))
		ts.rowHops = append(ts.rowHops, TraceHop{Hop: h.id})
	}
	h.cp.v[len(h.cp.v)-1] += ts.sub[i]
	h.calls[len(h.calls)-1]++
	th := &ts.rowHops[h.row]
	th.Calls++
	th.LatencyNs += dur
	th.CriticalPathNs += ts.sub[i]
	if hasGap {
		th.NetworkNs += gap
	}
}

// hopTo is the callee of CLIENT span i: the service and operation of its
// first synchronous SERVER child (sc), else its peer.service, db.system or
// server.address and its own operation (sc = -1).
func (ts *traceState) hopTo(i int32) (to, op string, sc int32) {
	for _, c := range ts.children(i) {
		if k := &ts.nodes[c]; !k.has(fAsync) && k.span.Kind == tracefmt.KindServer {
			return k.span.Service, k.span.Operation, c
		}
	}
	s := ts.nodes[i].span
	if a := s.Attrs; a != nil {
		switch {
		case a.PeerService != "":
			to = a.PeerService
		case a.DBSystem != "":
			to = a.DBSystem
		default:
			to = a.ServerAddress
		}
	}
	return to, s.Operation, -1
}

// callee names what span i waited for: a CLIENT span's hop target, else
// the span's own service.
func (ts *traceState) callee(i int32) string {
	if s := ts.nodes[i].span; s.Kind != tracefmt.KindClient {
		return s.Service
	}
	to, _, _ := ts.hopTo(i)
	return to
}

// statement is the span's normalised database statement, if any.
func statement(s *tracefmt.Span) string {
	if s.Attrs == nil {
		return ""
	}
	return s.Attrs.DBStatement
}

func isError(s *tracefmt.Span) bool {
	if s.Status == tracefmt.StatusError {
		return true
	}
	return s.Attrs != nil && (s.Attrs.HTTPStatus == 408 || s.Attrs.HTTPStatus == 504) // timeouts
}

// cover is the length of the union of p's synchronous children's intervals
// clipped to p. Children are in start order, so one pass suffices.
func (ts *traceState) cover(p int32) int64 {
	ps, pe := ts.nodes[p].start, ts.nodes[p].end
	var total, cs, ce int64
	open := false
	for _, c := range ts.children(p) {
		k := &ts.nodes[c]
		if k.has(fAsync) {
			continue
		}
		s, e := max(k.start, ps), min(k.end, pe)
		if s >= e {
			continue
		}
		if !open || s > ce {
			total += ce - cs
			cs, ce, open = s, e, true
		} else {
			ce = max(ce, e)
		}
	}
	return total + ce - cs
}

// groupRef locates one fan-in group in ts.group, for the per-trace detail.
type groupRef struct {
	parent, straggler int32
	from, to          int
	wait              int64
}

// fanIn finds p's fan-in groups: its synchronous children in start order
// (then end, span ID), cut into groups by groupKids (with exact clocks:
// maximal runs where each next child starts strictly before the run's
// latest end); groups of two or more count. Unclipped intervals, after the
// skew and granularity passes. Returns groups extended with
// p's groups when the per-trace detail is wanted (groups != nil).
func (ts *traceState) fanIn(p int32, acc *accum, groups []groupRef) []groupRef {
	k := ts.children(p)
	if len(k) < 2 {
		return groups
	}
	nd := ts.nodes
	var fa *fanAcc
	flush := func(g []int32) {
		if len(g) < 2 {
			return
		}
		first, strag, nerr := nd[g[0]].end, g[0], 0
		for _, c := range g {
			first = min(first, nd[c].end)
			if nd[c].end > nd[strag].end { // in sort order, so ties keep the earliest start, smallest ID
				strag = c
			}
			if isError(nd[c].span) {
				nerr++
			}
		}
		if fa == nil {
			ps := nd[p].span
			fa = acc.fan(key2{ps.Service, ps.Operation})
			fa.overheads = push(fa.overheads, (nd[p].end-nd[p].start)-ts.cover(p))
		}
		wait := nd[strag].end - first
		fa.waits.add(wait, ts.ti)
		if nerr > 0 && nerr < len(g) {
			fa.partial++
		}
		fa.strag[ts.callee(strag)]++
		if groups != nil {
			from := len(ts.group)
			ts.group = append(ts.group, g...)
			groups = append(groups, groupRef{p, strag, from, len(ts.group), wait})
		}
	}
	sk, grp := ts.kidGroups(p)
	g := ts.fg[:0]
	for i, c := range sk {
		if i > 0 && grp[i] != grp[i-1] {
			flush(g)
			g = g[:0]
		}
		g = append(g, c)
	}
	flush(g)
	ts.fg = g[:0]
	return groups
}

// fillTrace writes the per-trace detail.
func (ts *traceState) fillTrace(res *TraceResult, groups []groupRef) {
	nd := ts.nodes
	pr := &nd[ts.primaryRoot()]
	res.TraceID = ts.tr.ID.String()
	res.RootService, res.RootOperation = pr.span.Service, pr.span.Operation
	res.StartUs, res.DurationUs = us(pr.start), us(pr.end-pr.start)
	res.Spans, res.Roots = len(ts.nodes), len(ts.roots)
	res.CriticalPath = make([]Segment, len(ts.segs))
	for i, sg := range ts.segs {
		s := nd[sg.n].span
		res.CriticalPath[i] = Segment{SpanID: s.SpanID.String(), Service: s.Service, Operation: s.Operation,
			StartUs: us(sg.s), EndUs: us(sg.e)}
	}
	slices.SortStableFunc(groups, func(a, b groupRef) int {
		x, y := &nd[a.parent], &nd[b.parent]
		if c := cmp.Compare(x.start, y.start); c != 0 {
			return c
		}
		return cmpID(x, y, a.parent, b.parent)
	})
	res.FanIn = make([]FanInGroup, len(groups))
	for i, g := range groups {
		fg := FanInGroup{ParentSpanID: nd[g.parent].span.SpanID.String(), WaitUs: us(g.wait),
			StragglerSpanID: nd[g.straggler].span.SpanID.String(), Children: make([]string, 0, g.to-g.from)}
		for _, c := range ts.group[g.from:g.to] {
			fg.Children = append(fg.Children, nd[c].span.SpanID.String())
		}
		res.FanIn[i] = fg
	}
}
