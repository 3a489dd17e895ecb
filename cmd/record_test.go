package cmd

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"hopbudget/tracefmt"
)

// The test binary is also the command record runs: with
// HOPBUDGET_RECORD_CHILD set it is a small instrumented program (the
// standard re-exec pattern), configured only by the environment record
// gives it.
const childEnv = "HOPBUDGET_RECORD_CHILD"

// With HOPBUDGET_TEST_MAIN set, the test binary is hopbudget itself, run
// with those arguments (one a line).
const mainEnv = "HOPBUDGET_TEST_MAIN"

func init() {
	if args := os.Getenv(mainEnv); args != "" {
		os.Unsetenv(mainEnv) // not for the command record runs
		os.Exit(Run(context.Background(), &Streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr}, strings.Split(args, "\n")))
	}
	if mode := os.Getenv(childEnv); mode != "" {
		os.Exit(recordChild(mode))
	}
}

// recordChild emits checkout traces through a real OTLP exporter set up
// from the OTEL_* variables alone: OTLP/HTTP, or OTLP/gRPC when
// HOPBUDGET_CHILD_EXPORTER=grpc (an exporter chosen in code). Modes: "emit" sends
// HOPBUDGET_CHILD_TRACES traces whose root lasts HOPBUDGET_CHILD_MS and
// exits with HOPBUDGET_CHILD_EXIT; "wait" sends one, prints "ready", and
// on SIGINT or SIGTERM sends a "shutdown" span and exits with
// HOPBUDGET_CHILD_EXIT.
func recordChild(mode string) int {
	for k, want := range map[string]string{"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"} {
		if os.Getenv(k) != want {
			fmt.Fprintf(os.Stderr, "child: %s=%q, want %q\n", k, os.Getenv(k), want)
			return 97
		}
	}
	if !strings.HasPrefix(os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT"), "http://127.0.0.1:") {
		fmt.Fprintf(os.Stderr, "child: OTEL_EXPORTER_OTLP_ENDPOINT=%q\n", os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT"))
		return 97
	}
	envInt := func(k string, def int) int {
		if n, err := strconv.Atoi(os.Getenv(k)); err == nil {
			return n
		}
		return def
	}
	ctx := context.Background()
	var exp sdktrace.SpanExporter
	var err error
	if os.Getenv("HOPBUDGET_CHILD_EXPORTER") == "grpc" {
		exp, err = otlptracegrpc.New(ctx) // endpoint: from the environment
	} else {
		exp, err = otlptracehttp.New(ctx) // endpoint, protocol: from the environment
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 98
	}
	tracers := map[string]trace.Tracer{}
	var tps []*sdktrace.TracerProvider
	for _, svc := range []string{"frontend", "checkout", "payments"} {
		tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp),
			sdktrace.WithResource(resource.NewSchemaless(attribute.String("service.name", svc))))
		tps = append(tps, tp)
		tracers[svc] = tp.Tracer("record-child")
	}
	flush := func() {
		for _, tp := range tps {
			tp.ForceFlush(ctx)
		}
	}
	rootMs := envInt("HOPBUDGET_CHILD_MS", 50)
	base := time.Now().Add(-time.Hour)
	emit := func(i int, name string) {
		at := func(ms int) time.Time {
			return base.Add(time.Duration(i)*time.Second + time.Duration(ms)*time.Millisecond)
		}
		c, root := tracers["frontend"].Start(ctx, name, trace.WithSpanKind(trace.SpanKindServer), trace.WithTimestamp(at(0)),
			trace.WithAttributes(attribute.String("http.route", "/checkout")))
		c, call := tracers["frontend"].Start(c, "PlaceOrder", trace.WithSpanKind(trace.SpanKindClient), trace.WithTimestamp(at(1)),
			trace.WithAttributes(attribute.String("peer.service", "checkout")))
		c, srv := tracers["checkout"].Start(c, "PlaceOrder", trace.WithSpanKind(trace.SpanKindServer), trace.WithTimestamp(at(2)))
		c, pay := tracers["checkout"].Start(c, "Charge", trace.WithSpanKind(trace.SpanKindClient), trace.WithTimestamp(at(3)),
			trace.WithAttributes(attribute.String("peer.service", "payments")))
		_, psrv := tracers["payments"].Start(c, "Charge", trace.WithSpanKind(trace.SpanKindServer), trace.WithTimestamp(at(4)))
		if i%10 == 9 {
			psrv.SetStatus(codes.Error, "declined")
		}
		psrv.End(trace.WithTimestamp(at(rootMs - 4)))
		pay.End(trace.WithTimestamp(at(rootMs - 3)))
		srv.End(trace.WithTimestamp(at(rootMs - 2)))
		call.End(trace.WithTimestamp(at(rootMs - 1)))
		root.End(trace.WithTimestamp(at(rootMs)))
	}
	switch mode {
	case "emit":
		for i := range envInt("HOPBUDGET_CHILD_TRACES", 30) {
			emit(i, "POST /checkout")
		}
	case "wait":
		sigc := make(chan os.Signal, 1)
		signal.Notify(sigc, syscall.SIGINT, syscall.SIGTERM)
		emit(0, "POST /checkout")
		flush()
		fmt.Printf("ready pid=%d\n", os.Getpid())
		sig := <-sigc
		emit(1, "shutdown on "+sig.String())
	}
	flush()
	for _, tp := range tps {
		tp.Shutdown(ctx)
	}
	return envInt("HOPBUDGET_CHILD_EXIT", 0)
}

// syncBuffer is an output stream written by record and its command at
// once, which a test may watch for a line.
type syncBuffer struct {
	mu   sync.Mutex
	b    bytes.Buffer
	want *regexp.Regexp
	seen chan []string
}

func newSyncBuffer(want string) *syncBuffer {
	sb := &syncBuffer{seen: make(chan []string, 1)}
	if want != "" {
		sb.want = regexp.MustCompile(want)
	}
	return sb
}

func (sb *syncBuffer) Write(p []byte) (int, error) {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	sb.b.Write(p)
	if sb.want != nil {
		if m := sb.want.FindStringSubmatch(sb.b.String()); m != nil {
			sb.seen <- m
			sb.want = nil
		}
	}
	return len(p), nil
}

func (sb *syncBuffer) String() string {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	return sb.b.String()
}

// runRecord runs `hopbudget record ARGS -- <this binary as the child>`
// with the child's environment, on free ports.
func runRecord(t *testing.T, ctx context.Context, childEnvs map[string]string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	for k, v := range childEnvs {
		t.Setenv(k, v)
	}
	all := append([]string{"record", "--listen", ":0", "--settle", "50ms"}, args...)
	if childEnvs[childEnv] != "" {
		all = append(all, "--", os.Args[0], "-test.run=^$")
	}
	out, errb := newSyncBuffer(""), newSyncBuffer("")
	code = Run(ctx, &Streams{In: strings.NewReader(""), Out: out, Err: errb}, all)
	return out.String(), errb.String(), code
}

func writeBudget(t *testing.T, p50 string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "budget.yaml")
	b := "version: 1\nendpoints:\n  - name: checkout\n    match: {service: frontend, operation: \"POST /checkout\"}\n    p50: " + p50 + "\n"
	if err := os.WriteFile(path, []byte(b), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// record --budget around a program that emits 50ms checkouts: exit 1 with
// a 40ms budget, 0 with 60ms, and the recording holds every span.
func TestRecordBudget(t *testing.T) {
	for _, tc := range []struct {
		p50  string
		code int
		word string
	}{
		{"40ms", ExitBudgetExceeded, "FAIL"},
		{"60ms", ExitOK, "PASS"},
	} {
		t.Run(tc.p50, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "run.otlp.jsonl.zst")
			stdout, stderr, code := runRecord(t, context.Background(), map[string]string{childEnv: "emit", "HOPBUDGET_CHILD_MS": "50"},
				"--budget", writeBudget(t, tc.p50), "--out", out)
			if code != tc.code || !strings.Contains(stdout, tc.word) {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, stdout, stderr)
			}
			for _, want := range []string{"record: receiving OTLP/HTTP and OTLP/gRPC on http://127.0.0.1:", "exited with status 0",
				"requests (", "150 spans received", "services: checkout 60, frontend 60, payments 30", "recording: " + out} {
				if !strings.Contains(stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, stderr)
				}
			}
			res, err := tracefmt.Read(context.Background(), []string{out}, tracefmt.Options{})
			if err != nil {
				t.Fatal(err)
			}
			sum := tracefmt.Summarize(res)
			if sum.Traces != 30 || sum.Spans != 150 || sum.Format != "otlp-json" || res.Files[0].Compression != "zstd" {
				t.Errorf("recording: %d traces, %d spans, %s, %s", sum.Traces, sum.Spans, sum.Format, res.Files[0].Compression)
			}
		})
	}
}

// One port takes what the command sends, whichever exporter it chose in
// code, through the variables record sets: OTLP/HTTP, and OTLP/gRPC.
func TestRecordOnePort(t *testing.T) {
	for _, exporter := range []string{"http", "grpc"} {
		t.Run(exporter, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "run.otlp.jsonl")
			_, stderr, code := runRecord(t, context.Background(), map[string]string{childEnv: "emit", "HOPBUDGET_CHILD_EXPORTER": exporter, "HOPBUDGET_CHILD_TRACES": "20"},
				"--out", out)
			if code != ExitOK {
				t.Fatalf("exit %d\n%s", code, stderr)
			}
			for _, want := range []string{"OTLP/HTTP and OTLP/gRPC on http://127.0.0.1:", " " + exporter + "), 100 spans received"} {
				if !strings.Contains(stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, stderr)
				}
			}
			res, err := tracefmt.Read(context.Background(), []string{out}, tracefmt.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if sum := tracefmt.Summarize(res); sum.Traces != 20 || sum.Spans != 100 {
				t.Errorf("recording: %d traces, %d spans", sum.Traces, sum.Spans)
			}
		})
	}
}

// The command's failure wins over a passing budget, and is reported.
func TestRecordCommandFailureWins(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp) // where the recording goes without --out
	stdout, stderr, code := runRecord(t, context.Background(), map[string]string{childEnv: "emit", "HOPBUDGET_CHILD_EXIT": "3"},
		"--budget", writeBudget(t, "60ms"), "-o", "github")
	if code != 3 || !strings.Contains(stderr, "exited with status 3") || !strings.Contains(stdout, "PASS") {
		t.Fatalf("exit %d, want 3\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	// Without --out nothing is left behind.
	if m, _ := filepath.Glob(filepath.Join(tmp, "*")); len(m) > 0 {
		t.Errorf("temporary recordings left: %v", m)
	}
}

// Without a command: record until the context is cancelled (SIGINT in
// main), counting good and bad requests, and leave a readable file.
func TestRecordUntilCancelled(t *testing.T) {
	out := filepath.Join(t.TempDir(), "capture.otlp.jsonl")
	errb := newSyncBuffer(`OTLP/HTTP on http://(127\.0\.0\.1:\d+)`)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	go func() {
		done <- Run(ctx, &Streams{In: strings.NewReader(""), Out: &bytes.Buffer{}, Err: errb},
			[]string{"record", "--listen", "none", "--http", ":0", "--out", out})
	}()
	var addr string
	select {
	case m := <-errb.seen:
		addr = m[1]
	case code := <-done:
		t.Fatalf("exit %d before listening: %s", code, errb.String())
	}
	exp, err := otlptracehttp.New(context.Background(), otlptracehttp.WithEndpoint(addr), otlptracehttp.WithInsecure())
	if err != nil {
		t.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp), sdktrace.WithResource(resource.NewSchemaless(attribute.String("service.name", "api"))))
	for range 5 {
		_, s := tp.Tracer("t").Start(context.Background(), "GET /", trace.WithSpanKind(trace.SpanKindServer))
		s.End()
	}
	tp.Shutdown(context.Background())
	resp, err := http.Post("http://"+addr+"/v1/traces", "text/plain", strings.NewReader("hello"))
	if err != nil || resp.StatusCode != http.StatusUnsupportedMediaType {
		t.Fatalf("text/plain: %v %v", resp, err)
	}
	resp.Body.Close()
	cancel()
	if code := <-done; code != ExitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	for _, want := range []string{"6 requests (6 http), 5 spans received", "services: api 5", "requests refused: 1 (1 unsupported-media)"} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, errb.String())
		}
	}
	res, err := tracefmt.Read(context.Background(), []string{out}, tracefmt.Options{})
	if err != nil || tracefmt.Summarize(res).Spans != 5 {
		t.Errorf("recording: %v, %v", res, err)
	}
}

// --duration stops a command that would run forever; the SIGTERM it sends
// is not the command's failure. A cancelled context (main's SIGINT) and a
// signal record receives both reach the command, which flushes on its way
// out.
func TestRecordStopsCommand(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no signals to forward")
	}
	t.Run("duration", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "r.otlp.jsonl")
		_, stderr, code := runRecord(t, context.Background(), map[string]string{childEnv: "wait", "HOPBUDGET_CHILD_EXIT": "5"},
			"--duration", "500ms", "--out", out)
		if code != ExitOK || !strings.Contains(stderr, "stopped (--duration), exited with status 5") || !strings.Contains(stderr, "10 spans received") {
			t.Fatalf("exit %d\n%s", code, stderr)
		}
		assertRecorded(t, out, "shutdown on terminated")
	})
	t.Run("cancelled", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "r.otlp.jsonl")
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go func() { time.Sleep(500 * time.Millisecond); cancel() }()
		_, stderr, code := runRecord(t, ctx, map[string]string{childEnv: "wait"}, "--out", out)
		if code != ExitOK || !strings.Contains(stderr, "stopped (cancelled), exited with status 0") {
			t.Fatalf("exit %d\n%s", code, stderr)
		}
		assertRecorded(t, out, "shutdown on terminated")
	})
	t.Run("signal", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "r.otlp.jsonl")
		t.Setenv(childEnv, "wait")
		t.Setenv("HOPBUDGET_CHILD_EXIT", "4")
		stdout := newSyncBuffer(`ready`)
		errb := newSyncBuffer("")
		done := make(chan int)
		go func() {
			done <- Run(context.Background(), &Streams{In: strings.NewReader(""), Out: stdout, Err: errb},
				[]string{"record", "--listen", ":0", "--grpc", ":0", "--settle", "50ms", "--out", out, "--", os.Args[0], "-test.run=^$"})
		}()
		select {
		case <-stdout.seen:
		case code := <-done:
			t.Fatalf("exit %d before the command was ready: %s", code, errb.String())
		}
		// record has caught SIGINT since before the command started, so
		// this reaches the command, not the test binary's default handler.
		self, _ := os.FindProcess(os.Getpid())
		self.Signal(os.Interrupt)
		// Interrupted, the command's exit status is its own: 4 here.
		if code := <-done; code != 4 || !strings.Contains(errb.String(), "stopped (interrupt), exited with status 4") {
			t.Fatalf("exit %d\n%s", code, errb.String())
		}
		assertRecorded(t, out, "shutdown on interrupt")
	})
}

func assertRecorded(t *testing.T, path, op string) {
	t.Helper()
	res, err := tracefmt.Read(context.Background(), []string{path}, tracefmt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tr := range res.Traces {
		for _, s := range tr.Spans {
			if s.Operation == op {
				return
			}
		}
	}
	t.Errorf("no %q span in %s (%d traces)", op, path, len(res.Traces))
}

// Mistakes fail at once, before anything listens or runs.
func TestRecordUsage(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--max-body", "lots"}, `--max-body: "lots"`},
		{[]string{"--max-body", "3 parsecs"}, "unknown unit"},
		{[]string{"--listen", "none", "--http", "none", "--grpc", "none"}, "nothing to receive on"},
		{[]string{"--max-in-flight-bytes", "1MiB"}, "below twice --max-body"},
		{[]string{"--body-timeout", "-1s"}, "cannot be negative"},
		{[]string{"--listen", busy.Addr().String()}, "--listen: listen tcp"},
		{[]string{"-o", "json", "--min-samples", "3"}, "--min-samples, --output: only with --budget"},
		{[]string{"--budget", "testdata/budget/bad-durations.yaml"}, "invalid budget file"},
		{[]string{"--budget", "testdata/budget/demo.yaml", "-o", "yaml"}, `-o "yaml"`},
		{[]string{"--http", busy.Addr().String()}, "--http: listen tcp"},
		{[]string{"--settle", "-1s"}, "cannot be negative"},
		{[]string{"--out", "-"}, "--out -"},
		{[]string{"--", "/nonexistent/command"}, "/nonexistent/command"},
	} {
		_, stderr, code := run(t, "", append([]string{"record", "--listen", ":0", "--grpc", ":0", "--http", ":0"}, tc.args...)...)
		if code != ExitInputError || !strings.Contains(stderr, tc.want) {
			t.Errorf("record %v: exit %d, stderr %q; want 2 and %q", tc.args, code, stderr, tc.want)
		}
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"16MiB": 16 << 20, "512KiB": 512 << 10, "1048576": 1 << 20, "2g": 2 << 30, "10 MB": 10 << 20, "7B": 7} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0", "-5MiB", "MiB", "5TiB", "1e9"} {
		if _, err := parseSize(in); err == nil {
			t.Errorf("parseSize(%q): no error", in)
		}
	}
}

// record --budget around a program that exports nothing: no evidence, no
// pass (exit 1, said plainly), unless --allow-no-data.
func TestRecordBudgetNoSpans(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
	}{
		{nil, ExitBudgetExceeded},
		{[]string{"--allow-no-data"}, ExitOK},
	} {
		t.Run(fmt.Sprint(tc.args), func(t *testing.T) {
			t.Setenv("TMPDIR", t.TempDir())
			args := append([]string{"--budget", writeBudget(t, "60ms")}, tc.args...)
			stdout, stderr, code := runRecord(t, context.Background(), map[string]string{childEnv: "emit", "HOPBUDGET_CHILD_TRACES": "0"}, append(args, "-o", "junit")...)
			if code != tc.code || !strings.Contains(stderr, "received no spans: nothing was checked") ||
				!strings.Contains(stdout, `<testcase name="checkout p50" classname="hopbudget.endpoint">`) || !strings.Contains(stdout, "nothing was checked") {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, stdout, stderr)
			}
		})
	}
}
