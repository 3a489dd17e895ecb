package tracefmt

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"strconv"
)

// decodeOTLPJSON reads OTLP/JSON TracesData / ExportTraceServiceRequest
// documents, any number of them in a row (collector file exporter JSON
// Lines), also wrapped as {"result": …} (Jaeger api_v3). It accepts what
// OTLP/JSON writers produce and what Go's plain protojson produces: hex or
// base64 IDs, enums as numbers or names, int64s as strings or numbers,
// lowerCamelCase or snake_case field names, and the old
// instrumentationLibrarySpans.
func decodeOTLPJSON(r io.Reader, file string, k *Sink) error {
	d := &otlpJSONDecoder{s: newJSONScanner(r, file), k: k, in: internCache{k: k}, read0: k.Read}
	err := d.run()
	k.Encoding |= d.enc
	d.s.warnCut(k)
	return err
}

type otlpJSONDecoder struct {
	s   *jsonScanner
	k   *Sink
	in  internCache
	enc Encoding

	// The current ResourceSpans. Its resource (and so the service) may come
	// after its scopeSpans: spans read before it are kept in spans and added
	// at its end; after it, each span is added at once.
	service      string
	haveResource bool
	spans        []Span
	meta         []otlpSpanMeta

	attrs    attrSet
	links    []Ref
	refs     refArena
	pending  scalar // a KeyValue's value seen before its key (copied)
	resource bool   // reading resource attributes (only service.name matters)

	tempoStatus, message []byte // Tempo v2's top-level "status" and "message"
	read0                int    // Sink.Read when this input began
}

// otlpSpanMeta locates a buffered span for warnings.
type otlpSpanMeta struct {
	off      int64
	line     int
	ssKey    string // "scopeSpans", "scope_spans", … as written
	ss, span int
}

func (d *otlpJSONDecoder) run() error {
	s := d.s
	s.skipBOM()
	docs, endLine := 0, 0
	for {
		if s.atEOF() {
			if s.err != nil && docs > 0 && s.cutAtEnd() {
				// A compressed stream cut between two lines (a recording
				// killed after a flush): every line read is whole.
				d.k.Warn(WarnCutLastLine, s.err.Pos, fmt.Sprintf("the compressed stream ends early (an interrupted recording?) after line %d; every line before is whole and kept", endLine))
				s.err = nil
			}
			break
		}
		if s.peek() != '{' {
			s.unexpected("'{' (an OTLP/JSON TracesData object)")
			break
		}
		startLine := s.line()
		d.tracesData(true)
		if s.err != nil {
			if docs > 0 && startLine > endLine && s.cutAtEnd() {
				d.cutLastLine(startLine)
				return nil
			}
			break
		}
		docs, endLine = docs+1, s.line()
	}
	return s.error()
}

// cutLastLine turns the end-of-input error inside the last line of JSON
// Lines into a warning, rejecting the spans of that line still held.
func (d *otlpJSONDecoder) cutLastLine(line int) {
	s := d.s
	at := s.err.Pos
	s.err = nil
	detail := fmt.Sprintf("line %d ends early (an interrupted recording?); the %d lines before it are kept", line, line-1)
	if len(d.spans) == 0 {
		d.k.Warn(WarnCutLastLine, at, detail)
		return
	}
	for range d.spans {
		d.k.Reject(WarnCutLastLine, at, detail)
	}
	d.spans = d.spans[:0]
}

// tracesData reads a TracesData / ExportTraceServiceRequest, or at the top
// level also the api_v3 {"result": …} wrapper.
func (d *otlpJSONDecoder) tracesData(top bool) {
	s := d.s
	if !s.beginObject() {
		return
	}
	for {
		key, ok := s.nextKey()
		if !ok {
			break
		}
		switch string(key) {
		case "resourceSpans", "resource_spans", "batches":
			// "batches" is Tempo's v1 trace-by-ID API and Grafana's
			// "Download traces": ResourceSpans under another name.
			if s.beginArray() {
				for s.nextElem() {
					d.resourceSpans()
				}
			}
		case "result", "trace":
			// Jaeger api_v3 {"result": …}; Tempo v2 {"trace": …, "status"}.
			if top {
				d.tracesData(false)
			} else {
				s.skipValue()
			}
		case "status":
			if !top {
				s.skipValue()
			} else if b, ok := s.str(); ok {
				d.tempoStatus = append(d.tempoStatus[:0], b...)
			}
		case "message":
			if !top {
				s.skipValue()
			} else if b, ok := s.str(); ok {
				d.message = append(d.message[:0], b...)
			}
		case "error":
			if !top {
				s.skipValue()
				continue
			}
			off, line := s.offset(), s.line()
			if msg := errorBody(s); msg != "" && s.err == nil {
				if d.k.Read > d.read0 { // an error after traces in a stream of answers
					d.k.Warn(WarnServerError, s.posAt(off, line, "error"), "the server reported an error after the traces: "+msg)
				} else {
					s.err = &DecodeError{Pos: s.posAt(off, line, "error"), Msg: "the server answered with an error: " + msg}
				}
			}
		default:
			s.skipValue()
		}
	}
	if top && s.err == nil && string(d.tempoStatus) == "PARTIAL" {
		detail := "Tempo returned a PARTIAL trace: some spans may be missing"
		if len(d.message) > 0 {
			detail += " (" + string(d.message) + ")"
		}
		d.k.Warn(WarnPartialTrace, s.posAt(s.offset(), s.line(), "status"), detail)
	}
	d.tempoStatus, d.message = d.tempoStatus[:0], d.message[:0]
}

// errorBody reads an error object such as Jaeger api_v3's {"httpCode":
// 404, "message": "trace not found"} (or a plain string) and returns its
// text, "" if it holds none.
func errorBody(s *jsonScanner) string {
	if s.peek() == '"' {
		b, _ := s.str()
		return string(b)
	}
	if s.peek() != '{' {
		s.skipValue()
		return ""
	}
	s.beginObject()
	var msg, code string
	for {
		key, ok := s.nextKey()
		if !ok {
			break
		}
		switch string(key) {
		case "message", "msg":
			if b, ok := s.str(); ok {
				msg = string(b)
			}
		case "httpCode", "http_code", "code":
			if v, ok := s.int64(); ok {
				code = strconv.FormatInt(v, 10)
			}
		default:
			s.skipValue()
		}
	}
	if code != "" {
		if msg == "" {
			return "code " + code
		}
		return msg + " (code " + code + ")"
	}
	return msg
}

func (d *otlpJSONDecoder) resourceSpans() {
	s := d.s
	if !s.beginObject() {
		return
	}
	d.service, d.haveResource = "", false
	d.spans = d.spans[:0]
	d.meta = d.meta[:0]
	for {
		key, ok := s.nextKey()
		if !ok {
			break
		}
		switch string(key) {
		case "resource":
			d.resourceObj()
			d.haveResource = true
		case "scopeSpans":
			d.scopeSpansList("scopeSpans")
		case "scope_spans":
			d.scopeSpansList("scope_spans")
		case "instrumentationLibrarySpans":
			d.scopeSpansList("instrumentationLibrarySpans")
		case "instrumentation_library_spans":
			d.scopeSpansList("instrumentation_library_spans")
		default:
			s.skipValue()
		}
	}
	if s.err != nil {
		return
	}
	for i := range d.spans {
		d.spans[i].Service = d.service
		d.k.Add(&d.spans[i], func() Pos { return d.spanPos(i) })
	}
}

// spanPos locates buffered span i; the scanner is then just past the end of
// its ResourceSpans.
func (d *otlpJSONDecoder) spanPos(i int) Pos {
	m := &d.meta[i]
	p := d.s.path() + "." + m.ssKey + "[" + strconv.Itoa(m.ss) + "].spans[" + strconv.Itoa(m.span) + "]"
	return d.s.posAt(m.off, m.line, p)
}

func (d *otlpJSONDecoder) resourceObj() {
	s := d.s
	if !s.beginObject() {
		return
	}
	for {
		key, ok := s.nextKey()
		if !ok {
			return
		}
		if string(key) == "attributes" {
			d.resource = true
			d.keyValues()
			d.resource = false
		} else {
			s.skipValue()
		}
	}
}

func (d *otlpJSONDecoder) scopeSpansList(ssKey string) {
	s := d.s
	if !s.beginArray() {
		return
	}
	for ss := 0; s.nextElem(); ss++ {
		if !s.beginObject() {
			continue
		}
		for {
			key, ok := s.nextKey()
			if !ok {
				break
			}
			if string(key) != "spans" {
				s.skipValue()
				continue
			}
			if s.beginArray() {
				for i := 0; s.nextElem(); i++ {
					d.span(ssKey, ss, i)
				}
			}
		}
	}
}

// otlpProblem is the first reason to reject a span.
type otlpProblem struct {
	kind   WarningKind
	field  string
	detail string
}

func (p *otlpProblem) set(kind WarningKind, field, detail string) {
	if p.kind == "" {
		*p = otlpProblem{kind, field, detail}
	}
}

func (d *otlpJSONDecoder) span(ssKey string, ss, idx int) {
	s := d.s
	s.peek()
	off, line := s.offset(), s.line()
	if !s.beginObject() {
		return
	}
	d.spans = append(d.spans, Span{})
	sp := &d.spans[len(d.spans)-1]
	d.attrs = attrSet{}
	d.links = d.links[:0]
	var bad otlpProblem
	var haveTrace, haveSpan, haveStart, haveEnd bool
	for {
		key, ok := s.nextKey()
		if !ok {
			break
		}
		switch string(key) {
		case "traceId", "trace_id":
			haveTrace = readID(s, sp.TraceID[:], false, &d.enc, &bad, WarnInvalidTraceID, "traceId")
		case "spanId", "span_id":
			haveSpan = readID(s, sp.SpanID[:], false, &d.enc, &bad, WarnInvalidSpanID, "spanId")
		case "parentSpanId", "parent_span_id":
			var p otlpProblem
			if readID(s, sp.Parent[:], false, &d.enc, &p, WarnInvalidParentID, "parentSpanId"); p.kind != "" {
				sp.Parent = SpanID{}
				d.k.Warn(WarnInvalidParentID, s.posAt(off, line, s.path()), p.detail+"; treated as a root span")
			}
		case "name":
			if b, ok := s.str(); ok {
				sp.Operation = d.in.str(b)
			} else if s.err == nil && s.got != "null" {
				d.k.Warn(WarnInvalidValue, s.posAt(off, line, s.path()), "want a string, got "+s.got+" (ignored)")
			}
		case "kind":
			sp.Kind = Kind(d.enum(off, line, kindNamesOTLP[:]))
		case "startTimeUnixNano", "start_time_unix_nano":
			haveStart = d.nanos(&sp.Start, "startTimeUnixNano", &bad)
		case "endTimeUnixNano", "end_time_unix_nano":
			haveEnd = d.nanos(&sp.End, "endTimeUnixNano", &bad)
		case "attributes":
			d.keyValues()
		case "links":
			if s.beginArray() {
				for s.nextElem() {
					d.link(off, line)
				}
			}
		case "status":
			sp.Status = d.status(off, line)
		default:
			s.skipValue()
		}
	}
	if s.err != nil {
		return
	}
	switch {
	case !haveTrace:
		bad.set(WarnInvalidTraceID, "traceId", "missing")
	case !haveSpan:
		bad.set(WarnInvalidSpanID, "spanId", "missing")
	case !haveStart:
		bad.set(WarnInvalidTime, "startTimeUnixNano", "missing")
	case !haveEnd:
		bad.set(WarnInvalidTime, "endTimeUnixNano", "missing")
	}
	if bad.kind != "" {
		d.spans = d.spans[:len(d.spans)-1]
		d.k.Reject(bad.kind, s.posAt(off, line, s.path()+"."+bad.field), bad.detail)
		return
	}
	sp.Attrs = d.in.attrs(&d.attrs)
	sp.Refs = d.refs.take(d.links)
	if d.haveResource && len(d.spans) == 1 {
		sp.Service = d.service
		d.k.Add(sp, func() Pos { return s.posAt(off, line, s.path()) })
		d.spans = d.spans[:0]
		return
	}
	d.meta = append(d.meta, otlpSpanMeta{off: off, line: line, ssKey: ssKey, ss: ss, span: idx})
}

func idWant(n int) string {
	return "want " + strconv.Itoa(2*n) + " hex digits or base64 of " + strconv.Itoa(n) + " bytes"
}

// parseID decodes an ID of len(dst) bytes written as 2·len(dst) hex digits
// (either case) or as base64 (standard or URL alphabet, padded or not). The
// lengths never overlap, so the length decides.
func parseID(dst, b []byte) (Encoding, bool) {
	if len(b) == 2*len(dst) {
		for i := range dst {
			hi, lo := hexVal[b[2*i]], hexVal[b[2*i+1]]
			if hi|lo > 0xf {
				return 0, false
			}
			dst[i] = hi<<4 | lo
		}
		return EncHexIDs, true
	}
	var tmp [18]byte
	if len(b) > 24 {
		return 0, false
	}
	url, raw := bytes.ContainsAny(b, "-_"), len(b)%4 != 0
	enc := base64.StdEncoding
	switch {
	case url && raw:
		enc = base64.RawURLEncoding
	case url:
		enc = base64.URLEncoding
	case raw:
		enc = base64.RawStdEncoding
	}
	n, err := enc.Decode(tmp[:], b)
	if err != nil || n != len(dst) {
		return 0, false
	}
	copy(dst, tmp[:n])
	return EncBase64IDs, true
}

// nanos reads a time in Unix nanoseconds (fixed64: a string or a number).
// Zero is protobuf's "unset", so it counts as missing.
func (d *otlpJSONDecoder) nanos(dst *int64, field string, bad *otlpProblem) bool {
	v, ok := d.s.int64()
	switch {
	case !ok:
		if d.s.err == nil && d.s.got != "null" {
			bad.set(WarnInvalidTime, field, "want Unix nanoseconds, got "+d.s.got)
		}
		return false
	case v < 0:
		bad.set(WarnInvalidTime, field, "want Unix nanoseconds, got "+strconv.FormatInt(v, 10))
		return false
	}
	*dst = v
	return v != 0
}

var kindNamesOTLP = [...]string{"SPAN_KIND_UNSPECIFIED", "SPAN_KIND_INTERNAL", "SPAN_KIND_SERVER",
	"SPAN_KIND_CLIENT", "SPAN_KIND_PRODUCER", "SPAN_KIND_CONSUMER"}

var statusNamesOTLP = [...]string{"STATUS_CODE_UNSET", "STATUS_CODE_OK", "STATUS_CODE_ERROR"}

// enum reads an enum given by number or by name (index in names). Unknown
// values are warned about and read as 0.
func (d *otlpJSONDecoder) enum(off int64, line int, names []string) uint8 {
	s := d.s
	if s.peek() == '"' {
		b, ok := s.str()
		if !ok {
			return 0
		}
		for i, n := range names {
			if string(b) == n {
				d.enc |= EncEnumNames
				return uint8(i)
			}
		}
		d.k.Warn(WarnInvalidValue, s.posAt(off, line, s.path()), "unknown value "+jsonQuote(b)+" (ignored)")
		return 0
	}
	v, ok := s.int64()
	if ok && v >= 0 && v < int64(len(names)) {
		d.enc |= EncEnumNumbers
		return uint8(v)
	}
	if s.err == nil && (ok || s.got != "null") {
		got := s.got
		if ok {
			got = strconv.FormatInt(v, 10)
		}
		d.k.Warn(WarnInvalidValue, s.posAt(off, line, s.path()), "unknown value "+got+" (ignored)")
	}
	return 0
}

func (d *otlpJSONDecoder) status(off int64, line int) StatusCode {
	s := d.s
	var code StatusCode
	if !s.beginObject() {
		return code
	}
	for {
		key, ok := s.nextKey()
		if !ok {
			return code
		}
		if string(key) == "code" {
			code = StatusCode(d.enum(off, line, statusNamesOTLP[:]))
		} else {
			s.skipValue()
		}
	}
}

// link reads a span link as a FollowsFrom reference.
func (d *otlpJSONDecoder) link(off int64, line int) {
	s := d.s
	if !s.beginObject() {
		return
	}
	var r Ref
	var bad otlpProblem
	var haveTrace, haveSpan bool
	for {
		key, ok := s.nextKey()
		if !ok {
			break
		}
		switch string(key) {
		case "traceId", "trace_id":
			haveTrace = readID(s, r.TraceID[:], false, &d.enc, &bad, WarnInvalidRef, "traceId")
		case "spanId", "span_id":
			haveSpan = readID(s, r.SpanID[:], false, &d.enc, &bad, WarnInvalidRef, "spanId")
		default:
			s.skipValue()
		}
	}
	if s.err != nil {
		return
	}
	switch {
	case !haveTrace:
		bad.set(WarnInvalidRef, "traceId", "missing")
	case !haveSpan:
		bad.set(WarnInvalidRef, "spanId", "missing")
	}
	if bad.kind != "" {
		d.k.Warn(WarnInvalidRef, s.posAt(off, line, s.path()+"."+bad.field), bad.detail+" (link dropped)")
		return
	}
	r.Type = FollowsFrom
	d.links = append(d.links, r)
}

// keyValues reads an attributes array into d.attrs, or for a resource the
// service name into d.service.
func (d *otlpJSONDecoder) keyValues() {
	s := d.s
	if !s.beginArray() {
		return
	}
	for s.nextElem() {
		if !s.beginObject() {
			continue
		}
		f, cur := attrNone, false
		haveKey := false
		d.pending.kind = 0
	fields:
		for {
			key, ok := s.nextKey()
			if !ok {
				break
			}
			switch string(key) {
			case "key":
				b, ok := s.str()
				if !ok {
					continue
				}
				haveKey = true
				if d.resource {
					if string(b) == "service.name" {
						f = attrServiceName
					}
				} else {
					f, cur = attrKey(b)
				}
				if f == attrNone {
					s.skipRest() // an attribute of no interest: skip the rest at once
					break fields
				}
				if d.pending.kind != 0 {
					d.apply(f, cur, &d.pending)
				}
			case "value":
				if haveKey {
					d.anyValue(f, cur)
				} else {
					d.anyValue(attrPending, false)
				}
			default:
				s.skipValue()
			}
		}
	}
}

// anyValue reads an AnyValue, applying a string or integer to field f.
// Other value types are skipped.
func (d *otlpJSONDecoder) anyValue(f attrField, cur bool) {
	s := d.s
	if !s.beginObject() {
		return
	}
	for {
		key, ok := s.nextKey()
		if !ok {
			return
		}
		switch string(key) {
		case "stringValue", "string_value":
			if b, ok := s.str(); ok {
				d.applyStr(f, cur, b)
			}
		case "intValue", "int_value", "doubleValue", "double_value":
			if v, ok := s.int64(); ok {
				d.applyInt(f, cur, v)
			}
		default:
			s.skipValue()
		}
	}
}

func (d *otlpJSONDecoder) applyStr(f attrField, cur bool, b []byte) {
	switch f {
	case attrPending:
		d.pending = scalar{kind: scalarString, str: append(d.pending.str[:0], b...)}
	case attrServiceName:
		d.service = d.in.str(b)
	default:
		d.attrs.setStr(&d.in, f, cur, b)
	}
}

func (d *otlpJSONDecoder) applyInt(f attrField, cur bool, v int64) {
	switch f {
	case attrPending:
		d.pending.kind, d.pending.n = scalarInt, v
	case attrServiceName:
	default:
		d.attrs.setInt(f, cur, v)
	}
}

func (d *otlpJSONDecoder) apply(f attrField, cur bool, v *scalar) {
	if v.kind == scalarString {
		d.applyStr(f, cur, v.str)
	} else {
		d.applyInt(f, cur, v.n)
	}
}

// Pseudo-fields of the JSON decoder, after the real ones of attrKey.
const (
	attrPending     attrField = attrDBStatement + 1 + iota // value read before its key
	attrServiceName                                        // resource service.name
)
