package analyze

import (
	"cmp"
	"slices"

	"hopbudget/tracefmt"
)

// TraceLayout is one trace as the clean-up passes left it, laid out for a
// waterfall (hopbudget trace, the HTML report's exemplars): every span in
// tree order with its depth, its times after the clock-skew pass, what the
// passes did to it, the critical-path time it owns and the fan-in groups it
// waits on. It comes from the same per-trace code as Analyze: Detail is
// exactly the TraceResult Analyze gives the trace with Options.PerTrace, and
// Segments and FanIn are Detail's critical path and groups by span index.
type TraceLayout struct {
	Detail TraceResult
	// Spans in tree order: roots in root order (start, then span ID), each
	// followed by its subtree depth first, children in start order
	// (then end, span ID). Identical copies are merged, as in Analyze.
	Spans []LayoutSpan
	// Segments: Detail.CriticalPath in ns, span by index into Spans.
	Segments []LayoutSegment
	// FanIn: Detail.FanIn, spans by index into Spans.
	FanIn []LayoutFanIn
	// Warnings from the clean-up passes for this trace, as in
	// Report.Warnings.
	Warnings []Warning
	// StartNs and EndNs bound every span (after clock-skew shifts).
	StartNs, EndNs int64
	// CriticalPathNs is the critical-path time the spans own (the sum of
	// their CriticalNs), CriticalPathSpans how many own some; FanInWaitNs
	// the fan-in groups' waits added up.
	CriticalPathNs    int64
	CriticalPathSpans int
	FanInWaitNs       int64
}

// LayoutSpan is one span of a TraceLayout.
type LayoutSpan struct {
	Span *tracefmt.Span
	// Parent is the index in TraceLayout.Spans of the parent after clean-up
	// (-1 for a root: a true root, an orphan or a broken cycle's span).
	Parent int32
	Depth  int32
	// Descendants is the size of the subtree below the span: they are
	// Spans[i+1 : i+1+Descendants].
	Descendants int32
	// StartNs and EndNs are after the clock-skew pass; ShiftNs is the shift
	// it applied (its own, or its same-service parent's).
	StartNs, EndNs, ShiftNs int64
	// CriticalNs is the critical-path time the span owns; SubtreeCriticalNs
	// that of its subtree through synchronous edges (Hop.CriticalPathSample
	// adds these up per call).
	CriticalNs, SubtreeCriticalNs int64
	// What the clean-up passes decided about the span.
	Async       bool // asynchronous edge to the parent: never on the critical path
	Orphan      bool // parent not in the trace: an extra root
	CycleRoot   bool // its parent edge was removed to break a loop
	DuplicateID bool // same span ID as an earlier, different span
	// Clipped: the critical path uses only the part of the span inside its
	// parent, [ClipStartNs, ClipEndNs]. OutsideParent: no part of it is
	// inside, so it and its subtree are ignored by the critical path.
	// Default mode only (jaeger mode clips by the UI's rules).
	Clipped, OutsideParent bool
	ClipStartNs, ClipEndNs int64
	// Straggler: the span ended last in a fan-in group of its parent.
	Straggler bool
}

// LayoutSegment is a critical-path segment: span Span owns [StartNs, EndNs).
type LayoutSegment struct {
	Span           int32
	StartNs, EndNs int64
}

// LayoutFanIn is a fan-in group: Parent waited WaitNs for Straggler after
// the first of Children ended (from FirstEndNs to the straggler's end).
type LayoutFanIn struct {
	Parent, Straggler int32
	Children          []int32 // in start order
	FirstEndNs        int64
	WaitNs            int64
}

// Layout analyses one trace as Analyze does with opts (clean-up passes,
// critical path, fan-in) and returns its layout; nil for a trace without
// spans. opts.Endpoint is ignored: the trace was chosen already.
func Layout(tr *tracefmt.Trace, opts Options) *TraceLayout {
	if len(tr.Spans) == 0 {
		return nil
	}
	if opts.CriticalPath == "" {
		opts.CriticalPath = ModeDefault
	}
	opts.Suggest, opts.WhatIf, opts.PerTrace, opts.Endpoint = false, nil, true, nil
	// One trace rarely shows its clocks: callers pass those of the whole
	// input (ClockOverrides) in opts.ClockGranularity.
	ts := newTraceState(&opts, clockMap(DetectClocks([]tracefmt.Trace{*tr}, opts.ClockGranularity)))
	ts.reset(0, tr)
	ts.build()
	out := &TraceLayout{}
	ts.collect(newAccum(), &out.Detail)
	out.Warnings = slices.Clone(ts.warns)

	// The fan-in groups again, by node: the same function collect ran,
	// ordered as fillTrace orders Detail.FanIn.
	nd := ts.nodes
	ts.group = ts.group[:0]
	groups := make([]groupRef, 0, 4) // non-nil: fanIn fills it only then
	acc := newAccum()
	for i := range nd {
		groups = ts.fanIn(int32(i), acc, groups)
	}
	slices.SortStableFunc(groups, func(a, b groupRef) int {
		x, y := &nd[a.parent], &nd[b.parent]
		if c := cmp.Compare(x.start, y.start); c != 0 {
			return c
		}
		return cmpID(x, y, a.parent, b.parent)
	})

	// Tree order, iteratively (a 100,000-deep chain needs no recursion).
	pos := make([]int32, len(nd)) // node → index in out.Spans
	out.Spans = make([]LayoutSpan, 0, len(nd))
	stack := make([]int32, 0, 64)
	for k := len(ts.roots) - 1; k >= 0; k-- {
		stack = append(stack, ts.roots[k])
	}
	jaeger := opts.CriticalPath == ModeJaeger
	for len(stack) > 0 {
		i := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		n := &nd[i]
		ls := LayoutSpan{Span: n.span, Parent: -1, StartNs: n.start, EndNs: n.end, ShiftNs: n.start - n.span.Start,
			SubtreeCriticalNs: ts.sub[i], Async: n.has(fAsync), Orphan: n.has(fOrphan), CycleRoot: n.has(fCycleRoot),
			DuplicateID: n.has(fDupConflict)}
		if n.parent >= 0 {
			ls.Parent = pos[n.parent]
			ls.Depth = out.Spans[ls.Parent].Depth + 1
		}
		if !jaeger && !n.has(fNoCP) {
			ls.OutsideParent = n.has(fOutside)
			if !ls.OutsideParent {
				ls.ClipStartNs, ls.ClipEndNs = n.cs, n.ce
				ls.Clipped = n.cs != n.start || n.ce != n.end
			}
		}
		pos[i] = int32(len(out.Spans))
		out.Spans = append(out.Spans, ls)
		k := ts.children(i)
		for j := len(k) - 1; j >= 0; j-- {
			stack = append(stack, k[j])
		}
	}
	// Subtree sizes, children after parents: one backward pass.
	for j := len(out.Spans) - 1; j >= 0; j-- {
		if p := out.Spans[j].Parent; p >= 0 {
			out.Spans[p].Descendants += out.Spans[j].Descendants + 1
		}
	}
	first := true
	for j := range out.Spans {
		s := &out.Spans[j]
		if first || s.StartNs < out.StartNs {
			out.StartNs = s.StartNs
		}
		if first || s.EndNs > out.EndNs {
			out.EndNs = s.EndNs
		}
		first = false
	}
	out.Segments = make([]LayoutSegment, len(ts.segs))
	for k, sg := range ts.segs {
		out.Segments[k] = LayoutSegment{Span: pos[sg.n], StartNs: sg.s, EndNs: sg.e}
		out.Spans[pos[sg.n]].CriticalNs += sg.e - sg.s
		out.CriticalPathNs += sg.e - sg.s
	}
	for j := range out.Spans {
		if out.Spans[j].CriticalNs > 0 {
			out.CriticalPathSpans++
		}
	}
	out.FanIn = make([]LayoutFanIn, len(groups))
	for k, g := range groups {
		f := LayoutFanIn{Parent: pos[g.parent], Straggler: pos[g.straggler], WaitNs: g.wait,
			FirstEndNs: nd[g.straggler].end - g.wait, Children: make([]int32, 0, g.to-g.from)}
		for _, c := range ts.group[g.from:g.to] {
			f.Children = append(f.Children, pos[c])
		}
		out.Spans[f.Straggler].Straggler = true
		out.FanIn[k] = f
		out.FanInWaitNs += g.wait
	}
	return out
}

// RuleCount is how often one clean-up rule fired.
type RuleCount struct {
	Rule  string
	Count int
}

// WarningRules counts the layout's warnings by rule, rules in order of
// first warning.
func (l *TraceLayout) WarningRules() []RuleCount {
	var out []RuleCount
	at := map[string]int{}
	for _, w := range l.Warnings {
		i, ok := at[w.Rule]
		if !ok {
			i = len(out)
			at[w.Rule] = i
			out = append(out, RuleCount{Rule: w.Rule})
		}
		out[i].Count++
	}
	return out
}
