package pull

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The fixtures under ../testdata/pull are hand-written in the shapes the
// backends' APIs document (see ../testdata/pull/README.md); a fake server
// replays them.

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "pull", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fake is a backend that answers from a route table and records requests.
type fake struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []*http.Request
}

func newFake(t *testing.T, routes map[string]http.HandlerFunc) *fake {
	t.Helper()
	f := &fake{}
	f.Server = httptest.NewServer(f.handler(routes))
	t.Cleanup(f.Close)
	return f
}

func (f *fake) handler(routes map[string]http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.reqs = append(f.reqs, r.Clone(context.Background()))
		f.mu.Unlock()
		if h, ok := routes[r.URL.Path]; ok {
			h(w, r)
			return
		}
		http.NotFound(w, r) // Go's mux: "404 page not found", text/plain
	})
}

func (f *fake) requests(path string) []*http.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*http.Request
	for _, r := range f.reqs {
		if r.URL.Path == path {
			out = append(out, r)
		}
	}
	return out
}

func serve(status int, contentType string, body []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", contentType)
		w.WriteHeader(status)
		w.Write(body)
	}
}

func source(t *testing.T, backend Backend, srvURL string) Source {
	t.Helper()
	src, err := ParseSource(srvURL, string(backend))
	if err != nil {
		t.Fatal(err)
	}
	return src
}

var (
	testEnd   = time.Date(2026, 1, 2, 4, 0, 0, 0, time.UTC)
	testQuery = Query{
		Service: "frontend", Operation: "GET /dispatch", Tags: []string{"http.status_code=500"},
		Start: testEnd.Add(-time.Hour), End: testEnd, Lookback: time.Hour, Limit: 20, MinDuration: 250 * time.Millisecond,
	}
)

func testOptions() Options {
	return Options{Timeout: 5 * time.Second, Retries: 2, Backoff: time.Millisecond, Concurrency: 2}
}

func readManifest(t *testing.T, dir string) Manifest {
	t.Helper()
	var m Manifest
	b, err := os.ReadFile(filepath.Join(dir, ManifestName))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// savedFiles lists the visible files, what a command reading dir sees.
func savedFiles(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		if !strings.HasPrefix(e.Name(), ".") {
			names = append(names, e.Name())
		}
	}
	return names
}

func wantParams(t *testing.T, got url.Values, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if g := got.Get(k); g != v {
			t.Errorf("query parameter %s = %q, want %q", k, g, v)
		}
	}
}

func TestJaegerV3(t *testing.T) {
	body := fixture(t, "jaeger-v3-traces.json")
	f := newFake(t, map[string]http.HandlerFunc{"/api/v3/traces": serve(200, "application/json", body)})
	dir := filepath.Join(t.TempDir(), "out")
	opts := testOptions()
	opts.JaegerAPI = "v3"
	m, err := Pull(context.Background(), source(t, Jaeger, f.URL), testQuery, opts, dir)
	if err != nil {
		t.Fatal(err)
	}
	reqs := f.requests("/api/v3/traces")
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	wantParams(t, reqs[0].URL.Query(), map[string]string{
		"query.service_name":   "frontend",
		"query.operation_name": "GET /dispatch",
		"query.start_time_min": "2026-01-02T03:00:00Z",
		"query.start_time_max": "2026-01-02T04:00:00Z",
		"query.duration_min":   "0.25s",
		"query.num_traces":     "20",
		"query.search_depth":   "20",
		"query.attributes":     `{"http.status_code":"500"}`,
	})
	got, err := os.ReadFile(filepath.Join(dir, "jaeger-api_v3.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, body) {
		t.Error("saved response differs from what the server sent")
	}
	if m.Traces != 2 || !m.Complete || m.API != "api_v3" || len(m.Files) != 1 {
		t.Errorf("manifest: traces %d complete %v api %q files %v", m.Traces, m.Complete, m.API, m.Files)
	}
	if disk := readManifest(t, dir); disk.Traces != 2 || disk.Query.Service != "frontend" || disk.Query.Lookback != "1h" {
		t.Errorf("manifest on disk: %+v", disk)
	}
}

func TestJaegerInternal(t *testing.T) {
	body := fixture(t, "jaeger-internal-traces.json")
	f := newFake(t, map[string]http.HandlerFunc{"/api/traces": serve(200, "application/json", body)})
	dir := t.TempDir()
	opts := testOptions()
	opts.JaegerAPI = "internal"
	m, err := Pull(context.Background(), source(t, Jaeger, f.URL), testQuery, opts, dir)
	if err != nil {
		t.Fatal(err)
	}
	reqs := f.requests("/api/traces")
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	wantParams(t, reqs[0].URL.Query(), map[string]string{
		"service":     "frontend",
		"operation":   "GET /dispatch",
		"tags":        `{"http.status_code":"500"}`,
		"start":       fmt.Sprint(testEnd.Add(-time.Hour).UnixMicro()),
		"end":         fmt.Sprint(testEnd.UnixMicro()),
		"lookback":    "1h",
		"limit":       "20",
		"minDuration": "250ms",
	})
	if m.Traces != 2 || m.API != "internal" || !m.Complete {
		t.Errorf("manifest: %+v", m)
	}
	if got := savedFiles(t, dir); len(got) != 1 || got[0] != "jaeger-api-traces.json" {
		t.Errorf("files %v", got)
	}
}

func TestJaegerAutoFallsBackWithoutV3(t *testing.T) {
	f := newFake(t, map[string]http.HandlerFunc{"/api/traces": serve(200, "application/json", fixture(t, "jaeger-internal-traces.json"))})
	var warned []string
	opts := testOptions()
	opts.Warn = func(s string) { warned = append(warned, s) }
	q := testQuery
	q.Tags = nil // with tags, auto goes straight to the internal API
	m, err := Pull(context.Background(), source(t, Jaeger, f.URL), q, opts, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if m.API != "internal" || m.Traces != 2 {
		t.Errorf("api %q traces %d, want internal 2", m.API, m.Traces)
	}
	if len(warned) != 1 || !strings.Contains(warned[0], "no api_v3") {
		t.Errorf("warnings %q", warned)
	}
	if n := len(f.requests("/api/v3/traces")); n != 1 {
		t.Errorf("api_v3 asked %d times, want 1 (a 404 is not retried)", n)
	}
}

func TestJaegerAutoWithTagsUsesInternal(t *testing.T) {
	f := newFake(t, map[string]http.HandlerFunc{
		"/api/v3/traces": serve(200, "application/json", fixture(t, "jaeger-v3-traces.json")),
		"/api/traces":    serve(200, "application/json", fixture(t, "jaeger-internal-traces.json")),
	})
	m, err := Pull(context.Background(), source(t, Jaeger, f.URL), testQuery, testOptions(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if m.API != "internal" || len(f.requests("/api/v3/traces")) != 0 {
		t.Errorf("api %q, api_v3 asked %d times; tags need the internal API", m.API, len(f.requests("/api/v3/traces")))
	}
}

func TestJaegerV3WithoutTags(t *testing.T) {
	f := newFake(t, map[string]http.HandlerFunc{"/api/v3/traces": serve(200, "application/json", fixture(t, "jaeger-v3-traces.json"))})
	q := testQuery
	q.Tags = nil
	m, err := Pull(context.Background(), source(t, Jaeger, f.URL), q, testOptions(), t.TempDir())
	if err != nil || m.API != "api_v3" {
		t.Fatalf("api %q, err %v", m.API, err)
	}
	if _, ok := f.requests("/api/v3/traces")[0].URL.Query()["query.attributes"]; ok {
		t.Error("query.attributes sent without tags")
	}
}

func TestJaegerV3NoTraces(t *testing.T) {
	// Jaeger v2 answers a search that matches nothing with a JSON 404: the
	// API exists, so auto must not fall back, and the pull says so.
	f := newFake(t, map[string]http.HandlerFunc{"/api/v3/traces": serve(404, "text/plain; charset=utf-8", fixture(t, "jaeger-v3-not-found.json"))})
	dir := t.TempDir()
	q := testQuery
	q.Tags = nil
	m, err := Pull(context.Background(), source(t, Jaeger, f.URL), q, testOptions(), dir)
	if err == nil || !strings.Contains(err.Error(), "no traces match") {
		t.Fatalf("err = %v, want no traces match", err)
	}
	if m.API != "api_v3" || len(f.requests("/api/traces")) != 0 {
		t.Errorf("api %q, internal asked %d times", m.API, len(f.requests("/api/traces")))
	}
	if got := savedFiles(t, dir); len(got) != 0 {
		t.Errorf("files %v, want none", got)
	}
}

// TestBadResponses: each gives an error naming the URL asked and the
// server's own message or what was expected instead.
func TestBadResponses(t *testing.T) {
	html := fixture(t, "proxy-502.html")
	v3 := fixture(t, "jaeger-v3-traces.json")
	tests := []struct {
		name     string
		backend  Backend
		api      string
		path     string
		handler  http.HandlerFunc
		want     []string
		attempts int
	}{
		{"v3 error body", Jaeger, "v3", "/api/v3/traces", serve(400, "text/plain; charset=utf-8", fixture(t, "jaeger-v3-bad-request.json")), /* http.Error, as Jaeger sends it */
			[]string{"/api/v3/traces?", "HTTP 400", `malformed parameter query.start_time_min`}, 1},
		{"internal error body", Jaeger, "internal", "/api/traces", serve(400, "application/json", fixture(t, "jaeger-internal-error.json")),
			[]string{"/api/traces?", "HTTP 400", "parameter 'service' is required"}, 1},
		{"proxy HTML 502, retried", Jaeger, "v3", "/api/v3/traces", serve(502, "text/html", html),
			[]string{"HTTP 502", `an HTML page titled "502 Bad Gateway"`, "gave up after 3 attempts"}, 3},
		{"HTML with 200", Zipkin, "", "/api/v2/traces", serve(200, "text/html; charset=utf-8", []byte("<!DOCTYPE html><html><head><title>Sign in</title></head></html>")),
			[]string{"/api/v2/traces?", "HTTP 200 but an HTML page titled \"Sign in\"", "want JSON from the zipkin API"}, 1},
		{"truncated JSON", Jaeger, "v3", "/api/v3/traces", serve(200, "application/json", v3[:len(v3)/2]),
			[]string{"/api/v3/traces?", "unexpected EOF", `want OTLP JSON in {"result": …}`, "truncated download"}, 1},
		{"cut-off body", Jaeger, "v3", "/api/v3/traces", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", fmt.Sprint(len(v3)))
			w.Write(v3[:100]) // the server closes the connection short
		}, []string{"reading the body (100 of 4025 bytes)", "cut off", "gave up after 3 attempts"}, 3},
		{"not JSON at all", Zipkin, "", "/api/v2/traces", serve(200, "application/json", []byte(`{"traces":[]}`)),
			[]string{"want Zipkin v2 JSON"}, 1},
		{"tempo plain-text error", Tempo, "", "/api/search", serve(400, "text/plain", fixture(t, "tempo-bad-query.txt")),
			[]string{"/api/search?", "HTTP 400", "invalid TraceQL query"}, 1},
		{"internal errors with 200", Jaeger, "internal", "/api/traces", serve(200, "application/json", []byte(`{"data":[],"errors":[{"code":500,"msg":"storage unavailable"}]}`)),
			[]string{"no traces, and the server reported: storage unavailable"}, 1},
		{"empty body", Tempo, "", "/api/search", serve(200, "application/json", nil),
			[]string{"empty body, want Tempo search results"}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t, map[string]http.HandlerFunc{tc.path: tc.handler})
			opts := testOptions()
			opts.JaegerAPI = tc.api
			dir := t.TempDir()
			m, err := Pull(context.Background(), source(t, tc.backend, f.URL), testQuery, opts, dir)
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			for _, w := range append(tc.want, f.URL) {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q\nlacks %q", msg, w)
				}
			}
			if n := len(f.requests(tc.path)); n != tc.attempts {
				t.Errorf("%d requests, want %d", n, tc.attempts)
			}
			disk := readManifest(t, dir)
			if disk.Complete || disk.Error == "" || m.Complete {
				t.Errorf("manifest says complete %v, error %q", disk.Complete, disk.Error)
			}
			if got := savedFiles(t, dir); len(got) != 0 {
				t.Errorf("files %v saved from a bad response", got)
			}
		})
	}
}

func TestRetries(t *testing.T) {
	body := fixture(t, "zipkin-traces.json")
	t.Run("5xx then ok", func(t *testing.T) {
		var n atomic.Int32
		f := newFake(t, map[string]http.HandlerFunc{"/api/v2/traces": func(w http.ResponseWriter, r *http.Request) {
			if n.Add(1) <= 2 {
				http.Error(w, "upstream busy", http.StatusServiceUnavailable)
				return
			}
			w.Write(body)
		}})
		m, err := Pull(context.Background(), source(t, Zipkin, f.URL), testQuery, testOptions(), t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		if n.Load() != 3 || m.Traces != 2 {
			t.Errorf("%d requests, %d traces; want 3, 2", n.Load(), m.Traces)
		}
	})
	t.Run("429 honours Retry-After", func(t *testing.T) {
		var n atomic.Int32
		var first, second time.Time
		f := newFake(t, map[string]http.HandlerFunc{"/api/v2/traces": func(w http.ResponseWriter, r *http.Request) {
			if n.Add(1) == 1 {
				first = time.Now()
				w.Header().Set("Retry-After", "1")
				http.Error(w, "slow down", http.StatusTooManyRequests)
				return
			}
			second = time.Now()
			w.Write(body)
		}})
		if _, err := Pull(context.Background(), source(t, Zipkin, f.URL), testQuery, testOptions(), t.TempDir()); err != nil {
			t.Fatal(err)
		}
		if gap := second.Sub(first); gap < 900*time.Millisecond {
			t.Errorf("retried after %v, want Retry-After's 1s (backoff alone is 1ms)", gap)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		f := newFake(t, map[string]http.HandlerFunc{"/api/v2/traces": func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		}})
		opts := testOptions()
		opts.Timeout = 50 * time.Millisecond
		opts.Retries = 1
		_, err := Pull(context.Background(), source(t, Zipkin, f.URL), testQuery, opts, t.TempDir())
		if err == nil || !strings.Contains(err.Error(), "no complete response within 50ms (--timeout)") || !strings.Contains(err.Error(), "gave up after 2 attempts") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestTempo(t *testing.T) {
	search := fixture(t, "tempo-search.json")
	complete := fixture(t, "tempo-trace-complete.json")
	partial := fixture(t, "tempo-trace-partial.json")
	var inflight, maxInflight atomic.Int32
	slow := func(body []byte) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			cur := inflight.Add(1)
			defer inflight.Add(-1)
			for {
				m := maxInflight.Load()
				if cur <= m || maxInflight.CompareAndSwap(m, cur) {
					break
				}
			}
			time.Sleep(20 * time.Millisecond)
			w.Header().Set("Content-Type", "application/json")
			w.Write(body)
		}
	}
	// Six IDs in the search (two real, four more that reuse the complete
	// trace's body) to see the concurrency bound hold.
	var res struct {
		Traces []map[string]any `json:"traces"`
	}
	if err := json.Unmarshal(search, &res); err != nil {
		t.Fatal(err)
	}
	routes := map[string]http.HandlerFunc{
		"/api/v2/traces/0af7651916cd43dd8448eb211c80319c": slow(complete),
		"/api/v2/traces/4bf92f3577b34da6a3ce929d0e0e4736": slow(partial),
	}
	for i := 1; i <= 4; i++ {
		id := fmt.Sprintf("%032x", i)
		res.Traces = append(res.Traces, map[string]any{"traceID": id})
		routes["/api/v2/traces/"+id] = slow(complete)
	}
	bigSearch, _ := json.Marshal(res)
	routes["/api/search"] = serve(200, "application/json", bigSearch)
	f := newFake(t, routes)

	var warned []string
	var wmu sync.Mutex
	opts := testOptions()
	opts.Warn = func(s string) { wmu.Lock(); warned = append(warned, s); wmu.Unlock() }
	dir := t.TempDir()
	m, err := Pull(context.Background(), source(t, Tempo, f.URL), testQuery, opts, dir)
	if err != nil {
		t.Fatal(err)
	}
	reqs := f.requests("/api/search")
	if len(reqs) != 1 {
		t.Fatalf("%d searches", len(reqs))
	}
	wantParams(t, reqs[0].URL.Query(), map[string]string{
		"q":     `{ resource.service.name = "frontend" && name = "GET /dispatch" && .http.status_code = 500 && duration >= 250ms }`,
		"start": fmt.Sprint(testEnd.Add(-time.Hour).Unix()),
		"end":   fmt.Sprint(testEnd.Unix()),
		"limit": "20",
	})
	if got := maxInflight.Load(); got < 1 || got > 2 {
		t.Errorf("at most %d trace requests at once, want 1..2 (--concurrency 2)", got)
	}
	if m.Traces != 6 || len(savedFiles(t, dir)) != 6 || !m.Complete {
		t.Errorf("traces %d files %v complete %v", m.Traces, savedFiles(t, dir), m.Complete)
	}
	got, _ := os.ReadFile(filepath.Join(dir, "tempo-4bf92f3577b34da6a3ce929d0e0e4736.json"))
	if !bytes.Equal(got, partial) {
		t.Error("the PARTIAL trace was not saved verbatim")
	}
	if len(warned) != 1 || !strings.Contains(warned[0], "trace 4bf92f3577b34da6a3ce929d0e0e4736 is PARTIAL") || !strings.Contains(warned[0], "Trace exceeds max size") {
		t.Errorf("warnings %q", warned)
	}
	for _, fl := range m.Files {
		if fl.Name == "tempo-4bf92f3577b34da6a3ce929d0e0e4736.json" && fl.Status != "PARTIAL" {
			t.Errorf("manifest status %q, want PARTIAL", fl.Status)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, ".tempo-search.json")); err != nil {
		t.Error("search response not kept:", err)
	}
}

func TestTempoFailureKeepsWhatWasFetched(t *testing.T) {
	ids := []string{"0a", "0b", "0c"}
	var res struct {
		Traces []map[string]string `json:"traces"`
	}
	for _, id := range ids {
		res.Traces = append(res.Traces, map[string]string{"traceID": id})
	}
	search, _ := json.Marshal(res)
	complete := fixture(t, "tempo-trace-complete.json")
	f := newFake(t, map[string]http.HandlerFunc{
		"/api/search":       serve(200, "application/json", search),
		"/api/v2/traces/0a": serve(200, "application/json", complete),
		"/api/v2/traces/0b": serve(500, "text/plain", []byte("querier: too many open files")),
		"/api/v2/traces/0c": serve(200, "application/json", complete),
	})
	opts := testOptions()
	opts.Concurrency = 1 // in order: 0a saved, 0b fails, 0c never asked
	dir := t.TempDir()
	m, err := Pull(context.Background(), source(t, Tempo, f.URL), Query{Start: testEnd.Add(-time.Hour), End: testEnd, Limit: 3}, opts, dir)
	if err == nil || !strings.Contains(err.Error(), "/api/v2/traces/0b") || !strings.Contains(err.Error(), "too many open files") {
		t.Fatalf("err = %v", err)
	}
	if got := savedFiles(t, dir); len(got) != 1 || got[0] != "tempo-0a.json" {
		t.Errorf("files %v, want tempo-0a.json kept", got)
	}
	disk := readManifest(t, dir)
	if disk.Complete || len(disk.Missing) != 2 || disk.Missing[0].What != "trace 0b" || disk.Missing[1].What != "trace 0c" ||
		!strings.Contains(disk.Missing[1].Error, "stopped early") {
		t.Errorf("manifest missing %+v, complete %v", disk.Missing, disk.Complete)
	}
	if m.Query.TraceQL != "{}" {
		t.Errorf("TraceQL %q for an empty query, want {}", m.Query.TraceQL)
	}
	if n := len(f.requests("/api/v2/traces/0c")); n != 0 {
		t.Errorf("0c fetched %d times after the failure", n)
	}
}

func TestZipkin(t *testing.T) {
	body := fixture(t, "zipkin-traces.json")
	f := newFake(t, map[string]http.HandlerFunc{"/api/v2/traces": serve(200, "application/json", body)})
	dir := t.TempDir()
	q := testQuery
	q.Tags = []string{"http.method=GET", "error"}
	q.Tags = q.Tags[:1]
	m, err := Pull(context.Background(), source(t, Zipkin, f.URL), q, testOptions(), dir)
	if err != nil {
		t.Fatal(err)
	}
	wantParams(t, f.requests("/api/v2/traces")[0].URL.Query(), map[string]string{
		"serviceName":     "frontend",
		"spanName":        "GET /dispatch",
		"annotationQuery": "http.method=GET",
		"endTs":           fmt.Sprint(testEnd.UnixMilli()),
		"lookback":        "3600000",
		"limit":           "20",
		"minDuration":     "250000",
	})
	got, _ := os.ReadFile(filepath.Join(dir, "zipkin-api-v2-traces.json"))
	if !bytes.Equal(got, body) || m.Traces != 2 {
		t.Errorf("saved %d bytes, %d traces", len(got), m.Traces)
	}
}

// TestSecretsNeverShown: header values and URL passwords appear neither in
// errors nor in the manifest, even when the server echoes them.
func TestSecretsNeverShown(t *testing.T) {
	const token = "s3cr3t-t0ken-value"
	var gotAuth, gotOrg string
	f := newFake(t, map[string]http.HandlerFunc{"/api/v2/traces": func(w http.ResponseWriter, r *http.Request) {
		gotAuth, gotOrg = r.Header.Get("Authorization"), r.Header.Get("X-Scope-OrgID")
		http.Error(w, "invalid credentials: "+r.Header.Get("Authorization")+" for "+r.Header.Get("X-Scope-OrgID"), http.StatusUnauthorized)
	}})
	h, err := EnvHeaders("X-Scope-OrgID=tenant%2Dsecret", token)
	if err != nil {
		t.Fatal(err)
	}
	opts := testOptions()
	opts.Headers = h
	dir := t.TempDir()
	u, _ := url.Parse(f.URL)
	src, err := ParseSource("zipkin://alice:hunter2-pw@"+u.Host, "")
	if err != nil {
		t.Fatal(err)
	}
	_, err = Pull(context.Background(), src, testQuery, opts, dir)
	if err == nil {
		t.Fatal("no error")
	}
	if gotAuth != "Bearer "+token || gotOrg != "tenant-secret" {
		t.Errorf("sent Authorization %q, X-Scope-OrgID %q", gotAuth, gotOrg)
	}
	manifest, _ := os.ReadFile(filepath.Join(dir, ManifestName))
	for _, secret := range []string{token, "tenant-secret", "hunter2-pw"} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error shows %q: %v", secret, err)
		}
		if bytes.Contains(manifest, []byte(secret)) {
			t.Errorf("manifest shows %q", secret)
		}
	}
	if !strings.Contains(err.Error(), "HTTP 401") || !strings.Contains(err.Error(), "REDACTED") {
		t.Errorf("err = %v", err)
	}
	if m := readManifest(t, dir); strings.Join(m.Headers, ",") != "Authorization,X-Scope-Orgid" || !strings.Contains(m.Source, "alice:xxxxx@") {
		t.Errorf("manifest headers %v source %q", m.Headers, m.Source)
	}
}

func TestTLS(t *testing.T) {
	body := fixture(t, "zipkin-traces.json")
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(body) }))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is expected
	srv.StartTLS()
	defer srv.Close()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	src, err := ParseSource(strings.Replace(srv.URL, "https://", "zipkin+https://", 1), "")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		ca      string
		skip    bool
		wantErr string
	}{
		{"unknown CA", "", false, "certificate"},
		{"with --ca-file", ca, false, ""},
		{"--insecure-skip-verify", "", true, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts := testOptions()
			opts.Retries = 0
			opts.CAFile, opts.InsecureSkipVerify = tc.ca, tc.skip
			_, err := Pull(context.Background(), src, testQuery, opts, t.TempDir())
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("err = %v, want %q", err, tc.wantErr)
			}
		})
	}
}

func TestCancel(t *testing.T) {
	f := newFake(t, map[string]http.HandlerFunc{"/api/v2/traces": func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	dir := t.TempDir()
	_, err := Pull(ctx, source(t, Zipkin, f.URL), testQuery, testOptions(), dir)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if time.Since(start) > 2*time.Second {
		t.Errorf("took %v to stop", time.Since(start))
	}
	if m := readManifest(t, dir); m.Complete || len(m.Missing) != 1 {
		t.Errorf("manifest %+v", m)
	}
}

func TestSaveDirMustBeNewOrEmpty(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "old.json"), []byte("{}"), 0o644)
	_, err := Pull(context.Background(), source(t, Zipkin, "http://127.0.0.1:1"), testQuery, testOptions(), dir)
	if err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Fatalf("err = %v", err)
	}
}

func TestParseSource(t *testing.T) {
	tests := []struct {
		raw, backend string
		want         string // Backend URL, or "error: substring"
	}{
		{"jaeger://localhost:16686", "", "jaeger http://localhost:16686"},
		{"jaeger+https://jaeger.example.com/", "", "jaeger https://jaeger.example.com"},
		{"tempo+http://h:3200/tempo", "", "tempo http://h:3200/tempo"},
		{"https://zipkin.internal:9411", "zipkin", "zipkin https://zipkin.internal:9411"},
		{"zipkin://u:p@h:9411", "", "zipkin http://h:9411"},
		{"jaeger://h:16686", "jaeger", "jaeger http://h:16686"},
		{"http://h:16686", "", "error: needs --backend"},
		{"jaeger://h:16686", "tempo", "error: --backend says tempo"},
		{"elastic://h:9200", "", `error: unknown backend "elastic"`},
		{"jaeger+ftp://h", "", `error: unknown transport "ftp"`},
		{"jaeger://h:16686?service=x", "", "error: give the query as flags"},
		{"localhost:16686", "", "error: want a URL like"},
		{"jaeger://u:pw@h:1/%zz", "", "error: //xxxxx@"},
	}
	for _, tc := range tests {
		src, err := ParseSource(tc.raw, tc.backend)
		got := ""
		if err != nil {
			got = "error: " + err.Error()
			if strings.Contains(got, "pw") {
				t.Errorf("%s: error shows the password: %s", tc.raw, got)
			}
			if !strings.HasPrefix(tc.want, "error: ") || !strings.Contains(got, strings.TrimPrefix(tc.want, "error: ")) {
				t.Errorf("%s: %s, want %s", tc.raw, got, tc.want)
			}
			continue
		}
		got = string(src.Backend) + " " + src.URL.String()
		if got != tc.want {
			t.Errorf("%s: %s, want %s", tc.raw, got, tc.want)
		}
	}
}

func TestHeaders(t *testing.T) {
	k, v, err := ParseHeader("authorization:  Bearer abc:def ")
	if err != nil || k != "Authorization" || v != "Bearer abc:def" {
		t.Errorf("ParseHeader = %q %q %v", k, v, err)
	}
	if _, _, err := ParseHeader("Bearer-only-s3cret"); err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("ParseHeader without a name: %v", err)
	}
	h, err := EnvHeaders(" X-Scope-OrgID = a%2Cb ,api-key=k1", "tok")
	if err != nil || h.Get("X-Scope-Orgid") != "a,b" || h.Get("Api-Key") != "k1" || h.Get("Authorization") != "Bearer tok" {
		t.Errorf("EnvHeaders = %v, %v", h, err)
	}
	if _, err := EnvHeaders("novalue-s3cret", ""); err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("EnvHeaders bad entry: %v", err)
	}
}

func TestBuildTraceQL(t *testing.T) {
	tests := []struct {
		q    Query
		want string
	}{
		{Query{}, "{}"},
		{Query{Service: "front\"end"}, `{ resource.service.name = "front\"end" }`},
		{Query{Tags: []string{"error=true", "ratio=0.5", "user=bob", "code=0x1F"}}, `{ .error = true && .ratio = 0.5 && .user = "bob" && .code = "0x1F" }`},
		{Query{Operation: "GET /", MinDuration: 1500 * time.Millisecond}, `{ name = "GET /" && duration >= 1.5s }`},
	}
	for _, tc := range tests {
		if got := buildTraceQL(tc.q); got != tc.want {
			t.Errorf("buildTraceQL(%+v) = %s, want %s", tc.q, got, tc.want)
		}
	}
}

func TestQueryValidation(t *testing.T) {
	src := Source{Backend: Jaeger, URL: &url.URL{Scheme: "http", Host: "h"}}
	tests := []struct {
		q    Query
		want string
	}{
		{Query{Start: testEnd, End: testEnd.Add(time.Hour)}, "Jaeger needs --service"},
		{Query{Service: "s", Start: testEnd, End: testEnd}, "time window is empty"},
		{Query{Service: "s", Start: testEnd, End: testEnd.Add(time.Hour), Tags: []string{"novalue"}}, `--tag "novalue"`},
		{Query{Service: "s", Start: testEnd, End: testEnd.Add(time.Hour), TraceQL: "{}"}, "for Tempo only"},
	}
	for _, tc := range tests {
		dir := filepath.Join(t.TempDir(), "never")
		_, err := Pull(context.Background(), src, tc.q, testOptions(), dir)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: err = %v, want %q", tc.q, err, tc.want)
		}
		if _, serr := os.Stat(dir); serr == nil {
			t.Errorf("%+v: refused query created %s", tc.q, dir)
		}
	}
}

func TestTempoTraceGone(t *testing.T) {
	f := newFake(t, map[string]http.HandlerFunc{
		"/api/search": serve(200, "application/json", []byte(`{"traces":[{"traceID":"0a"}]}`)),
		// /api/v2/traces/0a is not routed: 404
	})
	dir := t.TempDir()
	_, err := Pull(context.Background(), source(t, Tempo, f.URL), Query{Start: testEnd.Add(-time.Hour), End: testEnd}, testOptions(), dir)
	if err == nil || !strings.Contains(err.Error(), "HTTP 404") || !strings.Contains(err.Error(), "retention?") {
		t.Fatalf("err = %v", err)
	}
	if n := len(f.requests("/api/v2/traces/0a")); n != 1 {
		t.Errorf("%d requests for a missing trace, want 1 (404 is not retried)", n)
	}
	if m := readManifest(t, dir); len(m.Missing) != 1 || m.Missing[0].What != "trace 0a" {
		t.Errorf("missing %+v", m.Missing)
	}
}

func TestTempoUnsafeTraceID(t *testing.T) {
	f := newFake(t, map[string]http.HandlerFunc{
		"/api/search":       serve(200, "application/json", []byte(`{"traces":[{"traceID":"../../etc/passwd"},{"traceID":"0A"}]}`)),
		"/api/v2/traces/0a": serve(200, "application/json", fixture(t, "tempo-trace-complete.json")),
	})
	var warned []string
	opts := testOptions()
	opts.Warn = func(s string) { warned = append(warned, s) }
	dir := t.TempDir()
	m, err := Pull(context.Background(), source(t, Tempo, f.URL), Query{Start: testEnd.Add(-time.Hour), End: testEnd}, opts, dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := savedFiles(t, dir); m.Traces != 1 || len(got) != 1 || got[0] != "tempo-0a.json" {
		t.Errorf("files %v", got)
	}
	if len(warned) != 1 || !strings.Contains(warned[0], "not hex") {
		t.Errorf("warnings %q", warned)
	}
}

func TestBasicAuthFromURL(t *testing.T) {
	var user, pass string
	var ok bool
	f := newFake(t, map[string]http.HandlerFunc{"/prefix/api/v2/traces": func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok = r.BasicAuth()
		w.Write([]byte("[]"))
	}})
	u, _ := url.Parse(f.URL)
	src, err := ParseSource("zipkin://alice:pw@"+u.Host+"/prefix/", "")
	if err != nil {
		t.Fatal(err)
	}
	_, err = Pull(context.Background(), src, testQuery, testOptions(), t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "no traces match") {
		t.Errorf("err = %v, want no traces match", err)
	}
	if !ok || user != "alice" || pass != "pw" {
		t.Errorf("basic auth %q %q %v", user, pass, ok)
	}
}

func TestEmptyAnswersAreNotSaved(t *testing.T) {
	tests := []struct {
		backend Backend
		path    string
		body    string
	}{
		{Jaeger, "/api/v3/traces", `{"result":{"resourceSpans":[]}}`},
		{Jaeger, "/api/traces", `{"data":[],"total":0,"limit":0,"offset":0,"errors":null}`},
		{Zipkin, "/api/v2/traces", `[]`},
		{Tempo, "/api/search", `{"traces":[],"metrics":{}}`},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			f := newFake(t, map[string]http.HandlerFunc{tc.path: serve(200, "application/json", []byte(tc.body))})
			opts := testOptions()
			opts.JaegerAPI = "v3"
			if tc.path == "/api/traces" {
				opts.JaegerAPI = "internal"
			}
			dir := t.TempDir()
			q := testQuery
			q.Tags = nil
			_, err := Pull(context.Background(), source(t, tc.backend, f.URL), q, opts, dir)
			if err == nil || !strings.Contains(err.Error(), "no traces match the query") {
				t.Errorf("err = %v", err)
			}
			if got := savedFiles(t, dir); len(got) != 0 {
				t.Errorf("saved %v", got)
			}
		})
	}
}
