// Package summary holds mergeable summaries of analysed traces: every figure
// of an analyze.Report, in a form that adds up. A shard of the traces (a
// file, a process, a Beam bundle) is summarised on its own; summaries merge
// associatively and commutatively into the summary of all shards, and a
// summary rebuilds the Report it stands for, so budgets, diffs, reports and
// profiles read it where they read traces.
//
// A figure's values are kept exactly while a figure has at most
// Limits.Exact of them, then as a DDSketch (relative accuracy
// Limits.Accuracy) with an exemplar trace per bucket and the exact minimum
// and maximum; counts and sums stay exact. Per-request rows (what budget
// layers and culprits read) are kept while there are at most Limits.Rows
// traces; failed requests and calls always keep their exact end times
// (burn-rate windows count them). Report says which figures are approximate.
//
// Shards must be split by trace ID: every span of a trace in one shard.
// A trace analysed in halves gives wrong figures in both; Merge counts
// trace IDs seen in two shards (while rows are kept) and Report warns.
package summary

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"

	"hopbudget/analyze"
	"hopbudget/tracefmt"
)

// FormatName and Version identify the summary file format.
const (
	FormatName = "hopbudget-summary"
	Version    = 1
)

// WarningLimit is how many clean-up warnings a summary keeps.
const WarningLimit = 1_000

// Summary is the mergeable summary of a set of whole traces.
type Summary struct {
	Format  string
	Version int
	// Analysis: the options the traces were analysed with; only summaries
	// made with the same ones merge.
	Analysis Analysis
	Limits   Limits
	// Shards merged into this summary (1 for a summary of traces).
	Shards int
	// Rows: one per analysed trace in trace order, while there are at most
	// Limits.Rows; RowsDropped once there were more.
	Rows        []Row
	RowsDropped bool
	// StartNs and EndNs: the traces' time range (analyze.Report.TimeRange).
	StartNs int64
	EndNs   int64
	// SplitTraces counts trace IDs found in more than one shard.
	SplitTraces int64
	// Endpoints, Hops and FanIn sorted by their keys, as in the Report.
	Endpoints []EndpointSum
	Hops      []HopSum
	FanIn     []FanInSum
	Counts    analyze.Counts
	Clocks    []analyze.ServiceClock
	// Warnings: the first WarningLimit clean-up warnings in trace order;
	// WarningsTotal counts them all.
	Warnings      []WarningEntry
	WarningsTotal int64
	// Profile: the critical-path profile of every request (see
	// analyze.BuildProfile), when the summary was made with it.
	Profile *analyze.Profile
}

// Analysis is what of analyze.Options changes the figures.
type Analysis struct {
	CriticalPath     string `json:"criticalPath"`
	NoSkewAdjust     bool   `json:"noSkewAdjust,omitempty"`
	SerialTolerance  int64  `json:"serialToleranceNs,omitempty"`
	ClockGranularity string `json:"clockGranularity,omitempty"`
	// Endpoint is the endpoint filter's text, when the caller used one.
	Endpoint string `json:"endpoint,omitempty"`
}

// Row is one trace's row (see analyze.TraceRow).
type Row struct {
	Tr         TraceRef
	Endpoint   int32 // index in Endpoints, -1: none
	StartNs    int64
	DurationNs int64
	Hops       []RowHop
}

// RowHop is one hop's total in a trace (see analyze.TraceHop).
type RowHop struct {
	Hop   int32 // index in Hops
	Calls int32
	Lat   int64
	Net   int64
	CP    int64
}

// EndpointSum: Durations carry each request's start as Aux; Failed holds
// the failed requests' end times.
type EndpointSum struct {
	Service   string
	Operation string
	Durations Dist
	Failed    Dist
}

// HopSum holds a hop's distributions (see analyze.HopSamples).
type HopSum struct {
	From         string
	To           string
	Operation    string
	Statement    string
	Latency      Dist
	Network      Dist
	CriticalPath Dist
	ServerSelf   Dist
	Calls        Dist
	Errors       int64
	Failed       Dist
}

// FanInSum holds a fan-in parent's distributions (see analyze.FanInSamples).
type FanInSum struct {
	Service    string
	Operation  string
	Waits      Dist
	Overheads  Dist
	Partial    int64
	Stragglers map[string]int64
}

// WarningEntry is a clean-up warning with its place in trace order.
type WarningEntry struct {
	Tr      TraceRef
	Seq     int
	Warning analyze.Warning
}

// AnalysisOf records opts; endpoint is the text of opts.Endpoint's filter.
func AnalysisOf(opts analyze.Options, endpoint string) Analysis {
	a := Analysis{CriticalPath: string(opts.CriticalPath), NoSkewAdjust: opts.NoSkewAdjust,
		SerialTolerance: int64(opts.SerialTolerance), Endpoint: endpoint}
	if a.CriticalPath == "" {
		a.CriticalPath = string(analyze.ModeDefault)
	}
	keys := make([]string, 0, len(opts.ClockGranularity))
	for k := range opts.ClockGranularity {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for i, k := range keys {
		if i > 0 {
			a.ClockGranularity += ","
		}
		a.ClockGranularity += k + "=" + opts.ClockGranularity[k].String()
	}
	return a
}

// FromTraces analyses whole traces with opts and summarises them within
// limits l (DefaultLimits, unless a test or a pipeline says otherwise);
// endpoint is the text of opts.Endpoint's filter ("" when there is none).
func FromTraces(ctx context.Context, traces []tracefmt.Trace, opts analyze.Options, endpoint string, l Limits) (*Summary, error) {
	r, err := analyze.Analyze(ctx, traces, opts)
	if err != nil {
		return nil, err
	}
	p, err := analyze.BuildProfile(ctx, traces, opts, analyze.Band{})
	if err != nil {
		return nil, err
	}
	return FromReport(r, p, traces, AnalysisOf(opts, endpoint), l), nil
}

// FromPartitions summarises a partitioned input (a spilled read) that r
// analysed with opts: it builds the whole-band profile a partition at a
// time and reads each trace's first span start (TraceRef.First) the same
// way. The summary is the one FromReport gives for the same traces in
// memory.
func FromPartitions(ctx context.Context, r *analyze.Report, src analyze.Partitioned, opts analyze.Options, endpoint string, l Limits) (*Summary, error) {
	ps, err := analyze.BuildProfilesPartitions(ctx, src, opts, []analyze.Band{{}})
	if err != nil {
		return nil, err
	}
	first := make(map[tracefmt.TraceID]int64, len(r.TraceRows))
	for p := range src.Partitions() {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		traces, err := src.LoadPartition(p)
		if err != nil {
			return nil, err
		}
		addFirstStarts(first, traces)
	}
	return fromReport(r, ps[0], first, AnalysisOf(opts, endpoint), l), nil
}

// FromReport summarises r and p (nil: no profile), the analysis and the
// whole-band profile of traces.
func FromReport(r *analyze.Report, p *analyze.Profile, traces []tracefmt.Trace, a Analysis, l Limits) *Summary {
	first := make(map[tracefmt.TraceID]int64, len(traces))
	addFirstStarts(first, traces)
	return fromReport(r, p, first, a, l)
}

// addFirstStarts notes each trace's earliest span start.
func addFirstStarts(first map[tracefmt.TraceID]int64, traces []tracefmt.Trace) {
	for _, t := range traces {
		var f int64
		for j, s := range t.Spans {
			if j == 0 || s.Start < f {
				f = s.Start
			}
		}
		first[t.ID] = f
	}
}

func fromReport(r *analyze.Report, p *analyze.Profile, first map[tracefmt.TraceID]int64, a Analysis, l Limits) *Summary {
	refs := make([]TraceRef, len(r.TraceRows))
	for i, row := range r.TraceRows {
		refs[i] = TraceRef{First: first[row.ID], ID: row.ID}
	}
	s := &Summary{Format: FormatName, Version: Version, Analysis: a, Limits: l, Shards: 1,
		Counts: r.Counts, Clocks: slices.Clone(r.Clocks), Profile: p}
	s.StartNs, s.EndNs = r.TimeRange()
	if len(refs) <= s.Limits.Rows {
		s.Rows = make([]Row, len(r.TraceRows))
		for i, row := range r.TraceRows {
			x := Row{Tr: refs[i], Endpoint: row.Endpoint, StartNs: row.StartNs, DurationNs: row.DurationNs}
			for _, h := range row.Hops {
				x.Hops = append(x.Hops, RowHop{Hop: h.Hop, Calls: h.Calls, Lat: h.LatencyNs, Net: h.NetworkNs, CP: h.CriticalPathNs})
			}
			s.Rows[i] = x
		}
	} else {
		s.RowsDropped = true
	}
	exact := exactLimits(s.Limits)
	distIn := func(smp analyze.Sample, aux []int64, l *Limits) Dist {
		ps := make([]Point, smp.Len())
		for i, v := range smp.Ns {
			ps[i] = Point{V: v, Tr: refs[smp.Row[i]]}
			if aux != nil {
				ps[i].Aux = aux[i]
			}
		}
		return newDist(ps, l)
	}
	dist := func(smp analyze.Sample, aux []int64) Dist { return distIn(smp, aux, &s.Limits) }
	failed := func(smp analyze.Sample) Dist { return distIn(smp, nil, &exact) }
	plain := func(xs []int64) Dist {
		ps := make([]Point, len(xs))
		for i, v := range xs {
			ps[i] = Point{V: v}
		}
		return newDist(ps, &s.Limits)
	}
	for _, e := range r.Endpoints {
		s.Endpoints = append(s.Endpoints, EndpointSum{Service: e.Service, Operation: e.Operation,
			Durations: dist(e.DurationSample, e.RequestStarts), Failed: failed(e.Outcomes.Errors)})
	}
	for _, h := range r.Hops {
		s.Hops = append(s.Hops, HopSum{From: h.From, To: h.To, Operation: h.Operation, Statement: h.Statement,
			Latency: dist(h.LatencySample, nil), Network: dist(h.NetworkSample, nil), CriticalPath: dist(h.CriticalPathSample, nil),
			ServerSelf: plain(h.ServerSelfNs), Calls: plain(h.CallsPerTrace.Sample), Errors: int64(h.ErrorCount),
			Failed: failed(h.Outcomes.Errors)})
	}
	for _, f := range r.FanIn {
		st := map[string]int64{}
		for _, x := range f.Stragglers {
			st[x.To] = int64(x.Count)
		}
		s.FanIn = append(s.FanIn, FanInSum{Service: f.Service, Operation: f.Operation, Waits: dist(f.WaitSample, nil),
			Overheads: plain(f.OverheadNs), Partial: int64(f.PartialFailures), Stragglers: st})
	}
	s.Endpoints, s.Hops, s.FanIn = nonNil(s.Endpoints), nonNil(s.Hops), nonNil(s.FanIn)
	// Warnings are in trace order; number them within their trace.
	refOf := make(map[tracefmt.TraceID]TraceRef, len(refs))
	for _, ref := range refs {
		refOf[ref.ID] = ref
	}
	seq := map[string]int{}
	for _, w := range r.Warnings {
		s.WarningsTotal++
		if len(s.Warnings) == WarningLimit {
			continue
		}
		var id tracefmt.TraceID
		_ = decodeHex(id[:], w.TraceID)
		ref, ok := refOf[id]
		if !ok {
			ref = TraceRef{First: first[id], ID: id}
		}
		s.Warnings = append(s.Warnings, WarningEntry{Tr: ref, Seq: seq[w.TraceID], Warning: w})
		seq[w.TraceID]++
	}
	s.Warnings = nonNil(s.Warnings)
	return s
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// Merge returns the summary of a's and b's traces together; it does not
// modify a or b. Summaries of different analyses or limits do not merge.
func Merge(a, b *Summary) (*Summary, error) {
	if a.Analysis != b.Analysis {
		return nil, fmt.Errorf("summaries of different analyses do not merge: %+v and %+v", a.Analysis, b.Analysis)
	}
	if a.Limits.Exact != b.Limits.Exact || a.Limits.Accuracy != b.Limits.Accuracy || a.Limits.Rows != b.Limits.Rows {
		return nil, fmt.Errorf("summaries with different limits do not merge")
	}
	s := &Summary{Format: FormatName, Version: Version, Analysis: a.Analysis, Limits: a.Limits,
		Shards:      a.Shards + b.Shards,
		SplitTraces: a.SplitTraces + b.SplitTraces, Counts: a.Counts, WarningsTotal: a.WarningsTotal + b.WarningsTotal}
	s.Counts.Add(&b.Counts)
	l := &s.Limits
	exact := exactLimits(s.Limits)
	if a.Counts.Traces == 0 || b.Counts.Traces > 0 && b.StartNs < a.StartNs {
		s.StartNs = b.StartNs
	} else {
		s.StartNs = a.StartNs
	}
	s.EndNs = max(a.EndNs, b.EndNs)

	epA, epB := make([]int32, len(a.Endpoints)), make([]int32, len(b.Endpoints))
	s.Endpoints = mergeKeyed(a.Endpoints, b.Endpoints, epA, epB,
		func(x, y EndpointSum) int {
			return cmp.Or(cmp.Compare(x.Service, y.Service), cmp.Compare(x.Operation, y.Operation))
		},
		func(x, y EndpointSum) EndpointSum {
			x.Durations, x.Failed = merge(x.Durations, y.Durations, l), merge(x.Failed, y.Failed, &exact)
			return x
		})
	hopA, hopB := make([]int32, len(a.Hops)), make([]int32, len(b.Hops))
	s.Hops = mergeKeyed(a.Hops, b.Hops, hopA, hopB,
		func(x, y HopSum) int {
			return cmp.Or(cmp.Compare(x.From, y.From), cmp.Compare(x.To, y.To), cmp.Compare(x.Operation, y.Operation), cmp.Compare(x.Statement, y.Statement))
		},
		func(x, y HopSum) HopSum {
			x.Latency, x.Network, x.CriticalPath = merge(x.Latency, y.Latency, l), merge(x.Network, y.Network, l), merge(x.CriticalPath, y.CriticalPath, l)
			x.ServerSelf, x.Calls, x.Failed = merge(x.ServerSelf, y.ServerSelf, l), merge(x.Calls, y.Calls, l), merge(x.Failed, y.Failed, &exact)
			x.Errors += y.Errors
			return x
		})
	s.FanIn = mergeKeyed(a.FanIn, b.FanIn, nil, nil,
		func(x, y FanInSum) int {
			return cmp.Or(cmp.Compare(x.Service, y.Service), cmp.Compare(x.Operation, y.Operation))
		},
		func(x, y FanInSum) FanInSum {
			x.Waits, x.Overheads = merge(x.Waits, y.Waits, l), merge(x.Overheads, y.Overheads, l)
			x.Partial += y.Partial
			st := make(map[string]int64, len(x.Stragglers))
			for k, n := range x.Stragglers {
				st[k] = n
			}
			for k, n := range y.Stragglers {
				st[k] += n
			}
			x.Stragglers = st
			return x
		})

	if !a.RowsDropped && !b.RowsDropped && len(a.Rows)+len(b.Rows) <= s.Limits.Rows {
		s.Rows = make([]Row, 0, len(a.Rows)+len(b.Rows))
		s.Rows = appendRows(s.Rows, a.Rows, epA, hopA)
		s.Rows = appendRows(s.Rows, b.Rows, epB, hopB)
		slices.SortStableFunc(s.Rows, func(x, y Row) int { return x.Tr.compare(y.Tr) })
		for i := 1; i < len(s.Rows); i++ {
			if s.Rows[i].Tr.ID == s.Rows[i-1].Tr.ID {
				s.SplitTraces++
			}
		}
	} else {
		s.RowsDropped = true
	}

	s.Clocks = mergeKeyed(a.Clocks, b.Clocks, nil, nil,
		func(x, y analyze.ServiceClock) int { return cmp.Compare(x.Service, y.Service) },
		func(x, y analyze.ServiceClock) analyze.ServiceClock {
			// Shards that read one service's clock differently: the
			// coarser reading is the safe tolerance.
			x.Spans += y.Spans
			if y.GranularityNs > x.GranularityNs {
				x.GranularityNs, x.Granularity, x.Source = y.GranularityNs, y.Granularity, y.Source
			}
			return x
		})

	if a.Profile != nil && b.Profile != nil {
		p, err := analyze.MergeProfiles(a.Profile, b.Profile)
		if err != nil {
			return nil, err
		}
		s.Profile = p
	}
	s.Warnings = append(slices.Clone(a.Warnings), b.Warnings...)
	slices.SortStableFunc(s.Warnings, func(x, y WarningEntry) int {
		return cmp.Or(x.Tr.compare(y.Tr), cmp.Compare(x.Seq, y.Seq))
	})
	if len(s.Warnings) > WarningLimit {
		s.Warnings = s.Warnings[:WarningLimit]
	}
	s.Warnings = nonNil(s.Warnings)
	return s, nil
}

// mergeKeyed merges two lists sorted by key, combining equal keys; ia and
// ib (when not nil) receive each input item's index in the result.
func mergeKeyed[T any](a, b []T, ia, ib []int32, key func(x, y T) int, combine func(x, y T) T) []T {
	out := make([]T, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		c := 0
		switch {
		case i == len(a):
			c = 1
		case j == len(b):
			c = -1
		default:
			c = key(a[i], b[j])
		}
		switch {
		case c < 0:
			if ia != nil {
				ia[i] = int32(len(out))
			}
			out = append(out, a[i])
			i++
		case c > 0:
			if ib != nil {
				ib[j] = int32(len(out))
			}
			out = append(out, b[j])
			j++
		default:
			if ia != nil {
				ia[i], ib[j] = int32(len(out)), int32(len(out))
			}
			out = append(out, combine(a[i], b[j]))
			i++
			j++
		}
	}
	return out
}

// appendRows appends rows with their endpoint and hop indices renumbered,
// each row's hops in index order.
func appendRows(dst, rows []Row, ep, hop []int32) []Row {
	for _, r := range rows {
		if r.Endpoint >= 0 {
			r.Endpoint = ep[r.Endpoint]
		}
		hs := make([]RowHop, len(r.Hops))
		for i, h := range r.Hops {
			h.Hop = hop[h.Hop]
			hs[i] = h
		}
		slices.SortFunc(hs, func(x, y RowHop) int { return cmp.Compare(x.Hop, y.Hop) })
		if len(hs) == 0 {
			hs = nil
		}
		r.Hops = hs
		dst = append(dst, r)
	}
	return dst
}

// exactLimits never sketch: failures are kept with their exact end times,
// which burn-rate windows count (a sketch of timestamps means nothing).
func exactLimits(l Limits) Limits { return Limits{Exact: math.MaxInt, Accuracy: l.Accuracy} }
