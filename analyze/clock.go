package analyze

import (
	"cmp"
	"slices"
	"strings"
	"time"
	"unsafe"

	"hopbudget/grammar"
	"hopbudget/tracefmt"
)

// Clock granularity.
//
// Several SDKs (the OpenTelemetry JS SDK in Node.js and browsers among them)
// take a span's start from a millisecond wall clock and its duration from a
// monotonic clock: the span is exported shifted earlier by [0, G) for a
// granularity G, independently of every other span. Two calls made back to
// back can then seem to overlap by up to G, a server span can seem to start
// before its client, a child can seem to outlive its parent. Such data says
// only "the true start lies in [start, start+G)", so every decision that
// reads structure from timing (the critical path, fan-in, clock skew,
// suggest's stages and evidence, the what-ifs) uses G as its tolerance: see
// granularity.go. A service whose clock is exact (G = 0) keeps the exact
// rules.

// candidateGranularities are tried from the coarsest down. Finer than 10 µs
// is the formats' own resolution (Jaeger and Zipkin carry µs), not a clock.
var candidateGranularities = [...]int64{
	int64(time.Second), int64(100 * time.Millisecond), int64(10 * time.Millisecond),
	int64(time.Millisecond), int64(100 * time.Microsecond), int64(10 * time.Microsecond),
}

const (
	// minClockSpans: fewer spans than this never show a granularity (an
	// exact clock gives a whole millisecond once in 1000 spans, so 16 in a
	// row happen by chance with probability 1e-48).
	minClockSpans = 16
	// clockShare: the share of a service's starts that must be whole
	// multiples of G (a stray span from another SDK does not hide it).
	clockShare = 0.99
)

// ServiceClock is what the data says about one service's clock.
type ServiceClock struct {
	Service string `json:"service"`
	Spans   int    `json:"spans"`
	// GranularityNs is the tolerance used for the service's spans: 0 means
	// an exact clock (finer than 10 µs).
	GranularityNs int64 `json:"granularityNs"`
	// Granularity is GranularityNs as text ("1ms", or "exact").
	Granularity string `json:"granularity"`
	// Source is "detected" or "flag" (Options.ClockGranularity).
	Source string `json:"source"`
}

// Clock sources.
const (
	ClockDetected = "detected"
	ClockFlag     = "flag"
)

// ClockAll is the ClockGranularity key that applies to every service.
const ClockAll = grammar.ClockAll

// DetectClocks reports every service's clock granularity, sorted by
// service: the coarsest candidate G such that at least 99 % of the
// service's span starts (over at least 16 spans) are whole multiples of G,
// unless overrides name the service (or "*").
func DetectClocks(traces []tracefmt.Trace, overrides map[string]time.Duration) []ServiceClock {
	var cs ClockStats
	cs.Add(traces)
	return cs.Clocks(overrides)
}

// ClockStats counts, per service, the span starts that are whole multiples
// of each candidate granularity: what DetectClocks decides from. It is fed
// traces in any number of batches (the partitions of a spilled input) and
// in any order.
type ClockStats struct {
	by map[string]*clockCounter
}

type clockCounter struct {
	spans int
	whole [len(candidateGranularities)]int
}

// Add counts the spans of traces.
func (cs *ClockStats) Add(traces []tracefmt.Trace) {
	if cs.by == nil {
		cs.by = map[string]*clockCounter{}
	}
	var seen lastString
	var last *clockCounter
	for i := range traces {
		for _, s := range traces[i].Spans {
			if !seen.same(s.Service) {
				last = cs.by[s.Service]
				if last == nil {
					last = &clockCounter{}
					cs.by[strings.Clone(s.Service)] = last // not the batch's memory
				}
			}
			last.spans++
			// Each candidate divides the coarser ones: count from the
			// finest up, stopping at the first that does not divide.
			for j := len(candidateGranularities) - 1; j >= 0 && s.Start%candidateGranularities[j] == 0; j-- {
				last.whole[j]++
			}
		}
	}
}

// Clocks decides every service's clock from the counts (see DetectClocks).
func (cs *ClockStats) Clocks(overrides map[string]time.Duration) []ServiceClock {
	out := make([]ServiceClock, 0, len(cs.by))
	for svc, c := range cs.by {
		sc := ServiceClock{Service: svc, Spans: c.spans, Source: ClockDetected}
		if d, ok := overrides[svc]; ok {
			sc.GranularityNs, sc.Source = int64(d), ClockFlag
		} else if d, ok := overrides[ClockAll]; ok {
			sc.GranularityNs, sc.Source = int64(d), ClockFlag
		} else if c.spans >= minClockSpans {
			for j, g := range candidateGranularities {
				if float64(c.whole[j]) >= clockShare*float64(c.spans) {
					sc.GranularityNs = g
					break
				}
			}
		}
		sc.Granularity = granularityText(sc.GranularityNs)
		out = append(out, sc)
	}
	slices.SortFunc(out, func(a, b ServiceClock) int { return cmp.Compare(a.Service, b.Service) })
	return out
}

func granularityText(ns int64) string {
	if ns <= 0 {
		return "exact"
	}
	return time.Duration(ns).String()
}

// clockMap is the granularity of every service with a coarse clock; nil
// when every clock is exact (the analysis then takes its exact paths).
func clockMap(clocks []ServiceClock) map[string]int64 {
	var m map[string]int64
	for _, c := range clocks {
		if c.GranularityNs > 0 {
			if m == nil {
				m = map[string]int64{}
			}
			m[c.Service] = c.GranularityNs
		}
	}
	return m
}

// ClockOverrides turns detected clocks into Options.ClockGranularity, so
// that a part of the input (one trace for Layout) is analysed with the
// clocks of the whole.
func ClockOverrides(clocks []ServiceClock) map[string]time.Duration {
	m := make(map[string]time.Duration, len(clocks))
	for _, c := range clocks {
		m[c.Service] = time.Duration(c.GranularityNs)
	}
	return m
}

// lastString remembers the last string looked up by its data: names are
// interned by the readers and spans of one service come in runs, so most
// lookups by service can skip the map.
type lastString struct {
	p     *byte
	n     int
	valid bool
}

// same reports whether s is the string last seen, and remembers s.
func (l *lastString) same(s string) bool {
	p := unsafe.StringData(s)
	if l.valid && p == l.p && len(s) == l.n {
		return true
	}
	l.p, l.n, l.valid = p, len(s), true
	return false
}
