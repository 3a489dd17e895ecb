package analyze

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"hopbudget/tracefmt"
)

// chunkSize is the number of traces a worker takes at a time: large enough
// to amortise the hand-off, small enough to balance uneven traces.
const chunkSize = 64

// chunkOut holds the ordered per-trace outputs of one chunk, so that they
// are concatenated in trace order whatever worker produced them.
type chunkOut struct {
	warns  []Warning
	traces []TraceResult
	// Trace rows, with ids local to acc, the worker that ran the chunk.
	rows    []rowOut
	rowHops []TraceHop
	acc     *accum
	// ends has an entry per trace analysed: its index and where its
	// warnings and results end in warns and traces.
	ends []traceEnd
}

type traceEnd struct{ ti, warns, traces int32 }

// Analyze rebuilds every trace (clean-up passes, DAG), computes its facts and
// aggregates them. Traces are analysed in parallel by opts.Workers
// goroutines; the Report does not depend on the number of workers or on
// scheduling. The input is not modified.
//
// ctx is checked before every chunk of traces and between the passes over
// all of them; once it is done, Analyze returns an error wrapping ctx.Err()
// and no report.
func Analyze(ctx context.Context, traces []tracefmt.Trace, opts Options) (*Report, error) {
	clocks := DetectClocks(traces, opts.ClockGranularity)
	ar := newAnalysis(ctx, opts, clocks, len(traces))
	ar.add(traces, nil)
	return ar.report(func(t int32) tracefmt.TraceID { return traces[t].ID })
}

// analysis is one Analyze run, fed traces in one or more batches
// (partitions) with their indices in the one trace order.
type analysis struct {
	ctx    context.Context
	opts   Options
	clocks []ServiceClock
	gran   map[string]int64
	n      int // traces in all
	accs   []*accum
	tss    []*traceState
	outs   []chunkOut
}

func newAnalysis(ctx context.Context, opts Options, clocks []ServiceClock, traces int) *analysis {
	if opts.CriticalPath == "" {
		opts.CriticalPath = ModeDefault
	}
	ar := &analysis{ctx: ctx, opts: opts, clocks: clocks, gran: clockMap(clocks), n: traces}
	nw := ar.opts.workers(traces)
	ar.accs = make([]*accum, nw)
	ar.tss = make([]*traceState, nw)
	for w := range nw {
		ar.accs[w] = newAccum()
		ar.tss[w] = newTraceState(&ar.opts, ar.gran)
	}
	return ar
}

// add analyses traces; trace i has index ix[i] in the trace order (i when
// ix is nil), and ix is ascending.
func (ar *analysis) add(traces []tracefmt.Trace, ix []int32) {
	nch := (len(traces) + chunkSize - 1) / chunkSize
	base := len(ar.outs)
	ar.outs = append(ar.outs, make([]chunkOut, nch)...)
	outs := ar.outs[base:]
	var next atomic.Int64
	work := func(w int) {
		ts, acc := ar.tss[w], ar.accs[w]
		for {
			c := int(next.Add(1) - 1)
			if c >= nch || ar.ctx.Err() != nil {
				break
			}
			for i := c * chunkSize; i < min((c+1)*chunkSize, len(traces)); i++ {
				ti := int32(i)
				if ix != nil {
					ti = ix[i]
				}
				ts.analyze(ti, &traces[i], acc, &outs[c])
			}
			ts.endChunk(&outs[c])
		}
	}
	nw := min(len(ar.accs), max(nch, 1))
	if nw == 1 {
		work(0)
		return
	}
	var wg sync.WaitGroup
	for w := range nw {
		wg.Go(func() { work(w) })
	}
	wg.Wait()
}

// report merges what every batch added into the Report; id gives the ID
// of the trace with an index.
func (ar *analysis) report(id func(int32) tracefmt.TraceID) (*Report, error) {
	if err := ar.ctx.Err(); err != nil {
		return nil, stopped(err)
	}
	// The per-trace state points into the last batch's spans (a whole
	// partition when spilled): let it go before the aggregates are built.
	ar.tss = nil
	total := ar.accs[0]
	for _, a := range ar.accs[1:] {
		total.merge(a)
		// Its samples are total's now; only its key lists (the ids its
		// rows hold) are read later.
		a.eps, a.hops, a.fans, a.sug = nil, nil, nil, nil
	}
	r := &Report{Warnings: []Warning{}, Clocks: ar.clocks}
	total.rowOf = traceRows(r, ar.outs, ar.n)
	total.fill(r)
	if err := ar.ctx.Err(); err != nil {
		return nil, stopped(err)
	}
	total.fillSuggest(r, id, &ar.opts)
	linkRows(r, ar.outs, total.rowOf)
	perTraceOutputs(r, ar.outs)
	return r, nil
}

// perTraceOutputs appends every trace's warnings and results in trace
// order (the chunks are in it already unless batches interleave).
func perTraceOutputs(r *Report, outs []chunkOut) {
	type piece struct {
		ti             int32
		c              int32
		w0, w1, t0, t1 int32
	}
	var ps []piece
	for c := range outs {
		var w0, t0 int32
		for _, e := range outs[c].ends {
			if e.warns > w0 || e.traces > t0 {
				ps = append(ps, piece{e.ti, int32(c), w0, e.warns, t0, e.traces})
			}
			w0, t0 = e.warns, e.traces
		}
	}
	byTrace := func(a, b piece) int { return cmp.Compare(a.ti, b.ti) }
	if !slices.IsSortedFunc(ps, byTrace) {
		slices.SortFunc(ps, byTrace)
	}
	for _, p := range ps {
		o := &outs[p.c]
		r.Warnings = append(r.Warnings, o.warns[p.w0:p.w1]...)
		r.Traces = append(r.Traces, o.traces[p.t0:p.t1]...)
	}
}

// stopped wraps a context's error so that it says what stopped.
func stopped(err error) error { return fmt.Errorf("analysis stopped: %w", err) }

// analyze handles trace ti.
func (ts *traceState) analyze(ti int32, tr *tracefmt.Trace, acc *accum, out *chunkOut) {
	if len(tr.Spans) == 0 {
		return
	}
	ts.reset(ti, tr)
	ts.build()
	if f := ts.opts.Endpoint; f != nil {
		if s := ts.nodes[ts.primaryRoot()].span; !f(s.Service, s.Operation) {
			acc.counts.TracesFiltered++
			return
		}
	}
	ts.counts.Traces, ts.counts.Spans = 1, len(tr.Spans)
	if len(ts.roots) > 1 {
		ts.counts.MultiRootTraces = 1
	}
	var res *TraceResult
	if ts.opts.PerTrace {
		out.traces = append(out.traces, TraceResult{})
		res = &out.traces[len(out.traces)-1]
	}
	ts.collect(acc, res)
	ts.addRow(acc, out)
	acc.counts.add(&ts.counts)
	out.warns = append(out.warns, ts.warns...)
	out.ends = append(out.ends, traceEnd{ti, int32(len(out.warns)), int32(len(out.traces))})
}
