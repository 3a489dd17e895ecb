package analyze

import (
	"bytes"
	"cmp"
	"slices"

	"hopbudget/tracefmt"
)

// SortTraces puts traces in the one order every result follows: by their
// earliest span's start, oldest first, then by trace ID. Readers group
// spans in the order they first see a trace, which depends on the order the
// files were given; analysis takes equal values in trace order (exemplars,
// percentile bands, the slowest requests) and --per-trace lists traces in
// it, so sorting first makes every output independent of the input order.
func SortTraces(traces []tracefmt.Trace) {
	type key struct {
		start int64
		i     int
	}
	keys := make([]key, len(traces))
	for i := range traces {
		k := key{i: i}
		for j, s := range traces[i].Spans {
			if j == 0 || s.Start < k.start {
				k.start = s.Start
			}
		}
		keys[i] = k
	}
	slices.SortFunc(keys, func(a, b key) int {
		if c := cmp.Compare(a.start, b.start); c != 0 {
			return c
		}
		return bytes.Compare(traces[a.i].ID[:], traces[b.i].ID[:])
	})
	sorted := make([]tracefmt.Trace, len(traces))
	for i, k := range keys {
		sorted[i] = traces[k.i]
	}
	copy(traces, sorted)
}
