package tracefmt

import (
	"io"
	"math"
	"time"
)

// decodeJaegerProtoJSON reads jaeger-idl model.proto messages in protobuf
// JSON: a Batch ({"spans", "process"}), a Trace ({"spans", "processMap"}) or
// just {"spans": […]}, any number in a row, also wrapped as {"result": …}
// (api_v2 HTTP streams). IDs are base64 (hex is accepted too), times RFC
// 3339, durations "1.5s" or Go-style "22938000ns".
func decodeJaegerProtoJSON(r io.Reader, file string, k *Sink) error {
	d := newJaegerDecoder(r, file, k, true)
	s := d.s
	s.skipBOM()
	for !s.atEOF() {
		if s.peek() != '{' {
			s.unexpected("'{' (a jaeger-idl Batch or Trace object)")
			break
		}
		d.protoObject(0)
		if s.err != nil {
			break
		}
	}
	k.Encoding |= d.enc
	s.warnCut(k)
	return s.error()
}

// protoObject reads a Batch or Trace message; at the top level a "result"
// or "batch" member holds the message instead.
func (d *jaegerDecoder) protoObject(depth int) {
	s := d.s
	if !s.beginObject() {
		return
	}
	tb := &d.bufs[depth]
	tb.reset()
	for {
		key, ok := s.nextKey()
		if !ok {
			break
		}
		switch string(key) {
		case "spans":
			d.spanList(tb)
		case "process":
			d.process(&tb.batchService)
		case "processMap", "process_map":
			d.processMap(tb)
		case "result", "batch":
			if depth == 0 {
				d.protoObject(1)
			} else {
				s.skipValue()
			}
		default:
			s.skipValue()
		}
	}
	if s.err == nil {
		d.flush(tb, false, TraceID{}, false)
	}
}

// processMap reads a Trace's [{processId, process}].
func (d *jaegerDecoder) processMap(tb *jaegerTraceBuf) {
	s := d.s
	if !s.beginArray() {
		return
	}
	for s.nextElem() {
		if !s.beginObject() {
			continue
		}
		var p jaegerProc
		for {
			key, ok := s.nextKey()
			if !ok {
				break
			}
			switch string(key) {
			case "processId", "process_id":
				if b, ok := s.str(); ok {
					p.id = tb.addText(b)
				}
			case "process":
				d.process(&p.service)
			default:
				s.skipValue()
			}
		}
		tb.procs = append(tb.procs, p)
	}
}

func (d *jaegerDecoder) protoSpanField(key []byte, st *jaegerSpan) bool {
	s := d.s
	switch string(key) {
	case "traceId", "trace_id":
		st.m.haveTrace = readID(d.s, st.sp.TraceID[:], true, &d.enc, &st.bad, WarnInvalidTraceID, "traceId")
	case "spanId", "span_id":
		st.haveSpan = readID(d.s, st.sp.SpanID[:], true, &d.enc, &st.bad, WarnInvalidSpanID, "spanId")
	case "operationName", "operation_name":
		d.operation(st)
	case "references":
		d.protoRefs(st)
	case "startTime", "start_time":
		st.haveStart = d.timestamp(st)
	case "duration":
		st.haveDur = d.duration(st)
	case "tags":
		d.tags(st)
	case "processId", "process_id":
		if b, ok := s.str(); ok {
			st.procID = append(st.procID[:0], b...)
		}
	case "process":
		d.process(&st.m.service)
		st.m.inlineSvc = true
	default:
		return false
	}
	return true
}

func (d *jaegerDecoder) protoRefs(st *jaegerSpan) {
	s := d.s
	if !s.beginArray() {
		return
	}
	for s.nextElem() {
		if !s.beginObject() {
			continue
		}
		var r jaegerRef
		var haveSpan, unknown bool
		var bad otlpProblem
		for {
			key, ok := s.nextKey()
			if !ok {
				break
			}
			switch string(key) {
			case "refType", "ref_type":
				switch s.peek() {
				case '"':
					if b, ok := s.str(); ok {
						r.Type, unknown = jaegerRefType(b)
						d.enc |= EncEnumNames
					}
				default:
					v, ok := s.int64()
					r.Type, unknown = RefType(v), !ok || v < 0 || v > 1
					d.enc |= EncEnumNumbers
				}
			case "traceId", "trace_id":
				r.haveTrace = readID(d.s, r.TraceID[:], true, &d.enc, &bad, WarnInvalidRef, "traceId")
			case "spanId", "span_id":
				haveSpan = readID(d.s, r.SpanID[:], true, &d.enc, &bad, WarnInvalidRef, "spanId")
			default:
				s.skipValue()
			}
		}
		d.addRef(st, r, haveSpan, unknown, &bad)
	}
}

// timestamp reads an RFC 3339 time (any offset, optional fraction).
func (d *jaegerDecoder) timestamp(st *jaegerSpan) bool {
	b, ok := d.s.str()
	if !ok {
		if d.s.err == nil && d.s.got != "null" {
			st.bad.set(WarnInvalidTime, "startTime", "want an RFC 3339 time, got "+d.s.got)
		}
		return false
	}
	t, err := time.Parse(time.RFC3339Nano, string(b))
	if err != nil || t.Year() < 1678 || t.Year() > 2261 { // the range of UnixNano
		st.bad.set(WarnInvalidTime, "startTime", "want an RFC 3339 time, got "+jsonQuote(b))
		return false
	}
	st.start = t.UnixNano()
	return true
}

// duration reads a protobuf JSON Duration ("0.022938s"), also in Go's
// notation ("22938000ns"), or a number of nanoseconds.
func (d *jaegerDecoder) duration(st *jaegerSpan) bool {
	s := d.s
	if c := s.peek(); c == '-' || c >= '0' && c <= '9' {
		v, ok := s.int64()
		if !ok && s.err == nil {
			st.bad.set(WarnInvalidTime, "duration", "want a duration, got "+s.got)
		}
		st.dur = v
		return ok
	}
	b, ok := s.str()
	if !ok {
		if s.err == nil && s.got != "null" {
			st.bad.set(WarnInvalidTime, "duration", "want a duration such as \"1.5s\", got "+s.got)
		}
		return false
	}
	v, err := time.ParseDuration(string(b))
	if err != nil || v == math.MaxInt64 || v == math.MinInt64 {
		st.bad.set(WarnInvalidTime, "duration", "want a duration such as \"1.5s\", got "+jsonQuote(b))
		return false
	}
	st.dur = int64(v)
	return true
}
