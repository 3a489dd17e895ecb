package analyze

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"hopbudget/tracefmt"
)

// Partitioned input: the traces of an input too big for memory, in
// partitions that hold disjoint sets of whole traces and are loaded one at
// a time (tracefmt.Result when spilled).
type Partitioned interface {
	Partitions() int
	LoadPartition(i int) ([]tracefmt.Trace, error)
}

// traceKey places a trace in the one trace order (SortTraces's): earliest
// span start, then trace ID.
type traceKey struct {
	start int64
	id    tracefmt.TraceID
	part  int32
	local int32
}

// partitionOrder is the one trace order over partitions.
type partitionOrder struct {
	ids []tracefmt.TraceID // by trace index
	ix  [][]int32          // per partition, per trace there, its index
}

// scanPartitions loads every partition once: it orders all traces as
// SortTraces would and counts the clocks (DetectClocks's input), each
// partition being traces as loaded.
func scanPartitions(ctx context.Context, src Partitioned, overrides map[string]time.Duration) (*partitionOrder, []ServiceClock, error) {
	var cs ClockStats
	var keys []traceKey
	po := &partitionOrder{ix: make([][]int32, src.Partitions())}
	for p := range src.Partitions() {
		if err := ctx.Err(); err != nil {
			return nil, nil, stopped(err)
		}
		traces, err := src.LoadPartition(p)
		if err != nil {
			return nil, nil, err
		}
		cs.Add(traces)
		for i := range traces {
			k := traceKey{id: traces[i].ID, part: int32(p), local: int32(i)}
			for j, s := range traces[i].Spans {
				if j == 0 || s.Start < k.start {
					k.start = s.Start
				}
			}
			keys = append(keys, k)
		}
		po.ix[p] = make([]int32, len(traces))
	}
	slices.SortFunc(keys, func(a, b traceKey) int {
		if c := cmp.Compare(a.start, b.start); c != 0 {
			return c
		}
		return bytes.Compare(a.id[:], b.id[:])
	})
	po.ids = make([]tracefmt.TraceID, len(keys))
	for g, k := range keys {
		po.ids[g] = k.id
		po.ix[k.part][k.local] = int32(g)
	}
	return po, cs.Clocks(overrides), nil
}

// AnalyzePartitions is Analyze over the traces of every partition, in the
// order SortTraces gives them: its Report is the one Analyze returns for
// all those traces sorted, byte for byte. It loads each partition twice
// (once to order the traces and detect the clocks, once to analyse them)
// and holds one partition's traces at a time, besides the aggregates.
func AnalyzePartitions(ctx context.Context, src Partitioned, opts Options) (*Report, error) {
	po, clocks, err := scanPartitions(ctx, src, opts.ClockGranularity)
	if err != nil {
		return nil, err
	}
	ar := newAnalysis(ctx, opts, clocks, len(po.ids))
	if err := eachPartition(ctx, src, po, ar.add); err != nil {
		return nil, err
	}
	return ar.report(func(t int32) tracefmt.TraceID { return po.ids[t] })
}

// eachPartition loads every partition again and hands its traces to add in
// trace order, with their indices: chunks are then runs of ascending
// indices, as in memory.
func eachPartition(ctx context.Context, src Partitioned, po *partitionOrder, add func([]tracefmt.Trace, []int32)) error {
	for p := range src.Partitions() {
		if err := ctx.Err(); err != nil {
			return stopped(err)
		}
		traces, err := src.LoadPartition(p)
		if err != nil {
			return err
		}
		if len(traces) != len(po.ix[p]) {
			return fmt.Errorf("partition %d changed: %d traces, then %d", p, len(po.ix[p]), len(traces))
		}
		ix := po.ix[p]
		perm := make([]int32, len(traces))
		for i := range perm {
			perm[i] = int32(i)
		}
		slices.SortFunc(perm, func(a, b int32) int { return cmp.Compare(ix[a], ix[b]) })
		sorted := make([]tracefmt.Trace, len(traces))
		six := make([]int32, len(traces))
		for i, j := range perm {
			sorted[i], six[i] = traces[j], ix[j]
		}
		add(sorted, six)
	}
	return nil
}

// DetectClocksPartitions is DetectClocks over every partition.
func DetectClocksPartitions(ctx context.Context, src Partitioned, overrides map[string]time.Duration) ([]ServiceClock, error) {
	var cs ClockStats
	for p := range src.Partitions() {
		if err := ctx.Err(); err != nil {
			return nil, stopped(err)
		}
		traces, err := src.LoadPartition(p)
		if err != nil {
			return nil, err
		}
		cs.Add(traces)
	}
	return cs.Clocks(overrides), nil
}
