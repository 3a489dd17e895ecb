package cmd

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hopbudget/internal/tracegentest"
)

// BenchmarkAnalyzeVsInspect runs `inspect` and `analyze` in-process on ~1M
// tracegen spans and reports their times and the ratio (the target is at
// most 1.3).
func BenchmarkAnalyzeVsInspect(b *testing.B) {
	dir := tracegentest.Generate(b, "-scenario", "mixed", "-spans", "1000000", "-seed", "1", "-format", "otlp-json")
	in := filepath.Join(dir, "traces.otlp.json")
	runCmd := func(args ...string) time.Duration {
		s := &Streams{In: strings.NewReader(""), Out: io.Discard, Err: &bytes.Buffer{}}
		start := time.Now()
		if code := Run(context.Background(), s, args); code != ExitOK {
			b.Fatalf("%v: exit %d: %s", args, code, s.Err)
		}
		return time.Since(start)
	}
	var ins, an time.Duration
	for b.Loop() {
		ins += runCmd("inspect", in)
		an += runCmd("analyze", in)
	}
	n := float64(b.N)
	b.ReportMetric(ins.Seconds()/n, "inspect-s")
	b.ReportMetric(an.Seconds()/n, "analyze-s")
	b.ReportMetric(an.Seconds()/ins.Seconds(), "analyze/inspect")
}
