package tracefmt

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	model "github.com/jaegertracing/jaeger-idl/model/v1"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// pbtCountOTLP counts the spans proto.Unmarshal finds in one message,
// including those under the deprecated field 1000, which it keeps as
// unknown bytes.
func pbtCountOTLP(b []byte) (int, bool) {
	var td tracepb.TracesData
	if proto.Unmarshal(b, &td) != nil {
		return 0, false
	}
	n := 0
	for _, rs := range td.ResourceSpans {
		for _, ss := range rs.ScopeSpans {
			n += len(ss.Spans)
		}
		for u := rs.ProtoReflect().GetUnknown(); len(u) > 0; {
			num, typ, l := protowire.ConsumeField(u)
			if l < 0 {
				return 0, false
			}
			if num == 1000 && typ == protowire.BytesType {
				body, _ := protowire.ConsumeBytes(u[protowire.SizeTag(num):])
				var ss tracepb.ScopeSpans
				if proto.Unmarshal(body, &ss) != nil {
					return 0, false
				}
				n += len(ss.Spans)
			}
			u = u[l:]
		}
	}
	return n, true
}

// pbtCountStream applies count to every record of a length-prefixed stream.
func pbtCountStream(count func([]byte) (int, bool)) func([]byte) (int, bool) {
	return func(b []byte) (int, bool) {
		n := 0
		for len(b) > 0 {
			if len(b) < 4 {
				return 0, false
			}
			l := int(uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]))
			if l > len(b)-4 {
				return 0, false
			}
			rec := b[4 : 4+l]
			if isCompressed(rec) || len(rec) > 0 && rec[0] == '{' {
				return 0, false // the reference decoders do not expand records
			}
			m, ok := count(rec)
			if !ok {
				return 0, false
			}
			n += m
			b = b[4+l:]
		}
		return n, true
	}
}

// pbtCountJaeger counts the spans jaeger-idl finds in one Batch.
func pbtCountJaeger(b []byte) (int, bool) {
	var m model.Batch
	if m.Unmarshal(b) != nil {
		return 0, false
	}
	return len(m.Spans), true
}

// pbtCheck is the property every input must satisfy: no panic; either a
// *DecodeError inside the input, or a clean decode; every span read is kept
// or rejected; and when the reference decoder also succeeds, the same number
// of spans was read.
func pbtCheck(t *testing.T, dec Decoder, count func([]byte) (int, bool), data []byte) {
	t.Helper()
	k := NewSink()
	err := dec(bytes.NewReader(data), "fuzz.pb", k)
	if k.Read != k.Kept()+k.RejectedTotal() {
		t.Fatalf("read %d != kept %d + rejected %d", k.Read, k.Kept(), k.RejectedTotal())
	}
	for _, tr := range k.Traces() {
		for _, s := range tr.Spans {
			if s.Attrs == nil || s.Service == "" || s.End < s.Start {
				t.Fatalf("bad span kept: %s", pbtShow(*s))
			}
		}
	}
	if err != nil {
		var de *DecodeError
		if !errors.As(err, &de) {
			t.Fatalf("error %v (%T), want *DecodeError", err, err)
		}
		if de.File != "fuzz.pb" || de.Offset < 0 || de.Offset > int64(len(data)) || de.Msg == "" {
			t.Fatalf("bad error position: %+v", de)
		}
		return
	}
	if n, ok := count(data); ok && n != k.Read {
		t.Fatalf("read %d spans, reference decoder %d", k.Read, n)
	}
}

// pbtSeeds returns inputs for the malformed-input test and fuzz seeds: the
// testdata OTLP bodies, and streams built from them and from jaeger-idl
// messages.
func pbtSeeds(t testing.TB) (otlp, otlpStream, jaeger, jaegerStream [][]byte) {
	files, _ := filepath.Glob("../testdata/corpus/hotrod-local/otlp-http-requests/*.pb")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		otlp = append(otlp, b)
	}
	if len(otlp) < 2 {
		t.Fatal("no testdata corpus")
	}
	zenc, _ := zstd.NewWriter(nil)
	var gz bytes.Buffer
	gw := gzip.NewWriter(&gz)
	gw.Write(otlp[1])
	gw.Close()
	// The collector file exporter with compression: each record on its own.
	otlpStream = [][]byte{pbtRecords(otlp[0], otlp[1]), pbtRecords(otlp[2:]...),
		pbtRecords(zenc.EncodeAll(otlp[0], nil), gz.Bytes(), otlp[2])}
	span := pbtJSpan(1, 2, "GET /x")
	span.References = []model.SpanRef{model.NewChildOfRef(pbtJTID(1), pbtJSID(1)), model.NewFollowsFromRef(pbtJTID(1), pbtJSID(3))}
	span.Tags = []model.KeyValue{model.String("span.kind", "server"), model.Int64("http.status_code", 200), model.Bool("error", true)}
	batch := pbtJMarshal(t, &model.Batch{Spans: []*model.Span{pbtJSpan(1, 1, "a"), span}, Process: model.NewProcess("s", nil)})
	trace := pbtJMarshal(t, &model.Trace{Spans: []*model.Span{span},
		ProcessMap: []model.Trace_ProcessMapping{{ProcessID: "p1", Process: *model.NewProcess("one", nil)}}})
	jaeger = [][]byte{batch, trace}
	jaegerStream = [][]byte{pbtRecords(batch, trace), pbtRecords(batch)}
	return otlp, otlpStream, jaeger, jaegerStream
}

// TestProtoMalformed truncates valid inputs at many cut points and flips
// bytes: each decode must fail with a positioned DecodeError or succeed,
// never panic, and account for every span.
func TestProtoMalformed(t *testing.T) {
	otlp, otlpStream, jaeger, jaegerStream := pbtSeeds(t)
	rng := rand.New(rand.NewPCG(1, 2))
	for _, c := range []struct {
		name   string
		dec    Decoder
		count  func([]byte) (int, bool)
		inputs [][]byte
	}{
		{"otlp-proto", decodeOTLPProto, pbtCountOTLP, otlp},
		{"otlp-proto-stream", decodeOTLPProtoStream, pbtCountStream(pbtCountOTLP), otlpStream},
		{"jaeger-proto-stream", decodeJaegerProtoStream, pbtCountStream(pbtCountJaeger), jaegerStream},
		{"jaeger-proto", decodeJaegerProto, pbtCountJaeger, jaeger},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, in := range c.inputs {
				step := max(1, len(in)/150)
				for cut := 0; cut <= len(in); cut += step {
					pbtCheck(t, c.dec, c.count, in[:cut])
				}
				for range 150 {
					b := bytes.Clone(in)
					for range 1 + rng.IntN(3) {
						b[rng.IntN(len(b))] ^= byte(1 + rng.IntN(255))
					}
					pbtCheck(t, c.dec, c.count, b)
				}
			}
		})
	}
}

func FuzzOTLPProto(f *testing.F) {
	otlp, _, _, _ := pbtSeeds(f)
	for _, b := range otlp {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) { pbtCheck(t, decodeOTLPProto, pbtCountOTLP, data) })
}

func FuzzOTLPProtoStream(f *testing.F) {
	_, stream, _, _ := pbtSeeds(f)
	for _, b := range stream {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		pbtCheck(t, decodeOTLPProtoStream, pbtCountStream(pbtCountOTLP), data)
	})
}

func FuzzJaegerProtoStream(f *testing.F) {
	_, _, _, stream := pbtSeeds(f)
	for _, b := range stream {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		pbtCheck(t, decodeJaegerProtoStream, pbtCountStream(pbtCountJaeger), data)
	})
}
