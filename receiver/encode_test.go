package receiver

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// fill sets every field of m, recursively, to a non-zero value; of each
// oneof it sets the member choice picks. A field added to the generated
// types is filled too, so an encoder that does not know it fails the
// comparison with protojson below.
func fill(m protoreflect.Message, depth, choice int) {
	fields := m.Descriptor().Fields()
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		if od := fd.ContainingOneof(); od != nil && od.Fields().Get(choice%od.Fields().Len()) != fd {
			continue
		}
		if fd.IsList() {
			l := m.Mutable(fd).List()
			for j := 0; j < 2; j++ {
				if fd.Kind() == protoreflect.MessageKind {
					if depth > 8 {
						break
					}
					e := l.NewElement()
					fill(e.Message(), depth+1, choice+j)
					l.Append(e)
				} else {
					l.Append(scalar(fd, j))
				}
			}
			continue
		}
		if fd.Kind() == protoreflect.MessageKind {
			if depth > 8 {
				continue
			}
			fill(m.Mutable(fd).Message(), depth+1, choice+1)
			continue
		}
		m.Set(fd, scalar(fd, choice))
	}
}

// scalar is a non-zero value of fd's kind; IDs get their OTLP lengths,
// strings the characters JSON must escape, numbers their awkward ends.
func scalar(fd protoreflect.FieldDescriptor, i int) protoreflect.Value {
	switch fd.Kind() {
	case protoreflect.StringKind:
		return protoreflect.ValueOfString(fmt.Sprintf("%s-%d \"q\" \\ \n\t\x01 é ☃ 𝄞 </script>", fd.Name(), i))
	case protoreflect.BytesKind:
		switch fd.Name() {
		case "trace_id":
			return protoreflect.ValueOfBytes(bytes.Repeat([]byte{byte(0xa1 + i)}, 16))
		case "span_id", "parent_span_id":
			return protoreflect.ValueOfBytes(bytes.Repeat([]byte{byte(0xb2 + i)}, 8))
		}
		return protoreflect.ValueOfBytes([]byte{0, 0xff, byte(i), '"'})
	case protoreflect.BoolKind:
		return protoreflect.ValueOfBool(true)
	case protoreflect.EnumKind:
		return protoreflect.ValueOfEnum(protoreflect.EnumNumber(2 + i%2))
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		return protoreflect.ValueOfInt32(int32(-7 - i))
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return protoreflect.ValueOfUint32(math.MaxUint32 - uint32(i))
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return protoreflect.ValueOfInt64(math.MinInt64 + int64(i))
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return protoreflect.ValueOfUint64(1_700_000_000_123_456_789 + uint64(i))
	case protoreflect.DoubleKind:
		return protoreflect.ValueOfFloat64([]float64{1.5, 1e-7, 3e21, math.NaN(), math.Inf(-1), -0.1}[i%6])
	case protoreflect.FloatKind:
		return protoreflect.ValueOfFloat32(2.5)
	}
	panic("unhandled kind " + fd.Kind().String())
}

// protojsonOTLP is what the encoder must equal: protojson with enums as
// numbers and with the ID fields turned from base64 to hex, compared as
// parsed JSON values (key order and number spelling do not matter).
func protojsonOTLP(t *testing.T, m proto.Message) any {
	t.Helper()
	b, err := protojson.MarshalOptions{UseEnumNumbers: true}.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	v := parseJSON(t, b)
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				if s, ok := e.(string); ok && (k == "traceId" || k == "spanId" || k == "parentSpanId") {
					raw, err := base64.StdEncoding.DecodeString(s)
					if err != nil {
						t.Fatal(err)
					}
					x[k] = hex.EncodeToString(raw)
					continue
				}
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(v)
	return v
}

func parseJSON(t *testing.T, b []byte) any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatalf("%v in %s", err, b)
	}
	// Numbers compare by value: protojson and strconv may spell them apart.
	var norm func(v any) any
	norm = func(v any) any {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				x[k] = norm(e)
			}
		case []any:
			for i, e := range x {
				x[i] = norm(e)
			}
		case json.Number:
			f, err := x.Float64()
			if err != nil {
				return x.String()
			}
			return f
		}
		return v
	}
	return norm(v)
}

// fullRequests are requests with every field set, one per oneof choice so
// that every AnyValue member appears, plus the zero values a oneof must
// still write.
func fullRequests() []*coltracepb.ExportTraceServiceRequest {
	var out []*coltracepb.ExportTraceServiceRequest
	for choice := 0; choice < 8; choice++ {
		req := &coltracepb.ExportTraceServiceRequest{}
		fill(req.ProtoReflect(), 0, choice)
		out = append(out, req)
	}
	zeros := []*commonpb.AnyValue{
		{Value: &commonpb.AnyValue_StringValue{}}, {Value: &commonpb.AnyValue_BoolValue{}},
		{Value: &commonpb.AnyValue_IntValue{}}, {Value: &commonpb.AnyValue_DoubleValue{}},
		{Value: &commonpb.AnyValue_ArrayValue{ArrayValue: &commonpb.ArrayValue{}}},
		{Value: &commonpb.AnyValue_KvlistValue{KvlistValue: &commonpb.KeyValueList{}}},
		{Value: &commonpb.AnyValue_BytesValue{}}, {Value: &commonpb.AnyValue_StringValueStrindex{}}, {},
	}
	var kvs []*commonpb.KeyValue
	for i, z := range zeros {
		kvs = append(kvs, &commonpb.KeyValue{Key: fmt.Sprint("zero", i), Value: z})
	}
	kvs = append(kvs, &commonpb.KeyValue{Key: "no value"})
	out = append(out, &coltracepb.ExportTraceServiceRequest{ResourceSpans: []*tracepb.ResourceSpans{{
		ScopeSpans: []*tracepb.ScopeSpans{{Spans: []*tracepb.Span{{
			TraceId: bytes.Repeat([]byte{1}, 16), SpanId: bytes.Repeat([]byte{2}, 8), Attributes: kvs,
			Status: &tracepb.Status{}, Events: []*tracepb.Span_Event{{}}, Links: []*tracepb.Span_Link{{}},
		}}}, {}},
	}, {}}})
	return out
}

// The encoder writes what protojson writes, field for field, on messages
// with every field set: nothing the generated types hold is lost.
func TestEncoderMatchesProtojson(t *testing.T) {
	for i, req := range fullRequests() {
		got := appendRequest(nil, req)
		if !json.Valid(got) {
			t.Fatalf("request %d: invalid JSON: %s", i, got)
		}
		if g, w := parseJSON(t, got), protojsonOTLP(t, req); !reflect.DeepEqual(g, w) {
			gj, _ := json.Marshal(g)
			wj, _ := json.Marshal(w)
			t.Errorf("request %d differs from protojson:\n got: %s\nwant: %s", i, gj, wj)
		}
	}
}

// Every message type the request reaches is filled, so the comparison
// above sees every field (a guard on the guard).
func TestFillReachesEveryField(t *testing.T) {
	set := map[string]bool{}
	var walk func(m protoreflect.Message)
	walk = func(m protoreflect.Message) {
		m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
			set[string(fd.FullName())] = true
			switch {
			case fd.IsList() && fd.Kind() == protoreflect.MessageKind:
				for i := 0; i < v.List().Len(); i++ {
					walk(v.List().Get(i).Message())
				}
			case fd.Kind() == protoreflect.MessageKind:
				walk(v.Message())
			}
			return true
		})
	}
	for _, req := range fullRequests() {
		walk(req.ProtoReflect())
	}
	seen := map[protoreflect.FullName]bool{}
	var all func(md protoreflect.MessageDescriptor)
	all = func(md protoreflect.MessageDescriptor) {
		if seen[md.FullName()] {
			return
		}
		seen[md.FullName()] = true
		for i := 0; i < md.Fields().Len(); i++ {
			fd := md.Fields().Get(i)
			if !set[string(fd.FullName())] {
				t.Errorf("%s is never set by fill", fd.FullName())
			}
			if fd.Message() != nil {
				all(fd.Message())
			}
		}
	}
	all((&coltracepb.ExportTraceServiceRequest{}).ProtoReflect().Descriptor())
}

// What the writer writes decodes, through the receiver's own JSON path,
// to the very message it was given.
func TestEncoderRoundTrip(t *testing.T) {
	for i, req := range fullRequests() {
		line := appendRequest(nil, req)
		var back coltracepb.ExportTraceServiceRequest
		if err := jsonIn.Unmarshal(idsToBase64(nil, line), &back); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		// NaN != NaN: compare the JSON of both sides instead of the messages.
		if g, w := parseJSON(t, appendRequest(nil, &back)), parseJSON(t, line); !reflect.DeepEqual(g, w) {
			t.Errorf("request %d does not survive the round trip", i)
		}
		if !strings.Contains(string(line), `"traceId":"`+hex.EncodeToString(req.ResourceSpans[0].ScopeSpans[0].Spans[0].TraceId)+`"`) {
			t.Errorf("request %d: trace ID not in hex: %.200s", i, line)
		}
	}
}

func TestIDsToBase64(t *testing.T) {
	tid := "5b8efff798038103d269b633813fc60c"
	sid := "eee19b7ec3c1b174"
	b64 := func(h string) string { raw, _ := hex.DecodeString(h); return base64.StdEncoding.EncodeToString(raw) }
	tests := []struct{ in, want string }{
		{`{"traceId":"` + tid + `","spanId":"` + sid + `"}`, `{"traceId":"` + b64(tid) + `","spanId":"` + b64(sid) + `"}`},
		{`{"trace_id" : "` + tid + `", "parent_span_id":"` + sid + `"}`, `{"trace_id" : "` + b64(tid) + `", "parent_span_id":"` + b64(sid) + `"}`},
		// Already base64, empty, not a string, or not a key: untouched.
		{`{"traceId":"` + b64(tid) + `","parentSpanId":"","spanId":null}`, `{"traceId":"` + b64(tid) + `","parentSpanId":"","spanId":null}`},
		{`{"key":"traceId","value":{"stringValue":"` + tid + `"}}`, `{"key":"traceId","value":{"stringValue":"` + tid + `"}}`},
		{`["spanId","` + sid + `"]`, `["spanId","` + sid + `"]`},
		{`{"name":"a \"traceId\":\"` + tid + `\""}`, `{"name":"a \"traceId\":\"` + tid + `\""}`},
		// Not hex, wrong length, escaped: untouched.
		{`{"spanId":"zzzzzzzzzzzzzzzz","traceId":"abc"}`, `{"spanId":"zzzzzzzzzzzzzzzz","traceId":"abc"}`},
		{`{"spanId":"eee19b7ec3c1b17\u0034"}`, `{"spanId":"eee19b7ec3c1b17\u0034"}`},
		// Malformed: copied for protojson to refuse.
		{`{"spanId":"` + sid, `{"spanId":"` + sid},
		{`{"spanId`, `{"spanId`},
		{``, ``},
	}
	for _, tc := range tests {
		if got := string(idsToBase64(nil, []byte(tc.in))); got != tc.want {
			t.Errorf("idsToBase64(%s)\n got %s\nwant %s", tc.in, got, tc.want)
		}
	}
}

func FuzzIDsToBase64(f *testing.F) {
	f.Add([]byte(`{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174"}]}]}]}`))
	f.Add([]byte(`{"traceId":"\"","spanId":`))
	f.Fuzz(func(t *testing.T, b []byte) {
		out := idsToBase64(nil, b)
		// Only ID values change, so valid JSON stays valid.
		if json.Valid(b) && !json.Valid(out) {
			t.Fatalf("%s became invalid: %s", b, out)
		}
	})
}
