package analyze

import (
	"sync"
	"sync/atomic"

	"hopbudget/tracefmt"
)

// BuildProfiles is BuildProfile for several bands at once: the traces are
// analysed once and each band keeps its own requests, so a heatmap of call
// paths × percentile bands costs one pass, not one per band. Profile k is
// exactly BuildProfile(traces, opts, bands[k]).
func BuildProfiles(traces []tracefmt.Trace, opts Options, bands []Band) []*Profile {
	if opts.CriticalPath == "" {
		opts.CriticalPath = ModeDefault
	}
	opts.Suggest, opts.WhatIf, opts.PerTrace = false, nil, false
	nw := opts.workers(len(traces))
	nch := (len(traces) + chunkSize - 1) / chunkSize
	outs := make([]profChunk, nch)
	ws := make([]*profWorker, nw)
	var next atomic.Int64
	work := func(wi int) {
		ts := newTraceState(&opts)
		w := &profWorker{frameIdx: map[key2]int32{}, stackIdx: map[[2]int32]int32{}}
		for {
			c := int(next.Add(1) - 1)
			if c >= nch {
				break
			}
			out := &outs[c]
			out.w = w
			for ti := c * chunkSize; ti < min((c+1)*chunkSize, len(traces)); ti++ {
				ts.profile(int32(ti), &traces[ti], w, out)
			}
		}
		ws[wi] = w
	}
	if nw <= 1 {
		work(0)
	} else {
		var wg sync.WaitGroup
		for wi := range nw {
			wg.Go(func() { work(wi) })
		}
		wg.Wait()
	}
	var counts Counts
	for _, w := range ws {
		counts.add(&w.counts)
	}
	ps := make([]*Profile, len(bands))
	for k, band := range bands {
		p := &Profile{Band: band, Counts: counts}
		keep := selectBand(p, outs, band)
		p.fill(outs, ws, keep)
		ps[k] = p
	}
	return ps
}
