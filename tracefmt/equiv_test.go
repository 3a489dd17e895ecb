package tracefmt_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"hopbudget/analyze"
	"hopbudget/internal/tracegentest"
	"hopbudget/tracefmt"
)

// Jaeger UI JSON as tracegen writes it (the part a conversion needs).
type jaegerFile struct {
	Data []struct {
		Spans []struct {
			TraceID       string `json:"traceID"`
			SpanID        string `json:"spanID"`
			OperationName string `json:"operationName"`
			References    []struct {
				RefType string `json:"refType"`
				SpanID  string `json:"spanID"`
			} `json:"references"`
			StartTime int64 `json:"startTime"`
			Duration  int64 `json:"duration"`
			Tags      []struct {
				Key   string `json:"key"`
				Value any    `json:"value"`
			} `json:"tags"`
			ProcessID string `json:"processID"`
		} `json:"spans"`
		Processes map[string]struct {
			ServiceName string `json:"serviceName"`
		} `json:"processes"`
	} `json:"data"`
}

type zipkinEndpoint struct {
	ServiceName string `json:"serviceName,omitempty"`
}

type zipkinSpan struct {
	TraceID        string            `json:"traceId"`
	ParentID       string            `json:"parentId,omitempty"`
	ID             string            `json:"id"`
	Kind           string            `json:"kind,omitempty"`
	Name           string            `json:"name"`
	Timestamp      int64             `json:"timestamp"`
	Duration       int64             `json:"duration"`
	LocalEndpoint  zipkinEndpoint    `json:"localEndpoint"`
	RemoteEndpoint *zipkinEndpoint   `json:"remoteEndpoint,omitempty"`
	Tags           map[string]string `json:"tags,omitempty"`
	Shared         bool              `json:"shared,omitempty"`
}

// toZipkin converts Jaeger JSON to Zipkin v2 JSON (GET /api/v2/traces: an
// array per trace) as a Zipkin-instrumented system would report it: the
// server side of an RPC reuses its client's span ID and says "shared", and
// the callee's name is the client's remoteEndpoint instead of a tag.
func toZipkin(t *testing.T, j *jaegerFile) [][]zipkinSpan {
	var out [][]zipkinSpan
	for _, tr := range j.Data {
		var spans []zipkinSpan
		kind := map[string]string{}
		parent := map[string]string{}
		for _, s := range tr.Spans {
			for _, tg := range s.Tags {
				if tg.Key == "span.kind" {
					kind[s.SpanID] = strings.ToUpper(fmt.Sprint(tg.Value))
				}
			}
			for _, r := range s.References {
				if r.RefType == "CHILD_OF" || r.RefType == "FOLLOWS_FROM" {
					parent[s.SpanID] = r.SpanID
					break
				}
			}
		}
		// newID: a server span whose parent is a client takes the client's ID.
		newID := map[string]string{}
		for _, s := range tr.Spans {
			if p, ok := parent[s.SpanID]; ok && kind[s.SpanID] == "SERVER" && kind[p] == "CLIENT" {
				newID[s.SpanID] = p
			}
		}
		for _, s := range tr.Spans {
			z := zipkinSpan{TraceID: s.TraceID, ID: s.SpanID, Name: s.OperationName, Timestamp: s.StartTime, Duration: s.Duration,
				LocalEndpoint: zipkinEndpoint{tr.Processes[s.ProcessID].ServiceName}, Tags: map[string]string{}}
			if k := kind[s.SpanID]; k != "INTERNAL" {
				z.Kind = k
			}
			if p, ok := parent[s.SpanID]; ok {
				z.ParentID = p
				if id, ok := newID[p]; ok {
					z.ParentID = id
				}
			}
			if id, ok := newID[s.SpanID]; ok {
				z.ID, z.Shared = id, true
				z.ParentID = parent[id]
			}
			for _, tg := range s.Tags {
				v := fmt.Sprint(tg.Value)
				switch {
				case tg.Key == "span.kind":
				case tg.Key == "error":
					if v == "true" {
						z.Tags["error"] = ""
					}
				case tg.Key == "peer.service" && z.Kind == "CLIENT":
					z.RemoteEndpoint = &zipkinEndpoint{v}
				default:
					z.Tags[tg.Key] = v
				}
			}
			spans = append(spans, z)
		}
		out = append(out, spans)
	}
	if len(out) == 0 {
		t.Fatal("no traces to convert")
	}
	return out
}

// The same traces written as OTLP, Jaeger and Zipkin (with shared span IDs)
// give the same analysis.
func TestSameAnalysisFromEveryFormat(t *testing.T) {
	dir := tracegentest.Generate(t, "-scenario", "checkout", "-traces", "200", "-seed", "11", "-format", "otlp-json,jaeger-json")
	data, err := os.ReadFile(filepath.Join(dir, "traces.jaeger.json"))
	if err != nil {
		t.Fatal(err)
	}
	var j jaegerFile
	if err := json.Unmarshal(data, &j); err != nil {
		t.Fatal(err)
	}
	zb, err := json.Marshal(toZipkin(t, &j))
	if err != nil {
		t.Fatal(err)
	}
	zpath := filepath.Join(t.TempDir(), "traces.zipkin.json")
	if err := os.WriteFile(zpath, zb, 0o644); err != nil {
		t.Fatal(err)
	}
	type view struct {
		Endpoints []analyze.Endpoint
		Hops      []analyze.Hop
		FanIn     []analyze.FanIn
		Counts    analyze.Counts
		Paths     []string
	}
	analyse := func(path string) view {
		res, err := tracefmt.Read(context.Background(), []string{path}, tracefmt.Options{})
		if err != nil {
			t.Fatal(err)
		}
		rep, err := analyze.Analyze(context.Background(), res.Traces, analyze.Options{PerTrace: true})
		if err != nil {
			t.Fatal(err)
		}
		v := view{Endpoints: rep.Endpoints, Hops: rep.Hops, FanIn: rep.FanIn, Counts: rep.Counts}
		for _, tr := range rep.Traces {
			// The critical path by service and operation: span IDs differ
			// where Zipkin shared them.
			b, _ := json.Marshal(tr.CriticalPath)
			v.Paths = append(v.Paths, stripIDs(string(b)))
		}
		return v
	}
	want := analyse(filepath.Join(dir, "traces.otlp.json"))
	if len(want.Hops) == 0 || len(want.Paths) != 200 {
		t.Fatalf("reference analysis has %d hops, %d traces", len(want.Hops), len(want.Paths))
	}
	for _, p := range []string{filepath.Join(dir, "traces.jaeger.json"), zpath} {
		got := analyse(p)
		if !reflect.DeepEqual(got.Endpoints, want.Endpoints) {
			t.Errorf("%s: endpoints differ:\n got %+v\nwant %+v", filepath.Base(p), got.Endpoints, want.Endpoints)
		}
		if !reflect.DeepEqual(got.Hops, want.Hops) {
			for i := range min(len(got.Hops), len(want.Hops)) {
				if !reflect.DeepEqual(got.Hops[i], want.Hops[i]) {
					t.Errorf("%s: hop %d differs:\n got %+v\nwant %+v", filepath.Base(p), i, got.Hops[i], want.Hops[i])
					break
				}
			}
			t.Errorf("%s: %d hops, want %d", filepath.Base(p), len(got.Hops), len(want.Hops))
		}
		if !reflect.DeepEqual(got.FanIn, want.FanIn) || got.Counts != want.Counts {
			t.Errorf("%s: fan-in or counts differ:\n got %+v %+v\nwant %+v %+v", filepath.Base(p), got.FanIn, got.Counts, want.FanIn, want.Counts)
		}
		if !reflect.DeepEqual(got.Paths, want.Paths) {
			for i := range got.Paths {
				if got.Paths[i] != want.Paths[i] {
					t.Errorf("%s: trace %d critical path differs:\n got %s\nwant %s", filepath.Base(p), i, got.Paths[i], want.Paths[i])
					break
				}
			}
		}
	}
}

// stripIDs drops span ID fields from a JSON rendering.
func stripIDs(s string) string {
	var v any
	json.Unmarshal([]byte(s), &v)
	var walk func(any) any
	walk = func(x any) any {
		switch x := x.(type) {
		case map[string]any:
			for k, val := range x {
				if strings.HasSuffix(strings.ToLower(k), "spanid") {
					delete(x, k)
					continue
				}
				x[k] = walk(val)
			}
		case []any:
			for i := range x {
				x[i] = walk(x[i])
			}
		}
		return x
	}
	b, _ := json.Marshal(walk(v))
	return string(b)
}
