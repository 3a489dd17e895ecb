package tracefmt

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/encoding/protojson"
)

// The fixtures under testdata/formats describe one call chain
// frontend (SERVER) → frontend CLIENT → backend SERVER → backend CLIENT
// (mysql, failed) in each backend's own shape; see its README.
// readAll is Read for the tests of this branch: one place to adapt when
// Read's signature changes (it is about to take a context).
func readAll(paths []string, opts Options) (*Result, error) {
	return Read(context.Background(), paths, opts)
}

func shapeFixture(name string) string { return filepath.Join("..", "testdata", "formats", name) }

func hexTID(s string) TraceID {
	var id TraceID
	if !jaegerHex(id[:], []byte(s)) {
		panic(s)
	}
	return id
}

func hexSID(s string) SpanID {
	var id SpanID
	if !jaegerHex(id[:], []byte(s)) {
		panic(s)
	}
	return id
}

// shapeSpan is what a fixture's span must read as.
type shapeSpan struct {
	id, parent         SpanID
	service, op        string
	kind               Kind
	status             StatusCode
	peer               string
	startUs, durUs     int64
	httpStatus         int32
	checkHTTP, checkOp bool
}

func TestReadShapes(t *testing.T) {
	const t0 = 1556604172355737 // µs
	a1, b2, c3, d4 := hexSID("a1a1a1a1a1a1a1a1"), hexSID("b2b2b2b2b2b2b2b2"), hexSID("c3c3c3c3c3c3c3c3"), hexSID("d4d4d4d4d4d4d4d4")
	b2s := derivedSpanID(b2) // the server half of Zipkin's shared b2
	otlp := []shapeSpan{
		{id: a1, service: "frontend", op: "GET /checkout", kind: KindServer, startUs: t0, durUs: 100000, httpStatus: 200, checkHTTP: true, checkOp: true},
		{id: b2, parent: a1, service: "frontend", op: "GET /api", kind: KindClient, peer: "backend", startUs: t0 + 10000, durUs: 50000},
		{id: c3, parent: b2, service: "backend", op: "get /api", kind: KindServer, startUs: t0 + 15000, durUs: 40000},
		{id: d4, parent: c3, service: "backend", op: "query", kind: KindClient, status: StatusError, startUs: t0 + 20000, durUs: 30000},
	}
	zipkin := []shapeSpan{
		{id: a1, service: "frontend", kind: KindServer, startUs: t0, durUs: 100000, httpStatus: 200, checkHTTP: true},
		{id: b2, parent: a1, service: "frontend", kind: KindClient, status: StatusError, peer: "backend", startUs: t0 + 10000, durUs: 50000},
		{id: b2s, parent: b2, service: "backend", kind: KindServer, startUs: t0 + 15000, durUs: 40000, httpStatus: 503, checkHTTP: true},
		{id: d4, parent: b2s, service: "backend", op: "query", kind: KindClient, status: StatusError, peer: "mysql", startUs: t0 + 20000, durUs: 30000, checkOp: true},
	}
	grafana := append([]shapeSpan(nil), otlp...)
	for i := range grafana { // the fixture's times are whole milliseconds
		grafana[i].startUs -= 737
	}
	jaeger := append([]shapeSpan(nil), otlp[:3]...)
	jaeger[0].checkHTTP, jaeger[1].peer = false, ""
	tests := []struct {
		file    string
		format  Format
		spans   []shapeSpan
		enc     Encoding
		warning WarningKind
	}{
		{"tempo-v1.json", FormatOTLPJSON, otlp, EncBase64IDs | EncEnumNames, ""},
		{"tempo-v2-partial.json", FormatOTLPJSON, otlp, EncBase64IDs | EncEnumNames, WarnPartialTrace},
		{"grafana-download.json", FormatOTLPJSON, grafana, EncHexIDs | EncEnumNumbers, ""},
		{"zipkin-v2.json", FormatZipkinJSON, zipkin, EncHexIDs, ""},
		{"zipkin-v1.json", FormatZipkinV1JSON, zipkin, EncHexIDs, ""},
		{"jaeger-ui-state.json", FormatJaegerJSON, jaeger, EncHexIDs, ""},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			res, err := readAll([]string{shapeFixture(tc.file)}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if got := res.Files[0].Format; got != tc.format {
				t.Errorf("format %s, want %s", got, tc.format)
			}
			k := res.Sink
			if k.Read != k.Kept()+k.RejectedTotal() || k.RejectedTotal() != 0 {
				t.Errorf("read %d, kept %d, rejected %d", k.Read, k.Kept(), k.RejectedTotal())
			}
			if k.Encoding != tc.enc {
				t.Errorf("encoding %v, want %v", k.Encoding.Names(), tc.enc.Names())
			}
			if tc.warning != "" {
				if n, _ := pbtWarn(k, tc.warning); n == 0 {
					t.Errorf("no %s warning: %+v", tc.warning, k.Warnings())
				}
			}
			if len(res.Traces) != 1 || res.Traces[0].ID != hexTID("5af7183fb1d4cf5f6b221d5bc9e6496c") {
				t.Fatalf("traces %+v, want one", res.Traces)
			}
			got := res.Traces[0].Spans
			if len(got) != len(tc.spans) {
				t.Fatalf("%d spans, want %d", len(got), len(tc.spans))
			}
			for i, w := range tc.spans {
				s := got[i]
				if s.SpanID != w.id || s.Parent != w.parent || s.Service != w.service || s.Kind != w.kind ||
					s.Status != w.status || s.Attrs.PeerService != w.peer || s.Start != w.startUs*1000 || s.End-s.Start != w.durUs*1000 {
					t.Errorf("span %d:\n got %s\nwant %+v", i, pbtShow(*s), w)
				}
				if w.checkOp && s.Operation != w.op || w.checkHTTP && s.Attrs.HTTPStatus != w.httpStatus {
					t.Errorf("span %d: op %q http %d, want %q %d", i, s.Operation, s.Attrs.HTTPStatus, w.op, w.httpStatus)
				}
			}
		})
	}
}

func TestReadZipkinTraceList(t *testing.T) {
	res, err := readAll([]string{shapeFixture("zipkin-v2-traces.json")}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Traces) != 2 || res.Sink.Kept() != 6 {
		t.Fatalf("%d traces, %d spans; want 2 and 6", len(res.Traces), res.Sink.Kept())
	}
	if res.Traces[1].ID != hexTID("463ac35c9f6413ad") || res.Traces[1].ID[0] != 0 {
		t.Errorf("64-bit trace ID read as %s, want it right-aligned", res.Traces[1].ID)
	}
}

// Responses that hold no spans, or an error, must fail with a message that
// says what the file is.
func TestReadShapesWithoutSpans(t *testing.T) {
	tests := []struct{ file, want string }{
		{"tempo-search.json", "Tempo search result"},
		{"jaeger-apiv3-error.json", "trace not found (code 404)"},
		{"jaeger-api-error.json", "parameter 'service' is required"},
		{"unknown-shape.json", "a JSON document with top-level keys batch, version: not a trace export hopbudget reads; known shapes:"},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			_, err := readAll([]string{shapeFixture(tc.file)}, Options{})
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), tc.file) {
				t.Errorf("error %v, want one naming the file and containing %q", err, tc.want)
			}
		})
	}
}

// The collector file exporter with compression writes each message
// compressed on its own behind a 4-byte length; with format: json too.
func TestReadCompressedRecords(t *testing.T) {
	req := func(n byte) *coltracepb.ExportTraceServiceRequest {
		return &coltracepb.ExportTraceServiceRequest{ResourceSpans: []*tracepb.ResourceSpans{{
			Resource:   pbtResource("svc"),
			ScopeSpans: []*tracepb.ScopeSpans{{Spans: []*tracepb.Span{pbtSpanPB(n, 1, "a"), pbtSpanPB(n, 2, "b")}}},
		}}}
	}
	zenc, _ := zstd.NewWriter(nil)
	compress := map[string]func([]byte) []byte{
		"none": func(b []byte) []byte { return b },
		"zstd": func(b []byte) []byte { return zenc.EncodeAll(b, nil) },
		"gzip": func(b []byte) []byte {
			var buf bytes.Buffer
			w := gzip.NewWriter(&buf)
			w.Write(b)
			w.Close()
			return buf.Bytes()
		},
	}
	marshal := map[string]func(*coltracepb.ExportTraceServiceRequest) []byte{
		"proto": func(m *coltracepb.ExportTraceServiceRequest) []byte { return pbtMarshal(t, m) },
		"json":  func(m *coltracepb.ExportTraceServiceRequest) []byte { b, _ := protojson.Marshal(m); return b },
	}
	dir := t.TempDir()
	for _, format := range []string{"proto", "json"} {
		for _, comp := range []string{"none", "zstd", "gzip"} {
			if format == "json" && comp == "none" {
				continue // the exporter writes plain JSON as lines instead
			}
			var stream []byte
			for n := byte(1); n <= 3; n++ {
				rec := compress[comp](marshal[format](req(n)))
				stream = binary.BigEndian.AppendUint32(stream, uint32(len(rec)))
				stream = append(stream, rec...)
			}
			path := filepath.Join(dir, format+"-"+comp)
			os.WriteFile(path, stream, 0o644)
			res, err := readAll([]string{path}, Options{})
			if err != nil {
				t.Fatalf("%s/%s: %v", format, comp, err)
			}
			if res.Files[0].Format != FormatOTLPProtoStream || res.Sink.Kept() != 6 || len(res.Traces) != 3 {
				t.Errorf("%s/%s: format %s, %d spans in %d traces; want %s, 6 in 3", format, comp,
					res.Files[0].Format, res.Sink.Kept(), len(res.Traces), FormatOTLPProtoStream)
			}
			// A cut record is an error naming the file.
			os.WriteFile(path, stream[:len(stream)-1], 0o644)
			if _, err := readAll([]string{path}, Options{}); err == nil || !strings.Contains(err.Error(), path) {
				t.Errorf("%s/%s corrupt: error %v, want one naming the file", format, comp, err)
			}
		}
	}
}

// Zipkin v1 binary annotations are assigned to the client or server side
// by endpoint, whatever the order of the keys in the span object.
func TestZipkinV1KeyOrder(t *testing.T) {
	type v1span struct {
		TraceID   string          `json:"traceId"`
		ID        string          `json:"id"`
		ParentID  string          `json:"parentId,omitempty"`
		Name      string          `json:"name"`
		Timestamp int64           `json:"timestamp"`
		Duration  int64           `json:"duration"`
		Bin       json.RawMessage `json:"binaryAnnotations"`
		Ann       json.RawMessage `json:"annotations"`
	}
	data, err := os.ReadFile(shapeFixture("zipkin-v1.json"))
	if err != nil {
		t.Fatal(err)
	}
	var spans []v1span
	if err := json.Unmarshal(data, &spans); err != nil {
		t.Fatal(err)
	}
	reordered, _ := json.Marshal(spans)
	if bytes.Index(reordered, []byte("binaryAnnotations")) > bytes.Index(reordered, []byte(`"annotations"`)) {
		t.Fatal("reordering failed")
	}
	show := func(b []byte) []string {
		k := NewSink()
		if err := decodeZipkinV1JSON(bytes.NewReader(b), "in.json", k); err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, s := range pbtSpans(k) {
			out = append(out, pbtShow(s))
		}
		return out
	}
	want, got := show(data), show(reordered)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("binaryAnnotations first:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// An api_v3 error body after traces (a stream of answers) is a warning; on
// its own it is the error.
func TestAPIv3ErrorAfterTraces(t *testing.T) {
	doc := strings.Replace(oneSpan("01"), `{"resourceSpans"`, `{"result":{"resourceSpans"`, 1) + "}\n" +
		`{"error":{"httpCode":500,"message":"storage timeout"}}`
	k := NewSink()
	if err := decodeOTLPJSON(strings.NewReader(doc), "in.json", k); err != nil {
		t.Fatal(err)
	}
	if n, ex := pbtWarn(k, WarnServerError); k.Kept() != 1 || n != 1 || !strings.Contains(ex, "storage timeout (code 500)") {
		t.Errorf("kept %d, warning %d %q", k.Kept(), n, ex)
	}
}

// The decompression cap holds across the collector's compressed records
// too: many small records that together expand past it fail.
func TestCompressedRecordsCap(t *testing.T) {
	zenc, _ := zstd.NewWriter(nil)
	doc := []byte(strings.Replace(oneSpan("01"), `"name":"op"`, `"name":"op","x":"`+strings.Repeat("a", 300<<10)+`"`, 1))
	var stream []byte
	for range 5 {
		rec := zenc.EncodeAll(doc, nil)
		stream = binary.BigEndian.AppendUint32(stream, uint32(len(rec)))
		stream = append(stream, rec...)
	}
	p := filepath.Join(t.TempDir(), "records.pb")
	os.WriteFile(p, stream, 0o644)
	if _, err := readAll([]string{p}, Options{MaxDecompressed: 1 << 20}); err == nil || !strings.Contains(err.Error(), "exceeds the limit of 1 MiB") {
		t.Errorf("error %v, want the decompression cap", err)
	}
	res, err := readAll([]string{p}, Options{MaxDecompressed: 2 << 20})
	if err != nil || res.Sink.Read != 5 {
		t.Errorf("under the cap: %v", err)
	}
}
