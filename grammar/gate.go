package grammar

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Gate is one --fail-on rule of diff: a metric growing by more than a
// threshold, relative (percent of the base value) or absolute.
//
// Spaces are allowed between tokens; several rules are ORed:
//
//	rule      = metric ">" threshold
//	metric    = "p50" | "p95" | "p99" | "mean"     any case
//	threshold = [ "+" ] number ( "%" | unit )
//	number    = digits [ "." digits ]
//	unit      = "ns" | "us" | "µs" | "ms" | "s"
//
// e.g. "p99>+10%", "mean>5ms", "p50 > +250us". What failing a gate means
// (growth beyond the threshold and a confidence interval above zero) is
// analyze's: see analyze.GateCheck.
type Gate struct {
	Metric   string  // one of GateMetrics
	Relative bool    // the threshold is Pct percent of the base value
	Pct      float64 // Relative
	Ns       int64   // absolute
	text     string  // threshold as written, normalised
}

// GateMetrics are the metrics a gate can test.
var GateMetrics = [...]string{"p50", "p95", "p99", "mean"}

// String is the gate as ParseGate reads it, normalised: "p99>+10%".
func (g Gate) String() string { return g.Metric + ">+" + g.text }

var gateUnits = []struct {
	name string
	ns   float64
}{{"ns", 1}, {"us", 1e3}, {"µs", 1e3}, {"ms", 1e6}, {"s", 1e9}}

// ParseGate reads one rule (see Gate).
func ParseGate(s string) (Gate, error) {
	pos := 0
	fail := func(problem, found, want string) (Gate, error) {
		return Gate{}, errAt("fail-on rule", s, pos, problem, found, want)
	}
	skip := func() {
		for pos < len(s) && s[pos] == ' ' {
			pos++
		}
	}
	// word is the run of letters and digits at pos (ASCII: the only ones
	// the grammar has), else the one character there.
	word := func() string {
		end := pos
		for end < len(s) && (s[end] >= 'a' && s[end] <= 'z' || s[end] >= 'A' && s[end] <= 'Z' || s[end] >= '0' && s[end] <= '9') {
			end++
		}
		if end == pos && pos < len(s) {
			_, w := utf8.DecodeRuneInString(s[pos:])
			end = pos + w
		}
		return s[pos:end]
	}
	skip()
	var g Gate
	name := word()
	if !slices.Contains(GateMetrics[:], strings.ToLower(name)) {
		return fail("unknown metric", name, "one of "+strings.Join(GateMetrics[:], ", "))
	}
	g.Metric = strings.ToLower(name)
	pos += len(name)
	skip()
	if pos >= len(s) || s[pos] != '>' {
		return fail("missing comparison", word(), `">" (a gate fails on growth)`)
	}
	pos++
	skip()
	if pos < len(s) && s[pos] == '+' {
		pos++
	}
	start := pos
	for pos < len(s) && s[pos] >= '0' && s[pos] <= '9' {
		pos++
	}
	if pos < len(s) && s[pos] == '.' && pos > start {
		pos++
		for pos < len(s) && s[pos] >= '0' && s[pos] <= '9' {
			pos++
		}
	}
	num := s[start:pos]
	v, err := strconv.ParseFloat(num, 64)
	if num == "" || num[len(num)-1] == '.' || err != nil || math.IsInf(v, 0) {
		pos = start
		return fail("missing threshold", word(), "a non-negative number, e.g. +10% or +5ms")
	}
	skip()
	unit := strings.TrimRight(s[pos:], " ")
	if unit == "%" {
		g.Relative, g.Pct = true, v
		g.text = num + "%"
		return g, nil
	}
	for _, u := range gateUnits {
		if unit == u.name {
			ns := v * u.ns
			if ns >= math.MaxInt64 {
				pos = start
				return fail("threshold too large", num, "at most 9223372036s")
			}
			g.Ns = int64(math.Round(ns))
			g.text = num + u.name
			return g, nil
		}
	}
	return fail("unknown unit", unit, "% or a duration unit: ns, us, µs, ms, s")
}
