package analyze

// Report is the result of Analyze: a plain value that every renderer (table,
// JSON, Markdown, …) shows without recomputing anything. The JSON field names
// are part of hopbudget's documented output.
//
// Units: the span model holds Unix nanoseconds; every *Us field is
// microseconds obtained by Go integer division by 1000 (truncation toward
// zero) of the nanosecond figure, so timestamps are floor(ns/1000) and a
// duration is its nanosecond length divided, not the difference of two
// converted timestamps. IDs are lowercase hex. Every list has a fixed sort
// order, noted on its type.
type Report struct {
	// Endpoints sorted by (service, operation).
	Endpoints []Endpoint `json:"endpoints"`
	// Hops sorted by (from, to, operation, statement).
	Hops []Hop `json:"hops"`
	// FanIn sorted by (service, operation).
	FanIn []FanIn `json:"fanIn"`
	// Parallelizable: with Options.Suggest, serial sibling calls that could
	// run together, ranked by p99 saving (see Candidate); absent otherwise.
	Parallelizable []Candidate `json:"parallelizable,omitzero"`
	// WhatIf: with Options.WhatIf, one result per what-if, then (with
	// several) all of them together.
	WhatIf []WhatIfResult `json:"whatIf,omitzero"`
	// Traces is present only with Options.PerTrace, in input order.
	Traces []TraceResult `json:"traces,omitempty"`
	// Warnings from the clean-up passes, in trace order, then pass order
	// (dedupe, orphans, cycles, skew), then span order.
	Warnings []Warning `json:"warnings"`
	// Counts says how often each clean-up rule fired.
	Counts Counts `json:"counts"`
	// Clocks: every service's clock granularity, as detected (or set by
	// Options.ClockGranularity), sorted by service. See clock.go.
	Clocks []ServiceClock `json:"clocks"`
	// Summary is set when the Report was rebuilt from a summary rather
	// than analysed from traces: it says which figures are approximate.
	Summary *SummaryInfo `json:"summary,omitempty"`
	// TraceRows: every analysed trace in input order, with each hop's time
	// in it, for figures per request (budget layers, culprits). Sample.Row
	// indexes it.
	TraceRows []TraceRow `json:"-"`
}

// SummaryInfo describes a Report rebuilt from a mergeable summary (package
// summary).
type SummaryInfo struct {
	// Shards is the number of summaries merged.
	Shards int `json:"shards"`
	// ExactLimit: a figure with at most this many values is exact; beyond,
	// its percentiles are within RelativeAccuracy of a true value
	// (Approximate on the item says which).
	ExactLimit       int     `json:"exactLimit"`
	RelativeAccuracy float64 `json:"relativeAccuracy"`
	// Approximate counts the endpoints, hops and fan-in parents with a
	// sketched figure.
	Approximate int `json:"approximate"`
	// TraceRows says whether every trace's row was kept (figures per
	// request: budget layers, culprits, windows of hop errors). Without
	// them TraceRows holds only the exemplars' traces.
	TraceRows bool `json:"traceRows"`
	// SplitTraces counts traces found in more than one shard: their halves
	// were analysed apart (shards must be split by trace ID).
	SplitTraces int64 `json:"splitTraces,omitempty"`
	// RootlessTraces: the share of traces with a missing parent (orphans)
	// when it is over 10% in merged shards: the sign of shards split across
	// traces when rows could not tell (0 otherwise).
	RootlessTraces float64 `json:"rootlessTraces,omitempty"`
	// Warnings kept of WarningsTotal (a summary keeps the first ones).
	WarningsTotal int64 `json:"warningsTotal"`
	// StartNs and EndNs: the traces' time range (see Report.TimeRange).
	StartNs int64 `json:"startNs"`
	EndNs   int64 `json:"endNs"`
}

// Exemplars are trace IDs whose sample sits exactly at each percentile (the
// sample of nearest rank), so a user can open that trace.
type Exemplars struct {
	P50 string `json:"p50,omitempty"`
	P95 string `json:"p95,omitempty"`
	P99 string `json:"p99,omitempty"`
	Max string `json:"max,omitempty"`
}

// Endpoint aggregates root spans per (service, operation).
type Endpoint struct {
	// Approximate: some figure comes from a sketch (a Report rebuilt from
	// a summary; see SummaryInfo).
	Approximate bool      `json:"approximate,omitempty"`
	Service     string    `json:"service"`
	Operation   string    `json:"operation"`
	Count       int       `json:"count"`
	P50Us       int64     `json:"p50Us"`
	P95Us       int64     `json:"p95Us"`
	P99Us       int64     `json:"p99Us"`
	MaxUs       int64     `json:"maxUs"`
	Exemplars   Exemplars `json:"exemplars"`
	// Warnings about the statistics, e.g. "only 20 samples: p99 is the maximum".
	Warnings []string `json:"warnings,omitempty"`
	// Samples are the root durations in ns, ascending (kept for diff).
	Samples []int64 `json:"-"`
	// DurationSample is Samples with each request's trace (same backing
	// array), and RequestStarts the start (Unix ns) of each, in its order.
	DurationSample Sample  `json:"-"`
	RequestStarts  []int64 `json:"-"`
	// Outcomes: the failed requests, for error-rate budgets (see
	// SLOError, Report.EndpointOutcomesIn).
	Outcomes Outcomes `json:"-"`
}

// Hop aggregates calls per (caller service, callee, callee operation,
// statement).
type Hop struct {
	// Approximate: some figure comes from a sketch (a Report rebuilt from
	// a summary; see SummaryInfo).
	Approximate bool   `json:"approximate,omitempty"`
	From        string `json:"from"`
	To          string `json:"to"`
	Operation   string `json:"operation"`
	// Statement is the calls' normalised database statement (see
	// tracefmt.NormalizeStatement), when they carry one: part of the hop's
	// identity, so queries sharing a generic span name are told apart.
	Statement string `json:"statement,omitempty"`
	Count     int    `json:"count"`
	// Latency of the call as the caller sees it (the CLIENT span).
	P50Us int64 `json:"p50Us"`
	P95Us int64 `json:"p95Us"`
	P99Us int64 `json:"p99Us"`
	MaxUs int64 `json:"maxUs"`
	// Network/queue gap: client duration − server duration, over the
	// NetworkCount calls that have a SERVER child.
	NetworkCount int   `json:"networkCount"`
	NetworkP50Us int64 `json:"networkP50Us"`
	NetworkP99Us int64 `json:"networkP99Us"`
	// Errors: client spans with error status or an HTTP 408/504 (timeout).
	ErrorCount int     `json:"errorCount"`
	ErrorRate  float64 `json:"errorRate"`
	// Server self time: server duration minus the time its synchronous
	// children cover (over the calls with a server side).
	ServerSelfP50Us int64 `json:"serverSelfP50Us"`
	ServerSelfP99Us int64 `json:"serverSelfP99Us"`
	// Critical-path share, per trace containing the hop: the time the
	// critical path spends inside the hop's calls (their whole subtrees).
	Traces             int   `json:"traces"`
	CriticalPathMeanUs int64 `json:"criticalPathMeanUs"`
	// CriticalPathTotalUs is the exact sum over those traces (the mean is
	// truncated): what --sort share and the report's hop order rank by.
	CriticalPathTotalUs int64   `json:"criticalPathTotalUs"`
	CriticalPathP99Us   int64   `json:"criticalPathP99Us"`
	OnPathFraction      float64 `json:"onPathFraction"`
	// CallsPerTrace: how many calls of the hop a trace makes, over the
	// traces that make any (an N+1 loop shows here, not in the latency).
	CallsPerTrace CallsPerTrace `json:"callsPerTrace"`
	Exemplars     Exemplars     `json:"exemplars"`
	Warnings      []string      `json:"warnings,omitempty"`
	// Samples are the call durations in ns, ascending (kept for diff).
	Samples []int64 `json:"-"`
	// The exact samples with their traces: LatencySample is Samples (same
	// backing array); NetworkSample one gap per call with a server span;
	// CriticalPathSample one value per trace containing the hop.
	LatencySample      Sample `json:"-"`
	NetworkSample      Sample `json:"-"`
	CriticalPathSample Sample `json:"-"`
	// ServerSelfNs: one server self time per call with a server span,
	// ascending (for summaries).
	ServerSelfNs []int64 `json:"-"`
	// Outcomes: the failed calls, for error-rate budgets (see SLOError,
	// Report.HopOutcomesIn; ErrorCount counts by another rule).
	Outcomes Outcomes `json:"-"`
}

// CallsPerTrace summarises calls per trace (nearest-rank percentiles).
type CallsPerTrace struct {
	Mean float64 `json:"mean"`
	P50  int64   `json:"p50"`
	P99  int64   `json:"p99"`
	Max  int64   `json:"max"`
	// Sample: one count per trace, ascending (kept for diff).
	Sample []int64 `json:"-"`
}

// FanIn aggregates parallel groups per (parent service, parent operation).
type FanIn struct {
	// Approximate: some figure comes from a sketch (a Report rebuilt from
	// a summary; see SummaryInfo).
	Approximate bool   `json:"approximate,omitempty"`
	Service     string `json:"service"`
	Operation   string `json:"operation"`
	Count       int    `json:"count"`       // groups
	ParentSpans int    `json:"parentSpans"` // distinct parent spans with a group
	WaitP50Us   int64  `json:"waitP50Us"`
	WaitP95Us   int64  `json:"waitP95Us"`
	WaitP99Us   int64  `json:"waitP99Us"`
	// PartialFailureRate: groups where some but not all calls failed.
	PartialFailureRate float64 `json:"partialFailureRate"`
	// Overhead: parent duration minus the union of its synchronous
	// children's intervals clipped to it, per parent span.
	OverheadP50Us int64 `json:"overheadP50Us"`
	OverheadP99Us int64 `json:"overheadP99Us"`
	// Stragglers sorted by fraction descending, then callee.
	Stragglers []Straggler `json:"stragglers"`
	Exemplars  Exemplars   `json:"exemplars"`
	Warnings   []string    `json:"warnings,omitempty"`
	// WaitSample: one wait per group, with its trace.
	WaitSample Sample `json:"-"`
	// OverheadNs: one overhead per parent span, ascending, and
	// PartialFailures the groups behind PartialFailureRate (for summaries).
	OverheadNs      []int64 `json:"-"`
	PartialFailures int     `json:"-"`
}

// Straggler says how often a callee ended last in a group.
type Straggler struct {
	To       string  `json:"to"`
	Count    int     `json:"count"`
	Fraction float64 `json:"fraction"`
}

// TraceResult is one trace's detail (Options.PerTrace).
type TraceResult struct {
	TraceID       string `json:"traceID"`
	RootService   string `json:"rootService"`
	RootOperation string `json:"rootOperation"`
	StartUs       int64  `json:"startUs"`
	DurationUs    int64  `json:"durationUs"`
	Spans         int    `json:"spans"` // distinct spans (identical copies merged)
	Roots         int    `json:"roots"`
	// CriticalPath of every root in root order (start, then span ID), each
	// root's segments in time order. Default mode merges adjacent segments
	// of one span; jaeger mode keeps the UI's sections unmerged.
	CriticalPath []Segment `json:"criticalPath"`
	// FanIn groups ordered by parent start, parent span ID, first child.
	FanIn []FanInGroup `json:"fanIn"`
}

// Segment is a piece of a critical path: the span owns [StartUs, EndUs).
type Segment struct {
	SpanID    string `json:"spanID"`
	Service   string `json:"service"`
	Operation string `json:"operation"`
	StartUs   int64  `json:"startUs"`
	EndUs     int64  `json:"endUs"`
}

// FanInGroup is one group of overlapping synchronous calls of a span.
type FanInGroup struct {
	ParentSpanID    string   `json:"parentSpanID"`
	Children        []string `json:"children"` // in start order
	WaitUs          int64    `json:"waitUs"`
	StragglerSpanID string   `json:"stragglerSpanID"`
}

// Warning rules.
const (
	RuleDuplicateID = "duplicate-id" // same span ID, different content
	RuleOrphan      = "orphan"       // parent not in the trace
	RuleCycle       = "cycle"        // parent chain loops
	RuleClockSkew   = "clock-skew"   // subtree shifted into its parent
	RuleJaegerWalk  = "jaeger-walk"  // jaeger-mode walk stopped by its step guard
)

// Warning is one clean-up decision on one span.
type Warning struct {
	Rule      string `json:"rule"`
	TraceID   string `json:"traceID"`
	SpanID    string `json:"spanID,omitempty"`
	Service   string `json:"service,omitempty"`
	Operation string `json:"operation,omitempty"`
	// ShiftUs is the clock-skew shift applied (clock-skew only).
	ShiftUs int64  `json:"shiftUs,omitempty"`
	Message string `json:"message"`
}

// Counts says how often each clean-up rule fired (over analysed traces).
type Counts struct {
	Traces         int `json:"traces"`         // analysed
	Spans          int `json:"spans"`          // input spans of analysed traces
	TracesFiltered int `json:"tracesFiltered"` // left out by Options.Endpoint
	// dedupe
	DuplicatesMerged     int `json:"duplicatesMerged"`     // identical copies dropped
	DuplicateIDConflicts int `json:"duplicateIDConflicts"` // same ID, other content: kept apart
	// edges
	AsyncEdges int `json:"asyncEdges"` // follows-from / producer→consumer parent edges
	// orphans
	Orphans           int `json:"orphans"`           // spans whose parent is missing
	TracesWithOrphans int `json:"tracesWithOrphans"` // traces with ≥ 1 orphan
	// cycles
	CyclesBroken int `json:"cyclesBroken"`
	// roots
	MultiRootTraces int `json:"multiRootTraces"`
	// skew
	SkewShifts   int `json:"skewShifts"`   // cross-service subtrees shifted
	SpansShifted int `json:"spansShifted"` // spans moved by those shifts
	// granularity (coarse start clocks, see clock.go)
	WithinGranularity int `json:"withinGranularity"` // children sticking out of their parent by less than the clocks' granularity: clipped, not skew
	GranularityShifts int `json:"granularityShifts"` // spans moved later, within their granularity, to undo an apparent overlap
	// clip (critical path)
	ChildrenClipped       int `json:"childrenClipped"`       // interval cut to the parent's
	ChildrenOutsideParent int `json:"childrenOutsideParent"` // no overlap: ignored with subtree
	// jaeger mode
	JaegerConsumersPruned int `json:"jaegerConsumersPruned"` // producer→consumer children skipped
	JaegerSpansDropped    int `json:"jaegerSpansDropped"`    // removed by the UI's sanitizing
}

func (c *Counts) add(o *Counts) {
	c.Traces += o.Traces
	c.Spans += o.Spans
	c.TracesFiltered += o.TracesFiltered
	c.DuplicatesMerged += o.DuplicatesMerged
	c.DuplicateIDConflicts += o.DuplicateIDConflicts
	c.AsyncEdges += o.AsyncEdges
	c.Orphans += o.Orphans
	c.TracesWithOrphans += o.TracesWithOrphans
	c.CyclesBroken += o.CyclesBroken
	c.MultiRootTraces += o.MultiRootTraces
	c.SkewShifts += o.SkewShifts
	c.SpansShifted += o.SpansShifted
	c.WithinGranularity += o.WithinGranularity
	c.GranularityShifts += o.GranularityShifts
	c.ChildrenClipped += o.ChildrenClipped
	c.ChildrenOutsideParent += o.ChildrenOutsideParent
	c.JaegerConsumersPruned += o.JaegerConsumersPruned
	c.JaegerSpansDropped += o.JaegerSpansDropped
}

// Add adds o's counts to c (summaries of shards add up their counts).
func (c *Counts) Add(o *Counts) { c.add(o) }
