package tracefmt

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"hopbudget/internal/tracegentest"

	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
)

// pbtBenchFile returns one of the benchmark inputs: a million tracegen
// spans, generated once and cached in the temp folder.
func pbtBenchFile(b *testing.B, name string) []byte {
	if _, err := tracegentest.SharedDir(); err != nil {
		b.Skip(err)
	}
	dir := tracegentest.Generate(b, "-scenario", "mixed", "-spans", "1000000", "-seed", "1", "-format", "otlp-proto,jaeger-proto")
	data, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		b.Fatal(err)
	}
	return data
}

// pbtBench decodes data into a fresh sink per iteration and reports MB/s,
// spans/s and bytes allocated per span (the sink's storage included).
func pbtBench(b *testing.B, data []byte, decode func([]byte) int) {
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	spans := 0
	for b.Loop() {
		spans = decode(data)
	}
	runtime.ReadMemStats(&after)
	total := float64(spans) * float64(b.N)
	b.ReportMetric(total/b.Elapsed().Seconds(), "spans/s")
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/total, "B/span")
}

func pbtBenchDecoder(b *testing.B, dec Decoder, name string) {
	data := pbtBenchFile(b, name)
	pbtBench(b, data, func(data []byte) int {
		k := NewSink()
		if err := dec(bytes.NewReader(data), name, k); err != nil {
			b.Fatal(err)
		}
		return k.Kept()
	})
}

func BenchmarkDecodeOTLPProto(b *testing.B) {
	pbtBenchDecoder(b, decodeOTLPProto, "traces.otlp.pb")
}

func BenchmarkDecodeJaegerProtoStream(b *testing.B) {
	pbtBenchDecoder(b, decodeJaegerProtoStream, "traces.jaeger.pbstream")
}

// BenchmarkRefProtoUnmarshalOTLP is the reference: what ../shared/baseline
// does, proto.Unmarshal of the whole file and a map from trace ID to spans.
func BenchmarkRefProtoUnmarshalOTLP(b *testing.B) {
	pbtBench(b, pbtBenchFile(b, "traces.otlp.pb"), func(data []byte) int {
		var td tracepb.TracesData
		if err := proto.Unmarshal(data, &td); err != nil {
			b.Fatal(err)
		}
		traces := map[string][]*tracepb.Span{}
		n := 0
		for _, rs := range td.ResourceSpans {
			for _, ss := range rs.ScopeSpans {
				for _, s := range ss.Spans {
					traces[string(s.TraceId)] = append(traces[string(s.TraceId)], s)
					n++
				}
			}
		}
		return n
	})
}
