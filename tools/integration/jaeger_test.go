// Package integration tests hopbudget pull against a real Jaeger.
//
// Run it with `make integration` (it builds Jaeger v1.75.0 / v2.12 from
// source: ~10 minutes the first time). Not part of `make test`.
package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.26.0"
	"go.opentelemetry.io/otel/trace"
)

const traces = 20

func TestPullFromJaeger(t *testing.T) {
	hopbudget, jaeger := os.Getenv("HOPBUDGET_BIN"), os.Getenv("JAEGER_BIN")
	if hopbudget == "" || jaeger == "" {
		t.Fatal("HOPBUDGET_BIN and JAEGER_BIN must name the binaries: run `make integration`")
	}
	dir := t.TempDir()
	ports := freePorts(t, 5)
	recordPort, queryPort, otlpPort := ports[0], ports[1], ports[2]

	// hopbudget record receives the same spans the SDK sends Jaeger.
	recorded := filepath.Join(dir, "recorded.otlp.jsonl")
	rec := start(t, dir, "record", nil, hopbudget, "record", "--grpc", "none", "--http", fmt.Sprintf("127.0.0.1:%d", recordPort), "--out", recorded)
	waitListening(t, recordPort)

	cfg, _ := filepath.Abs("jaeger.yaml")
	start(t, dir, "jaeger", []string{
		fmt.Sprintf("HB_JAEGER_QUERY_PORT=%d", queryPort),
		fmt.Sprintf("HB_JAEGER_OTLP_HTTP_PORT=%d", otlpPort),
		fmt.Sprintf("HB_JAEGER_QUERY_GRPC_PORT=%d", ports[3]),
		fmt.Sprintf("HB_JAEGER_HEALTH_PORT=%d", ports[4]),
	}, jaeger, "--config", cfg)
	query := fmt.Sprintf("http://127.0.0.1:%d", queryPort)
	waitHTTP(t, query+"/api/services", 2*time.Minute)

	sendTraces(t, otlpPort, recordPort)
	rec.Process.Signal(syscall.SIGINT)
	if err := rec.Wait(); err != nil {
		t.Fatalf("record: %v", err)
	}
	// Jaeger's batch processor writes within 100ms; wait for all traces.
	waitHTTPBody(t, query+"/api/traces?service=frontend&limit=1000&lookback=1h", func(b []byte) bool {
		var d struct{ Data []json.RawMessage }
		return json.Unmarshal(b, &d) == nil && len(d.Data) == traces
	})

	if rec := os.Getenv("RECORD_TO"); rec != "" {
		recordErrors(t, query, rec)
	}
	want := analyze(t, hopbudget, recorded)
	for _, api := range []string{"v3", "internal"} {
		out := filepath.Join(dir, "pulled-"+api)
		cmd := exec.Command(hopbudget, "pull", fmt.Sprintf("jaeger://127.0.0.1:%d", queryPort), "--api", api,
			"--service", "frontend", "--since", "1h", "--limit", "1000", "--save", out)
		b, err := cmd.CombinedOutput()
		t.Logf("hopbudget pull --api %s:\n%s", api, b)
		if err != nil {
			t.Fatalf("pull --api %s: %v", api, err)
		}
		if rec := os.Getenv("RECORD_TO"); rec != "" {
			for _, name := range []string{"jaeger-api_v3.json", "jaeger-api-traces.json"} {
				if b, err := os.ReadFile(filepath.Join(out, name)); err == nil {
					writeRecording(t, rec, "real-"+name, b)
				}
			}
		}
		got := analyze(t, hopbudget, out)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("pulled over %s, the analysis differs from the recording's:\n%s", api, diff(want, got))
		}
	}
}

// recordErrors keeps Jaeger's own error answers (RECORD_TO=DIR) for the
// unit tests' fixtures.
func recordErrors(t *testing.T, query, dir string) {
	for name, path := range map[string]string{
		"real-jaeger-v3-not-found.json":   "/api/v3/traces?query.service_name=nobody&query.num_traces=20&query.start_time_min=2026-01-01T00:00:00Z&query.start_time_max=2026-01-01T01:00:00Z",
		"real-jaeger-v3-bad-request.json": "/api/v3/traces?query.service_name=frontend&query.start_time_min=yesterday&query.start_time_max=2026-01-01T01:00:00Z",
		"real-jaeger-internal-error.json": "/api/traces?lookback=1h",
	} {
		r, err := http.Get(query + path)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		b.ReadFrom(r.Body)
		r.Body.Close()
		t.Logf("recorded %s: HTTP %d, %s", name, r.StatusCode, r.Header.Get("Content-Type"))
		writeRecording(t, dir, name, b.Bytes())
	}
}

func writeRecording(t *testing.T, dir, name string, b []byte) {
	if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// sendTraces emits the same request shape the unit fixtures have, with the
// OpenTelemetry Go SDK: frontend GET /dispatch → GET /customer →
// customer GET /customer → SELECT, with fixed timestamps.
func sendTraces(t *testing.T, ports ...int) {
	ctx := context.Background()
	provider := func(service string) *sdktrace.TracerProvider {
		opts := []sdktrace.TracerProviderOption{
			sdktrace.WithResource(resource.NewSchemaless(semconv.ServiceName(service))),
		}
		for _, p := range ports {
			exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpoint(fmt.Sprintf("127.0.0.1:%d", p)), otlptracehttp.WithInsecure())
			if err != nil {
				t.Fatal(err)
			}
			opts = append(opts, sdktrace.WithBatcher(exp))
		}
		return sdktrace.NewTracerProvider(opts...)
	}
	front, cust := provider("frontend"), provider("customer")
	ft, ct := front.Tracer("integration"), cust.Tracer("integration")
	base := time.Now().Add(-10 * time.Minute).Truncate(time.Second)
	for i := range traces {
		t0 := base.Add(time.Duration(i) * time.Second)
		ms := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }
		// Every trace a different length: with ties, which trace is the
		// exemplar depends on input order, and Jaeger returns traces in
		// its own order.
		extra := i
		c1, root := ft.Start(ctx, "GET /dispatch", trace.WithSpanKind(trace.SpanKindServer), trace.WithTimestamp(ms(0)))
		c2, call := ft.Start(c1, "GET /customer", trace.WithSpanKind(trace.SpanKindClient), trace.WithTimestamp(ms(10)))
		c3, srv := ct.Start(c2, "GET /customer", trace.WithSpanKind(trace.SpanKindServer), trace.WithTimestamp(ms(12)))
		_, db := ct.Start(c3, "SELECT", trace.WithSpanKind(trace.SpanKindClient), trace.WithTimestamp(ms(14)))
		db.End(trace.WithTimestamp(ms(40 + extra)))
		srv.End(trace.WithTimestamp(ms(45 + extra)))
		call.End(trace.WithTimestamp(ms(48 + extra)))
		root.End(trace.WithTimestamp(ms(60 + 2*extra)))
	}
	for _, p := range []*sdktrace.TracerProvider{front, cust} {
		if err := p.Shutdown(ctx); err != nil { // flushes
			t.Fatal(err)
		}
	}
}

// analyze runs hopbudget analyze -o json and drops the input section (file
// names and formats differ; nothing else may).
func analyze(t *testing.T, hopbudget, path string) map[string]json.RawMessage {
	t.Helper()
	cmd := exec.Command(hopbudget, "analyze", "-o", "json", "--strict", path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("analyze %s: %v\n%s", path, err, stderr.String())
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	var in struct{ Traces, Spans int }
	json.Unmarshal(doc["input"], &in)
	if in.Traces != traces || in.Spans != 4*traces {
		t.Errorf("%s: %d traces, %d spans; want %d, %d", path, in.Traces, in.Spans, traces, 4*traces)
	}
	delete(doc, "input")
	return doc
}

// diff names the sections that differ and their first differing lines
// (recorded, then pulled).
func diff(want, got map[string]json.RawMessage) string {
	var b strings.Builder
	keys := map[string]bool{}
	for k := range want {
		keys[k] = true
	}
	for k := range got {
		keys[k] = true
	}
	var names []string
	for k := range keys {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if bytes.Equal(want[k], got[k]) {
			continue
		}
		w, g := strings.Split(string(want[k]), "\n"), strings.Split(string(got[k]), "\n")
		fmt.Fprintf(&b, "section %q:\n", k)
		shown := 0
		for i := 0; i < len(w) || i < len(g); i++ {
			var wl, gl string
			if i < len(w) {
				wl = w[i]
			}
			if i < len(g) {
				gl = g[i]
			}
			if wl != gl {
				fmt.Fprintf(&b, "  line %d\n    recorded: %s\n    pulled:   %s\n", i+1, strings.TrimSpace(wl), strings.TrimSpace(gl))
				if shown++; shown == 10 {
					break
				}
			}
		}
	}
	return b.String()
}

func start(t *testing.T, dir, name string, env []string, bin string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	log, err := os.Create(filepath.Join(dir, name+".log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
		if t.Failed() {
			b, _ := os.ReadFile(log.Name())
			t.Logf("%s log:\n%s", name, b)
		}
	})
	return cmd
}

func freePorts(t *testing.T, n int) []int {
	var ports []int
	var ls []net.Listener
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	for _, l := range ls {
		l.Close()
	}
	return ports
}

func waitListening(t *testing.T, port int) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
			c.Close()
			return
		}
	}
	t.Fatalf("nothing listens on port %d", port)
}

func waitHTTP(t *testing.T, url string, limit time.Duration) {
	t.Helper()
	for deadline := time.Now().Add(limit); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if r, err := http.Get(url); err == nil {
			r.Body.Close()
			if r.StatusCode == 200 {
				return
			}
		}
	}
	t.Fatalf("%s did not answer 200 within %v", url, limit)
}

func waitHTTPBody(t *testing.T, url string, ok func([]byte) bool) {
	t.Helper()
	var last []byte
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		r, err := http.Get(url)
		if err != nil {
			continue
		}
		var b bytes.Buffer
		b.ReadFrom(r.Body)
		r.Body.Close()
		if last = b.Bytes(); ok(last) {
			return
		}
	}
	t.Fatalf("%s: not there within 30s; last answer %.300s", url, last)
}
