package cmd

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"hopbudget/internal/tracegentest"
)

var spillNote = regexp.MustCompile(`(?m)^hopbudget: \d+ spans do not fit in --max-memory: spilled to (\d+) partitions in .*\n`)

// Spilled to many partitions under a tiny --max-memory, every command that
// works a partition at a time prints what it prints in memory, byte for
// byte, and leaves no temporary file.
func TestSpilledSameOutput(t *testing.T) {
	shop := tracegentest.Generate(t, "-scenario", "shop", "-traces", "1500", "-seed", "4", "-split", "3", "-format", "otlp-jsonl",
		"-ms-clock", "web", "-error-rate", "0.02")
	mixed := tracegentest.Generate(t, "-scenario", "mixed", "-traces", "800", "-seed", "6", "-format", "otlp-jsonl", "-dup", "0.01", "-orphans", "0.03")
	shopFiles, _ := filepath.Glob(filepath.Join(shop, "*.jsonl"))
	budget := filepath.Join(t.TempDir(), "b.yaml")
	if err := os.WriteFile(budget, []byte(`version: 1
endpoints:
  - match: {service: "*"}
    p99: 50ms
    slowRequests: {threshold: 30ms, allowed: 5%}
hops:
  - match: {to: "*"}
    p95: 10ms
`), 0o644); err != nil {
		t.Fatal(err)
	}
	firstTrace := func() string {
		out, _, code := run(t, "", "analyze", "-o", "json", "--per-trace", shopFiles[0])
		m := regexp.MustCompile(`"traceID":\s*"([0-9a-f]{32})"`).FindStringSubmatch(out)
		if code != 0 || m == nil {
			t.Fatalf("no trace ID: %d %.300s", code, out)
		}
		return m[1]
	}()
	tmp := t.TempDir()
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"analyze json", append([]string{"analyze", "-o", "json"}, shopFiles...)},
		{"analyze table", append([]string{"analyze"}, shopFiles...)},
		{"analyze per-trace", append([]string{"analyze", "-o", "json", "--per-trace"}, shopFiles...)},
		{"analyze mixed", []string{"analyze", "-o", "json", mixed}},
		{"check json", append([]string{"check", "--budget", budget, "-o", "json"}, shopFiles...)},
		{"check table", append([]string{"check", "--budget", budget}, shopFiles...)},
		{"suggest", append([]string{"suggest", "-o", "json", "--what-if", "to=pricing:-20ms"}, shopFiles...)},
		{"inspect", []string{"inspect", "-o", "json", mixed}},
		{"trace", append([]string{"trace", firstTrace[:12]}, shopFiles...)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantOut, wantErr, wantCode := run(t, "", tc.args...)
			gotOut, gotErr, gotCode := run(t, "", append(tc.args, "--max-memory", "1MiB", "--tmp-dir", tmp)...)
			m := spillNote.FindStringSubmatch(gotErr)
			if m == nil || len(m[1]) < 2 {
				t.Fatalf("not spilled to many partitions: %q", gotErr)
			}
			if gotOut != wantOut || gotCode != wantCode || spillNote.ReplaceAllString(gotErr, "") != wantErr {
				t.Errorf("spilled: code %d, stdout %d bytes, stderr %q\nin memory: code %d, stdout %d bytes, stderr %q",
					gotCode, len(gotOut), gotErr, wantCode, len(wantOut), wantErr)
			}
			if len(wantOut) < 100 {
				t.Errorf("little output to compare: %q", wantOut)
			}
			assertNoFiles(t, tmp)
		})
	}
}

func assertNoFiles(t *testing.T, dir string) {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		t.Errorf("left in %s: %s", dir, e.Name())
	}
}

// The commands that write files (profile, report, a summary) write the
// same bytes from a spilled input as from memory: profiles are built a
// partition at a time (bands rank requests over all of them), the report's
// exemplars are read back from their partitions.
func TestSpilledSameFiles(t *testing.T) {
	dir := tracegentest.Generate(t, "-scenario", "shop", "-traces", "1000", "-seed", "4", "-format", "otlp-jsonl", "-ms-clock", "web")
	sum := tracegentest.Generate(t, "-scenario", "shop", "-traces", "300", "-seed", "5", "-format", "otlp-jsonl")
	out, tmp := t.TempDir(), t.TempDir()
	sumFile := filepath.Join(out, "other.summary.json")
	if _, stderr, code := run(t, "", "analyze", "--summary", sumFile, sum); code != 0 {
		t.Fatalf("summary: %d %s", code, stderr)
	}
	for _, tc := range []struct {
		name string
		args []string // OUT is the file written
	}{
		{"profile pprof", []string{"profile", "-o", "OUT.pb.gz", dir}},
		{"profile folded band", []string{"profile", "--percentile-band", "p90-p100", "--format", "folded", "-o", "OUT", dir}},
		{"profile speedscope", []string{"profile", "-o", "OUT.json", dir}},
		{"report", []string{"report", "-o", "OUT.html", dir}},
		{"summary", []string{"analyze", "--summary", "OUT.json", dir}},
		{"traces merged with a summary", []string{"merge", "-o", "OUT.json", sumFile, dir}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			written := func(tag string, extra ...string) []byte {
				args := slices.Clone(tc.args)
				var file string
				for i, a := range args {
					if strings.HasPrefix(a, "OUT") {
						file = filepath.Join(out, tag+strings.TrimPrefix(a, "OUT"))
						args[i] = file
					}
				}
				_, stderr, code := run(t, "", append(args, extra...)...)
				if code != 0 {
					t.Fatalf("%s: exit %d: %s", tag, code, stderr)
				}
				if spilled := spillNote.MatchString(stderr); spilled != (len(extra) > 0) {
					t.Fatalf("%s: spilled %v: %q", tag, spilled, stderr)
				}
				data, err := os.ReadFile(file)
				if err != nil || len(data) < 100 {
					t.Fatalf("%s: %d bytes, %v", tag, len(data), err)
				}
				return data
			}
			want := written("mem")
			got := written("spilled", "--max-memory", "1MiB", "--tmp-dir", tmp)
			if !bytes.Equal(got, want) {
				t.Errorf("spilled: %d bytes, in memory %d bytes: they differ", len(got), len(want))
			}
			assertNoFiles(t, tmp)
		})
	}
}

func TestSpillErrors(t *testing.T) {
	dir := tracegentest.Generate(t, "-scenario", "shop", "-traces", "1000", "-seed", "4", "-format", "otlp-jsonl")
	file := filepath.Join(t.TempDir(), "a-file")
	os.WriteFile(file, nil, 0o600)
	for _, tc := range []struct{ args, want []string }{
		{[]string{"--tmp-dir", filepath.Join(file, "sub"), "--max-memory", "1MiB"}, []string{"spilling to temporary files in " + filepath.Join(file, "sub"), "--tmp-dir"}},
		{[]string{"--max-memory", "12 parsecs"}, []string{"--max-memory", "unknown unit"}},
		{[]string{"--max-memory", "1KiB"}, []string{"at least 1MiB"}},
	} {
		stdout, stderr, code := run(t, "", append([]string{"analyze", dir}, tc.args...)...)
		if code != ExitInputError || stdout != "" {
			t.Errorf("%v: code %d, stdout %q", tc.args, code, stdout)
		}
		for _, w := range tc.want {
			if !strings.Contains(stderr, w) {
				t.Errorf("%v: stderr %q lacks %q", tc.args, stderr, w)
			}
		}
	}
	// The environment sets the default; the flag wins.
	tmp := t.TempDir()
	t.Setenv(maxMemoryEnv, "1MiB")
	if _, stderr, code := run(t, "", "analyze", "--tmp-dir", tmp, dir); code != 0 || !spillNote.MatchString(stderr) {
		t.Errorf("%s=1MiB: code %d, stderr %q", maxMemoryEnv, code, stderr)
	}
	if _, stderr, code := run(t, "", "analyze", "--tmp-dir", tmp, "--max-memory", "0", dir); code != 0 || spillNote.MatchString(stderr) {
		t.Errorf("--max-memory 0: code %d, stderr %q", code, stderr)
	}
	t.Setenv(maxMemoryEnv, "lots")
	if _, stderr, code := run(t, "", "analyze", dir); code != ExitInputError || !strings.Contains(stderr, maxMemoryEnv) {
		t.Errorf("%s=lots: code %d, stderr %q", maxMemoryEnv, code, stderr)
	}
	assertNoFiles(t, tmp)
}

// Interrupted while spilling or analysing, the temporary files go too.
func TestSpillInterrupted(t *testing.T) {
	dir := tracegentest.Generate(t, "-scenario", "shop", "-traces", "1500", "-seed", "4", "-format", "otlp-jsonl")
	tmp := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			if ents, _ := os.ReadDir(tmp); len(ents) > 0 {
				cancel()
				return
			}
		}
	}()
	var out, errb bytes.Buffer
	code := Run(ctx, &Streams{Out: &out, Err: &errb}, []string{"analyze", dir, "--max-memory", "1MiB", "--tmp-dir", tmp})
	cancel()
	<-done
	if code != ExitInterrupted && code != 0 {
		t.Errorf("code %d: %s", code, errb.String())
	}
	assertNoFiles(t, tmp)
}
