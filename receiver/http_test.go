package receiver

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/protobuf/proto"
)

// smallRequest is n valid spans of service svc; spans i in bad get invalid
// IDs (odd: short trace ID, even: zero span ID).
func smallRequest(svc string, n int, bad ...int) *coltracepb.ExportTraceServiceRequest {
	isBad := map[int]bool{}
	for _, i := range bad {
		isBad[i] = true
	}
	var spans []*tracepb.Span
	for i := range n {
		tid := bytes.Repeat([]byte{byte(i + 1)}, 16)
		sid := bytes.Repeat([]byte{byte(i + 1)}, 8)
		if isBad[i] && i%2 == 1 {
			tid = tid[:8]
		} else if isBad[i] {
			sid = make([]byte, 8)
		}
		spans = append(spans, &tracepb.Span{TraceId: tid, SpanId: sid, Name: "op", Kind: tracepb.Span_SPAN_KIND_SERVER,
			StartTimeUnixNano: 1_700_000_000_000_000_000, EndTimeUnixNano: 1_700_000_000_100_000_000})
	}
	return &coltracepb.ExportTraceServiceRequest{ResourceSpans: []*tracepb.ResourceSpans{{
		Resource: &resourcepb.Resource{Attributes: []*commonpb.KeyValue{{Key: "service.name",
			Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: svc}}}}},
		ScopeSpans: []*tracepb.ScopeSpans{{Spans: spans}},
	}}}
}

func mustProto(t testing.TB, m proto.Message) []byte {
	t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func gzipped(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

func zstded(b []byte) []byte {
	zw, _ := zstd.NewWriter(nil)
	return zw.EncodeAll(b, nil)
}

type httpCase struct {
	name     string
	method   string
	path     string
	ctype    string
	encoding string
	body     []byte
	chunked  bool // no Content-Length: the limit must hold while reading

	status   int
	rejected int64  // partial success
	fail     string // the Stats.Failed reason counted
	spans    int64  // spans accepted
}

func httpCases(t testing.TB) []httpCase {
	good := mustProto(t, smallRequest("svc", 3))
	goodJSON := appendRequest(nil, smallRequest("svc", 3))
	big := mustProto(t, smallRequest("svc", 20000)) // ~1 MiB: over the limits the tests set
	bomb := gzipped(append(good, make([]byte, 1<<20)...))
	pb, js := "application/x-protobuf", "application/json"
	return []httpCase{
		{name: "protobuf", ctype: pb, body: good, status: 200, spans: 3},
		{name: "protobuf charset", ctype: pb + "; charset=binary", body: good, status: 200, spans: 3},
		{name: "json hex IDs", ctype: js, body: goodJSON, status: 200, spans: 3},
		{name: "json protojson", ctype: "application/json; charset=utf-8", body: []byte(`{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"svc"}}]},"scopeSpans":[{"spans":[{"traceId":"AQEBAQEBAQEBAQEBAQEBAQ==","spanId":"AQEBAQEBAQE=","name":"x","kind":"SPAN_KIND_CLIENT","newField":1}]}]}]}`), status: 200, spans: 1},
		{name: "gzip", ctype: pb, encoding: "gzip", body: gzipped(good), status: 200, spans: 3},
		{name: "gzip json", ctype: js, encoding: "gzip", body: gzipped(goodJSON), status: 200, spans: 3},
		{name: "zstd", ctype: pb, encoding: "zstd", body: zstded(good), status: 200, spans: 3},
		{name: "empty", ctype: pb, body: nil, status: 200},
		{name: "partial", ctype: pb, body: mustProto(t, smallRequest("svc", 5, 1, 2)), status: 200, rejected: 2, spans: 3},
		{name: "partial json", ctype: js, body: appendRequest(nil, smallRequest("svc", 4, 3)), status: 200, rejected: 1, spans: 3},
		{name: "garbage", ctype: pb, body: []byte("\xff\xff\xff\xff not protobuf"), status: 400, fail: FailUndecodable},
		{name: "truncated", ctype: pb, body: good[:len(good)-7], status: 400, fail: FailUndecodable},
		{name: "bad json", ctype: js, body: []byte(`{"resourceSpans":[{`), status: 400, fail: FailUndecodable},
		{name: "json wrong types", ctype: js, body: []byte(`{"resourceSpans":{"x":1}}`), status: 400, fail: FailUndecodable},
		{name: "truncated gzip", ctype: pb, encoding: "gzip", body: gzipped(good)[:20], status: 400, fail: FailUndecodable},
		{name: "gzip header lies", ctype: pb, encoding: "gzip", body: good, status: 400, fail: FailUndecodable},
		{name: "bad zstd", ctype: pb, encoding: "zstd", body: good, status: 400, fail: FailUndecodable},
		{name: "too large", ctype: pb, body: big, status: 413, fail: FailTooLarge},
		{name: "too large chunked", ctype: pb, body: big, chunked: true, status: 413, fail: FailTooLarge},
		{name: "gzip bomb", ctype: pb, encoding: "gzip", body: bomb, status: 413, fail: FailTooLarge},
		{name: "zstd bomb", ctype: pb, encoding: "zstd", body: zstded(append(good, make([]byte, 1<<20)...)), status: 413, fail: FailTooLarge},
		{name: "text/plain", ctype: "text/plain", body: good, status: 415, fail: FailMediaType},
		{name: "no content type", body: good, status: 415, fail: FailMediaType},
		{name: "brotli", ctype: pb, encoding: "br", body: good, status: 415, fail: FailEncoding},
		{name: "GET", method: "GET", status: 405, fail: FailMethod},
		{name: "metrics", path: "/v1/metrics", ctype: pb, body: good, status: 404, fail: FailNotFound},
	}
}

func (c httpCase) request(t testing.TB, base string) *http.Request {
	method, path := c.method, c.path
	if method == "" {
		method = "POST"
	}
	if path == "" {
		path = TracesPath
	}
	var body io.Reader = bytes.NewReader(c.body)
	if c.chunked {
		body = io.MultiReader(body) // hides the length
	}
	q, err := http.NewRequest(method, base+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if c.ctype != "" {
		q.Header.Set("Content-Type", c.ctype)
	}
	if c.encoding != "" {
		q.Header.Set("Content-Encoding", c.encoding)
	}
	return q
}

// check holds an answer to the OTLP/HTTP spec: the status, the response
// type, and a body in the request's encoding (ExportTraceServiceResponse on
// success, google.rpc.Status on 400 and 413).
func (c httpCase) check(t testing.TB, code int, hdr http.Header, body []byte) {
	t.Helper()
	if code != c.status {
		t.Fatalf("%s: status %d, want %d (%s)", c.name, code, c.status, body)
	}
	isJSON := strings.HasPrefix(c.ctype, "application/json")
	switch c.status {
	case 200, 400, 413:
		want := "application/x-protobuf"
		if isJSON {
			want = "application/json"
		}
		if ct := hdr.Get("Content-Type"); ct != want {
			t.Errorf("%s: Content-Type %q, want %q", c.name, ct, want)
		}
	case 405:
		if hdr.Get("Allow") != "POST" {
			t.Errorf("%s: Allow %q", c.name, hdr.Get("Allow"))
		}
	}
	var m proto.Message = &status.Status{}
	if c.status == 200 {
		m = &coltracepb.ExportTraceServiceResponse{}
	}
	if c.status == 200 || c.status == 400 || c.status == 413 {
		var err error
		if isJSON {
			err = jsonIn.Unmarshal(body, m)
		} else {
			err = proto.Unmarshal(body, m)
		}
		if err != nil {
			t.Fatalf("%s: response body: %v (%q)", c.name, err, body)
		}
	}
	if resp, ok := m.(*coltracepb.ExportTraceServiceResponse); ok {
		if got := resp.GetPartialSuccess().GetRejectedSpans(); got != c.rejected {
			t.Errorf("%s: rejected %d, want %d", c.name, got, c.rejected)
		}
		if c.rejected > 0 && resp.PartialSuccess.ErrorMessage == "" {
			t.Errorf("%s: partial success without a message", c.name)
		}
		if c.rejected == 0 && resp.PartialSuccess != nil {
			t.Errorf("%s: partial success set on full success: %v", c.name, resp.PartialSuccess)
		}
	}
	if st, ok := m.(*status.Status); ok && (c.status == 400 || c.status == 413) && st.Message == "" {
		t.Errorf("%s: Status without a message", c.name)
	}
}

// Every kind of request gets the spec's answer and is counted once.
func TestHTTPAnswers(t *testing.T) {
	for _, c := range httpCases(t) {
		t.Run(c.name, func(t *testing.T) {
			w, err := NewWriter(io.Discard, false)
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			r := New(w, Config{MaxBody: 64 << 10})
			rec := httptest.NewRecorder()
			r.ServeHTTP(rec, c.request(t, "http://x"))
			c.check(t, rec.Code, rec.Header(), rec.Body.Bytes())
			st := r.Stats()
			if st.Requests != 1 || st.ByTransport[HTTP] != 1 {
				t.Errorf("counted %d requests (%v), want 1", st.Requests, st.ByTransport)
			}
			if st.Spans != c.spans || st.RejectedSpans() != c.rejected {
				t.Errorf("spans %d rejected %d, want %d and %d", st.Spans, st.RejectedSpans(), c.spans, c.rejected)
			}
			wantFailed := map[string]int64{}
			if c.fail != "" {
				wantFailed[c.fail] = 1
			}
			if !mapsEqual(st.Failed, wantFailed) {
				t.Errorf("failed %v, want %v", st.Failed, wantFailed)
			}
			if c.spans > 0 && st.Services["svc"] != c.spans {
				t.Errorf("services %v", st.Services)
			}
		})
	}
}

func mapsEqual(a, b map[string]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
