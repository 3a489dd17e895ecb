package receiver

import (
	"encoding/base64"
	"encoding/hex"
	"math"
	"strconv"
	"unicode/utf8"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
)

// appendRequest appends req as one OTLP/JSON document: protojson's mapping
// (lowerCamelCase names, zero values omitted, 64-bit integers as decimal
// strings, oneof values always written) except where OTLP/JSON differs:
// trace and span IDs in hex and enums as integers.
//
// It is written by hand because protojson, reflective, cost ten times more
// than everything else the receiver does. Every field of every message is
// written: TestEncoderCoversEveryField fails when the generated types gain
// one this does not know, and TestEncoderMatchesProtojson holds the output
// to protojson's on fully populated messages.
func appendRequest(b []byte, req *coltracepb.ExportTraceServiceRequest) []byte {
	b = append(b, '{')
	if len(req.ResourceSpans) > 0 {
		b = append(b, `"resourceSpans":[`...)
		for i, rs := range req.ResourceSpans {
			b = comma(b, i)
			b = appendResourceSpans(b, rs)
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

// field starts a member: a comma unless it is the object's first.
func field(b []byte, name string) []byte {
	if b[len(b)-1] != '{' {
		b = append(b, ',')
	}
	b = append(b, '"')
	b = append(b, name...)
	return append(b, '"', ':')
}

func comma(b []byte, i int) []byte {
	if i > 0 {
		b = append(b, ',')
	}
	return b
}

func appendResourceSpans(b []byte, rs *tracepb.ResourceSpans) []byte {
	b = append(b, '{')
	if rs == nil {
		return append(b, '}')
	}
	if rs.Resource != nil {
		b = appendResource(field(b, "resource"), rs.Resource)
	}
	if len(rs.ScopeSpans) > 0 {
		b = append(field(b, "scopeSpans"), '[')
		for i, ss := range rs.ScopeSpans {
			b = appendScopeSpans(comma(b, i), ss)
		}
		b = append(b, ']')
	}
	b = optString(b, "schemaUrl", rs.SchemaUrl)
	return append(b, '}')
}

func appendResource(b []byte, r *resourcepb.Resource) []byte {
	b = append(b, '{')
	b = optAttrs(b, "attributes", r.Attributes)
	b = optUint(b, "droppedAttributesCount", uint64(r.DroppedAttributesCount))
	if len(r.EntityRefs) > 0 {
		b = append(field(b, "entityRefs"), '[')
		for i, e := range r.EntityRefs {
			b = appendEntityRef(comma(b, i), e)
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

func appendEntityRef(b []byte, e *commonpb.EntityRef) []byte {
	b = append(b, '{')
	if e == nil {
		return append(b, '}')
	}
	b = optString(b, "schemaUrl", e.SchemaUrl)
	b = optString(b, "type", e.Type)
	b = optStrings(b, "idKeys", e.IdKeys)
	b = optStrings(b, "descriptionKeys", e.DescriptionKeys)
	return append(b, '}')
}

func appendScopeSpans(b []byte, ss *tracepb.ScopeSpans) []byte {
	b = append(b, '{')
	if ss == nil {
		return append(b, '}')
	}
	if s := ss.Scope; s != nil {
		b = append(field(b, "scope"), '{')
		b = optString(b, "name", s.Name)
		b = optString(b, "version", s.Version)
		b = optAttrs(b, "attributes", s.Attributes)
		b = optUint(b, "droppedAttributesCount", uint64(s.DroppedAttributesCount))
		b = append(b, '}')
	}
	if len(ss.Spans) > 0 {
		b = append(field(b, "spans"), '[')
		for i, sp := range ss.Spans {
			b = appendSpan(comma(b, i), sp)
		}
		b = append(b, ']')
	}
	b = optString(b, "schemaUrl", ss.SchemaUrl)
	return append(b, '}')
}

func appendSpan(b []byte, s *tracepb.Span) []byte {
	b = append(b, '{')
	if s == nil {
		return append(b, '}')
	}
	b = optID(b, "traceId", s.TraceId)
	b = optID(b, "spanId", s.SpanId)
	b = optString(b, "traceState", s.TraceState)
	b = optID(b, "parentSpanId", s.ParentSpanId)
	b = optUint(b, "flags", uint64(s.Flags))
	b = optString(b, "name", s.Name)
	b = optInt(b, "kind", int64(s.Kind))
	b = optUint64(b, "startTimeUnixNano", s.StartTimeUnixNano)
	b = optUint64(b, "endTimeUnixNano", s.EndTimeUnixNano)
	b = optAttrs(b, "attributes", s.Attributes)
	b = optUint(b, "droppedAttributesCount", uint64(s.DroppedAttributesCount))
	if len(s.Events) > 0 {
		b = append(field(b, "events"), '[')
		for i, e := range s.Events {
			b = append(comma(b, i), '{')
			if e != nil {
				b = optUint64(b, "timeUnixNano", e.TimeUnixNano)
				b = optString(b, "name", e.Name)
				b = optAttrs(b, "attributes", e.Attributes)
				b = optUint(b, "droppedAttributesCount", uint64(e.DroppedAttributesCount))
			}
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	b = optUint(b, "droppedEventsCount", uint64(s.DroppedEventsCount))
	if len(s.Links) > 0 {
		b = append(field(b, "links"), '[')
		for i, l := range s.Links {
			b = append(comma(b, i), '{')
			if l != nil {
				b = optID(b, "traceId", l.TraceId)
				b = optID(b, "spanId", l.SpanId)
				b = optString(b, "traceState", l.TraceState)
				b = optAttrs(b, "attributes", l.Attributes)
				b = optUint(b, "droppedAttributesCount", uint64(l.DroppedAttributesCount))
				b = optUint(b, "flags", uint64(l.Flags))
			}
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	b = optUint(b, "droppedLinksCount", uint64(s.DroppedLinksCount))
	if st := s.Status; st != nil {
		b = append(field(b, "status"), '{')
		b = optString(b, "message", st.Message)
		b = optInt(b, "code", int64(st.Code))
		b = append(b, '}')
	}
	return append(b, '}')
}

func optAttrs(b []byte, name string, kvs []*commonpb.KeyValue) []byte {
	if len(kvs) == 0 {
		return b
	}
	return appendKeyValues(field(b, name), kvs)
}

func appendKeyValues(b []byte, kvs []*commonpb.KeyValue) []byte {
	b = append(b, '[')
	for i, kv := range kvs {
		b = append(comma(b, i), '{')
		if kv != nil {
			b = optString(b, "key", kv.Key)
			if kv.Value != nil {
				b = appendAnyValue(field(b, "value"), kv.Value)
			}
			b = optInt(b, "keyStrindex", int64(kv.KeyStrindex))
		}
		b = append(b, '}')
	}
	return append(b, ']')
}

// appendAnyValue writes the oneof's member even when it holds its zero
// value: {"intValue":"0"} is not {}.
func appendAnyValue(b []byte, v *commonpb.AnyValue) []byte {
	b = append(b, '{')
	switch x := v.Value.(type) {
	case *commonpb.AnyValue_StringValue:
		b = appendString(field(b, "stringValue"), x.StringValue)
	case *commonpb.AnyValue_BoolValue:
		b = strconv.AppendBool(field(b, "boolValue"), x.BoolValue)
	case *commonpb.AnyValue_IntValue:
		b = append(strconv.AppendInt(append(field(b, "intValue"), '"'), x.IntValue, 10), '"')
	case *commonpb.AnyValue_DoubleValue:
		b = appendFloat(field(b, "doubleValue"), x.DoubleValue)
	case *commonpb.AnyValue_ArrayValue:
		b = append(field(b, "arrayValue"), '{')
		if x.ArrayValue != nil && len(x.ArrayValue.Values) > 0 {
			b = append(field(b, "values"), '[')
			for i, e := range x.ArrayValue.Values {
				b = comma(b, i)
				if e == nil {
					b = append(b, '{', '}')
				} else {
					b = appendAnyValue(b, e)
				}
			}
			b = append(b, ']')
		}
		b = append(b, '}')
	case *commonpb.AnyValue_KvlistValue:
		b = append(field(b, "kvlistValue"), '{')
		if x.KvlistValue != nil && len(x.KvlistValue.Values) > 0 {
			b = appendKeyValues(field(b, "values"), x.KvlistValue.Values)
		}
		b = append(b, '}')
	case *commonpb.AnyValue_BytesValue:
		b = append(base64.StdEncoding.AppendEncode(append(field(b, "bytesValue"), '"'), x.BytesValue), '"')
	case *commonpb.AnyValue_StringValueStrindex:
		b = strconv.AppendInt(field(b, "stringValueStrindex"), int64(x.StringValueStrindex), 10)
	}
	return append(b, '}')
}

func optString(b []byte, name, s string) []byte {
	if s == "" {
		return b
	}
	return appendString(field(b, name), s)
}

func optStrings(b []byte, name string, ss []string) []byte {
	if len(ss) == 0 {
		return b
	}
	b = append(field(b, name), '[')
	for i, s := range ss {
		b = appendString(comma(b, i), s)
	}
	return append(b, ']')
}

// optID writes an ID in hex, the OTLP/JSON form.
func optID(b []byte, name string, id []byte) []byte {
	if len(id) == 0 {
		return b
	}
	return append(hex.AppendEncode(append(field(b, name), '"'), id), '"')
}

// optUint is for 32-bit fields, numbers in JSON.
func optUint(b []byte, name string, v uint64) []byte {
	if v == 0 {
		return b
	}
	return strconv.AppendUint(field(b, name), v, 10)
}

func optInt(b []byte, name string, v int64) []byte {
	if v == 0 {
		return b
	}
	return strconv.AppendInt(field(b, name), v, 10)
}

// optUint64 is for 64-bit fields, strings in proto3 JSON.
func optUint64(b []byte, name string, v uint64) []byte {
	if v == 0 {
		return b
	}
	return append(strconv.AppendUint(append(field(b, name), '"'), v, 10), '"')
}

// appendFloat is protojson's: NaN and infinities as strings, else
// encoding/json's number form.
func appendFloat(b []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, `"NaN"`...)
	case math.IsInf(f, 1):
		return append(b, `"Infinity"`...)
	case math.IsInf(f, -1):
		return append(b, `"-Infinity"`...)
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

const hexDigits = "0123456789abcdef"

// appendString writes s as a JSON string. Invalid UTF-8 (which proto3
// decoding already refuses) becomes U+FFFD rather than invalid JSON.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r != utf8.RuneError || size != 1 {
				i += size
				continue
			}
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		i++
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
