package cmd

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"hopbudget/internal/tracegentest"
)

// Shards summarised apart and merged give what the traces give: analyze,
// check (layers, culprits and slow-request budgets read per-request rows),
// diff and profile, byte for byte apart from the input description.
func TestSummariesStandForTraces(t *testing.T) {
	dir := tracegentest.Generate(t, "-scenario", "shop", "-traces", "600", "-seed", "9", "-split", "3", "-format", "otlp-json", "-error-rate", "0.02")
	shards, _ := filepath.Glob(filepath.Join(dir, "traces-*.otlp.json"))
	if len(shards) != 3 {
		t.Fatalf("%d shards", len(shards))
	}
	tmp := t.TempDir()
	var sums []string
	for i, sh := range shards {
		out := filepath.Join(tmp, "s"+string(rune('0'+i))+".json")
		if _, stderr, code := run(t, "", "analyze", "--summary", out, sh); code != 0 {
			t.Fatalf("analyze --summary: %d %s", code, stderr)
		}
		sums = append(sums, out)
	}
	merged := filepath.Join(tmp, "all.json.zst") // compressed by its name
	if _, stderr, code := run(t, "", "merge", "-o", merged, sums[2], sums[0], sums[1]); code != 0 || !strings.Contains(stderr, "3 shards") {
		t.Fatalf("merge: %d %s", code, stderr)
	}
	budget := filepath.Join(tmp, "b.yaml")
	if err := os.WriteFile(budget, []byte(`version: 1
endpoints:
  - match: {service: "*"}
    p99: 50ms
    slowRequests: {threshold: 30ms, allowed: 5%}
    errors: {rate: 1%}
hops:
  - match: {to: "*"}
    p95: 10ms
  - match: {to: "*"}
    on: critical-path
    p99: 20ms
layers:
  - name: data
    endpoint: {service: "*"}
    match: [{to: "postgres*"}, {to: "redis*"}]
    p95: 6ms
`), 0o644); err != nil {
		t.Fatal(err)
	}
	strip := func(s string) string {
		var m map[string]any
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			t.Fatalf("%v: %.200s", err, s)
		}
		delete(m, "input")
		delete(m, "summary")
		delete(m, "parallelizable")
		b, _ := json.Marshal(m)
		return string(b)
	}
	for _, tc := range []struct {
		name string
		args []string
		json bool
	}{
		{"analyze", []string{"analyze", "-o", "json"}, true},
		{"check", []string{"check", "-o", "json", "--budget", budget}, true},
		{"profile", []string{"profile"}, false},
		{"profile self", []string{"profile", "--sample-type", "self"}, false},
	} {
		fromTraces, _, c1 := run(t, "", append(tc.args, shards...)...)
		fromSum, stderr, c2 := run(t, "", append(tc.args, merged)...)
		mixed, _, c3 := run(t, "", append(tc.args, sums[0], shards[1], sums[2])...)
		if c1 != c2 || c1 != c3 {
			t.Fatalf("%s: exit codes %d, %d, %d (%s)", tc.name, c1, c2, c3, stderr)
		}
		if tc.json {
			fromTraces, fromSum, mixed = strip(fromTraces), strip(fromSum), strip(mixed)
		}
		if fromTraces != fromSum || fromTraces != mixed {
			t.Errorf("%s: summaries give another result than the traces:\n%.600s\n%.600s", tc.name, fromTraces, fromSum)
		}
	}
	// diff: a summary on one side, the traces on the other: nothing changed.
	out, stderr, code := run(t, "", append([]string{"diff", "-o", "json", merged, "--"}, shards...)...)
	if code != 0 || !strings.Contains(out, `"hops"`) || strings.Contains(out, `"regression": true`) {
		t.Fatalf("diff: %d %s %.300s", code, stderr, out)
	}
}

func TestSummaryInputErrors(t *testing.T) {
	dir := tracegentest.Generate(t, "-scenario", "checkout", "-traces", "50", "-seed", "3", "-format", "otlp-json")
	traces := filepath.Join(dir, "traces.otlp.json")
	tmp := t.TempDir()
	sum := filepath.Join(tmp, "s.json")
	if _, stderr, code := run(t, "", "analyze", "--summary", sum, traces); code != 0 {
		t.Fatal(stderr)
	}
	b, err := os.ReadFile(sum)
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(tmp, "cut.json")
	if err := os.WriteFile(cut, b[:len(b)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"suggest", sum}, "s.json is a hopbudget summary: this command needs the traces"},
		{[]string{"trace", "0123", sum}, "needs the traces"},
		{[]string{"analyze", "--critical-path", "jaeger", sum}, "was analysed with other options (critical path default)"},
		{[]string{"analyze", "--per-trace", sum}, "--per-trace needs the traces"},
		{[]string{"profile", "--slowest", "5%", sum}, "need the traces"},
		{[]string{"check", "--budget", "testdata/budget/full.yaml", cut}, "cut.json: offset"},
	} {
		_, stderr, code := run(t, "", tc.args...)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, %q; want 2 and %q", tc.args, code, stderr, tc.want)
		}
	}
}
