package tracefmt

import (
	"fmt"
	"io"
	"sort"
	"strings"
)

// Format names an input format. The names are stable: they appear in flags
// (--format) and JSON output.
type Format string

const (
	// FormatOTLPJSON is OTLP/JSON: one TracesData / ExportTraceServiceRequest
	// document, or any number of them one after another (the collector file
	// exporter's JSON Lines), or wrapped as {"result": …} (Jaeger api_v3);
	// also Tempo's {"batches": …} (v1 trace by ID, Grafana's "Download
	// traces") and {"trace": …, "status": …} (v2 trace by ID).
	FormatOTLPJSON Format = "otlp-json"
	// FormatOTLPProto is one binary TracesData / ExportTraceServiceRequest.
	FormatOTLPProto Format = "otlp-proto"
	// FormatOTLPProtoStream is a sequence of 4-byte big-endian length +
	// ExportTraceServiceRequest records (the collector file exporter's proto),
	// each record possibly zstd or gzip compressed on its own, and then
	// possibly OTLP/JSON (the exporter's json format with compression).
	FormatOTLPProtoStream Format = "otlp-proto-stream"
	// FormatJaegerJSON is the Jaeger UI download / query API JSON:
	// {"data":[trace…]}, a bare trace, an array of traces or of spans, or
	// JSON Lines of those.
	FormatJaegerJSON Format = "jaeger-json"
	// FormatJaegerProtoJSON is jaeger-idl model.proto (Batch, Trace or
	// {"spans":[…]}) in protobuf JSON: base64 IDs, RFC 3339 times.
	FormatJaegerProtoJSON Format = "jaeger-protojson"
	// FormatJaegerProto is one binary jaeger-idl api_v2 Batch (or Trace).
	FormatJaegerProto Format = "jaeger-proto"
	// FormatJaegerProtoStream is a sequence of 4-byte big-endian length +
	// jaeger-idl api_v2 Batch records.
	FormatJaegerProtoStream Format = "jaeger-proto-stream"
	// FormatZipkinJSON is Zipkin v2 JSON: an array of spans, or an array
	// of such arrays (GET /api/v2/traces).
	FormatZipkinJSON Format = "zipkin-json"
	// FormatZipkinV1JSON is Zipkin v1 JSON (annotations and
	// binaryAnnotations), the same shapes.
	FormatZipkinV1JSON Format = "zipkin-v1-json"
)

// Decoder reads one decompressed input into the sink. It returns a
// *DecodeError for undecodable input; span-level problems go to the sink.
// file is the input's name for positions.
type Decoder func(r io.Reader, file string, k *Sink) error

var decoders = map[Format]Decoder{
	FormatOTLPJSON:          decodeOTLPJSON,
	FormatOTLPProto:         decodeOTLPProto,
	FormatOTLPProtoStream:   decodeOTLPProtoStream,
	FormatJaegerJSON:        decodeJaegerJSON,
	FormatJaegerProtoJSON:   decodeJaegerProtoJSON,
	FormatJaegerProto:       decodeJaegerProto,
	FormatJaegerProtoStream: decodeJaegerProtoStream,
	FormatZipkinJSON:        decodeZipkinJSON,
	FormatZipkinV1JSON:      decodeZipkinV1JSON,
}

// Formats lists the format names, sorted.
func Formats() []string {
	var out []string
	for f := range decoders {
		out = append(out, string(f))
	}
	sort.Strings(out)
	return out
}

// ParseFormat checks a --format value ("" or "auto" means sniff).
func ParseFormat(s string) (Format, error) {
	if s == "" || s == "auto" {
		return "", nil
	}
	if _, ok := decoders[Format(s)]; ok {
		return Format(s), nil
	}
	return "", fmt.Errorf("unknown format %q: want auto or one of %s", s, strings.Join(Formats(), ", "))
}
