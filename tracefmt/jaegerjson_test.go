package tracefmt

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The Jaeger query service's conversion of the HotROD OTLP export gives the
// same spans as the export itself.
func TestJaegerJSONHotRODMatchesOTLP(t *testing.T) {
	otlp := jtViews(jtDecodeFile(t, decodeOTLPJSON, jtCorpus("hotrod-local/hotrod.otlp.jsonl")))
	files, _ := filepath.Glob(jtCorpus("hotrod-local/jaeger-ui-json/*.json"))
	if len(files) < 3 {
		t.Fatalf("want at least 3 HotROD Jaeger files, found %d", len(files))
	}
	for _, f := range files {
		k := jtDecodeFile(t, decodeJaegerJSON, f)
		jtWarned(t, k, "")
		got := jtViews(k)
		id := strings.TrimSuffix(filepath.Base(f), ".json")
		var want []jtView
		for _, v := range otlp {
			if v.Trace.String() == id {
				want = append(want, v)
			}
		}
		if len(want) == 0 {
			t.Errorf("%s: trace not in the OTLP export", id)
		}
		jtCompare(t, id, got, want)
	}
}

func TestJaegerJSONCorpusFixtures(t *testing.T) {
	for _, c := range []struct {
		file    string
		kept    int
		nonHex  int
		warn    string
		check   func(t *testing.T, k *Sink, spans []*Span)
		aliases int
	}{
		{file: "jaeger/fixtures/anonymizer-trace_success.json", kept: 2, check: func(t *testing.T, k *Sink, s []*Span) {
			// An array of spans with inline processes and 64-bit trace IDs.
			jtExpect(t, s[0].TraceID.String(), "00000000000000002be38093ead7a083")
			jtExpect(t, s[0].Service+" "+s[1].Service, "16af988c443cff37 3c220036602f839e")
			jtExpect(t, s[1].Parent, s[0].SpanID)
			jtExpect(t, s[1].Status, StatusError) // "error" tag given as the string "true"
			jtExpect(t, s[0].Kind.String()+" "+s[1].Kind.String(), "server client")
		}},
		{file: "jaeger/fixtures/query-otlp2jaeger-out.json", kept: 2, check: func(t *testing.T, k *Sink, s []*Span) {
			jtExpect(t, s[0].SpanID, s[1].SpanID)
			jtExpect(t, s[0].Parent.String(), "909541b92cf05311")
			jtExpect(t, s[0].Service+" "+s[0].Attrs.PeerService, "telemetrygen telemetrygen-client")
		}},
		{file: "jaeger-ui/fixtures/tracegraph-testTrace.json", kept: 11, nonHex: 11, aliases: 12,
			warn: "tracegraph-testTrace.json: line 4, offset 45: spans[0]: IDs are not hex; kept under a stable hash of their text",
			check: func(t *testing.T, k *Sink, s []*Span) {
				byText := map[string]*Span{}
				for _, sp := range s {
					byText[k.Aliases[string(sp.SpanID[:])]] = sp
				}
				jtExpect(t, k.Aliases[string(s[0].TraceID[:])], "trace-123")
				jtExpect(t, byText["span-2"].Parent, byText["span-1"].SpanID)
				jtExpect(t, byText["span-2"].Status, StatusError)
				jtExpect(t, byText["span-12"].Service, "service1")
				var follows []string
				for _, sp := range s {
					if sp.ParentFollowsFrom {
						follows = append(follows, k.Aliases[string(sp.SpanID[:])]+"<"+k.Aliases[string(sp.Parent[:])]+" "+sp.Service+" "+sp.Kind.String())
					}
				}
				jtExpect(t, strings.Join(follows, ","), "span-7<span-6 service2 consumer")
			}},
		{file: "jaeger-ui/fixtures/genaiTestTrace.json", kept: 57, check: func(t *testing.T, k *Sink, s []*Span) {
			svcs := map[string]bool{}
			for _, sp := range s {
				svcs[sp.Service] = true
			}
			jtExpect(t, len(svcs), 10)
		}},
		{file: "jaeger-ui/fixtures/oltp2jaeger-multi-out.json", kept: 4},
		// Spans and references without traceID: the trace object's is used.
		{file: "jaeger-ui-critical-path/ui-testcases/test1.input.json", kept: 3, nonHex: 3, aliases: 4, warn: "data[0].spans[0]: IDs are not hex",
			check: func(t *testing.T, k *Sink, s []*Span) {
				jtExpect(t, k.Aliases[string(s[0].TraceID[:])], "test1-trace")
				jtExpect(t, s[0].Parent, s[1].SpanID)
				jtExpect(t, s[0].Refs[0].TraceID, s[0].TraceID)
				jtExpect(t, s[0].Start, int64(50000))
			}},
	} {
		t.Run(filepath.Base(c.file), func(t *testing.T) {
			k := jtDecodeFile(t, decodeJaegerJSON, jtCorpus(c.file))
			if k.Kept() != c.kept || k.RejectedTotal() != 0 {
				t.Errorf("kept %d, rejected %v; want %d", k.Kept(), k.Rejected, c.kept)
			}
			n := 0
			for _, w := range k.Warnings() {
				if w.Kind == WarnNonHexID {
					n = w.Count
				}
			}
			if n != c.nonHex || len(k.Aliases) != c.aliases {
				t.Errorf("%d non-hex warnings, %d aliases; want %d, %d", n, len(k.Aliases), c.nonHex, c.aliases)
			}
			jtWarned(t, k, c.warn)
			var spans []*Span
			for _, tr := range k.Traces() {
				spans = append(spans, tr.Spans...)
			}
			if c.check != nil && len(spans) == c.kept {
				c.check(t, k, spans)
			}
			data, _ := os.ReadFile(jtCorpus(c.file))
			jtOneByte(t, decodeJaegerJSON, data)
		})
	}
}

// jtJSpan is a Jaeger JSON span with fields replaced (JSON text; "" drops).
func jtJSpan(id string, repl ...string) string {
	f := map[string]string{"traceID": `"00000000000000aa"`, "spanID": `"` + id + `"`, "operationName": `"op"`,
		"startTime": `1000`, "duration": `10`, "processID": `"p1"`}
	order := []string{"traceID", "spanID", "operationName", "startTime", "duration", "processID"}
	for i := 0; i+1 < len(repl); i += 2 {
		if _, ok := f[repl[i]]; !ok {
			order = append(order, repl[i])
		}
		f[repl[i]] = repl[i+1]
	}
	var parts []string
	for _, k := range order {
		if v := f[k]; v != "" {
			parts = append(parts, `"`+k+`":`+v)
		}
	}
	return "{" + strings.Join(parts, ",") + "}"
}

const jtProcs = `"processes":{"p1":{"serviceName":"one","tags":[]},"p2":{"serviceName":"two"}}`

func TestJaegerJSONShapes(t *testing.T) {
	a, b := jtJSpan("01"), jtJSpan("02", "processID", `"p2"`)
	trace := `{"traceID":"00000000000000aa","spans":[` + a + `,` + b + `],` + jtProcs + `}`
	for _, c := range []struct {
		name, doc string
		services  string
	}{
		{"data wrapper", `{"data":[` + trace + `],"total":0,"limit":0,"offset":0,"errors":null}`, "one,two"},
		{"processes first", `{"data":[{` + jtProcs + `,"spans":[` + a + `,` + b + `]}]}`, "one,two"},
		{"bare trace", trace, "one,two"},
		{"array of traces", `[` + trace + `,` + trace + `]`, "one,two,one,two"},
		{"JSON Lines", trace + "\n" + `{"data":[` + trace + `]}` + "\n", "one,two,one,two"},
		{"array of spans with processes", `[` + jtJSpan("01", "process", `{"serviceName":"x"}`, "processID", "") + `,` +
			jtJSpan("02", "process", `{"serviceName":"y","tags":[{"key":"a","type":"string","value":"b"}]}`) + `]`, "x,y"},
		{"inline process wins over processID", `{"spans":[` + jtJSpan("01", "process", `{"serviceName":"inline"}`) + `],` + jtProcs + `}`, "inline"},
		{"unknown process", `{"spans":[` + jtJSpan("01", "processID", `"p9"`) + `],` + jtProcs + `}`, UnknownService},
		{"nulls", `{"data":null}` + `[null]` + `{"data":[null,{"spans":null,"processes":null}]}`, ""},
		{"empty", "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			k, de := jtDecodeErr(t, decodeJaegerJSON, []byte(c.doc))
			if de != nil {
				t.Fatal(de)
			}
			var svcs []string
			for _, tr := range k.Traces() {
				for _, s := range tr.Spans {
					svcs = append(svcs, s.Service)
				}
			}
			jtExpect(t, strings.Join(svcs, ","), c.services)
			jtOneByte(t, decodeJaegerJSON, []byte(c.doc))
		})
	}
}

func TestJaegerJSONReferences(t *testing.T) {
	ref := func(typ, trace, span string) string {
		return fmt.Sprintf(`{"refType":%q,"traceID":%q,"spanID":%q}`, typ, trace, span)
	}
	const tr, other = "00000000000000aa", "00000000000000bb"
	for _, c := range []struct {
		name, refs, parent, refsOut string
		follows                     bool
		warn                        string
	}{
		{"child of", ref("CHILD_OF", tr, "0a"), "000000000000000a", "[child-of:0a]", false, ""},
		{"first child of wins over an earlier follows from", ref("FOLLOWS_FROM", tr, "0b") + "," + ref("CHILD_OF", tr, "0a") + "," + ref("CHILD_OF", tr, "0c"),
			"000000000000000a", "[follows-from:0b child-of:0a child-of:0c]", false, ""},
		{"follows from only", ref("FOLLOWS_FROM", tr, "0b"), "000000000000000b", "[follows-from:0b]", true, ""},
		{"other trace is not a parent", ref("CHILD_OF", other, "0a") + "," + ref("FOLLOWS_FROM", tr, "0b"),
			"000000000000000b", "[child-of:0a follows-from:0b]", true, ""},
		{"missing refType is CHILD_OF", `{"traceID":"` + tr + `","spanID":"0a"}`, "000000000000000a", "[child-of:0a]", false, ""},
		{"missing traceID is the span's", `{"refType":"CHILD_OF","spanID":"0a"}`, "000000000000000a", "[child-of:0a]", false, ""},
		{"self reference is not a parent", ref("CHILD_OF", tr, "01"), "0000000000000000", "[child-of:01]", false, ""},
		{"unknown type", ref("SIBLING_OF", tr, "0a"), "0000000000000000", "[]", false,
			"in.json: line 1, offset 10: spans[0].references[0].refType: not CHILD_OF or FOLLOWS_FROM (reference dropped)"},
		{"refType not a string", `{"refType":0,"traceID":"` + tr + `","spanID":"0a"}`, "0000000000000000", "[]", false,
			"spans[0].references[0].refType: not CHILD_OF or FOLLOWS_FROM (reference dropped)"},
		{"missing span ID", `{"refType":"CHILD_OF","traceID":"` + tr + `"}`, "0000000000000000", "[]", false,
			"spans[0].references[0].spanID: missing (reference dropped)"},
		{"non-hex", ref("CHILD_OF", tr, "parent"), "", "", false, "spans[0]: IDs are not hex"},
	} {
		t.Run(c.name, func(t *testing.T) {
			doc := `{"spans":[` + jtJSpan("01", "references", "["+c.refs+"]") + `],` + jtProcs + `}`
			k, de := jtDecodeErr(t, decodeJaegerJSON, []byte(doc))
			if de != nil || k.Kept() != 1 {
				t.Fatalf("%v, %d kept", de, k.Kept())
			}
			s := k.Traces()[0].Spans[0]
			jtWarned(t, k, c.warn)
			if c.parent == "" { // non-hex: the alias of the same text
				jtExpect(t, s.Parent, k.AliasSpanID([]byte("parent")))
				return
			}
			var refs []string
			for _, r := range s.Refs { // type and the last two hex digits of the span ID
				refs = append(refs, r.Type.String()+":"+r.SpanID.String()[14:])
			}
			jtExpect(t, s.Parent.String(), c.parent)
			jtExpect(t, s.ParentFollowsFrom, c.follows)
			jtExpect(t, fmt.Sprint(refs), c.refsOut)
		})
	}
}

func TestJaegerJSONTags(t *testing.T) {
	for _, c := range []struct {
		name, tags string
		kind       Kind
		status     StatusCode
		attrs      Attrs
	}{
		{"kind and error", `{"key":"span.kind","type":"string","value":"producer"},{"key":"error","type":"bool","value":true}`, KindProducer, StatusError, Attrs{}},
		{"error as string", `{"key":"error","type":"bool","value":"true"}`, 0, StatusError, Attrs{}},
		{"error false", `{"key":"error","type":"bool","value":false}`, 0, StatusUnset, Attrs{}},
		{"otel status", `{"key":"otel.status_code","type":"string","value":"OK"}`, 0, StatusOK, Attrs{}},
		{"error wins", `{"key":"otel.status_code","type":"string","value":"OK"},{"key":"error","value":true}`, 0, StatusError, Attrs{}},
		{"attributes", `{"key":"http.status_code","type":"int64","value":"503"},{"key":"http.response.status_code","type":"int64","value":502},` +
			`{"key":"http.method","type":"string","value":"GET"},{"key":"net.peer.name","value":"old"},{"key":"server.address","value":"new"},` +
			`{"key":"peer.service","value":"p"},{"key":"rpc.system","value":"grpc"},{"key":"messaging.system","value":7}`,
			0, 0, Attrs{HTTPStatus: 502, HTTPMethod: "GET", ServerAddress: "new", PeerService: "p", RPCSystem: "grpc"}},
		{"value before key", `{"value":"client","key":"span.kind"},{"type":"string","value":"/x","key":"http.route"}`, KindClient, 0, Attrs{HTTPRoute: "/x"}},
		{"odd values", `{"key":"span.kind","value":{"x":1}},{"key":"http.route","value":[1]},{"key":"unrelated","value":{"a":[{}]}}`, 0, 0, Attrs{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			doc := `{"spans":[` + jtJSpan("01", "tags", "["+c.tags+"]") + `],` + jtProcs + `}`
			k, de := jtDecodeErr(t, decodeJaegerJSON, []byte(doc))
			if de != nil || k.Kept() != 1 {
				t.Fatalf("%v, %d kept", de, k.Kept())
			}
			s := k.Traces()[0].Spans[0]
			jtExpect(t, s.Kind, c.kind)
			jtExpect(t, s.Status, c.status)
			jtExpect(t, *s.Attrs, c.attrs)
		})
	}
	k, _ := jtDecodeErr(t, decodeJaegerJSON, []byte(`{"spans":[`+jtJSpan("01", "operationName", "{}")+`]}`))
	jtWarned(t, k, "in.json: line 1, offset 10: spans[0].operationName: want a string, got an object (ignored)")
}

func TestJaegerJSONBadSpans(t *testing.T) {
	for _, c := range []struct {
		name, doc string
		rejected  WarningKind
		warn      string
	}{
		{"missing span ID", `{"spans":[` + jtJSpan("") + `]}`, WarnInvalidSpanID, `in.json: line 1, offset 10: spans[0].spanID: missing (span rejected)`},
		{"missing start", `{"data":[{"spans":[` + jtJSpan("01", "startTime", "") + `]}]}`, WarnInvalidTime, `line 1, offset 19: data[0].spans[0].startTime: missing (span rejected)`},
		{"missing duration", `[` + jtJSpan("01", "duration", "null") + `]`, WarnInvalidTime, `[0].duration: missing (span rejected)`},
		{"negative start", jtJSpan("01", "startTime", "-5"), WarnInvalidTime, `in.json: line 1, offset 0: startTime: want microseconds, got -5 (span rejected)`},
		{"huge start", jtJSpan("01", "startTime", "1e300"), WarnInvalidTime, `startTime: want microseconds, got "1e300"`},
		{"string start", jtJSpan("01", "startTime", `"soon"`), WarnInvalidTime, `startTime: want microseconds, got "soon"`},
		{"no trace ID anywhere", `{"spans":[` + jtJSpan("01", "traceID", "") + `]}`, WarnInvalidTraceID, `spans[0].traceID: missing (span rejected)`},
		{"trace ID of a wrong type", `{"spans":[` + jtJSpan("01", "traceID", "[]") + `]}`, WarnInvalidTraceID, `spans[0].traceID: want hex digits, got an array (span rejected)`},
		{"zero span ID", `{"spans":[` + jtJSpan("0000") + `]}`, WarnInvalidSpanID, `spans[0]: span ID is all zeros (span rejected)`},
		{"end overflows", jtJSpan("01", "startTime", "9000000000000000", "duration", "9000000000000000"), WarnInvalidTime, "duration: end time out of range"},
	} {
		t.Run(c.name, func(t *testing.T) {
			k, de := jtDecodeErr(t, decodeJaegerJSON, []byte(c.doc))
			if de != nil {
				t.Fatal(de)
			}
			if k.Read != 1 || k.Rejected[c.rejected] != 1 {
				t.Errorf("read %d, rejected %v", k.Read, k.Rejected)
			}
			jtWarned(t, k, c.warn)
		})
	}
}

func TestJaegerJSONMalformed(t *testing.T) {
	for _, c := range []struct{ name, doc, err string }{
		{"string at top level", `"x"`, `reading in.json: line 1, offset 0: want '{' or '[', got '"'`},
		{"spans not an array", `{"data":[{"spans":7}]}`, `reading in.json: line 1, offset 18: data[0].spans: want '[', got '7'`},
		{"number in an array of traces", `[{},7]`, `reading in.json: line 1, offset 4: [1]: want '{', got '7'`},
		{"processes not an object", `{"processes":[]}`, `reading in.json: line 1, offset 13: processes: want '{', got '['`},
		{"bad tags", `{"spans":[{"tags":[{"key":"error" "value":1}]}]}`, `reading in.json: line 1, offset 34: spans[0].tags[0].key: want ',' or '}', got '"'`},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, de := jtDecodeErr(t, decodeJaegerJSON, []byte(c.doc))
			got := ""
			if de != nil {
				got = de.Error()
			}
			jtExpect(t, got, c.err)
		})
	}
	for _, f := range []string{"jaeger-ui/fixtures/tracegraph-testTrace.json", "jaeger/fixtures/anonymizer-trace_success.json"} {
		data, _ := os.ReadFile(jtCorpus(f))
		jtTruncations(t, decodeJaegerJSON, data, len(data))
	}
	data, _ := os.ReadFile(jtCorpus("hotrod-local/jaeger-ui-json/3b33644ff344e784a75d9ae4046765de.json"))
	jtTruncations(t, decodeJaegerJSON, data, 500)
}
