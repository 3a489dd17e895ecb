package tracefmt

import (
	"bytes"
	"errors"
	"os"
	"testing"
)

// The fuzz targets check that no input panics, that errors are
// *DecodeErrors, that every span read is kept or rejected, and that reading
// one byte at a time changes nothing.

func FuzzOTLPJSON(f *testing.F) {
	jtFuzz(f, decodeOTLPJSON, []string{"opentelemetry-proto/trace.json", "jaeger/fixtures/cassandra-otel_traces_01.json",
		"jaeger/fixtures/integration-traces_example_trace.json", "jaeger/fixtures/integration-traces_link_attributes_trace.json",
		"jaeger/fixtures/apiv3-snapshot-GetTrace.json", "jaeger/fixtures/query-otlp2jaeger-in.json",
		"jaeger-ui/fixtures/otlp2jaeger-multi-in.jsonl"},
		`{"resource_spans":[{"scope_spans":[{"spans":[{"trace_id":"AAECAwQFBgcICQoLDA0ODw==","span_id":"AQIDBAUGBwg","kind":"SPAN_KIND_SERVER","start_time_unix_nano":1,"end_time_unix_nano":2}]}],"resource":{"attributes":[{"value":{"stringValue":"s"},"key":"service.name"}]}}]}`)
}

func FuzzJaegerJSON(f *testing.F) {
	jtFuzz(f, decodeJaegerJSON, []string{"jaeger/fixtures/anonymizer-trace_success.json", "jaeger/fixtures/query-otlp2jaeger-out.json",
		"jaeger-ui/fixtures/tracegraph-testTrace.json", "jaeger-ui-critical-path/ui-testcases/test1.input.json",
		"hotrod-local/jaeger-ui-json/3b33644ff344e784a75d9ae4046765de.json"},
		`[{"traceID":"1","spanID":"2","startTime":1,"duration":1,"references":[{"spanID":"1"}],"tags":[{"value":true,"key":"error"}]}]`)
}

func FuzzJaegerProtoJSON(f *testing.F) {
	jtFuzz(f, decodeJaegerProtoJSON, []string{"jaeger/fixtures/model-protojson-domain_01.json",
		"jaeger/fixtures/model-protojson-domain_02.json", "jaeger/fixtures/model-protojson-domain_03.json"},
		`{"result":{"spans":[{"traceId":"AAAAAAAAAAAAAAAAAAAAqg==","spanId":"AAAAAAAAAAE=","startTime":"2024-01-02T03:04:05.5Z","duration":"1.5s","processId":"p"}],"processMap":[{"processId":"p","process":{"serviceName":"s"}}]}}`)
}

func FuzzZipkinJSON(f *testing.F) {
	jtFuzz(f, decodeZipkinJSON, []string{"../formats/zipkin-v2.json", "../formats/zipkin-v2-traces.json"},
		`[{"traceId":"1","id":"2","kind":"SERVER","shared":true,"timestamp":1,"parentId":"3"},{"traceId":"1","id":"2","kind":"CLIENT","timestamp":1,"duration":2,"tags":{"error":""}}]`)
}

func FuzzZipkinV1JSON(f *testing.F) {
	jtFuzz(f, decodeZipkinV1JSON, []string{"../formats/zipkin-v1.json"},
		`[{"traceId":"1","id":"2","annotations":[{"value":"cs","timestamp":1},{"value":"sr","timestamp":2,"endpoint":{"serviceName":"b"}}],"binaryAnnotations":[{"key":"sa","value":true}]}]`)
}

// FuzzTempoJSON covers the Tempo and Grafana shapes of the OTLP/JSON reader.
func FuzzTempoJSON(f *testing.F) {
	jtFuzz(f, decodeOTLPJSON, []string{"../formats/tempo-v1.json", "../formats/tempo-v2-partial.json",
		"../formats/grafana-download.json", "../formats/jaeger-apiv3-error.json"},
		`{"trace":{"batches":[{"instrumentationLibrarySpans":[{"spans":[{"traceId":"01","spanId":"02","startTimeUnixNano":1.5e9,"endTimeUnixNano":2e9}]}]}]},"status":"PARTIAL"}`)
}

// FuzzSniff: detection never panics, and what it detects decodes without
// panicking either.
func FuzzSniff(f *testing.F) {
	for _, name := range []string{"../formats/zipkin-v1.json", "../formats/tempo-search.json", "../formats/unknown-shape.json",
		"../formats/jaeger-ui-state.json", "opentelemetry-proto/trace.json"} {
		data, err := os.ReadFile(jtCorpus(name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("\n{\n\x0a\x00"))
	f.Add([]byte("\x00\x00\x00\x05\x28\xb5\x2f\xfd\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		format, err := Sniff(data)
		if err != nil {
			return
		}
		k := NewSink()
		decoders[format](bytes.NewReader(data), "fuzz", k)
		jtCheckAccounting(t, k)
	})
}

func jtFuzz(f *testing.F, dec Decoder, files []string, extra ...string) {
	for _, name := range files {
		data, err := os.ReadFile(jtCorpus(name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range extra {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		k := NewSink()
		err := dec(bytes.NewReader(data), "fuzz.json", k)
		var de *DecodeError
		if err != nil && !errors.As(err, &de) {
			t.Fatalf("error %T %v is not a *DecodeError", err, err)
		}
		jtCheckAccounting(t, k)
		jtOneByte(t, dec, data)
	})
}
