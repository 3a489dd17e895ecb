package receiver

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// BenchmarkReceiverHTTP: OTLP/HTTP protobuf on loopback from 4 concurrent
// exporters into a file; b.N is spans, 8 per trace, 4 attributes each.
//
//   - sdk: 4 real SDK pipelines (tracer → batch span processor →
//     otlptracehttp), each making its spans as fast as it can. The SDK's
//     own work shares the machine with the receiver, as it would in a test
//     run on the same host; in `record` it is in another process.
//   - sdk-prebuilt: the same pipelines fed finished spans, so the tracer's
//     cost of making them is left out: exporters and receiver.
//   - raw: 4 plain HTTP clients posting the SDK's own request bodies: the
//     receiver alone.
func BenchmarkReceiverHTTP(b *testing.B) {
	b.Run("sdk", func(b *testing.B) { benchSDK(b, false) })
	b.Run("sdk-prebuilt", func(b *testing.B) { benchSDK(b, true) })
	b.Run("raw", benchRaw)
}

const benchExporters, benchPerTrace = 4, 8

var benchAttrs = []attribute.KeyValue{
	attribute.String("peer.service", "payments"), attribute.String("http.request.method", "GET"),
	attribute.String("http.route", "/api/v1/items/{id}"), attribute.Int("http.response.status_code", 200),
}

// benchTrace makes one trace of n spans with t.
func benchTrace(t trace.Tracer, n int) {
	ctx, root := t.Start(context.Background(), "GET /items", trace.WithSpanKind(trace.SpanKindServer), trace.WithAttributes(benchAttrs[1:]...))
	for range n - 1 {
		_, c := t.Start(ctx, "GET payments", trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(benchAttrs...))
		c.End()
	}
	root.End()
}

// prebuilt is spans made once by the real SDK, replayed by the benchmarks.
func prebuilt(n int) []sdktrace.ReadOnlySpan {
	mem := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(mem))
	for range n / benchPerTrace {
		benchTrace(tp.Tracer("bench"), benchPerTrace)
	}
	spans := mem.GetSpans().Snapshots() // before Shutdown, which clears mem
	tp.Shutdown(context.Background())
	return spans
}

func benchSDK(b *testing.B, replay bool) {
	tr := startReceiver(b, Config{}, "bench.otlp.jsonl")
	var spans []sdktrace.ReadOnlySpan
	if replay {
		spans = prebuilt(4096)
	}
	var tps []*sdktrace.TracerProvider
	var bsps []sdktrace.SpanProcessor
	for range benchExporters {
		bsp := sdktrace.NewBatchSpanProcessor(tr.exporter(b, false, false),
			sdktrace.WithBlocking(), sdktrace.WithMaxExportBatchSize(512), sdktrace.WithMaxQueueSize(8192))
		bsps = append(bsps, bsp)
		tps = append(tps, sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(bsp)))
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for i := range benchExporters {
		n := b.N / benchExporters
		if i == 0 {
			n += b.N % benchExporters
		}
		wg.Go(func() {
			t := tps[i].Tracer(fmt.Sprint("svc-", i))
			for k := 0; n > 0; k++ {
				if replay {
					bsps[i].OnEnd(spans[k%len(spans)])
					n--
					continue
				}
				m := min(benchPerTrace, n)
				benchTrace(t, m)
				n -= m
			}
		})
	}
	wg.Wait()
	for _, tp := range tps {
		if err := tp.Shutdown(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	el := time.Since(start)
	b.StopTimer()
	if got := tr.Stats().Spans; got != int64(b.N) {
		b.Fatalf("received %d spans, want %d", got, b.N)
	}
	b.ReportMetric(float64(b.N)/el.Seconds(), "spans/s")
}

// sdkBody captures the request body the SDK exporter sends for spans.
func sdkBody(b *testing.B, spans []sdktrace.ReadOnlySpan) []byte {
	var body []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, q *http.Request) {
		body, _ = io.ReadAll(q.Body)
		w.Header().Set("Content-Type", ctProtobuf)
	}))
	defer srv.Close()
	tr := &testReceiver{httpAddr: srv.Listener.Addr().String()}
	exp := tr.exporter(b, false, false)
	if err := exp.ExportSpans(context.Background(), spans); err != nil {
		b.Fatal(err)
	}
	exp.Shutdown(context.Background())
	return body
}

func benchRaw(b *testing.B) {
	const batch = 512
	body := sdkBody(b, prebuilt(batch))
	tr := startReceiver(b, Config{}, "bench.otlp.jsonl")
	url := "http://" + tr.httpAddr + TracesPath
	b.SetBytes(int64(len(body)) / batch)
	peak := heapPeak()
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	requests := (b.N + batch - 1) / batch
	for i := range benchExporters {
		wg.Go(func() {
			client := &http.Client{}
			for k := i; k < requests; k += benchExporters {
				resp, err := client.Post(url, ctProtobuf, bytes.NewReader(body))
				if err != nil {
					b.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Errorf("status %d", resp.StatusCode)
					return
				}
			}
		})
	}
	wg.Wait()
	el := time.Since(start)
	b.StopTimer()
	if got := tr.Stats().Spans; got != int64(requests*batch) {
		b.Fatalf("received %d spans, want %d", got, requests*batch)
	}
	b.ReportMetric(float64(requests*batch)/el.Seconds(), "spans/s")
	b.ReportMetric(float64(peak())/(1<<20), "peak-heap-MiB")
}

// heapPeak samples the heap in use until the returned function is called,
// which returns the largest sample: memory must stay flat however many
// spans pass (run with -benchtime 10000000x to see it over 10M).
func heapPeak() func() uint64 {
	var peak uint64
	done, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		var ms runtime.MemStats
		for {
			select {
			case <-done:
				return
			case <-t.C:
				runtime.ReadMemStats(&ms)
				peak = max(peak, ms.HeapInuse)
			}
		}
	}()
	return func() uint64 { close(done); <-stopped; return peak }
}
