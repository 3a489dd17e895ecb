package analyze

import (
	"cmp"
	"slices"
)

// Every figure of an endpoint, a hop and a fan-in parent is computed here,
// from its samples, by one function each: the analysis of traces (fill)
// and the summaries that stand for traces (package summary) build the same
// inputs and call the same code, so a figure means the same wherever it
// comes from.

// EndpointSamples are what an endpoint's figures are computed from.
type EndpointSamples struct {
	Service, Operation string
	// Durations: one per request, ascending, equal values in trace order.
	Durations Sample
	// Starts: each request's start (Unix ns), in Durations' order.
	Starts []int64
	// Failed: the failed requests' end times (see Outcomes).
	Failed Sample
}

// HopSamples are what a hop's figures are computed from.
type HopSamples struct {
	From, To, Operation, Statement string
	// Latency: one per call; Network: one per call with a server span;
	// CriticalPath: one per trace that has the hop. Each ascending, equal
	// values in trace order.
	Latency, Network, CriticalPath Sample
	// CriticalPathSumNs is the exact sum of CriticalPath's values (kept
	// apart: a sketched sample's values are not exact).
	CriticalPathSumNs int64
	// ServerSelf: one per call with a server span, any order (sorted in place).
	ServerSelf []int64
	// Calls: one per trace that has the hop, any order (sorted in place).
	Calls []int64
	// Errors counts error calls (Hop.ErrorCount's rule); Failed are the
	// calls that fail an error-rate budget (SLOError).
	Errors int
	Failed Sample
}

// FanInSamples are what a fan-in parent's figures are computed from.
type FanInSamples struct {
	Service, Operation string
	// Waits: one per group, ascending, equal values in trace order.
	Waits Sample
	// Overheads: one per parent span, any order (sorted in place).
	Overheads []int64
	// Partial counts groups where some but not all calls failed.
	Partial int
	// Stragglers: how often each callee ended last in a group.
	Stragglers map[string]int
}

// NewEndpoint computes an endpoint's figures; traceID names the trace of a
// sample's row (for exemplars).
func NewEndpoint(in EndpointSamples, traceID func(row int32) string) Endpoint {
	xs := in.Durations.Ns
	e := Endpoint{Service: in.Service, Operation: in.Operation, Count: len(xs), Samples: xs,
		DurationSample: in.Durations, RequestStarts: in.Starts, Outcomes: Outcomes{Errors: in.Failed}}
	e.P50Us, e.P95Us, e.P99Us, e.MaxUs, e.Exemplars = summary(in.Durations, traceID)
	e.Warnings = appendNonEmpty(nil, fewSamples("", len(xs), 50, 95, 99))
	return e
}

// NewHop computes a hop's figures; traceID as for NewEndpoint.
func NewHop(in HopSamples, traceID func(row int32) string) Hop {
	xs := in.Latency.Ns
	// Self times and overheads are kept sorted: the Report does not depend
	// on the order they were collected in.
	slices.Sort(in.ServerSelf)
	gap := [2]int64{pct(in.Network.Ns, 50), pct(in.Network.Ns, 99)}
	o := Hop{From: in.From, To: in.To, Operation: in.Operation, Statement: in.Statement, Count: len(xs), Samples: xs,
		LatencySample: in.Latency, NetworkSample: in.Network, CriticalPathSample: in.CriticalPath,
		NetworkCount: in.Network.Len(), NetworkP50Us: us(gap[0]), NetworkP99Us: us(gap[1]),
		ErrorCount: in.Errors, ErrorRate: ratio(in.Errors, len(xs)),
		ServerSelfP50Us: us(pct(in.ServerSelf, 50)), ServerSelfP99Us: us(pct(in.ServerSelf, 99)), ServerSelfNs: in.ServerSelf,
		Outcomes: Outcomes{Errors: in.Failed}}
	o.P50Us, o.P95Us, o.P99Us, o.MaxUs, o.Exemplars = summary(in.Latency, traceID)
	cps := in.CriticalPath.Ns
	on := len(cps) - sort0(cps)
	o.Traces = len(cps)
	if len(cps) > 0 {
		o.CriticalPathMeanUs = us(in.CriticalPathSumNs / int64(len(cps)))
		o.CriticalPathP99Us = us(cps[rankIndex(99, len(cps))])
	}
	o.CriticalPathTotalUs = us(in.CriticalPathSumNs)
	o.CallsPerTrace = callsPerTrace(in.Calls)
	o.OnPathFraction = ratio(on, len(cps))
	o.Warnings = appendNonEmpty(nil, fewSamples("", len(xs), 50, 95, 99),
		fewSamples("network gap", in.Network.Len(), 50, 99), fewSamples("critical-path share", len(cps), 99))
	return o
}

// sort0 counts the values ≤ 0 of ascending xs (critical-path time is never
// negative: those are the traces where the hop was off the path).
func sort0(xs []int64) int {
	n, _ := slices.BinarySearch(xs, 1)
	return n
}

// NewFanIn computes a fan-in parent's figures; traceID as for NewEndpoint.
func NewFanIn(in FanInSamples, traceID func(row int32) string) FanIn {
	xs := in.Waits.Ns
	slices.Sort(in.Overheads)
	o := FanIn{Service: in.Service, Operation: in.Operation, Count: len(xs), ParentSpans: len(in.Overheads), WaitSample: in.Waits,
		PartialFailureRate: ratio(in.Partial, len(xs)), PartialFailures: in.Partial,
		OverheadP50Us: us(pct(in.Overheads, 50)), OverheadP99Us: us(pct(in.Overheads, 99)), OverheadNs: in.Overheads}
	o.WaitP50Us, o.WaitP95Us, o.WaitP99Us, _, o.Exemplars = summary(in.Waits, traceID)
	o.Stragglers = make([]Straggler, 0, len(in.Stragglers))
	for s, n := range in.Stragglers {
		o.Stragglers = append(o.Stragglers, Straggler{To: s, Count: n, Fraction: ratio(n, len(xs))})
	}
	slices.SortFunc(o.Stragglers, func(x, y Straggler) int {
		if c := cmp.Compare(y.Count, x.Count); c != 0 {
			return c
		}
		return cmp.Compare(x.To, y.To)
	})
	o.Warnings = appendNonEmpty(nil, fewSamples("", len(xs), 50, 95, 99), fewSamples("overhead", len(in.Overheads), 50, 99))
	return o
}

// summary gives p50, p95, p99 and max in µs of s, with their exemplars.
func summary(s Sample, traceID func(int32) string) (p50, p95, p99, mx int64, e Exemplars) {
	n := s.Len()
	if n == 0 {
		return
	}
	at := func(p int) (int64, string) {
		i := rankIndex(p, n)
		return us(s.Ns[i]), traceID(s.Row[i])
	}
	p50, e.P50 = at(50)
	p95, e.P95 = at(95)
	p99, e.P99 = at(99)
	mx, e.Max = at(100)
	return
}
