package tracefmt

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hopbudget/internal/tracegentest"

	model "github.com/jaegertracing/jaeger-idl/model/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// pbtJTID is pbtTID as a jaeger-idl trace ID.
func pbtJTID(n byte) model.TraceID {
	id := pbtTID(n)
	return model.NewTraceID(binary.BigEndian.Uint64(id[:8]), binary.BigEndian.Uint64(id[8:]))
}

func pbtJSID(n byte) model.SpanID {
	id := pbtSID(n)
	return model.SpanID(binary.BigEndian.Uint64(id[:]))
}

var pbtT0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// pbtJSpan is a valid jaeger-idl span with trace pbtTID(t), span pbtSID(n).
func pbtJSpan(t, n byte, op string) *model.Span {
	return &model.Span{TraceID: pbtJTID(t), SpanID: pbtJSID(n), OperationName: op, Flags: 1,
		StartTime: pbtT0.Add(time.Duration(n) * time.Microsecond), Duration: 250 * time.Microsecond}
}

// pbtJWant is the decoded form of pbtJSpan.
func pbtJWant(t, n byte, op, svc string) Span {
	start := pbtT0.Add(time.Duration(n) * time.Microsecond).UnixNano()
	return Span{TraceID: pbtTID(t), SpanID: pbtSID(n), Operation: op, Service: svc, Start: start, End: start + 250_000, Attrs: &Attrs{}}
}

// pbtFromJaeger is the reference: spans from jaeger-idl types.
func pbtFromJaeger(spans []*model.Span, batch *model.Process, procs map[string]string) []Span {
	var out []Span
	for _, p := range spans {
		s := Span{Operation: p.OperationName, Start: p.StartTime.UnixNano(), End: p.StartTime.Add(p.Duration).UnixNano()}
		binary.BigEndian.PutUint64(s.TraceID[:8], p.TraceID.High)
		binary.BigEndian.PutUint64(s.TraceID[8:], p.TraceID.Low)
		binary.BigEndian.PutUint64(s.SpanID[:], uint64(p.SpanID))
		switch {
		case p.Process != nil:
			s.Service = p.Process.ServiceName
		case procs[p.ProcessID] != "":
			s.Service = procs[p.ProcessID]
		case batch != nil:
			s.Service = batch.ServiceName
		}
		for _, r := range p.References {
			var ref Ref
			binary.BigEndian.PutUint64(ref.TraceID[:8], r.TraceID.High)
			binary.BigEndian.PutUint64(ref.TraceID[8:], r.TraceID.Low)
			binary.BigEndian.PutUint64(ref.SpanID[:], uint64(r.SpanID))
			ref.Type = RefType(r.RefType)
			s.Refs = append(s.Refs, ref)
		}
		for _, typ := range []RefType{ChildOf, FollowsFrom} {
			for _, r := range s.Refs {
				if s.Parent.IsZero() && r.Type == typ && r.TraceID == s.TraceID {
					s.Parent, s.ParentFollowsFrom = r.SpanID, typ == FollowsFrom
				}
			}
		}
		vals := map[string]any{}
		errTag := false
		for _, kv := range p.Tags {
			switch kv.Key {
			case "span.kind":
				s.Kind = map[string]Kind{"client": KindClient, "server": KindServer, "producer": KindProducer,
					"consumer": KindConsumer, "internal": KindInternal}[kv.VStr]
			case "error":
				errTag = errTag || kv.VBool
			case "otel.status_code":
				s.Status = map[string]StatusCode{"ERROR": StatusError, "OK": StatusOK}[strings.ToUpper(kv.VStr)]
			default:
				switch kv.VType {
				case model.ValueType_STRING:
					vals[kv.Key] = kv.VStr
				case model.ValueType_INT64:
					vals[kv.Key] = kv.VInt64
				}
			}
		}
		if errTag {
			s.Status = StatusError
		}
		s.Attrs = pbtAttrs(vals)
		out = append(out, s)
	}
	return pbtGroup(out)
}

func pbtJMarshal(t testing.TB, m interface{ Marshal() ([]byte, error) }) []byte {
	t.Helper()
	b, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecodeJaegerProto(t *testing.T) {
	withRefs := func(n byte, refs ...model.SpanRef) *model.Span {
		s := pbtJSpan(1, n, "op")
		s.References = refs
		return s
	}
	child, follows := model.NewChildOfRef, model.NewFollowsFromRef
	tagged := pbtJSpan(1, 1, "GET /x")
	tagged.Tags = []model.KeyValue{model.String("span.kind", "client"), model.Bool("error", true),
		model.String("otel.status_code", "OK"), model.String("http.request.method", "GET"), model.String("http.method", "PUT"),
		model.Int64("http.status_code", 500), model.String("http.response.status_code", "503"), model.String("db.system", "redis"),
		model.String("server.address", "cache"), model.Int64("rpc.service", 3), model.Float64("x", 1)}
	taggedWant := pbtJWant(1, 1, "GET /x", "svc")
	taggedWant.Kind, taggedWant.Status = KindClient, StatusError
	taggedWant.Attrs = &Attrs{HTTPMethod: "GET", HTTPStatus: 503, DBSystem: "redis", ServerAddress: "cache"}

	okOnly := pbtJSpan(1, 2, "op")
	okOnly.Tags = []model.KeyValue{model.String("otel.status_code", "ok"), model.String("span.kind", "server")}
	okWant := pbtJWant(1, 2, "op", "svc")
	okWant.Status, okWant.Kind = StatusOK, KindServer

	own := pbtJSpan(2, 3, "op")
	own.Process = model.NewProcess("own", nil)

	refsWant := func(n byte, parent SpanID, ff bool, refs ...Ref) Span {
		s := pbtJWant(1, n, "op", "svc")
		s.Parent, s.ParentFollowsFrom, s.Refs = parent, ff, refs
		return s
	}
	ref := func(t, s byte, typ RefType) Ref { return Ref{TraceID: pbtTID(t), SpanID: pbtSID(s), Type: typ} }

	batch := func(proc *model.Process, spans ...*model.Span) []byte {
		return pbtJMarshal(t, &model.Batch{Spans: spans, Process: proc})
	}
	svc := model.NewProcess("svc", []model.KeyValue{model.String("hostname", "h"), model.Int64("pid", 1)})

	trace := pbtJMarshal(t, &model.Trace{
		Spans: []*model.Span{func() *model.Span { s := pbtJSpan(1, 1, "op"); s.ProcessID = "p2"; return s }(),
			func() *model.Span { s := pbtJSpan(1, 2, "op"); s.ProcessID = "p1"; return s }()},
		ProcessMap: []model.Trace_ProcessMapping{{ProcessID: "p1", Process: *model.NewProcess("one", []model.KeyValue{model.String("ip", "1")})},
			{ProcessID: "p2", Process: *model.NewProcess("two", nil)}},
		Warnings: []string{"w"},
	})
	shortTrace := pbtJSpan(1, 4, "op")
	shortTrace.TraceID = model.NewTraceID(0, 77)
	// jaeger-idl always writes 16 bytes; rewrite the (first) trace_id field as 8.
	shortTraceBytes := pbtField(nil, 1, bytes.Replace(pbtJMarshal(t, shortTrace), append([]byte{0x0a, 16}, make([]byte, 8)...), []byte{0x0a, 8}, 1))
	shortWant := pbtJWant(1, 4, "op", UnknownService)
	shortWant.TraceID = TraceID{15: 77}

	cases := []struct {
		name     string
		in       []byte
		want     []Span
		rejected map[WarningKind]int
		warn     WarningKind
		example  string
		noRef    bool // the reference decoder cannot read the input
	}{
		{name: "empty", in: nil},
		{name: "process after spans, span process overrides", in: batch(svc, pbtJSpan(1, 1, "a"), own, pbtJSpan(1, 2, "b")),
			want: []Span{pbtJWant(1, 1, "a", "svc"), pbtJWant(1, 2, "b", "svc"), pbtJWant(2, 3, "op", "own")}},
		{name: "tags", in: batch(svc, tagged, okOnly), want: []Span{taggedWant, okWant}},
		{name: "parent is the first CHILD_OF in the trace",
			in:   batch(svc, withRefs(5, follows(pbtJTID(1), pbtJSID(1)), child(pbtJTID(9), pbtJSID(2)), child(pbtJTID(1), pbtJSID(3)), child(pbtJTID(1), pbtJSID(4)))),
			want: []Span{refsWant(5, pbtSID(3), false, ref(1, 1, FollowsFrom), ref(9, 2, ChildOf), ref(1, 3, ChildOf), ref(1, 4, ChildOf))}},
		{name: "else the first FOLLOWS_FROM", in: batch(svc, withRefs(5, child(pbtJTID(9), pbtJSID(2)), follows(pbtJTID(1), pbtJSID(1)))),
			want: []Span{refsWant(5, pbtSID(1), true, ref(9, 2, ChildOf), ref(1, 1, FollowsFrom))}},
		{name: "unknown reference type", in: batch(svc, withRefs(5, model.SpanRef{TraceID: pbtJTID(1), SpanID: pbtJSID(1), RefType: 7})),
			want: []Span{refsWant(5, SpanID{}, false)}, noRef: true, warn: WarnUnknownReference, example: "spans[0].references[0]: ref_type 7"},
		{name: "zero reference", in: batch(svc, withRefs(5, child(pbtJTID(1), 0))),
			want: []Span{refsWant(5, SpanID{}, false)}, noRef: true, warn: WarnInvalidRef, example: "all-zero ID (reference dropped)"},
		{name: "Trace with process_map", in: trace, want: []Span{pbtJWant(1, 1, "op", "two"), pbtJWant(1, 2, "op", "one")}},
		{name: "no process", in: batch(nil, pbtJSpan(1, 1, "op")), want: []Span{pbtJWant(1, 1, "op", UnknownService)},
			warn: WarnMissingService, example: "spans[0]: no service name"},
		{name: "8-byte trace ID", in: shortTraceBytes, want: []Span{shortWant}, noRef: true, warn: WarnMissingService},
		{name: "zero span ID", in: batch(svc, pbtJSpan(1, 1, "op"), func() *model.Span { s := pbtJSpan(1, 2, "op"); s.SpanID = 0; return s }()),
			want: []Span{pbtJWant(1, 1, "op", "svc")}, rejected: map[WarningKind]int{WarnInvalidSpanID: 1},
			warn: WarnInvalidSpanID, example: "spans[1].span_id: span ID is all zeros (span rejected)"},
		{name: "zero start", in: batch(svc, func() *model.Span { s := pbtJSpan(1, 2, "op"); s.StartTime = time.Unix(0, 0); return s }()),
			rejected: map[WarningKind]int{WarnInvalidTime: 1}, warn: WarnInvalidTime, example: "spans[0].start_time: missing start time"},
		{name: "bad span.kind", in: batch(svc, func() *model.Span {
			s := pbtJSpan(1, 2, "op")
			s.Tags = []model.KeyValue{model.String("span.kind", "sideways")}
			return s
		}()), want: []Span{pbtJWant(1, 2, "op", "svc")}, noRef: true, warn: WarnInvalidValue, example: `spans[0].tags[0]: span.kind: unknown span kind "sideways"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, stream := range []bool{false, true} {
				dec, in := decodeJaegerProto, c.in
				if stream {
					dec, in = decodeJaegerProtoStream, pbtRecords(c.in, c.in)
				}
				k, err := pbtDecode(dec, in)
				if err != nil {
					t.Fatal(err)
				}
				want := c.want
				if stream {
					want = pbtGroup(append(append([]Span(nil), c.want...), c.want...))
				}
				pbtSame(t, fmt.Sprintf("stream=%v", stream), pbtSpans(k), want)
				rejected := 0
				for kind, n := range c.rejected {
					if stream {
						n *= 2
					}
					rejected += n
					if k.Rejected[kind] != n {
						t.Errorf("rejected %s = %d, want %d", kind, k.Rejected[kind], n)
					}
				}
				if k.Read != len(want)+rejected {
					t.Errorf("read %d, want %d", k.Read, len(want)+rejected)
				}
				if c.warn != "" {
					if n, ex := pbtWarn(k, c.warn); n == 0 || !strings.Contains(ex, c.example) {
						t.Errorf("warning %s: count %d, example %q; want it to contain %q", c.warn, n, ex, c.example)
					}
				}
			}
			if c.noRef || len(c.rejected) > 0 {
				return
			}
			var tr model.Trace
			if strings.HasPrefix(c.name, "Trace") {
				if err := tr.Unmarshal(c.in); err != nil {
					t.Fatal(err)
				}
			} else {
				var b model.Batch
				if err := b.Unmarshal(c.in); err != nil {
					t.Fatal(err)
				}
				tr.Spans, tr.ProcessMap = b.Spans, []model.Trace_ProcessMapping{{ProcessID: "", Process: *orEmpty(b.Process)}}
			}
			procs := map[string]string{}
			var batchProc *model.Process
			for _, m := range tr.ProcessMap {
				if m.ProcessID == "" {
					batchProc = &m.Process
				}
				procs[m.ProcessID] = m.Process.ServiceName
			}
			k, _ := pbtDecode(decodeJaegerProto, c.in)
			want := pbtFromJaeger(tr.Spans, batchProc, procs)
			for i := range want {
				if want[i].Service == "" {
					want[i].Service = UnknownService
				}
			}
			pbtSame(t, "reference", pbtSpans(k), want)
		})
	}
}

func orEmpty(p *model.Process) *model.Process {
	if p == nil {
		return &model.Process{}
	}
	return p
}

func TestDecodeJaegerProtoErrors(t *testing.T) {
	good := pbtJMarshal(t, &model.Batch{Spans: []*model.Span{pbtJSpan(1, 1, "op")}, Process: model.NewProcess("s", nil)})
	// start_time (field 6) sent as a varint.
	badSpan := protowire.AppendVarint(protowire.AppendTag(pbtJMarshal(t, pbtJSpan(1, 2, "op")), 6, protowire.VarintType), 1)
	cases := []struct {
		name, in  string
		dec       Decoder
		msg, path string
		off       int64
		record    int
		kept      int
	}{
		{name: "truncated span", in: string(good[:20]), dec: decodeJaegerProto, msg: "truncated message: want", path: "spans[0]", off: 2, record: -1},
		{name: "field with the wrong type", in: string(good) + string(pbtField(nil, 1, badSpan)), dec: decodeJaegerProto,
			msg: "want wire type 2 (bytes), got 0 (varint)", path: "spans[1].start_time", off: int64(len(good) + 2 + len(badSpan) - 2), record: -1, kept: 1},
		{name: "stream: absurd length", in: string(pbtRecords(good)) + "\x7f\xff\xff\xff", dec: decodeJaegerProtoStream,
			msg: "record length 2147483647 exceeds the 1 GiB limit", off: int64(4 + len(good)), record: 1, kept: 1},
		{name: "stream: record past the input", in: string(pbtRecords(good, good))[:len(good)+4+4+10], dec: decodeJaegerProtoStream,
			msg: "truncated message: want", record: 1, off: int64(len(good) + 4 + 4 + 2), path: "spans[0]", kept: 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			k, err := pbtDecode(c.dec, []byte(c.in))
			de := pbtDecodeErr(t, err)
			if !strings.Contains(de.Msg, c.msg) || de.Path != c.path || de.Offset != c.off || de.Record != c.record {
				t.Errorf("got %s (path %q offset %d record %d)\nwant msg %q path %q offset %d record %d", de, de.Path, de.Offset, de.Record, c.msg, c.path, c.off, c.record)
			}
			if k.Kept() != c.kept {
				t.Errorf("kept %d, want %d", k.Kept(), c.kept)
			}
		})
	}
}

// pbtReadRecords splits a 4-byte length-prefixed stream.
func pbtReadRecords(t testing.TB, b []byte) [][]byte {
	t.Helper()
	var out [][]byte
	for len(b) > 0 {
		if len(b) < 4 || int(binary.BigEndian.Uint32(b)) > len(b)-4 {
			t.Fatal("bad stream")
		}
		n := binary.BigEndian.Uint32(b)
		out = append(out, b[4:4+n])
		b = b[4+n:]
	}
	return out
}

// pbtNormalize makes OTLP and Jaeger spans comparable: Jaeger's CHILD_OF
// parent reference is implied by Parent in OTLP, and OTLP marks an
// asynchronous parent with a link to it where Jaeger uses FOLLOWS_FROM.
func pbtNormalize(s Span, jaeger bool) Span {
	var refs []Ref
	for _, r := range s.Refs {
		if jaeger && r.Type == ChildOf && r.SpanID == s.Parent {
			continue
		}
		if !jaeger && r.SpanID == s.Parent && r.TraceID == s.TraceID {
			s.ParentFollowsFrom = true
		}
		refs = append(refs, r)
	}
	s.Refs = refs
	return s
}

// TestProtoTracegenAgree decodes the same tracegen traces from
// otlp-proto, otlp-proto-stream and jaeger-proto, checks each against
// the reference decoders and all three against each other.
func TestProtoTracegenAgree(t *testing.T) {
	if _, err := tracegentest.SharedDir(); err != nil {
		t.Skip(err)
	}
	dir := tracegentest.Generate(t, "-scenario", "mixed", "-traces", "300", "-seed", "3", "-format", "otlp-proto,otlp-proto-stream,jaeger-proto")
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	otlp, otlpStream, jaeger := read("traces.otlp.pb"), read("traces.otlp.pbstream"), read("traces.jaeger.pbstream")

	// References.
	var td tracepb.TracesData
	if err := proto.Unmarshal(otlp, &td); err != nil {
		t.Fatal(err)
	}
	var streamRef []*tracepb.ResourceSpans
	for _, rec := range pbtReadRecords(t, otlpStream) {
		var m tracepb.TracesData
		if err := proto.Unmarshal(rec, &m); err != nil {
			t.Fatal(err)
		}
		streamRef = append(streamRef, m.ResourceSpans...)
	}
	var jaegerRef []Span
	for _, rec := range pbtReadRecords(t, jaeger) {
		var b model.Batch
		if err := b.Unmarshal(rec); err != nil {
			t.Fatal(err)
		}
		jaegerRef = append(jaegerRef, pbtFromJaeger(b.Spans, b.Process, nil)...)
	}

	sets := map[string]map[[24]byte]Span{}
	for _, c := range []struct {
		name string
		dec  Decoder
		in   []byte
		want []Span
	}{
		{"otlp-proto", decodeOTLPProto, otlp, pbtFromOTLP(td.ResourceSpans)},
		{"otlp-proto-stream", decodeOTLPProtoStream, otlpStream, pbtFromOTLP(streamRef)},
		{"jaeger-proto", decodeJaegerProtoStream, jaeger, pbtGroup(jaegerRef)},
	} {
		k, err := pbtDecode(c.dec, c.in)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		got := pbtSpans(k)
		pbtSame(t, c.name, got, c.want)
		if len(k.Warnings()) != 0 || k.Read != len(got) {
			t.Errorf("%s: read %d, kept %d, warnings %+v", c.name, k.Read, len(got), k.Warnings())
		}
		set := map[[24]byte]Span{}
		for _, s := range got {
			var key [24]byte
			copy(key[:], s.TraceID[:])
			copy(key[16:], s.SpanID[:])
			set[key] = pbtNormalize(s, c.name == "jaeger-proto")
		}
		sets[c.name] = set
	}
	base := sets["otlp-proto"]
	if len(base) < 3000 {
		t.Fatalf("only %d spans", len(base))
	}
	for name, set := range sets {
		if len(set) != len(base) {
			t.Errorf("%s: %d spans, otlp-proto %d", name, len(set), len(base))
		}
		n := 0
		for key, s := range set {
			if b := base[key]; pbtShow(b) != pbtShow(s) && n < 3 {
				t.Errorf("%s differs from otlp-proto:\n got %s\nwant %s", name, pbtShow(s), pbtShow(b))
				n++
			}
		}
	}
}

// pbtSlowReader returns at most one byte per Read, exercising every
// buffer boundary.
type pbtSlowReader struct{ r io.Reader }

func (s pbtSlowReader) Read(p []byte) (int, error) { return s.r.Read(p[:min(len(p), 1)]) }

func TestProtoDecodersOneByteReads(t *testing.T) {
	b := pbtJMarshal(t, &model.Batch{Spans: []*model.Span{pbtJSpan(1, 1, "op"), pbtJSpan(1, 2, "op")}, Process: model.NewProcess("s", nil)})
	k := NewSink()
	if err := decodeJaegerProtoStream(pbtSlowReader{bytes.NewReader(pbtRecords(b, b))}, "x", k); err != nil || k.Kept() != 4 {
		t.Fatalf("kept %d, err %v", k.Kept(), err)
	}
}

// Timestamps beyond int64 nanoseconds, nanos outside [0, 10⁹) and negative
// times are rejected, as Jaeger JSON rejects its out-of-range microseconds.
func TestJaegerProtoTimeOutOfRange(t *testing.T) {
	ts := func(sec uint64, nanos uint64) []byte {
		b := protowire.AppendTag(nil, 1, protowire.VarintType)
		b = protowire.AppendVarint(b, sec)
		b = protowire.AppendTag(b, 2, protowire.VarintType)
		return protowire.AppendVarint(b, nanos)
	}
	span := func(start, dur []byte) []byte {
		b := pbtField(nil, 1, pbtTIDb(1))
		b = pbtField(b, 2, pbtSIDb(1))
		b = pbtField(b, 6, start)
		return pbtField(b, 7, dur)
	}
	proc := pbtField(nil, 1, []byte("svc"))
	ok := ts(1767225600, 5)
	for _, tc := range []struct {
		name       string
		start, dur []byte
		kept       int
	}{
		{"valid", ok, ts(0, 1000), 1},
		{"seconds 2^63-1", ts(1<<63-1, 0), ts(0, 0), 0},
		{"seconds past 2262", ts(9300000000, 0), ts(0, 0), 0},
		{"nanos 10^9", ts(1767225600, 1e9), ts(0, 0), 0},
		{"negative seconds", ts(uint64(1<<64-1), 0), ts(0, 0), 0},
		{"negative nanos", ts(1767225600, uint64(1<<64-1)), ts(0, 0), 0},
		{"negative duration", ok, ts(uint64(1<<64-2), 0), 0},
		{"end past the range", ts(9200000000, 0), ts(100000000, 0), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			batch := pbtField(pbtField(nil, 1, span(tc.start, tc.dur)), 2, proc)
			k, err := pbtDecode(decodeJaegerProto, batch)
			if err != nil {
				t.Fatal(err)
			}
			if k.Kept() != tc.kept || k.Read != 1 || k.Rejected[WarnInvalidTime] != 1-tc.kept {
				t.Errorf("kept %d of %d, rejected %v; want %d kept", k.Kept(), k.Read, k.Rejected, tc.kept)
			}
		})
	}
}
