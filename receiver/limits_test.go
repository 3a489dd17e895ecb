package receiver

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	rpcstatus "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// h2c is an HTTP/2 client over cleartext, with prior knowledge, as gRPC
// clients connect.
func h2c() *http.Client {
	var p http.Protocols
	p.SetUnencryptedHTTP2(true)
	return &http.Client{Transport: &http.Transport{Protocols: &p}}
}

func grpcClient(t testing.TB, addr string) coltracepb.TraceServiceClient {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return coltracepb.NewTraceServiceClient(conn)
}

// One port: the SDK's gRPC and HTTP exporters, configured by nothing but
// the variables record sets for that port, both deliver every span.
func TestOnePortSDKFromEnv(t *testing.T) {
	tr := startReceiver(t, Config{}, "rec.otlp.jsonl")
	for _, kv := range ExporterEnv(tr.addr, HTTP) {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	ctx := context.Background()
	grpcExp, err := otlptracegrpc.New(ctx)
	if err != nil {
		t.Fatal(err)
	}
	httpExp, err := otlptracehttp.New(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var stubs tracetest.SpanStubs
	for _, exp := range []sdktrace.SpanExporter{grpcExp, httpExp} {
		mem := tracetest.NewInMemoryExporter()
		p := newProviders(exp, mem, false, checkoutServices...)
		for i := range 3 {
			checkoutTrace(p, time.Unix(1_700_000_000+int64(i), 0))
		}
		p.shutdown(t)
		stubs = append(stubs, mem.GetSpans()...)
	}
	tr.stop(t)
	st := tr.Stats()
	if st.ByTransport[GRPC] == 0 || st.ByTransport[HTTP] == 0 || st.Spans != int64(len(stubs)) || len(st.Failed) != 0 {
		t.Errorf("stats %+v, want both transports and %d spans", st, len(stubs))
	}
	checkModel(t, tr.path, stubs)
}

// OTLP/HTTP over HTTP/2 cleartext reaches the same endpoint; a port serving
// one transport refuses the other, saying which it serves.
func TestHTTP2AndPortTransports(t *testing.T) {
	tr := startReceiver(t, Config{}, "rec.otlp.jsonl")
	body := mustProto(t, smallRequest("svc", 3))
	post := func(c *http.Client, addr string) *http.Response {
		t.Helper()
		resp, err := c.Post("http://"+addr+TracesPath, ctProtobuf, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	if resp := post(h2c(), tr.addr); resp.StatusCode != 200 || resp.ProtoMajor != 2 {
		t.Errorf("HTTP/2 POST: %s %s", resp.Proto, resp.Status)
	}
	if resp := post(h2c(), tr.httpAddr); resp.StatusCode != 200 {
		t.Errorf("HTTP/2 POST to the HTTP port: %s", resp.Status)
	}
	if resp := post(http.DefaultClient, tr.grpcAddr); resp.StatusCode != 404 {
		t.Errorf("HTTP POST to the gRPC port: %s", resp.Status)
	}
	_, err := grpcClient(t, tr.httpAddr).Export(context.Background(), smallRequest("svc", 1))
	if status.Code(err) != codes.Unimplemented || !strings.Contains(err.Error(), "OTLP/HTTP only") {
		t.Errorf("gRPC to the HTTP port: %v", err)
	}
	// A gRPC client that kept OTEL_EXPORTER_OTLP_TRACES_ENDPOINT's path
	// before the method still reaches Export.
	conn, err := grpc.NewClient(tr.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.Invoke(context.Background(), TracesPath+coltracepb.TraceService_Export_FullMethodName, smallRequest("svc", 2), &coltracepb.ExportTraceServiceResponse{}); err != nil {
		t.Errorf("gRPC under the traces path: %v", err)
	}
	tr.stop(t)
	if st := tr.Stats(); st.Spans != 8 || st.Failed[FailNotFound] != 2 {
		t.Errorf("stats %+v", st)
	}
}

// slowHTTP opens a connection and sends a request announcing size bytes of
// body but only the first sent of them; the connection stays open.
func slowHTTP(t testing.TB, addr string, size, sent int) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n", TracesPath, ctProtobuf, size)
	c.Write(make([]byte, sent))
	return c
}

// slowGRPC starts an Export call over h2c whose message announces size
// bytes and sends sent of them; cancel ends it.
func slowGRPC(t testing.TB, c *http.Client, addr string, size, sent int) (resp <-chan *http.Response, cancel func()) {
	t.Helper()
	pr, pw := io.Pipe()
	q, err := http.NewRequest("POST", "http://"+addr+coltracepb.TraceService_Export_FullMethodName, pr)
	if err != nil {
		t.Fatal(err)
	}
	q.Header.Set("Content-Type", "application/grpc")
	q.Header.Set("Te", "trailers")
	ch := make(chan *http.Response, 1)
	go func() {
		r, err := c.Do(q)
		if err != nil {
			close(ch)
			return
		}
		io.Copy(io.Discard, r.Body)
		r.Body.Close()
		ch <- r
	}()
	prefix := make([]byte, grpcPrefix)
	binary.BigEndian.PutUint32(prefix[1:], uint32(size))
	go func() {
		pw.Write(prefix)
		pw.Write(make([]byte, sent))
	}()
	return ch, func() { pw.CloseWithError(io.ErrClosedPipe) }
}

// Thousands of clients sending their bodies slowly, over HTTP/1 and gRPC,
// hold no slot: the SDK's exporters on both transports still get through
// at once. (Before, four stalled clients held every slot for good.)
func TestSlowClientsDoNotStall(t *testing.T) {
	tr := startReceiver(t, Config{}, "rec.otlp.jsonl")
	// Each HTTP/1 client takes two files here (both ends); the gRPC calls
	// share a few connections.
	slowHTTPClients, slowGRPCClients := min(1500, (openFiles()-300)/2), 500
	var conns []net.Conn
	for range slowHTTPClients {
		conns = append(conns, slowHTTP(t, tr.addr, 1<<20, 100))
	}
	h2 := h2c()
	var cancels []func()
	for range slowGRPCClients {
		_, cancel := slowGRPC(t, h2, tr.addr, 1<<20, 100)
		cancels = append(cancels, cancel)
	}
	defer func() {
		for _, c := range conns {
			c.Close()
		}
		for _, c := range cancels {
			c()
		}
	}()
	time.Sleep(200 * time.Millisecond) // let them all be read as far as they go

	for _, grpc := range []bool{false, true} {
		mem := tracetest.NewInMemoryExporter()
		p := newProviders(tr.exporter(t, grpc, false), mem, false, checkoutServices...)
		start := time.Now()
		checkoutTrace(p, time.Unix(1_700_000_000, 0))
		p.shutdown(t)
		took := time.Since(start)
		t.Logf("grpc=%v: 7 spans exported beside %d slow clients in %s", grpc, slowHTTPClients+slowGRPCClients, took)
		if took > 5*time.Second {
			t.Errorf("grpc=%v: the good client took %s", grpc, took)
		}
	}
	if st := tr.Stats(); st.Spans != 14 {
		t.Errorf("%d spans accepted, want 14", st.Spans)
	}
}

// A body that stops arriving is cut off at BodyTimeout, and answered.
func TestBodyTimeout(t *testing.T) {
	tr := startReceiver(t, Config{BodyTimeout: 300 * time.Millisecond}, "rec.otlp.jsonl")
	c := slowHTTP(t, tr.addr, 1000, 10)
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil || resp.StatusCode != http.StatusRequestTimeout {
		t.Fatalf("stalled HTTP body: %v %v", resp, err)
	}
	ch, cancel := slowGRPC(t, h2c(), tr.addr, 1000, 10)
	defer cancel()
	select {
	case r := <-ch:
		if r == nil || r.Header.Get("Grpc-Status") != fmt.Sprint(int(codes.DeadlineExceeded)) {
			t.Fatalf("stalled gRPC message: %v", r)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("stalled gRPC message not answered")
	}
	tr.stop(t)
	if st := tr.Stats(); st.Failed[FailTimeout] != 2 {
		t.Errorf("failed %v, want 2 %s", st.Failed, FailTimeout)
	}
}

// grpcRetryDelay is the RetryInfo delay of a gRPC error, 0 without one.
func grpcRetryDelay(err error) time.Duration {
	if err == nil {
		return 0
	}
	return retryDelay(status.Convert(err).Proto().Details)
}

// retryDelay is the RetryInfo delay among a status's details.
func retryDelay(details []*anypb.Any) time.Duration {
	for _, d := range details {
		ri := &errdetails.RetryInfo{}
		if d.UnmarshalTo(ri) == nil {
			return ri.RetryDelay.AsDuration()
		}
	}
	return 0
}

// Past MaxInFlightBytes, requests are refused with a retry hint on both
// transports (429 + Retry-After; RESOURCE_EXHAUSTED + RetryInfo), and the
// SDK's exporter, honouring it, delivers once bytes are free again.
func TestInFlightBytes(t *testing.T) {
	const maxBody = 64 << 10
	tr := startReceiver(t, Config{MaxBody: maxBody, MaxInFlightBytes: 1, BodyTimeout: time.Minute}, "rec.otlp.jsonl")
	// The budget is its floor, 2 × (64 + 4) KiB. Bodies in part sent fill
	// it: two whose buffers have grown to 64 KiB, one to 8 KiB.
	if tr.cfg.MaxInFlightBytes != 2*(maxBody+firstRead) {
		t.Fatalf("budget %d", tr.cfg.MaxInFlightBytes)
	}
	var hogs []net.Conn
	for _, sent := range []int{40 << 10, 40 << 10, 6 << 10} {
		hogs = append(hogs, slowHTTP(t, tr.addr, maxBody, sent))
	}
	deadline := time.Now().Add(5 * time.Second)
	for tr.bytes.used.Load() < tr.cfg.MaxInFlightBytes && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}

	resp, err := http.Post("http://"+tr.addr+TracesPath, ctProtobuf, bytes.NewReader(mustProto(t, smallRequest("svc", 3))))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	st := &rpcstatus.Status{}
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "1" || proto.Unmarshal(body, st) != nil ||
		retryDelay(st.Details) != time.Second {
		t.Errorf("HTTP over the budget: %s, Retry-After %q, %v", resp.Status, resp.Header.Get("Retry-After"), st)
	}
	_, err = grpcClient(t, tr.addr).Export(context.Background(), smallRequest("svc", 3))
	if status.Code(err) != codes.ResourceExhausted || grpcRetryDelay(err) != time.Second {
		t.Errorf("gRPC over the budget: %v", err)
	}

	// The SDK's gRPC exporter retries after the delay it was given.
	done := make(chan error, 1)
	go func() {
		mem := tracetest.NewInMemoryExporter()
		p := newProviders(tr.exporter(t, true, false), mem, false, "svc")
		_, s := p.byS["svc"].Start(context.Background(), "op")
		s.End()
		p.shutdown(t)
		done <- nil
	}()
	time.Sleep(300 * time.Millisecond)
	for _, c := range hogs {
		c.Close()
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the SDK never delivered")
	}
	tr.stop(t)
	if st := tr.Stats(); st.Spans != 1 || st.Failed[FailBusy] < 3 {
		t.Errorf("stats %+v: want 1 span and at least 3 %s", st, FailBusy)
	}
}

// Many concurrent gRPC clients with large messages: the bytes held stay
// within MaxInFlightBytes; the ones over it are asked to retry.
func TestGRPCInFlightBytes(t *testing.T) {
	const maxBody = 2 << 20
	tr := startReceiver(t, Config{MaxBody: maxBody, MaxInFlightBytes: 4 * maxBody}, "rec.otlp.jsonl")
	req := smallRequest("svc", 20000) // ~1 MiB
	client := grpcClient(t, tr.addr)
	var wg sync.WaitGroup
	var mu sync.Mutex
	codesSeen := map[codes.Code]int{}
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := client.Export(context.Background(), req)
			if status.Code(err) == codes.ResourceExhausted && grpcRetryDelay(err) == 0 {
				t.Errorf("refused without a retry delay: %v", err)
			}
			mu.Lock()
			codesSeen[status.Code(err)]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	tr.stop(t)
	peak := tr.bytes.peak.Load()
	t.Logf("64 clients × %d KiB: %v; peak bytes held %d KiB of %d", proto.Size(req)>>10, codesSeen, peak>>10, tr.cfg.MaxInFlightBytes>>10)
	if peak > tr.cfg.MaxInFlightBytes || peak < int64(proto.Size(req)) {
		t.Errorf("peak %d bytes held, limit %d", peak, tr.cfg.MaxInFlightBytes)
	}
	if codesSeen[codes.OK] == 0 || codesSeen[codes.OK]+codesSeen[codes.ResourceExhausted] != 64 {
		t.Errorf("answers %v", codesSeen)
	}
	if st := tr.Stats(); st.Spans+st.RejectedSpans() != int64(codesSeen[codes.OK])*20000 || st.Failed[FailBusy] != int64(codesSeen[codes.ResourceExhausted]) {
		t.Errorf("stats: %d spans, failed %v", st.Spans, st.Failed)
	}
}
