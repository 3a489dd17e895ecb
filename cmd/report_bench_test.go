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

// BenchmarkReportVsAnalyze runs `analyze` and `report` in-process on ~1M
// tracegen spans (generated once into the system temp folder) and reports
// their times, the ratio (issue 8 asks for at most 1.3) and the report's
// size (at most 2 MB).
func BenchmarkReportVsAnalyze(b *testing.B) {
	dir := tracegentest.Generate(b, "-scenario", "mixed", "-spans", "1000000", "-seed", "1", "-format", "otlp-json")
	in := filepath.Join(dir, "traces.otlp.json")
	out := filepath.Join(b.TempDir(), "report.html")
	runCmd := func(args ...string) time.Duration {
		s := &Streams{In: strings.NewReader(""), Out: io.Discard, Err: &bytes.Buffer{}}
		start := time.Now()
		if code := Run(context.Background(), s, args); code != ExitOK {
			b.Fatalf("%v: exit %d: %s", args, code, s.Err)
		}
		return time.Since(start)
	}
	var an, rep time.Duration
	for b.Loop() {
		an += runCmd("analyze", in)
		rep += runCmd("report", "-o", out, in)
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
