package analyze

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"hopbudget/tracefmt"
)

// uiSection is one section of the Jaeger UI's critical path, as the corpus
// stores the UI's output.
type uiSection struct {
	SpanID       string `json:"spanID"`
	SectionStart int64  `json:"sectionStart"`
	SectionEnd   int64  `json:"sectionEnd"`
}

func corpus(parts ...string) string {
	return filepath.Join(append([]string{repoRoot(nil), "testdata", "corpus"}, parts...)...)
}

// jaegerSections computes the jaeger-mode critical path of tr and returns
// it in the UI's order and naming (later copies of an ID are "<id>_k").
func jaegerSections(tb testing.TB, tr tracefmt.Trace, ids *idTable) []uiSection {
	opts := DefaultOptions()
	opts.CriticalPath = ModeJaeger
	ts := built(tb, tr, opts)
	ts.jaegerCriticalPath()
	names := make([]string, len(ts.nodes))
	occ := map[tracefmt.SpanID]int{}
	for i := range ts.nodes {
		id := ts.nodes[i].span.SpanID
		names[i] = ids.back[id]
		if k := occ[id]; k > 0 {
			names[i] = fmt.Sprintf("%s_%d", names[i], k)
		}
		occ[id]++
	}
	out := []uiSection{}
	b := append(slices.Clone(ts.jg.blocks), len(ts.segs))
	for k := range len(b) - 1 {
		blk := slices.Clone(ts.segs[b[k]:b[k+1]])
		slices.Reverse(blk) // the UI lists each root's sections backward
		for _, s := range blk {
			out = append(out, uiSection{names[s.n], s.s / 1000, s.e / 1000})
		}
	}
	return out
}

func readExpected(tb testing.TB, path string) map[string][]uiSection {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	var m map[string][]uiSection
	if err := json.Unmarshal(b, &m); err != nil {
		tb.Fatal(err)
	}
	return m
}

// TestJaegerCorpus reproduces, section for section, the critical paths the
// real Jaeger UI code computed for the corpus (see
// testdata/corpus/jaeger-ui-critical-path/ALGORITHM.md in ../shared).
func TestJaegerCorpus(t *testing.T) {
	type tc struct{ name, in, want string }
	var cases []tc
	for i := 1; i <= 9; i++ {
		cases = append(cases, tc{fmt.Sprintf("ui-test%d", i),
			corpus("jaeger-ui-critical-path", "ui-testcases", fmt.Sprintf("test%d.input.json", i)),
			corpus("jaeger-ui-critical-path", "ui-testcases", fmt.Sprintf("test%d.expected.json", i))})
	}
	fixtures, _ := filepath.Glob(corpus("jaeger-ui", "fixtures", "*.json"))
	for _, f := range fixtures {
		base := strings.TrimSuffix(filepath.Base(f), ".json")
		want := corpus("jaeger-ui-critical-path", base+".critical-path.json")
		if _, err := os.Stat(want); err != nil {
			continue // not a UI trace (e.g. an OTLP fixture)
		}
		cases = append(cases, tc{base, f, want})
	}
	cases = append(cases, tc{"query-otlp2jaeger-out", corpus("jaeger", "fixtures", "query-otlp2jaeger-out.json"),
		corpus("jaeger-ui-critical-path", "query-otlp2jaeger-out.critical-path.json")})
	otlp, _ := filepath.Glob(corpus("jaeger-ui-critical-path", "otlp-fixtures", "*.via-api-transform.jaeger-ui.json"))
	for _, f := range otlp {
		base := strings.TrimSuffix(filepath.Base(f), ".via-api-transform.jaeger-ui.json")
		cases = append(cases, tc{"otlp-" + base, f, corpus("jaeger-ui-critical-path", "otlp-fixtures", base+".critical-path.json")})
	}
	hotrod, _ := filepath.Glob(corpus("hotrod-local", "jaeger-ui-json", "*.json"))
	for _, f := range hotrod {
		base := strings.TrimSuffix(filepath.Base(f), ".json")
		cases = append(cases, tc{"hotrod-" + base[:8], f, corpus("jaeger-ui-critical-path", "hotrod-local", base+".critical-path.json")})
	}
	if len(hotrod) != 27 || len(fixtures) < 9 {
		t.Fatalf("corpus incomplete: %d hotrod traces, %d UI fixtures", len(hotrod), len(fixtures))
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ids := newIDTable()
			traces := loadUIJSON(t, c.in, ids)
			want := readExpected(t, c.want)
			if len(traces) != len(want) {
				t.Fatalf("%d traces, %d expected", len(traces), len(want))
			}
			for _, tr := range traces {
				w, ok := want[ids.tback[tr.ID]]
				if !ok {
					t.Fatalf("no expected path for trace %q", ids.tback[tr.ID])
				}
				if w == nil {
					w = []uiSection{}
				}
				if got := jaegerSections(t, tr, ids); !slices.Equal(got, w) {
					t.Errorf("trace %s:\n got  %v\n want %v", ids.tback[tr.ID], got, w)
				}
			}
		})
	}
}

// The same through Analyze: the report's per-trace path, reversed, is the
// UI's, and the hop statistics do not depend on the mode.
func TestJaegerModeReport(t *testing.T) {
	files, _ := filepath.Glob(corpus("hotrod-local", "jaeger-ui-json", "*.json"))
	ids := newIDTable()
	var traces []tracefmt.Trace
	want := map[string][]uiSection{}
	for _, f := range files {
		traces = append(traces, loadUIJSON(t, f, ids)...)
		base := strings.TrimSuffix(filepath.Base(f), ".json")
		for k, v := range readExpected(t, corpus("jaeger-ui-critical-path", "hotrod-local", base+".critical-path.json")) {
			want[k] = v
		}
	}
	opts := DefaultOptions()
	opts.CriticalPath, opts.PerTrace, opts.Workers = ModeJaeger, true, 2
	r := mustAnalyze(traces, opts)
	name := map[string]string{}
	for id, n := range ids.back {
		name[id.String()] = n
	}
	for i, tr := range r.Traces {
		var got []uiSection
		for _, s := range slices.Backward(tr.CriticalPath) {
			got = append(got, uiSection{name[s.SpanID], s.StartUs, s.EndUs})
		}
		w := want[ids.tback[traces[i].ID]]
		if len(got) != len(w) {
			t.Fatalf("trace %d: %d sections, want %d", i, len(got), len(w))
		}
		for j := range got {
			if got[j] != w[j] {
				t.Errorf("trace %d section %d: got %v, want %v", i, j, got[j], w[j])
			}
		}
	}
	d := mustAnalyze(traces, DefaultOptions())
	if !slices.EqualFunc(r.Hops, d.Hops, func(a, b Hop) bool { return a.From == b.From && a.P99Us == b.P99Us && a.Count == b.Count }) {
		t.Error("hop latencies depend on the critical-path mode")
	}
}
