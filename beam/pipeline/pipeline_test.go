package pipeline

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem/memfs"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/prism"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"

	"hopbudget/analyze"
	"hopbudget/summary"
	"hopbudget/tracefmt"
)

// Every pipeline here runs on Prism, in this process.
func TestMain(m *testing.M) {
	ptest.MainWithDefault(m, "prism")
}

// sharedDir finds ../shared beside the repository (the CI layout) above the
// working directory.
func sharedDir(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for d := wd; ; d = filepath.Dir(d) {
		cand := filepath.Join(d, "..", "shared")
		if _, err := os.Stat(filepath.Join(cand, "tracegen", "main.go")); err == nil {
			return filepath.Clean(cand)
		}
		if filepath.Dir(d) == d {
			t.Skipf("../shared/tracegen not found above %s: the pipeline tests need tracegen data", wd)
		}
	}
}

var (
	tracegenOnce sync.Once
	tracegenBin  string
	tracegenErr  error
)

// tracegen runs the generator (built once per test binary) into a new
// temporary directory and returns it.
func tracegen(t *testing.T, args ...string) string {
	t.Helper()
	shared := sharedDir(t)
	tracegenOnce.Do(func() {
		dir, err := os.MkdirTemp("", "hopbudget-beam-tracegen")
		if err != nil {
			tracegenErr = err
			return
		}
		tracegenBin = filepath.Join(dir, "tracegen")
		out, err := exec.Command("go", "build", "-C", filepath.Join(shared, "tracegen"), "-o", tracegenBin, ".").CombinedOutput()
		if err != nil {
			tracegenErr = fmt.Errorf("building tracegen: %v\n%s", err, out)
		}
	})
	if tracegenErr != nil {
		t.Fatal(tracegenErr)
	}
	dir := t.TempDir()
	cmd := exec.Command(tracegenBin, append(args, "-o", dir)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("tracegen %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return dir
}

// scatter rewrites an OTLP JSON Lines file into n files, dealing out the
// spans round-robin, so that almost every trace has spans in several files
// and only the shuffle brings a trace together. Each span keeps its
// resource and scope (the JSON is moved, not re-encoded).
func scatter(t *testing.T, src, dir, prefix string, n int) {
	t.Helper()
	type scopeSpans struct {
		Scope json.RawMessage   `json:"scope,omitempty"`
		Spans []json.RawMessage `json:"spans"`
	}
	type resourceSpans struct {
		Resource   json.RawMessage `json:"resource,omitempty"`
		ScopeSpans []scopeSpans    `json:"scopeSpans"`
	}
	type request struct {
		ResourceSpans []resourceSpans `json:"resourceSpans"`
	}
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	outs := make([]*bufio.Writer, n)
	for i := range outs {
		f, err := os.Create(filepath.Join(dir, fmt.Sprintf("%s-%02d.jsonl", prefix, i)))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		outs[i] = bufio.NewWriter(f)
	}
	sc := bufio.NewScanner(in)
	sc.Buffer(nil, 1<<30)
	next := 0
	for sc.Scan() {
		var req request
		if err := json.Unmarshal(sc.Bytes(), &req); err != nil {
			t.Fatal(err)
		}
		parts := make([]request, n)
		for _, rs := range req.ResourceSpans {
			for _, ss := range rs.ScopeSpans {
				for _, sp := range ss.Spans {
					p := &parts[next%n]
					next++
					if len(p.ResourceSpans) == 0 || !bytes.Equal(p.ResourceSpans[len(p.ResourceSpans)-1].Resource, rs.Resource) {
						p.ResourceSpans = append(p.ResourceSpans, resourceSpans{Resource: rs.Resource})
					}
					r := &p.ResourceSpans[len(p.ResourceSpans)-1]
					if len(r.ScopeSpans) == 0 || !bytes.Equal(r.ScopeSpans[len(r.ScopeSpans)-1].Scope, ss.Scope) {
						r.ScopeSpans = append(r.ScopeSpans, scopeSpans{Scope: ss.Scope})
					}
					s := &r.ScopeSpans[len(r.ScopeSpans)-1]
					s.Spans = append(s.Spans, sp)
				}
			}
		}
		for i, p := range parts {
			if len(p.ResourceSpans) == 0 {
				continue
			}
			b, err := json.Marshal(p)
			if err != nil {
				t.Fatal(err)
			}
			outs[i].Write(append(b, '\n'))
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	for _, w := range outs {
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
	}
}

// files lists what the patterns match, in the pipeline's (and the CLI's)
// order: patterns in order, each one's matches sorted.
func files(t *testing.T, patterns []string) []string {
	t.Helper()
	var out []string
	for _, p := range patterns {
		m, err := filepath.Glob(p)
		if err != nil || len(m) == 0 {
			t.Fatalf("%s: %v, %d matches", p, err, len(m))
		}
		slices.Sort(m)
		out = append(out, m...)
	}
	return out
}

// runPipeline runs the pipeline on Prism and returns the summary it wrote.
func runPipeline(t *testing.T, c Config) (*summary.Summary, Stats, error) {
	t.Helper()
	p, s := beam.NewPipelineWithRoot()
	if err := Build(s, c); err != nil {
		t.Fatal(err)
	}
	res, err := ptest.RunWithMetrics(p)
	if err != nil {
		return nil, Stats{}, err
	}
	fs, err := filesystem.New(context.Background(), c.Output)
	if err != nil {
		t.Fatal(err)
	}
	defer fs.Close()
	f, err := fs.OpenRead(context.Background(), c.Output)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sum, err := summary.Decode(f, c.Output)
	if err != nil {
		t.Fatal(err)
	}
	return sum, StatsOf(res), nil
}

// TestPipelineMatchesCLI runs the pipeline over traces scattered across
// many files and compares its summary with the CLI's analysis of the same
// files.
func TestPipelineMatchesCLI(t *testing.T) {
	ctx := context.Background()
	// Faults included: duplicates (the copies of a span land in different
	// files), orphans, errors, a skewed service, millisecond clocks.
	gen := tracegen(t, "-scenario", "mixed", "-traces", "1500", "-seed", "7", "-format", "otlp-jsonl",
		"-dup", "0.02", "-orphans", "0.03", "-error-rate", "0.03", "-skew-ms", "30", "-ms-clock", "web")
	in := t.TempDir()
	scatter(t, filepath.Join(gen, "traces.otlp.jsonl"), in, "scattered", 12)
	// And a second export of other traces in another format, compressed,
	// whole traces per file (tracegen's own split).
	jaeger := tracegen(t, "-scenario", "checkout", "-traces", "400", "-seed", "8", "-format", "jaeger-json",
		"-compress", "gzip", "-split", "3")
	patterns := []string{filepath.Join(in, "scattered-*.jsonl"), filepath.Join(jaeger, "traces-*.jaeger.json.gz")}

	// The CLI's path: every file in one Read, in the same order.
	all, err := tracefmt.Read(ctx, files(t, patterns), tracefmt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// The shuffle must matter: almost every trace of the scattered files
	// has spans in several of them.
	inFiles := map[tracefmt.TraceID]int{}
	for _, f := range files(t, patterns[:1]) {
		r, err := tracefmt.Read(ctx, []string{f}, tracefmt.Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, tr := range r.Traces {
			inFiles[tr.ID]++
		}
	}
	spread := 0
	for _, n := range inFiles {
		if n > 1 {
			spread++
		}
	}
	if len(inFiles) != 1500 || spread < 1400 {
		t.Fatalf("precondition: %d of %d traces have spans in more than one file, want 1500 traces, most of them spread", spread, len(inFiles))
	}
	t.Logf("%d traces, %d spans; %d of the %d scattered traces have spans in several files", len(all.Traces), all.Sink.Kept(), spread, len(inFiles))

	// The same files in Beam's in-memory filesystem stand for any
	// filesystem other than the local one (gs://, s3://): read through
	// Beam's filesystem interface, the summary written through it too.
	var memPatterns []string
	for i, p := range patterns {
		for _, f := range files(t, []string{p}) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			memfs.Write(fmt.Sprintf("memfs://in%d/%s", i, filepath.Base(f)), b)
		}
		memPatterns = append(memPatterns, fmt.Sprintf("memfs://in%d/%s", i, filepath.Base(p)))
	}

	for _, tc := range []struct {
		name, mode string
		inputs     []string
		output     string
		limits     summary.Limits
	}{
		{"default", "default", patterns, filepath.Join(t.TempDir(), "out", "summary.json"), summary.Limits{}},
		{"jaeger", "jaeger", patterns, filepath.Join(t.TempDir(), "summary.json"), summary.Limits{}},
		{"memfs", "default", memPatterns, "memfs://out/summary.json", summary.Limits{}},
		// Figures with more than 100 values are sketched: most of them,
		// and most only once batches are merged.
		{"sketched", "default", patterns, filepath.Join(t.TempDir(), "summary.json"),
			summary.Limits{Exact: 100, Accuracy: 0.005, Rows: 200_000}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := Config{Inputs: tc.inputs, Output: tc.output, CriticalPath: tc.mode, Limits: tc.limits,
				// Small batches: many partial summaries to merge.
				BatchSpans: 2000}
			got, st, err := runPipeline(t, c)
			if err != nil {
				t.Fatal(err)
			}
			opts, err := c.Options()
			if err != nil {
				t.Fatal(err)
			}
			if st.Files != 15 || st.SpansKept != int64(all.Sink.Kept()) || st.Traces != int64(len(all.Traces)) {
				t.Errorf("counters: %+v; want 15 files, %d spans kept, %d traces", st, all.Sink.Kept(), len(all.Traces))
			}
			if st.Summaries < 2 {
				t.Errorf("%d partial summaries: the test should merge several", st.Summaries)
			}
			if got.SplitTraces != 0 || got.Shards != int(st.Summaries) {
				t.Errorf("summary: %d traces seen in two shards (want 0: one worker per trace), %d shards (want %d)",
					got.SplitTraces, got.Shards, st.Summaries)
			}
			gotRep := got.Report()
			// The same analysis of the same traces in one summary, and
			// the CLI's analysis without summaries.
			limits := tc.limits
			if limits == (summary.Limits{}) {
				limits = summary.DefaultLimits()
			}
			one, err := summary.FromTraces(ctx, all.Traces, opts, "", limits)
			if err != nil {
				t.Fatal(err)
			}
			oneRep := one.Report()
			cli, err := analyze.Analyze(ctx, all.Traces, opts)
			if err != nil {
				t.Fatal(err)
			}
			if len(gotRep.Endpoints) == 0 || len(gotRep.Hops) == 0 || len(gotRep.FanIn) == 0 {
				t.Fatalf("an empty report: %d endpoints, %d hops, %d fan-in parents", len(gotRep.Endpoints), len(gotRep.Hops), len(gotRep.FanIn))
			}
			if tc.limits.Exact > 0 && gotRep.Summary.Approximate < len(gotRep.Hops)/2 {
				t.Errorf("only %d of %d endpoints, hops and fan-in parents sketched: the test should sketch most",
					gotRep.Summary.Approximate, len(gotRep.Endpoints)+len(gotRep.Hops)+len(gotRep.FanIn))
			}
			if tc.limits.Exact == 0 && gotRep.Summary.Approximate != 0 {
				t.Errorf("%d items sketched at the default limits: the comparison should be exact", gotRep.Summary.Approximate)
			}
			t.Logf("%d partial summaries merged, %d items sketched", st.Summaries, gotRep.Summary.Approximate)
			compareReports(t, "pipeline vs one summary", gotRep, oneRep, true)
			compareReports(t, "pipeline vs CLI", gotRep, cli, false)
		})
	}
}

// compareReports checks every figure of got (rebuilt from a summary)
// against want: counts, sums, maxima and errors equal; percentiles and
// exemplars equal where got is exact, and percentiles within the sketch's
// relative accuracy (plus 1 µs for the truncation to µs) where got says
// Approximate. Exemplars are compared only when sameOrder: a percentile's
// exemplar is the first trace with that value, and a summary orders traces
// by (first span start, trace ID) where the CLI keeps input order.
func compareReports(t *testing.T, what string, got, want *analyze.Report, sameOrder bool) {
	t.Helper()
	acc := got.Summary.RelativeAccuracy
	eq := func(name string, g, w any) {
		t.Helper()
		if g != w {
			t.Errorf("%s: %s = %v, want %v", what, name, g, w)
		}
	}
	pct := func(approx bool, name string, g, w int64) {
		t.Helper()
		if !approx {
			eq(name, g, w)
		} else if math.Abs(float64(g-w)) > acc*math.Abs(float64(w))+1 {
			t.Errorf("%s: %s = %d, want %d ±%g%% (sketched)", what, name, g, w, 100*acc)
		}
	}
	exemplars := func(approx bool, name string, g, w analyze.Exemplars) {
		t.Helper()
		if !approx && sameOrder {
			eq(name+" exemplars", g, w)
		}
	}
	nearF := func(name string, g, w float64) {
		t.Helper()
		if math.Abs(g-w) > 1e-9*math.Max(1, math.Abs(w)) {
			t.Errorf("%s: %s = %v, want %v", what, name, g, w)
		}
	}
	eq("counts", got.Counts, want.Counts)
	eq("endpoints", len(got.Endpoints), len(want.Endpoints))
	for i := range min(len(got.Endpoints), len(want.Endpoints)) {
		g, w := got.Endpoints[i], want.Endpoints[i]
		n, a := "endpoint "+w.Service+" "+w.Operation, g.Approximate
		eq(n+" key", g.Service+" "+g.Operation, w.Service+" "+w.Operation)
		eq(n+" count", g.Count, w.Count)
		pct(a, n+" p50", g.P50Us, w.P50Us)
		pct(a, n+" p95", g.P95Us, w.P95Us)
		pct(a, n+" p99", g.P99Us, w.P99Us)
		eq(n+" max", g.MaxUs, w.MaxUs)
		exemplars(a, n, g.Exemplars, w.Exemplars)
	}
	eq("hops", len(got.Hops), len(want.Hops))
	for i := range min(len(got.Hops), len(want.Hops)) {
		g, w := got.Hops[i], want.Hops[i]
		n, a := fmt.Sprintf("hop %s→%s %s %q", w.From, w.To, w.Operation, w.Statement), g.Approximate
		eq(n+" key", fmt.Sprint(g.From, g.To, g.Operation, g.Statement), fmt.Sprint(w.From, w.To, w.Operation, w.Statement))
		eq(n+" count", g.Count, w.Count)
		pct(a, n+" p50", g.P50Us, w.P50Us)
		pct(a, n+" p95", g.P95Us, w.P95Us)
		pct(a, n+" p99", g.P99Us, w.P99Us)
		eq(n+" max", g.MaxUs, w.MaxUs)
		exemplars(a, n, g.Exemplars, w.Exemplars)
		eq(n+" networkCount", g.NetworkCount, w.NetworkCount)
		pct(a, n+" networkP50", g.NetworkP50Us, w.NetworkP50Us)
		pct(a, n+" networkP99", g.NetworkP99Us, w.NetworkP99Us)
		eq(n+" errorCount", g.ErrorCount, w.ErrorCount)
		nearF(n+" errorRate", g.ErrorRate, w.ErrorRate)
		pct(a, n+" serverSelfP50", g.ServerSelfP50Us, w.ServerSelfP50Us)
		pct(a, n+" serverSelfP99", g.ServerSelfP99Us, w.ServerSelfP99Us)
		eq(n+" traces", g.Traces, w.Traces)
		eq(n+" criticalPathTotal", g.CriticalPathTotalUs, w.CriticalPathTotalUs)
		eq(n+" criticalPathMean", g.CriticalPathMeanUs, w.CriticalPathMeanUs)
		pct(a, n+" criticalPathP99", g.CriticalPathP99Us, w.CriticalPathP99Us)
		nearF(n+" onPathFraction", g.OnPathFraction, w.OnPathFraction)
		nearF(n+" callsPerTrace mean", g.CallsPerTrace.Mean, w.CallsPerTrace.Mean)
		pct(a, n+" callsPerTrace p50", g.CallsPerTrace.P50, w.CallsPerTrace.P50)
		pct(a, n+" callsPerTrace p99", g.CallsPerTrace.P99, w.CallsPerTrace.P99)
		eq(n+" callsPerTrace max", g.CallsPerTrace.Max, w.CallsPerTrace.Max)
	}
	eq("fan-in parents", len(got.FanIn), len(want.FanIn))
	for i := range min(len(got.FanIn), len(want.FanIn)) {
		g, w := got.FanIn[i], want.FanIn[i]
		n, a := "fan-in "+w.Service+" "+w.Operation, g.Approximate
		eq(n+" key", g.Service+" "+g.Operation, w.Service+" "+w.Operation)
		eq(n+" count", g.Count, w.Count)
		eq(n+" parentSpans", g.ParentSpans, w.ParentSpans)
		pct(a, n+" waitP50", g.WaitP50Us, w.WaitP50Us)
		pct(a, n+" waitP95", g.WaitP95Us, w.WaitP95Us)
		pct(a, n+" waitP99", g.WaitP99Us, w.WaitP99Us)
		nearF(n+" partialFailureRate", g.PartialFailureRate, w.PartialFailureRate)
		pct(a, n+" overheadP50", g.OverheadP50Us, w.OverheadP50Us)
		pct(a, n+" overheadP99", g.OverheadP99Us, w.OverheadP99Us)
		eq(n+" stragglers", fmt.Sprint(g.Stragglers), fmt.Sprint(w.Stragglers))
		exemplars(a, n, g.Exemplars, w.Exemplars)
	}
	eq("clocks", fmt.Sprint(got.Clocks), fmt.Sprint(want.Clocks))
	eq("warnings", len(got.Warnings), len(want.Warnings))
}

// TestPipelineErrors: a job over bad inputs fails with an error that says
// what is wrong and where, and writes nothing.
func TestPipelineErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good.jaeger.json", `{"data":[{"traceID":"0af7651916cd43dd8448eb211c80319c","spans":[{"traceID":"0af7651916cd43dd8448eb211c80319c","spanID":"b7ad6b7169203331","operationName":"GET /","references":[],"startTime":1767225600000000,"duration":1000,"tags":[],"processID":"p1"}],"processes":{"p1":{"serviceName":"web","tags":[]}}}]}`)
	bad := write("bad.jaeger.json", `{"data":[{"traceID":"0af7651916cd43dd8448eb211c80319c","spans":[{"traceID":`)
	empty := write("empty.otlp.json", `{"resourceSpans":[]}`)
	memBad := "memfs://errors/bad.jaeger.json"
	if b, err := os.ReadFile(bad); err == nil {
		memfs.Write(memBad, b)
	}
	cases := []struct {
		name   string
		inputs []string
		want   []string // substrings of the error
	}{
		{"undecodable file", []string{good, bad}, []string{"reading " + bad + ": line 1, offset 75: data[0].spans[0].traceID"}},
		// Read through Beam's filesystem, the error still names the file.
		{"undecodable file in another filesystem", []string{good, memBad}, []string{"reading " + memBad + ": line 1, offset 75"}},
		{"no spans anywhere", []string{empty}, []string{"no spans in the inputs"}},
		{"no match", []string{filepath.Join(dir, "missing-*.json")}, []string{"missing-*.json: no files match"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "summary.json")
			p, s := beam.NewPipelineWithRoot()
			if err := Build(s, Config{Inputs: c.inputs, Output: out}); err != nil {
				t.Fatal(err)
			}
			err := ptest.Run(p)
			if err == nil {
				t.Fatal("the job succeeded")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("an output was written (%v)", err)
			}
		})
	}
	// A file without spans beside one with spans is only a warning, as
	// for the CLI.
	out := filepath.Join(t.TempDir(), "summary.json")
	sum, st, err := runPipeline(t, Config{Inputs: []string{good, empty}, Output: out})
	if err != nil {
		t.Fatal(err)
	}
	if st.Files != 1 || st.EmptyFiles != 1 || st.Traces != 1 {
		t.Errorf("counters %+v, want 1 file with spans, 1 without, 1 trace", st)
	}
	rep := sum.Report()
	if len(rep.Endpoints) != 1 || rep.Endpoints[0].Service != "web" || rep.Endpoints[0].MaxUs != 1000 {
		t.Errorf("endpoints %+v, want web GET / of 1000 µs", rep.Endpoints)
	}
}

// TestBuildRejects: settings that are wrong fail before anything runs.
func TestBuildRejects(t *testing.T) {
	cases := []struct {
		name string
		c    Config
		want string
	}{
		{"no input", Config{Output: "x"}, "no input"},
		{"no output", Config{Inputs: []string{"x"}}, "no output"},
		{"bad mode", Config{Inputs: []string{"x"}, Output: "y", CriticalPath: "zipkin"}, "critical-path"},
		{"bad clock", Config{Inputs: []string{"x"}, Output: "y", Clocks: []string{"web=soon"}}, "web=soon"},
		{"unregistered scheme", Config{Inputs: []string{"hdfs://a/b"}, Output: "y"}, `"hdfs" not registered`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, s := beam.NewPipelineWithRoot()
			err := Build(s, c.c)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Build: %v, want an error saying %q", err, c.want)
			}
		})
	}
}
