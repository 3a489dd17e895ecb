package analyze

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"hopbudget/internal/tracegentest"
	"hopbudget/tracefmt"
)

// truth is the part of tracegen's truth.json the tests compare with.
type truth struct {
	Totals struct {
		Traces int `json:"traces"`
		Spans  int `json:"spans"`
	} `json:"totals"`
	Endpoints []struct {
		Service   string `json:"service"`
		Operation string `json:"operation"`
		Count     int    `json:"count"`
		P50       int64  `json:"p50Us"`
		P95       int64  `json:"p95Us"`
		P99       int64  `json:"p99Us"`
	} `json:"endpoints"`
	Hops []struct {
		From       string  `json:"from"`
		To         string  `json:"to"`
		Operation  string  `json:"operation"`
		Count      int     `json:"count"`
		P50        int64   `json:"p50Us"`
		P95        int64   `json:"p95Us"`
		P99        int64   `json:"p99Us"`
		Max        int64   `json:"maxUs"`
		GapCount   int     `json:"networkGapCount"`
		GapP50     int64   `json:"networkGapP50Us"`
		GapP99     int64   `json:"networkGapP99Us"`
		ErrorRate  float64 `json:"errorRate"`
		ErrorCount int     `json:"errorCount"`
	} `json:"hops"`
	FanIn []struct {
		Service     string             `json:"parentService"`
		Operation   string             `json:"parentOperation"`
		Count       int                `json:"count"`
		ParentSpans int                `json:"parentSpans"`
		WaitP50     int64              `json:"waitP50Us"`
		WaitP95     int64              `json:"waitP95Us"`
		WaitP99     int64              `json:"waitP99Us"`
		Partial     float64            `json:"partialFailureRate"`
		OverP50     int64              `json:"overheadP50Us"`
		OverP99     int64              `json:"overheadP99Us"`
		Stragglers  map[string]float64 `json:"stragglerFractions"`
	} `json:"fanIn"`
	Faults struct {
		Duplicates *struct {
			Count int `json:"count"`
		} `json:"duplicates"`
		Orphans *struct {
			TracesAffected int `json:"tracesAffected"`
			OrphanCount    int `json:"orphanCount"`
			Dropped        []struct {
				TraceID       string   `json:"traceID"`
				SpanID        string   `json:"spanID"`
				OrphanSpanIDs []string `json:"orphanSpanIDs"`
			} `json:"dropped"`
		} `json:"orphans"`
		Skew *struct {
			Service       string `json:"service"`
			SpansAffected int    `json:"spansAffected"`
		} `json:"skew"`
	} `json:"faults"`
	Traces []struct {
		TraceID      string       `json:"traceID"`
		Scenario     string       `json:"scenario"`
		DurationUs   int64        `json:"durationUs"`
		StartUs      int64        `json:"startUs"`
		CriticalPath []Segment    `json:"criticalPath"`
		FanIn        []FanInGroup `json:"fanIn"`
	} `json:"traces"`
}

// generate runs tracegen (cached) and loads its OTLP protobuf and truth.
func generate(tb testing.TB, args ...string) ([]tracefmt.Trace, *truth) {
	tb.Helper()
	dir := tracegentest.Generate(tb, append(args, "-format", "otlp-proto")...)
	traces := loadOTLPProto(tb, filepath.Join(dir, "traces.otlp.pb"))
	b, err := os.ReadFile(filepath.Join(dir, "truth.json"))
	if err != nil {
		tb.Fatal(err)
	}
	var t truth
	if err := json.Unmarshal(b, &t); err != nil {
		tb.Fatal(err)
	}
	return traces, &t
}

func perTraceOpts() Options {
	o := DefaultOptions()
	o.PerTrace = true
	return o
}

// checkAggregates compares every aggregate of r with the truth, exactly.
func checkAggregates(t *testing.T, r *Report, tr *truth) {
	t.Helper()
	if len(r.Endpoints) != len(tr.Endpoints) {
		t.Errorf("endpoints: got %d, truth %d", len(r.Endpoints), len(tr.Endpoints))
	}
	for i := range min(len(r.Endpoints), len(tr.Endpoints)) {
		g, w := r.Endpoints[i], tr.Endpoints[i]
		if g.Service != w.Service || g.Operation != w.Operation || g.Count != w.Count || g.P50Us != w.P50 ||
			g.P95Us != w.P95 || g.P99Us != w.P99 {
			t.Errorf("endpoint %d: got %s %s n=%d %d/%d/%d, truth %s %s n=%d %d/%d/%d", i, g.Service, g.Operation,
				g.Count, g.P50Us, g.P95Us, g.P99Us, w.Service, w.Operation, w.Count, w.P50, w.P95, w.P99)
		}
	}
	if len(r.Hops) != len(tr.Hops) {
		t.Errorf("hops: got %d, truth %d", len(r.Hops), len(tr.Hops))
	}
	for i := range min(len(r.Hops), len(tr.Hops)) {
		g, w := r.Hops[i], tr.Hops[i]
		if g.From != w.From || g.To != w.To || g.Operation != w.Operation || g.Count != w.Count ||
			g.P50Us != w.P50 || g.P95Us != w.P95 || g.P99Us != w.P99 || g.MaxUs != w.Max ||
			g.NetworkCount != w.GapCount || g.NetworkP50Us != w.GapP50 || g.NetworkP99Us != w.GapP99 ||
			g.ErrorCount != w.ErrorCount || g.ErrorRate != w.ErrorRate {
			t.Errorf("hop %d:\n got   %+v\n truth %+v", i, g, w)
		}
	}
	if len(r.FanIn) != len(tr.FanIn) {
		t.Errorf("fanIn: got %d, truth %d", len(r.FanIn), len(tr.FanIn))
	}
	for i := range min(len(r.FanIn), len(tr.FanIn)) {
		g, w := r.FanIn[i], tr.FanIn[i]
		st := map[string]float64{}
		for _, s := range g.Stragglers {
			st[s.To] = s.Fraction
		}
		if g.Service != w.Service || g.Operation != w.Operation || g.Count != w.Count ||
			g.ParentSpans != w.ParentSpans || g.WaitP50Us != w.WaitP50 || g.WaitP95Us != w.WaitP95 ||
			g.WaitP99Us != w.WaitP99 || g.PartialFailureRate != w.Partial || g.OverheadP50Us != w.OverP50 ||
			g.OverheadP99Us != w.OverP99 || !mapsEqual(st, w.Stragglers) {
			t.Errorf("fanIn %d:\n got   %+v\n truth %+v", i, g, w)
		}
	}
}

func mapsEqual(a, b map[string]float64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func sortGroups(gs []FanInGroup) []FanInGroup {
	gs = slices.Clone(gs)
	slices.SortFunc(gs, func(a, b FanInGroup) int {
		if c := strings.Compare(a.ParentSpanID, b.ParentSpanID); c != 0 {
			return c
		}
		return strings.Compare(a.Children[0], b.Children[0])
	})
	return gs
}

// checkTraces compares every trace's critical path and fan-in groups.
func checkTraces(t *testing.T, r *Report, tr *truth) {
	t.Helper()
	if len(r.Traces) != len(tr.Traces) {
		t.Fatalf("traces: got %d, truth %d", len(r.Traces), len(tr.Traces))
	}
	byID := map[string]*TraceResult{}
	for i := range r.Traces {
		byID[r.Traces[i].TraceID] = &r.Traces[i]
	}
	bad := 0
	for i, w := range tr.Traces {
		g := byID[w.TraceID]
		if g == nil {
			t.Errorf("trace %s missing", w.TraceID)
			continue
		}
		if g.TraceID != w.TraceID || g.DurationUs != w.DurationUs || g.StartUs != w.StartUs {
			t.Errorf("trace %d: got %s %d µs, truth %s %d µs", i, g.TraceID, g.DurationUs, w.TraceID, w.DurationUs)
		}
		if !slices.Equal(g.CriticalPath, w.CriticalPath) {
			bad++
			if bad <= 3 {
				t.Errorf("trace %s (%s): critical path\n got   %v\n truth %v", w.TraceID, w.Scenario, g.CriticalPath, w.CriticalPath)
			}
		}
		gg, wg := sortGroups(g.FanIn), sortGroups(w.FanIn)
		if !slices.EqualFunc(gg, wg, func(a, b FanInGroup) bool {
			return a.ParentSpanID == b.ParentSpanID && slices.Equal(a.Children, b.Children) &&
				a.WaitUs == b.WaitUs && a.StragglerSpanID == b.StragglerSpanID
		}) {
			bad++
			if bad <= 3 {
				t.Errorf("trace %s (%s): fan-in\n got   %v\n truth %v", w.TraceID, w.Scenario, gg, wg)
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d trace mismatches", bad)
	}
}

func TestTruthScenarios(t *testing.T) {
	for _, tc := range []struct {
		scenario string
		traces   string
		extra    []string
	}{
		{"checkout", "500", nil},
		{"deep-chain", "300", nil},
		{"fanout", "500", []string{"-error-rate", "0.02"}},
		{"async", "300", nil},
		{"mixed", "1000", []string{"-error-rate", "0.01"}},
	} {
		t.Run(tc.scenario, func(t *testing.T) {
			t.Parallel()
			traces, tr := generate(t, append([]string{"-scenario", tc.scenario, "-traces", tc.traces, "-seed", "7"}, tc.extra...)...)
			r := mustAnalyze(traces, perTraceOpts())
			if r.Counts.Traces != tr.Totals.Traces || r.Counts.Spans != tr.Totals.Spans {
				t.Errorf("counts: %d traces %d spans, truth %d / %d", r.Counts.Traces, r.Counts.Spans, tr.Totals.Traces, tr.Totals.Spans)
			}
			checkAggregates(t, r, tr)
			checkTraces(t, r, tr)
			if len(r.Warnings) != 0 {
				t.Errorf("clean input gave %d warnings, first %+v", len(r.Warnings), r.Warnings[0])
			}
			if r.Counts.SkewShifts != 0 || r.Counts.Orphans != 0 || r.Counts.DuplicatesMerged != 0 {
				t.Errorf("clean input fired clean-up rules: %+v", r.Counts)
			}
			checkProperties(t, traces, r)
		})
	}
}

// With duplicated spans, nothing but the duplicate count may change.
func TestTruthDuplicates(t *testing.T) {
	t.Parallel()
	traces, tr := generate(t, "-scenario", "checkout", "-traces", "500", "-seed", "7", "-dup", "0.05")
	r := mustAnalyze(traces, perTraceOpts())
	if r.Counts.DuplicatesMerged != tr.Faults.Duplicates.Count || tr.Faults.Duplicates.Count == 0 {
		t.Errorf("duplicates merged %d, truth %d", r.Counts.DuplicatesMerged, tr.Faults.Duplicates.Count)
	}
	checkAggregates(t, r, tr)
	checkTraces(t, r, tr)
	clean, _ := generate(t, "-scenario", "checkout", "-traces", "500", "-seed", "7")
	want := mustAnalyze(clean, perTraceOpts())
	r.Counts.DuplicatesMerged, r.Counts.Spans = 0, want.Counts.Spans
	// Clocks count the spans read (copies too); the granularities must agree.
	for i := range r.Clocks {
		if r.Clocks[i].GranularityNs != want.Clocks[i].GranularityNs {
			t.Errorf("clock %+v with duplicates, %+v without", r.Clocks[i], want.Clocks[i])
		}
		r.Clocks[i].Spans = want.Clocks[i].Spans
	}
	gb, _ := json.Marshal(r)
	wb, _ := json.Marshal(want)
	if string(gb) != string(wb) {
		for i := range min(len(gb), len(wb)) {
			if gb[i] != wb[i] {
				t.Errorf("report with duplicates differs from the clean one at byte %d:\n%s\n%s", i, gb[max(0, i-300):min(len(gb), i+200)], wb[max(0, i-300):min(len(wb), i+200)])
				break
			}
		}
	}
}

// Every orphan is counted and reported; none is lost.
func TestTruthOrphans(t *testing.T) {
	t.Parallel()
	traces, tr := generate(t, "-scenario", "mixed", "-traces", "500", "-seed", "7", "-orphans", "0.1")
	r := mustAnalyze(traces, perTraceOpts())
	o := tr.Faults.Orphans
	if r.Counts.Orphans != o.OrphanCount || r.Counts.TracesWithOrphans != o.TracesAffected || o.OrphanCount == 0 {
		t.Errorf("orphans: got %d in %d traces, truth %d in %d", r.Counts.Orphans, r.Counts.TracesWithOrphans, o.OrphanCount, o.TracesAffected)
	}
	want := map[[2]string]bool{}
	for _, d := range o.Dropped {
		for _, s := range d.OrphanSpanIDs {
			want[[2]string{d.TraceID, s}] = true
		}
	}
	got := map[[2]string]bool{}
	for _, w := range r.Warnings {
		if w.Rule == RuleOrphan {
			got[[2]string{w.TraceID, w.SpanID}] = true
		}
	}
	if len(got) != len(want) {
		t.Errorf("orphan warnings: %d, truth %d", len(got), len(want))
	}
	for k := range want {
		if !got[k] {
			t.Errorf("orphan %v not reported", k)
		}
	}
	// Every span read is in the analysis; orphans' subtrees have their own
	// critical path, which tiles the orphan root.
	checkProperties(t, traces, r)
}

// Skew: the warnings name the skewed service, and after adjustment the
// affected critical paths are back within the skew of the truth.
func TestTruthSkew(t *testing.T) {
	t.Parallel()
	const skewUs = 40_000
	traces, tr := generate(t, "-scenario", "checkout", "-traces", "500", "-seed", "7", "-skew-ms", "40")
	r := mustAnalyze(traces, perTraceOpts())
	if r.Counts.SkewShifts == 0 {
		t.Fatal("no skew shift")
	}
	for _, w := range r.Warnings {
		if w.Rule != RuleClockSkew || w.Service != tr.Faults.Skew.Service || w.ShiftUs > -skewUs+5000 || w.ShiftUs < -skewUs-5000 {
			t.Errorf("unexpected warning %+v", w)
		}
	}
	if r.Counts.SpansShifted != tr.Faults.Skew.SpansAffected {
		t.Errorf("spans shifted %d, truth skewed %d", r.Counts.SpansShifted, tr.Faults.Skew.SpansAffected)
	}
	byID := map[string][]Segment{}
	for _, x := range r.Traces {
		byID[x.TraceID] = x.CriticalPath
	}
	for _, w := range tr.Traces {
		g := byID[w.TraceID]
		if len(g) != len(w.CriticalPath) {
			t.Errorf("trace %s: %d segments, truth %d", w.TraceID, len(g), len(w.CriticalPath))
			continue
		}
		for j := range g {
			a, b := g[j], w.CriticalPath[j]
			if a.SpanID != b.SpanID || abs(a.StartUs-b.StartUs) > skewUs || abs(a.EndUs-b.EndUs) > skewUs {
				t.Errorf("trace %s segment %d: got %+v, truth %+v", w.TraceID, j, a, b)
			}
		}
	}
	// Turned off, the skewed children are clipped instead, and nothing is shifted.
	off := DefaultOptions()
	off.NoSkewAdjust = true
	r2 := mustAnalyze(traces, off)
	if r2.Counts.SkewShifts != 0 || len(r2.Warnings) != 0 || r2.Counts.ChildrenOutsideParent == 0 {
		t.Errorf("skew adjust off: %+v, %d warnings", r2.Counts, len(r2.Warnings))
	}
}

func abs(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}
