package budget

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hopbudget/analyze"
	"hopbudget/internal/tracegentest"
	"hopbudget/tracefmt"
)

// truthFile is the part of tracegen's truth.json these tests use.
type truthFile struct {
	Endpoints []struct {
		Service   string `json:"service"`
		Operation string `json:"operation"`
		P50       int64  `json:"p50Us"`
		P95       int64  `json:"p95Us"`
		P99       int64  `json:"p99Us"`
	} `json:"endpoints"`
	Hops []struct {
		From      string `json:"from"`
		To        string `json:"to"`
		Operation string `json:"operation"`
		P99       int64  `json:"p99Us"`
		Max       int64  `json:"maxUs"`
		GapCount  int    `json:"networkGapCount"`
		GapP99    int64  `json:"networkGapP99Us"`
	} `json:"hops"`
	FanIn []struct {
		Service   string `json:"parentService"`
		Operation string `json:"parentOperation"`
		WaitP99   int64  `json:"waitP99Us"`
	} `json:"fanIn"`
}

// escapeGlob makes name a glob that matches only itself.
func escapeGlob(name string) string {
	var b strings.Builder
	for _, r := range name {
		if strings.ContainsRune(`*?[\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// For every scenario, budget lines are held to tracegen's own figures: a
// target at or just above the true percentile passes, one just below fails
// (endpoints, hops on latency and network, fan-in, error budgets).
func TestEvaluateAgainstTruth(t *testing.T) {
	for _, scenario := range []string{"checkout", "deep-chain", "fanout", "async", "mixed"} {
		t.Run(scenario, func(t *testing.T) {
			t.Parallel()
			dir := tracegentest.Generate(t, "-scenario", scenario, "-traces", "400", "-seed", "3", "-format", "otlp-json")
			res, err := tracefmt.Read(context.Background(), []string{filepath.Join(dir, "traces.otlp.json")}, tracefmt.Options{})
			if err != nil {
				t.Fatal(err)
			}
			data, err := os.ReadFile(filepath.Join(dir, "truth.json"))
			if err != nil {
				t.Fatal(err)
			}
			var truth truthFile
			if err := json.Unmarshal(data, &truth); err != nil {
				t.Fatal(err)
			}
			r, err := analyze.Analyze(context.Background(), res.Traces, analyze.DefaultOptions())
			if err != nil {
				t.Fatal(err)
			}

			// Each target gets a line of its own, which says what to expect.
			b := &Budget{Version: 1, File: "truth.yaml"}
			want := map[int]Status{}
			line := 0
			targets := func(what string, trueUs int64, p float64) []Target {
				var ts []Target
				for _, d := range []int64{1, 0, -1} { // just above, at, just below
					limit := time.Duration(trueUs+d) * time.Microsecond
					if limit <= 0 {
						continue
					}
					line++
					want[line] = StatusOK
					if d < 0 {
						want[line] = StatusOver
					}
					ts = append(ts, Target{Percentile: p, Limit: limit, Name: fmt.Sprintf("%s %+dµs", what, d), Line: line})
				}
				return ts
			}
			for _, e := range truth.Endpoints {
				m := Matcher{Service: escapeGlob(e.Service), Operation: escapeGlob(e.Operation)}
				what := e.Service + " " + e.Operation
				ts := append(targets(what+" p50", e.P50, 50), targets(what+" p95", e.P95, 95)...)
				ts = append(ts, targets(what+" p99", e.P99, 99)...)
				// A slow-request budget of 5% over the true p95 holds; 1µs less, it burns.
				for _, d := range []int64{0, -1} {
					line++
					want[line] = map[bool]Status{true: StatusOK, false: StatusOver}[d == 0]
					b.Endpoints = append(b.Endpoints, Endpoint{Match: m, Targets: ts, Line: line,
						SlowRequests: &SlowRequests{Threshold: time.Duration(e.P95+d) * time.Microsecond, Allowed: 0.05, Line: line}})
					ts = nil
				}
			}
			for _, h := range truth.Hops {
				if h.From == "" || h.To == "" || h.Operation == "" {
					continue // an empty matcher field would match anything
				}
				m := Matcher{From: escapeGlob(h.From), To: escapeGlob(h.To), Operation: escapeGlob(h.Operation)}
				what := h.From + " → " + h.To + " " + h.Operation
				b.Hops = append(b.Hops, Hop{Match: m, On: Latency, Targets: append(targets(what+" p99", h.P99, 99), targets(what+" max", h.Max, 100)...)})
				if h.GapCount > 0 {
					b.Hops = append(b.Hops, Hop{Match: m, On: Network, Targets: targets(what+" network p99", h.GapP99, 99)})
				}
			}
			for _, f := range truth.FanIn {
				b.FanIn = append(b.FanIn, FanIn{Match: Matcher{Service: escapeGlob(f.Service), Operation: escapeGlob(f.Operation)},
					Targets: targets(f.Service+" "+f.Operation+" wait p99", f.WaitP99, 99)})
			}

			out := Evaluate(b, r, EvalOptions{MinSamples: 1})
			if len(out.Warnings) > 0 {
				t.Errorf("warnings: %+v", out.Warnings)
			}
			seen := map[int]bool{}
			for _, l := range out.Lines {
				if seen[l.Line] {
					t.Errorf("line %d (%s) matched more than one thing", l.Line, l.Title)
				}
				seen[l.Line] = true
				if l.Status != want[l.Line] {
					actual := "-"
					if l.ActualUs != nil {
						actual = fmt.Sprint(*l.ActualUs)
					}
					t.Errorf("%s (line %d): %s, want %s (actual %sµs, target %dµs)", l.Title, l.Line, l.Status, want[l.Line], actual, l.TargetUs)
				}
			}
			if len(seen) != len(want) {
				t.Errorf("%d results for %d budget lines", len(seen), len(want))
			}
			if out.Passed {
				t.Error("passed, with lines just below the truth")
			}
			if len(want) < 20 {
				t.Errorf("only %d lines: the truth file is not what this test expects", len(want))
			}
		})
	}
}

// Error rates against tracegen's truth: with -error-rate, each hop's
// errors line allowing exactly the true share of failed calls holds (burn
// rate 1), and one allowing half a call less is over.
func TestErrorRateAgainstTruth(t *testing.T) {
	dir := tracegentest.Generate(t, "-scenario", "checkout", "-traces", "400", "-seed", "3", "-error-rate", "0.05", "-format", "otlp-json")
	res, err := tracefmt.Read(context.Background(), []string{filepath.Join(dir, "traces.otlp.json")}, tracefmt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "truth.json"))
	if err != nil {
		t.Fatal(err)
	}
	var truth struct {
		Hops []struct {
			From      string `json:"from"`
			To        string `json:"to"`
			Operation string `json:"operation"`
			Count     int    `json:"count"`
			Errors    int    `json:"errorCount"`
		} `json:"hops"`
	}
	if err := json.Unmarshal(data, &truth); err != nil {
		t.Fatal(err)
	}
	r, err := analyze.Analyze(context.Background(), res.Traces, analyze.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	b := &Budget{Version: 1, File: "truth.yaml"}
	want := map[int]Status{}
	counts := map[int][2]int{}
	for _, h := range truth.Hops {
		if h.From == "" || h.To == "" || h.Operation == "" || h.Errors == 0 {
			continue
		}
		m := Matcher{From: escapeGlob(h.From), To: escapeGlob(h.To), Operation: escapeGlob(h.Operation)}
		for _, over := range []bool{false, true} {
			allowed := float64(h.Errors) / float64(h.Count)
			if over {
				allowed = (float64(h.Errors) - 0.5) / float64(h.Count)
			}
			line := len(b.Hops) + 1
			want[line] = map[bool]Status{false: StatusOK, true: StatusOver}[over]
			counts[line] = [2]int{h.Count, h.Errors}
			b.Hops = append(b.Hops, Hop{Match: m, On: Latency, Line: line,
				Errors: &ErrorRate{Allowed: allowed, Name: fmt.Sprintf("%s → %s %s errors %d", h.From, h.To, h.Operation, line), Line: line}})
		}
	}
	if len(b.Hops) < 10 {
		t.Fatalf("only %d lines: the truth has too few hops with errors", len(b.Hops))
	}
	out := Evaluate(b, r, EvalOptions{MinSamples: 1})
	seen := map[int]int{}
	for _, l := range out.Lines {
		seen[l.Line]++
	}
	checked := 0
	for _, l := range out.Lines {
		if seen[l.Line] != 1 {
			continue // the line covers several hops (told apart by statement): the truth has them as one
		}
		checked++
		c := counts[l.Line]
		if l.Status != want[l.Line] || l.Errors.Total != c[0] || l.Errors.Errors != c[1] {
			t.Errorf("%s: %s, want %s; %d of %d failed, truth %d of %d", l.Title, l.Status, want[l.Line], l.Errors.Errors, l.Errors.Total, c[1], c[0])
		}
	}
	if checked < len(b.Hops)/2 {
		t.Errorf("only %d of %d lines matched one hop", checked, len(b.Hops))
	}
}
