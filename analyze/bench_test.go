package analyze

import (
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"hopbudget/internal/tracegentest"
	"hopbudget/tracefmt"
)

var (
	benchOnce   sync.Once
	benchTraces []tracefmt.Trace
	benchSpans  int
)

// benchInput is ~1M checkout spans from tracegen, converted once.
func benchInput(b *testing.B) []tracefmt.Trace {
	benchOnce.Do(func() {
		dir := tracegentest.Generate(b, "-scenario", "checkout", "-spans", "1000000", "-seed", "1", "-format", "otlp-proto")
		benchTraces = loadOTLPProto(b, filepath.Join(dir, "traces.otlp.pb"))
		for _, t := range benchTraces {
			benchSpans += len(t.Spans)
		}
		runtime.GC()
	})
	return benchTraces
}

// BenchmarkAnalyze: DAG rebuild + critical path + hop and fan-in statistics
// over ~1M spans. Reports spans/s and bytes allocated per span.
func BenchmarkAnalyze(b *testing.B) {
	traces := benchInput(b)
	for _, bc := range []struct {
		name    string
		workers int
		mode    Mode
	}{
		{"workers=1", 1, ModeDefault},
		{"workers=2", 2, ModeDefault},
		{"workers=1/jaeger", 1, ModeJaeger},
	} {
		b.Run(bc.name, func(b *testing.B) {
			opts := DefaultOptions()
			opts.Workers, opts.CriticalPath = bc.workers, bc.mode
			b.ReportAllocs()
			var ms0, ms1 runtime.MemStats
			runtime.ReadMemStats(&ms0)
			cpu0 := cpuTime()
			for b.Loop() {
				mustAnalyze(traces, opts)
			}
			cpu := cpuTime() - cpu0
			runtime.ReadMemStats(&ms1)
			n := float64(b.N) * float64(benchSpans)
			b.ReportMetric(n/b.Elapsed().Seconds(), "spans/s")
			// CPU time of the whole process (GC included): a steadier
			// figure than wall time on a shared machine.
			b.ReportMetric(n/cpu.Seconds(), "spans/cpu-s")
			b.ReportMetric(float64(ms1.TotalAlloc-ms0.TotalAlloc)/n, "B/span")
		})
	}
}

// cpuTime is the process's user + system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

var (
	benchMsOnce   sync.Once
	benchMsTraces []tracefmt.Trace
)

// BenchmarkAnalyzeClocks: one core over ~1M checkout spans whose every
// service has a millisecond start clock: detected (the granularity pass
// runs), and forced exact (detection only). Compare with BenchmarkAnalyze
// on the same scenario with exact clocks.
func BenchmarkAnalyzeClocks(b *testing.B) {
	benchMsOnce.Do(func() {
		dir := tracegentest.Generate(b, "-scenario", "checkout", "-spans", "1000000", "-seed", "1", "-ms-clock", "all", "-format", "otlp-proto")
		benchMsTraces = loadOTLPProto(b, filepath.Join(dir, "traces.otlp.pb"))
		runtime.GC()
	})
	spans := 0
	for _, t := range benchMsTraces {
		spans += len(t.Spans)
	}
	for _, bc := range []struct {
		name  string
		clock map[string]time.Duration
	}{
		{"ms-clock/detected", nil},
		{"ms-clock/forced-exact", map[string]time.Duration{ClockAll: 0}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			opts := DefaultOptions()
			opts.Workers, opts.ClockGranularity = 1, bc.clock
			b.ReportAllocs()
			for b.Loop() {
				mustAnalyze(benchMsTraces, opts)
			}
			b.ReportMetric(float64(b.N)*float64(spans)/b.Elapsed().Seconds(), "spans/s")
		})
	}
}
