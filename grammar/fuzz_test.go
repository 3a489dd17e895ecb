package grammar

import (
	"errors"
	"math"
	"path"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// One fuzz target per grammar: no input panics, every error is a
// *SyntaxError that quotes the input and points into it, and a parsed
// value's String form reads back as the same value.

// seed adds the documented examples and the error table's inputs of one
// grammar.
func seed(f *testing.F, grammar string, examples ...string) {
	for _, e := range examples {
		f.Add(e)
	}
	for _, tc := range syntaxErrorCases {
		if tc.grammar == grammar {
			f.Add(tc.in)
		}
	}
}

// checkSyntaxError fails unless err is nil or a *SyntaxError about input
// whose column lies within it (or just past its end).
func checkSyntaxError(t *testing.T, err error, input string) {
	t.Helper()
	if err == nil {
		return
	}
	var se *SyntaxError
	if !errors.As(err, &se) {
		t.Fatalf("%q: error %v is not a *SyntaxError", input, err)
	}
	if se.Input != input || se.Column < 1 || se.Column > utf8.RuneCountInString(input)+1 {
		t.Fatalf("%q: error at column %d of %q: %v", input, se.Column, se.Input, err)
	}
	if !strings.Contains(err.Error(), strconv.Quote(input)) {
		t.Fatalf("%q: error does not quote the input: %v", input, err)
	}
	// What the error says it found is what stands at its column.
	at := input
	for range se.Column - 1 {
		_, w := utf8.DecodeRuneInString(at)
		at = at[w:]
	}
	if !strings.HasPrefix(at, se.Found) || se.Found == "" && strings.TrimSpace(at) != "" {
		t.Fatalf("%q: error says it found %q at column %d, where %q stands: %v", input, se.Found, se.Column, at, err)
	}
}

// escapeGlob is a pattern that matches exactly s.
func escapeGlob(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(`*?[\`, s[i]) >= 0 {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func FuzzGlob(f *testing.F) {
	for _, p := range []string{"*", "HTTP GET /*", "[ps]*", "[^ps]*", "svc[a-cx-z]", `GET /items\[0\]`, "*a*b*c*", "caf?", "[µμ]s"} {
		f.Add(p, "HTTP GET /dispatch")
	}
	for _, tc := range syntaxErrorCases {
		if tc.grammar == "glob" {
			f.Add(tc.in, tc.in)
		}
	}
	f.Fuzz(func(t *testing.T, pattern, name string) {
		err := CheckGlob(pattern)
		checkSyntaxError(t, err, pattern)
		if err != nil && MatchGlob(pattern, name) {
			t.Fatalf("malformed %q matches %q", pattern, name)
		}
		if !MatchGlob(escapeGlob(name), name) {
			t.Fatalf("%q does not match itself escaped: %q", name, escapeGlob(name))
		}
		if err == nil && !MatchGlob("*"+pattern+"*", name) && MatchGlob(pattern, name) {
			t.Fatalf("%q matches %q, *%s* does not", pattern, name, pattern)
		}
		// Away from '/', the globs are path.Match's: the same patterns
		// are malformed (but for a reversed range, which path.Match
		// takes as matching nothing), the same names match.
		if strings.Contains(pattern+name, "/") || !utf8.ValidString(pattern) || !utf8.ValidString(name) {
			return
		}
		want, perr := path.Match(pattern, name)
		var se *SyntaxError
		if perr == nil && errors.As(err, &se) && se.Problem == "reversed range" {
			return
		}
		if (perr != nil) != (err != nil) {
			t.Fatalf("%q: CheckGlob says %v, path.Match %v", pattern, err, perr)
		}
		if got := MatchGlob(pattern, name); perr == nil && got != want {
			t.Fatalf("MatchGlob(%q, %q) = %v, path.Match says %v", pattern, name, got, want)
		}
	})
}

// fuzzRoundTrip fuzzes a grammar whose values have a String form: errors
// as checkSyntaxError wants them, a value valid as valid says, and its
// String form reads back as the same value.
func fuzzRoundTrip[T interface {
	comparable
	String() string
}](f *testing.F, parse func(string) (T, error), valid func(T) bool) {
	f.Fuzz(func(t *testing.T, s string) {
		v, err := parse(s)
		checkSyntaxError(t, err, s)
		if err != nil {
			return
		}
		if !valid(v) {
			t.Fatalf("%q: invalid %+v", s, v)
		}
		if back, err := parse(v.String()); err != nil || back != v {
			t.Fatalf("%q: %+v reads back from %q as %+v, %v", s, v, v.String(), back, err)
		}
	})
}

func FuzzEndpoint(f *testing.F) {
	seed(f, "endpoint", "frontend", "frontend:GET /*", ":POST /checkout", "frontend:db:query", "")
	fuzzRoundTrip(f, ParseEndpoint, func(Endpoint) bool { return true })
}

func FuzzWhatIf(f *testing.F) {
	seed(f, "what-if", "to=pricing:-20ms", "to=recommendations:x0.5", "from=frontend,operation=GET*:x0.5",
		"op=db:query:+1.5ms", "to=pricing , from=order-*:*0", "to=a:×2")
	// Spec is the text as given: the normal form differs from it.
	parse := func(s string) (WhatIf, error) {
		w, err := ParseWhatIf(s)
		w.Spec = ""
		return w, err
	}
	fuzzRoundTrip(f, parse, func(w WhatIf) bool {
		return w.Factor >= 0 && !math.IsInf(w.Factor, 0) && (w.Factor == 1 || w.Shift == 0)
	})
}

func FuzzGate(f *testing.F) {
	seed(f, "gate", "p99>+10%", "mean>5ms", "p50 > +250us", "P95>250µs", "p99>0ns")
	fuzzRoundTrip(f, ParseGate, func(g Gate) bool { return g.Pct >= 0 && g.Ns >= 0 && !math.IsInf(g.Pct, 0) })
}

// validBand: the band keeps a non-empty rank range within n requests.
func validBand(b Band) bool {
	for _, n := range []int{0, 1, 7, 100, 1001} {
		if from, to := b.Ranks(n); from < 0 || from > to || to > n || n > 0 && from == to {
			return false
		}
	}
	return true
}

func FuzzBand(f *testing.F) {
	seed(f, "band", "p95-p100", "p99.9-p100", "p0-p50", " p25 - p75 ")
	fuzzRoundTrip(f, ParseBand, validBand)
}

// FuzzSlowest: a band from --slowest reads back through ParseBand.
func FuzzSlowest(f *testing.F) {
	seed(f, "slowest", "1%", "0.1", "100%", "0.001%")
	f.Fuzz(func(t *testing.T, s string) {
		b, err := ParseSlowest(s)
		checkSyntaxError(t, err, s)
		if err != nil {
			return
		}
		if back, err := ParseBand(b.String()); err != nil || back != b || !validBand(b) {
			t.Fatalf("%q: %+v reads back from %q as %+v, %v", s, b, b.String(), back, err)
		}
	})
}

func FuzzClockGranularity(f *testing.F) {
	seed(f, "clock", "auto", "web=1ms", "*=0", "api = 100us", "*=10ms")
	f.Fuzz(func(t *testing.T, v string) {
		m, err := ParseClockGranularity([]string{v})
		checkSyntaxError(t, err, v)
		if err != nil {
			return
		}
		for svc, d := range m {
			if d < 0 {
				t.Fatalf("%q: %s=%v", v, svc, d)
			}
			text := svc + "=" + d.String()
			if back, err := ParseClockGranularity([]string{text}); err != nil || len(back) != 1 || back[svc] != d {
				t.Fatalf("%q: %s=%v reads back from %q as %v, %v", v, svc, d, text, back, err)
			}
		}
	})
}

func FuzzBytes(f *testing.F) {
	for _, e := range []string{"512MiB", "64GiB", "10GB", "1048576", "2 TiB", "1k", "1000 bytes"} {
		f.Add(e, int64(len(e)))
	}
	for _, tc := range syntaxErrorCases {
		if tc.grammar == "size" {
			f.Add(tc.in, int64(math.MaxInt64))
		}
	}
	f.Fuzz(func(t *testing.T, s string, n int64) {
		v, err := ParseBytes(s)
		checkSyntaxError(t, err, s)
		if err == nil && v < 0 {
			t.Fatalf("%q: %d", s, v)
		}
		// Every size FormatBytes writes reads back.
		n = max(n, -n, 0)
		if back, err := ParseBytes(FormatBytes(n)); err != nil || back != n {
			t.Fatalf("%d: %q reads back as %d, %v", n, FormatBytes(n), back, err)
		}
	})
}
