package tracefmt

import (
	"bytes"
	"io"
	"math"
	"strconv"
)

// decodeJaegerJSON reads the Jaeger UI download / query API JSON:
// {"data":[trace…]}, a bare trace {"traceID","spans","processes"}, an array
// of traces, an array of spans each with its own "process" (the Jaeger
// anonymizer's output), and JSON Lines or concatenations of those.
func decodeJaegerJSON(r io.Reader, file string, k *Sink) error {
	d := newJaegerDecoder(r, file, k, false)
	s := d.s
	s.skipBOM()
	for !s.atEOF() {
		switch s.peek() {
		case '{':
			d.object(0)
		case '[':
			s.beginArray()
			for s.nextElem() {
				d.object(1)
			}
		default:
			s.unexpected("'{' or '['")
		}
		if s.err != nil {
			break
		}
	}
	k.Encoding |= d.enc
	s.warnCut(k)
	return s.error()
}

// jaegerDecoder reads Jaeger JSON and, with proto set, jaeger-idl protobuf
// JSON: both have spans with references, tags and a process given inline,
// by process ID, or per batch.
type jaegerDecoder struct {
	s     *jsonScanner
	k     *Sink
	in    internCache
	proto bool
	enc   Encoding
	names *jaegerIDNames

	// bufs[depth] holds the spans of the object being read at that depth
	// (a wrapper at 0, a trace at 1): the processes may come after them.
	bufs  [2]jaegerTraceBuf
	cur   jaegerSpan // the span being read inside a "spans" array
	refs  refArena
	final []Ref  // the references of the span being added
	pend  []byte // a tag value read before its key
}

// jaegerIDNames spells the ID fields named in messages as each format does.
type jaegerIDNames struct{ traceID, spanID string }

var (
	jaegerJSONNames  = jaegerIDNames{"traceID", "spanID"}
	jaegerProtoNames = jaegerIDNames{"traceId", "spanId"}
)

func newJaegerDecoder(r io.Reader, file string, k *Sink, proto bool) *jaegerDecoder {
	d := &jaegerDecoder{s: newJSONScanner(r, file), k: k, in: internCache{k: k}, proto: proto, names: &jaegerJSONNames}
	if proto {
		d.names = &jaegerProtoNames
	}
	return d
}

// jaegerTraceBuf collects the spans of one trace (or batch) object until its
// end, when process IDs can be resolved.
type jaegerTraceBuf struct {
	own   jaegerSpan // the object's own span fields, if it is a bare span
	spans []Span
	meta  []jaegerSpanMeta
	refs  []jaegerRef
	procs []jaegerProc
	text  []byte // process IDs of procs and meta

	batchService string // Batch.process (protobuf JSON)
}

func (tb *jaegerTraceBuf) reset() {
	tb.own.reset()
	tb.spans, tb.meta, tb.refs = tb.spans[:0], tb.meta[:0], tb.refs[:0]
	tb.procs, tb.text = tb.procs[:0], tb.text[:0]
	tb.batchService = ""
}

// addText stores b in tb.text and returns its range.
func (tb *jaegerTraceBuf) addText(b []byte) [2]int {
	n := len(tb.text)
	tb.text = append(tb.text, b...)
	return [2]int{n, len(tb.text)}
}

type jaegerProc struct {
	id      [2]int // range in text
	service string
}

// jaegerSpanMeta is what a buffered span needs besides its Span.
type jaegerSpanMeta struct {
	off       int64
	line      int
	idx       int    // index in "spans", -1 for a bare span object
	refs      [2]int // range in jaegerTraceBuf.refs
	procID    [2]int // range in text; empty if none
	service   string // of an inline process
	inlineSvc bool
	haveTrace bool
	nonHex    bool
}

// jaegerRef is a reference as read; a missing traceID means the span's own.
type jaegerRef struct {
	Ref
	haveTrace bool
}

// jaegerSpan is a span being read.
type jaegerSpan struct {
	sp         Span
	m          jaegerSpanMeta
	attrs      attrSet
	bad        otlpProblem
	refs       []jaegerRef
	procID     []byte
	start, dur int64 // ns
	haveSpan   bool
	haveStart  bool
	haveDur    bool
	isSpan     bool // saw a span-only field (a bare object may be a span)
	errTag     bool
	otelStatus StatusCode
}

func (st *jaegerSpan) reset() {
	*st = jaegerSpan{refs: st.refs[:0], procID: st.procID[:0]}
}

// object reads a top-level value or an element of a top-level array or of
// "data": a wrapper, a trace, or a bare span.
func (d *jaegerDecoder) object(depth int) {
	s := d.s
	s.peek()
	off, line := s.offset(), s.line()
	if !s.beginObject() {
		return
	}
	tb := &d.bufs[depth]
	tb.reset()
	own := &tb.own
	own.m.idx, own.m.off, own.m.line = -1, off, line
	read0 := d.k.Read
	var errMsg string
	var errOff int64
	var errLine int
	for {
		key, ok := s.nextKey()
		if !ok {
			break
		}
		switch string(key) {
		case "data":
			switch {
			case depth > 0:
				s.skipValue()
			case s.peek() == '{': // the Jaeger UI's state: one trace
				d.object(1)
			case s.beginArray():
				for s.nextElem() {
					d.object(1)
				}
			}
		case "errors":
			// The query API's {"data": null, "errors": [{"code", "msg"}]}.
			if depth > 0 {
				s.skipValue()
				continue
			}
			if !s.beginArray() {
				continue
			}
			for s.nextElem() {
				o, l := s.offset(), s.line()
				if m := errorBody(s); m != "" && errMsg == "" {
					errMsg, errOff, errLine = m, o, l
				}
			}
		case "spans":
			d.spanList(tb)
		case "processes":
			d.processes(tb)
		default:
			if !d.spanField(key, own) {
				s.skipValue()
			}
		}
	}
	if s.err != nil {
		return
	}
	if own.isSpan {
		d.finishSpan(own, tb)
	}
	d.flush(tb, own.m.haveTrace, own.sp.TraceID, own.m.nonHex)
	if errMsg != "" {
		at := s.posAt(errOff, errLine, "errors")
		if d.k.Read == read0 {
			s.err = &DecodeError{Pos: at, Msg: "the server answered with an error: " + errMsg}
		} else {
			d.k.Warn(WarnServerError, at, "the server reported an error beside the traces: "+errMsg)
		}
	}
}

func (d *jaegerDecoder) spanList(tb *jaegerTraceBuf) {
	s := d.s
	if !s.beginArray() {
		return
	}
	for i := 0; s.nextElem(); i++ {
		s.peek()
		st := &d.cur
		st.reset()
		st.m.idx = i
		st.m.off, st.m.line = s.offset(), s.line()
		if !s.beginObject() {
			continue
		}
		for {
			key, ok := s.nextKey()
			if !ok {
				break
			}
			if !d.spanField(key, st) {
				s.skipValue()
			}
		}
		if s.err != nil {
			return
		}
		d.finishSpan(st, tb)
	}
}

// spanField reads the value of a span field; false if key is not one.
func (d *jaegerDecoder) spanField(key []byte, st *jaegerSpan) bool {
	if d.proto {
		return d.protoSpanField(key, st)
	}
	s := d.s
	switch string(key) {
	case "traceID":
		st.m.haveTrace = d.hexID(st.sp.TraceID[:], st, &st.bad, WarnInvalidTraceID, "traceID")
		return true
	case "spanID":
		st.haveSpan = d.hexID(st.sp.SpanID[:], st, &st.bad, WarnInvalidSpanID, "spanID")
	case "operationName":
		d.operation(st)
	case "references":
		d.references(st)
	case "startTime":
		st.haveStart = d.micros(&st.start, st, "startTime")
	case "duration":
		st.haveDur = d.micros(&st.dur, st, "duration")
	case "tags":
		d.tags(st)
	case "processID":
		if b, ok := s.str(); ok {
			st.procID = append(st.procID[:0], b...)
		}
	case "process":
		d.process(&st.m.service)
		st.m.inlineSvc = true
	default:
		return false
	}
	st.isSpan = true
	return true
}

// operation reads the operation name.
func (d *jaegerDecoder) operation(st *jaegerSpan) {
	s := d.s
	if b, ok := s.str(); ok {
		st.sp.Operation = d.in.str(b)
	} else if s.err == nil && s.got != "null" {
		d.k.Warn(WarnInvalidValue, s.posAt(st.m.off, st.m.line, s.path()), "want a string, got "+s.got+" (ignored)")
	}
}

// micros reads a time or duration in microseconds into ns.
func (d *jaegerDecoder) micros(dst *int64, st *jaegerSpan, field string) bool {
	v, ok := d.s.micros(&st.bad, field)
	*dst = v * 1000
	return ok
}

// hexID reads a Jaeger hex ID of span st: up to 32 (trace) or 16 (span)
// hex digits, right-aligned as Jaeger does for 64-bit trace IDs. Other text
// is kept through Sink.AliasTraceID/AliasSpanID, which map equal text to
// equal IDs, and noted in st.m.nonHex. Empty or null is missing; another
// type is a problem of the given kind.
func (d *jaegerDecoder) hexID(dst []byte, st *jaegerSpan, bad *otlpProblem, kind WarningKind, field string) bool {
	b, ok := d.s.str()
	if !ok {
		if d.s.err == nil && d.s.got != "null" {
			bad.set(kind, field, "want hex digits, got "+d.s.got)
		}
		return false
	}
	return d.idText(dst, b, st)
}

// idText sets dst from hex text or, failing that, an alias of the text.
func (d *jaegerDecoder) idText(dst, b []byte, st *jaegerSpan) bool {
	if len(b) == 0 {
		return false
	}
	if jaegerHex(dst, b) {
		d.enc |= EncHexIDs
		return true
	}
	if len(dst) == len(TraceID{}) {
		id := d.k.AliasTraceID(b)
		copy(dst, id[:])
	} else {
		id := d.k.AliasSpanID(b)
		copy(dst, id[:])
	}
	st.m.nonHex = true
	return true
}

// jaegerHex decodes 1 to 2·len(dst) hex digits right-aligned into dst.
func jaegerHex(dst, b []byte) bool {
	if len(b) == 2*len(dst) {
		_, ok := parseID(dst, b)
		return ok
	}
	if len(b) == 0 || len(b) > 2*len(dst) {
		return false
	}
	clear(dst)
	p := 2*len(dst) - len(b) // nibble index of b[0]
	for _, c := range b {
		v := hexVal[c]
		if v > 0xf {
			return false
		}
		if p&1 == 0 {
			dst[p/2] = v << 4
		} else {
			dst[p/2] |= v
		}
		p++
	}
	return true
}

func (d *jaegerDecoder) references(st *jaegerSpan) {
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
			case "refType":
				if b, ok := s.str(); ok {
					r.Type, unknown = jaegerRefType(b)
				} else {
					unknown = s.got != "null"
				}
			case "traceID":
				r.haveTrace = d.hexID(r.TraceID[:], st, &bad, WarnInvalidRef, "traceID")
			case "spanID":
				haveSpan = d.hexID(r.SpanID[:], st, &bad, WarnInvalidRef, "spanID")
			default:
				s.skipValue()
			}
		}
		d.addRef(st, r, haveSpan, unknown, &bad)
	}
}

// jaegerRefType maps CHILD_OF / FOLLOWS_FROM; unknown is true for others.
func jaegerRefType(b []byte) (RefType, bool) {
	switch string(b) {
	case "CHILD_OF", "child_of":
		return ChildOf, false
	case "FOLLOWS_FROM", "follows_from":
		return FollowsFrom, false
	}
	return ChildOf, true
}

// addRef keeps a reference just read, or warns why not. A missing refType
// means CHILD_OF (protobuf JSON omits that default).
func (d *jaegerDecoder) addRef(st *jaegerSpan, r jaegerRef, haveSpan, unknown bool, bad *otlpProblem) {
	s := d.s
	if s.err != nil {
		return
	}
	if !haveSpan {
		bad.set(WarnInvalidRef, d.names.spanID, "missing")
	}
	if bad.kind != "" {
		d.k.Warn(WarnInvalidRef, s.posAt(st.m.off, st.m.line, s.path()+"."+bad.field), bad.detail+" (reference dropped)")
		return
	}
	if unknown {
		d.k.Warn(WarnUnknownReference, s.posAt(st.m.off, st.m.line, s.path()+".refType"), "not CHILD_OF or FOLLOWS_FROM (reference dropped)")
		return
	}
	st.refs = append(st.refs, r)
}

// tags reads tags: [{key, type, value}] in Jaeger JSON, [{key, vType,
// vStr|vBool|vInt64|vFloat64|vBinary}] in protobuf JSON.
func (d *jaegerDecoder) tags(st *jaegerSpan) {
	s := d.s
	if !s.beginArray() {
		return
	}
	for s.nextElem() {
		if !s.beginObject() {
			continue
		}
		f, cur, haveKey := attrNone, false, false
		var pending scalar
		for {
			key, ok := s.nextKey()
			if !ok {
				break
			}
			if string(key) == "key" {
				b, ok := s.str()
				if !ok {
					continue
				}
				haveKey = true
				if f, cur = jaegerTagKey(b); f == attrNone {
					s.skipRest() // a tag of no interest: skip the rest at once
					break
				}
				if pending.kind != 0 {
					pending.str = d.pend
					d.tag(st, f, cur, pending)
				}
				continue
			}
			switch {
			case !d.isTagValue(key):
				s.skipValue()
			case haveKey:
				d.tag(st, f, cur, s.scalar())
			default: // the key comes later: keep the value
				pending = s.scalar()
				d.pend = append(d.pend[:0], pending.str...)
			}
		}
	}
}

func (d *jaegerDecoder) isTagValue(key []byte) bool {
	if !d.proto {
		return string(key) == "value"
	}
	switch string(key) {
	case "vStr", "v_str", "vBool", "v_bool", "vInt64", "v_int64", "vFloat64", "v_float64":
		return true
	}
	return false
}

// Tag keys with a meaning beyond Attrs.
const (
	tagSpanKind = attrServiceName + 1 + iota
	tagError
	tagOtelStatus
)

func jaegerTagKey(b []byte) (attrField, bool) {
	switch string(b) {
	case "span.kind":
		return tagSpanKind, true
	case "error":
		return tagError, true
	case "otel.status_code":
		return tagOtelStatus, true
	}
	return attrKey(b)
}

// tag applies one tag value.
func (d *jaegerDecoder) tag(st *jaegerSpan, f attrField, cur bool, v scalar) {
	switch f {
	case tagSpanKind:
		if v.kind != scalarString {
			return
		}
		if k, ok := jaegerKind(v.str); ok {
			st.sp.Kind = k
		}
	case tagError:
		st.errTag = v.kind == scalarBool && v.b || v.kind == scalarString && string(v.str) == "true"
	case tagOtelStatus:
		if v.kind == scalarString {
			switch string(v.str) {
			case "ERROR":
				st.otelStatus = StatusError
			case "OK":
				st.otelStatus = StatusOK
			}
		}
	default:
		switch v.kind {
		case scalarString:
			st.attrs.setStr(&d.in, f, cur, v.str)
		case scalarInt:
			st.attrs.setInt(f, cur, v.n)
		}
	}
}

// process reads a process object's service name.
func (d *jaegerDecoder) process(service *string) {
	s := d.s
	if !s.beginObject() {
		return
	}
	for {
		key, ok := s.nextKey()
		if !ok {
			return
		}
		if string(key) == "serviceName" || string(key) == "service_name" {
			if b, ok := s.str(); ok {
				*service = d.in.str(b)
			}
		} else {
			s.skipValue()
		}
	}
}

// processes reads the {"p1": {process}, …} map of a trace.
func (d *jaegerDecoder) processes(tb *jaegerTraceBuf) {
	s := d.s
	if !s.beginObject() {
		return
	}
	for {
		key, ok := s.nextKey()
		if !ok {
			return
		}
		p := jaegerProc{id: tb.addText(key)}
		d.process(&p.service)
		tb.procs = append(tb.procs, p)
	}
}

// finishSpan rejects the span just read or buffers it in tb.
func (d *jaegerDecoder) finishSpan(st *jaegerSpan, tb *jaegerTraceBuf) {
	s := d.s
	switch {
	case !st.haveSpan:
		st.bad.set(WarnInvalidSpanID, d.names.spanID, "missing")
	case !st.haveStart:
		st.bad.set(WarnInvalidTime, "startTime", "missing")
	case !st.haveDur && !d.proto: // protobuf JSON omits a zero duration
		st.bad.set(WarnInvalidTime, "duration", "missing")
	case st.dur > 0 && st.start > math.MaxInt64-st.dur:
		st.bad.set(WarnInvalidTime, "duration", "end time out of range")
	}
	if st.bad.kind != "" {
		p := s.path()
		if st.m.idx < 0 && p == "" {
			p = st.bad.field
		} else {
			p += "." + st.bad.field
		}
		d.k.Reject(st.bad.kind, s.posAt(st.m.off, st.m.line, p), st.bad.detail)
		return
	}
	sp := &st.sp
	sp.Start = st.start
	sp.End = st.start + st.dur
	sp.Status = st.otelStatus
	if st.errTag {
		sp.Status = StatusError
	}
	sp.Attrs = d.in.attrs(&st.attrs)
	m := st.m
	m.refs[0] = len(tb.refs)
	tb.refs = append(tb.refs, st.refs...)
	m.refs[1] = len(tb.refs)
	if len(st.procID) > 0 {
		m.procID = tb.addText(st.procID)
	}
	tb.spans = append(tb.spans, *sp)
	tb.meta = append(tb.meta, m)
}

// flush resolves trace IDs, parents and services of the buffered spans
// and adds them. traceID is the enclosing trace object's, if it had one.
func (d *jaegerDecoder) flush(tb *jaegerTraceBuf, haveTrace bool, traceID TraceID, nonHex bool) {
	for i := range tb.spans {
		sp, m := &tb.spans[i], &tb.meta[i]
		if !m.haveTrace {
			if !haveTrace {
				d.k.Reject(WarnInvalidTraceID, d.bufPos(tb, i, "."+d.names.traceID), "missing")
				continue
			}
			sp.TraceID = traceID
			m.nonHex = m.nonHex || nonHex
		}
		d.final = d.final[:0]
		for _, r := range tb.refs[m.refs[0]:m.refs[1]] {
			if !r.haveTrace {
				r.TraceID = sp.TraceID
			}
			d.final = append(d.final, r.Ref)
		}
		d.setParent(sp)
		sp.Refs = d.refs.take(d.final)
		switch {
		case m.inlineSvc:
			sp.Service = m.service
		case m.procID[1] > m.procID[0]:
			sp.Service = tb.lookup(tb.text[m.procID[0]:m.procID[1]])
		}
		if sp.Service == "" {
			sp.Service = tb.batchService
		}
		if m.nonHex {
			d.k.Warn(WarnNonHexID, d.bufPos(tb, i, ""), "IDs are not hex; kept under a stable hash of their text")
		}
		d.k.Add(sp, func() Pos { return d.bufPos(tb, i, "") })
	}
}

// setParent picks the first CHILD_OF reference within the span's trace,
// else the first FOLLOWS_FROM one. A reference to the span itself (Jaeger's
// own fixtures have one) is never its parent.
func (d *jaegerDecoder) setParent(sp *Span) {
	for _, want := range [...]RefType{ChildOf, FollowsFrom} {
		for _, r := range d.final {
			if r.Type == want && r.TraceID == sp.TraceID && r.SpanID != sp.SpanID {
				sp.Parent = r.SpanID
				sp.ParentFollowsFrom = want == FollowsFrom
				return
			}
		}
	}
}

func (tb *jaegerTraceBuf) lookup(id []byte) string {
	for _, p := range tb.procs {
		if bytes.Equal(tb.text[p.id[0]:p.id[1]], id) {
			return p.service
		}
	}
	return ""
}

// bufPos locates buffered span i (the scanner is just past the end of the
// object holding it) with suffix appended to its path.
func (d *jaegerDecoder) bufPos(tb *jaegerTraceBuf, i int, suffix string) Pos {
	m := &tb.meta[i]
	p := d.s.path()
	if m.idx >= 0 {
		if p != "" {
			p += "."
		}
		p += "spans[" + strconv.Itoa(m.idx) + "]"
	}
	p += suffix
	if len(p) > 0 && p[0] == '.' {
		p = p[1:]
	}
	return d.s.posAt(m.off, m.line, p)
}
