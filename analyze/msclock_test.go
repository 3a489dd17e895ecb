package analyze

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"hopbudget/internal/tracegentest"
	"hopbudget/tracefmt"
)

// cpShares is the critical-path time per span ID of one trace (µs).
func cpShares(segs []Segment) map[string]int64 {
	m := map[string]int64{}
	for _, s := range segs {
		m[s.SpanID] += s.EndUs - s.StartUs
	}
	return m
}

// msClockMismatches compares r's per-trace critical paths and fan-in groups
// with the truth the way the millisecond-clock rules promise: the same spans
// on the path, each span's share within tolUs, the same groups (parent and
// members). It returns the number of traces that differ in each, and a few
// examples.
func msClockMismatches(r *Report, tr *truth, tolUs int64) (cpBad, fanBad, nonStrag int, ex []string) {
	byID := map[string]*TraceResult{}
	for i := range r.Traces {
		byID[r.Traces[i].TraceID] = &r.Traces[i]
	}
	for _, w := range tr.Traces {
		g := byID[w.TraceID]
		if g == nil {
			cpBad++
			continue
		}
		gs, ws := cpShares(g.CriticalPath), cpShares(w.CriticalPath)
		names := map[string]string{}
		for _, sg := range w.CriticalPath {
			names[sg.SpanID] = sg.Service + " " + sg.Operation
		}
		for _, sg := range g.CriticalPath {
			names[sg.SpanID] = sg.Service + " " + sg.Operation
		}
		ok := len(gs) == len(ws)
		for id, v := range ws {
			if x, in := gs[id]; !in || abs(x-v) > tolUs {
				ok = false
				if len(ex) < 6 {
					ex = append(ex, fmt.Sprintf("trace %s span %s (%s): cp %d µs, truth %d µs (in=%v)", w.TraceID, id, names[id], x, v, in))
				}
			}
		}
		for id, x := range gs {
			if _, in := ws[id]; !in && len(ex) < 6 {
				ex = append(ex, fmt.Sprintf("trace %s span %s (%s): cp %d µs, not in truth", w.TraceID, id, names[id], x))
			}
		}
		stragDiff := false
		for _, wf := range w.FanIn {
			for _, gf := range g.FanIn {
				if gf.ParentSpanID == wf.ParentSpanID && gf.StragglerSpanID != wf.StragglerSpanID {
					stragDiff = true
				}
			}
		}
		if !ok && !stragDiff {
			nonStrag++
			if os.Getenv("MS_VERBOSE") != "" {
				for id, v := range ws {
					if x, in := gs[id]; !in || abs(x-v) > tolUs {
						fmt.Println("KIND missing-or-off", names[id], in)
					}
				}
				for id := range gs {
					if _, in := ws[id]; !in {
						fmt.Println("KIND extra", names[id])
					}
				}
			}
			if len(ex) < 12 {
				ex = append(ex, "non-straggler cp mismatch "+w.TraceID)
			}
		}
		if !ok {
			cpBad++
		}
		key := func(f FanInGroup) string {
			c := slices.Clone(f.Children)
			slices.Sort(c)
			return fmt.Sprint(f.ParentSpanID, c)
		}
		gk, wk := []string{}, []string{}
		for _, f := range g.FanIn {
			gk = append(gk, key(f))
		}
		for _, f := range w.FanIn {
			wk = append(wk, key(f))
		}
		slices.Sort(gk)
		slices.Sort(wk)
		if !slices.Equal(gk, wk) {
			fanBad++
			if len(ex) < 12 {
				ex = append(ex, fmt.Sprintf("trace %s fan-in got %v truth %v", w.TraceID, gk, wk))
			}
		}
	}
	return
}

// With every service on a millisecond start clock, the analysis recovers
// the truth's structure: the same spans on the critical path (each span's
// share within 1 ms) and the same fan-in groups, in all but the traces where
// the data cannot tell (a fan-out member shorter than the clock's tick, or
// fan-out ends within a tick of each other), and no clock-skew warning. The
// same data read with exact-clock rules is far off: the test can fail.
func TestTruthMsClock(t *testing.T) {
	for _, tc := range []struct {
		scenario, msClock string
		maxCP, maxFan     float64 // fraction of traces that may differ
	}{
		{"shop", "all", 0.05, 0.025},
		{"checkout", "all", 0.01, 0.005},
		{"shop", "web,catalog", 0.05, 0.025}, // exact and coarse clocks in one trace
	} {
		t.Run(tc.scenario+"-"+tc.msClock, func(t *testing.T) {
			t.Parallel()
			traces, tr := generate(t, "-scenario", tc.scenario, "-traces", "2000", "-seed", "3", "-ms-clock", tc.msClock)
			r := mustAnalyze(traces, perTraceOpts())
			cpBad, fanBad, nonStrag, ex := msClockMismatches(r, tr, 1000)
			n := float64(len(tr.Traces))
			t.Logf("%s: %d traces; critical path differs in %d (%d not by the straggler), fan-in in %d", tc.scenario, len(tr.Traces), cpBad, nonStrag, fanBad)
			if float64(cpBad) > tc.maxCP*n || float64(fanBad) > tc.maxFan*n {
				for _, e := range ex {
					t.Log(e)
				}
				t.Errorf("too many traces differ from the truth: critical path %d, fan-in %d of %d", cpBad, fanBad, len(tr.Traces))
			}
			for _, c := range r.Clocks {
				want := int64(1e6)
				if tc.msClock != "all" && !slices.Contains(strings.Split(tc.msClock, ","), c.Service) {
					want = 0
				}
				if c.GranularityNs != want || c.Source != ClockDetected {
					t.Errorf("clock %+v: want %d ns detected", c, want)
				}
			}
			if r.Counts.SkewShifts != 0 {
				t.Errorf("%d skew shifts on one-clock data", r.Counts.SkewShifts)
			}
			for _, w := range r.Warnings {
				if w.Rule == RuleClockSkew {
					t.Errorf("skew warning on one-clock data: %+v", w)
					break
				}
			}
			// The exact rules on the same data: most traces go wrong.
			exact := perTraceOpts()
			exact.ClockGranularity = map[string]time.Duration{ClockAll: 0}
			r0 := mustAnalyze(traces, exact)
			cp0, fan0, _, _ := msClockMismatches(r0, tr, 1000)
			t.Logf("with exact-clock rules: critical path differs in %d, fan-in in %d", cp0, fan0)
			if cp0 <= 2*cpBad {
				t.Errorf("exact rules give %d critical-path mismatches, granularity rules %d: the test cannot tell them apart", cp0, cpBad)
			}
		})
	}
}

// suggest on the shop scenario, with millisecond clocks and without: only
// the planted pair is listed as independent, the N+1 loop as a batch run
// (its calls told apart by their statement, each behind its pool connect),
// no dependent pair is ever called independent, and the savings are the
// truth's within 1 ms.
func TestTruthShopSuggest(t *testing.T) {
	type callT struct{ To, Operation, Service, Statement string }
	var tt struct {
		Parallelizable []struct {
			Calls                    []callT `json:"calls"`
			Traces                   int     `json:"traces"`
			SavingMeanUs             float64 `json:"savingMeanUs"`
			SavingP50Us, SavingP99Us int64
			EndpointP99AfterUs       int64 `json:"endpointP99AfterUs"`
		} `json:"parallelizable"`
		Batchable []struct {
			To, Operation, Statement string
			Traces                   int            `json:"traces"`
			RunLengthCounts          map[string]int `json:"runLengthCounts"`
			SavingMeanUs             float64        `json:"savingMeanUs"`
			SavingP50Us, SavingP99Us int64
		} `json:"batchable"`
		Dependent []struct {
			First, Second callT
		} `json:"dependent"`
	}
	for _, ms := range []string{"all", ""} {
		t.Run("ms-clock="+ms, func(t *testing.T) {
			t.Parallel()
			args := []string{"-scenario", "shop", "-traces", "2000", "-seed", "3"}
			if ms != "" {
				args = append(args, "-ms-clock", ms)
			}
			traces, _ := generate(t, args...)
			dir := tracegentest.Generate(t, append(args, "-format", "otlp-proto")...)
			b, err := os.ReadFile(filepath.Join(dir, "truth.json"))
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(b, &tt); err != nil {
				t.Fatal(err)
			}
			r := mustAnalyze(traces, suggestOpts())
			near := func(what string, got, want int64) {
				if abs(got-want) > 1000 {
					t.Errorf("%s: %d µs, truth %d µs", what, got, want)
				}
			}
			var par, batch []Candidate
			for _, c := range r.Parallelizable {
				switch c.Kind {
				case KindParallel:
					par = append(par, c)
				case KindBatch:
					batch = append(batch, c)
				}
			}
			pp := tt.Parallelizable[0]
			if len(par) != 1 || par[0].Evidence != EvidenceIndependent {
				t.Fatalf("parallel candidates %+v, want only the planted pair", par)
			}
			got := []string{par[0].Calls[0].To, par[0].Calls[1].To}
			slices.Sort(got)
			if want := []string{"pricing", "reviews"}; !slices.Equal(got, want) || abs(int64(par[0].Traces-pp.Traces)) > int64(pp.Traces/200) {
				t.Errorf("pair %v in %d traces, truth %v in %d", got, par[0].Traces, want, pp.Traces)
			}
			near("pair saving mean", par[0].SavingMeanUs, int64(pp.SavingMeanUs))
			near("pair saving p50", par[0].SavingP50Us, pp.SavingP50Us)
			near("pair saving p99", par[0].SavingP99Us, pp.SavingP99Us)
			near("endpoint p99 after", par[0].P99AfterUs, pp.EndpointP99AfterUs)

			bt := tt.Batchable[0]
			var loop *Candidate
			for i := range batch {
				if batch[i].Calls[0].Statement == bt.Statement {
					loop = &batch[i]
				}
			}
			if loop == nil {
				t.Fatalf("N+1 loop %q not found among %+v", bt.Statement, batch)
			}
			maxLen := 0
			for k := range bt.RunLengthCounts {
				maxLen = max(maxLen, int(k[0]-'0'))
			}
			if abs(int64(loop.Traces-bt.Traces)) > int64(bt.Traces/200) || loop.RunLengthMax != maxLen {
				t.Errorf("loop in %d traces, runs up to %d; truth %d, up to %d", loop.Traces, loop.RunLengthMax, bt.Traces, maxLen)
			}
			// The run-length distribution: runs of each length as the truth
			// counts them (a loop whose calls' floored starts tie may be
			// read as two shorter runs: a few in a thousand).
			runs := map[int]int{}
			for _, r := range loop.RunLengths {
				runs[r.Length] = r.Runs
			}
			for k, want := range bt.RunLengthCounts {
				if n := runs[int(k[0]-'0')]; abs(int64(n-want)) > int64(2+want/100) {
					t.Errorf("runs of %s: %d, truth %d (all: %+v)", k, n, want, loop.RunLengths)
				}
			}
			near("loop saving mean", loop.SavingMeanUs, int64(bt.SavingMeanUs))
			near("loop saving p50", loop.SavingP50Us, bt.SavingP50Us)
			near("loop saving p99", loop.SavingP99Us, bt.SavingP99Us)

			// With every pair listed, none of the truth's dependent pairs
			// is called independent.
			all := suggestOpts()
			all.SuggestDependent = true
			ra := mustAnalyze(traces, all)
			for _, d := range tt.Dependent {
				for _, c := range ra.Parallelizable {
					if c.Kind != KindParallel || c.Evidence != EvidenceIndependent {
						continue
					}
					for _, o := range [][2]CallRef{{c.Calls[0], c.Calls[1]}, {c.Calls[1], c.Calls[0]}} {
						if o[0].To == d.First.To && o[0].Operation == d.First.Operation && o[0].Statement == normStmt(d.First.Statement) &&
							o[1].To == d.Second.To && o[1].Operation == d.Second.Operation && o[1].Statement == normStmt(d.Second.Statement) {
							t.Errorf("dependent pair %+v → %+v called independent: %s", d.First, d.Second, c.Why)
						}
					}
				}
			}
		})
	}
}

func normStmt(s string) string { return string(tracefmt.NormalizeStatement([]byte(s))) }
