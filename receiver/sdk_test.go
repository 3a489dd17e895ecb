package receiver

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	"go.opentelemetry.io/otel/attribute"
	otelcodes "go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"hopbudget/tracefmt"
)

// The real SDK exporters, over each transport, with and without gzip, into
// plain and zstd files: the file read back through tracefmt holds every
// span with its IDs, parent, times, service, name, kind, status, modelled
// attributes and links; decoded as OTLP, it also holds everything else the
// SDK sent (events, link attributes, scope, other attributes).
func TestSDKRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name       string
		grpc, gzip bool
		file       string
	}{
		{"http", false, false, "rec.otlp.jsonl"},
		{"http-gzip", false, true, "rec.otlp.jsonl.zst"},
		{"grpc", true, false, "rec.otlp.jsonl"},
		{"grpc-gzip", true, true, "rec.otlp.jsonl.zst"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := startReceiver(t, Config{}, tc.file)
			mem := tracetest.NewInMemoryExporter()
			p := newProviders(tr.exporter(t, tc.grpc, tc.gzip), mem, false, checkoutServices...)
			base := time.Unix(1_700_000_000, 123_456_789)
			for i := range 3 {
				checkoutTrace(p, base.Add(time.Duration(i)*time.Second))
			}
			p.shutdown(t)
			tr.stop(t)

			stubs := mem.GetSpans()
			if len(stubs) != 3*7 {
				t.Fatalf("the SDK made %d spans, want 21", len(stubs))
			}
			st := tr.Stats()
			if st.Spans != int64(len(stubs)) || st.RejectedSpans() != 0 || len(st.Failed) != 0 {
				t.Errorf("stats: %+v", st)
			}
			if st.Services["checkout"] != 3*4 || st.Services["frontend"] != 3*2 || st.Services["payments"] != 3 {
				t.Errorf("services: %v", st.Services)
			}
			checkModel(t, tr.path, stubs)
			checkLossless(t, tr.path, stubs)
		})
	}
}

// checkModel reads the recording through the normal ingest and compares
// every span with what the SDK recorded.
func checkModel(t *testing.T, path string, stubs tracetest.SpanStubs) {
	t.Helper()
	res, err := tracefmt.Read(context.Background(), []string{path}, tracefmt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sum := tracefmt.Summarize(res)
	if sum.Format != string(tracefmt.FormatOTLPJSON) || sum.RejectedSpans != 0 || len(sum.Warnings) != 0 {
		t.Errorf("read as %s, %d rejected, warnings %v", sum.Format, sum.RejectedSpans, sum.Warnings)
	}
	if strings.HasSuffix(path, ".zst") && res.Files[0].Compression != "zstd" {
		t.Errorf("compression %q", res.Files[0].Compression)
	}
	got := map[tracefmt.SpanID]*tracefmt.Span{}
	for _, tr := range res.Traces {
		for _, s := range tr.Spans {
			got[s.SpanID] = s
		}
	}
	if len(got) != len(stubs) {
		t.Fatalf("read %d spans, want %d", len(got), len(stubs))
	}
	for _, w := range stubs {
		g := got[tracefmt.SpanID(w.SpanContext.SpanID())]
		if g == nil {
			t.Fatalf("span %s not recorded", w.SpanContext.SpanID())
		}
		svc, _ := w.Resource.Set().Value("service.name")
		want := tracefmt.Span{
			TraceID: tracefmt.TraceID(w.SpanContext.TraceID()), SpanID: tracefmt.SpanID(w.SpanContext.SpanID()),
			Parent: tracefmt.SpanID(w.Parent.SpanID()), Start: w.StartTime.UnixNano(), End: w.EndTime.UnixNano(),
			Service: svc.AsString(), Operation: w.Name, Kind: tracefmt.Kind(w.SpanKind),
			Status: map[otelcodes.Code]tracefmt.StatusCode{otelcodes.Unset: tracefmt.StatusUnset, otelcodes.Ok: tracefmt.StatusOK, otelcodes.Error: tracefmt.StatusError}[w.Status.Code],
		}
		if g.TraceID != want.TraceID || g.Parent != want.Parent || g.Start != want.Start || g.End != want.End ||
			g.Service != want.Service || g.Operation != want.Operation || g.Kind != want.Kind || g.Status != want.Status {
			t.Errorf("span %s:\n got %+v\nwant %+v", w.Name, *g, want)
		}
		if wa := modelAttrs(w.Attributes); *g.Attrs != wa {
			t.Errorf("span %s attributes:\n got %+v\nwant %+v", w.Name, *g.Attrs, wa)
		}
		var refs []tracefmt.Ref
		for _, l := range w.Links {
			refs = append(refs, tracefmt.Ref{TraceID: tracefmt.TraceID(l.SpanContext.TraceID()), SpanID: tracefmt.SpanID(l.SpanContext.SpanID()), Type: tracefmt.FollowsFrom})
		}
		if fmt.Sprint(g.Refs) != fmt.Sprint(refs) {
			t.Errorf("span %s links: got %v, want %v", w.Name, g.Refs, refs)
		}
	}
}

// modelAttrs is what tracefmt keeps of the attributes checkoutTrace sets.
func modelAttrs(kvs []attribute.KeyValue) tracefmt.Attrs {
	var a tracefmt.Attrs
	for _, kv := range kvs {
		v := kv.Value.Emit()
		switch kv.Key {
		case "peer.service":
			a.PeerService = v
		case "server.address":
			a.ServerAddress = v
		case "db.system":
			a.DBSystem = v
		case "http.request.method", "http.method":
			a.HTTPMethod = v
		case "http.route":
			a.HTTPRoute = v
		case "http.response.status_code", "http.status_code":
			a.HTTPStatus = int32(kv.Value.AsInt64())
		case "rpc.system":
			a.RPCSystem = v
		case "rpc.service":
			a.RPCService = v
		case "rpc.method":
			a.RPCMethod = v
		case "messaging.system":
			a.Messaging = v
		}
	}
	return a
}

// checkLossless decodes the recording as OTLP and compares everything the
// SDK recorded that the span model does not keep.
func checkLossless(t *testing.T, path string, stubs tracetest.SpanStubs) {
	t.Helper()
	reqs := readRecording(t, path)
	type rec struct {
		span  *tracepb.Span
		scope *commonpb.InstrumentationScope
		res   []*commonpb.KeyValue
	}
	got := map[string]rec{}
	for _, req := range reqs {
		for _, rs := range req.ResourceSpans {
			for _, ss := range rs.ScopeSpans {
				for _, sp := range ss.Spans {
					got[string(sp.SpanId)] = rec{sp, ss.Scope, rs.Resource.Attributes}
				}
			}
		}
	}
	for _, w := range stubs {
		sid := w.SpanContext.SpanID()
		g, ok := got[string(sid[:])]
		if !ok {
			t.Fatalf("span %s not in the recording", w.Name)
		}
		if !proto.Equal(kvList(g.span.Attributes), kvList(pbAttrs(w.Attributes))) {
			t.Errorf("%s attributes: got %v", w.Name, g.span.Attributes)
		}
		if !proto.Equal(kvList(g.res), kvList(pbAttrs(w.Resource.Attributes()))) {
			t.Errorf("%s resource: got %v", w.Name, g.res)
		}
		if g.scope.GetName() != w.InstrumentationScope.Name || g.scope.GetVersion() != w.InstrumentationScope.Version {
			t.Errorf("%s scope: got %v", w.Name, g.scope)
		}
		if g.span.Status.GetMessage() != w.Status.Description || g.span.Flags&0xff != uint32(w.SpanContext.TraceFlags()) {
			t.Errorf("%s status %v flags %x", w.Name, g.span.Status, g.span.Flags)
		}
		if len(g.span.Events) != len(w.Events) || len(g.span.Links) != len(w.Links) {
			t.Fatalf("%s: %d events, %d links; want %d, %d", w.Name, len(g.span.Events), len(g.span.Links), len(w.Events), len(w.Links))
		}
		for i, e := range w.Events {
			ge := g.span.Events[i]
			if ge.Name != e.Name || ge.TimeUnixNano != uint64(e.Time.UnixNano()) || !proto.Equal(kvList(ge.Attributes), kvList(pbAttrs(e.Attributes))) {
				t.Errorf("%s event %d: got %v", w.Name, i, ge)
			}
		}
		for i, l := range w.Links {
			if !proto.Equal(kvList(g.span.Links[i].Attributes), kvList(pbAttrs(l.Attributes))) {
				t.Errorf("%s link %d: got %v", w.Name, i, g.span.Links[i])
			}
		}
	}
}

func kvList(kvs []*commonpb.KeyValue) *commonpb.KeyValueList {
	return &commonpb.KeyValueList{Values: kvs}
}

// pbAttrs converts SDK attributes to OTLP, for the types checkoutTrace uses.
func pbAttrs(kvs []attribute.KeyValue) []*commonpb.KeyValue {
	var out []*commonpb.KeyValue
	for _, kv := range kvs {
		var v commonpb.AnyValue
		switch kv.Value.Type() {
		case attribute.STRING:
			v.Value = &commonpb.AnyValue_StringValue{StringValue: kv.Value.AsString()}
		case attribute.INT64:
			v.Value = &commonpb.AnyValue_IntValue{IntValue: kv.Value.AsInt64()}
		case attribute.FLOAT64:
			v.Value = &commonpb.AnyValue_DoubleValue{DoubleValue: kv.Value.AsFloat64()}
		case attribute.BOOL:
			v.Value = &commonpb.AnyValue_BoolValue{BoolValue: kv.Value.AsBool()}
		case attribute.STRINGSLICE:
			var arr commonpb.ArrayValue
			for _, s := range kv.Value.AsStringSlice() {
				arr.Values = append(arr.Values, &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: s}})
			}
			v.Value = &commonpb.AnyValue_ArrayValue{ArrayValue: &arr}
		default:
			panic("unhandled attribute type " + kv.Value.Type().String())
		}
		out = append(out, &commonpb.KeyValue{Key: string(kv.Key), Value: &v})
	}
	return out
}

// readRecording decodes a recording line by line as OTLP.
func readRecording(t testing.TB, path string) []*coltracepb.ExportTraceServiceRequest {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".zst") {
		zr, err := zstd.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		defer zr.Close()
		r = zr
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 64<<20)
	var out []*coltracepb.ExportTraceServiceRequest
	for sc.Scan() {
		req := &coltracepb.ExportTraceServiceRequest{}
		if err := jsonIn.Unmarshal(idsToBase64(nil, sc.Bytes()), req); err != nil {
			t.Fatalf("line %d: %v", len(out)+1, err)
		}
		out = append(out, req)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// rawCodec sends bytes as they are, to put garbage on the gRPC wire.
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error) { return v.([]byte), nil }
func (rawCodec) Unmarshal(b []byte, v any) error {
	*(v.(*[]byte)) = append([]byte(nil), b...)
	return nil
}
func (rawCodec) Name() string { return "proto" }

// OTLP/gRPC: partial success, and gRPC's own refusals (undecodable,
// oversized, unknown method) answered with their codes and counted.
func TestGRPCAnswers(t *testing.T) {
	tr := startReceiver(t, Config{MaxBody: 64 << 10}, "rec.otlp.jsonl")
	conn, err := grpc.NewClient(tr.grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx := context.Background()
	client := coltracepb.NewTraceServiceClient(conn)

	resp, err := client.Export(ctx, smallRequest("svc", 5, 1, 2))
	if err != nil || resp.GetPartialSuccess().GetRejectedSpans() != 2 || !strings.Contains(resp.PartialSuccess.ErrorMessage, "invalid-trace-id") {
		t.Errorf("partial: %v, %v", resp, err)
	}
	if resp, err = client.Export(ctx, smallRequest("svc", 2)); err != nil || resp.PartialSuccess != nil {
		t.Errorf("success: %v, %v", resp, err)
	}
	if _, err = client.Export(ctx, smallRequest("svc", 2000)); status.Code(err) != codes.ResourceExhausted {
		t.Errorf("oversized: %v", err)
	}
	var out []byte
	if err = conn.Invoke(ctx, coltracepb.TraceService_Export_FullMethodName, []byte("\xff\xff\xff garbage"), &out, grpc.ForceCodec(rawCodec{})); status.Code(err) != codes.Internal {
		t.Errorf("garbage: %v", err)
	}
	if err = conn.Invoke(ctx, "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export", []byte{}, &out, grpc.ForceCodec(rawCodec{})); status.Code(err) != codes.Unimplemented {
		t.Errorf("metrics: %v", err)
	}
	tr.stop(t)
	st := tr.Stats()
	want := map[string]int64{FailTooLarge: 1, FailUndecodable: 1, FailNotFound: 1}
	if st.Requests != 5 || st.ByTransport[GRPC] != 5 || st.Spans != 5 || st.Rejected[string(tracefmt.WarnInvalidTraceID)] != 1 ||
		st.Rejected[string(tracefmt.WarnInvalidSpanID)] != 1 || !mapsEqual(st.Failed, want) {
		t.Errorf("stats %+v", st)
	}
}

// Good SDK clients on both transports lose nothing while bad clients send
// every kind of broken request beside them; the bad ones are all counted.
func TestConcurrentGoodAndBad(t *testing.T) {
	// The SDK's batches of 512 spans fit; the bad cases' do not.
	tr := startReceiver(t, Config{MaxBody: 512 << 10}, "rec.otlp.jsonl")
	const traces = 150
	// The bad clients start first and keep going until the good ones are
	// done, so that every good batch arrives among bad requests.
	bad := httpCases(t)
	var badSent atomic.Int64
	stop, going := make(chan struct{}), make(chan struct{})
	var once sync.Once
	var bwg sync.WaitGroup
	for i := range 3 {
		bwg.Add(1)
		go func() {
			defer bwg.Done()
			client := &http.Client{Timeout: 10 * time.Second}
			for k := i; ; k++ {
				// Stop once the good clients are done, but not before this
				// client has sent every bad case once: the counts below
				// expect each kind of failure, however fast the good side is.
				if k-i >= len(bad) {
					select {
					case <-stop:
						return
					default:
					}
				}
				c := bad[k%len(bad)]
				if c.fail == "" {
					continue
				}
				resp, err := client.Do(c.request(t, "http://"+tr.httpAddr))
				if err != nil {
					t.Errorf("%s: %v", c.name, err)
					return
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				c.check(t, resp.StatusCode, resp.Header, body)
				badSent.Add(1)
				once.Do(func() { close(going) })
			}
		}()
	}
	<-going
	var wg sync.WaitGroup
	var mems []*tracetest.InMemoryExporter
	for i := range 4 {
		mem := tracetest.NewInMemoryExporter()
		mems = append(mems, mem)
		p := newProviders(tr.exporter(t, i%2 == 1, i >= 2), mem, true, checkoutServices...)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range traces {
				checkoutTrace(p, time.Unix(1_700_000_000+int64(j), 0))
			}
			p.shutdown(t)
		}()
	}
	wg.Wait()
	close(stop)
	bwg.Wait()
	tr.stop(t)

	var stubs tracetest.SpanStubs
	for _, m := range mems {
		stubs = append(stubs, m.GetSpans()...)
	}
	if len(stubs) != 4*traces*7 {
		t.Fatalf("the SDK made %d spans", len(stubs))
	}
	checkModel(t, tr.path, stubs)
	st := tr.Stats()
	if st.Spans != int64(len(stubs)) {
		t.Errorf("%d spans accepted, want %d", st.Spans, len(stubs))
	}
	var failed int64
	for _, n := range st.Failed {
		failed += n
	}
	if failed != badSent.Load() || st.Failed[FailTooLarge] == 0 || st.Failed[FailUndecodable] == 0 || st.Failed[FailMediaType] == 0 {
		t.Errorf("%d bad requests sent, counted %v", badSent.Load(), st.Failed)
	}
	t.Logf("%d good spans beside %d bad requests (%v)", st.Spans, failed, st.Failed)
}
