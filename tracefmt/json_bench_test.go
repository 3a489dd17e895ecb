package tracefmt

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"hopbudget/internal/tracegentest"

	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/encoding/protojson"
)

// The benchmarks decode one tracegen export of a million spans (mixed
// scenario) per format; the Ref benchmarks decode the same files with the
// obvious library call, for the ratio. Each reports MB/s, spans/s and
// allocated bytes per span.

var jtBenchFiles = struct {
	sync.Mutex
	data map[string][]byte
}{data: map[string][]byte{}}

func jtBenchData(b *testing.B, name string) []byte {
	jtBenchFiles.Lock()
	defer jtBenchFiles.Unlock()
	if d, ok := jtBenchFiles.data[name]; ok {
		return d
	}
	dir := tracegentest.Generate(b, "-scenario", "mixed", "-spans", "1000000", "-seed", "1",
		"-format", "otlp-json,jaeger-json", "-truth-traces", "0")
	d, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		b.Fatal(err)
	}
	jtBenchFiles.data[name] = d
	return d
}

// jtBench runs decode (which returns the number of spans) over data.
func jtBench(b *testing.B, data []byte, decode func([]byte) int) {
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	spans := 0
	for b.Loop() {
		spans += decode(data)
	}
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(spans)/b.Elapsed().Seconds(), "spans/s")
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(spans), "B/span")
}

func jtBenchDecoder(b *testing.B, dec Decoder, name string) {
	jtBench(b, jtBenchData(b, name), func(data []byte) int {
		k := NewSink()
		if err := dec(bytes.NewReader(data), name, k); err != nil {
			b.Fatal(err)
		}
		return k.Kept()
	})
}

func BenchmarkDecodeOTLPJSON(b *testing.B) { jtBenchDecoder(b, decodeOTLPJSON, "traces.otlp.json") }

func BenchmarkDecodeJaegerJSON(b *testing.B) {
	jtBenchDecoder(b, decodeJaegerJSON, "traces.jaeger.json")
}

func BenchmarkRefProtojsonOTLP(b *testing.B) {
	jtBench(b, jtBenchData(b, "traces.otlp.json"), func(data []byte) int {
		var td tracepb.TracesData
		if err := protojson.Unmarshal(data, &td); err != nil {
			b.Fatal(err)
		}
		n := 0
		for _, rs := range td.ResourceSpans {
			for _, ss := range rs.ScopeSpans {
				n += len(ss.Spans)
			}
		}
		return n
	})
}

// Jaeger JSON as plain structs, as ../shared/baseline reads it.
type jtJaegerDoc struct {
	Data []struct {
		TraceID string `json:"traceID"`
		Spans   []struct {
			TraceID       string `json:"traceID"`
			SpanID        string `json:"spanID"`
			OperationName string `json:"operationName"`
			References    []struct {
				RefType string `json:"refType"`
				TraceID string `json:"traceID"`
				SpanID  string `json:"spanID"`
			} `json:"references"`
			StartTime int64 `json:"startTime"`
			Duration  int64 `json:"duration"`
			Tags      []struct {
				Key   string `json:"key"`
				Type  string `json:"type"`
				Value any    `json:"value"`
			} `json:"tags"`
			ProcessID string `json:"processID"`
		} `json:"spans"`
		Processes map[string]struct {
			ServiceName string `json:"serviceName"`
		} `json:"processes"`
	} `json:"data"`
}

func BenchmarkRefEncodingJSONJaeger(b *testing.B) {
	jtBench(b, jtBenchData(b, "traces.jaeger.json"), func(data []byte) int {
		var doc jtJaegerDoc
		if err := json.Unmarshal(data, &doc); err != nil {
			b.Fatal(err)
		}
		n := 0
		for _, t := range doc.Data {
			n += len(t.Spans)
		}
		return n
	})
}
