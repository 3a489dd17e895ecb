package tracefmt

// What every decoder uses to collect a span before handing it to the sink:
// the attribute set, the interning cache, the reference arena, and the
// reading of a bytes ID from JSON. One of each, shared by the JSON and the
// protobuf decoders.

// attrSet collects one span's Attrs; cur has a bit per field set from a
// current semantic-convention name, which a deprecated name never
// overrides; any says whether a field was set.
type attrSet struct {
	a   Attrs
	any bool
	cur uint16
}

// settable reports whether field f may be set from a name that is current
// or not, and records a current one.
func (as *attrSet) settable(f attrField, cur bool) bool {
	bit := uint16(1) << f
	if cur {
		as.cur |= bit
		return true
	}
	return as.cur&bit == 0
}

// setStr sets field f from a string value (an HTTP status written as a
// number in a string is read as the number; a statement is normalised).
func (as *attrSet) setStr(in *internCache, f attrField, cur bool, b []byte) {
	if f == attrHTTPStatus {
		if !jsonValidNumber(b) {
			return
		}
		if v, ok := jsonParseInt(b); ok {
			as.setStatus(cur, v)
		}
		return
	}
	if !as.settable(f, cur) {
		return
	}
	if f == attrDBStatement {
		b = NormalizeStatement(b)
	}
	v := in.str(b)
	switch f {
	case attrPeerService:
		as.a.PeerService = v
	case attrServerAddress:
		as.a.ServerAddress = v
	case attrDBSystem:
		as.a.DBSystem = v
	case attrHTTPMethod:
		as.a.HTTPMethod = v
	case attrHTTPRoute:
		as.a.HTTPRoute = v
	case attrRPCSystem:
		as.a.RPCSystem = v
	case attrRPCService:
		as.a.RPCService = v
	case attrRPCMethod:
		as.a.RPCMethod = v
	case attrMessaging:
		as.a.Messaging = v
	case attrDBStatement:
		as.a.DBStatement = v
	}
	as.any = true
}

// setInt sets the one integer field, the HTTP status code.
func (as *attrSet) setInt(f attrField, cur bool, v int64) {
	if f == attrHTTPStatus {
		as.setStatus(cur, v)
	}
}

// setStatus stores an HTTP status code; it reports false if v is out of
// range (the caller may warn).
func (as *attrSet) setStatus(cur bool, v int64) bool {
	if v < 0 || v > 999 {
		return false
	}
	if as.settable(attrHTTPStatus, cur) {
		as.a.HTTPStatus = int32(v)
		as.any = true
	}
	return true
}

// internCache puts small direct-mapped caches in front of Sink.Intern and
// Sink.InternAttrs, which hash every string and every attribute set: most
// values repeat, and a hit costs a cheap hash of a few bytes and a compare.
// A miss falls through to the sink, so the cache affects speed only.
type internCache struct {
	k    *Sink
	strs [256]string
	sets [256]*Attrs
}

// str is Sink.Intern.
func (c *internCache) str(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	h := uint32(len(b))<<16 ^ uint32(b[0])<<8 ^ uint32(b[len(b)-1]) ^ uint32(b[len(b)/2])<<4
	slot := &c.strs[(h*0x9e3779b1)>>24]
	if *slot != string(b) { // compares without allocating
		*slot = c.k.Intern(b)
	}
	return *slot
}

// attrs returns the shared Attrs of as, or nil (Add's empty set) when no
// field was set.
func (c *internCache) attrs(as *attrSet) *Attrs {
	if !as.any {
		return nil
	}
	a := &as.a
	h := uint32(a.HTTPStatus)
	for _, s := range [...]string{a.PeerService, a.ServerAddress, a.DBSystem, a.HTTPMethod, a.HTTPRoute,
		a.RPCSystem, a.RPCService, a.RPCMethod, a.Messaging, a.DBStatement} {
		h = h*31 + uint32(len(s))
		if len(s) > 0 {
			h = h*31 + uint32(s[len(s)-1])
		}
	}
	slot := &c.sets[(h*0x9e3779b1)>>24]
	if *slot == nil || **slot != *a {
		*slot = c.k.InternAttrs(a)
	}
	return *slot
}

// refArena hands out Ref slices carved from large blocks: Sink.Add keeps
// the Refs slice header, so each span needs its own backing array, and one
// allocation per block is cheaper than one per span. A carved slice is
// never handed out again.
// Blocks grow from 64 to 4096 Refs, so small inputs stay cheap.
type refArena struct {
	free []Ref
	next int
}

func (a *refArena) take(refs []Ref) []Ref {
	if len(refs) == 0 {
		return nil
	}
	if cap(a.free)-len(a.free) < len(refs) {
		a.next = min(max(2*a.next, 64), 4096)
		a.free = make([]Ref, 0, max(a.next, len(refs)))
	}
	n := len(a.free)
	a.free = append(a.free, refs...)
	return a.free[n:len(a.free):len(a.free)]
}

// readID reads a bytes ID from JSON, written as hex or base64 (see
// parseID), into dst. short also accepts an 8-byte trace ID, right-aligned
// (jaeger-idl allows it). It reports whether a valid ID was read; an
// invalid one is noted in bad, while null or "" (protobuf JSON's "absent")
// is just not read.
func readID(s *jsonScanner, dst []byte, short bool, enc *Encoding, bad *otlpProblem, kind WarningKind, field string) bool {
	b, ok := s.str()
	if !ok {
		if s.err == nil && s.got != "null" {
			bad.set(kind, field, idWant(len(dst))+", got "+s.got)
		}
		return false
	}
	if len(b) == 0 {
		return false
	}
	e, ok := parseID(dst, b)
	if !ok && short && len(dst) == len(TraceID{}) {
		clear(dst[:8])
		e, ok = parseID(dst[8:], b)
	}
	if !ok {
		bad.set(kind, field, idWant(len(dst))+", got "+jsonQuote(b))
		return false
	}
	*enc |= e
	return true
}
