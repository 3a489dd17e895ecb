package analyze

import (
	"cmp"
	"math/bits"
	"slices"

	"hopbudget/tracefmt"
)

// What budget checks need beyond the printed figures: every exact sample
// with the trace it came from (an exemplar at any percentile), and per
// trace the time each hop took in it (layers add hops up per request). None
// of it is in the JSON.

// Sample is one figure's exact sample: values in ns, ascending, and beside
// each the row in Report.TraceRows of the trace it came from. Equal values
// are in trace order, as Exemplars picks them.
type Sample struct {
	Ns  []int64
	Row []int32
}

// Len is the number of values.
func (s Sample) Len() int { return len(s.Ns) }

// Index is the 0-based index of the nearest-rank p-th percentile, rank
// ⌈p/100·n⌉, for p in (0, 100] with up to three decimals (99.9 is p999);
// -1 when the sample is empty.
func (s Sample) Index(p float64) int {
	n := int64(len(s.Ns))
	if n == 0 {
		return -1
	}
	// In integers (thousandths of a percent), so that p99 of 100 values is
	// the 99th, not the 100th through float rounding.
	m := int64(p*1000 + 0.5)
	return int(max((m*n+99_999)/100_000, 1) - 1)
}

// TraceRow is one analysed trace, for figures per request.
type TraceRow struct {
	ID tracefmt.TraceID
	// Endpoint is the index in Report.Endpoints of the trace's primary root,
	// -1 when that root is not a true root (an orphan or a broken cycle).
	Endpoint int32
	// StartNs and DurationNs are the primary root's.
	StartNs, DurationNs int64
	// Hops: one entry per hop present in the trace, sorted by Hop. Rows
	// share backing arrays.
	Hops []TraceHop
}

// TraceHop is a hop's total in one trace, over its calls there.
type TraceHop struct {
	Hop   int32 // index in Report.Hops
	Calls int32
	// LatencyNs sums the calls' latency, NetworkNs their network gaps (calls
	// with a server span only), CriticalPathNs their critical-path time (as
	// in Hop.CriticalPathSample).
	LatencyNs, NetworkNs, CriticalPathNs int64
}

// rowOut is a trace row while analysis runs: endpoint and hops hold the
// worker's local ids (accum.epKeys, accum.hopKeys), hops are a range of
// chunkOut.rowHops.
type rowOut struct {
	ti       int32
	row      TraceRow
	from, to int32
}

// addRow records trace ts.ti's row in out, with its hops from ts.rowHops.
func (ts *traceState) addRow(acc *accum, out *chunkOut) {
	ro := rowOut{ti: ts.ti, row: TraceRow{ID: ts.tr.ID, Endpoint: -1}}
	if pr := ts.primaryRoot(); pr >= 0 {
		n := &ts.nodes[pr]
		ro.row.StartNs, ro.row.DurationNs = n.start, n.end-n.start
		if n.has(fTrueRoot) {
			ro.row.Endpoint = acc.endpoint(key2{n.span.Service, n.span.Operation}).id
		}
	}
	if out.rows == nil {
		out.rows = make([]rowOut, 0, chunkSize)
	}
	out.acc = acc
	ro.from = int32(len(ts.chunkHops))
	ts.chunkHops = append(ts.chunkHops, ts.rowHops...)
	ro.to = int32(len(ts.chunkHops))
	ts.rowHops = ts.rowHops[:0]
	out.rows = append(out.rows, ro)
}

// endChunk gives the chunk's trace rows their hops, in an array of their
// own sized exactly: the rows keep it, while ts.chunkHops is reused.
func (ts *traceState) endChunk(out *chunkOut) {
	out.rowHops = slices.Clone(ts.chunkHops)
	ts.chunkHops = ts.chunkHops[:0]
}

// traceRows puts the rows of every chunk into r.TraceRows in trace order
// (ids still local) and returns the row of each trace index (-1: not
// analysed). Chunks may come in any order (partitions interleave).
func traceRows(r *Report, outs []chunkOut, traces int) []int32 {
	const hasRow = -2
	rowOf := make([]int32, traces)
	for i := range rowOf {
		rowOf[i] = -1
	}
	for i := range outs {
		for _, ro := range outs[i].rows {
			rowOf[ro.ti] = hasRow
		}
	}
	rows := int32(0)
	for i, r := range rowOf {
		if r == hasRow {
			rowOf[i] = rows
			rows++
		}
	}
	r.TraceRows = make([]TraceRow, rows)
	for i := range outs {
		o := &outs[i]
		for _, ro := range o.rows {
			ro.row.Hops = o.rowHops[ro.from:ro.to:ro.to] // the chunk's array is the row's for good
			r.TraceRows[rowOf[ro.ti]] = ro.row
		}
	}
	return rowOf
}

// linkRows turns the rows' worker-local endpoint and hop ids into indices
// in r.Endpoints and r.Hops (filled by now) and sorts each row's hops.
func linkRows(r *Report, outs []chunkOut, rowOf []int32) {
	epIdx := make(map[key2]int32, len(r.Endpoints))
	for i, e := range r.Endpoints {
		epIdx[key2{e.Service, e.Operation}] = int32(i)
	}
	hopIdx := make(map[hopKey]int32, len(r.Hops))
	for i, h := range r.Hops {
		hopIdx[hopKey{h.From, h.To, h.Operation, h.Statement}] = int32(i)
	}
	type ids struct{ ep, hop []int32 }
	local := map[*accum]ids{}
	for i := range outs {
		o := &outs[i]
		if len(o.rows) == 0 {
			continue
		}
		m, ok := local[o.acc]
		if !ok {
			m = ids{make([]int32, len(o.acc.epKeys)), make([]int32, len(o.acc.hopKeys))}
			for j, k := range o.acc.epKeys {
				m.ep[j] = epIdx[k]
			}
			for j, k := range o.acc.hopKeys {
				m.hop[j] = hopIdx[k]
			}
			local[o.acc] = m
		}
		for _, ro := range o.rows {
			tr := &r.TraceRows[rowOf[ro.ti]]
			if tr.Endpoint >= 0 {
				tr.Endpoint = m.ep[tr.Endpoint]
			}
			for j := range tr.Hops {
				tr.Hops[j].Hop = m.hop[tr.Hops[j].Hop]
			}
			if len(tr.Hops) > 1 {
				slices.SortFunc(tr.Hops, func(a, b TraceHop) int { return cmp.Compare(a.Hop, b.Hop) })
			}
		}
	}
}

// samplePair is a value with its trace index and its place in collection
// order (which carries along parallel data such as request starts).
type samplePair struct {
	v    int64
	t, i int32
}

// sortScratch is reused by every order call of one fill.
type sortScratch struct {
	pairs []samplePair
	keys  []int64
}

// order returns s's values sorted by (value, trace), in scratch memory
// that the caller keeps until the next call.
func (s *series) order(scr *sortScratch) []samplePair {
	n := len(s.v)
	scr.pairs = resize(scr.pairs, n)
	ps := scr.pairs
	byTrace := func(a, b samplePair) int {
		if c := cmp.Compare(a.t, b.t); c != 0 {
			return c
		}
		return cmp.Compare(a.i, b.i)
	}
	if n == 0 {
		return ps
	}
	// Sorting plain integers is several times faster than sorting pairs
	// with a comparison function, and this runs over every sample: when
	// the values' range leaves room, pack (value − min, index) into one
	// int64, sort those, then put equal values in trace order.
	lo, hi := slices.Min(s.v), slices.Max(s.v)
	k := bits.Len(uint(n))
	if span := uint64(hi) - uint64(lo); span < 1<<(62-k) {
		scr.keys = resize(scr.keys, n)
		keys := scr.keys
		for i, v := range s.v {
			keys[i] = (v-lo)<<k | int64(i)
		}
		slices.Sort(keys)
		mask := int64(1)<<k - 1
		for j, key := range keys {
			i := int32(key & mask)
			ps[j] = samplePair{s.v[i], s.t[i], i}
		}
		for a := 0; a < n; {
			b := a + 1
			for b < n && ps[b].v == ps[a].v {
				b++
			}
			if b-a > 1 {
				slices.SortFunc(ps[a:b], byTrace)
			}
			a = b
		}
		return ps
	}
	for i, v := range s.v {
		ps[i] = samplePair{v, s.t[i], int32(i)}
	}
	slices.SortFunc(ps, func(a, b samplePair) int {
		if c := cmp.Compare(a.v, b.v); c != 0 {
			return c
		}
		return byTrace(a, b)
	})
	return ps
}

// sample is s as a Sample, trace indices mapped to rows by a.rowOf.
func (a *accum) sample(s *series) Sample {
	return pairsSample(s.order(&a.scratch), a.rowOf)
}

func pairsSample(ps []samplePair, rowOf []int32) Sample {
	out := Sample{Ns: make([]int64, len(ps)), Row: make([]int32, len(ps))}
	for i, p := range ps {
		out.Ns[i], out.Row[i] = p.v, rowOf[p.t]
	}
	return out
}

// sample is the endpoint's request durations as a Sample, with the start
// of each request in the same order.
func (a *accum) epSample(e *epAcc) (Sample, []int64) {
	ps := e.durs.order(&a.scratch)
	starts := make([]int64, len(ps))
	for i, p := range ps {
		starts[i] = e.starts[p.i]
	}
	return pairsSample(ps, a.rowOf), starts
}
