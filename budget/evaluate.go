package budget

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"hopbudget/analyze"
)

// DefaultMinSamples is how many samples a budget line needs before its
// percentile counts: fewer is "no data", never a pass.
const DefaultMinSamples = 20

// EvalOptions control Evaluate.
type EvalOptions struct {
	// MinSamples: lines with fewer samples get StatusNoData. 0 means
	// DefaultMinSamples; 1 accepts any sample.
	MinSamples int
	// AllowNoData lets lines that matched nothing (StatusNoMatch) or have
	// too few samples (StatusNoData) pass. By default they fail: nothing
	// was checked, and a gate must not pass by accident.
	AllowNoData bool
}

// Kind is the section a result comes from; slow-request budgets and error
// rates are results of their own beside the line's percentile targets.
type Kind string

const (
	KindEndpoint     Kind = "endpoint"
	KindHop          Kind = "hop"
	KindLayer        Kind = "layer"
	KindFanIn        Kind = "fanIn"
	KindSlowRequests Kind = "slowRequests" // an endpoint's slowRequests (formerly errorBudget)
	KindErrors       Kind = "errors"       // an endpoint's or hop's error rate
)

// Status is the verdict of one result.
type Status string

const (
	StatusOK     Status = "ok"      // within the target
	StatusOver   Status = "over"    // over the target
	StatusNoData Status = "no-data" // fewer samples than EvalOptions.MinSamples
	// StatusNoMatch: the line's matcher matched nothing in the traces, so
	// nothing was checked.
	StatusNoMatch Status = "no-match"
)

// Result is a budget held to a Report. The JSON field names are part of
// `hopbudget check -o json`, documented in the README.
type Result struct {
	File       string `json:"budget"`
	Passed     bool   `json:"passed"` // no line failed
	MinSamples int    `json:"minSamples"`
	// AllowNoData: no-match and no-data lines pass (EvalOptions).
	AllowNoData bool `json:"allowNoData"`
	// Checked counts the lines with a verdict on enough samples (ok or
	// over), SamplesChecked their samples, summed over those lines.
	Checked        int `json:"checked"`
	SamplesChecked int `json:"samplesChecked"`
	// Lines: one per target and thing matched, in file order (the target's
	// line), then by Match.
	Lines []LineResult `json:"results"`
	// Warnings, in file order: a layer's hop matcher that matches no call,
	// a deprecated key.
	Warnings []Warning `json:"warnings"`
}

// LineResult is one target held to one matched thing: an endpoint, a hop,
// an endpoint's layer, a fan-in parent, an endpoint's slow-request budget,
// or an endpoint's or hop's error rate. A line that matched nothing gives
// one result per target, with status no-match.
//
// Times are integer microseconds (nanoseconds divided by 1000, as in the
// Report); the comparison itself is made in nanoseconds.
type LineResult struct {
	// Name is the target's display name (Target.Name, ErrorBudget.Name):
	// stable while limits are tuned, but shared by the matches of a glob.
	Name string `json:"name"`
	// Title is Name, with the match added when Name does not say it (a
	// glob, or a hop matcher without operation): unique per result and
	// stable, for reports and CI test names.
	Title string `json:"title"`
	Kind  Kind   `json:"kind"`
	// On is what is measured: duration (endpoints, error budgets), wait
	// (fan-in), or the hop or layer line's latency, network or
	// critical-path.
	On string `json:"on"`
	// Match is the thing matched, for display: "service: operation" for
	// endpoints, fan-in, layers (their endpoint) and slow requests, "from →
	// to: operation" for hops; the matcher as written when nothing
	// matched. Find the Report's row by Endpoint, Hop or FanIn instead.
	Match string `json:"match"`
	// The Report row the result is about, by its identity: Endpoint for
	// endpoint, layer, slow-request and endpoint error lines, Hop for hop
	// lines and hop error lines, FanIn for fan-in lines; all nil when
	// nothing matched.
	Endpoint *analyze.EndpointKey `json:"endpoint,omitempty"`
	Hop      *analyze.HopKey      `json:"hop,omitempty"`
	FanIn    *analyze.EndpointKey `json:"fanIn,omitempty"`
	// Percentile is the target's key (p50 … p999, max). For a slow-request
	// budget it is the percentile the allowance amounts to (5% over →
	// p95): its ActualUs is that percentile, and the budget holds exactly
	// when it is at most TargetUs, the threshold. "" for error rates.
	Percentile string `json:"percentile"`
	TargetUs   int64  `json:"targetUs"`
	// ActualUs is the measured percentile; null without samples.
	ActualUs *int64 `json:"actualUs"`
	// HeadroomUs is TargetUs − ActualUs: negative is the overspend.
	// HeadroomPct is it in percent of the target, one decimal. Both null
	// without samples.
	HeadroomUs  *int64   `json:"headroomUs"`
	HeadroomPct *float64 `json:"headroomPct"`
	Samples     int      `json:"samples"`
	Status      Status   `json:"status"`
	// Failed: the line fails the check (over; no-data or no-match unless
	// AllowNoData).
	Failed bool `json:"failed"`
	// Note says why a line was not checked, e.g. "matched no hop: nothing
	// was checked"; "" otherwise.
	Note string `json:"note,omitempty"`
	// Exemplar is the trace holding the actual value ("" without samples).
	Exemplar string `json:"exemplar"`
	Line     int    `json:"line"` // of the target in the budget file
	// Culprits, for an endpoint target or slow-request budget that is
	// over: the hops with the most critical-path time in the requests at
	// or above the actual value (over the threshold for slow requests), at
	// most 3.
	Culprits []Culprit `json:"culprits"`
	// SlowRequests is set for KindSlowRequests only, Errors for KindErrors
	// only (with samples).
	SlowRequests *SlowRequestsResult `json:"slowRequests,omitempty"`
	Errors       *ErrorRateResult    `json:"errors,omitempty"`
	// Target and Actual in ns (Actual is valid when Samples > 0).
	Target, Actual time.Duration `json:"-"`
}

// SlowRequestsResult is the slow-request budget of one endpoint.
type SlowRequestsResult struct {
	ThresholdUs int64   `json:"thresholdUs"`
	Allowed     float64 `json:"allowed"`   // fraction allowed over the threshold (5% = 0.05)
	Observed    float64 `json:"observed"`  // fraction observed over it
	OverCount   int     `json:"overCount"` // requests over it
	// BurnRate is Observed / Allowed: above 1 the budget burns faster
	// than it may (three decimals).
	BurnRate float64 `json:"burnRate"`
	// StartUs and EndUs (Unix µs) are the requests' own time range: the
	// first start and the last end.
	StartUs int64 `json:"startUs"`
	EndUs   int64 `json:"endUs"`
}

// ErrorRateResult is an error-rate objective held to one endpoint's
// requests or one hop's calls (see analyze.SLOError for what fails).
type ErrorRateResult struct {
	Allowed   float64 `json:"allowed"`   // fraction that may fail (0.1% = 0.001)
	Objective float64 `json:"objective"` // 1 − Allowed (99.9% = 0.999)
	Total     int     `json:"total"`     // requests or calls
	Errors    int     `json:"errors"`    // failed ones
	Observed  float64 `json:"observed"`  // Errors / Total
	// BurnRate is Observed / Allowed over the export's whole time span
	// (StartUs to EndUs): above 1 the errors spend the budget faster than
	// the objective allows (three decimals).
	BurnRate float64 `json:"burnRate"`
	StartUs  int64   `json:"startUs"`
	EndUs    int64   `json:"endUs"`
	// Windows: the multi-window, multi-burn-rate view (as Sloth and Pyrra
	// alert on a 30-day objective), for each window the export spans,
	// ending at its last timestamp; WindowsNotEvaluated names the others
	// (the export is shorter than them).
	Windows             []BurnWindow `json:"windows"`
	WindowsNotEvaluated []string     `json:"windowsNotEvaluated"`
}

// BurnWindow is one long window with its short window: it alerts when the
// burn rate over both exceeds Factor (the short one confirms the burn is
// still going on).
type BurnWindow struct {
	Long     string  `json:"long"`  // "1h", "6h", "3d"
	Short    string  `json:"short"` // "5m", "30m", "6h"
	Factor   float64 `json:"factor"`
	Severity string  `json:"severity"` // page or ticket
	Total    int     `json:"total"`
	Errors   int     `json:"errors"`
	BurnRate float64 `json:"burnRate"`
	// In the short window:
	ShortTotal    int     `json:"shortTotal"`
	ShortErrors   int     `json:"shortErrors"`
	ShortBurnRate float64 `json:"shortBurnRate"`
	Alert         bool    `json:"alert"`
}

// burnWindows are the Google SRE workbook's alerts for a 30-day
// objective, as Sloth and Pyrra generate them: 2% of the budget spent in
// an hour or 5% in six hours pages, 10% in three days opens a ticket.
var burnWindows = []struct {
	long, short time.Duration
	longText    string
	shortText   string
	factor      float64
	severity    string
}{
	{time.Hour, 5 * time.Minute, "1h", "5m", 14.4, "page"},
	{6 * time.Hour, 30 * time.Minute, "6h", "30m", 6, "page"},
	{72 * time.Hour, 6 * time.Hour, "3d", "6h", 1, "ticket"},
}

// Culprit is a hop on the critical path of an endpoint's slow requests.
type Culprit struct {
	From      string `json:"from"`
	To        string `json:"to"`
	Operation string `json:"operation"`
	Statement string `json:"statement,omitempty"` // part of the hop's identity (analyze.Hop.Statement)
	// CriticalPathMeanUs is the hop's mean critical-path time per slow
	// request (zero for those without it), BaselineMeanUs the same over
	// all the endpoint's requests: how much it grew in the tail.
	CriticalPathMeanUs int64 `json:"criticalPathMeanUs"`
	BaselineMeanUs     int64 `json:"baselineMeanUs"`
	// Share is CriticalPathMeanUs over the slow requests' mean duration.
	Share float64 `json:"share"`
	// Requests is the number of slow requests.
	Requests int `json:"requests"`
}

// Warning is a problem with the budget against these traces, such as a
// matcher that matches nothing (a typo must not pass silently).
type Warning struct {
	Line    int    `json:"line"`
	Message string `json:"message"`
}

// Evaluate holds the traces analysed in r to budget b. A line whose
// matcher covers several things gives one result per thing; a layer gives
// one per endpoint its endpoint matcher covers.
func Evaluate(b *Budget, r *analyze.Report, opts EvalOptions) *Result {
	if opts.MinSamples <= 0 {
		opts.MinSamples = DefaultMinSamples
	}
	e := &evaluator{r: r, opts: opts, res: &Result{File: b.File, MinSamples: opts.MinSamples, AllowNoData: opts.AllowNoData,
		Lines: []LineResult{}, Warnings: []Warning{}}}
	e.first, e.last = r.TimeRange()
	for _, n := range b.Notes {
		e.warn(n.Line, "%s: %s", n.Path, n.Msg)
	}
	for i := range b.Endpoints {
		e.endpoint(i, &b.Endpoints[i])
	}
	for i := range b.Hops {
		e.hop(i, &b.Hops[i])
	}
	for i := range b.Layers {
		e.layer(i, &b.Layers[i])
	}
	for i := range b.FanIn {
		e.fanIn(i, &b.FanIn[i])
	}
	res := e.res
	// Sections may come in any order in the file: sort by line, keeping a
	// line's targets in their order.
	slices.SortStableFunc(res.Lines, func(x, y LineResult) int {
		if c := cmp.Compare(x.Line, y.Line); c != 0 {
			return c
		}
		return cmp.Compare(x.Match, y.Match)
	})
	slices.SortStableFunc(res.Warnings, func(x, y Warning) int { return cmp.Compare(x.Line, y.Line) })
	res.Passed = true
	for _, l := range res.Lines {
		if l.Failed {
			res.Passed = false
		}
		if l.Status == StatusOK || l.Status == StatusOver {
			res.Checked++
			res.SamplesChecked += l.Samples
		}
	}
	return res
}

type evaluator struct {
	r    *analyze.Report
	opts EvalOptions
	res  *Result
	// rowsOf[e]: the rows of Report.TraceRows whose primary root is
	// endpoint e, built on first use.
	rowsOf [][]int32
	// first and last: the export's time span (Report.TimeRange).
	first, last int64
}

func (e *evaluator) warn(line int, format string, args ...any) {
	e.res.Warnings = append(e.res.Warnings, Warning{Line: line, Message: fmt.Sprintf(format, args...)})
}

func (e *evaluator) endpoints(m Matcher) []int {
	var out []int
	for i, ep := range e.r.Endpoints {
		if m.MatchEndpoint(ep.Service, ep.Operation) {
			out = append(out, i)
		}
	}
	return out
}

func (e *evaluator) endpoint(i int, l *Endpoint) {
	matched := e.endpoints(l.Match)
	pattern := endpointText(l.Match)
	if len(matched) == 0 {
		e.noMatch(l.Targets, KindEndpoint, "duration", pattern, "matched no endpoint (root span)")
		if sr := l.SlowRequests; sr != nil {
			e.noMatch([]Target{{Name: sr.Name, Line: sr.Line, Limit: sr.Threshold}}, KindSlowRequests, "duration", pattern, "matched no endpoint (root span)")
		}
		if er := l.Errors; er != nil {
			e.noMatch([]Target{{Name: er.Name, Line: er.Line}}, KindErrors, "errors", pattern, "matched no endpoint (root span)")
		}
		return
	}
	for _, t := range l.Targets {
		for _, x := range matched {
			ep := &e.r.Endpoints[x]
			lr := e.target(KindEndpoint, "duration", t, endpointKey(ep.Service, ep.Operation), pattern, ep.DurationSample)
			lr.Endpoint = ptr(ep.Key())
			if lr.Status == StatusOver {
				lr.Culprits = e.culprits(x, func(d int64) bool { return d >= int64(lr.Actual) })
			}
			e.add(lr)
		}
	}
	if sr := l.SlowRequests; sr != nil {
		for _, x := range matched {
			e.add(e.slowRequests(sr, x, pattern))
		}
	}
	if er := l.Errors; er != nil {
		for _, x := range matched {
			ep := &e.r.Endpoints[x]
			lr := e.errorRate(er, ep.DurationSample.Len(), ep.Outcomes.Errors,
				func(from, to int64) (int, int) { return e.r.EndpointOutcomesIn(x, from, to) }, endpointKey(ep.Service, ep.Operation), pattern)
			lr.Endpoint = ptr(ep.Key())
			e.add(lr)
		}
	}
}

func ptr[T any](v T) *T { return &v }

// noMatch adds one failing (unless AllowNoData) result per target of a
// line that matched nothing: nothing was checked.
func (e *evaluator) noMatch(ts []Target, kind Kind, on, pattern, what string) {
	for _, t := range ts {
		lr := LineResult{Name: t.Name, Title: t.Name, Kind: kind, On: on, Match: pattern, Line: t.Line,
			Target: t.Limit, TargetUs: us(int64(t.Limit)), Culprits: []Culprit{},
			Status: StatusNoMatch, Failed: !e.opts.AllowNoData, Note: what + ": nothing was checked"}
		if kind != KindErrors && kind != KindSlowRequests {
			lr.Percentile = t.Key()
		}
		e.add(lr)
	}
}

func (e *evaluator) hop(i int, l *Hop) {
	pattern := hopText(l.Match)
	var matched []int
	for x, h := range e.r.Hops {
		if l.Match.MatchHop(h.From, h.To, h.Operation, h.Statement) {
			matched = append(matched, x)
		}
	}
	if len(matched) == 0 {
		e.noMatch(l.Targets, KindHop, string(l.On), pattern, "matched no hop")
		if er := l.Errors; er != nil {
			e.noMatch([]Target{{Name: er.Name, Line: er.Line}}, KindErrors, "errors", pattern, "matched no hop")
		}
		return
	}
	if er := l.Errors; er != nil {
		// Every matched hop, whatever its measure: errors are per call.
		for _, x := range matched {
			h := &e.r.Hops[x]
			lr := e.errorRate(er, h.LatencySample.Len(), h.Outcomes.Errors,
				func(from, to int64) (int, int) { return e.r.HopOutcomesIn(x, from, to) }, hopKey(h.From, h.To, h.Operation, h.Statement), pattern)
			lr.Hop = ptr(h.Key())
			e.add(lr)
		}
	}
	sample := func(h *analyze.Hop) analyze.Sample {
		switch l.On {
		case Network:
			return h.NetworkSample
		case CriticalPath:
			return h.CriticalPathSample
		}
		return h.LatencySample
	}
	// A glob such as {to: "*"} on network also covers calls without a
	// server span, which have no network gap: leave those out, unless
	// nothing else matched.
	var measured []int
	for _, x := range matched {
		if sample(&e.r.Hops[x]).Len() > 0 {
			measured = append(measured, x)
		}
	}
	if len(measured) > 0 {
		matched = measured
	}
	for _, t := range l.Targets {
		for _, x := range matched {
			h := &e.r.Hops[x]
			lr := e.target(KindHop, string(l.On), t, hopKey(h.From, h.To, h.Operation, h.Statement), pattern, sample(h))
			lr.Hop = ptr(h.Key())
			e.add(lr)
		}
	}
}

func (e *evaluator) layer(i int, l *Layer) {
	matched := e.endpoints(l.Endpoint)
	if len(matched) == 0 {
		e.noMatch(l.Targets, KindLayer, string(l.On), endpointText(l.Endpoint), "its endpoint matched no endpoint (root span)")
		return
	}
	if !e.r.PerRequest() {
		// A layer adds hops up per request: without every request's row
		// there is nothing to add. Not checked, which fails like no data.
		for _, t := range l.Targets {
			lr := LineResult{Name: t.Name, Title: t.Name, Kind: KindLayer, On: string(l.On), Match: endpointText(l.Endpoint), Line: t.Line,
				Target: t.Limit, TargetUs: us(int64(t.Limit)), Culprits: []Culprit{}, Percentile: t.Key(),
				Status: StatusNoData, Failed: !e.opts.AllowNoData, Note: noRowsNote}
			e.add(lr)
		}
		return
	}
	// Which hops are in the layer, and which of its matchers match a call
	// under its endpoints.
	in := make([]bool, len(e.r.Hops))
	hit := make([]bool, len(l.Match))
	for x, h := range e.r.Hops {
		in[x] = l.MatchHop(h.From, h.To, h.Operation, h.Statement)
	}
	samples := make([]analyze.Sample, len(matched))
	for k, x := range matched {
		rows := e.rows(x)
		type v struct {
			ns  int64
			row int32
		}
		vs := make([]v, len(rows))
		for j, row := range rows {
			var sum int64
			for _, th := range e.r.TraceRows[row].Hops {
				if !in[th.Hop] {
					continue
				}
				h := &e.r.Hops[th.Hop]
				for mi, m := range l.Match {
					if !hit[mi] && m.MatchHop(h.From, h.To, h.Operation, h.Statement) {
						hit[mi] = true
					}
				}
				switch l.On {
				case Latency:
					sum += th.LatencyNs
				case Network:
					sum += th.NetworkNs
				default:
					sum += th.CriticalPathNs
				}
			}
			vs[j] = v{sum, row}
		}
		slices.SortFunc(vs, func(a, b v) int {
			if c := cmp.Compare(a.ns, b.ns); c != 0 {
				return c
			}
			return cmp.Compare(a.row, b.row)
		})
		s := analyze.Sample{Ns: make([]int64, len(vs)), Row: make([]int32, len(vs))}
		for j, x := range vs {
			s.Ns[j], s.Row[j] = x.ns, x.row
		}
		samples[k] = s
	}
	for mi, m := range l.Match {
		if !hit[mi] {
			e.warn(l.Line, "layers[%d] (%s): match[%d] %s matches no call in the requests of %s", i, l.LayerName, mi,
				matcherText(m, hopMatchers), endpointText(l.Endpoint))
		}
	}
	for _, t := range l.Targets {
		for k, x := range matched {
			ep := &e.r.Endpoints[x]
			lr := e.target(KindLayer, string(l.On), t, endpointKey(ep.Service, ep.Operation), endpointText(l.Endpoint), samples[k])
			lr.Endpoint = ptr(ep.Key())
			e.add(lr)
		}
	}
}

func (e *evaluator) fanIn(i int, l *FanIn) {
	pattern := endpointText(l.Match)
	var matched []int
	for x, f := range e.r.FanIn {
		if l.Match.MatchEndpoint(f.Service, f.Operation) {
			matched = append(matched, x)
		}
	}
	if len(matched) == 0 {
		e.noMatch(l.Targets, KindFanIn, "wait", pattern, "matched no parent span with parallel calls")
		return
	}
	for _, t := range l.Targets {
		for _, x := range matched {
			f := &e.r.FanIn[x]
			lr := e.target(KindFanIn, "wait", t, endpointKey(f.Service, f.Operation), pattern, f.WaitSample)
			lr.FanIn = ptr(f.Key())
			e.add(lr)
		}
	}
}

// target holds sample s to target t.
func (e *evaluator) target(kind Kind, on string, t Target, match, pattern string, s analyze.Sample) LineResult {
	lr := LineResult{Name: t.Name, Kind: kind, On: on, Match: match, Percentile: t.Key(), Line: t.Line,
		Target: t.Limit, TargetUs: us(int64(t.Limit)), Samples: s.Len(), Culprits: []Culprit{}}
	lr.Title = title(t.Name, match, pattern)
	if i := s.Index(t.Percentile); i >= 0 {
		e.measured(&lr, s.Ns[i], s.Row[i])
	}
	e.verdict(&lr, lr.Samples > 0 && lr.Actual > lr.Target)
	return lr
}

// measured sets the actual value, its headroom and exemplar.
func (e *evaluator) measured(lr *LineResult, ns int64, row int32) {
	lr.Actual = time.Duration(ns)
	a, h := us(ns), us(int64(lr.Target)-ns)
	lr.ActualUs, lr.HeadroomUs = &a, &h
	pct := math.Round(float64(int64(lr.Target)-ns)/float64(lr.Target)*1000) / 10
	if pct == 0 {
		pct = 0 // not -0, which JSON would show
	}
	lr.HeadroomPct = &pct
	if row >= 0 {
		lr.Exemplar = e.r.TraceRows[row].ID.String()
	}
}

func (e *evaluator) verdict(lr *LineResult, over bool) {
	switch {
	case lr.Samples < e.opts.MinSamples:
		lr.Status = StatusNoData
		lr.Failed = !e.opts.AllowNoData
		lr.Note = fmt.Sprintf("%s, fewer than %d: not checked", plural(lr.Samples, "sample"), e.opts.MinSamples)
	case over:
		lr.Status, lr.Failed = StatusOver, true
	default:
		lr.Status = StatusOK
	}
}

// slowRequests evaluates eb on endpoint x. With n requests, at most
// ⌊allowed·n⌋ may exceed the threshold; that is the same as the request
// of rank n − ⌊allowed·n⌋ (the (100 − allowed)th percentile) being within
// it, which is the result's actual value.
func (e *evaluator) slowRequests(eb *SlowRequests, x int, pattern string) LineResult {
	ep := &e.r.Endpoints[x]
	s := ep.DurationSample
	n := s.Len()
	thr := int64(eb.Threshold)
	match := endpointKey(ep.Service, ep.Operation)
	lr := LineResult{Name: eb.Name, Kind: KindSlowRequests, On: "duration", Match: match, Line: eb.Line, Endpoint: ptr(ep.Key()),
		Percentile: percentileKey(roundTo(100-100*eb.Allowed, 6)), Target: eb.Threshold, TargetUs: us(thr),
		Samples: n, Culprits: []Culprit{}, Title: title(eb.Name, match, pattern)}
	within, _ := slices.BinarySearch(s.Ns, thr+1) // requests ≤ threshold
	overCount := n - within
	maxOver := int(math.Floor(eb.Allowed*float64(n) + 1e-9))
	res := &SlowRequestsResult{ThresholdUs: us(thr), Allowed: eb.Allowed, OverCount: overCount}
	if n > 0 {
		res.Observed = float64(overCount) / float64(n)
		res.BurnRate = roundTo(res.Observed/eb.Allowed, 3)
		first, last := int64(math.MaxInt64), int64(math.MinInt64)
		for i, st := range ep.RequestStarts {
			first, last = min(first, st), max(last, st+s.Ns[i])
		}
		if len(ep.RequestStarts) == 0 {
			// A sketched summary keeps no start per request.
			first, last = e.first, e.last
		}
		res.StartUs, res.EndUs = us(first), us(last)
	}
	lr.SlowRequests = res
	if maxOver < n {
		i := n - maxOver - 1
		e.measured(&lr, s.Ns[i], s.Row[i])
	}
	e.verdict(&lr, overCount > maxOver)
	if lr.Status == StatusOver {
		lr.Culprits = e.culprits(x, func(d int64) bool { return d > thr })
	}
	return lr
}

// errorRate holds one endpoint's n requests or one hop's n calls, of which
// failed, to er: over the export's whole time span, and over each
// burn-rate window it spans (in counts them in a window). It is over when
// the errors burn the budget faster than allowed over the whole export
// (burn rate above 1), or when a window alerts. The exemplar is the last
// failure's trace.
func (e *evaluator) errorRate(er *ErrorRate, n int, failed analyze.Sample, in func(from, to int64) (int, int), match, pattern string) LineResult {
	errs := failed.Len()
	lr := LineResult{Name: er.Name, Title: title(er.Name, match, pattern), Kind: KindErrors, On: "errors", Match: match,
		Line: er.Line, Samples: n, Culprits: []Culprit{}}
	res := &ErrorRateResult{Allowed: er.Allowed, Objective: roundTo(1-er.Allowed, 9), Total: n, Errors: errs,
		StartUs: us(e.first), EndUs: us(e.last), Windows: []BurnWindow{}, WindowsNotEvaluated: []string{}}
	burn := func(n, errs int) float64 {
		if n == 0 {
			return 0
		}
		return roundTo(float64(errs)/float64(n)/er.Allowed, 3)
	}
	if n > 0 {
		res.Observed = float64(errs) / float64(n)
		res.BurnRate = burn(n, errs)
	}
	alert := false
	for _, w := range burnWindows {
		if e.last-e.first < int64(w.long) || !e.r.PerRequest() {
			res.WindowsNotEvaluated = append(res.WindowsNotEvaluated, w.longText)
			continue
		}
		bw := BurnWindow{Long: w.longText, Short: w.shortText, Factor: w.factor, Severity: w.severity}
		bw.Total, bw.Errors = in(e.last-int64(w.long), e.last)
		bw.ShortTotal, bw.ShortErrors = in(e.last-int64(w.short), e.last)
		bw.BurnRate, bw.ShortBurnRate = burn(bw.Total, bw.Errors), burn(bw.ShortTotal, bw.ShortErrors)
		bw.Alert = bw.BurnRate > w.factor && bw.ShortBurnRate > w.factor
		alert = alert || bw.Alert
		res.Windows = append(res.Windows, bw)
	}
	lr.Errors = res
	if errs > 0 {
		lr.Exemplar = e.r.TraceRows[failed.Row[errs-1]].ID.String()
	}
	// errs/n > allowed, without rounding the ratio.
	e.verdict(&lr, n > 0 && (float64(errs) > er.Allowed*float64(n)+1e-9 || alert))
	return lr
}

// noRowsNote says why a figure per request was not checked.
const noRowsNote = "needs every request's row, which the summary dropped (too many traces): not checked; check the traces, or summaries of fewer traces"

// rows lists the trace rows whose primary root is endpoint x.
func (e *evaluator) rows(x int) []int32 {
	if e.rowsOf == nil {
		e.rowsOf = make([][]int32, len(e.r.Endpoints))
		for i, row := range e.r.TraceRows {
			if row.Endpoint >= 0 {
				e.rowsOf[row.Endpoint] = append(e.rowsOf[row.Endpoint], int32(i))
			}
		}
	}
	return e.rowsOf[x]
}

// culprits ranks the hops by mean critical-path time over endpoint x's
// slow requests (those whose duration satisfies slow).
func (e *evaluator) culprits(x int, slow func(durationNs int64) bool) []Culprit {
	if !e.r.PerRequest() {
		return []Culprit{}
	}
	rows := e.rows(x)
	tail, all := make([]int64, len(e.r.Hops)), make([]int64, len(e.r.Hops))
	var nTail int
	var tailDur int64
	for _, ri := range rows {
		row := &e.r.TraceRows[ri]
		isTail := slow(row.DurationNs)
		if isTail {
			nTail++
			tailDur += row.DurationNs
		}
		for _, th := range row.Hops {
			all[th.Hop] += th.CriticalPathNs
			if isTail {
				tail[th.Hop] += th.CriticalPathNs
			}
		}
	}
	out := []Culprit{}
	if nTail == 0 {
		return out
	}
	order := make([]int, 0, len(tail))
	for h, v := range tail {
		if v > 0 {
			order = append(order, h)
		}
	}
	// Ties in report order (from, to, operation).
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(tail[b], tail[a]) })
	for _, h := range order[:min(3, len(order))] {
		hp := &e.r.Hops[h]
		mean := tail[h] / int64(nTail)
		out = append(out, Culprit{From: hp.From, To: hp.To, Operation: hp.Operation, Statement: hp.Statement,
			CriticalPathMeanUs: us(mean), BaselineMeanUs: us(all[h] / int64(len(rows))),
			Share: roundTo(float64(tail[h])/float64(tailDur), 3), Requests: nTail})
	}
	return out
}

func (e *evaluator) add(lr LineResult) { e.res.Lines = append(e.res.Lines, lr) }

// title is name, with the concrete match added when the pattern is not
// already the whole of it.
func title(name, match, pattern string) string {
	if match == pattern {
		return name
	}
	return name + " [" + match + "]"
}

func endpointKey(service, op string) string { return service + ": " + op }

// hopKey is a hop's display text; the statement, part of its identity,
// keeps results of one operation's several queries apart.
func hopKey(from, to, op, stmt string) string {
	s := from + " → " + to + ": " + op
	if stmt != "" {
		s += " [" + stmt + "]"
	}
	return s
}

// matcherText shows a matcher as in the file, e.g. {to: "mysql"}.
func matcherText(m Matcher, keys []string) string {
	vals := map[string]string{"service": m.Service, "operation": m.Operation, "from": m.From, "to": m.To}
	var parts []string
	for _, k := range keys {
		if v := vals[k]; v != "" {
			parts = append(parts, k+": "+quote(v))
		}
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

func us(ns int64) int64 { return ns / 1000 }

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprint(n) + " " + word + "s"
}

func roundTo(x float64, decimals int) float64 {
	p := math.Pow(10, float64(decimals))
	return math.Round(x*p) / p
}
