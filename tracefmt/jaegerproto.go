package tracefmt

import (
	"bytes"
	"fmt"
	"io"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// decodeJaegerProto reads one binary jaeger-idl api_v2 Batch (spans = 1,
// process = 2), one span at a time. A Trace (spans = 1, process_map = 2,
// warnings = 3) is accepted too; see jaegerProtoDecoder.process.
//
// Spans are held until the message ends, because the batch process (the
// service) normally comes after them; a file holding one huge Batch is
// therefore held whole (as decoded spans), unlike OTLP.
func decodeJaegerProto(r io.Reader, file string, k *Sink) error {
	return newJaegerProtoDecoder(r, file, k).message()
}

// jaegerProtoDecoder decodes Jaeger model protobuf; its buffers are reused
// from one message to the next.
type jaegerProtoDecoder struct {
	p       *pbReader
	k       *Sink
	pending []Span
	at      []jaegerSpanAt
	procs   map[string]string // Trace.process_map: process ID → service
	refs    []Ref             // scratch for the current span's references
	arena   refArena
	attrs   attrSet
	in      internCache
}

func newJaegerProtoDecoder(r io.Reader, file string, k *Sink) *jaegerProtoDecoder {
	return &jaegerProtoDecoder{p: newPBReader(r, file), k: k, in: internCache{k: k}, procs: map[string]string{}}
}

// jaegerSpanAt locates a pending span and remembers its process ID.
type jaegerSpanAt struct {
	off    int64
	span   int
	procID string // process_id, interned; "" if none
}

func (d *jaegerProtoDecoder) pos(a *jaegerSpanAt, field string) Pos {
	return Pos{File: d.p.file, Offset: a.off, Record: d.p.record, Path: pbJoinPath(fmt.Sprintf("spans[%d]", a.span), field)}
}

// message decodes one Batch or Trace (up to EOF, or to the end of the
// current stream record) and adds its spans.
func (d *jaegerProtoDecoder) message() error {
	d.pending, d.at = d.pending[:0], d.at[:0]
	clear(d.procs)
	service := "" // Batch.process
	// Spans read are added even when the message turns out malformed
	// later: every span read is kept or rejected.
	defer func() {
		for i := range d.pending {
			s, a := &d.pending[i], &d.at[i]
			if s.Service == "" {
				if svc, ok := d.procs[a.procID]; ok && a.procID != "" {
					s.Service = svc
				} else {
					s.Service = service
				}
			}
			d.k.Add(s, func() Pos { return d.pos(a, "") })
		}
	}()
	spans, procs := 0, 0
	for {
		f, ok, err := d.p.next()
		if err != nil || !ok {
			return err
		}
		if f.num != 1 && f.num != 2 {
			if err := d.p.skip(f); err != nil {
				return err
			}
			continue
		}
		name := func() string {
			if f.num == 1 {
				return fmt.Sprintf("spans[%d]", spans)
			}
			return fmt.Sprintf("process[%d]", procs)
		}
		if f.typ != protowire.BytesType {
			return d.p.errAt(f.off, name(), "want wire type 2 (bytes), got %d (%s)", f.typ, pbTypeNames[f.typ])
		}
		off := d.p.off
		b, derr := d.p.body(f)
		if derr != nil {
			derr.Path = name()
			return derr
		}
		m := pbMsg{b: b, base: off}
		var perr *pbError
		if f.num == 1 {
			perr = d.span(m, jaegerSpanAt{off: off, span: spans})
		} else {
			var svc string
			if svc, perr = d.process(m); svc != "" {
				service = svc
			}
		}
		if perr != nil {
			return d.p.wrap(perr, name())
		}
		if f.num == 1 {
			spans++
		} else {
			procs++
		}
	}
}

// process decodes a top-level field 2: a Batch's Process, or a Trace's
// ProcessMapping (which goes to d.procs). It returns the Process's service.
//
// The two are told apart by the content of their own field 2: in a
// ProcessMapping it is a Process (only fields 1 and 2, both bytes); in a
// Process it is a tag, a KeyValue, which has a varint v_type (omitted only
// for strings) or a value field 3–7. The one ambiguous shape, a tag with a
// key and an empty string value, reads as a ProcessMapping.
func (d *jaegerProtoDecoder) process(m pbMsg) (service string, err *pbError) {
	var f pbField
	var field1 []byte
	var mapped pbMsg
	isMapping := false
	for {
		ok, e := m.next(&f)
		if e != nil {
			return "", e
		}
		if !ok {
			break
		}
		switch f.num {
		case 1:
			if e := f.want(protowire.BytesType, "service_name"); e != nil {
				return "", e
			}
			field1 = f.b
		case 2:
			if e := f.want(protowire.BytesType, "tags"); e != nil {
				return "", e
			}
			if jaegerLooksLikeProcess(f.b) {
				isMapping, mapped = true, f.sub()
			}
		}
	}
	if !isMapping {
		return d.in.str(field1), nil
	}
	svc, e := d.serviceName(mapped)
	if e != nil {
		return "", e.in("process")
	}
	d.procs[d.in.str(field1)] = svc
	return "", nil
}

// jaegerLooksLikeProcess reports whether b has only BytesType fields 1 and 2
// (a Process, not a KeyValue).
func jaegerLooksLikeProcess(b []byte) bool {
	m := pbMsg{b: b}
	var f pbField
	for {
		ok, e := m.next(&f)
		if e != nil {
			return false
		}
		if !ok {
			return true
		}
		if f.typ != protowire.BytesType || f.num > 2 {
			return false
		}
	}
}

// serviceName returns a Process's service_name, interned.
func (d *jaegerProtoDecoder) serviceName(m pbMsg) (string, *pbError) {
	var f pbField
	service := ""
	for {
		ok, e := m.next(&f)
		if e != nil || !ok {
			return service, e
		}
		if f.num == 1 {
			if e := f.want(protowire.BytesType, "service_name"); e != nil {
				return "", e
			}
			service = d.in.str(f.b)
		}
	}
}

// span decodes one span into d.pending, or rejects it.
func (d *jaegerProtoDecoder) span(m pbMsg, at jaegerSpanAt) *pbError {
	d.pending = append(d.pending, Span{})
	s := &d.pending[len(d.pending)-1]
	d.attrs = attrSet{}
	d.refs = d.refs[:0]
	var traceID, spanID []byte
	var start, dur int64
	var badTime string // the time field out of range, if any
	hasStart := false
	errorTag := false
	var f pbField
	ntag, nref := 0, 0
	for {
		ok, e := m.next(&f)
		if e != nil {
			d.pending = d.pending[:len(d.pending)-1]
			return e
		}
		if !ok {
			break
		}
		switch f.num {
		case 1:
			e = f.want(protowire.BytesType, "trace_id")
			traceID = f.b
		case 2:
			e = f.want(protowire.BytesType, "span_id")
			spanID = f.b
		case 3:
			if e = f.want(protowire.BytesType, "operation_name"); e == nil {
				s.Operation = d.in.str(f.b)
			}
		case 4:
			if e = f.want(protowire.BytesType, "references"); e == nil {
				if e = d.ref(f.sub(), &at, nref); e != nil {
					e.in(fmt.Sprintf("references[%d]", nref))
				}
				nref++
			}
		case 6, 7:
			name := "start_time"
			if f.num == 7 {
				name = "duration"
			}
			if e = f.want(protowire.BytesType, name); e == nil {
				var ns int64
				var valid bool
				if ns, valid, e = jaegerNanos(f.sub()); e != nil {
					e.in(name)
				} else if !valid {
					badTime = name
				} else if f.num == 6 {
					start, hasStart = ns, true
				} else {
					dur = ns
				}
			}
		case 8:
			if e = f.want(protowire.BytesType, "tags"); e == nil {
				if e = d.tag(f.sub(), s, &at, ntag, &errorTag); e != nil {
					e.in(fmt.Sprintf("tags[%d]", ntag))
				}
				ntag++
			}
		case 10:
			if e = f.want(protowire.BytesType, "process"); e == nil {
				var svc string
				if svc, e = d.serviceName(f.sub()); e != nil {
					e.in("process")
				} else if svc != "" {
					s.Service = svc
				}
			}
		case 11:
			if e = f.want(protowire.BytesType, "process_id"); e == nil {
				at.procID = d.in.str(f.b)
			}
		}
		if e != nil {
			d.pending = d.pending[:len(d.pending)-1]
			return e
		}
	}
	// Out-of-range times are rejected as Jaeger JSON's are (one rule).
	if badTime == "" && hasStart && dur > math.MaxInt64-start {
		badTime = "duration"
	}
	if badTime != "" {
		d.pending = d.pending[:len(d.pending)-1]
		d.k.Reject(WarnInvalidTime, d.pos(&at, badTime), "time out of range (seconds beyond year 2262, nanos outside [0, 10⁹), negative, or end past the range)")
		return nil
	}
	if !d.check(s, &at, traceID, spanID, start, hasStart) {
		d.pending = d.pending[:len(d.pending)-1]
		return nil
	}
	s.End = start + dur
	if errorTag {
		s.Status = StatusError // the error tag wins over otel.status_code, as in Jaeger's own OTLP translator
	}
	// The parent is the first CHILD_OF reference within the trace, else the
	// first FOLLOWS_FROM one; every reference stays in Refs.
	for pass := ChildOf; pass <= FollowsFrom && s.Parent.IsZero(); pass++ {
		for _, r := range d.refs {
			if r.Type == pass && r.TraceID == s.TraceID {
				s.Parent, s.ParentFollowsFrom = r.SpanID, pass == FollowsFrom
				break
			}
		}
	}
	s.Attrs = d.in.attrs(&d.attrs)
	s.Refs = d.arena.take(d.refs)
	d.at = append(d.at, at)
	return nil
}

// check validates IDs and the start time, filling s or rejecting the span.
func (d *jaegerProtoDecoder) check(s *Span, at *jaegerSpanAt, traceID, spanID []byte, start int64, hasStart bool) bool {
	reject := func(kind WarningKind, field, format string, args ...any) bool {
		d.k.Reject(kind, d.pos(at, field), fmt.Sprintf(format, args...))
		return false
	}
	var ok bool
	if s.TraceID, ok = jaegerTraceID(traceID); !ok {
		return reject(WarnInvalidTraceID, "trace_id", "want 16 (or 8) bytes, got %d", len(traceID))
	}
	if s.TraceID.IsZero() {
		return reject(WarnInvalidTraceID, "trace_id", "trace ID is all zeros")
	}
	if s.SpanID, ok = pbSpanID(spanID); !ok {
		return reject(WarnInvalidSpanID, "span_id", "want 8 bytes, got %d", len(spanID))
	}
	if s.SpanID.IsZero() {
		return reject(WarnInvalidSpanID, "span_id", "span ID is all zeros")
	}
	if !hasStart || start == 0 {
		return reject(WarnInvalidTime, "start_time", "missing start time")
	}
	s.Start = start
	return true
}

// jaegerTraceID reads a 16-byte trace ID, or an 8-byte one right-aligned
// (jaeger-idl accepts both).
func jaegerTraceID(b []byte) (id TraceID, ok bool) {
	switch len(b) {
	case 16:
		copy(id[:], b)
	case 8:
		copy(id[8:], b)
	default:
		return id, false
	}
	return id, true
}

// ref decodes one SpanRef into d.refs.
func (d *jaegerProtoDecoder) ref(m pbMsg, at *jaegerSpanAt, i int) *pbError {
	var traceID, spanID []byte
	var typ uint64
	var f pbField
	for {
		ok, e := m.next(&f)
		if e != nil {
			return e
		}
		if !ok {
			break
		}
		switch f.num {
		case 1:
			e = f.want(protowire.BytesType, "trace_id")
			traceID = f.b
		case 2:
			e = f.want(protowire.BytesType, "span_id")
			spanID = f.b
		case 3:
			e = f.want(protowire.VarintType, "ref_type")
			typ = f.v
		}
		if e != nil {
			return e
		}
	}
	field := func() string { return fmt.Sprintf("references[%d]", i) }
	if typ > uint64(FollowsFrom) {
		d.k.Warn(WarnUnknownReference, d.pos(at, field()), fmt.Sprintf("ref_type %d is neither CHILD_OF (0) nor FOLLOWS_FROM (1) (reference dropped)", typ))
		return nil
	}
	r := Ref{Type: RefType(typ)}
	var okT, okS bool
	r.TraceID, okT = jaegerTraceID(traceID)
	r.SpanID, okS = pbSpanID(spanID)
	bad := ""
	switch {
	case !okT:
		bad = fmt.Sprintf("trace_id: want 16 (or 8) bytes, got %d", len(traceID))
	case !okS:
		bad = fmt.Sprintf("span_id: want 8 bytes, got %d", len(spanID))
	case r.TraceID.IsZero() || r.SpanID.IsZero():
		bad = "all-zero ID"
	}
	if bad != "" {
		d.k.Warn(WarnInvalidRef, d.pos(at, field()), bad+" (reference dropped)")
		return nil
	}
	d.refs = append(d.refs, r)
	return nil
}

// jaegerNanos reads a google.protobuf.Timestamp or Duration (seconds = 1,
// nanos = 2) as nanoseconds; valid is false for a negative value, nanos
// outside [0, 10⁹) or a value beyond int64 nanoseconds (year 2262).
func jaegerNanos(m pbMsg) (ns int64, valid bool, err *pbError) {
	var sec, nanos int64
	var f pbField
	for {
		ok, e := m.next(&f)
		if e != nil {
			return 0, false, e
		}
		if !ok {
			if sec < 0 || nanos < 0 || nanos >= 1e9 || sec > (math.MaxInt64-nanos)/1e9 {
				return 0, false, nil
			}
			return sec*1e9 + nanos, true, nil
		}
		switch f.num {
		case 1:
			e = f.want(protowire.VarintType, "seconds")
			sec = int64(f.v)
		case 2:
			e = f.want(protowire.VarintType, "nanos")
			nanos = int64(int32(f.v))
		}
		if e != nil {
			return 0, false, e
		}
	}
}

// tag decodes one KeyValue tag: span.kind, error and otel.status_code set
// the kind and status; attribute keys fill Attrs.
func (d *jaegerProtoDecoder) tag(m pbMsg, s *Span, at *jaegerSpanAt, i int, errorTag *bool) *pbError {
	var key, str []byte
	var vtype uint64 // STRING = 0, BOOL = 1, INT64 = 2
	var n int64
	var b bool
	var f pbField
	for {
		ok, e := m.next(&f)
		if e != nil {
			return e
		}
		if !ok {
			break
		}
		switch f.num {
		case 1:
			e = f.want(protowire.BytesType, "key")
			key = f.b
		case 2:
			e = f.want(protowire.VarintType, "v_type")
			vtype = f.v
		case 3:
			e = f.want(protowire.BytesType, "v_str")
			str = f.b
		case 4:
			e = f.want(protowire.VarintType, "v_bool")
			b = f.v != 0
		case 5:
			e = f.want(protowire.VarintType, "v_int64")
			n = int64(f.v)
		}
		if e != nil {
			return e
		}
	}
	invalid := func(what string) {
		d.k.Warn(WarnInvalidValue, d.pos(at, fmt.Sprintf("tags[%d]", i)), fmt.Sprintf("%s: %s; ignored", key, what))
	}
	switch string(key) {
	case "span.kind":
		if k, ok := jaegerKind(str); ok && vtype == 0 {
			s.Kind = k
		} else {
			invalid(fmt.Sprintf("unknown span kind %q", str))
		}
		return nil
	case "error":
		// Only true counts; some clients send it as a string.
		*errorTag = *errorTag || vtype == 1 && b || vtype == 0 && string(str) == "true"
		return nil
	case "otel.status_code":
		switch {
		case bytes.EqualFold(str, []byte("ERROR")):
			s.Status = StatusError
		case bytes.EqualFold(str, []byte("OK")):
			s.Status = StatusOK
		case bytes.EqualFold(str, []byte("UNSET")):
			s.Status = StatusUnset
		default:
			invalid(fmt.Sprintf("unknown status %q", str))
		}
		return nil
	}
	fld, current := attrKey(key)
	if fld == attrNone {
		return nil
	}
	if fld != attrHTTPStatus {
		if vtype == 0 {
			d.attrs.setStr(&d.in, fld, current, str)
		}
		return nil
	}
	isInt := vtype == 2
	if vtype == 0 {
		n, isInt = pbDecimal(str)
	}
	if !isInt || !d.attrs.setStatus(current, n) {
		invalid("not an HTTP status code")
	}
	return nil
}

// jaegerKind parses a span.kind tag value.
func jaegerKind(b []byte) (Kind, bool) {
	switch string(b) {
	case "client":
		return KindClient, true
	case "server":
		return KindServer, true
	case "producer":
		return KindProducer, true
	case "consumer":
		return KindConsumer, true
	case "internal":
		return KindInternal, true
	}
	return KindUnspecified, false
}
