package tracefmt

import (
	"context"
	"path/filepath"
	"reflect"
	"runtime"
	"sort"
	"testing"

	"hopbudget/internal/tracegentest"
)

// readOutcome is everything observable of a Read: files, traces with their
// spans (values, in order), counts, warnings, or the error.
type readOutcome struct {
	Err      string
	Files    []FileSummary
	Traces   map[TraceID][]Span
	Order    []TraceID
	Read     int
	Kept     int
	Rejected map[WarningKind]int
	Warnings []Warning
	Encoding Encoding
	Aliases  map[string]string
}

func readOutcomeOf(t *testing.T, paths []string, opts Options) readOutcome {
	t.Helper()
	res, err := Read(context.Background(), paths, opts)
	if err != nil {
		return readOutcome{Err: err.Error()}
	}
	defer res.Close()
	k := res.Sink
	o := readOutcome{Files: res.Files, Read: k.Read, Kept: k.Kept(), Rejected: k.Rejected,
		Warnings: k.Warnings(), Encoding: k.Encoding, Aliases: k.Aliases}
	if res.Spilled() {
		o.Traces = allTraces(t, res)
		return o
	}
	o.Traces = map[TraceID][]Span{}
	for _, tr := range res.Traces {
		o.Order = append(o.Order, tr.ID)
		for _, s := range tr.Spans {
			o.Traces[tr.ID] = append(o.Traces[tr.ID], *s)
		}
	}
	return o
}

// The store stage (store.go) is a pipeline: Read gives exactly what storing
// on the decoder's goroutine gives, spilled or not, for every format, with
// rejections, warnings and several files.
func TestReadStoreStageSameAsInline(t *testing.T) {
	formats := "otlp-json,otlp-jsonl,otlp-proto,otlp-proto-stream,jaeger-json,jaeger-proto,otlp-protojson"
	dir := tracegentest.Generate(t, "-scenario", "mixed", "-traces", "150", "-seed", "11", "-dup", "0.02",
		"-orphans", "0.05", "-error-rate", "0.05", "-format", formats, "-split", "2")
	files, _ := filepath.Glob(filepath.Join(dir, "traces*"))
	sort.Strings(files)
	if len(files) < 8 {
		t.Fatalf("want several files, got %v", files)
	}
	inputs := [][]string{files, {dir}, {"../testdata/bad/bad-ids.otlp.json"}, {"../testdata/formats"}}
	for _, f := range files {
		inputs = append(inputs, []string{f})
	}
	for _, in := range inputs {
		for _, maxMem := range []int64{0, 64 << 10} {
			opts := Options{MaxMemory: maxMem, TmpDir: t.TempDir()}
			staged := readOutcomeOf(t, in, opts)
			prev := runtime.GOMAXPROCS(1) // no second core: no stage
			inline := readOutcomeOf(t, in, opts)
			runtime.GOMAXPROCS(prev)
			if staged.Err == "" && staged.Kept == 0 {
				t.Fatalf("%v: nothing read", in)
			}
			if !reflect.DeepEqual(staged, inline) {
				t.Errorf("%v, max memory %d: the store stage changed the result:\nstaged %+v\ninline %+v", in, maxMem, staged, inline)
			}
		}
	}
}
