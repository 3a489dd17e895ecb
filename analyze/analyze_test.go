package analyze

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"hopbudget/tracefmt"

	"hopbudget/internal/golden"
)

func mustJSON(tb testing.TB, v any) []byte {
	tb.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		tb.Fatal(err)
	}
	return append(b, '\n')
}

// The report depends neither on the number of workers nor on span order
// within a trace.
func TestDeterminism(t *testing.T) {
	traces, _ := generate(t, "-scenario", "mixed", "-traces", "700", "-seed", "3",
		"-dup", "0.02", "-orphans", "0.05", "-skew-ms", "5", "-error-rate", "0.02")
	for _, mode := range []Mode{ModeDefault, ModeJaeger} {
		opts := perTraceOpts()
		opts.CriticalPath, opts.Workers = mode, 1
		want := mustJSON(t, mustAnalyze(traces, opts))
		for _, w := range []int{2, 7} {
			opts.Workers = w
			if got := mustJSON(t, mustAnalyze(traces, opts)); !bytes.Equal(got, want) {
				t.Errorf("%s: %d workers differ from 1", mode, w)
			}
		}
	}
	clean, _ := generate(t, "-scenario", "mixed", "-traces", "300", "-seed", "3")
	want := mustJSON(t, mustAnalyze(clean, perTraceOpts()))
	rev := make([]tracefmt.Trace, len(clean))
	for i, tr := range clean {
		rev[i] = tracefmt.Trace{ID: tr.ID, Spans: slices.Clone(tr.Spans)}
		slices.Reverse(rev[i].Spans)
	}
	if got := mustJSON(t, mustAnalyze(rev, perTraceOpts())); !bytes.Equal(got, want) {
		t.Error("reversing the spans of each trace changes the report")
	}
}

func TestEndpointFilter(t *testing.T) {
	traces, tr := generate(t, "-scenario", "mixed", "-traces", "400", "-seed", "7")
	opts := DefaultOptions()
	opts.Endpoint = func(s, op string) bool { return s == "frontend" && strings.HasPrefix(op, "GET") }
	r := mustAnalyze(traces, opts)
	if len(r.Endpoints) != 1 || r.Endpoints[0].Operation != "GET /product/{id}" {
		t.Fatalf("endpoints %+v", r.Endpoints)
	}
	for _, e := range tr.Endpoints {
		if e.Operation == "GET /product/{id}" && (e.Count != r.Counts.Traces || e.P99 != r.Endpoints[0].P99Us) {
			t.Errorf("filtered: %d traces, p99 %d; truth %d, %d", r.Counts.Traces, r.Endpoints[0].P99Us, e.Count, e.P99)
		}
	}
	if r.Counts.Traces+r.Counts.TracesFiltered != len(traces) {
		t.Errorf("counts %+v", r.Counts)
	}
	for _, h := range r.Hops {
		if h.From == "order-service" {
			t.Errorf("hop of a filtered-out endpoint: %+v", h)
		}
	}
}

func TestEmpty(t *testing.T) {
	r := mustAnalyze(nil, DefaultOptions())
	b := string(mustJSON(t, r))
	for _, k := range []string{`"endpoints": []`, `"hops": []`, `"fanIn": []`, `"warnings": []`, `"counts"`} {
		if !strings.Contains(b, k) {
			t.Errorf("empty report lacks %s:\n%s", k, b)
		}
	}
	var top map[string]any
	if err := json.Unmarshal([]byte(b), &top); err != nil {
		t.Fatal(err)
	}
	if _, ok := top["traces"]; ok {
		t.Error("traces present without PerTrace")
	}
	r = mustAnalyze([]tracefmt.Trace{{ID: tid(1)}}, DefaultOptions())
	if r.Counts.Traces != 0 {
		t.Errorf("a trace without spans was analysed: %+v", r.Counts)
	}
}

// The JSON names the issue documents (§5), checked by key.
func TestJSONFields(t *testing.T) {
	opts := DefaultOptions()
	opts.PerTrace = true
	var doc map[string]any
	if err := json.Unmarshal(mustJSON(t, mustAnalyze([]tracefmt.Trace{factsTrace()}, opts)), &doc); err != nil {
		t.Fatal(err)
	}
	need := map[string][]string{
		"endpoints":           {"service", "operation", "count", "p50Us", "p95Us", "p99Us", "exemplars"},
		"hops":                {"from", "to", "operation", "count", "p50Us", "p95Us", "p99Us", "maxUs", "networkP50Us", "networkP99Us", "errorRate", "criticalPathMeanUs", "criticalPathP99Us", "onPathFraction", "exemplars"},
		"fanIn":               {"service", "operation", "count", "waitP50Us", "waitP95Us", "waitP99Us", "partialFailureRate", "overheadP50Us", "overheadP99Us", "stragglers"},
		"fanIn.stragglers":    {"to", "fraction"},
		"traces":              {"traceID", "durationUs", "criticalPath", "fanIn"},
		"traces.criticalPath": {"spanID", "service", "operation", "startUs", "endUs"},
		"traces.fanIn":        {"parentSpanID", "children", "waitUs", "stragglerSpanID"},
	}
	for path, keys := range need {
		obj := firstObject(doc, strings.Split(path, "."))
		if obj == nil {
			t.Errorf("%s: no object", path)
			continue
		}
		for _, k := range keys {
			if _, ok := obj[k]; !ok {
				t.Errorf("%s lacks %q", path, k)
			}
		}
	}
	for _, k := range []string{"warnings", "counts"} {
		if _, ok := doc[k]; !ok {
			t.Errorf("report lacks %q", k)
		}
	}
}

func firstObject(v map[string]any, path []string) map[string]any {
	for _, p := range path {
		list, _ := v[p].([]any)
		if len(list) == 0 {
			return nil
		}
		v, _ = list[0].(map[string]any)
	}
	return v
}

// Golden reports: the 27 real HotROD traces (both modes) and the hand-made
// trace with per-trace detail. go test ./analyze -update rewrites them.
func TestGolden(t *testing.T) {
	files, _ := filepath.Glob(corpus("hotrod-local", "jaeger-ui-json", "*.json"))
	sort.Strings(files)
	ids := newIDTable()
	var hotrod []tracefmt.Trace
	for _, f := range files {
		hotrod = append(hotrod, loadUIJSON(t, f, ids)...)
	}
	// The UI JSON has hex IDs; keep them (the table only numbers strings).
	for i := range hotrod {
		restoreHexIDs(t, &hotrod[i], ids)
	}
	jaeger := DefaultOptions()
	jaeger.CriticalPath = ModeJaeger
	for _, tc := range []struct {
		name   string
		traces []tracefmt.Trace
		opts   Options
	}{
		{"hotrod", hotrod, DefaultOptions()},
		{"hotrod-jaeger", hotrod, jaeger},
		{"facts-pertrace", []tracefmt.Trace{factsTrace()}, perTraceOpts()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := mustJSON(t, mustAnalyze(tc.traces, tc.opts))
			golden.Check(t, filepath.Join(repoRoot(t), "testdata", "analyze", tc.name+".golden.json"), got)
		})
	}
}

// restoreHexIDs replaces the table's numbers by the hex IDs the UI JSON
// carried, so golden files show real IDs.
func restoreHexIDs(tb testing.TB, tr *tracefmt.Trace, ids *idTable) {
	fix := func(s tracefmt.SpanID) tracefmt.SpanID {
		if s.IsZero() {
			return s
		}
		return mustID(ids.back[s])
	}
	var t tracefmt.TraceID
	if err := decodeHex(t[:], ids.tback[tr.ID]); err != nil {
		tb.Fatal(err)
	}
	tr.ID = t
	for i, s := range tr.Spans {
		c := *s
		c.TraceID, c.SpanID, c.Parent = t, fix(s.SpanID), fix(s.Parent)
		c.Refs = slices.Clone(s.Refs)
		for j := range c.Refs {
			c.Refs[j].TraceID, c.Refs[j].SpanID = t, fix(c.Refs[j].SpanID)
		}
		tr.Spans[i] = &c
	}
}
