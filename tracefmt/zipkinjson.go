package tracefmt

import (
	"encoding/binary"
	"io"
	"math"
	"strconv"
)

// decodeZipkinJSON reads Zipkin v2 JSON: an array of spans (the span
// endpoint's POST body, GET /api/v2/trace/{id}), an array of such arrays
// (GET /api/v2/traces), a single span object, or JSON Lines of those.
func decodeZipkinJSON(r io.Reader, file string, k *Sink) error {
	return newZipkinDecoder(r, file, k, false).run()
}

// decodeZipkinV1JSON reads Zipkin v1 JSON, the same shapes with v1 spans:
// the kind and times come from the core annotations cs/cr (client) and
// sr/ss (server), and tags from binaryAnnotations.
func decodeZipkinV1JSON(r io.Reader, file string, k *Sink) error {
	return newZipkinDecoder(r, file, k, true).run()
}

// Zipkin shares one span ID between the client and the server side of a
// call: in v2 the server's copy is marked "shared", in v1 one span holds the
// annotations of both sides. The neutral model wants one span per side, so
// the server side gets a span ID derived from the shared one and the client
// side as its parent, and spans whose parent is the shared ID are moved
// under the server side (they ran in the server), as Jaeger's span ID
// deduper does. That needs every span of a trace, so spans are held until
// the array holding them ends.

type zipkinDecoder struct {
	s   *jsonScanner
	k   *Sink
	in  internCache
	v1  bool
	enc Encoding

	group  []zipkinSpan // the spans of the array being read
	shared bool         // the group holds a shared or split server span
	cur    zipkinSpan
	path   [2]int // outer and inner array index of the span being read; -1 = none

	bins    []zipkinBin // v1 binary annotations of the span being read
	binText []byte
}

// zipkinSpan is one span being read or held.
type zipkinSpan struct {
	sp         Span
	off        int64
	line       int
	path       [2]int
	shared     bool // v2 "shared": the server side of a shared span ID
	split      bool // v1: this is the server half of a span read with its client half
	attrs      attrSet
	remoteSvc  string
	remoteAddr string
	errTag     bool
}

// zipkinEndpoint is the part of a Zipkin endpoint the model uses.
type zipkinEndpoint struct {
	service string
	addr    string // ipv4 or ipv6
}

// zipkinV1 collects what a v1 span says about each side.
type zipkinV1 struct {
	cs, cr, sr, ss       int64 // µs; 0 = absent
	client, server, any  string
	sa                   zipkinEndpoint
	serverAttrs          attrSet
	serverErr            bool
	haveClient, haveServ bool
}

func newZipkinDecoder(r io.Reader, file string, k *Sink, v1 bool) *zipkinDecoder {
	return &zipkinDecoder{s: newJSONScanner(r, file), k: k, in: internCache{k: k}, v1: v1}
}

func (d *zipkinDecoder) run() error {
	s := d.s
	s.skipBOM()
	for !s.atEOF() {
		d.path = [2]int{-1, -1}
		switch s.peek() {
		case '{':
			d.span()
		case '[':
			s.beginArray()
			for i := 0; s.nextElem(); i++ {
				d.path = [2]int{i, -1}
				if s.peek() == '[' { // GET /api/v2/traces: one array per trace
					s.beginArray()
					for j := 0; s.nextElem(); j++ {
						d.path[1] = j
						d.span()
					}
					d.flush()
					continue
				}
				d.span()
			}
		default:
			s.unexpected("'[' or '{' (Zipkin spans)")
		}
		d.flush()
		if s.err != nil {
			break
		}
	}
	d.flush()
	d.k.Encoding |= d.enc
	s.warnCut(d.k)
	return s.error()
}

// spanPos locates span z, with a field appended to its path.
func (d *zipkinDecoder) spanPos(z *zipkinSpan, field string) Pos {
	p := ""
	for _, i := range z.path {
		if i >= 0 {
			p += "[" + strconv.Itoa(i) + "]"
		}
	}
	if field != "" {
		if p != "" {
			p += "."
		}
		p += field
	}
	return d.s.posAt(z.off, z.line, p)
}

// span reads one span object into the group (or rejects it).
func (d *zipkinDecoder) span() {
	s := d.s
	s.peek()
	z := &d.cur
	*z = zipkinSpan{off: s.offset(), line: s.line(), path: d.path}
	if !s.beginObject() {
		return
	}
	var v zipkinV1
	var bad otlpProblem
	var haveTrace, haveSpan, haveTS, haveDur bool
	var ts, dur int64
	for {
		key, ok := s.nextKey()
		if !ok {
			break
		}
		switch string(key) {
		case "traceId":
			haveTrace = d.hexID(z.sp.TraceID[:], &bad, WarnInvalidTraceID, "traceId")
		case "id":
			haveSpan = d.hexID(z.sp.SpanID[:], &bad, WarnInvalidSpanID, "id")
		case "parentId":
			var p otlpProblem
			if d.hexID(z.sp.Parent[:], &p, WarnInvalidParentID, "parentId"); p.kind != "" {
				z.sp.Parent = SpanID{}
				d.k.Warn(WarnInvalidParentID, d.spanPos(z, "parentId"), p.detail+"; treated as a root span")
			}
		case "name":
			if b, ok := s.str(); ok {
				z.sp.Operation = d.in.str(b)
			}
		case "kind":
			if b, ok := s.str(); ok {
				z.sp.Kind = zipkinKind(b)
			}
		case "timestamp":
			ts, haveTS = s.micros(&bad, "timestamp")
		case "duration":
			dur, haveDur = s.micros(&bad, "duration")
		case "localEndpoint":
			var e zipkinEndpoint
			d.endpoint(&e)
			z.sp.Service = e.service
		case "remoteEndpoint":
			var e zipkinEndpoint
			d.endpoint(&e)
			z.remoteSvc, z.remoteAddr = e.service, e.addr
		case "tags":
			d.tags(z)
		case "shared":
			z.shared, _ = s.boolean()
		case "annotations":
			if d.v1 {
				d.annotations(&v)
			} else {
				s.skipValue()
			}
		case "binaryAnnotations":
			d.binaryAnnotations(&v)
		default:
			s.skipValue()
		}
	}
	d.applyBins(z, &v)
	if s.err != nil {
		return
	}
	switch {
	case !haveTrace:
		bad.set(WarnInvalidTraceID, "traceId", "missing")
	case !haveSpan:
		bad.set(WarnInvalidSpanID, "id", "missing")
	}
	if bad.kind == "" && d.v1 && (v.haveClient || v.haveServ) {
		d.v1Sides(z, &v, &bad)
		return
	}
	if bad.kind == "" && !haveTS {
		bad.set(WarnInvalidTime, "timestamp", "missing")
	}
	if bad.kind != "" {
		d.k.Reject(bad.kind, d.spanPos(z, bad.field), bad.detail)
		return
	}
	if !haveDur {
		d.k.Warn(WarnInvalidValue, d.spanPos(z, "duration"), "missing (an incomplete Zipkin span); using 0")
	}
	if z.sp.Service == "" && d.v1 {
		z.sp.Service = v.any
	}
	if !d.setTimes(z, ts, dur) {
		return
	}
	d.shared = d.shared || z.shared && z.sp.Kind == KindServer
	d.group = append(d.group, *z)
}

// setTimes sets start and end from µs, rejecting values out of range.
func (d *zipkinDecoder) setTimes(z *zipkinSpan, ts, dur int64) bool {
	if ts > math.MaxInt64/1000-dur {
		d.k.Reject(WarnInvalidTime, d.spanPos(z, "duration"), "end time out of range")
		return false
	}
	z.sp.Start, z.sp.End = ts*1000, (ts+dur)*1000
	return true
}

// v1Sides turns a v1 span with core annotations into a client span, a
// server span, or both.
func (d *zipkinDecoder) v1Sides(z *zipkinSpan, v *zipkinV1, bad *otlpProblem) {
	client, server := *z, *z
	server.attrs, server.errTag = v.serverAttrs, v.serverErr
	if v.haveClient {
		client.sp.Kind, client.sp.Service = KindClient, v.client
		client.remoteSvc, client.remoteAddr = v.sa.service, v.sa.addr
		start, end := v.cs, v.cr
		if start == 0 {
			start = v.cr
		}
		if end == 0 {
			end = start
		}
		if d.setTimes(&client, start, max(end-start, 0)) {
			d.group = append(d.group, client)
		}
	}
	if v.haveServ {
		server.sp.Kind, server.sp.Service = KindServer, v.server
		server.remoteSvc, server.remoteAddr = "", ""
		server.split = v.haveClient
		d.shared = d.shared || server.split
		start, end := v.sr, v.ss
		if start == 0 {
			start = v.ss
		}
		if end == 0 {
			end = start
		}
		if d.setTimes(&server, start, max(end-start, 0)) {
			d.group = append(d.group, server)
		}
	}
}

// hexID reads a Zipkin ID: 16 or 32 lowercase hex digits (a 64-bit trace
// ID is stored right-aligned, as for Jaeger).
func (d *zipkinDecoder) hexID(dst []byte, bad *otlpProblem, kind WarningKind, field string) bool {
	b, ok := d.s.str()
	if !ok {
		if d.s.err == nil && d.s.got != "null" {
			bad.set(kind, field, "want hex digits, got "+d.s.got)
		}
		return false
	}
	if len(b) == 0 {
		return false
	}
	if !jaegerHex(dst, b) {
		bad.set(kind, field, "want up to "+strconv.Itoa(2*len(dst))+" hex digits, got "+jsonQuote(b))
		return false
	}
	d.enc |= EncHexIDs
	return true
}

func zipkinKind(b []byte) Kind {
	switch string(b) {
	case "CLIENT":
		return KindClient
	case "SERVER":
		return KindServer
	case "PRODUCER":
		return KindProducer
	case "CONSUMER":
		return KindConsumer
	}
	return KindUnspecified
}

// endpoint reads {serviceName, ipv4, ipv6, port}.
func (d *zipkinDecoder) endpoint(e *zipkinEndpoint) {
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
		case "serviceName":
			if b, ok := s.str(); ok {
				e.service = d.in.str(b)
			}
		case "ipv4", "ipv6":
			if b, ok := s.str(); ok && e.addr == "" {
				e.addr = d.in.str(b)
			}
		default:
			s.skipValue()
		}
	}
}

// tags reads the v2 {"key": "value"} map.
func (d *zipkinDecoder) tags(z *zipkinSpan) {
	s := d.s
	if !s.beginObject() {
		return
	}
	for {
		key, ok := s.nextKey()
		if !ok {
			return
		}
		f, cur := jaegerTagKey(key)
		if f == attrNone {
			s.skipValue()
			continue
		}
		d.tag(z, &z.attrs, &z.errTag, f, cur, s.scalar())
	}
}

// tag applies one tag (v2) or binary annotation (v1) value to attrs.
func (d *zipkinDecoder) tag(z *zipkinSpan, attrs *attrSet, errTag *bool, f attrField, cur bool, v scalar) {
	switch f {
	case tagError:
		// Zipkin marks a failed span by the presence of the "error" tag;
		// its value is the message. "false" is not an error.
		*errTag = !(v.kind == scalarBool && !v.b || v.kind == scalarString && string(v.str) == "false")
	case tagOtelStatus:
		if v.kind == scalarString && string(v.str) == "ERROR" {
			*errTag = true
		}
	case tagSpanKind:
		if v.kind == scalarString && z.sp.Kind == KindUnspecified {
			if k, ok := jaegerKind(v.str); ok {
				z.sp.Kind = k
			}
		}
	default:
		switch v.kind {
		case scalarString:
			attrs.setStr(&d.in, f, cur, v.str)
		case scalarInt:
			attrs.setInt(f, cur, v.n)
		}
	}
}

// annotations reads v1 annotations: the core ones give each side's times
// and service.
func (d *zipkinDecoder) annotations(v *zipkinV1) {
	s := d.s
	if !s.beginArray() {
		return
	}
	for s.nextElem() {
		if !s.beginObject() {
			continue
		}
		var ts int64
		var value [2]byte
		var e zipkinEndpoint
		for {
			key, ok := s.nextKey()
			if !ok {
				break
			}
			switch string(key) {
			case "timestamp":
				if t, ok := s.int64(); ok && t > 0 && t <= math.MaxInt64/1000 {
					ts = t
				}
			case "value":
				if b, ok := s.str(); ok && len(b) == 2 {
					value = [2]byte{b[0], b[1]}
				}
			case "endpoint":
				d.endpoint(&e)
			default:
				s.skipValue()
			}
		}
		if v.any == "" {
			v.any = e.service
		}
		switch string(value[:]) {
		case "cs":
			v.cs, v.haveClient = ts, true
			if e.service != "" {
				v.client = e.service
			}
		case "cr":
			v.cr, v.haveClient = ts, true
			if v.client == "" {
				v.client = e.service
			}
		case "sr":
			v.sr, v.haveServ = ts, true
			if e.service != "" {
				v.server = e.service
			}
		case "ss":
			v.ss, v.haveServ = ts, true
			if v.server == "" {
				v.server = e.service
			}
		}
	}
	if v.haveClient && v.cs == 0 && v.cr == 0 {
		v.haveClient = false
	}
	if v.haveServ && v.sr == 0 && v.ss == 0 {
		v.haveServ = false
	}
}

// binaryAnnotations reads v1 tags: [{key, value, endpoint}]. "sa" (server
// address) is the client side's remote endpoint; "ca" is the client's
// address seen by the server (not needed); the others are tags, applied to
// the server side when logged by the server's endpoint.
func (d *zipkinDecoder) binaryAnnotations(v *zipkinV1) {
	s := d.s
	if !s.beginArray() {
		return
	}
	for s.nextElem() {
		if !s.beginObject() {
			continue
		}
		var bin zipkinBin
		var address bool
		var e zipkinEndpoint
		for {
			key, ok := s.nextKey()
			if !ok {
				break
			}
			switch string(key) {
			case "key":
				if b, ok := s.str(); ok {
					switch string(b) {
					case "sa", "ca", "ma":
						address = string(b) == "sa"
						bin.f = attrNone
					default:
						bin.f, bin.cur = jaegerTagKey(b)
					}
				}
			case "value":
				bin.val = s.scalar()
				n := len(d.binText)
				d.binText = append(d.binText, bin.val.str...)
				bin.text = [2]int{n, len(d.binText)}
			case "endpoint":
				d.endpoint(&e)
			default:
				s.skipValue()
			}
		}
		if address {
			v.sa = e
			continue
		}
		if v.any == "" {
			v.any = e.service
		}
		if bin.f != attrNone {
			bin.service = e.service
			d.bins = append(d.bins, bin)
		}
	}
}

// zipkinBin is a v1 binary annotation held until the span's end, when the
// core annotations (in any order in the object) have told which endpoint is
// the server.
type zipkinBin struct {
	f       attrField
	cur     bool
	val     scalar
	text    [2]int // the value's text in zipkinDecoder.binText
	service string // the endpoint that logged it
}

// applyBins applies the held binary annotations: those logged by the
// server's endpoint go to the server side, the others to the span (the
// client side, or the only side).
func (d *zipkinDecoder) applyBins(z *zipkinSpan, v *zipkinV1) {
	for i := range d.bins {
		b := &d.bins[i]
		b.val.str = d.binText[b.text[0]:b.text[1]]
		attrs, errTag := &z.attrs, &z.errTag
		if b.service != "" && b.service == v.server && b.service != v.client {
			attrs, errTag = &v.serverAttrs, &v.serverErr
		}
		d.tag(z, attrs, errTag, b.f, b.cur, b.val)
	}
	d.bins, d.binText = d.bins[:0], d.binText[:0]
}

// flush resolves shared span IDs in the group and adds its spans.
func (d *zipkinDecoder) flush() {
	g := d.group
	if len(g) == 0 {
		return
	}
	// The server half of a shared ID gets a derived ID when the client half
	// is present; moved[shared ID] = the server's new ID.
	var moved map[[24]byte]SpanID
	key := func(t TraceID, id SpanID) (k [24]byte) {
		copy(k[:16], t[:])
		copy(k[16:], id[:])
		return k
	}
	var clients map[[24]byte]bool
	if d.shared {
		clients = map[[24]byte]bool{}
		for i := range g {
			if g[i].sp.Kind == KindClient {
				clients[key(g[i].sp.TraceID, g[i].sp.SpanID)] = true
			}
		}
	}
	for i := range g {
		if !d.shared {
			break
		}
		z := &g[i]
		if z.sp.Kind != KindServer || !(z.shared || z.split) || !clients[key(z.sp.TraceID, z.sp.SpanID)] {
			continue
		}
		if moved == nil {
			moved = map[[24]byte]SpanID{}
		}
		shared := z.sp.SpanID
		z.sp.SpanID = derivedSpanID(shared)
		z.sp.Parent = shared
		moved[key(z.sp.TraceID, shared)] = z.sp.SpanID
	}
	for i := range g {
		z := &g[i]
		if moved != nil {
			if id, ok := moved[key(z.sp.TraceID, z.sp.Parent)]; ok && id != z.sp.SpanID {
				z.sp.Parent = id
			}
		}
		if z.sp.Kind == KindClient || z.sp.Kind == KindProducer {
			if z.remoteSvc != "" && z.attrs.a.PeerService == "" {
				z.attrs.a.PeerService, z.attrs.any = z.remoteSvc, true
			}
			if z.remoteAddr != "" && z.attrs.a.ServerAddress == "" {
				z.attrs.a.ServerAddress, z.attrs.any = z.remoteAddr, true
			}
		}
		if z.errTag {
			z.sp.Status = StatusError
		}
		z.sp.Attrs = d.in.attrs(&z.attrs)
		d.k.Add(&z.sp, func() Pos { return d.spanPos(z, "") })
	}
	d.group, d.shared = g[:0], false
}

// derivedSpanID is the span ID given to the server half of a shared Zipkin
// span: a fixed function of the shared ID, so runs are reproducible.
func derivedSpanID(id SpanID) SpanID {
	var out SpanID
	binary.BigEndian.PutUint64(out[:], fnv64(id[:], 3))
	if out == id {
		out[7] ^= 1
	}
	return out
}
