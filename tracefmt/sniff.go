package tracefmt

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
)

// sniffWindow is how much decompressed input detection may look at.
const sniffWindow = 64 << 10

// Sniff detects the format of decompressed input from its first bytes.
//
// JSON (first non-space byte '{' or '['): OTLP when an OTLP key appears
// ("resourceSpans", "resource_spans", "scopeSpans", "resourceSpans" under an
// api_v3 "result"); Jaeger UI JSON when a Jaeger UI key appears ("spanID",
// "traceID", "processID", "processes", or an empty "data" list); Jaeger model protojson when its keys
// appear ("spanId" with "operationName"). An empty document ({} or []) is
// OTLP JSON with no spans.
//
// Protobuf: a stream when the first byte is 0 (a 4-byte big-endian length
// below 16 MiB; no message starts with field number 0), then the record is
// classified like a single message: field 1 holding a message whose first
// two fields are 16 then 8 bytes long is a Jaeger span (Batch.spans), else
// OTLP resource_spans; a first field 2 (Batch.process) is Jaeger.
func Sniff(head []byte) (Format, error) {
	text := bytes.TrimLeft(bytes.TrimPrefix(head, []byte("\xef\xbb\xbf")), " \t\r\n")
	if len(text) == 0 {
		return "", fmt.Errorf("empty input")
	}
	if text[0] == '{' || text[0] == '[' {
		return sniffJSON(text)
	}
	b := head // binary: '\n' is a protobuf tag byte, not space
	switch b[0] {
	case 0:
		if len(b) < 5 {
			return "", fmt.Errorf("not a trace export: %d bytes of binary data", len(b))
		}
		n := binary.BigEndian.Uint32(b)
		rec := b[4:]
		if int(n) < len(rec) {
			rec = rec[:n]
		}
		if jaeger, ok := sniffProto(rec); ok {
			if jaeger {
				return FormatJaegerProtoStream, nil
			}
			return FormatOTLPProtoStream, nil
		}
	default:
		if jaeger, ok := sniffProto(b); ok {
			if jaeger {
				return FormatJaegerProto, nil
			}
			return FormatOTLPProto, nil
		}
	}
	return "", fmt.Errorf("not a trace export: starts with %s, want JSON or protobuf", quoteHead(b))
}

func sniffJSON(b []byte) (Format, error) {
	has := func(key string) bool { return bytes.Contains(b, []byte(`"`+key+`"`)) }
	switch {
	case has("resourceSpans") || has("resource_spans") || has("scopeSpans") || has("scope_spans"):
		return FormatOTLPJSON, nil
	case has("spanID") || has("traceID") || has("processID") || has("processes") || has("data"):
		return FormatJaegerJSON, nil
	case has("spanId") || has("operationName") || has("span_id"):
		return FormatJaegerProtoJSON, nil
	}
	t := bytes.TrimSpace(b)
	if string(t) == "{}" || string(t) == "[]" {
		return FormatOTLPJSON, nil
	}
	return "", fmt.Errorf("not a trace export: JSON without OTLP keys (resourceSpans) or Jaeger keys (traceID, spanID)")
}

// sniffProto reports whether b looks like a protobuf trace message, and
// whether it is a Jaeger one.
func sniffProto(b []byte) (jaeger, ok bool) {
	num, typ, n := protowire.ConsumeTag(b)
	if n < 0 || typ != protowire.BytesType {
		return false, false
	}
	switch num {
	case 2:
		return true, true // Batch.process before any span
	case 1, 1000:
	default:
		return false, false
	}
	inner, m := protowire.ConsumeBytes(b[n:])
	if m < 0 && len(b) < sniffWindow {
		return false, false
	}
	if m < 0 {
		inner = b[n:] // message longer than the window: classify its start
		if l, k := protowire.ConsumeVarint(inner); k > 0 && l > 0 {
			inner = inner[k:]
		}
	}
	n1, t1, k1 := protowire.ConsumeTag(inner)
	if k1 > 0 && n1 == 1 && t1 == protowire.BytesType {
		if v, k := protowire.ConsumeBytes(inner[k1:]); k > 0 && len(v) == 16 {
			n2, t2, k2 := protowire.ConsumeTag(inner[k1+k:])
			if k2 > 0 && n2 == 2 && t2 == protowire.BytesType {
				if w, _ := protowire.ConsumeBytes(inner[k1+k+k2:]); len(w) == 8 {
					return true, true
				}
			}
		}
	}
	return false, true
}

func quoteHead(b []byte) string {
	if len(b) > 16 {
		b = b[:16]
	}
	return fmt.Sprintf("%q", b)
}
