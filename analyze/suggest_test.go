package analyze

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"hopbudget/internal/tracegentest"
	"hopbudget/tracefmt"
)

// truthPair is truth.json's parallelizable entry.
type truthPair struct {
	Endpoint        EndpointRef `json:"endpoint"`
	ParentService   string      `json:"parentService"`
	ParentOperation string      `json:"parentOperation"`
	Calls           []struct {
		Service   string `json:"service"`
		Operation string `json:"operation"`
	} `json:"calls"`
	Evidence       string             `json:"evidence"`
	Traces         int                `json:"traces"`
	OrderFractions map[string]float64 `json:"orderFractions"`
	SavingMean     float64            `json:"savingMeanUs"`
	SavingP50      int64              `json:"savingP50Us"`
	SavingP99      int64              `json:"savingP99Us"`
	P99Before      int64              `json:"endpointP99BeforeUs"`
	P99After       int64              `json:"endpointP99AfterUs"`
}

// generatePairs runs tracegen and returns its traces and the truth's
// parallelizable list.
func generatePairs(tb testing.TB, args ...string) ([]tracefmt.Trace, []truthPair) {
	tb.Helper()
	dir := tracegentest.Generate(tb, append(args, "-format", "otlp-proto")...)
	traces := loadOTLPProto(tb, filepath.Join(dir, "traces.otlp.pb"))
	b, err := os.ReadFile(filepath.Join(dir, "truth.json"))
	if err != nil {
		tb.Fatal(err)
	}
	var doc struct {
		Parallelizable []truthPair `json:"parallelizable"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		tb.Fatal(err)
	}
	return traces, doc.Parallelizable
}

func suggestOpts() Options {
	o := DefaultOptions()
	o.Suggest = true
	return o
}

// The planted pair is found as tracegen's truth states it, with the same
// what-if figures; the fan-out calls are not candidates.
func TestSuggestTruth(t *testing.T) {
	for _, tc := range []struct {
		scenario, traces string
	}{
		{"checkout", "2000"},
		{"mixed", "2000"},
	} {
		t.Run(tc.scenario, func(t *testing.T) {
			t.Parallel()
			traces, truth := generatePairs(t, "-scenario", tc.scenario, "-traces", tc.traces, "-seed", "1")
			if len(truth) != 1 {
				t.Fatalf("truth has %d pairs", len(truth))
			}
			w := truth[0]
			r := mustAnalyze(traces, suggestOpts())
			if len(r.Parallelizable) != 1 {
				t.Fatalf("%d candidates, want 1: %+v", len(r.Parallelizable), r.Parallelizable)
			}
			g := r.Parallelizable[0]
			calls := map[string]string{}
			for _, c := range g.Calls {
				calls[c.To] = c.Operation
			}
			if g.Endpoint != w.Endpoint || g.Service != w.ParentService || g.Operation != w.ParentOperation ||
				len(g.Calls) != 2 || calls[w.Calls[0].Service] != w.Calls[0].Operation ||
				calls[w.Calls[1].Service] != w.Calls[1].Operation || g.Kind != KindParallel {
				t.Errorf("candidate %+v, truth %+v", g, w)
			}
			if g.Evidence != w.Evidence || g.Traces != w.Traces || g.SavingP50Us != w.SavingP50 ||
				g.SavingP99Us != w.SavingP99 || g.P99BeforeUs != w.P99Before || g.P99AfterUs != w.P99After ||
				math.Abs(float64(g.SavingMeanUs)-w.SavingMean) >= 1 {
				t.Errorf("got %s traces=%d saving mean/p50/p99 %d/%d/%d p99 %d→%d\ntruth %s traces=%d saving %.2f/%d/%d p99 %d→%d",
					g.Evidence, g.Traces, g.SavingMeanUs, g.SavingP50Us, g.SavingP99Us, g.P99BeforeUs, g.P99AfterUs,
					w.Evidence, w.Traces, w.SavingMean, w.SavingP50, w.SavingP99, w.P99Before, w.P99After)
			}
			if g.Serial != w.Traces || g.Overlapping != 0 || g.OnPathFraction != 1 || len(g.Exemplars) == 0 {
				t.Errorf("detection %+v", g)
			}
			first := w.OrderFractions[g.Calls[0].To+"-first"]
			if math.Abs(g.OrderFractions[0]-first) > 1e-9 {
				t.Errorf("order fractions %v, truth %v", g.OrderFractions, w.OrderFractions)
			}
			t.Logf("%s: saving mean %d (truth %.2f) p50 %d p99 %d, p99 %d → %d; %s", tc.scenario, g.SavingMeanUs, w.SavingMean,
				g.SavingP50Us, g.SavingP99Us, g.P99BeforeUs, g.P99AfterUs, g.Why)
			// Even with the dependent-looking pairs, the fan-out calls (which
			// overlap) are never candidates.
			o := suggestOpts()
			o.SuggestDependent = true
			for _, c := range mustAnalyze(traces, o).Parallelizable {
				for _, x := range c.Calls {
					if x.To == "inventory" || x.To == "fraud" || x.To == "fulfillment" {
						t.Errorf("fan-out call in candidate %+v", c)
					}
				}
			}
			// The same figures whatever the number of workers.
			o = suggestOpts()
			o.Workers = 1
			if one := mustAnalyze(traces, o); string(mustJSON(t, one.Parallelizable)) != string(mustJSON(t, r.Parallelizable)) {
				t.Errorf("one worker differs:\n%s\n%s", mustJSON(t, one.Parallelizable), mustJSON(t, r.Parallelizable))
			}
		})
	}
}

// Scenarios without a planted pair give no candidate.
func TestSuggestNone(t *testing.T) {
	for _, sc := range []string{"deep-chain", "fanout", "async"} {
		t.Run(sc, func(t *testing.T) {
			t.Parallel()
			traces, truth := generatePairs(t, "-scenario", sc, "-traces", "500", "-seed", "1")
			if len(truth) != 0 {
				t.Fatalf("truth has %d pairs", len(truth))
			}
			o := suggestOpts()
			o.SuggestDependent = true // nothing at all, not even dependent-looking pairs
			r := mustAnalyze(traces, o)
			if r.Parallelizable == nil || len(r.Parallelizable) != 0 {
				t.Errorf("candidates %+v", r.Parallelizable)
			}
		})
	}
}

// BenchmarkSuggest: BenchmarkAnalyze's ~1M checkout spans with detection
// and the pair what-if (and a general what-if), on one worker; compare with
// BenchmarkAnalyze/workers=1.
func BenchmarkSuggest(b *testing.B) {
	traces := benchInput(b)
	for _, bc := range []struct {
		name   string
		whatIf bool
	}{{"suggest", false}, {"suggest+what-if", true}} {
		b.Run(bc.name, func(b *testing.B) {
			opts := suggestOpts()
			opts.Workers = 1
			if bc.whatIf {
				opts.WhatIf = []WhatIf{{Spec: "to=pricing:x0.5", Match: func(_, to, _ string) bool { return to == "pricing" }, Factor: 0.5}}
			}
			b.ReportAllocs()
			cpu0 := cpuTime()
			for b.Loop() {
				mustAnalyze(traces, opts)
			}
			n := float64(b.N) * float64(benchSpans)
			b.ReportMetric(n/b.Elapsed().Seconds(), "spans/s")
			b.ReportMetric(n/(cpuTime()-cpu0).Seconds(), "spans/cpu-s")
		})
	}
}

// The JSON of a candidate starts with the keys the issue documents, in
// that order.
func TestSuggestJSON(t *testing.T) {
	var traces []tracefmt.Trace
	for i := range uint64(4) {
		traces = append(traces, callTrace(i+1, 25000, call{"users", "GetUser", 1000, 11000}, call{"orders", "ListOrders", 14000, 24000}))
	}
	o := suggestOpts()
	o.SuggestDependent = true // a fixed order is listed only on request
	b, _ := json.Marshal(mustAnalyze(traces, o))
	want := `"parallelizable":[{"service":"api","operation":"GET /x","calls":[{"to":"users","operation":"GetUser"},{"to":"orders","operation":"ListOrders"}],` +
		`"traces":4,"evidence":"likely independent","savingMeanUs":13000,"savingP50Us":13000,"savingP99Us":13000,"p99BeforeUs":25000,"p99AfterUs":12000,"exemplars":[`
	if !strings.Contains(string(b), want) {
		t.Errorf("JSON lacks\n%s\nin\n%s", want, b)
	}
	if b, _ := json.Marshal(mustAnalyze(traces, DefaultOptions())); strings.Contains(string(b), "parallelizable") || strings.Contains(string(b), "whatIf") {
		t.Errorf("plain analysis has the sections: %s", b)
	}
}
