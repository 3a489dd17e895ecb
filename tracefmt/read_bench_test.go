package tracefmt

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"hopbudget/internal/tracegentest"

	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// BenchmarkReadVsReference times Read (expand, sniff, decode beside the
// store stage, group by trace) on a million-span tracegen file per
// format, beside the obvious library decode of the same file timed in the
// same run (as ../shared/baseline does it: read the file, decode, group by
// trace ID). It reports MB/s, spans/s, spans/s per core and "x-ref", how
// many times faster Read is. In-process figures: the README's are whole
// processes.
func BenchmarkReadVsReference(b *testing.B) {
	if _, err := tracegentest.SharedDir(); err != nil {
		b.Skip(err)
	}
	// The inputs of the decoder benchmarks (json_bench_test.go,
	// proto_bench_test.go), generated once.
	jsonDir := tracegentest.Generate(b, "-scenario", "mixed", "-spans", "1000000", "-seed", "1",
		"-format", "otlp-json,jaeger-json", "-truth-traces", "0")
	pbDir := tracegentest.Generate(b, "-scenario", "mixed", "-spans", "1000000", "-seed", "1", "-format", "otlp-proto,jaeger-proto")
	for _, c := range []struct {
		name, file string
		ref        func(b *testing.B, data []byte) int
	}{
		{"otlp-json/protojson", filepath.Join(jsonDir, "traces.otlp.json"), refProtojson},
		{"jaeger-json/encoding-json", filepath.Join(jsonDir, "traces.jaeger.json"), refEncodingJSON},
		{"otlp-proto/proto.Unmarshal", filepath.Join(pbDir, "traces.otlp.pb"), refProtoUnmarshal},
	} {
		b.Run(c.name, func(b *testing.B) {
			path := c.file
			runtime.GC()
			start := time.Now()
			data, err := os.ReadFile(path)
			if err != nil {
				b.Fatal(err)
			}
			refSpans := c.ref(b, data)
			ref := time.Since(start)
			b.SetBytes(int64(len(data)))
			data = nil
			runtime.GC()
			spans := 0
			b.ResetTimer()
			for b.Loop() {
				res, err := Read(context.Background(), []string{path}, Options{})
				if err != nil {
					b.Fatal(err)
				}
				spans = res.Sink.Kept()
			}
			if spans != refSpans {
				b.Fatalf("Read kept %d spans, the reference %d", spans, refSpans)
			}
			per := b.Elapsed().Seconds() / float64(b.N)
			b.ReportMetric(float64(spans)/per, "spans/s")
			b.ReportMetric(float64(spans)/per/float64(runtime.GOMAXPROCS(0)), "spans/s/core")
			b.ReportMetric(ref.Seconds(), "ref-s")
			b.ReportMetric(ref.Seconds()/per, "x-ref")
		})
	}
}

// refTraces groups spans by trace ID in a map, as the reference does.
type refTraces map[string]int

func refProtojson(b *testing.B, data []byte) int {
	var td tracepb.TracesData
	if err := protojson.Unmarshal(data, &td); err != nil {
		b.Fatal(err)
	}
	return refGroup(&td)
}

func refProtoUnmarshal(b *testing.B, data []byte) int {
	var td tracepb.TracesData
	if err := proto.Unmarshal(data, &td); err != nil {
		b.Fatal(err)
	}
	return refGroup(&td)
}

func refGroup(td *tracepb.TracesData) int {
	traces, n := refTraces{}, 0
	for _, rs := range td.ResourceSpans {
		for _, ss := range rs.ScopeSpans {
			for _, s := range ss.Spans {
				traces[string(s.TraceId)]++
				n++
			}
		}
	}
	return n
}

func refEncodingJSON(b *testing.B, data []byte) int {
	var doc jtJaegerDoc
	if err := json.Unmarshal(data, &doc); err != nil {
		b.Fatal(err)
	}
	traces, n := refTraces{}, 0
	for _, t := range doc.Data {
		for _, s := range t.Spans {
			traces[s.TraceID]++
			n++
		}
	}
	return n
}
