// Package budget reads hopbudget's latency budget files: YAML that writes
// down a latency target for each endpoint and a slice of it for each hop,
// layer and fan-in, for `hopbudget check` (and `report --budget`, `record
// --budget`) to hold traces to. Parsing and validating the file (Load,
// Parse) needs only the globs of package grammar; Evaluate holds an
// analyze.Report to it (see Checking), so the package imports analyze and
// grammar and nothing else of hopbudget.
//
// # Example
//
//	version: 1
//	endpoints:
//	  - match: {service: frontend, operation: "HTTP GET /dispatch"}
//	    p99: 200ms
//	    p95: 120ms
//	    slowRequests: {threshold: 120ms, allowed: 5%}
//	    errors: {rate: 0.1%}
//	hops:
//	  - match: {from: frontend, to: driver}
//	    p99: 40ms
//	    errors: {objective: 99.5%}
//	  - match: {to: mysql}
//	    on: critical-path
//	    p95: 40ms
//	  - match: {to: "*"}
//	    on: network
//	    p99: 10ms
//
// # Schema
//
// Every key, at a glance; the sections below say what each means.
//
//	version: 1                                        # required
//	endpoints:
//	  - name: TEXT                                    # optional, every line
//	    match: {service: GLOB, operation: GLOB}       # required, every line
//	    p50 | p90 | p95 | p99 | p999 | max: DURATION  # targets: one or more of these three kinds
//	    errors: {rate: PERCENT} | {objective: PERCENT}          # failed requests
//	    slowRequests: {threshold: DURATION, allowed: PERCENT}   # requests slower than threshold
//	hops:
//	  - name: TEXT
//	    match: {from: GLOB, to: GLOB, operation: GLOB, statement: GLOB}
//	    on: latency | network | critical-path         # default latency
//	    p50 … max: DURATION
//	    errors: {rate: PERCENT} | {objective: PERCENT}          # failed calls
//	layers:
//	  - name: TEXT                                    # required for layers
//	    endpoint: {service: GLOB, operation: GLOB}    # required
//	    match: [{from: GLOB, to: GLOB, operation: GLOB, statement: GLOB}, …]
//	    on: latency | network | critical-path         # default critical-path
//	    p50 … max: DURATION
//	fanIn:
//	  - name: TEXT
//	    match: {service: GLOB, operation: GLOB}
//	    p50 … max: DURATION
//
// # The file (version 1)
//
// One YAML document holding one mapping:
//
//	version     required, the number 1
//	endpoints   list of endpoint lines
//	hops        list of hop lines
//	layers      list of layer lines
//	fanIn       list of fan-in lines
//
// Each section may be left out or empty, but the file needs at least one
// line. Keys are case-sensitive; an unknown or repeated key is an error
// everywhere, so a typo cannot silently disable a budget.
//
// # Targets
//
// Every line sets one or more targets, each a DURATION that a percentile of
// the line's measured values must not exceed:
//
//	p50 p90 p95 p99 p999   the 50th, 90th, 95th, 99th, 99.9th percentile
//	max                    the largest value
//
// Percentiles are nearest-rank over the samples in the traces checked, as
// `hopbudget analyze` computes them. Other percentiles are not supported
// (p100 is written max). Whatever the order in the file, a line's targets
// are kept in the order above.
//
// # endpoints
//
// Targets on requests: root spans, measured by their duration.
//
//	name          optional display name (see Names)
//	match         required: {service: GLOB, operation: GLOB}, the root span's service and operation
//	p50 … max     targets on the request duration
//	errors        optional: {rate: PERCENT} or {objective: PERCENT} (see Error rates)
//	slowRequests  optional: {threshold: DURATION, allowed: PERCENT}
//
// A line needs at least one target, errors or slowRequests. slowRequests
// lets at most allowed of the matched requests take longer than threshold;
// both keys are required. It is about latency only (failed requests are
// errors'), and was called errorBudget: that key still reads as the same,
// with a deprecation note (Budget.Notes), and a line may not set both.
// `hopbudget check` reports its burn rate, the observed share of requests
// over threshold divided by allowed, over the traces' own time range:
// above 1 the budget burns faster than it may.
//
// # Error rates
//
// errors: {rate: 0.1%} on an endpoint or hop line is an error-rate
// objective (an SLO): at most that share of the requests or calls may
// fail; {objective: 99.9%} says the same (one of the two keys; 100% is
// not a rate nor an objective). A failure is what analyze.SLOError says:
// an HTTP status of 500 or more, or ERROR status without an HTTP 4xx
// (transport errors, failed gRPC or database calls). The burn rate is the
// observed error ratio divided by the allowed one, over the export's time
// span; beside it, the multi-window view Sloth and Pyrra alert with: the
// last 1h (confirmed by the last 5m) and 6h (30m) alert above burn rates
// 14.4 and 6, the last 3d (6h) above 1, each window ending at the export's
// last timestamp and evaluated only when the export spans it. The line is
// over when the burn rate over the export exceeds 1 or a window alerts. On
// a hop line, errors count every matched call whatever on: says.
//
// # hops
//
// Targets on calls from one service to another.
//
//	name        optional display name
//	match       required: {from: GLOB, to: GLOB, operation: GLOB, statement: GLOB}: the
//	            calling service, the callee (its service, else peer.service, db.system or
//	            server.address, as `hopbudget analyze` names it), the callee's operation,
//	            and for database calls the normalised statement (literals as ?), which
//	            tells apart queries sharing a generic span name
//	on          what is measured, default latency:
//	              latency        the call's latency: the caller's client span duration
//	              network        its network and queueing gap: client span duration
//	                             minus server span duration (calls with a server span only)
//	              critical-path  the time the hop spends on its request's critical path,
//	                             summed per request
//	p50 … max   targets on that measure
//	errors      optional: an error rate of the calls (see Error rates)
//
// # layers
//
// A layer is a named slice of an endpoint's time, such as the classic
// 100 ms split edge 10 / gateway 5 / service logic 30 / data 40 /
// network jitter 10, given as a group of hop matchers with one allowance.
//
//	name        required: the layer's name, e.g. data; unique under its endpoint
//	endpoint    required: {service: GLOB, operation: GLOB}, the requests the layer is a slice of
//	match       required: a non-empty list of hop matchers {from, to, operation, statement};
//	            a call is in the layer when any of them matches it
//	on          latency, network or critical-path, as for hops; default critical-path,
//	            the only measure whose slices add up to the request's duration
//	p50 … max   targets on the layer's time per request
//
// The layer's time in a request is the sum of the measure over the layer's
// calls in that request; a request without such calls counts as zero.
//
// Layer allowances must fit their endpoint: for every endpoints line whose
// match is identical (same service and operation strings) to a layer's
// endpoint, and every percentile at which that line has a target, the
// layers' targets at that percentile must add up to no more than it.
// Otherwise the file is invalid, and the error shows the sum:
//
//	budget.yaml:5:5: endpoints[0].p99: layers under frontend "HTTP GET /dispatch" add up to
//	215ms at p99, over the endpoint's 200ms target: edge 10ms + gateway 5ms + …
//
// Layers with no identical endpoints line are not checked this way.
//
// # fanIn
//
// A ceiling on fan-in wait: for a span whose synchronous children overlap
// in time (a parallel group), the wait is the last child's end minus the
// first child's end, the time the parent waits on its stragglers.
//
//	name        optional display name
//	match       required: {service: GLOB, operation: GLOB}, the parent span
//	p50 … max   targets on the wait, one sample per parallel group
//
// # Globs
//
// In every matcher an absent or empty field matches anything, but a
// matcher must set at least one field; "*" matches anything explicitly. A
// line whose match covers several things (several endpoints, hops or
// parent operations) holds each of them to its targets separately, while a
// layer pools its calls as described above. Values are globs matched
// against the whole name, case-sensitively:
//
//	pattern  matches
//	*        any run of characters, including none and including '/'
//	?        any one character
//	[a-z0]   one character from the class; [^a-z] one character not in it
//	\c       the character c itself (for a literal *, ?, [ or \)
//
// This is path.Match with '/' as an ordinary character, since operation
// names such as "HTTP GET /dispatch" contain slashes (grammar/glob.go has
// the grammar and the matcher, shared with --endpoint and --what-if). In
// YAML, quote values that start with '*' (which otherwise starts an
// alias), and write backslashes in single quotes ('GET /items\[0\]'),
// where YAML leaves them alone.
//
// # Values
//
// A DURATION is a positive number with a unit, or several such pairs:
//
//	duration = number unit { number unit }
//	number   = digits [ "." [ digits ] ] | "." digits
//	unit     = "ns" | "us" | "µs" | "ms" | "s" | "m" | "h"   (µ: U+00B5 or U+03BC)
//
// e.g. 200ms, 0.2s, 1.5s, 1500us, 1500µs, 250000ns, 2m. A bare number
// (40) is an error, never milliseconds by default; so are zero, a sign and
// a space before the unit.
//
// A PERCENT is a number greater than 0 and at most 100 followed by %, e.g.
// 5% or 0.1%. The % is required, so neither 0.05 nor 5 can be misread.
// It is kept as a fraction (5% is 0.05).
//
// # Names
//
// Each line and target has a display name for reports. A line's is its
// name: value when given, and a target's is that plus the target key
// ("checkout p99", "checkout slow requests", "checkout errors"). Otherwise
// both are derived from the line, with "*" for an empty matcher field:
//
//	endpoint frontend: HTTP GET /dispatch p99
//	endpoint frontend: HTTP GET /dispatch slow requests
//	endpoint frontend: HTTP GET /dispatch errors
//	hop frontend → driver errors
//	hop frontend → driver p99 (latency)
//	hop * → postgresql: INSERT orders p95 (critical-path)
//	layer data under frontend: POST /checkout p95 (critical-path)
//	fan-in order-service: POST /orders p99
//
// A layer's display name is always derived, from its name and endpoint.
// Names hold no limits, so they stay stable while limits are tuned, and
// they must be unique across the file: two lines setting the same
// percentile on the same thing is an error.
//
// # Checking
//
// Evaluate gives one result per target and matched thing, in file order:
// the target's percentile of the matched values (nearest rank, in
// nanoseconds), its headroom (target − actual; negative is the overspend)
// and the trace holding that value. A result with fewer samples than
// EvalOptions.MinSamples (default 20) is "no data", and a line whose
// matcher matches nothing gives one "no-match" result per target: both
// fail the check (nothing was checked), unless EvalOptions.AllowNoData.
// Results carry the Report row they hold by its structured key
// (analyze.EndpointKey, analyze.HopKey). Samples:
//
//	endpoint      one per request (true root span) of the endpoint
//	hop latency   one per call; network: one per call with a server span;
//	              critical-path: one per request containing the hop
//	layer         one per request of the endpoint whose primary root it is
//	fanIn         one per parallel group
//
// Of the hops a line's match covers, those without a single value of its
// measure (no network gap without a server span) are left out, unless
// none has one.
//
// A slow-request budget with n requests lets ⌊allowed·n⌋ of them exceed
// the threshold; its actual value is the request of rank n − ⌊allowed·n⌋, the
// (100 − allowed)th percentile, within the threshold exactly when the
// budget holds. An endpoint target or slow-request budget that is over lists its
// culprits: the hops with the most mean critical-path time in the requests
// at or above the actual value (over the threshold), next to their mean
// over all the endpoint's requests.
//
// A layer's hop matcher that matches no call under its endpoint is a
// Warning, as is a deprecated key.
//
// # Errors
//
// Every problem is reported with its position and what was expected, and
// all problems are reported at once (up to MaxErrors), e.g.
//
//	budget.yaml:12:10: hops[1].p99: bad duration "40": add a unit, e.g. 40ms
package budget
