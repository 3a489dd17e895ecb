package analyze

import (
	"strings"
	"testing"
	"time"

	"hopbudget/tracefmt"
)

// call is a CLIENT span (µs) to callee `to`, named op.
type call struct {
	to, op string
	s, e   int64
}

// callTrace is an api GET /x request [0, end] making calls, in that order,
// directly under the root.
func callTrace(id uint64, end int64, calls ...call) tracefmt.Trace {
	spans := []sp{{id: 1, start: 0, end: end, svc: "api", op: "GET /x", kind: server}}
	for i, c := range calls {
		spans = append(spans, sp{id: uint64(i + 2), parent: 1, start: c.s, end: c.e, svc: "api", op: c.op,
			kind: client, attrs: tracefmt.Attrs{PeerService: c.to}})
	}
	return mkTrace(id, spans...)
}

func TestSuggestEvidence(t *testing.T) {
	const n = 20
	a := func(s, e int64) call { return call{"users", "GetUser", s, e} }
	b := func(s, e int64) call { return call{"orders", "ListOrders", s, e} }
	tests := []struct {
		name      string
		trace     func(i int64) tracefmt.Trace
		dependent bool          // Options.SuggestDependent
		tolerance int64         // ns; 0 = default
		clock     time.Duration // every service's clock granularity; 0 = detected
		// want (count 0: nothing listed)
		count              int
		evidence           string
		serial, overlap    int
		calls              string // "to op, to op"
		savingP50, after   int64  // µs; after = endpoint p99 after
		onPath             float64
		why                string
		runMax             int
		traces             int // 0: all n
		immediateFraction  float64
		orderFirstFraction float64
	}{
		{
			name: "always serial, fixed order, immediate start",
			// the later call starts 50 µs after the earlier ends
			trace:     func(i int64) tracefmt.Trace { return callTrace(uint64(i+1), 22000+i, a(1000, 11000), b(11050, 21050)) },
			dependent: true, count: 1, evidence: EvidencePossiblyDependent, serial: n, calls: "users GetUser, orders ListOrders",
			savingP50: 50 + 10000, after: 22000 + 19 - 10050, onPath: 1, why: "starts right after", immediateFraction: 1, orderFirstFraction: 1,
		},
		{
			name:  "possibly dependent is not listed by default",
			trace: func(i int64) tracefmt.Trace { return callTrace(uint64(i+1), 22000, a(1000, 11000), b(11050, 21000)) },
			count: 0,
		},
		{
			name:      "serial, fixed order, with gaps",
			trace:     func(i int64) tracefmt.Trace { return callTrace(uint64(i+1), 25000, a(1000, 11000), b(14000, 24000)) },
			dependent: true, count: 1, evidence: EvidenceLikelyIndependent, serial: n, calls: "users GetUser, orders ListOrders",
			savingP50: 3000 + 10000, after: 25000 - 13000, onPath: 1, why: "3ms (median) after", orderFirstFraction: 1,
		},
		{
			name:  "a fixed order is no proof of independence: not listed by default",
			trace: func(i int64) tracefmt.Trace { return callTrace(uint64(i+1), 25000, a(1000, 11000), b(14000, 24000)) },
			count: 0,
		},
		{
			name: "sometimes reversed",
			trace: func(i int64) tracefmt.Trace {
				if i%4 == 0 {
					return callTrace(uint64(i+1), 25000, b(1000, 11000), a(11100, 21100))
				}
				return callTrace(uint64(i+1), 25000, a(1000, 11000), b(11100, 21100))
			},
			count: 1, evidence: EvidenceIndependent, serial: n, calls: "users GetUser, orders ListOrders",
			savingP50: 10100, after: 25000 - 10100, onPath: 1, why: "both orders", immediateFraction: 1, orderFirstFraction: 0.75,
		},
		{
			name: "sometimes overlapping",
			trace: func(i int64) tracefmt.Trace {
				if i%2 == 0 {
					return callTrace(uint64(i+1), 25000, a(1000, 11000), b(6000, 16000))
				}
				return callTrace(uint64(i+1), 25000, a(1000, 11000), b(14000, 24000))
			},
			count: 1, evidence: EvidenceIndependent, serial: n / 2, overlap: n / 2, calls: "users GetUser, orders ListOrders",
			// p99 over all the endpoint's traces: the overlapping half keeps it
			savingP50: 13000, after: 25000, onPath: 1, why: "overlapped 10 times", orderFirstFraction: 1, traces: n / 2,
		},
		{
			name: "0.5 ms apparent overlap is serial",
			// ms-clock starts: b seems to start 0.5 ms before a ends; the
			// granularity pass moves it to a's end
			trace:     func(i int64) tracefmt.Trace { return callTrace(uint64(i+1), 22000, a(1000, 11000), b(10500, 20500)) },
			clock:     time.Millisecond,
			dependent: true, count: 1, evidence: EvidencePossiblyDependent, serial: n, calls: "users GetUser, orders ListOrders",
			// e2 − max(e1, s1 + d2) = 21000 − 11000
			savingP50: 10000, after: 22000 - 10000, onPath: 1, why: "right after", immediateFraction: 1, orderFirstFraction: 1,
		},
		{
			name:      "0.5 ms overlap without tolerance overlaps",
			trace:     func(i int64) tracefmt.Trace { return callTrace(uint64(i+1), 22000, a(1000, 11000), b(10500, 20500)) },
			dependent: true, tolerance: -1, count: 0,
		},
		{
			name: "short calls overlapping by most of their length are parallel",
			trace: func(i int64) tracefmt.Trace {
				return callTrace(uint64(i+1), 2000, a(1000, 1300), b(1010, 1310))
			},
			dependent: true, count: 0,
		},
		{
			name: "N+1 repeated calls",
			trace: func(i int64) tracefmt.Trace {
				var cs []call
				for k := range int64(5) {
					cs = append(cs, call{"postgresql", "SELECT items", 1000 + k*2010, 1000 + k*2010 + 2000})
				}
				return callTrace(uint64(i+1), 12000, cs...)
			},
			count: 1, evidence: EvidenceBatching, serial: n, calls: "postgresql SELECT items",
			// the run took 5·2000 + 4·10 µs; together it takes 2000
			savingP50: 8040, after: 12000 - 8040, onPath: 1, why: "up to 5 times in a row", runMax: 5, immediateFraction: 1,
		},
		{
			name: "off the critical path",
			// the pair runs under an INTERNAL span while a longer sibling call
			// holds the request
			trace: func(i int64) tracefmt.Trace {
				return mkTrace(uint64(i+1),
					sp{id: 1, start: 0, end: 50000, svc: "api", op: "GET /x", kind: server},
					sp{id: 2, parent: 1, start: 500, end: 49000, svc: "api", op: "Slow", kind: client, attrs: tracefmt.Attrs{PeerService: "slow"}},
					sp{id: 3, parent: 1, start: 600, end: 30000, svc: "api", op: "load"},
					sp{id: 4, parent: 3, start: 1000, end: 11000, svc: "api", op: "GetUser", kind: client, attrs: tracefmt.Attrs{PeerService: "users"}},
					sp{id: 5, parent: 3, start: 14000, end: 24000, svc: "api", op: "ListOrders", kind: client, attrs: tracefmt.Attrs{PeerService: "orders"}},
				)
			},
			dependent: true, count: 1, evidence: EvidenceLikelyIndependent, serial: n, calls: "users GetUser, orders ListOrders",
			savingP50: 0, after: 50000, onPath: 0, why: "never on the critical path", orderFirstFraction: 1,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var traces []tracefmt.Trace
			for i := range int64(n) {
				traces = append(traces, tc.trace(i))
			}
			o := suggestOpts()
			o.SuggestDependent = tc.dependent
			o.SerialTolerance = 0
			if tc.tolerance != 0 {
				o.SerialTolerance = -1
			}
			if tc.clock != 0 {
				o.ClockGranularity = map[string]time.Duration{ClockAll: tc.clock}
			}
			r := mustAnalyze(traces, o)
			if len(r.Parallelizable) != tc.count {
				t.Fatalf("%d candidates, want %d: %+v", len(r.Parallelizable), tc.count, r.Parallelizable)
			}
			if tc.count == 0 {
				return
			}
			c := r.Parallelizable[0]
			var calls []string
			for _, x := range c.Calls {
				calls = append(calls, x.To+" "+x.Operation)
			}
			first := 0.0
			if len(c.OrderFractions) > 0 {
				first = c.OrderFractions[0]
			}
			if tc.traces == 0 {
				tc.traces = n
			}
			if c.Evidence != tc.evidence || c.Serial != tc.serial || c.Overlapping != tc.overlap ||
				strings.Join(calls, ", ") != tc.calls || c.SavingP50Us != tc.savingP50 || c.P99AfterUs != tc.after ||
				c.OnPathFraction != tc.onPath || !strings.Contains(c.Why, tc.why) || c.RunLengthMax != tc.runMax ||
				c.ImmediateFraction != tc.immediateFraction || first != tc.orderFirstFraction || c.Traces != tc.traces {
				t.Errorf("got %+v", c)
			}
		})
	}
}

// Pairs are found in a run of serial calls, never across a fan-out, and
// a run of repeated calls is one batch.
func TestSiblingsStages(t *testing.T) {
	tr := callTrace(1, 100000,
		call{"cache", "GET", 1000, 2000},
		call{"users", "GetUser", 2010, 12000},
		call{"inv", "Reserve", 15000, 30000}, // fan-out
		call{"fraud", "Score", 15010, 25000},
		call{"db", "INSERT", 30010, 35000},
		call{"db", "SELECT", 38000, 39000},
		call{"db", "SELECT", 39000, 40000},
		call{"db", "SELECT", 40010, 41000},
		call{"mail", "Send", 45000, 50000},
	)
	o := suggestOpts()
	o.SuggestDependent = true
	r := mustAnalyze([]tracefmt.Trace{tr}, o)
	got := map[string]string{}
	for _, c := range r.Parallelizable {
		var calls []string
		for _, x := range c.Calls {
			calls = append(calls, x.To+" "+x.Operation)
		}
		got[strings.Join(calls, " → ")] = c.Evidence
	}
	want := map[string]string{
		"cache GET → users GetUser": EvidencePossiblyDependent,
		"db INSERT → db SELECT":     EvidenceLikelyIndependent,
		"db SELECT":                 EvidenceBatching,
		"db SELECT → mail Send":     EvidenceLikelyIndependent,
	}
	if len(got) != len(want) {
		t.Errorf("candidates %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %q, want %q (all: %v)", k, got[k], v, got)
		}
	}
}

// A loop calling A then B for each item (A B A B …) is not evidence that A
// and B run in either order: a pair's order counts once per parent span.
func TestSuggestLoopOrder(t *testing.T) {
	var traces []tracefmt.Trace
	for i := range uint64(10) {
		traces = append(traces, callTrace(i+1, 50000,
			call{"users", "GetUser", 1000, 5000}, call{"orders", "ListOrders", 5010, 9000},
			call{"users", "GetUser", 9010, 13000}, call{"orders", "ListOrders", 13010, 17000}))
	}
	o := suggestOpts()
	o.SuggestDependent = true
	r := mustAnalyze(traces, o)
	if len(r.Parallelizable) != 1 {
		t.Fatalf("candidates %+v", r.Parallelizable)
	}
	c := r.Parallelizable[0]
	if c.Evidence != EvidencePossiblyDependent || c.Serial != 30 || c.OrderFractions[0] != 1 || c.Calls[0].To != "users" {
		t.Errorf("%+v", c)
	}
}
