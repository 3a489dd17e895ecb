package tracefmt

import (
	"encoding/binary"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

func TestSniff(t *testing.T) {
	// A Jaeger span starts with trace_id (16 bytes) then span_id (8 bytes).
	jspan := protowire.AppendTag(nil, 1, protowire.BytesType)
	jspan = protowire.AppendBytes(jspan, make([]byte, 16))
	jspan = protowire.AppendTag(jspan, 2, protowire.BytesType)
	jspan = protowire.AppendBytes(jspan, make([]byte, 8))
	batch := protowire.AppendTag(nil, 1, protowire.BytesType)
	batch = protowire.AppendBytes(batch, jspan)
	// An OTLP ResourceSpans starts with its resource (attributes).
	rs := protowire.AppendTag(nil, 1, protowire.BytesType)
	rs = protowire.AppendBytes(rs, []byte{0x0a, 0x00})
	td := protowire.AppendTag(nil, 1, protowire.BytesType)
	td = protowire.AppendBytes(td, rs)
	stream := func(m []byte) []byte { return append(binary.BigEndian.AppendUint32(nil, uint32(len(m))), m...) }
	// OTLP whose first ResourceSpans is n bytes long: it starts with "\n" and
	// the byte n, which is '{' for 123 and '[' for 91.
	sized := func(n int) []byte {
		for l := 0; l < n; l++ {
			kv := protowire.AppendTag(nil, 1, protowire.BytesType)
			kv = protowire.AppendString(kv, strings.Repeat("k", l))
			res := protowire.AppendTag(nil, 1, protowire.BytesType)
			res = protowire.AppendBytes(res, kv)
			r := protowire.AppendTag(nil, 1, protowire.BytesType)
			r = protowire.AppendBytes(r, res)
			if len(r) == n {
				out := protowire.AppendTag(nil, 1, protowire.BytesType)
				return protowire.AppendBytes(out, r)
			}
		}
		panic("no size")
	}

	tests := []struct {
		name string
		in   string
		want Format
		err  bool
	}{
		{"otlp json", `{"resourceSpans":[]}`, FormatOTLPJSON, false},
		{"otlp json snake with BOM", "\xef\xbb\xbf  {\"resource_spans\":[]}", FormatOTLPJSON, false},
		{"api v3 wrapper", `{"result":{"resourceSpans":[]}}`, FormatOTLPJSON, false},
		{"empty object", `{}`, FormatOTLPJSON, false},
		{"jaeger ui", `{"data":[{"traceID":"1","spans":[]}]}`, FormatJaegerJSON, false},
		{"jaeger span array", `[{"traceID":"1","spanID":"2"}]`, FormatJaegerJSON, false},
		{"jaeger protojson", `{"spans":[{"traceId":"AAE=","spanId":"AQ==","operationName":"x"}]}`, FormatJaegerProtoJSON, false},
		{"other json", `{"hello":"world"}`, "", true},
		{"otlp proto", string(td), FormatOTLPProto, false},
		{"otlp proto stream", string(stream(td)), FormatOTLPProtoStream, false},
		{"jaeger batch", string(batch), FormatJaegerProto, false},
		{"jaeger batch stream", string(stream(batch)), FormatJaegerProtoStream, false},
		{"otlp proto starting \\n{", string(sized(123)), FormatOTLPProto, false},
		{"otlp proto starting \\n[", string(sized(91)), FormatOTLPProto, false},
		{"otlp proto stream starting \\n{", string(stream(sized(123))), FormatOTLPProtoStream, false},
		{"zstd records", "\x00\x00\x00\x09\x28\xb5\x2f\xfd\x00\x00\x00\x00\x00", FormatOTLPProtoStream, false},
		{"tempo v1", `{"batches":[{"resource":{},"scopeSpans":[]}]}`, FormatOTLPJSON, false},
		{"tempo v2", `{"trace":{"resourceSpans":[]},"status":"COMPLETE"}`, FormatOTLPJSON, false},
		{"api v3 error", `{"error":{"httpCode":404,"message":"trace not found"}}`, FormatOTLPJSON, false},
		{"tempo search", `{"traces":[{"traceID":"1","rootServiceName":"a"}],"metrics":{}}`, "", true},
		{"jaeger ui state", `{"data":{"traceID":"1","spans":[],"processes":{}}}`, FormatJaegerJSON, false},
		{"jaeger api error", `{"data":null,"errors":[{"code":500,"msg":"x"}]}`, FormatJaegerJSON, false},
		{"zipkin v2", `[{"traceId":"1","id":"2","kind":"SERVER","localEndpoint":{}}]`, FormatZipkinJSON, false},
		{"zipkin v2 traces", `[[{"traceId":"1","id":"2"}]]`, FormatZipkinJSON, false},
		{"zipkin v1", `[{"traceId":"1","id":"2","annotations":[{"value":"cs","endpoint":{}}]}]`, FormatZipkinV1JSON, false},
		{"zipkin v1 binary", `[{"traceId":"1","id":"2","binaryAnnotations":[]}]`, FormatZipkinV1JSON, false},
		{"empty array", `[]`, FormatZipkinJSON, false},
		{"OTLP key nested in other JSON", `{"config":{"resourceSpans":[]},"other":1}`, "", true},
		{"text", "hello world", "", true},
		{"empty", "  \n", "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Sniff([]byte(tc.in))
			if (err != nil) != tc.err {
				t.Fatalf("Sniff error = %v, want error %v", err, tc.err)
			}
			if got != tc.want {
				t.Errorf("Sniff = %q, want %q", got, tc.want)
			}
		})
	}
}
