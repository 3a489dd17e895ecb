package tracefmt

import (
	"fmt"
	"io"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// decodeOTLPProto reads one binary TracesData or ExportTraceServiceRequest
// (the same wire layout: field 1 = repeated ResourceSpans), one
// ResourceSpans at a time.
func decodeOTLPProto(r io.Reader, file string, k *Sink) error {
	return newOTLPProtoDecoder(r, file, k).message()
}

// otlpProtoDecoder decodes OTLP protobuf; its buffers are reused from one
// ResourceSpans to the next.
type otlpProtoDecoder struct {
	p *pbReader
	k *Sink
	// The current ResourceSpans' spans and their positions: its resource
	// (and so the service) may come after its scope_spans.
	pending []Span
	at      []otlpSpanAt
	links   []Ref // scratch for the current span's links
	arena   refArena
	attrs   attrSet
	in      internCache
}

func newOTLPProtoDecoder(r io.Reader, file string, k *Sink) *otlpProtoDecoder {
	return &otlpProtoDecoder{p: newPBReader(r, file), k: k, in: internCache{k: k}}
}

// otlpSpanAt locates a span for positions.
type otlpSpanAt struct {
	off    int64 // of the span message
	rs     int32
	scope  int32
	span   int32
	legacy bool // under instrumentation_library_spans (field 1000)
}

func (d *otlpProtoDecoder) pos(a *otlpSpanAt, field string) Pos {
	scope := "scope_spans"
	if a.legacy {
		scope = "instrumentation_library_spans"
	}
	path := fmt.Sprintf("resource_spans[%d].%s[%d].spans[%d]", a.rs, scope, a.scope, a.span)
	return Pos{File: d.p.file, Offset: a.off, Record: d.p.record, Path: pbJoinPath(path, field)}
}

// message decodes the top level of one message (up to EOF, or to the end
// of the current stream record).
func (d *otlpProtoDecoder) message() error {
	for rs := 0; ; {
		f, ok, err := d.p.next()
		if err != nil || !ok {
			return err
		}
		if f.num != 1 {
			if err := d.p.skip(f); err != nil {
				return err
			}
			continue
		}
		path := func() string { return fmt.Sprintf("resource_spans[%d]", rs) }
		if f.typ != protowire.BytesType {
			return d.p.errAt(f.off, path(), "want wire type 2 (bytes), got %d (%s)", f.typ, pbTypeNames[f.typ])
		}
		off := d.p.off
		b, derr := d.p.body(f)
		if derr != nil {
			derr.Path = path()
			return derr
		}
		if perr := d.resourceSpans(pbMsg{b: b, base: off}, rs); perr != nil {
			return d.p.wrap(perr, path())
		}
		rs++
	}
}

// resourceSpans decodes one ResourceSpans and adds its spans.
func (d *otlpProtoDecoder) resourceSpans(m pbMsg, rs int) (err *pbError) {
	d.pending, d.at = d.pending[:0], d.at[:0]
	service := ""
	// Spans read are added even when the message turns out malformed
	// later: every span read is kept or rejected.
	defer func() {
		for i := range d.pending {
			d.pending[i].Service = service
			d.k.Add(&d.pending[i], func() Pos { return d.pos(&d.at[i], "") })
		}
	}()
	var f pbField
	scopes, legacy := 0, 0
	for {
		ok, e := m.next(&f)
		if e != nil || !ok {
			return e
		}
		switch f.num {
		case 1:
			if e := f.want(protowire.BytesType, "resource"); e != nil {
				return e
			}
			// Repeated occurrences of a message field merge: the last
			// service.name wins.
			svc, e := d.resource(f.sub())
			if e != nil {
				return e.in("resource")
			}
			if svc != "" {
				service = svc
			}
		case 2, 1000:
			name, i := "scope_spans", &scopes
			if f.num == 1000 {
				name, i = "instrumentation_library_spans", &legacy
			}
			if e := f.want(protowire.BytesType, name); e != nil {
				return e
			}
			at := otlpSpanAt{rs: int32(rs), scope: int32(*i), legacy: f.num == 1000}
			if e := d.scopeSpans(f.sub(), &at); e != nil {
				return e.in(fmt.Sprintf("%s[%d]", name, *i))
			}
			*i++
		}
	}
}

// resource returns the service.name resource attribute, if any.
func (d *otlpProtoDecoder) resource(m pbMsg) (service string, err *pbError) {
	var f pbField
	for i := 0; ; {
		ok, e := m.next(&f)
		if e != nil || !ok {
			return service, e
		}
		if f.num != 1 {
			continue
		}
		if e := f.want(protowire.BytesType, "attributes"); e != nil {
			return "", e
		}
		key, val, e := otlpKeyValue(f.sub())
		if e == nil && string(key) == "service.name" {
			var str []byte
			var isStr bool
			if str, isStr, _, _, e = otlpAnyValue(val); e == nil && isStr {
				service = d.in.str(str)
			}
		}
		if e != nil {
			return "", e.in(fmt.Sprintf("attributes[%d]", i))
		}
		i++
	}
}

// scopeSpans decodes the spans of one ScopeSpans (or the deprecated
// InstrumentationLibrarySpans, which has the same layout).
func (d *otlpProtoDecoder) scopeSpans(m pbMsg, at *otlpSpanAt) *pbError {
	var f pbField
	for {
		ok, e := m.next(&f)
		if e != nil || !ok {
			return e
		}
		if f.num != 2 {
			continue
		}
		if e := f.want(protowire.BytesType, "spans"); e != nil {
			return e
		}
		at.off = f.boff
		if e := d.span(f.sub(), at); e != nil {
			return e.in(fmt.Sprintf("spans[%d]", at.span))
		}
		at.span++
	}
}

// span decodes one span into d.pending, or rejects it.
func (d *otlpProtoDecoder) span(m pbMsg, at *otlpSpanAt) *pbError {
	d.pending = append(d.pending, Span{})
	s := &d.pending[len(d.pending)-1]
	d.attrs = attrSet{}
	d.links = d.links[:0]
	var traceID, spanID, parent []byte
	var kind, code, start, end uint64
	var f pbField
	nattr, nlink := 0, 0
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
		case 4:
			e = f.want(protowire.BytesType, "parent_span_id")
			parent = f.b
		case 5:
			if e = f.want(protowire.BytesType, "name"); e == nil {
				s.Operation = d.in.str(f.b)
			}
		case 6:
			e = f.want(protowire.VarintType, "kind")
			kind = f.v
		case 7:
			e = f.want(protowire.Fixed64Type, "start_time_unix_nano")
			start = f.v
		case 8:
			e = f.want(protowire.Fixed64Type, "end_time_unix_nano")
			end = f.v
		case 9:
			if e = f.want(protowire.BytesType, "attributes"); e == nil {
				if e = d.attribute(f.sub(), at, nattr); e != nil {
					e.in(fmt.Sprintf("attributes[%d]", nattr))
				}
				nattr++
			}
		case 13:
			if e = f.want(protowire.BytesType, "links"); e == nil {
				if e = d.link(f.sub(), at, nlink); e != nil {
					e.in(fmt.Sprintf("links[%d]", nlink))
				}
				nlink++
			}
		case 15:
			if e = f.want(protowire.BytesType, "status"); e == nil {
				if code, e = otlpStatus(f.sub(), code); e != nil {
					e.in("status")
				}
			}
		}
		if e != nil {
			d.pending = d.pending[:len(d.pending)-1]
			return e
		}
	}
	if !d.check(s, at, traceID, spanID, start, end) {
		d.pending = d.pending[:len(d.pending)-1]
		return nil
	}
	switch {
	case len(parent) == 8:
		copy(s.Parent[:], parent)
	case len(parent) != 0:
		d.k.Warn(WarnInvalidParentID, d.pos(at, "parent_span_id"),
			fmt.Sprintf("want 8 bytes, got %d; treated as a root span", len(parent)))
	}
	s.Kind = Kind(kind)
	if kind > uint64(KindConsumer) {
		d.k.Warn(WarnInvalidValue, d.pos(at, "kind"), fmt.Sprintf("unknown span kind %d; using unspecified", kind))
		s.Kind = KindUnspecified
	}
	s.Status = StatusCode(code)
	if code > uint64(StatusError) {
		d.k.Warn(WarnInvalidValue, d.pos(at, "status.code"), fmt.Sprintf("unknown status code %d; using unset", code))
		s.Status = StatusUnset
	}
	s.Attrs = d.in.attrs(&d.attrs)
	s.Refs = d.arena.take(d.links)
	d.at = append(d.at, *at)
	return nil
}

// check validates IDs and times, filling s or rejecting the span.
func (d *otlpProtoDecoder) check(s *Span, at *otlpSpanAt, traceID, spanID []byte, start, end uint64) bool {
	reject := func(kind WarningKind, field, format string, args ...any) bool {
		d.k.Reject(kind, d.pos(at, field), fmt.Sprintf(format, args...))
		return false
	}
	if len(traceID) != len(s.TraceID) {
		return reject(WarnInvalidTraceID, "trace_id", "want 16 bytes, got %d", len(traceID))
	}
	copy(s.TraceID[:], traceID)
	if s.TraceID.IsZero() {
		return reject(WarnInvalidTraceID, "trace_id", "trace ID is all zeros")
	}
	var ok bool
	if s.SpanID, ok = pbSpanID(spanID); !ok {
		return reject(WarnInvalidSpanID, "span_id", "want 8 bytes, got %d", len(spanID))
	}
	if s.SpanID.IsZero() {
		return reject(WarnInvalidSpanID, "span_id", "span ID is all zeros")
	}
	switch {
	case start == 0:
		return reject(WarnInvalidTime, "start_time_unix_nano", "missing start time")
	case end == 0:
		return reject(WarnInvalidTime, "end_time_unix_nano", "missing end time")
	case start > math.MaxInt64 || end > math.MaxInt64:
		return reject(WarnInvalidTime, "", "time after the year 2262: start %d, end %d", start, end)
	}
	s.Start, s.End = int64(start), int64(end)
	return true
}

// attribute decodes one span attribute, keeping it only if it fills an
// Attrs field.
func (d *otlpProtoDecoder) attribute(m pbMsg, at *otlpSpanAt, i int) *pbError {
	key, val, e := otlpKeyValue(m)
	if e != nil {
		return e
	}
	fld, current := attrKey(key)
	if fld == attrNone {
		return nil
	}
	str, isStr, n, isInt, e := otlpAnyValue(val)
	if e != nil {
		return e.in("value")
	}
	if fld != attrHTTPStatus {
		if isStr {
			d.attrs.setStr(&d.in, fld, current, str)
		}
		return nil
	}
	if isStr {
		n, isInt = pbDecimal(str)
	}
	if !isInt || !d.attrs.setStatus(current, n) {
		d.k.Warn(WarnInvalidValue, d.pos(at, fmt.Sprintf("attributes[%d]", i)),
			fmt.Sprintf("%s: not an HTTP status code; ignored", key))
	}
	return nil
}

// link decodes one span link into d.links.
func (d *otlpProtoDecoder) link(m pbMsg, at *otlpSpanAt, i int) *pbError {
	var traceID, spanID []byte
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
		}
		if e != nil {
			return e
		}
	}
	r := Ref{Type: FollowsFrom}
	bad := ""
	switch {
	case len(traceID) != len(r.TraceID):
		bad = fmt.Sprintf("trace_id: want 16 bytes, got %d", len(traceID))
	case len(spanID) != len(r.SpanID):
		bad = fmt.Sprintf("span_id: want 8 bytes, got %d", len(spanID))
	}
	if bad == "" {
		copy(r.TraceID[:], traceID)
		copy(r.SpanID[:], spanID)
		if r.TraceID.IsZero() || r.SpanID.IsZero() {
			bad = "all-zero ID"
		}
	}
	if bad != "" {
		d.k.Warn(WarnInvalidRef, d.pos(at, fmt.Sprintf("links[%d]", i)), bad+" (link dropped)")
		return nil
	}
	d.links = append(d.links, r)
	return nil
}

// otlpKeyValue splits a KeyValue into its key and AnyValue.
func otlpKeyValue(m pbMsg) (key []byte, val pbMsg, err *pbError) {
	var f pbField
	for {
		ok, e := m.next(&f)
		if e != nil || !ok {
			return key, val, e
		}
		switch f.num {
		case 1:
			e = f.want(protowire.BytesType, "key")
			key = f.b
		case 2:
			e = f.want(protowire.BytesType, "value")
			val = f.sub()
		}
		if e != nil {
			return nil, val, e
		}
	}
}

// otlpAnyValue returns an AnyValue's string_value or int_value (the last
// one set wins, as in a oneof).
func otlpAnyValue(m pbMsg) (str []byte, isStr bool, n int64, isInt bool, err *pbError) {
	var f pbField
	for {
		ok, e := m.next(&f)
		if e != nil || !ok {
			return str, isStr, n, isInt, e
		}
		switch f.num {
		case 1:
			if e = f.want(protowire.BytesType, "string_value"); e == nil {
				str, isStr, isInt = f.b, true, false
			}
		case 3:
			if e = f.want(protowire.VarintType, "int_value"); e == nil {
				n, isInt, isStr = int64(f.v), true, false
			}
		default:
			isStr, isInt = false, false
		}
		if e != nil {
			return nil, false, 0, false, e
		}
	}
}

// otlpStatus returns Status.code (merging with an earlier occurrence).
func otlpStatus(m pbMsg, code uint64) (uint64, *pbError) {
	var f pbField
	for {
		ok, e := m.next(&f)
		if e != nil || !ok {
			return code, e
		}
		if f.num == 3 {
			if e := f.want(protowire.VarintType, "code"); e != nil {
				return 0, e
			}
			code = f.v
		}
	}
}
