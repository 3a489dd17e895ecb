package receiver

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// testReceiver is a receiver on loopback writing to a file in a temp dir.
type testReceiver struct {
	*Receiver
	path     string
	w        *Writer
	addr     string // both transports
	httpAddr string
	grpcAddr string
}

func startReceiver(tb testing.TB, cfg Config, name string) *testReceiver {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), name)
	w, err := Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	r := New(w, cfg)
	both, err := r.Listen("127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	ha, err := r.ListenHTTP("127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	ga, err := r.ListenGRPC("127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	tr := &testReceiver{Receiver: r, path: path, w: w, addr: both.String(), httpAddr: ha.String(), grpcAddr: ga.String()}
	tb.Cleanup(func() { tr.stop(tb) })
	return tr
}

// stop shuts the receiver down and closes the file (idempotent).
func (tr *testReceiver) stop(tb testing.TB) {
	tb.Helper()
	if tr.w == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := tr.Shutdown(ctx); err != nil {
		tb.Error(err)
	}
	if err := tr.w.Close(); err != nil {
		tb.Error(err)
	}
	tr.w = nil
}

// exporter is a real OTLP SDK exporter to the receiver.
func (tr *testReceiver) exporter(tb testing.TB, grpc bool, gzip bool) sdktrace.SpanExporter {
	tb.Helper()
	ctx := context.Background()
	var exp sdktrace.SpanExporter
	var err error
	if grpc {
		opts := []otlptracegrpc.Option{otlptracegrpc.WithEndpoint(tr.grpcAddr), otlptracegrpc.WithInsecure()}
		if gzip {
			opts = append(opts, otlptracegrpc.WithCompressor("gzip"))
		}
		exp, err = otlptracegrpc.New(ctx, opts...)
	} else {
		opts := []otlptracehttp.Option{otlptracehttp.WithEndpoint(tr.httpAddr), otlptracehttp.WithInsecure()}
		if gzip {
			opts = append(opts, otlptracehttp.WithCompression(otlptracehttp.GzipCompression))
		}
		exp, err = otlptracehttp.New(ctx, opts...)
	}
	if err != nil {
		tb.Fatal(err)
	}
	return exp
}

// providers are one tracer provider per service (the resource is per
// provider), each exporting through exp and also to mem, the truth.
type providers struct {
	tps []*sdktrace.TracerProvider
	byS map[string]trace.Tracer
}

func newProviders(exp sdktrace.SpanExporter, mem *tracetest.InMemoryExporter, batch bool, services ...string) *providers {
	p := &providers{byS: map[string]trace.Tracer{}}
	for _, s := range services {
		opts := []sdktrace.TracerProviderOption{
			sdktrace.WithResource(resource.NewSchemaless(attribute.String("service.name", s), attribute.String("host.name", "test"))),
		}
		if batch {
			opts = append(opts, sdktrace.WithBatcher(exp, sdktrace.WithBlocking(), sdktrace.WithMaxExportBatchSize(512), sdktrace.WithMaxQueueSize(8192)))
		} else {
			opts = append(opts, sdktrace.WithSyncer(exp))
		}
		if mem != nil {
			opts = append(opts, sdktrace.WithSyncer(keep{mem}))
		}
		tp := sdktrace.NewTracerProvider(opts...)
		p.tps = append(p.tps, tp)
		p.byS[s] = tp.Tracer("hopbudget/test", trace.WithInstrumentationVersion("1.0"))
	}
	return p
}

// shutdown flushes every provider; the exporter is shut down once, by the
// first (providers share it), so flush all before.
func (p *providers) shutdown(tb testing.TB) {
	ctx := context.Background()
	for _, tp := range p.tps {
		if err := tp.ForceFlush(ctx); err != nil {
			tb.Error(err)
		}
	}
	for _, tp := range p.tps {
		tp.Shutdown(ctx)
	}
}

var checkoutServices = []string{"frontend", "checkout", "payments", "orders-db"}

// checkoutTrace emits one checkout-like trace: a frontend server span with
// a client child per downstream, the checkout server span under its
// client, a failing payment call, a database call and a linked consumer.
// It returns the trace ID.
func checkoutTrace(p *providers, base time.Time) trace.TraceID {
	ctx := context.Background()
	at := func(ms int) trace.SpanStartOption {
		return trace.WithTimestamp(base.Add(time.Duration(ms) * time.Millisecond))
	}
	end := func(s trace.Span, ms int) { s.End(trace.WithTimestamp(base.Add(time.Duration(ms) * time.Millisecond))) }

	fe := p.byS["frontend"]
	ctx, root := fe.Start(ctx, "POST /checkout", trace.WithSpanKind(trace.SpanKindServer), at(0),
		trace.WithAttributes(attribute.String("http.request.method", "POST"), attribute.String("http.route", "/checkout"),
			attribute.Int("http.response.status_code", 500), attribute.StringSlice("tags", []string{"a", "b"}),
			attribute.Float64("ratio", 0.25), attribute.Bool("sampled.in", true)))

	cctx, call := fe.Start(ctx, "POST checkout/place", trace.WithSpanKind(trace.SpanKindClient), at(2),
		trace.WithAttributes(attribute.String("peer.service", "checkout"), attribute.String("server.address", "checkout.internal")))
	co := p.byS["checkout"]
	sctx, srv := co.Start(cctx, "PlaceOrder", trace.WithSpanKind(trace.SpanKindServer), at(3),
		trace.WithAttributes(attribute.String("rpc.system", "grpc"), attribute.String("rpc.service", "Checkout"), attribute.String("rpc.method", "PlaceOrder")))

	_, db := co.Start(sctx, "INSERT orders", trace.WithSpanKind(trace.SpanKindClient), at(4),
		trace.WithAttributes(attribute.String("db.system", "postgresql"), attribute.String("peer.service", "orders-db")))
	end(db, 19)

	pctx, pay := co.Start(sctx, "POST payments/charge", trace.WithSpanKind(trace.SpanKindClient), at(20),
		trace.WithAttributes(attribute.String("peer.service", "payments"), attribute.String("http.method", "POST")))
	_, psrv := p.byS["payments"].Start(pctx, "POST /charge", trace.WithSpanKind(trace.SpanKindServer), at(21),
		trace.WithAttributes(attribute.String("http.route", "/charge"), attribute.Int("http.status_code", 502)))
	psrv.AddEvent("card declined", trace.WithTimestamp(base.Add(40*time.Millisecond)), trace.WithAttributes(attribute.Int("attempt", 2)))
	psrv.SetStatus(codes.Error, "card declined")
	end(psrv, 60)
	pay.SetStatus(codes.Error, "502 from payments")
	end(pay, 61)

	// An async consumer in its own trace would be a new root; here it is a
	// producer child with a link back to the payment call.
	_, prod := co.Start(sctx, "publish order.placed", trace.WithSpanKind(trace.SpanKindProducer), at(62),
		trace.WithAttributes(attribute.String("messaging.system", "kafka")),
		trace.WithLinks(trace.Link{SpanContext: pay.SpanContext(), Attributes: []attribute.KeyValue{attribute.String("why", "retry-of")}}))
	end(prod, 63)
	srv.SetStatus(codes.Ok, "")
	end(srv, 64)
	end(call, 66)
	root.SetStatus(codes.Error, "payment failed")
	end(root, 70)
	return root.SpanContext().TraceID()
}

// keep keeps the in-memory exporter's spans past the provider's shutdown,
// which would otherwise clear them.
type keep struct{ *tracetest.InMemoryExporter }

func (keep) Shutdown(context.Context) error { return nil }
