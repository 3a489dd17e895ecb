package cmd

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"
)

// fakeJaeger serves both Jaeger query APIs from the hand-written responses
// in testdata/pull (the same two traces in each API's format).
func fakeJaeger(t *testing.T) *httptest.Server {
	return fakeJaegerFrom(t, "testdata/pull/jaeger-v3-traces.json", "testdata/pull/jaeger-internal-traces.json")
}

func fakeJaegerFrom(t *testing.T, v3File, internalFile string) *httptest.Server {
	t.Helper()
	v3, err := os.ReadFile(v3File)
	if err != nil {
		t.Fatal(err)
	}
	internal, err := os.ReadFile(internalFile)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/api/v3/traces", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("query.service_name") != "frontend" {
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(`{"error":{"httpCode":404,"message":"No traces found"}}`))
			return
		}
		w.Write(v3)
	})
	mux.HandleFunc("/api/traces", func(w http.ResponseWriter, r *http.Request) { w.Write(internal) })
	mux.HandleFunc("/broken/api/v3/traces", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		w.Write([]byte("<html><head><title>502 Bad Gateway</title></head></html>"))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// TestPullThenAnalyze pulls from a fake Jaeger over both APIs and reads the
// saved directories back: every span is there, the manifest is not read as
// an input, and both APIs give the same analysis.
func TestPullThenAnalyze(t *testing.T) {
	tests := []struct {
		name, v3, internal string
		traces, spans      int
	}{
		{"hand-written", "testdata/pull/jaeger-v3-traces.json", "testdata/pull/jaeger-internal-traces.json", 2, 6},
		// Recorded from a real Jaeger v1.75.0 by make integration.
		{"recorded from Jaeger v1.75.0", "testdata/pull/real-jaeger-v1.75-api_v3.json", "testdata/pull/real-jaeger-v1.75-api-traces.json", 20, 80},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pullThenAnalyze(t, fakeJaegerFrom(t, tc.v3, tc.internal), tc.traces, tc.spans)
		})
	}
}

func pullThenAnalyze(t *testing.T, srv *httptest.Server, traces, spans int) {
	src := strings.Replace(srv.URL, "http://", "jaeger://", 1)
	var analyses []map[string]json.RawMessage
	for _, api := range []string{"v3", "internal"} {
		dir := filepath.Join(t.TempDir(), "pulled")
		out, errOut, code := run(t, "", "pull", src, "--api", api, "--service", "frontend", "--save", dir)
		if code != 0 {
			t.Fatalf("pull --api %s: exit %d\n%s", api, code, errOut)
		}
		if !strings.Contains(out, fmt.Sprintf("Pulled %d traces from %s", traces, src)) || !strings.Contains(out, "Next: hopbudget analyze "+dir) {
			t.Errorf("pull output:\n%s", out)
		}
		out, errOut, code = run(t, "", "analyze", "-o", "json", "--strict", dir)
		if code != 0 {
			t.Fatalf("analyze %s: exit %d\n%s", dir, code, errOut)
		}
		var doc map[string]json.RawMessage
		if err := json.Unmarshal([]byte(out), &doc); err != nil {
			t.Fatal(err)
		}
		var in struct {
			Traces, Spans, SpansRead int
			Files                    []struct{ Name string }
		}
		if err := json.Unmarshal(doc["input"], &in); err != nil {
			t.Fatal(err)
		}
		if in.Traces != traces || in.Spans != spans || in.SpansRead != spans || len(in.Files) != 1 {
			t.Errorf("--api %s: read back %+v, want %d traces, %d spans, 1 file", api, in, traces, spans)
		}
		if len(doc["hops"]) < 10 || len(doc["endpoints"]) < 10 {
			t.Fatalf("--api %s: analysis without hops or endpoints:\n%s", api, out)
		}
		delete(doc, "input") // file names and formats differ, nothing else may
		analyses = append(analyses, doc)
	}
	if !reflect.DeepEqual(analyses[0], analyses[1]) {
		t.Errorf("api_v3 and internal pulls analyse differently:\n%s\n%s", analyses[0]["endpoints"], analyses[1]["endpoints"])
	}
}

func TestPullErrors(t *testing.T) {
	srv := fakeJaeger(t)
	src := strings.Replace(srv.URL, "http://", "jaeger://", 1)
	t.Setenv("HOPBUDGET_PULL_TOKEN", "tok-SECRET-123")
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"proxy error page", []string{src + "/broken", "--service", "frontend", "--api", "v3", "--retries", "0"},
			[]string{"HTTP 502", `an HTML page titled "502 Bad Gateway"`, srv.URL + "/broken/api/v3/traces?", "Manifest: "}},
		{"nothing matched", []string{src, "--service", "nobody", "--api", "v3"},
			[]string{"no traces match the query"}},
		{"bad source", []string{"localhost:16686", "--service", "x"}, []string{"want a URL like"}},
		{"bad header", []string{src, "--service", "x", "--header", "tok-SECRET-456"}, []string{"--header: want 'Name: value'"}},
		{"since and start", []string{src, "--service", "x", "--since", "2h", "--start", "2026-01-01T00:00:00Z"}, []string{"give one"}},
		{"bad end", []string{src, "--service", "x", "--end", "yesterday"}, []string{`--end "yesterday": want RFC 3339`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "out")
			out, errOut, code := run(t, "", append([]string{"pull", "--save", dir}, tc.args...)...)
			if code != ExitInputError {
				t.Errorf("exit %d, want %d", code, ExitInputError)
			}
			if out != "" {
				t.Errorf("stdout %q, want nothing on failure", out)
			}
			for _, w := range tc.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errOut)
				}
			}
			if strings.Contains(errOut, "SECRET") {
				t.Errorf("stderr shows a secret:\n%s", errOut)
			}
		})
	}
}

// TestPullProgress draws progress on a terminal and clears it at the end.
func TestPullProgress(t *testing.T) {
	body, err := os.ReadFile("testdata/pull/zipkin-traces.json")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(500 * time.Millisecond)
		w.Write(body)
	}))
	defer srv.Close()
	var out, errb bytes.Buffer
	s := &Streams{In: strings.NewReader(""), Out: &out, Err: &errb, ErrIsTerminal: true}
	code := Run(context.Background(), s, []string{"pull", strings.Replace(srv.URL, "http://", "zipkin://", 1), "--save", filepath.Join(t.TempDir(), "z")})
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if e := errb.String(); !strings.Contains(e, "pulling: 0 traces, 1 requests") || !strings.HasSuffix(e, "\r\033[K") {
		t.Errorf("stderr %q", e)
	}
	if !strings.Contains(out.String(), "Pulled 2 traces") {
		t.Errorf("stdout %q", out.String())
	}
}

// A pull stopped by a signal exits 128 + the signal, as every command does,
// whether the server was still to answer or the pull had not begun.
func TestPullInterrupted(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	defer srv.Close()
	src := strings.Replace(srv.URL, "http://", "jaeger://", 1)
	for _, after := range []time.Duration{0, 100 * time.Millisecond} {
		for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
			ctx, cancel := context.WithCancelCause(context.Background())
			if after == 0 {
				cancel(Interrupt{Signal: sig})
			} else {
				time.AfterFunc(after, func() { cancel(Interrupt{Signal: sig}) })
			}
			var stdout, stderr bytes.Buffer
			code := Run(ctx, &Streams{In: strings.NewReader(""), Out: &stdout, Err: &stderr},
				[]string{"pull", src, "--service", "frontend", "--save", filepath.Join(t.TempDir(), "pulled")})
			if code != 128+int(sig) || !strings.Contains(stderr.String(), "interrupted") {
				t.Errorf("%v after %v: exit %d, stderr %q; want %d, interrupted", sig, after, code, stderr.String(), 128+int(sig))
			}
			cancel(nil)
		}
	}
}
