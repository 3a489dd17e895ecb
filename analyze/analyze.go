package analyze

import (
	"context"
	"fmt"
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
}

// Analyze rebuilds every trace (clean-up passes, DAG), computes its facts and
// aggregates them. Traces are analysed in parallel by opts.Workers
// goroutines; the Report does not depend on the number of workers or on
// scheduling. The input is not modified.
//
// ctx is checked before every chunk of traces and between the passes over
// all of them; once it is done, Analyze returns an error wrapping ctx.Err()
// and no report.
func Analyze(ctx context.Context, traces []tracefmt.Trace, opts Options) (*Report, error) {
	if opts.CriticalPath == "" {
		opts.CriticalPath = ModeDefault
	}
	clocks := DetectClocks(traces, opts.ClockGranularity)
	gran := clockMap(clocks)
	nw := opts.workers(len(traces))
	nch := (len(traces) + chunkSize - 1) / chunkSize
	outs := make([]chunkOut, nch)
	accs := make([]*accum, nw)
	var next atomic.Int64
	work := func(w int) {
		ts := newTraceState(&opts, gran)
		acc := newAccum()
		for {
			c := int(next.Add(1) - 1)
			if c >= nch || ctx.Err() != nil {
				break
			}
			for ti := c * chunkSize; ti < min((c+1)*chunkSize, len(traces)); ti++ {
				ts.analyze(int32(ti), &traces[ti], acc, &outs[c])
			}
			ts.endChunk(&outs[c])
		}
		accs[w] = acc
	}
	if nw == 1 {
		work(0)
	} else {
		var wg sync.WaitGroup
		for w := range nw {
			wg.Go(func() { work(w) })
		}
		wg.Wait()
	}
	if err := ctx.Err(); err != nil {
		return nil, stopped(err)
	}
	total := accs[0]
	for _, a := range accs[1:] {
		total.merge(a)
	}
	r := &Report{Warnings: []Warning{}, Clocks: clocks}
	total.rowOf = traceRows(r, outs, len(traces))
	total.fill(r)
	if err := ctx.Err(); err != nil {
		return nil, stopped(err)
	}
	total.fillSuggest(r, traces, &opts)
	linkRows(r, outs)
	for i := range outs {
		r.Warnings = append(r.Warnings, outs[i].warns...)
		r.Traces = append(r.Traces, outs[i].traces...)
	}
	return r, nil
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
}
