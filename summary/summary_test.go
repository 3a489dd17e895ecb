package summary

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"testing"

	"hopbudget/analyze"
	"hopbudget/internal/tracegentest"
	"hopbudget/tracefmt"
)

func load(t *testing.T, args ...string) []tracefmt.Trace {
	t.Helper()
	dir := tracegentest.Generate(t, append(args, "-format", "otlp-json")...)
	res, err := tracefmt.Read(context.Background(), []string{filepath.Join(dir, "traces.otlp.json")}, tracefmt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	analyze.SortTraces(res.Traces)
	return res.Traces
}

func summarise(t *testing.T, traces []tracefmt.Trace, l Limits) *Summary {
	t.Helper()
	opts := analyze.DefaultOptions()
	r, err := analyze.Analyze(context.Background(), traces, opts)
	if err != nil {
		t.Fatal(err)
	}
	p, err := analyze.BuildProfile(context.Background(), traces, opts, analyze.Band{})
	if err != nil {
		t.Fatal(err)
	}
	return FromReport(r, p, traces, AnalysisOf(opts, ""), l)
}

// split deals traces into n shards at random, each trace whole.
func split(traces []tracefmt.Trace, n int, rng *rand.Rand) [][]tracefmt.Trace {
	out := make([][]tracefmt.Trace, n)
	for _, t := range traces {
		i := rng.IntN(n)
		out[i] = append(out[i], t)
	}
	return out
}

func mustMerge(t *testing.T, a, b *Summary) *Summary {
	t.Helper()
	s, err := Merge(a, b)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func encode(t *testing.T, s *Summary) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := Encode(&b, s); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func reportJSON(t *testing.T, r *analyze.Report) []byte {
	t.Helper()
	r.Summary = nil
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Exact summaries: merging shards in any order and grouping gives the
// analysis of all traces, figure for figure, samples and rows included.
func TestMergeExactEqualsAnalysis(t *testing.T) {
	traces := load(t, "-scenario", "mixed", "-traces", "400", "-seed", "11", "-orphans", "0.02", "-skew-ms", "3")
	whole, err := analyze.Analyze(context.Background(), traces, analyze.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	l := Limits{Exact: 1 << 30, Accuracy: 0.005, Rows: 1 << 30}
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 4 {
		parts := split(traces, 2+round*2, rng)
		var sums []*Summary
		for _, p := range parts {
			sums = append(sums, summarise(t, p, l))
		}
		// Left fold in order, and a right fold in reverse: same bytes.
		left := sums[0]
		for _, s := range sums[1:] {
			left = mustMerge(t, left, s)
		}
		right := sums[len(sums)-1]
		for i := len(sums) - 2; i >= 0; i-- {
			right = mustMerge(t, sums[i], right)
		}
		if !bytes.Equal(encode(t, left), encode(t, right)) {
			t.Fatalf("round %d: merge order changes the summary", round)
		}
		// Through the file format too.
		dec, err := Decode(bytes.NewReader(encode(t, left)), "left")
		if err != nil {
			t.Fatal(err)
		}
		got := dec.Report()
		if got.Summary.Approximate != 0 || !got.Summary.TraceRows || got.Summary.SplitTraces != 0 {
			t.Fatalf("round %d: %+v", round, *got.Summary)
		}
		if !sameValues(got.Endpoints, whole.Endpoints) || !sameValues(got.Hops, whole.Hops) ||
			!sameValues(got.FanIn, whole.FanIn) || !sameValues(got.TraceRows, whole.TraceRows) {
			t.Fatalf("round %d (%d shards): merged summary's report differs from the analysis", round, len(parts))
		}
		if wp, err := analyze.BuildProfile(context.Background(), traces, analyze.DefaultOptions(), analyze.Band{}); err != nil || !reflect.DeepEqual(dec.Profile, wp) {
			t.Fatalf("round %d: merged profile differs from the profile of all traces (%v)", round, err)
		}
		if !bytes.Equal(reportJSON(t, got), reportJSON(t, whole)) {
			t.Fatalf("round %d: report JSON differs:\n%s\n%s", round, reportJSON(t, got), reportJSON(t, whole))
		}
	}
}

// Sketched summaries: merging is still associative and commutative (same
// bytes), counts stay exact, and every percentile is within the stated
// accuracy of the exact one.
func TestMergeSketchedWithinAccuracy(t *testing.T) {
	traces := load(t, "-scenario", "checkout", "-traces", "1500", "-seed", "3")
	whole, err := analyze.Analyze(context.Background(), traces, analyze.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	l := Limits{Exact: 50, Accuracy: 0.005, Rows: 1 << 30}
	rng := rand.New(rand.NewPCG(7, 8))
	parts := split(traces, 6, rng)
	var sums []*Summary
	for _, p := range parts {
		sums = append(sums, summarise(t, p, l))
	}
	ab := mustMerge(t, mustMerge(t, sums[0], sums[1]), mustMerge(t, sums[2], mustMerge(t, sums[3], mustMerge(t, sums[4], sums[5]))))
	ba := sums[5]
	for _, i := range []int{2, 0, 4, 1, 3} {
		ba = mustMerge(t, sums[i], ba)
	}
	if !bytes.Equal(encode(t, ab), encode(t, ba)) {
		t.Fatal("merge grouping/order changes a sketched summary")
	}
	got := ab.Report()
	if got.Summary.Approximate == 0 {
		t.Fatal("nothing was sketched: the test checks nothing")
	}
	within := func(what string, g, w int64) {
		t.Helper()
		// Figures are µs, truncated from ns: allow the sketch's relative
		// error plus one µs of truncation.
		if math.Abs(float64(g-w)) > l.Accuracy*math.Abs(float64(w))+1 {
			t.Errorf("%s: %d, exact %d (beyond ±%.1f%%)", what, g, w, 100*l.Accuracy)
		}
	}
	if len(got.Hops) != len(whole.Hops) || len(got.Endpoints) != len(whole.Endpoints) || len(got.FanIn) != len(whole.FanIn) {
		t.Fatalf("items differ: %d/%d hops", len(got.Hops), len(whole.Hops))
	}
	for i, w := range whole.Endpoints {
		g := got.Endpoints[i]
		if g.Count != w.Count || g.MaxUs != w.MaxUs {
			t.Errorf("endpoint %s: count %d max %d, exact %d %d", w.Operation, g.Count, g.MaxUs, w.Count, w.MaxUs)
		}
		within(w.Operation+" p50", g.P50Us, w.P50Us)
		within(w.Operation+" p95", g.P95Us, w.P95Us)
		within(w.Operation+" p99", g.P99Us, w.P99Us)
	}
	for i, w := range whole.Hops {
		g := got.Hops[i]
		name := w.From + "→" + w.To + " " + w.Operation
		if g.Count != w.Count || g.MaxUs != w.MaxUs || g.ErrorCount != w.ErrorCount || g.Traces != w.Traces ||
			g.CriticalPathTotalUs != w.CriticalPathTotalUs || g.OnPathFraction != w.OnPathFraction || g.CallsPerTrace.Max != w.CallsPerTrace.Max {
			t.Errorf("hop %s: exact figures differ:\n%+v\n%+v", name, g, w)
		}
		within(name+" p50", g.P50Us, w.P50Us)
		within(name+" p99", g.P99Us, w.P99Us)
		within(name+" network p99", g.NetworkP99Us, w.NetworkP99Us)
		within(name+" cp p99", g.CriticalPathP99Us, w.CriticalPathP99Us)
		within(name+" self p50", g.ServerSelfP50Us, w.ServerSelfP50Us)
	}
	for i, w := range whole.FanIn {
		g := got.FanIn[i]
		if g.Count != w.Count || g.ParentSpans != w.ParentSpans || !reflect.DeepEqual(g.Stragglers, w.Stragglers) {
			t.Errorf("fan-in %s: exact figures differ", w.Operation)
		}
		within(w.Operation+" wait p99", g.WaitP99Us, w.WaitP99Us)
	}
	// Every exemplar names a trace whose own sample lies in the figure's
	// range: here, that it is a trace of the input.
	ids := map[string]bool{}
	for _, tr := range traces {
		ids[tr.ID.String()] = true
	}
	for _, h := range got.Hops {
		for _, id := range []string{h.Exemplars.P50, h.Exemplars.P99, h.Exemplars.Max} {
			if !ids[id] {
				t.Errorf("hop %s exemplar %q is no input trace", h.Operation, id)
			}
		}
	}
}

// A trace split across shards is counted.
func TestSplitTraceDetected(t *testing.T) {
	traces := load(t, "-scenario", "checkout", "-traces", "40", "-seed", "5")
	l := DefaultLimits()
	a := summarise(t, traces[:30], l)
	// The second shard holds half of trace 0's spans again.
	half := tracefmt.Trace{ID: traces[0].ID, Spans: traces[0].Spans[:len(traces[0].Spans)/2]}
	b := summarise(t, append([]tracefmt.Trace{half}, traces[30:]...), l)
	s := mustMerge(t, a, b)
	if s.SplitTraces != 1 || s.Report().Summary.SplitTraces != 1 {
		t.Fatalf("split traces: %d", s.SplitTraces)
	}
}

func TestDecodeErrors(t *testing.T) {
	good := encode(t, summarise(t, load(t, "-scenario", "checkout", "-traces", "20", "-seed", "5"), DefaultLimits()))
	for _, tc := range []struct{ name, in, want string }{
		{"not json", "hello", "x: offset"},
		{"other json", `{"data": []}`, `not a hopbudget summary (format ""`},
		{"version", `{"format":"hopbudget-summary","version":9}`, "summary version 9"},
		{"limits", `{"format":"hopbudget-summary","version":1,"limits":{"exact":1,"accuracy":2}}`, "accuracy 2 must be in (0, 1)"},
		{"count", string(bytes.Replace(good, []byte(`"latency":{"n":`), []byte(`"latency":{"n":9`), 1)), "values, n says"},
		{"trace index", string(bytes.Replace(good, []byte(`"t":[0`), []byte(`"t":[99999`), 1)), "out of range"},
		{"cut", string(good[:len(good)/2]), "x: offset"},
	} {
		_, err := Decode(bytes.NewReader([]byte(tc.in)), "x")
		if err == nil || !bytes.Contains([]byte(err.Error()), []byte(tc.want)) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}

func FuzzDecode(f *testing.F) {
	id := `"00000000000000000000000000000001"`
	f.Add([]byte(`{"format":"hopbudget-summary","version":1,"limits":{"exact":1,"accuracy":0.01,"rows":0},"rowsDropped":true,"traces":[[5,` + id + `]],` +
		`"hops":[{"latency":{"n":2,"sum":14,"sketched":true,"k":[3],"c":[2],"e":[0],"min":[5,0],"max":[9,0]}}]}`))
	f.Add([]byte(`{"format":"hopbudget-summary","version":1,"limits":{"exact":5,"accuracy":0.01,"rows":5},"traces":[[0,` + id + `]],` +
		`"rows":{"t":[0],"ep":[0],"start":[1],"dur":[2],"hops":[[0,1,2,3,4]]},"endpoints":[{"service":"a","operation":"b","durations":{"n":1,"sum":2,"v":[2],"t":[0],"a":[1]},"failed":{"n":0,"sum":0}}],` +
		`"hops":[{"from":"a","to":"b","operation":"c","latency":{"n":1,"sum":2,"v":[2],"t":[0]},"network":{},"criticalPath":{},"serverSelf":{},"calls":{"n":1,"sum":1,"v":[1]},"failed":{}}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := Decode(bytes.NewReader(b), "fuzz")
		if err != nil || s.Values() > 1e6 {
			return
		}
		r := s.Report()
		if _, err := Merge(s, s); err != nil {
			t.Fatal(err)
		}
		_ = r
	})
}

// sameValues is reflect.DeepEqual with empty and nil slices alike (no
// output tells them apart).
func sameValues(a, b any) bool {
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	return deepSame(va, vb)
}

func deepSame(a, b reflect.Value) bool {
	if a.Kind() != b.Kind() {
		return false
	}
	switch a.Kind() {
	case reflect.Slice:
		if a.Len() != b.Len() {
			return false
		}
		for i := range a.Len() {
			if !deepSame(a.Index(i), b.Index(i)) {
				return false
			}
		}
		return true
	case reflect.Struct:
		for i := range a.NumField() {
			if !deepSame(a.Field(i), b.Field(i)) {
				return false
			}
		}
		return true
	case reflect.Map:
		if a.Len() != b.Len() {
			return false
		}
		for _, k := range a.MapKeys() {
			if !deepSame(a.MapIndex(k), b.MapIndex(k)) {
				return false
			}
		}
		return true
	case reflect.Pointer:
		if a.IsNil() || b.IsNil() {
			return a.IsNil() == b.IsNil()
		}
		return deepSame(a.Elem(), b.Elem())
	case reflect.Array:
		for i := range a.Len() {
			if !deepSame(a.Index(i), b.Index(i)) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(a.Interface(), b.Interface())
}

// Without rows, traces split across shards show as traces without their
// root: the report says so.
func TestSplitTracesSuspectedWithoutRows(t *testing.T) {
	traces := load(t, "-scenario", "checkout", "-traces", "60", "-seed", "6")
	var a, b []tracefmt.Trace
	for _, tr := range traces {
		h := len(tr.Spans) / 2
		a = append(a, tracefmt.Trace{ID: tr.ID, Spans: tr.Spans[:h]})
		b = append(b, tracefmt.Trace{ID: tr.ID, Spans: tr.Spans[h:]})
	}
	l := Limits{Exact: 1000, Accuracy: 0.005, Rows: 10}
	r := mustMerge(t, summarise(t, a, l), summarise(t, b, l)).Report()
	if r.Summary.TraceRows || r.Summary.RootlessTraces < 0.1 {
		t.Fatalf("split traces not suspected: %+v", *r.Summary)
	}
	whole := mustMerge(t, summarise(t, traces[:30], l), summarise(t, traces[30:], l)).Report()
	if whole.Summary.RootlessTraces != 0 {
		t.Fatalf("whole traces suspected split: %+v", *whole.Summary)
	}
}
