package analyze

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"hopbudget/tracefmt"
)

// repoRoot is the module root (two levels above this file's directory).
func repoRoot(tb testing.TB) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(filepath.Dir(file))
}

// ---- hand-built traces; times in µs ----

type sp struct {
	id, parent uint64
	start, end int64 // µs
	svc, op    string
	kind       tracefmt.Kind
	err        bool
	ff         bool // parent reference is FOLLOWS_FROM
	refs       []tracefmt.Ref
	attrs      tracefmt.Attrs
}

func sid(n uint64) tracefmt.SpanID {
	var s tracefmt.SpanID
	binary.BigEndian.PutUint64(s[:], n)
	return s
}

func tid(n uint64) tracefmt.TraceID {
	var t tracefmt.TraceID
	binary.BigEndian.PutUint64(t[8:], n)
	return t
}

func (x sp) span(t tracefmt.TraceID) *tracefmt.Span {
	s := &tracefmt.Span{TraceID: t, SpanID: sid(x.id), Start: x.start * 1000, End: x.end * 1000,
		Service: x.svc, Operation: x.op, Kind: x.kind, ParentFollowsFrom: x.ff, Refs: x.refs}
	if s.Service == "" {
		s.Service = "svc"
	}
	if s.Operation == "" {
		s.Operation = "op"
	}
	if x.parent != 0 {
		s.Parent = sid(x.parent)
	}
	if x.err {
		s.Status = tracefmt.StatusError
	}
	a := x.attrs
	s.Attrs = &a
	return s
}

func mkTrace(n uint64, spans ...sp) tracefmt.Trace {
	t := tracefmt.Trace{ID: tid(n)}
	for _, x := range spans {
		t.Spans = append(t.Spans, x.span(t.ID))
	}
	return t
}

// built runs the clean-up passes on one trace and returns the state.
func built(tb testing.TB, tr tracefmt.Trace, opts Options) *traceState {
	tb.Helper()
	ts := newTraceState(&opts, nil)
	ts.reset(0, &tr)
	ts.build()
	return ts
}

func nodeOf(ts *traceState, id uint64) int32 {
	i, ok := ts.ids[sid(id)]
	if !ok {
		return -1
	}
	return i
}

// ---- OTLP protobuf → model (test-only; the real decoder lives in tracefmt) ----

func loadOTLPProto(tb testing.TB, path string) []tracefmt.Trace {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	var td tracepb.TracesData
	if err := proto.Unmarshal(b, &td); err != nil {
		tb.Fatal(err)
	}
	var out []tracefmt.Trace
	byID := map[tracefmt.TraceID]int{}
	attrs := map[tracefmt.Attrs]*tracefmt.Attrs{}
	names := map[string]string{} // interned, as tracefmt's readers do
	intern := func(s string) string {
		if v, ok := names[s]; ok {
			return v
		}
		names[s] = s
		return s
	}
	for _, rs := range td.ResourceSpans {
		svc := ""
		for _, kv := range rs.GetResource().GetAttributes() {
			if kv.Key == "service.name" {
				svc = intern(kv.Value.GetStringValue())
			}
		}
		for _, ss := range rs.ScopeSpans {
			for _, s := range ss.Spans {
				x := &tracefmt.Span{Start: int64(s.StartTimeUnixNano), End: int64(s.EndTimeUnixNano),
					Service: svc, Operation: intern(s.Name), Kind: tracefmt.Kind(s.Kind),
					Status: tracefmt.StatusCode(s.GetStatus().GetCode())}
				copy(x.TraceID[:], s.TraceId)
				copy(x.SpanID[:], s.SpanId)
				copy(x.Parent[:], s.ParentSpanId)
				var a tracefmt.Attrs
				for _, kv := range s.Attributes {
					v := intern(kv.Value.GetStringValue())
					switch kv.Key {
					case "peer.service":
						a.PeerService = v
					case "server.address":
						a.ServerAddress = v
					case "db.system", "db.system.name":
						a.DBSystem = v
					case "http.response.status_code":
						a.HTTPStatus = int32(kv.Value.GetIntValue())
					case "db.query.text", "db.statement":
						a.DBStatement = intern(string(tracefmt.NormalizeStatement([]byte(v))))
					}
				}
				if p, ok := attrs[a]; ok {
					x.Attrs = p
				} else {
					x.Attrs = &a
					attrs[a] = &a
				}
				for _, l := range s.Links {
					r := tracefmt.Ref{Type: tracefmt.FollowsFrom}
					copy(r.TraceID[:], l.TraceId)
					copy(r.SpanID[:], l.SpanId)
					x.Refs = append(x.Refs, r)
				}
				i, ok := byID[x.TraceID]
				if !ok {
					i = len(out)
					byID[x.TraceID] = i
					out = append(out, tracefmt.Trace{ID: x.TraceID})
				}
				out[i].Spans = append(out[i].Spans, x)
			}
		}
	}
	return out
}

// ---- Jaeger UI JSON → model (test-only) ----

// idTable maps the UI fixtures' free-form IDs ("span-A", "test1-trace") to
// model IDs and back. Every string gets the next number, so IDs are unique.
type idTable struct {
	spans  map[string]tracefmt.SpanID
	traces map[string]tracefmt.TraceID
	back   map[tracefmt.SpanID]string
	tback  map[tracefmt.TraceID]string
}

func newIDTable() *idTable {
	return &idTable{spans: map[string]tracefmt.SpanID{}, traces: map[string]tracefmt.TraceID{},
		back: map[tracefmt.SpanID]string{}, tback: map[tracefmt.TraceID]string{}}
}

func (t *idTable) span(s string) tracefmt.SpanID {
	id, ok := t.spans[s]
	if !ok {
		id = sid(uint64(len(t.spans) + 1))
		t.spans[s], t.back[id] = id, s
	}
	return id
}

func (t *idTable) trace(s string) tracefmt.TraceID {
	id, ok := t.traces[s]
	if !ok {
		id = tid(uint64(len(t.traces) + 1))
		t.traces[s], t.tback[id] = id, s
	}
	return id
}

type uiTag struct {
	Key   string `json:"key"`
	Value any    `json:"value"`
}

type uiTrace struct {
	TraceID string `json:"traceID"`
	Spans   []struct {
		TraceID       string `json:"traceID"`
		SpanID        string `json:"spanID"`
		OperationName string `json:"operationName"`
		References    []struct {
			RefType string `json:"refType"`
			TraceID string `json:"traceID"`
			SpanID  string `json:"spanID"`
		} `json:"references"`
		StartTime int64   `json:"startTime"`
		Duration  int64   `json:"duration"`
		Tags      []uiTag `json:"tags"`
		ProcessID string  `json:"processID"`
	} `json:"spans"`
	Processes map[string]struct {
		ServiceName string `json:"serviceName"`
	} `json:"processes"`
}

// loadUIJSON reads a Jaeger UI JSON file ({"data":[…]}, an array of traces
// or one trace) into model traces, using ids for the ID mapping.
func loadUIJSON(tb testing.TB, path string, ids *idTable) []tracefmt.Trace {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	var doc struct {
		Data []uiTrace `json:"data"`
	}
	var list []uiTrace
	if json.Unmarshal(b, &doc) == nil && doc.Data != nil {
		list = doc.Data
	} else if err := json.Unmarshal(b, &list); err != nil {
		var one uiTrace
		if err := json.Unmarshal(b, &one); err != nil {
			tb.Fatal(err)
		}
		list = []uiTrace{one}
	}
	var out []tracefmt.Trace
	for _, ut := range list {
		tr := tracefmt.Trace{ID: ids.trace(ut.TraceID)}
		for _, us := range ut.Spans {
			s := &tracefmt.Span{TraceID: tr.ID, SpanID: ids.span(us.SpanID), Start: us.StartTime * 1000,
				End: (us.StartTime + us.Duration) * 1000, Operation: us.OperationName,
				Service: ut.Processes[us.ProcessID].ServiceName, Attrs: &tracefmt.Attrs{}}
			var childOf, follows *tracefmt.Ref
			for _, r := range us.References {
				ref := tracefmt.Ref{TraceID: tr.ID, SpanID: ids.span(r.SpanID)}
				if r.TraceID != "" {
					ref.TraceID = ids.trace(r.TraceID)
				}
				if r.RefType == "FOLLOWS_FROM" {
					ref.Type = tracefmt.FollowsFrom
				}
				s.Refs = append(s.Refs, ref)
				last := &s.Refs[len(s.Refs)-1]
				if ref.TraceID == tr.ID {
					if ref.Type == tracefmt.ChildOf && childOf == nil {
						childOf = last
					} else if ref.Type == tracefmt.FollowsFrom && follows == nil {
						follows = last
					}
				}
			}
			if childOf != nil {
				s.Parent = childOf.SpanID
			} else if follows != nil {
				s.Parent, s.ParentFollowsFrom = follows.SpanID, true
			}
			var a tracefmt.Attrs
			for _, t := range us.Tags {
				str, _ := t.Value.(string)
				switch t.Key {
				case "peer.service", "service.peer.name":
					a.PeerService = str
				case "server.address", "net.peer.name":
					a.ServerAddress = str
				case "db.system", "db.system.name":
					a.DBSystem = str
				case "http.response.status_code", "http.status_code":
					if f, ok := t.Value.(float64); ok {
						a.HTTPStatus = int32(f)
					}
				case "span.kind":
					s.Kind = kindOf(t.Value)
				case "error":
					if t.Value == true || t.Value == "true" {
						s.Status = tracefmt.StatusError
					}
				}
			}
			s.Attrs = &a
			tr.Spans = append(tr.Spans, s)
		}
		out = append(out, tr)
	}
	return out
}

func kindOf(v any) tracefmt.Kind {
	s, _ := v.(string)
	for k := tracefmt.KindInternal; k <= tracefmt.KindConsumer; k++ {
		if k.String() == s || k.String() == lower(s) {
			return k
		}
	}
	return tracefmt.KindUnspecified
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

func decodeHex(dst []byte, s string) error {
	b, err := hex.DecodeString(s)
	if err != nil {
		return err
	}
	copy(dst[len(dst)-len(b):], b)
	return nil
}

// mustAnalyze is Analyze without a deadline: it cannot fail.
func mustAnalyze(traces []tracefmt.Trace, opts Options) *Report {
	r, err := Analyze(context.Background(), traces, opts)
	if err != nil {
		panic(err)
	}
	return r
}

// mustBuildProfile is BuildProfile without a deadline.
func mustBuildProfile(traces []tracefmt.Trace, opts Options, band Band) *Profile {
	p, err := BuildProfile(context.Background(), traces, opts, band)
	if err != nil {
		panic(err)
	}
	return p
}

// mustBuildProfiles is BuildProfiles without a deadline.
func mustBuildProfiles(traces []tracefmt.Trace, opts Options, bands []Band) []*Profile {
	ps, err := BuildProfiles(context.Background(), traces, opts, bands)
	if err != nil {
		panic(err)
	}
	return ps
}
