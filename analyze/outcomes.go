package analyze

import (
	"slices"
	"sort"

	"hopbudget/tracefmt"
)

// What error-rate budgets (SLOs) need: for every request of an endpoint
// and every call of a hop, when it ended and whether it failed, so that a
// budget can count errors over the whole export and over windows ending at
// its last timestamp. None of it is in the JSON.

// Outcomes are the end times (Unix ns) of an endpoint's requests or a
// hop's calls, all of them and the failed ones (see SLOError), each
// ascending.
type Outcomes struct {
	EndNs      []int64
	ErrorEndNs []int64
}

// Total is the number of requests or calls, Errors the failed ones.
func (o Outcomes) Total() int  { return len(o.EndNs) }
func (o Outcomes) Errors() int { return len(o.ErrorEndNs) }

// In counts the requests or calls, and the failed ones, that ended in
// (from, to].
func (o Outcomes) In(from, to int64) (n, errs int) {
	count := func(xs []int64) int {
		return sort.Search(len(xs), func(i int) bool { return xs[i] > to }) -
			sort.Search(len(xs), func(i int) bool { return xs[i] > from })
	}
	return count(o.EndNs), count(o.ErrorEndNs)
}

// SLOError says whether a span counts against an error-rate budget: an
// HTTP status of 500 or more (the callee failed), or ERROR status without
// an HTTP 4xx. OpenTelemetry marks a CLIENT span ERROR for a 4xx response
// too, but a refused request (404, 429) is the caller's problem, not the
// callee's unavailability; ERROR without any HTTP status is a transport
// error (connection refused, timeout) or a failed non-HTTP call (gRPC,
// database), and counts.
func SLOError(s *tracefmt.Span) bool {
	var code int32
	if s.Attrs != nil {
		code = s.Attrs.HTTPStatus
	}
	if code >= 500 {
		return true
	}
	return s.Status == tracefmt.StatusError && !(code >= 400 && code < 500)
}

// outcomes collects Outcomes during analysis.
type outcomes struct{ ends, errs []int64 }

func (o *outcomes) add(end int64, failed bool) {
	o.ends = push(o.ends, end)
	if failed {
		o.errs = push(o.errs, end)
	}
}

func (o *outcomes) merge(b *outcomes) {
	o.ends = append(o.ends, b.ends...)
	o.errs = append(o.errs, b.errs...)
}

// result sorts the times: the Report must not depend on which worker saw
// which trace.
func (o *outcomes) result() Outcomes {
	slices.Sort(o.ends)
	slices.Sort(o.errs)
	return Outcomes{EndNs: o.ends, ErrorEndNs: o.errs}
}

// TimeRange is the span of time the analysed traces cover, in Unix ns: the
// earliest start of a primary root and the latest end of a request, call
// or primary root. Both are 0 without traces.
func (r *Report) TimeRange() (first, last int64) {
	seen := false
	see := func(s, e int64) {
		if !seen {
			first, last, seen = s, e, true
			return
		}
		first, last = min(first, s), max(last, e)
	}
	for i := range r.TraceRows {
		row := &r.TraceRows[i]
		see(row.StartNs, row.StartNs+row.DurationNs)
	}
	for i := range r.Endpoints {
		if o := r.Endpoints[i].Outcomes.EndNs; len(o) > 0 {
			see(o[0], o[len(o)-1])
		}
	}
	for i := range r.Hops {
		if o := r.Hops[i].Outcomes.EndNs; len(o) > 0 {
			see(o[0], o[len(o)-1])
		}
	}
	return first, last
}
