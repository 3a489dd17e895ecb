package tracefmt

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"hopbudget/internal/tracegentest"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// Test helpers shared by the protobuf decoder tests are prefixed pbt.

// pbtDecode runs a decoder over data into a fresh sink.
func pbtDecode(dec Decoder, data []byte) (*Sink, error) {
	k := NewSink()
	return k, dec(bytes.NewReader(data), "in.pb", k)
}

// pbtSpans lists the kept spans as the sink groups them: by trace in order
// of first appearance, spans in input order.
func pbtSpans(k *Sink) []Span {
	var out []Span
	for _, t := range k.Traces() {
		for _, s := range t.Spans {
			out = append(out, *s)
		}
	}
	return out
}

// pbtGroup orders spans the way the sink does.
func pbtGroup(spans []Span) []Span {
	first := map[TraceID]int{}
	for i, s := range spans {
		if _, ok := first[s.TraceID]; !ok {
			first[s.TraceID] = i
		}
	}
	out := append([]Span(nil), spans...)
	sort.SliceStable(out, func(i, j int) bool { return first[out[i].TraceID] < first[out[j].TraceID] })
	return out
}

// pbtSame reports the first difference between two span lists.
func pbtSame(t *testing.T, what string, got, want []Span) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d spans, want %d", what, len(got), len(want))
	}
	for i := range min(len(got), len(want)) {
		if !reflect.DeepEqual(pbtShow(got[i]), pbtShow(want[i])) {
			t.Errorf("%s: span %d:\n got %s\nwant %s", what, i, pbtShow(got[i]), pbtShow(want[i]))
			return
		}
	}
}

// pbtShow prints a span with its attributes and references.
func pbtShow(s Span) string {
	a := Attrs{}
	if s.Attrs != nil {
		a = *s.Attrs
	}
	return fmt.Sprintf("trace=%s span=%s parent=%s ff=%v %d..%d svc=%q op=%q kind=%s status=%s attrs=%+v refs=%v",
		s.TraceID, s.SpanID, s.Parent, s.ParentFollowsFrom, s.Start, s.End, s.Service, s.Operation, s.Kind, s.Status, a, s.Refs)
}

// pbtWarn returns the count and example of one warning kind.
func pbtWarn(k *Sink, kind WarningKind) (int, string) {
	for _, w := range k.Warnings() {
		if w.Kind == kind {
			return w.Count, w.Example
		}
	}
	return 0, ""
}

func pbtTID(n byte) TraceID { return TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, n} }
func pbtSID(n byte) SpanID  { return SpanID{0xa, 0xb, 0xc, 0xd, 0xe, 0xf, 0x10, n} }

// pbtTIDb and pbtSIDb are the IDs as byte slices.
func pbtTIDb(n byte) []byte { id := pbtTID(n); return id[:] }
func pbtSIDb(n byte) []byte { id := pbtSID(n); return id[:] }

// pbtAttrNames lists attribute keys as (old, current) per Attrs field; the
// reference decoders below use it independently of attrKey.
var pbtAttrNames = []struct {
	old, cur string
	str      func(*Attrs) *string
}{
	{"peer.service", "service.peer.name", func(a *Attrs) *string { return &a.PeerService }},
	{"net.peer.name", "server.address", func(a *Attrs) *string { return &a.ServerAddress }},
	{"db.system", "db.system.name", func(a *Attrs) *string { return &a.DBSystem }},
	{"http.method", "http.request.method", func(a *Attrs) *string { return &a.HTTPMethod }},
	{"", "http.route", func(a *Attrs) *string { return &a.HTTPRoute }},
	{"rpc.system", "rpc.system.name", func(a *Attrs) *string { return &a.RPCSystem }},
	{"", "rpc.service", func(a *Attrs) *string { return &a.RPCService }},
	{"", "rpc.method", func(a *Attrs) *string { return &a.RPCMethod }},
	{"", "messaging.system", func(a *Attrs) *string { return &a.Messaging }},
	{"db.statement", "db.query.text", func(a *Attrs) *string { return &a.DBStatement }},
	{"http.status_code", "http.response.status_code", nil},
}

// pbtAttrs builds Attrs from key → value (a string or an int64), the
// current name winning.
func pbtAttrs(vals map[string]any) *Attrs {
	a := &Attrs{}
	for _, n := range pbtAttrNames {
		for _, key := range []string{n.old, n.cur} {
			v, ok := vals[key]
			if !ok || key == "" {
				continue
			}
			if n.str == nil {
				switch v := v.(type) {
				case int64:
					a.HTTPStatus = int32(v)
				case string:
					var code int32
					if _, err := fmt.Sscanf(v, "%d", &code); err == nil {
						a.HTTPStatus = code
					}
				}
			} else if s, ok := v.(string); ok {
				if n.cur == "db.query.text" {
					s = string(NormalizeStatement([]byte(s)))
				}
				*n.str(a) = s
			}
		}
	}
	// Statements are kept in their normalised shape (statement.go).
	a.DBStatement = string(NormalizeStatement([]byte(a.DBStatement)))
	return a
}

// pbtFromOTLP is the reference: spans from generated OTLP types.
func pbtFromOTLP(rss []*tracepb.ResourceSpans) []Span {
	var out []Span
	for _, rs := range rss {
		service := UnknownService
		for _, kv := range rs.GetResource().GetAttributes() {
			if kv.Key == "service.name" {
				service = kv.Value.GetStringValue()
			}
		}
		for _, ss := range rs.ScopeSpans {
			for _, p := range ss.Spans {
				s := Span{Service: service, Operation: p.Name, Kind: Kind(p.Kind), Status: StatusCode(p.Status.GetCode()),
					Start: int64(p.StartTimeUnixNano), End: int64(p.EndTimeUnixNano)}
				copy(s.TraceID[:], p.TraceId)
				copy(s.SpanID[:], p.SpanId)
				if len(p.ParentSpanId) == 8 {
					copy(s.Parent[:], p.ParentSpanId)
				}
				vals := map[string]any{}
				for _, kv := range p.Attributes {
					switch v := kv.Value.GetValue().(type) {
					case *commonpb.AnyValue_StringValue:
						vals[kv.Key] = v.StringValue
					case *commonpb.AnyValue_IntValue:
						vals[kv.Key] = v.IntValue
					}
				}
				s.Attrs = pbtAttrs(vals)
				for _, l := range p.Links {
					if len(l.TraceId) != 16 || len(l.SpanId) != 8 {
						continue
					}
					r := Ref{Type: FollowsFrom}
					copy(r.TraceID[:], l.TraceId)
					copy(r.SpanID[:], l.SpanId)
					s.Refs = append(s.Refs, r)
				}
				out = append(out, s)
			}
		}
	}
	return pbtGroup(out)
}

func pbtStr(k, v string) *commonpb.KeyValue {
	return &commonpb.KeyValue{Key: k, Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: v}}}
}

func pbtInt(k string, v int64) *commonpb.KeyValue {
	return &commonpb.KeyValue{Key: k, Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_IntValue{IntValue: v}}}
}

func pbtResource(service string) *resourcepb.Resource {
	return &resourcepb.Resource{Attributes: []*commonpb.KeyValue{pbtStr("host.name", "h"), pbtStr("service.name", service)}}
}

// pbtSpanPB is a valid generated span with trace pbtTID(t), span pbtSID(n).
func pbtSpanPB(t, n byte, name string) *tracepb.Span {
	return &tracepb.Span{TraceId: pbtTIDb(t), SpanId: pbtSIDb(n), Name: name, Kind: tracepb.Span_SPAN_KIND_INTERNAL,
		StartTimeUnixNano: 1_700_000_000_000_000_000 + uint64(n)*1000, EndTimeUnixNano: 1_700_000_000_000_500_000 + uint64(n)*1000}
}

func pbtMarshal(t testing.TB, m proto.Message) []byte {
	t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// pbtField appends a length-delimited field.
func pbtField(b []byte, num protowire.Number, body []byte) []byte {
	return protowire.AppendBytes(protowire.AppendTag(b, num, protowire.BytesType), body)
}

// pbtRecords frames messages as a 4-byte big-endian length stream.
func pbtRecords(msgs ...[]byte) []byte {
	var b []byte
	for _, m := range msgs {
		b = binary.BigEndian.AppendUint32(b, uint32(len(m)))
		b = append(b, m...)
	}
	return b
}

func TestDecodeOTLPProto(t *testing.T) {
	full := pbtSpanPB(1, 1, "GET /x")
	full.Kind = tracepb.Span_SPAN_KIND_SERVER
	full.ParentSpanId = pbtSIDb(9)
	full.Status = &tracepb.Status{Code: tracepb.Status_STATUS_CODE_ERROR, Message: "boom"}
	full.Attributes = []*commonpb.KeyValue{
		pbtStr("http.request.method", "GET"), pbtStr("http.method", "POST"), // current name first: still wins
		pbtStr("net.peer.name", "old-host"), pbtStr("server.address", "db"), // current name last
		pbtStr("db.system", "postgresql"), pbtInt("http.response.status_code", 503), pbtStr("http.status_code", "200"),
		pbtStr("http.route", "/x"), pbtStr("rpc.system.name", "grpc"), pbtStr("rpc.system", "dubbo"),
		pbtStr("rpc.service", "S"), pbtStr("rpc.method", "M"), pbtStr("messaging.system", "kafka"),
		pbtStr("peer.service", "old-peer"), pbtStr("service.peer.name", "peer"),
		pbtStr("unrelated", "x"), {Key: "peer.service", Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_ArrayValue{}}},
	}
	full.Links = []*tracepb.Span_Link{
		{TraceId: pbtTIDb(7), SpanId: pbtSIDb(8)},
		{TraceId: pbtTIDb(7), SpanId: []byte{1, 2, 3}}, // dropped
	}
	full.Events = []*tracepb.Span_Event{{Name: "ev", Attributes: []*commonpb.KeyValue{pbtStr("http.route", "no")}}}
	fullWant := Span{TraceID: pbtTID(1), SpanID: pbtSID(1), Parent: pbtSID(9), Service: "svc", Operation: "GET /x",
		Kind: KindServer, Status: StatusError, Start: int64(full.StartTimeUnixNano), End: int64(full.EndTimeUnixNano),
		Attrs: &Attrs{PeerService: "peer", ServerAddress: "db", DBSystem: "postgresql", HTTPMethod: "GET", HTTPRoute: "/x",
			HTTPStatus: 503, RPCSystem: "grpc", RPCService: "S", RPCMethod: "M", Messaging: "kafka"},
		Refs: []Ref{{TraceID: pbtTID(7), SpanID: pbtSID(8), Type: FollowsFrom}}}

	plain := func(t, n byte, svc string) Span {
		p := pbtSpanPB(t, n, "op")
		return Span{TraceID: pbtTID(t), SpanID: pbtSID(n), Service: svc, Operation: "op", Kind: KindInternal,
			Start: int64(p.StartTimeUnixNano), End: int64(p.EndTimeUnixNano), Attrs: &Attrs{}}
	}
	td := func(rss ...*tracepb.ResourceSpans) []byte {
		return pbtMarshal(t, &tracepb.TracesData{ResourceSpans: rss})
	}
	rs := func(svc string, spans ...*tracepb.Span) *tracepb.ResourceSpans {
		return &tracepb.ResourceSpans{Resource: pbtResource(svc), ScopeSpans: []*tracepb.ScopeSpans{{Spans: spans}}}
	}

	// A ResourceSpans whose resource comes after its spans: serialized
	// messages concatenate as a merge.
	late := pbtField(nil, 1, append(
		pbtMarshal(t, &tracepb.ResourceSpans{ScopeSpans: []*tracepb.ScopeSpans{{Spans: []*tracepb.Span{pbtSpanPB(1, 1, "op"), pbtSpanPB(2, 2, "op")}}}}),
		pbtMarshal(t, &tracepb.ResourceSpans{Resource: pbtResource("late")})...))
	// The deprecated instrumentation_library_spans (field 1000).
	legacy := pbtField(nil, 1, pbtField(pbtField(nil, 1, pbtMarshal(t, pbtResource("old"))), 1000,
		pbtMarshal(t, &tracepb.ScopeSpans{Spans: []*tracepb.Span{pbtSpanPB(1, 3, "op")}})))
	// Unknown fields of every wire type, including groups, at every level.
	var junk []byte
	junk = protowire.AppendTag(junk, 90, protowire.VarintType)
	junk = protowire.AppendVarint(junk, 1<<40)
	junk = protowire.AppendTag(junk, 91, protowire.Fixed32Type)
	junk = protowire.AppendFixed32(junk, 7)
	junk = protowire.AppendTag(junk, 92, protowire.Fixed64Type)
	junk = protowire.AppendFixed64(junk, 7)
	junk = pbtField(junk, 93, []byte("xyz"))
	junk = protowire.AppendTag(junk, 94, protowire.StartGroupType)
	junk = pbtField(junk, 1, []byte("in group"))
	junk = protowire.AppendTag(junk, 95, protowire.StartGroupType)
	junk = protowire.AppendTag(junk, 95, protowire.EndGroupType)
	junk = protowire.AppendTag(junk, 94, protowire.EndGroupType)
	withJunk := func(m proto.Message) []byte { return append(pbtMarshal(t, m), junk...) }
	junkSpan := pbtField(nil, 2, withJunk(pbtSpanPB(1, 4, "op")))
	junkScope := append(junkSpan, junk...)
	junkRS := append(pbtField(pbtField(nil, 1, withJunk(pbtResource("j"))), 2, junkScope), junk...)
	junkTop := append(append(append([]byte(nil), junk...), pbtField(nil, 1, junkRS)...), junk...)

	bad := func(mut func(*tracepb.Span)) *tracepb.Span {
		p := pbtSpanPB(1, 5, "bad")
		mut(p)
		return p
	}
	httpStatus := func(kv ...*commonpb.KeyValue) *tracepb.Span {
		p := pbtSpanPB(1, 6, "op")
		p.Attributes = kv
		return p
	}
	withStatus := func(code int32) Span {
		s := plain(1, 6, "s")
		s.Attrs = &Attrs{HTTPStatus: code}
		return s
	}

	cases := []struct {
		name     string
		in       []byte
		want     []Span
		rejected map[WarningKind]int
		warn     WarningKind // a warning expected
		example  string      // substring of its example
	}{
		{name: "empty input", in: nil},
		{name: "all fields", in: td(rs("svc", full)), want: []Span{fullWant},
			warn: WarnInvalidRef, example: "in.pb: offset 52: resource_spans[0].scope_spans[0].spans[0].links[1]: span_id: want 8 bytes, got 3 (link dropped)"},
		{name: "ExportTraceServiceRequest is the same layout",
			in:   pbtMarshal(t, &coltracepb.ExportTraceServiceRequest{ResourceSpans: []*tracepb.ResourceSpans{rs("svc", full)}}),
			want: []Span{fullWant}},
		{name: "resource after scope_spans", in: late, want: []Span{plain(1, 1, "late"), plain(2, 2, "late")}},
		{name: "instrumentation_library_spans", in: legacy, want: []Span{plain(1, 3, "old")}},
		{name: "unknown fields and groups everywhere", in: junkTop, want: []Span{plain(1, 4, "j")}},
		{name: "no resource", in: td(&tracepb.ResourceSpans{ScopeSpans: []*tracepb.ScopeSpans{{Spans: []*tracepb.Span{pbtSpanPB(3, 1, "op")}}}}),
			want: []Span{plain(3, 1, UnknownService)}, warn: WarnMissingService, example: "resource_spans[0].scope_spans[0].spans[0]: no service name"},
		{name: "several resources and scopes",
			in: td(rs("a", pbtSpanPB(1, 1, "op")), &tracepb.ResourceSpans{Resource: pbtResource("b"), ScopeSpans: []*tracepb.ScopeSpans{
				{Spans: []*tracepb.Span{pbtSpanPB(2, 2, "op")}}, {Spans: []*tracepb.Span{pbtSpanPB(1, 3, "op")}}}}),
			want: []Span{plain(1, 1, "a"), plain(1, 3, "b"), plain(2, 2, "b")}},
		{name: "short span ID",
			in:   td(rs("s", pbtSpanPB(1, 1, "op"), bad(func(p *tracepb.Span) { p.SpanId = []byte{1, 2, 3} }))),
			want: []Span{plain(1, 1, "s")}, rejected: map[WarningKind]int{WarnInvalidSpanID: 1},
			warn: WarnInvalidSpanID, example: "resource_spans[0].scope_spans[0].spans[1].span_id: want 8 bytes, got 3 (span rejected)"},
		{name: "zero trace ID", in: td(rs("s", bad(func(p *tracepb.Span) { p.TraceId = make([]byte, 16) }))),
			rejected: map[WarningKind]int{WarnInvalidTraceID: 1}, warn: WarnInvalidTraceID, example: "spans[0].trace_id: trace ID is all zeros"},
		{name: "missing trace ID", in: td(rs("s", bad(func(p *tracepb.Span) { p.TraceId = nil }))),
			rejected: map[WarningKind]int{WarnInvalidTraceID: 1}, warn: WarnInvalidTraceID, example: "trace_id: want 16 bytes, got 0"},
		{name: "zero span ID", in: td(rs("s", bad(func(p *tracepb.Span) { p.SpanId = make([]byte, 8) }))),
			rejected: map[WarningKind]int{WarnInvalidSpanID: 1}},
		{name: "missing start", in: td(rs("s", bad(func(p *tracepb.Span) { p.StartTimeUnixNano = 0 }))),
			rejected: map[WarningKind]int{WarnInvalidTime: 1}, warn: WarnInvalidTime, example: "start_time_unix_nano: missing start time"},
		{name: "missing end", in: td(rs("s", bad(func(p *tracepb.Span) { p.EndTimeUnixNano = 0 }))),
			rejected: map[WarningKind]int{WarnInvalidTime: 1}},
		{name: "bad parent is a root", in: td(rs("s", bad(func(p *tracepb.Span) { p.ParentSpanId = []byte{1} }))),
			want: []Span{func() Span { s := plain(1, 5, "s"); s.Operation = "bad"; return s }()},
			warn: WarnInvalidParentID, example: "spans[0].parent_span_id: want 8 bytes, got 1; treated as a root span"},
		{name: "unknown kind and status", in: td(rs("s", bad(func(p *tracepb.Span) {
			p.Kind = 9
			p.Status = &tracepb.Status{Code: 7}
		}))), want: []Span{func() Span { s := plain(1, 5, "s"); s.Operation, s.Kind = "bad", KindUnspecified; return s }()},
			warn: WarnInvalidValue, example: "spans[0].kind: unknown span kind 9"},
		{name: "HTTP status as a string", in: td(rs("s", httpStatus(pbtStr("http.status_code", "404")))), want: []Span{withStatus(404)}},
		{name: "HTTP status not a number", in: td(rs("s", httpStatus(pbtStr("http.status_code", "4x4")))), want: []Span{withStatus(0)},
			warn: WarnInvalidValue, example: "spans[0].attributes[0]: http.status_code: not an HTTP status code"},
		{name: "old HTTP status after the current one", in: td(rs("s", httpStatus(pbtInt("http.response.status_code", 201), pbtInt("http.status_code", 500)))),
			want: []Span{withStatus(201)}},
		{name: "end before start is mended by the sink", in: td(rs("s", bad(func(p *tracepb.Span) { p.EndTimeUnixNano = p.StartTimeUnixNano - 5 }))),
			want: []Span{func() Span { s := plain(1, 5, "s"); s.Operation, s.End = "bad", s.Start; return s }()}, warn: WarnEndBeforeStart},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			k, err := pbtDecode(decodeOTLPProto, c.in)
			if err != nil {
				t.Fatal(err)
			}
			pbtSame(t, "spans", pbtSpans(k), c.want)
			rejected := 0
			for kind, n := range c.rejected {
				rejected += n
				if k.Rejected[kind] != n {
					t.Errorf("rejected %s = %d, want %d", kind, k.Rejected[kind], n)
				}
			}
			if k.Read != len(c.want)+rejected || k.RejectedTotal() != rejected {
				t.Errorf("read %d, rejected %d; want %d read, %d rejected", k.Read, k.RejectedTotal(), len(c.want)+rejected, rejected)
			}
			if c.warn != "" {
				if n, ex := pbtWarn(k, c.warn); n == 0 || !strings.Contains(ex, c.example) {
					t.Errorf("warning %s: count %d, example %q; want it to contain %q", c.warn, n, ex, c.example)
				}
			}
			// The independent reference agrees on every valid input.
			var ref tracepb.TracesData
			if err := proto.Unmarshal(c.in, &ref); err == nil && len(c.rejected) == 0 && c.warn == "" && c.name != "instrumentation_library_spans" {
				pbtSame(t, "reference", pbtSpans(k), pbtFromOTLP(ref.ResourceSpans))
			}
		})
	}
}

// pbtDecodeErr expects a *DecodeError.
func pbtDecodeErr(t *testing.T, err error) *DecodeError {
	t.Helper()
	var de *DecodeError
	if !errors.As(err, &de) {
		t.Fatalf("error %v (%T), want a *DecodeError", err, err)
	}
	return de
}

func TestDecodeOTLPProtoErrors(t *testing.T) {
	span := pbtSpanPB(1, 1, "op")
	rsBody := pbtMarshal(t, &tracepb.ResourceSpans{Resource: pbtResource("s"), ScopeSpans: []*tracepb.ScopeSpans{{Spans: []*tracepb.Span{span}}}})
	valid := pbtField(nil, 1, rsBody)
	// A trace_id sent as a varint, inside the first span.
	spanOff := len(valid) + 2 + 2 + 2 // second ResourceSpans: its tag+len, scope_spans tag+len, spans tag+len
	badSpan := append(protowire.AppendVarint(protowire.AppendTag(nil, 1, protowire.VarintType), 5), pbtMarshal(t, span)...)
	badRS := pbtField(nil, 2, pbtField(nil, 2, badSpan))
	// A span claiming more bytes than its scope_spans holds.
	overlong := pbtField(nil, 2, append(protowire.AppendVarint(protowire.AppendTag(nil, 2, protowire.BytesType), 100), 1, 2, 3))

	cases := []struct {
		name, in   string
		dec        Decoder
		msg, path  string
		off        int64
		record     int
		spansAdded int
	}{
		{name: "truncated", in: string(valid[:len(valid)-10]), dec: decodeOTLPProto,
			msg: fmt.Sprintf("truncated message: want %d bytes, got %d", len(rsBody), len(rsBody)-10), path: "resource_spans[0]", off: 2, record: -1},
		{name: "invalid wire type", in: "\x0f", dec: decodeOTLPProto, msg: "invalid wire type 7 for field 1", off: 0, record: -1},
		{name: "resource_spans not bytes", in: string(valid) + "\x08\x01", dec: decodeOTLPProto,
			msg: "want wire type 2 (bytes), got 0 (varint)", path: "resource_spans[1]", off: int64(len(valid)), record: -1, spansAdded: 1},
		{name: "trace_id not bytes", in: string(valid) + string(pbtField(nil, 1, badRS)), dec: decodeOTLPProto,
			msg: "want wire type 2 (bytes), got 0 (varint)", path: "resource_spans[1].scope_spans[0].spans[0].trace_id",
			off: int64(spanOff), record: -1, spansAdded: 1},
		{name: "inner length past the end", in: string(pbtField(nil, 1, overlong)), dec: decodeOTLPProto,
			msg: "truncated message: field 2 wants 100 bytes, got 3", path: "resource_spans[0].scope_spans[0]", off: 4, record: -1},
		{name: "varint overflow", in: "\x0a\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", dec: decodeOTLPProto,
			msg: "varint longer than 10 bytes", off: 0, record: -1},
		{name: "stream: absurd record length", in: string(pbtRecords(valid)) + "\xff\xff\xff\xff", dec: decodeOTLPProtoStream,
			msg: "record length 4294967295 exceeds the 1 GiB limit", off: int64(4 + len(valid)), record: 1, spansAdded: 1},
		{name: "stream: record longer than the input", in: string(pbtRecords(valid))[:len(valid)+4-5], dec: decodeOTLPProtoStream,
			msg: fmt.Sprintf("truncated message: want %d bytes, got %d", len(rsBody), len(rsBody)-5), path: "resource_spans[0]", off: 6, record: 0},
		{name: "stream: truncated header", in: string(pbtRecords(valid)) + "\x00\x00", dec: decodeOTLPProtoStream,
			msg: "truncated record header: want 4 bytes, got 2", off: int64(4 + len(valid)), record: 1, spansAdded: 1},
		{name: "stream: field crosses the record end", in: string(pbtRecords(valid[:len(valid)-1])) + string(valid[len(valid)-1:]), dec: decodeOTLPProtoStream,
			msg: "field 1 runs 1 bytes past the end of the record", off: 4, record: 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			k, err := pbtDecode(c.dec, []byte(c.in))
			de := pbtDecodeErr(t, err)
			if !strings.Contains(de.Msg, c.msg) || de.Path != c.path || de.Offset != c.off || de.Record != c.record || de.File != "in.pb" {
				t.Errorf("got %s (path %q offset %d record %d)\nwant msg %q path %q offset %d record %d", de, de.Path, de.Offset, de.Record, c.msg, c.path, c.off, c.record)
			}
			if k.Kept() != c.spansAdded {
				t.Errorf("kept %d spans, want %d", k.Kept(), c.spansAdded)
			}
		})
	}
}

func TestDecodeOTLPProtoStream(t *testing.T) {
	files, _ := filepath.Glob("../testdata/corpus/hotrod-local/otlp-http-requests/*.pb")
	if len(files) == 0 {
		t.Fatal("no corpus files")
	}
	var msgs [][]byte
	var want []Span
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, b)
		var req coltracepb.ExportTraceServiceRequest
		if err := proto.Unmarshal(b, &req); err != nil {
			t.Fatal(err)
		}
		want = append(want, pbtFromOTLP(req.ResourceSpans)...)
	}
	msgs = append(msgs, nil) // an empty request is a valid record
	k, err := pbtDecode(decodeOTLPProtoStream, pbtRecords(msgs...))
	if err != nil {
		t.Fatal(err)
	}
	pbtSame(t, "stream", pbtSpans(k), pbtGroup(want))

	// Positions name the record.
	bad := pbtSpanPB(1, 1, "op")
	bad.SpanId = bad.SpanId[:3]
	rec := pbtMarshal(t, &tracepb.TracesData{ResourceSpans: []*tracepb.ResourceSpans{{ScopeSpans: []*tracepb.ScopeSpans{{Spans: []*tracepb.Span{bad}}}}}})
	k, err = pbtDecode(decodeOTLPProtoStream, pbtRecords(msgs[0], rec))
	if err != nil {
		t.Fatal(err)
	}
	wantEx := fmt.Sprintf("in.pb: record 1, offset %d: resource_spans[0].scope_spans[0].spans[0].span_id: want 8 bytes, got 3 (span rejected)", 4+len(msgs[0])+4+6)
	if _, ex := pbtWarn(k, WarnInvalidSpanID); ex != wantEx {
		t.Errorf("example %q\n   want %q", ex, wantEx)
	}
}

// TestDecodeOTLPProtoHotrod decodes real OTLP/HTTP request bodies exported
// by the HotROD demo: the copies in testdata always, and the whole corpus
// when ../shared is present.
func TestDecodeOTLPProtoHotrod(t *testing.T) {
	files, _ := filepath.Glob("../testdata/corpus/hotrod-local/otlp-http-requests/*.pb")
	whole := false
	if shared, err := tracegentest.SharedDir(); err == nil {
		if all, _ := filepath.Glob(filepath.Join(shared, "corpus/hotrod-local/otlp-http-requests/*.pb")); len(all) > 0 {
			files, whole = all, true
		}
	}
	all := NewSink()
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		k, err := pbtDecode(decodeOTLPProto, b)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		var ref tracepb.TracesData
		if err := proto.Unmarshal(b, &ref); err != nil {
			t.Fatal(err)
		}
		pbtSame(t, filepath.Base(f), pbtSpans(k), pbtFromOTLP(ref.ResourceSpans))
		if len(k.Warnings()) != 0 {
			t.Errorf("%s: warnings %+v", f, k.Warnings())
		}
		if err := decodeOTLPProto(bytes.NewReader(b), f, all); err != nil {
			t.Fatal(err)
		}
	}
	if !whole {
		t.Logf("../shared not found: checked the %d testdata copies only", len(files))
		return
	}
	errs, services := 0, map[string]bool{}
	traces := all.Traces()
	for _, tr := range traces {
		for _, s := range tr.Spans {
			services[s.Service] = true
			if s.Status == StatusError {
				errs++
			}
		}
	}
	wantServices := map[string]bool{"frontend": true, "customer": true, "mysql": true, "driver": true, "redis-manual": true, "route": true}
	if len(files) != 84 || len(traces) != 27 || all.Kept() != 1031 || all.Read != 1031 || errs != 66 || !reflect.DeepEqual(services, wantServices) {
		t.Errorf("%d files: %d traces, %d spans (%d read), %d errors, services %v; want 84 files, 27 traces, 1031 spans, 66 errors, %v",
			len(files), len(traces), all.Kept(), all.Read, errs, services, wantServices)
	}
}

// TestDecodeOTLPProtoVariedSizes reuses the message buffer across
// ResourceSpans that grow and shrink past its capacity.
func TestDecodeOTLPProtoVariedSizes(t *testing.T) {
	var rss []*tracepb.ResourceSpans
	n := byte(0)
	for _, size := range []int{3, 900, 10, 2500, 400, 2600, 1} {
		rs := &tracepb.ResourceSpans{Resource: pbtResource(fmt.Sprint("svc", size)), ScopeSpans: []*tracepb.ScopeSpans{{}}}
		for i := range size {
			n++
			rs.ScopeSpans[0].Spans = append(rs.ScopeSpans[0].Spans, pbtSpanPB(byte(i%7), n|1, fmt.Sprint("op", i)))
		}
		rss = append(rss, rs)
	}
	in := pbtMarshal(t, &tracepb.TracesData{ResourceSpans: rss})
	for _, dec := range []Decoder{decodeOTLPProto, decodeOTLPProtoStream} {
		data := in
		if reflect.ValueOf(dec).Pointer() == reflect.ValueOf(decodeOTLPProtoStream).Pointer() {
			data = pbtRecords(in, in[:0], in)
		}
		k, err := pbtDecode(dec, data)
		if err != nil {
			t.Fatal(err)
		}
		want := pbtFromOTLP(rss)
		if len(data) != len(in) {
			want = pbtFromOTLP(append(append([]*tracepb.ResourceSpans(nil), rss...), rss...))
		}
		pbtSame(t, "varied sizes", pbtSpans(k), want)
	}
}
