package analyze

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"hopbudget/grammar"
	"hopbudget/tracefmt"
)

// Profiles: traces aggregated the way CPU profiles aggregate samples, so
// that pprof, flame graphs and speedscope can show where requests spend
// their time. A stack is a span's ancestor chain in the cleaned-up span
// tree, root first, each frame a (service, operation); its values are the
// time attributed to spans at the end of that chain:
//
//   - critical path: the critical-path segments the span owns (default or
//     jaeger definition, as Options.CriticalPath says); over a trace they
//     add up to the root's duration, so a profile's total is the sum of its
//     requests' durations (each extra root of a trace adds its own);
//   - self: the span's duration minus the union of its synchronous
//     children's intervals (clipped to it), for every span;
//   - wall: the span's duration, for every span (only the flat figures mean
//     something: a child's wall time is also inside its parent's).
//
// Stacks always follow hopbudget's tree (after dedupe, orphans, cycles),
// also in jaeger mode, whose own tree differs only for broken traces.

// Profile sample types: indices into ProfileStack.Ns and .Us.
const (
	SampleCriticalPath = iota
	SampleSelf
	SampleWall
	numSampleTypes
)

// SampleTypes names the sample types, index for index: the names pprof's
// -sample_index and hopbudget's --sample-type take.
var SampleTypes = [numSampleTypes]string{"critical_path", "self", "wall"}

// ParseSampleType returns the index of a sample type name.
func ParseSampleType(s string) (int, error) {
	for i, n := range SampleTypes {
		if s == n {
			return i, nil
		}
	}
	return 0, fmt.Errorf("unknown sample type %q: want %s", s, strings.Join(SampleTypes[:], ", "))
}

// Band selects the requests a profile covers, per endpoint, by duration
// rank; its syntax (--percentile-band, --slowest) is grammar's.
type Band = grammar.Band

// ProfileMaxDepth caps a stack's frames: the first ProfileMaxDepth frames
// of a stack are kept and every span deeper is attributed to one more
// frame, the truncation marker (ProfileFrame.Truncated). Profile formats
// write each stack whole, so an uncapped 100k-deep chain would be 5·10⁹
// frames; capped, a stack costs at most ProfileMaxDepth+1.
const ProfileMaxDepth = 1000

// ProfileFrame is one stack frame: a service and an operation, or the
// marker that stands for every frame past ProfileMaxDepth.
type ProfileFrame struct {
	Service   string
	Operation string
	Truncated bool
}

// Name is the frame as profiles show it: "service: operation".
func (f ProfileFrame) Name() string {
	if f.Truncated {
		return "[frames past " + strconv.Itoa(ProfileMaxDepth) + " truncated]"
	}
	return f.Service + ": " + f.Operation
}

// ProfileStack is one distinct stack and the time attributed to it: a node
// of the stack trie, its frames those of its parent plus its own.
type ProfileStack struct {
	// Parent indexes Profile.Stacks: the stack without the last frame (-1
	// for a one-frame stack). Parents come before their children.
	Parent int32
	// Frame is the last frame, an index into Profile.Frames; Depth the
	// number of frames (1 for a root).
	Frame, Depth int32
	// Ns: time per sample type, in ns.
	Ns [numSampleTypes]int64
	// Us: the same in µs, apportioned so that for every sample type the
	// stacks add up exactly to Profile.TotalUs: in stack order, a stack gets
	// ⌊C/1000⌋ − ⌊C'/1000⌋ for C, C' the running ns totals after and before
	// it (each value is its ns divided by 1000, rounded down or up).
	Us [numSampleTypes]int64
}

// IsZero says whether the stack has no time of any sample type (it is in
// Profile.Stacks only as the parent of stacks that have).
func (s *ProfileStack) IsZero() bool { return s.Ns == [numSampleTypes]int64{} }

// ProfileEndpoint says which requests of an endpoint (the primary root's
// service and operation) the profile holds.
type ProfileEndpoint struct {
	Service   string
	Operation string
	Requests  int // matching the endpoint filter
	Kept      int // in the band
	// MinNs and MaxNs bound the kept requests' durations (0 when none).
	MinNs, MaxNs int64
}

// Profile is the result of BuildProfile.
type Profile struct {
	// Frames sorted by (service, operation), the truncation marker last;
	// each used by some stack.
	Frames []ProfileFrame
	// Stacks sorted by their frames (root first, a prefix before longer
	// stacks): the stack trie in pre-order, children in frame order. It
	// holds the stacks with some non-zero value (Samples of them) and
	// their prefixes.
	Stacks  []ProfileStack
	Samples int
	// Truncated counts the kept traces with a stack deeper than
	// ProfileMaxDepth frames.
	Truncated int
	// Endpoints sorted by (service, operation).
	Endpoints []ProfileEndpoint
	Band      Band
	// Traces is the number of traces kept.
	Traces int
	// StartNs and EndNs bound the kept traces' spans (Unix ns).
	StartNs, EndNs int64
	// TotalNs per sample type; TotalUs is ⌊TotalNs/1000⌋ and the sum of
	// the stacks' Us.
	TotalNs, TotalUs [numSampleTypes]int64
	// Counts: clean-up rules fired, over the analysed (not only kept)
	// traces, as in Report.Counts.
	Counts Counts
}

// profEntry is one stack's values in one trace (worker-local stack id).
type profEntry struct {
	stack int32
	v     [numSampleTypes]int64
}

// profTrace is one analysed trace: its endpoint, duration and entries.
type profTrace struct {
	ti         int32
	ep         key2
	dur        int64
	start, end int64
	from, to   int32 // its entries in the chunk's
	deep       bool  // some stack past ProfileMaxDepth
}

type profChunk struct {
	traces  []profTrace
	entries []profEntry
	w       *profWorker
}

// profFrameKey is a frame: a (service, operation) or the truncation marker.
type profFrameKey struct {
	key2
	trunc bool
}

// profWorker interns frames and stacks for one goroutine: a stack is a
// (parent stack, frame) pair, parents interned first, so local ids can be
// replayed in order into the global table.
type profWorker struct {
	frameIdx map[profFrameKey]int32
	frames   []profFrameKey
	stackIdx map[[2]int32]int32
	stacks   [][2]int32 // (parent stack or -1, frame)
	depth    []int32    // by stack: its frames
	marker   int32      // frame id of the truncation marker, -1 until used
	counts   Counts
	// per trace
	nodeStack []int32
	vals      [][numSampleTypes]int64 // by stack
	touched   []int32
}

// stack is the stack of span s under its parent's stack; past
// ProfileMaxDepth frames, the marker's (deep says so).
func (w *profWorker) stack(parent int32, s *tracefmt.Span) (id int32, deep bool) {
	k := profFrameKey{key2: key2{s.Service, s.Operation}}
	depth := int32(1)
	if parent >= 0 {
		depth = w.depth[parent] + 1
		if depth > ProfileMaxDepth {
			if w.stacks[parent][1] == w.marker {
				return parent, true
			}
			k = profFrameKey{trunc: true}
		}
	}
	f, ok := w.frameIdx[k]
	if !ok {
		f = int32(len(w.frames))
		w.frameIdx[k] = f
		w.frames = append(w.frames, k)
		if k.trunc {
			w.marker = f
		}
	}
	sk := [2]int32{parent, f}
	id, ok = w.stackIdx[sk]
	if !ok {
		id = int32(len(w.stacks))
		w.stackIdx[sk] = id
		w.stacks = append(w.stacks, sk)
		w.depth = append(w.depth, depth)
		w.vals = append(w.vals, [numSampleTypes]int64{})
	}
	return id, k.trunc
}

func (w *profWorker) add(stack int32, t int, v int64) {
	x := &w.vals[stack]
	if *x == ([numSampleTypes]int64{}) {
		w.touched = append(w.touched, stack)
	}
	x[t] += v
}

// BuildProfile analyses every trace (clean-up passes, critical path, as
// Analyze does with opts; opts.Endpoint filters by primary root) and
// aggregates the traces band keeps into stacks. Traces are analysed in
// parallel; the result does not depend on the number of workers. ctx is
// checked as in Analyze.
func BuildProfile(ctx context.Context, traces []tracefmt.Trace, opts Options, band Band) (*Profile, error) {
	ps, err := BuildProfiles(ctx, traces, opts, []Band{band})
	if err != nil {
		return nil, err
	}
	return ps[0], nil
}

// BuildProfiles is BuildProfile for several bands at once: the traces are
// analysed once and each band keeps its own requests, so a heatmap of call
// paths × percentile bands costs one pass, not one per band. Profile k is
// exactly BuildProfile(traces, opts, bands[k]).
func BuildProfiles(ctx context.Context, traces []tracefmt.Trace, opts Options, bands []Band) ([]*Profile, error) {
	pr := newProfiler(ctx, opts, DetectClocks(traces, opts.ClockGranularity), len(traces))
	pr.add(traces, nil)
	return pr.profiles(bands)
}

// BuildProfilesPartitions is BuildProfiles over the traces of every
// partition, in the order SortTraces gives them: its profiles are the ones
// BuildProfiles returns for all those traces sorted. As AnalyzePartitions,
// it loads each partition twice and holds one partition's traces at a
// time, besides each trace's stack entries.
func BuildProfilesPartitions(ctx context.Context, src Partitioned, opts Options, bands []Band) ([]*Profile, error) {
	po, clocks, err := scanPartitions(ctx, src, opts.ClockGranularity)
	if err != nil {
		return nil, err
	}
	pr := newProfiler(ctx, opts, clocks, len(po.ids))
	if err := eachPartition(ctx, src, po, pr.add); err != nil {
		return nil, err
	}
	return pr.profiles(bands)
}

// profiler is one BuildProfiles run, fed traces in one or more batches
// (partitions) with their indices in the one trace order.
type profiler struct {
	ctx  context.Context
	opts Options
	gran map[string]int64
	tss  []*traceState
	ws   []*profWorker
	outs []profChunk
}

func newProfiler(ctx context.Context, opts Options, clocks []ServiceClock, traces int) *profiler {
	if opts.CriticalPath == "" {
		opts.CriticalPath = ModeDefault
	}
	opts.Suggest, opts.WhatIf, opts.PerTrace = false, nil, false
	pr := &profiler{ctx: ctx, opts: opts, gran: clockMap(clocks)}
	nw := pr.opts.workers(traces)
	pr.tss, pr.ws = make([]*traceState, nw), make([]*profWorker, nw)
	for w := range nw {
		pr.tss[w] = newTraceState(&pr.opts, pr.gran)
		pr.ws[w] = &profWorker{frameIdx: map[profFrameKey]int32{}, stackIdx: map[[2]int32]int32{}, marker: -1}
	}
	return pr
}

// add profiles traces; trace i has index ix[i] in the trace order (i when
// ix is nil), and ix is ascending.
func (pr *profiler) add(traces []tracefmt.Trace, ix []int32) {
	nch := (len(traces) + chunkSize - 1) / chunkSize
	base := len(pr.outs)
	pr.outs = append(pr.outs, make([]profChunk, nch)...)
	outs := pr.outs[base:]
	var next atomic.Int64
	work := func(wi int) {
		ts, w := pr.tss[wi], pr.ws[wi]
		for {
			c := int(next.Add(1) - 1)
			if c >= nch || pr.ctx.Err() != nil {
				break
			}
			out := &outs[c]
			out.w = w
			for i := c * chunkSize; i < min((c+1)*chunkSize, len(traces)); i++ {
				ti := int32(i)
				if ix != nil {
					ti = ix[i]
				}
				ts.profile(ti, &traces[i], w, out)
			}
		}
	}
	nw := min(len(pr.ws), max(nch, 1))
	if nw <= 1 {
		work(0)
		return
	}
	var wg sync.WaitGroup
	for wi := range nw {
		wg.Go(func() { work(wi) })
	}
	wg.Wait()
}

// profiles selects each band's traces and builds its profile.
func (pr *profiler) profiles(bands []Band) ([]*Profile, error) {
	if err := pr.ctx.Err(); err != nil {
		return nil, stopped(err)
	}
	pr.tss = nil // as in analysis.report: it points into the last batch
	var counts Counts
	for _, w := range pr.ws {
		counts.add(&w.counts)
	}
	ps := make([]*Profile, len(bands))
	for k, band := range bands {
		p := &Profile{Band: band, Counts: counts}
		keep := selectBand(p, pr.outs, band)
		p.fill(pr.outs, pr.ws, keep)
		ps[k] = p
	}
	return ps, nil
}

// profile analyses trace ti into out: the per-trace part of BuildProfile.
func (ts *traceState) profile(ti int32, tr *tracefmt.Trace, w *profWorker, out *profChunk) {
	if len(tr.Spans) == 0 {
		return
	}
	ts.reset(ti, tr)
	ts.build()
	pr := &ts.nodes[ts.primaryRoot()]
	if f := ts.opts.Endpoint; f != nil && !f(pr.span.Service, pr.span.Operation) {
		w.counts.TracesFiltered++
		return
	}
	ts.counts.Traces, ts.counts.Spans = 1, len(tr.Spans)
	if len(ts.roots) > 1 {
		ts.counts.MultiRootTraces = 1
	}
	if ts.opts.CriticalPath == ModeJaeger {
		ts.jaegerCriticalPath()
	} else {
		ts.criticalPath()
	}
	w.counts.add(&ts.counts)

	nd := ts.nodes
	w.nodeStack = resize(w.nodeStack, len(nd))
	pt := profTrace{ti: ti, ep: key2{pr.span.Service, pr.span.Operation}, dur: pr.end - pr.start,
		start: pr.start, end: pr.end, from: int32(len(out.entries))}
	for _, i := range ts.topo { // parents first
		n := &nd[i]
		parent := int32(-1)
		if n.parent >= 0 {
			parent = w.nodeStack[n.parent]
		}
		st, deep := w.stack(parent, n.span)
		pt.deep = pt.deep || deep
		w.nodeStack[i] = st
		dur := n.end - n.start
		w.add(st, SampleSelf, dur-ts.cover(i))
		w.add(st, SampleWall, dur)
		pt.start, pt.end = min(pt.start, n.start), max(pt.end, n.end)
	}
	for _, sg := range ts.segs {
		w.add(w.nodeStack[sg.n], SampleCriticalPath, sg.e-sg.s)
	}
	for _, st := range w.touched {
		out.entries = append(out.entries, profEntry{st, w.vals[st]})
		w.vals[st] = [numSampleTypes]int64{}
	}
	w.touched = w.touched[:0]
	pt.to = int32(len(out.entries))
	out.traces = append(out.traces, pt)
}

// selectBand fills p.Endpoints, p.Traces and the time bounds, and returns
// which traces (by index) the band keeps.
func selectBand(p *Profile, outs []profChunk, band Band) map[int32]bool {
	byEP := map[key2][]*profTrace{}
	for c := range outs {
		for i := range outs[c].traces {
			t := &outs[c].traces[i]
			byEP[t.ep] = append(byEP[t.ep], t)
		}
	}
	keep := map[int32]bool{}
	first := true
	for _, k := range sortedKeys2(byEP) {
		ts := byEP[k]
		slices.SortFunc(ts, func(a, b *profTrace) int {
			if c := cmp.Compare(a.dur, b.dur); c != 0 {
				return c
			}
			return cmp.Compare(a.ti, b.ti)
		})
		from, to := band.Ranks(len(ts))
		e := ProfileEndpoint{Service: k.a, Operation: k.b, Requests: len(ts), Kept: max(0, to-from)}
		if e.Kept > 0 {
			e.MinNs, e.MaxNs = ts[from].dur, ts[to-1].dur
		}
		for _, t := range ts[from:max(from, to)] {
			keep[t.ti] = true
			if first {
				p.StartNs, p.EndNs, first = t.start, t.end, false
			}
			p.StartNs, p.EndNs = min(p.StartNs, t.start), max(p.EndNs, t.end)
		}
		for _, t := range ts[from:max(from, to)] {
			if t.deep {
				p.Truncated++
			}
		}
		p.Traces += e.Kept
		p.Endpoints = append(p.Endpoints, e)
	}
	return keep
}

// fill merges the workers' stacks into one trie (by frame names), sums the
// kept traces' entries and writes the sorted frames and stacks. Every step
// is linear in the trie's nodes: no stack is ever spelt out frame by frame.
func (p *Profile) fill(outs []profChunk, ws []*profWorker, keep map[int32]bool) {
	gidx := map[trieNode]int32{}
	var gstacks []trieNode
	local := map[*profWorker][]int32{}
	for _, w := range ws {
		m := make([]int32, len(w.stacks))
		for id, s := range w.stacks {
			parent := int32(-1)
			if s[0] >= 0 {
				parent = m[s[0]]
			}
			k := trieNode{parent, w.frames[s[1]]}
			g, ok := gidx[k]
			if !ok {
				g = int32(len(gstacks))
				gidx[k] = g
				gstacks = append(gstacks, k)
			}
			m[id] = g
		}
		local[w] = m
	}
	vals := make([][numSampleTypes]int64, len(gstacks))
	for c := range outs {
		o := &outs[c]
		m := local[o.w]
		for _, t := range o.traces {
			if !keep[t.ti] {
				continue
			}
			for _, e := range o.entries[t.from:t.to] {
				v := &vals[m[e.stack]]
				for k := range v {
					v[k] += e.v[k]
				}
			}
		}
	}
	p.finish(gstacks, vals)
}

// trieNode is a stack: its parent stack (-1 for a root) and last frame.
type trieNode struct {
	parent int32
	frame  profFrameKey
}

// finish writes the frames and stacks of the trie nodes (parents before
// children) with their values: the live stacks (a value, or a live stack
// below) in pre-order, children by frame, and the totals.
func (p *Profile) finish(gstacks []trieNode, vals [][numSampleTypes]int64) {
	// Children come after their parents, so one backward pass settles
	// which stacks are live.
	live := make([]bool, len(gstacks))
	for g := len(gstacks) - 1; g >= 0; g-- {
		if vals[g] != ([numSampleTypes]int64{}) {
			live[g] = true
			p.Samples++
		}
		if live[g] && gstacks[g].parent >= 0 {
			live[gstacks[g].parent] = true
		}
	}
	// Frames used by a live stack, sorted, the marker last.
	used := map[profFrameKey]int32{}
	for g, k := range gstacks {
		if live[g] {
			used[k.frame] = 0
		}
	}
	fs := make([]profFrameKey, 0, len(used))
	for k := range used {
		fs = append(fs, k)
	}
	slices.SortFunc(fs, func(x, y profFrameKey) int {
		if x.trunc != y.trunc {
			if x.trunc {
				return 1
			}
			return -1
		}
		if c := cmp.Compare(x.a, y.a); c != 0 {
			return c
		}
		return cmp.Compare(x.b, y.b)
	})
	p.Frames = make([]ProfileFrame, len(fs))
	for i, k := range fs {
		p.Frames[i] = ProfileFrame{Service: k.a, Operation: k.b, Truncated: k.trunc}
		used[k] = int32(i)
	}
	// The trie in pre-order, children by frame: the order of the stacks
	// sorted by their frames, a prefix first.
	frame := make([]int32, len(gstacks))
	kids := make([][]int32, len(gstacks))
	var roots []int32
	for g, k := range gstacks {
		if !live[g] {
			continue
		}
		frame[g] = used[k.frame]
		if k.parent < 0 {
			roots = append(roots, int32(g))
		} else {
			kids[k.parent] = append(kids[k.parent], int32(g))
		}
	}
	byFrame := func(a, b int32) int { return cmp.Compare(frame[a], frame[b]) }
	slices.SortFunc(roots, byFrame)
	newIdx := make([]int32, len(gstacks))
	todo := slices.Clone(roots)
	slices.Reverse(todo)
	for len(todo) > 0 {
		g := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		st := ProfileStack{Parent: -1, Frame: frame[g], Depth: 1, Ns: vals[g]}
		if par := gstacks[g].parent; par >= 0 {
			st.Parent = newIdx[par]
			st.Depth = p.Stacks[st.Parent].Depth + 1
		}
		newIdx[g] = int32(len(p.Stacks))
		p.Stacks = append(p.Stacks, st)
		ks := kids[g]
		slices.SortFunc(ks, byFrame)
		for j := len(ks) - 1; j >= 0; j-- {
			todo = append(todo, ks[j])
		}
	}
	var run [numSampleTypes]int64
	for i := range p.Stacks {
		st := &p.Stacks[i]
		for k, v := range st.Ns {
			before := run[k]
			run[k] += v
			st.Us[k] = floorDiv(run[k], 1000) - floorDiv(before, 1000)
		}
	}
	p.TotalNs = run
	for k, v := range run {
		p.TotalUs[k] = floorDiv(v, 1000)
	}
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

// Path returns stack i's frames, root first, appended to buf[:0].
func (p *Profile) Path(i int, buf []int32) []int32 {
	buf = buf[:0]
	for s := int32(i); s >= 0; s = p.Stacks[s].Parent {
		buf = append(buf, p.Stacks[s].Frame)
	}
	slices.Reverse(buf)
	return buf
}

// MergeProfiles returns the profile of a's and b's traces together: stacks
// with the same frames add up, as if one profile had been built from all
// the traces. Only whole-band profiles merge (a band keeps a share of each
// endpoint's requests: shares of parts are not a share of the whole).
func MergeProfiles(a, b *Profile) (*Profile, error) {
	if !a.Band.All() || !b.Band.All() {
		return nil, fmt.Errorf("only profiles of every request merge (bands %s and %s)", a.Band, b.Band)
	}
	p := &Profile{Band: a.Band, Samples: 0, Truncated: a.Truncated + b.Truncated, Traces: a.Traces + b.Traces, Counts: a.Counts}
	p.Counts.add(&b.Counts)
	switch {
	case a.Traces == 0:
		p.StartNs, p.EndNs = b.StartNs, b.EndNs
	case b.Traces == 0:
		p.StartNs, p.EndNs = a.StartNs, a.EndNs
	default:
		p.StartNs, p.EndNs = min(a.StartNs, b.StartNs), max(a.EndNs, b.EndNs)
	}
	var paths stackPaths
	var vals [][numSampleTypes]int64
	for _, q := range []*Profile{a, b} {
		for i, st := range q.Stacks {
			if st.Parent >= int32(i) || int(st.Frame) >= len(q.Frames) || st.Frame < 0 {
				return nil, fmt.Errorf("stack %d: parent %d or frame %d out of range", i, st.Parent, st.Frame)
			}
		}
		for i, g := range paths.of(q) {
			if int(g) == len(vals) {
				vals = append(vals, [numSampleTypes]int64{})
			}
			for t, v := range q.Stacks[i].Ns {
				vals[g][t] += v
			}
		}
	}
	p.finish(paths.nodes, vals)
	eps := map[key2]ProfileEndpoint{}
	for _, e := range append(slices.Clone(a.Endpoints), b.Endpoints...) {
		k := key2{e.Service, e.Operation}
		x, ok := eps[k]
		if !ok {
			eps[k] = e
			continue
		}
		x.Requests += e.Requests
		switch {
		case x.Kept == 0:
			x.MinNs, x.MaxNs = e.MinNs, e.MaxNs
		case e.Kept > 0:
			x.MinNs, x.MaxNs = min(x.MinNs, e.MinNs), max(x.MaxNs, e.MaxNs)
		}
		x.Kept += e.Kept
		eps[k] = x
	}
	for _, k := range sortedKeys2(eps) {
		p.Endpoints = append(p.Endpoints, eps[k])
	}
	return p, nil
}

// stackPaths gives the stacks of several profiles one id per call path
// (the frames from the root), ids in order of first sight: parents first.
type stackPaths struct {
	ids   map[trieNode]int32
	nodes []trieNode
}

// of returns the path id of each of p's stacks.
func (sp *stackPaths) of(p *Profile) []int32 {
	if sp.ids == nil {
		sp.ids = map[trieNode]int32{}
	}
	out := make([]int32, len(p.Stacks))
	for i, st := range p.Stacks {
		f := p.Frames[st.Frame]
		k := trieNode{parent: -1, frame: profFrameKey{key2{f.Service, f.Operation}, f.Truncated}}
		if st.Parent >= 0 {
			k.parent = out[st.Parent]
		}
		id, ok := sp.ids[k]
		if !ok {
			id = int32(len(sp.nodes))
			sp.ids[k] = id
			sp.nodes = append(sp.nodes, k)
		}
		out[i] = id
	}
	return out
}
