package cmd

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hopbudget/internal/tracegentest"
)

// Whole commands run in-process on ~1M tracegen spans (generated once into
// the system temp folder), timed against each other.

// benchInput is the ~1M-span OTLP JSON file the command benchmarks read.
func benchInput(b *testing.B) string {
	dir := tracegentest.Generate(b, "-scenario", "mixed", "-spans", "1000000", "-seed", "1", "-format", "otlp-json")
	return filepath.Join(dir, "traces.otlp.json")
}

// timeCommand runs one command in-process and returns how long it took.
func timeCommand(b *testing.B, args ...string) time.Duration {
	s := &Streams{In: strings.NewReader(""), Out: io.Discard, Err: &bytes.Buffer{}}
	start := time.Now()
	if code := Run(context.Background(), s, args); code != ExitOK {
		b.Fatalf("%v: exit %d: %s", args, code, s.Err)
	}
	return time.Since(start)
}

// BenchmarkReportVsAnalyze reports the times of `analyze` and `report`,
// their ratio (issue 8 asks for at most 1.3) and the report's size (at
// most 2 MB).
func BenchmarkReportVsAnalyze(b *testing.B) {
	in := benchInput(b)
	out := filepath.Join(b.TempDir(), "report.html")
	var an, rep time.Duration
	for b.Loop() {
		an += timeCommand(b, "analyze", in)
		rep += timeCommand(b, "report", "-o", out, in)
	}
	st, err := os.Stat(out)
	if err != nil {
		b.Fatal(err)
	}
	n := float64(b.N)
	b.ReportMetric(an.Seconds()/n, "analyze-s")
	b.ReportMetric(rep.Seconds()/n, "report-s")
	b.ReportMetric(rep.Seconds()/an.Seconds(), "report/analyze")
	b.ReportMetric(float64(st.Size()), "report-bytes")
}

// BenchmarkAnalyzeVsInspect reports the times of `inspect` and `analyze`
// and their ratio (the target is at most 1.3).
func BenchmarkAnalyzeVsInspect(b *testing.B) {
	in := benchInput(b)
	var ins, an time.Duration
	for b.Loop() {
		ins += timeCommand(b, "inspect", in)
		an += timeCommand(b, "analyze", in)
	}
	n := float64(b.N)
	b.ReportMetric(ins.Seconds()/n, "inspect-s")
	b.ReportMetric(an.Seconds()/n, "analyze-s")
	b.ReportMetric(an.Seconds()/ins.Seconds(), "analyze/inspect")
}
