package cmd

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"hopbudget/analyze"
	"hopbudget/internal/tracegentest"
	"hopbudget/tracefmt"
)

func TestProfileGolden(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"profile-demo-folded", []string{"profile", "testdata/demo"}},
		{"profile-demo-slowest-self", []string{"profile", "--slowest", "1%", "--sample-type", "self", "testdata/demo"}},
		{"profile-bad-band", []string{"profile", "--percentile-band", "p99-p95", "testdata/demo"}},
		{"profile-band-and-slowest", []string{"profile", "--percentile-band", "p95-p100", "--slowest", "5%", "testdata/demo"}},
		{"profile-bad-sample-type", []string{"profile", "--sample-type", "cpu", "testdata/demo"}},
		{"profile-pprof-sample-type", []string{"profile", "--format", "pprof", "--sample-type", "self", "testdata/demo"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, code := run(t, "", tc.args...)
			golden(t, tc.name, stdout, stderr, code)
		})
	}
}

// demoReport analyses testdata/demo in-process, as analyze does.
func demoReport(t *testing.T, perTrace bool) *analyze.Report {
	t.Helper()
	res, err := tracefmt.Read(context.Background(), []string{"testdata/demo"}, tracefmt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	opts := analyze.DefaultOptions()
	opts.PerTrace = perTrace
	r, err := analyze.Analyze(context.Background(), res.Traces, opts)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// foldedSum adds up the values of folded output and checks each line.
func foldedSum(t *testing.T, out string) int64 {
	t.Helper()
	var sum int64
	for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		i := strings.LastIndexByte(l, ' ')
		v, err := strconv.ParseInt(l[i+1:], 10, 64)
		if i < 0 || err != nil || v <= 0 {
			t.Fatalf("bad folded line %q", l)
		}
		sum += v
	}
	return sum
}

// slowestSum is the total duration of the k slowest requests of each
// endpoint, k = keep(n), in ns divided by 1000 (the profile's µs total).
func slowestSum(r *analyze.Report, keep func(n int) int) int64 {
	var sum int64
	for _, e := range r.Endpoints {
		xs := e.Samples // ascending
		for _, v := range xs[len(xs)-keep(len(xs)):] {
			sum += v
		}
	}
	return sum / 1000
}

// Folded stacks add up to the total critical-path time, which is the sum of
// the requests' durations (the demo traces have one root each); a band keeps
// exactly the slowest requests of each endpoint.
func TestProfileFoldedSums(t *testing.T) {
	r := demoReport(t, false)
	if r.Counts.MultiRootTraces != 0 {
		t.Fatal("demo traces should have one root each")
	}
	stdout, _, code := run(t, "", "profile", "testdata/demo")
	if code != ExitOK {
		t.Fatalf("exit %d", code)
	}
	if got, want := foldedSum(t, stdout), slowestSum(r, func(n int) int { return n }); got != want {
		t.Errorf("folded sum %d µs, requests' total %d µs", got, want)
	}

	// 1% of 400 checkouts is 4; 1% of 27 dispatches rounds up to 1.
	slow, stderr, code := run(t, "", "profile", "--slowest", "1%", "testdata/demo")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	want := slowestSum(r, func(n int) int { return (n + 99) / 100 })
	if got := foldedSum(t, slow); got != want {
		t.Errorf("--slowest 1%%: folded sum %d µs, the 4 + 1 slowest requests' %d µs", got, want)
	}
	if !strings.Contains(stderr, "POST /checkout: 4 of 400 requests in p99-p100") || !strings.Contains(stderr, "GET /dispatch: 1 of 27 requests") {
		t.Errorf("summary: %s", stderr)
	}
	band, _, _ := run(t, "", "profile", "--percentile-band", "p99-p100", "testdata/demo")
	if band != slow {
		t.Error("--percentile-band p99-p100 differs from --slowest 1%")
	}
	// p95-p100 of 400 is the 20 slowest; of 27, ranks 26 and 27.
	p95, _, _ := run(t, "", "profile", "--percentile-band", "p95-p100", "testdata/demo")
	if got, want := foldedSum(t, p95), slowestSum(r, func(n int) int { return n - 95*n/100 }); got != want {
		t.Errorf("p95-p100: folded sum %d µs, want %d", got, want)
	}
}

func TestProfileSpeedscope(t *testing.T) {
	out := filepath.Join(t.TempDir(), "demo.speedscope.json")
	if _, stderr, code := run(t, "", "profile", "-o", out, "testdata/demo"); code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var f speedscopeFile
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	if f.Schema != speedscopeSchema || len(f.Profiles) != 3 {
		t.Fatalf("schema %q, %d profiles", f.Schema, len(f.Profiles))
	}
	for i, p := range f.Profiles {
		if p.Type != "sampled" || p.Unit != "microseconds" || p.Name != analyze.SampleTypes[i] || len(p.Samples) != len(p.Weights) {
			t.Errorf("profile %d: %s %s %s, %d samples, %d weights", i, p.Type, p.Unit, p.Name, len(p.Samples), len(p.Weights))
		}
		var sum int64
		for j, w := range p.Weights {
			sum += w
			for _, fr := range p.Samples[j] {
				if fr < 0 || int(fr) >= len(f.Shared.Frames) {
					t.Fatalf("frame index %d out of range", fr)
				}
			}
		}
		if sum != p.EndValue {
			t.Errorf("%s: weights add up to %d, endValue %d", p.Name, sum, p.EndValue)
		}
		// The folded output of the same sample type has the same total.
		folded, _, _ := run(t, "", "profile", "--sample-type", p.Name, "testdata/demo")
		if got := foldedSum(t, folded); got != sum {
			t.Errorf("%s: folded %d, speedscope %d", p.Name, got, sum)
		}
	}
}

// pprofTop runs `go tool pprof -top` on file and returns each function's
// flat and cum values (µs).
func pprofTop(t *testing.T, goBin, file string, extra ...string) (flat, cum map[string]int64) {
	t.Helper()
	args := append([]string{"tool", "pprof", "-top", "-nodecount=100000", "-nodefraction=0", "-edgefraction=0", "-unit=us"}, extra...)
	c := exec.Command(goBin, append(args, file)...)
	c.Env = append(os.Environ(), "PPROF_TMPDIR="+t.TempDir())
	var stderr bytes.Buffer
	c.Stderr = &stderr
	out, err := c.Output()
	if err != nil {
		t.Fatalf("go tool pprof: %v\n%s", err, stderr.String())
	}
	// Rows: flat flat% sum% cum cum% name (the name may contain spaces).
	flat, cum = map[string]int64{}, map[string]int64{}
	rows := false
	for _, l := range strings.Split(string(out), "\n") {
		fs := strings.Fields(l)
		if len(fs) == 5 && fs[0] == "flat" && fs[1] == "flat%" {
			rows = true
			continue
		}
		if !rows || len(fs) < 6 {
			continue
		}
		us := func(s string) int64 {
			v, err := strconv.ParseFloat(strings.TrimSuffix(s, "us"), 64)
			if !strings.HasSuffix(s, "us") || err != nil {
				t.Fatalf("pprof value %q in %q", s, l)
			}
			return int64(v)
		}
		// The name starts after the fifth field.
		rest := l
		for range 5 {
			rest = strings.TrimLeft(rest, " ")
			rest = rest[strings.IndexByte(rest, ' '):]
		}
		name := strings.TrimSpace(rest)
		flat[name], cum[name] = us(fs[0]), us(fs[3])
	}
	if !rows {
		t.Fatalf("no rows in pprof output:\n%s", out)
	}
	return flat, cum
}

// checkPprofTop writes the profile of paths, runs go tool pprof -top on it
// and compares each operation's flat critical-path time with what analyze's
// per-trace critical paths attribute to it, and the flat wall time with the
// spans' durations. With exact false (inputs with sub-µs times), each figure
// may differ by 1 µs per segment or span behind it: analyze truncates every
// timestamp to µs, the profile the sums in ns.
func checkPprofTop(t *testing.T, goBin string, paths []string, exact bool) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "profile.pb.gz")
	if _, stderr, code := run(t, "", append([]string{"profile", "-o", file}, paths...)...); code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	res, err := tracefmt.Read(context.Background(), paths, tracefmt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	opts := analyze.DefaultOptions()
	opts.PerTrace = true
	r, err := analyze.Analyze(context.Background(), res.Traces, opts)
	if err != nil {
		t.Fatal(err)
	}
	cp, cpN := map[string]int64{}, map[string]int64{}
	for _, tr := range r.Traces {
		for _, s := range tr.CriticalPath {
			cp[s.Service+": "+s.Operation] += s.EndUs - s.StartUs
			cpN[s.Service+": "+s.Operation]++
		}
	}
	wall, wallN := map[string]int64{}, map[string]int64{}
	for _, tr := range res.Traces {
		for _, s := range tr.Spans {
			wall[s.Service+": "+s.Operation] += (s.End - s.Start) / 1000
			wallN[s.Service+": "+s.Operation]++
		}
	}
	compare := func(what string, got, want, n map[string]int64) {
		t.Helper()
		for name, v := range got {
			if v == 0 && want[name] == 0 {
				delete(got, name) // pprof lists callers with no flat time
			}
		}
		if len(got) != len(want) {
			t.Errorf("%s: pprof lists %d operations, want %d:\n got %v\nwant %v", what, len(got), len(want), got, want)
			return
		}
		for name, w := range want {
			d := got[name] - w
			if d < 0 {
				d = -d
			}
			if exact && d != 0 || d > n[name] {
				t.Errorf("%s: %s: pprof %d µs, want %d µs", what, name, got[name], w)
			}
		}
	}
	flat, cum := pprofTop(t, goBin, file)
	compare("flat critical path", flat, cp, cpN)
	// A root operation's cum is all the time of its requests.
	for _, e := range r.Endpoints {
		var sum int64
		for _, v := range e.Samples {
			sum += v
		}
		if got := cum[e.Service+": "+e.Operation]; got != sum/1000 && exact {
			t.Errorf("cum of %s: %s = %d µs, the requests' total %d µs", e.Service, e.Operation, got, sum/1000)
		}
	}
	flat, _ = pprofTop(t, goBin, file, "-sample_index=wall")
	compare("flat wall", flat, wall, wallN)
}

// go tool pprof -top on the written profile lists the same per-operation
// critical-path totals as analyze.
func TestProfilePprofTop(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go toolchain: cannot run go tool pprof")
	}
	t.Run("demo", func(t *testing.T) { checkPprofTop(t, goBin, []string{"testdata/demo"}, false) })
	t.Run("tracegen-mixed", func(t *testing.T) {
		// Whole-µs times: the figures agree exactly. Mixed covers async
		// consumers, fan-outs, deep chains and several endpoints.
		dir := tracegentest.Generate(t, "-scenario", "mixed", "-traces", "300", "-seed", "7", "-format", "otlp-proto")
		checkPprofTop(t, goBin, []string{filepath.Join(dir, "traces.otlp.pb")}, true)
	})
}

// The profile's bytes depend only on the input, not on the clock or the
// number of workers.
func TestProfilePprofDeterministic(t *testing.T) {
	dir := t.TempDir()
	var outs [2][]byte
	for i, w := range []string{"1", "4"} {
		file := filepath.Join(dir, w+".pb.gz")
		if _, stderr, code := run(t, "", "profile", "--workers", w, "-o", file, "testdata/demo"); code != ExitOK {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		outs[i], _ = os.ReadFile(file)
	}
	if !bytes.Equal(outs[0], outs[1]) {
		t.Error("two runs wrote different profiles")
	}
}

func TestProfileFormatFromName(t *testing.T) {
	for name, want := range map[string]Format{"x.pb.gz": "pprof", "x.pprof": "pprof", "X.PB": "pprof", "x.json": "speedscope",
		"x.folded": "folded", "": "folded"} {
		o := &ProfileOptions{OutputFile: name}
		if got, _ := o.format(); got != want {
			t.Errorf("%q: %s, want %s", name, got, want)
		}
	}
	if _, err := (&ProfileOptions{Format: "svg"}).format(); err == nil || !slices.Contains(strings.Fields(err.Error()), "pprof,") {
		t.Errorf("--format svg: %v", err)
	}
}

// The speedscope file as the tests read it back.
type speedscopeFile struct {
	Schema             string              `json:"$schema"`
	Shared             speedscopeShared    `json:"shared"`
	Profiles           []speedscopeProfile `json:"profiles"`
	Name               string              `json:"name"`
	ActiveProfileIndex int                 `json:"activeProfileIndex"`
	Exporter           string              `json:"exporter"`
}

type speedscopeShared struct {
	Frames []speedscopeFrame `json:"frames"`
}

type speedscopeFrame struct {
	Name string `json:"name"`
	File string `json:"file,omitempty"`
}

type speedscopeProfile struct {
	Type       string    `json:"type"`
	Name       string    `json:"name"`
	Unit       string    `json:"unit"`
	StartValue int64     `json:"startValue"`
	EndValue   int64     `json:"endValue"`
	Samples    [][]int32 `json:"samples"`
	Weights    []int64   `json:"weights"`
}
