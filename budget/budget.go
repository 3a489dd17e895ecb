package budget

import (
	"time"

	"hopbudget/grammar"
)

// Budget is a parsed, validated budget file. Lines keep the file's order.
type Budget struct {
	Version   int
	Endpoints []Endpoint
	Hops      []Hop
	Layers    []Layer
	FanIn     []FanIn
	File      string // as given to Parse or Load; used in messages
	// Notes are what a valid file should still change, such as a
	// deprecated key, with its position; Evaluate repeats them as warnings.
	Notes []Error
}

// Target is one limit of a budget line: the Percentile-th percentile of the
// line's measured values must not exceed Limit. Percentile is 50, 90, 95,
// 99, 99.9, or 100 for max. A line's targets are kept in that order,
// whatever the order in the file.
type Target struct {
	Percentile float64
	Limit      time.Duration
	// Name identifies the target in reports, e.g.
	// "hop frontend → driver p99 (latency)": unique in the budget and free
	// of the limit, so it stays stable while limits are tuned.
	Name string
	Line int // of the target's key in the file
}

// Key is the target's key in the file: "p50" … "p999", or "max".
func (t Target) Key() string { return percentileKey(t.Percentile) }

// Measure is what a hop or layer line measures (its on: key).
type Measure string

const (
	// Latency is the hop's own latency: the duration of the caller's
	// client span.
	Latency Measure = "latency"
	// Network is the hop's network (and queueing) gap: the client span's
	// duration minus the server span's.
	Network Measure = "network"
	// CriticalPath is the time the hop spends on its request's critical
	// path.
	CriticalPath Measure = "critical-path"
)

var measures = []string{string(Latency), string(Network), string(CriticalPath)}

// Endpoint sets targets on requests: root spans, by their duration.
type Endpoint struct {
	Name         string // display name: name: from the file, else derived
	Match        Matcher
	Targets      []Target
	SlowRequests *SlowRequests // nil when the line has none
	Errors       *ErrorRate    // nil when the line has none
	Line         int           // of the line's first key
}

// SlowRequests allows a fraction of an endpoint's requests over a latency
// threshold (the file's slowRequests:, formerly errorBudget:). It is about
// latency only: failed requests are ErrorRate's.
type SlowRequests struct {
	Threshold time.Duration
	Allowed   float64 // a fraction in (0, 1]: 5% is 0.05
	Name      string  // like Target.Name, e.g. "endpoint frontend: GET / slow requests"
	Line      int
}

// ErrorRate is an error-rate objective (an SLO): at most Allowed of the
// requests or calls may fail (see analyze.SLOError). The file's errors:
// {rate: 0.1%} or, the same, {objective: 99.9%}.
type ErrorRate struct {
	Allowed float64 // a fraction in (0, 1): 0.1% is 0.001
	Name    string  // e.g. "endpoint frontend: GET / errors", "hop a → b errors"
	Line    int
}

// Hop sets targets on calls from one service to another.
type Hop struct {
	Name    string
	Match   Matcher // From, To, Operation
	On      Measure
	Targets []Target
	Errors  *ErrorRate // nil when the line has none
	Line    int
}

// Layer is a named group of hops under one endpoint, with one allowance:
// per request, the sum of On over the matched calls.
type Layer struct {
	Name      string // display name, e.g. "layer data under frontend: POST /checkout (critical-path)"
	LayerName string // the layer's name: as written in the file, e.g. "data"
	Endpoint  Matcher
	Match     []Matcher // a call is in the layer when any matches it
	On        Measure
	Targets   []Target
	Line      int
}

// MatchHop reports whether a call belongs to the layer.
func (l Layer) MatchHop(from, to, op, stmt string) bool {
	for _, m := range l.Match {
		if m.MatchHop(from, to, op, stmt) {
			return true
		}
	}
	return false
}

// FanIn sets targets on the fan-in wait of a parent operation.
type FanIn struct {
	Name    string
	Match   Matcher // Service, Operation of the parent span
	Targets []Target
	Line    int
}

// Matcher selects spans by glob (see grammar.CheckGlob). An empty field matches
// anything; parsed matchers always have at least one field set.
type Matcher struct {
	Service, Operation string // endpoints, fan-in, a layer's endpoint
	From, To           string // hops; Operation is the callee's operation
	// Statement (hops): the calls' normalised database statement, so that
	// queries sharing a generic span name can be budgeted one by one.
	Statement string
}

// MatchEndpoint reports whether a span of service and operation matches
// (Service and Operation; From and To are not consulted).
func (m Matcher) MatchEndpoint(service, op string) bool {
	return globOrAny(m.Service, service) && globOrAny(m.Operation, op)
}

// MatchHop reports whether a call from → to with the callee operation op
// and statement stmt matches (From, To, Operation and Statement; Service
// is not consulted).
func (m Matcher) MatchHop(from, to, op, stmt string) bool {
	return globOrAny(m.From, from) && globOrAny(m.To, to) && globOrAny(m.Operation, op) && globOrAny(m.Statement, stmt)
}

func globOrAny(pattern, name string) bool {
	return pattern == "" || grammar.MatchGlob(pattern, name)
}

// endpointText shows an endpoint matcher as "frontend: POST /checkout",
// "*" standing for an empty field and the operation left out when empty.
func endpointText(m Matcher) string {
	s := orStar(m.Service)
	if m.Operation != "" {
		s += ": " + m.Operation
	}
	return s
}

// hopText shows a hop matcher as "frontend → postgresql: INSERT orders".
func hopText(m Matcher) string {
	s := orStar(m.From) + " → " + orStar(m.To)
	if m.Operation != "" {
		s += ": " + m.Operation
	}
	if m.Statement != "" {
		s += " [" + m.Statement + "]"
	}
	return s
}

func orStar(s string) string {
	if s == "" {
		return "*"
	}
	return s
}
