package tracefmt

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"hopbudget/internal/tracegentest"
)

// spanKey is what must survive every format and compression.
type spanKey struct {
	trace          TraceID
	span, parent   SpanID
	service, op    string
	startUs, endUs int64
	kind           Kind
	status         StatusCode
}

func keys(t *testing.T, r *Result) map[spanKey]int {
	t.Helper()
	out := map[spanKey]int{}
	for _, tr := range r.Traces {
		for _, s := range tr.Spans {
			out[spanKey{s.TraceID, s.SpanID, s.Parent, s.Service, s.Operation, s.Start / 1000, s.End / 1000, s.Kind, s.Status}]++
		}
	}
	return out
}

func TestReadCompressionAndSplitGiveSameSpans(t *testing.T) {
	args := []string{"-scenario", "mixed", "-traces", "120", "-seed", "5", "-format", "otlp-json,otlp-jsonl,otlp-proto,otlp-proto-stream,jaeger-json,jaeger-proto,otlp-protojson"}
	plain := tracegentest.Generate(t, args...)
	gz := tracegentest.Generate(t, append(args, "-compress", "gzip", "-split", "3")...)
	zst := tracegentest.Generate(t, append(args, "-compress", "zstd")...)

	want, err := Read(context.Background(), []string{filepath.Join(plain, "traces.otlp.json")}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	wantKeys := keys(t, want)
	if len(wantKeys) == 0 {
		t.Fatal("no spans read")
	}
	for _, dir := range []string{plain, gz, zst} {
		files, _ := filepath.Glob(filepath.Join(dir, "traces*"))
		byFormat := map[string][]string{}
		for _, f := range files {
			base := filepath.Base(f)
			base = strings.TrimSuffix(strings.TrimSuffix(base, ".gz"), ".zst")
			ext := base[strings.Index(base, "."):]
			byFormat[ext] = append(byFormat[ext], f)
		}
		for ext, fs := range byFormat {
			got, err := Read(context.Background(), fs, Options{})
			if err != nil {
				t.Fatalf("%s: %v", ext, err)
			}
			if gk := keys(t, got); !sameKeys(gk, wantKeys) {
				t.Errorf("%s (%s): %d distinct spans differ from otlp-json's %d", filepath.Base(dir), ext, len(gk), len(wantKeys))
			}
			if got.Sink.Read != got.Sink.Kept()+got.Sink.RejectedTotal() {
				t.Errorf("%s: read %d != kept %d + rejected %d", ext, got.Sink.Read, got.Sink.Kept(), got.Sink.RejectedTotal())
			}
			if len(got.Traces) != len(want.Traces) {
				t.Errorf("%s: %d traces, want %d", ext, len(got.Traces), len(want.Traces))
			}
		}
	}
}

func sameKeys(a, b map[spanKey]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, n := range a {
		if b[k] != n {
			return false
		}
	}
	return true
}

func TestReadDirectoryGlobStdin(t *testing.T) {
	gen := tracegentest.Generate(t, "-scenario", "checkout", "-traces", "30", "-seed", "2", "-format", "otlp-jsonl,jaeger-json", "-split", "2")
	dir := t.TempDir()
	for _, f := range []string{"traces-000.otlp.jsonl", "traces-001.otlp.jsonl"} {
		b, err := os.ReadFile(filepath.Join(gen, f))
		if err != nil {
			t.Fatal(err)
		}
		sub := filepath.Join(dir, "sub")
		os.MkdirAll(sub, 0o755)
		// Names without a telling extension: detection is by content.
		if err := os.WriteFile(filepath.Join(sub, strings.ReplaceAll(f, ".", "_")), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not a trace"), 0o644)

	fromDir, err := Read(context.Background(), []string{dir}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(fromDir.Files) != 2 {
		t.Errorf("read %d files from the directory, want 2 (notes.txt skipped)", len(fromDir.Files))
	}
	var skipped bool
	for _, w := range fromDir.Sink.Warnings() {
		skipped = skipped || (w.Kind == WarnSkippedFile && strings.Contains(w.Example, "notes.txt"))
	}
	if !skipped {
		t.Errorf("notes.txt was not reported as skipped: %+v", fromDir.Sink.Warnings())
	}
	if len(fromDir.Traces) != 30 {
		t.Errorf("%d traces, want 30 (traces straddle the two files)", len(fromDir.Traces))
	}

	fromGlob, err := Read(context.Background(), []string{filepath.Join(gen, "traces-*.jaeger.json")}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !sameKeys(keys(t, fromGlob), keys(t, fromDir)) {
		t.Errorf("glob over Jaeger JSON and directory of OTLP JSONL differ")
	}

	b, _ := os.ReadFile(filepath.Join(gen, "traces-000.otlp.jsonl"))
	fromStdin, err := Read(context.Background(), []string{"-"}, Options{Stdin: bytes.NewReader(b)})
	if err != nil {
		t.Fatal(err)
	}
	if fromStdin.Files[0].Name != "-" || fromStdin.Files[0].Format != FormatOTLPJSON || fromStdin.Sink.Kept() == 0 {
		t.Errorf("stdin: %+v", fromStdin.Files[0])
	}
}

func TestReadErrorsNameTheFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(content), 0o644)
		return p
	}
	tests := []struct {
		name, path string
		opts       Options
		want       string
	}{
		{"not a trace", write("a.txt", "hello"), Options{}, "a.txt: not a trace export"},
		{"truncated json", write("b.json", `{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"0102`), Options{}, "b.json: line 1"},
		{"missing", filepath.Join(dir, "nope.json"), Options{}, "nope.json"},
		{"no glob match", filepath.Join(dir, "*.nothing"), Options{}, "no files match"},
		{"truncated gzip", write("c.json.gz", "\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff{\"res"), Options{}, "c.json.gz"},
		{"forced wrong format", write("d.json", `{"resourceSpans":[]}`), Options{Format: FormatOTLPProto}, "d.json"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Read(context.Background(), []string{tc.path}, tc.opts)
			if err == nil {
				t.Fatalf("no error, want one containing %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
			var de *DecodeError
			if tc.name == "truncated json" && !errors.As(err, &de) {
				t.Errorf("want a *DecodeError, got %T", err)
			}
		})
	}
}
