package analyze

import (
	"hopbudget/tracefmt"
)

// What error-rate budgets (SLOs) need: for an endpoint's requests and a
// hop's calls, which failed and when, so that a budget can count errors
// over the whole export and over windows ending at its last timestamp.
// Only the failures are kept per item (they are few); the times of all
// requests and calls come from samples the Report holds anyway. None of it
// is in the JSON.

// Outcomes are an endpoint's failed requests or a hop's failed calls (see
// SLOError): their end times (Unix ns) ascending, each with its trace row.
type Outcomes struct {
	Errors Sample
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

// EndpointOutcomesIn counts endpoint x's requests, and the failed ones,
// that ended in (from, to], by each request's own end.
func (r *Report) EndpointOutcomesIn(x int, from, to int64) (n, errs int) {
	e := &r.Endpoints[x]
	if len(e.RequestStarts) != e.DurationSample.Len() {
		// A sketched summary has no start per value: the rows have them.
		for i := range r.TraceRows {
			t := &r.TraceRows[i]
			if end := t.StartNs + t.DurationNs; int(t.Endpoint) == x && end > from && end <= to {
				n++
			}
		}
	}
	for i, st := range e.RequestStarts {
		if end := st + e.DurationSample.Ns[i]; end > from && end <= to {
			n++
		}
	}
	for _, end := range e.Outcomes.Errors.Ns {
		if end > from && end <= to {
			errs++
		}
	}
	return n, errs
}

// HopOutcomesIn counts hop x's calls, and the failed ones, in the traces
// whose primary root ended in (from, to]: a call is dated by its trace,
// which is exact enough for windows of minutes to days, and keeps a
// window's errors among its calls.
func (r *Report) HopOutcomesIn(x int, from, to int64) (n, errs int) {
	h := &r.Hops[x]
	in := func(row int32) bool {
		t := &r.TraceRows[row]
		end := t.StartNs + t.DurationNs
		return end > from && end <= to
	}
	if h.Approximate {
		// A sketched sample's rows are its buckets' exemplars: count the
		// calls from every trace's row instead.
		for row := range r.TraceRows {
			if !in(int32(row)) {
				continue
			}
			for _, th := range r.TraceRows[row].Hops {
				if int(th.Hop) == x {
					n += int(th.Calls)
				}
			}
		}
	} else {
		for _, row := range h.LatencySample.Row {
			if in(row) {
				n++
			}
		}
	}
	for _, row := range h.Outcomes.Errors.Row {
		if in(row) {
			errs++
		}
	}
	return n, errs
}

// PerRequest says whether the Report has every request's row (figures per
// request: budget layers, culprits, burn-rate windows). Only a Report rebuilt
// from a summary that dropped its rows has not.
func (r *Report) PerRequest() bool { return r.Summary == nil || r.Summary.TraceRows }

// TimeRange is the span of time the analysed traces cover, in Unix ns: the
// earliest start and the latest end of a primary root or a request. Both
// are 0 without traces.
func (r *Report) TimeRange() (first, last int64) {
	if r.Summary != nil {
		return r.Summary.StartNs, r.Summary.EndNs
	}
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
		e := &r.Endpoints[i]
		for j, st := range e.RequestStarts {
			see(st, st+e.DurationSample.Ns[j])
		}
	}
	return first, last
}
