package tracefmt

import (
	"encoding/binary"
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
