package tracefmt

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"hopbudget/internal/tracegentest"

	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/encoding/protojson"
)

func TestOTLPJSONHotROD(t *testing.T) {
	path := jtCorpus("hotrod-local/hotrod.otlp.jsonl")
	k := jtDecodeFile(t, decodeOTLPJSON, path)
	traces := k.Traces()
	services := map[string]bool{}
	errs, kinds := 0, map[Kind]int{}
	for _, tr := range traces {
		for _, s := range tr.Spans {
			services[s.Service] = true
			kinds[s.Kind]++
			if s.Status == StatusError {
				errs++
			}
		}
	}
	if len(traces) != 27 || k.Kept() != 1031 || k.Read != 1031 || errs != 66 {
		t.Errorf("got %d traces, %d spans (%d read), %d errors; want 27, 1031, 1031, 66", len(traces), k.Kept(), k.Read, errs)
	}
	want := []string{"customer", "driver", "frontend", "mysql", "redis-manual", "route"}
	if got := slices.Sorted(func(yield func(string) bool) {
		for s := range services {
			yield(s)
		}
	}); !slices.Equal(got, want) {
		t.Errorf("services %v, want %v", got, want)
	}
	if kinds[KindServer]+kinds[KindClient] != 1031 {
		t.Errorf("kinds %v, want only server and client", kinds)
	}
	if len(k.Warnings()) != 0 {
		t.Errorf("warnings: %v", k.Warnings())
	}
	if got := k.Encoding.Names(); !slices.Equal(got, []string{"hex-ids", "enum-numbers"}) {
		t.Errorf("encoding %v", got)
	}
	data, _ := os.ReadFile(path)
	jtOneByte(t, decodeOTLPJSON, data)
}

func TestOTLPJSONCorpusFixtures(t *testing.T) {
	for _, c := range []struct {
		file     string
		kept     int
		rejected map[WarningKind]int
		warn     string // substring of the warnings' examples
		check    func(t *testing.T, spans []*Span)
	}{
		{file: "opentelemetry-proto/trace.json", kept: 1, check: func(t *testing.T, s []*Span) {
			// Upper-case hex IDs; an orphan (parent not in the file).
			jtExpect(t, s[0].TraceID.String(), "5b8efff798038103d269b633813fc60c")
			jtExpect(t, s[0].SpanID.String()+" "+s[0].Parent.String(), "eee19b7ec3c1b174 eee19b7ec3c1b173")
			jtExpect(t, s[0].Service+" "+s[0].Operation+" "+s[0].Kind.String(), "my.service I'm a server span server")
			jtExpect(t, s[0].Duration(), int64(1e9))
		}},
		{file: "jaeger/fixtures/query-otlp2jaeger-in.json", kept: 2, check: func(t *testing.T, s []*Span) {
			jtExpect(t, s[0].SpanID, s[1].SpanID) // duplicates are kept; analysis decides
			jtExpect(t, s[0].Attrs.PeerService, "telemetrygen-client")
			jtExpect(t, s[0].Attrs, s[1].Attrs) // interned: one *Attrs
		}},
		{file: "jaeger/fixtures/integration-traces_example_trace.json", kept: 5, check: func(t *testing.T, s []*Span) {
			var svcs []string
			for _, sp := range s {
				svcs = append(svcs, sp.Service)
				jtExpect(t, sp.Parent.IsZero(), true)
			}
			jtExpect(t, strings.Join(svcs, ","), "example-service-2,example-service-3,example-service-1,example-service-1,example-service-1")
		}},
		{file: "jaeger/fixtures/integration-traces_link_attributes_trace.json", kept: 1, check: func(t *testing.T, s []*Span) {
			jtExpect(t, fmt.Sprint(s[0].Refs), "[{000000000000000000000000000000ff 00000000000000ff follows-from} "+
				"{00000000000000000000000000000001 0000000000000002 follows-from} {00000000000000000000000000000001 0000000000000002 follows-from}]")
		}},
		{file: "jaeger/fixtures/integration-traces_log_tags_trace.json", kept: 1},
		{file: "jaeger/fixtures/cassandra-otel_traces_01.json", kept: 1, check: func(t *testing.T, s []*Span) {
			jtExpect(t, s[0].Status, StatusError)
			jtExpect(t, len(s[0].Refs), 2)
			jtExpect(t, s[0].Attrs.PeerService, "service-y")
			jtExpect(t, s[0].Duration(), int64(5000))
		}},
		// No start or end time.
		{file: "jaeger/fixtures/apiv3-snapshot-GetTrace.json", rejected: map[WarningKind]int{WarnInvalidTime: 1},
			warn: "apiv3-snapshot-GetTrace.json: line 10, offset 169: result.resourceSpans[0].scopeSpans[0].spans[0].startTimeUnixNano: missing (span rejected)"},
		{file: "jaeger-ui/fixtures/otlp2jaeger-multi-in.jsonl", kept: 4, check: func(t *testing.T, s []*Span) {
			jtExpect(t, s[3].Operation+" "+s[3].Parent.String(), "main 0000000000000000") // "parentSpanId": ""
		}},
		{file: "jaeger-ui/fixtures/otlp2jaeger-in-error.json", kept: 1, warn: "no service name; using unknown_service",
			check: func(t *testing.T, s []*Span) { jtExpect(t, s[0].Service, UnknownService) }},
	} {
		t.Run(filepath.Base(c.file), func(t *testing.T) {
			k := jtDecodeFile(t, decodeOTLPJSON, jtCorpus(c.file))
			if k.Kept() != c.kept || !jtSameCounts(k.Rejected, c.rejected) {
				t.Errorf("kept %d, rejected %v; want %d, %v", k.Kept(), k.Rejected, c.kept, c.rejected)
			}
			jtWarned(t, k, c.warn)
			if c.check != nil && k.Kept() == c.kept {
				var spans []*Span
				for _, tr := range k.Traces() {
					spans = append(spans, tr.Spans...)
				}
				c.check(t, spans)
			}
		})
	}
}

func jtExpect[T any](t *testing.T, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func jtSameCounts(got, want map[WarningKind]int) bool {
	for k, v := range got {
		if want[k] != v {
			return false
		}
	}
	for k, v := range want {
		if got[k] != v {
			return false
		}
	}
	return true
}

// jtWarned checks some warning example contains want ("" = no warnings).
func jtWarned(t *testing.T, k *Sink, want string) {
	t.Helper()
	ws := k.Warnings()
	if want == "" {
		if len(ws) > 0 {
			t.Errorf("unexpected warnings %v", ws)
		}
		return
	}
	for _, w := range ws {
		if strings.Contains(w.Example, want) {
			return
		}
	}
	t.Errorf("no warning contains %q: %v", want, ws)
}

// jtReference reads a tracegen otlp-protojson file with protojson, the
// independent reference. In jaeger mode the parent edge of a span that also
// links to its parent counts as FOLLOWS_FROM, as Jaeger writes it.
func jtReference(t *testing.T, path string, jaeger bool) []jtView {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var td tracepb.TracesData
	if err := protojson.Unmarshal(data, &td); err != nil {
		t.Fatal(err)
	}
	k := NewSink() // only for its interning, so that views compare equal
	var out []jtView
	for _, rs := range td.ResourceSpans {
		svc := ""
		for _, a := range rs.Resource.GetAttributes() {
			if a.Key == "service.name" {
				svc = a.Value.GetStringValue()
			}
		}
		for _, ss := range rs.ScopeSpans {
			for _, s := range ss.Spans {
				v := jtView{Service: svc, Op: s.Name, Kind: Kind(s.Kind), Status: StatusCode(s.Status.GetCode()),
					StartUs: int64(s.StartTimeUnixNano / 1000), DurUs: int64(s.EndTimeUnixNano-s.StartTimeUnixNano) / 1000}
				copy(v.Trace[:], s.TraceId)
				copy(v.Span[:], s.SpanId)
				copy(v.Parent[:], s.ParentSpanId)
				for _, a := range s.Attributes {
					str, n := a.Value.GetStringValue(), a.Value.GetIntValue()
					switch a.Key {
					case "http.request.method":
						v.Attrs.HTTPMethod = str
					case "http.route":
						v.Attrs.HTTPRoute = str
					case "http.response.status_code":
						v.Attrs.HTTPStatus = int32(n)
					case "rpc.system":
						v.Attrs.RPCSystem = str
					case "rpc.service":
						v.Attrs.RPCService = str
					case "rpc.method":
						v.Attrs.RPCMethod = str
					case "server.address":
						v.Attrs.ServerAddress = str
					case "peer.service":
						v.Attrs.PeerService = str
					case "db.system":
						v.Attrs.DBSystem = str
					case "messaging.system":
						v.Attrs.Messaging = str
					}
				}
				for _, l := range s.Links {
					var r Ref
					copy(r.TraceID[:], l.TraceId)
					copy(r.SpanID[:], l.SpanId)
					v.Follows += r.TraceID.String() + "/" + r.SpanID.String() + " "
					if jaeger && r.TraceID == v.Trace && r.SpanID == v.Parent {
						v.ParentFollowsFrom = true
					}
				}
				v.Attrs = *k.InternAttrs(&v.Attrs)
				out = append(out, v)
			}
		}
	}
	slices.SortFunc(out, func(a, b jtView) int {
		if a.Trace != b.Trace {
			return bytes.Compare(a.Trace[:], b.Trace[:])
		}
		if c := bytes.Compare(a.Span[:], b.Span[:]); c != 0 {
			return c
		}
		return int(a.StartUs - b.StartUs)
	})
	return out
}

// jtGenerated is tracegen's mixed scenario in every JSON format (and
// jaeger-proto, to be rendered as protobuf JSON).
func jtGenerated(t *testing.T) string {
	return tracegentest.Generate(t, "-scenario", "mixed", "-traces", "300", "-seed", "3",
		"-format", "otlp-json,otlp-jsonl,otlp-protojson,jaeger-json,jaeger-proto")
}

// Every JSON format tracegen writes yields the spans protojson reads.
func TestJSONFormatsAgreeWithProtojson(t *testing.T) {
	dir := jtGenerated(t)
	ref := jtReference(t, filepath.Join(dir, "traces.protojson.json"), false)
	jaegerRef := jtReference(t, filepath.Join(dir, "traces.protojson.json"), true)
	if len(ref) < 3000 {
		t.Fatalf("only %d spans in the reference", len(ref))
	}
	for _, c := range []struct {
		file string
		dec  Decoder
		enc  []string
		ref  []jtView
	}{
		{"traces.otlp.json", decodeOTLPJSON, []string{"hex-ids", "enum-numbers"}, ref},
		{"traces.otlp.jsonl", decodeOTLPJSON, []string{"hex-ids", "enum-numbers"}, ref},
		{"traces.protojson.json", decodeOTLPJSON, []string{"base64-ids", "enum-names"}, ref},
		{"traces.jaeger.json", decodeJaegerJSON, []string{"hex-ids"}, jaegerRef},
	} {
		k := jtDecodeFile(t, c.dec, filepath.Join(dir, c.file))
		jtCompare(t, c.file, jtViews(k), c.ref)
		jtExpect(t, k.Encoding.Names(), c.enc)
		jtWarned(t, k, "")
	}
}

// A hand-written document in the other spellings OTLP/JSON readers meet:
// snake_case names, base64 IDs, enum names, numbers for int64s, the old
// instrumentation_library_spans, resource after the spans, a KeyValue with
// its value first, and old and new semantic-convention names in both orders.
func TestOTLPJSONSpellings(t *testing.T) {
	doc := `{"resource_spans":[{"instrumentation_library_spans":[{"instrumentation_library":{"name":"x"},"spans":[
	{"trace_id":"AAECAwQFBgcICQoLDA0ODw==","span_id":"AQIDBAUGBwg","parent_span_id":"","name":"a","kind":"SPAN_KIND_PRODUCER",
	 "start_time_unix_nano":1700000000000000000,"end_time_unix_nano":"1700000000000001000",
	 "status":{"message":"x","code":"STATUS_CODE_ERROR"},
	 "attributes":[{"value":{"string_value":"GET"},"key":"http.method"},{"key":"http.request.method","value":{"stringValue":"POST"}},
	   {"key":"db.system.name","value":{"stringValue":"pg"}},{"key":"db.system","value":{"stringValue":"postgresql"}},
	   {"key":"http.status_code","value":{"int_value":404}},{"key":"unrelated","value":{"arrayValue":{"values":[{"stringValue":"x"}]}}},
	   {"key":"messaging.system","value":{"kvlistValue":{"values":[]}}},{"key":"rpc.method","value":{"bytesValue":"AAE="}}],
	 "links":[{"trace_id":"000102030405060708090a0b0c0d0e0f","span_id":"0102030405060709","attributes":[]}],
	 "events":[{"name":"e","attributes":[{"key":"k","value":{"stringValue":"}]"}}]}]}
	]}],"resource":{"attributes":[{"key":"service.name","value":{"string_value":"svc"}}]}}]}`
	k, de := jtDecodeErr(t, decodeOTLPJSON, []byte(doc))
	if de != nil {
		t.Fatal(de)
	}
	tr := k.Traces()
	if len(tr) != 1 || len(tr[0].Spans) != 1 {
		t.Fatalf("got %d traces", len(tr))
	}
	s := tr[0].Spans[0]
	jtExpect(t, s.TraceID.String()+" "+s.SpanID.String(), "000102030405060708090a0b0c0d0e0f 0102030405060708")
	jtExpect(t, s.Service+" "+s.Kind.String()+" "+s.Status.String(), "svc producer error")
	jtExpect(t, s.Duration(), int64(1000))
	jtExpect(t, *s.Attrs, Attrs{HTTPMethod: "POST", DBSystem: "pg", HTTPStatus: 404})
	jtExpect(t, fmt.Sprint(s.Refs), "[{000102030405060708090a0b0c0d0e0f 0102030405060709 follows-from}]")
	jtExpect(t, k.Encoding.Names(), []string{"hex-ids", "base64-ids", "enum-names"})
}

// jtOTLPDoc builds a pretty-printed document with the given spans (JSON
// objects) as resourceSpans[0].scopeSpans[1].spans; scopeSpans[0] is empty.
func jtOTLPDoc(spans ...string) []byte {
	return []byte(`{
  "resourceSpans": [{
    "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "svc"}}]},
    "scopeSpans": [{"spans": []}, {
      "spans": [
        ` + strings.Join(spans, ",\n        ") + `
      ]
    }]
  }]
}`)
}

// jtOTLPSpan is a valid span with the fields in repl replaced (JSON text).
func jtOTLPSpan(repl ...string) string {
	f := map[string]string{"traceId": `"0102030405060708090a0b0c0d0e0f10"`, "spanId": `"0102030405060708"`,
		"name": `"op"`, "startTimeUnixNano": `"1000"`, "endTimeUnixNano": `"2000"`}
	order := []string{"traceId", "spanId", "name", "startTimeUnixNano", "endTimeUnixNano"}
	for i := 0; i+1 < len(repl); i += 2 {
		if _, ok := f[repl[i]]; !ok {
			order = append(order, repl[i])
		}
		f[repl[i]] = repl[i+1]
	}
	var parts []string
	for _, k := range order {
		if v := f[k]; v != "" {
			parts = append(parts, `"`+k+`": `+v)
		}
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

func TestOTLPJSONBadSpans(t *testing.T) {
	ok := jtOTLPSpan()
	for _, c := range []struct {
		name     string
		span     string
		kept     int
		rejected WarningKind
		warn     string
	}{
		{"short span ID", jtOTLPSpan("spanId", `"12ab"`), 0, WarnInvalidSpanID,
			`in.json: POS: resourceSpans[0].scopeSpans[1].spans[4].spanId: want 16 hex digits or base64 of 8 bytes, got "12ab" (span rejected)`},
		{"non-hex trace ID", jtOTLPSpan("traceId", `"0102030405060708090a0b0c0d0e0fxx"`), 0, WarnInvalidTraceID,
			`spans[4].traceId: want 32 hex digits or base64 of 16 bytes, got "0102030405060708090a0b0c0d0e0fxx" (span rejected)`},
		{"zero span ID", jtOTLPSpan("spanId", `"0000000000000000"`), 0, WarnInvalidSpanID,
			`resourceSpans[0].scopeSpans[1].spans[4]: span ID is all zeros (span rejected)`},
		{"number trace ID", jtOTLPSpan("traceId", `12`), 0, WarnInvalidTraceID, `traceId: want 32 hex digits or base64 of 16 bytes, got a number`},
		{"missing span ID", jtOTLPSpan("spanId", ``), 0, WarnInvalidSpanID, `spans[4].spanId: missing (span rejected)`},
		{"null trace ID", jtOTLPSpan("traceId", `null`), 0, WarnInvalidTraceID, `spans[4].traceId: missing`},
		{"missing end", jtOTLPSpan("endTimeUnixNano", ``), 0, WarnInvalidTime, `spans[4].endTimeUnixNano: missing`},
		{"bad start", jtOTLPSpan("startTimeUnixNano", `"soon"`), 0, WarnInvalidTime, `startTimeUnixNano: want Unix nanoseconds, got "soon"`},
		{"start beyond int64", jtOTLPSpan("startTimeUnixNano", `"18446744073709551615"`), 0, WarnInvalidTime, `got "18446744073709551615"`},
		{"zero start", jtOTLPSpan("startTimeUnixNano", `"0"`), 0, WarnInvalidTime, `startTimeUnixNano: missing`},
		{"bad parent", jtOTLPSpan("parentSpanId", `"xyz"`), 1, "",
			`spans[4].parentSpanId: want 16 hex digits or base64 of 8 bytes, got "xyz"; treated as a root span`},
		{"end before start", jtOTLPSpan("endTimeUnixNano", `"500"`), 1, "", `end is 500ns before start`},
		{"bad link", jtOTLPSpan("links", `[{"traceId":"0102030405060708090a0b0c0d0e0f10"}]`), 1, "", `spans[4].links[0].spanId: missing (link dropped)`},
		{"unknown kind", jtOTLPSpan("kind", `"SPAN_KIND_SIDEWAYS"`), 1, "", `spans[4].kind: unknown value "SPAN_KIND_SIDEWAYS" (ignored)`},
		{"kind out of range", jtOTLPSpan("kind", `9`), 1, "", `spans[4].kind: unknown value 9 (ignored)`},
		{"status code object", jtOTLPSpan("status", `{"code":{}}`), 1, "", `spans[4].status.code: unknown value an object (ignored)`},
		{"name not a string", jtOTLPSpan("name", `7`), 1, "", `spans[4].name: want a string, got a number (ignored)`},
	} {
		t.Run(c.name, func(t *testing.T) {
			doc := jtOTLPDoc(ok, ok, ok, ok, c.span, ok)
			k, de := jtDecodeErr(t, decodeOTLPJSON, doc)
			if de != nil {
				t.Fatal(de)
			}
			at := bytes.Index(doc, []byte(c.span)) // the span's position is named in warnings
			c.warn = strings.Replace(c.warn, "POS", fmt.Sprintf("line %d, offset %d", 1+bytes.Count(doc[:at], []byte("\n")), at), 1)
			if k.Read != 6 || k.Kept() != 5+c.kept || c.rejected != "" && k.Rejected[c.rejected] != 1 {
				t.Errorf("read %d, kept %d, rejected %v", k.Read, k.Kept(), k.Rejected)
			}
			jtWarned(t, k, c.warn)
		})
	}
}

func TestOTLPJSONMalformed(t *testing.T) {
	for _, c := range []struct {
		name, doc string
		err       string
	}{
		{"spans is an object", `{"resourceSpans":[{"scopeSpans":[{"spans":{}}]}]}`,
			`reading in.json: line 1, offset 42: resourceSpans[0].scopeSpans[0].spans: want '[', got '{'`},
		{"resourceSpans is a string", `{"resourceSpans":"x"}`, `reading in.json: line 1, offset 17: resourceSpans: want '[', got '"'`},
		{"top level array", `[{"resourceSpans":[]}]`, `reading in.json: line 1, offset 0: want '{' (an OTLP/JSON TracesData object), got '['`},
		{"garbage after a document", "{}\n{}\nxyz", `reading in.json: line 3, offset 6: want '{' (an OTLP/JSON TracesData object), got 'x'`},
		{"missing comma", `{"resourceSpans":[{"resource":{} "scopeSpans":[]}]}`, `reading in.json: line 1, offset 33: resourceSpans[0].resource: want ',' or '}', got '"'`},
		{"bad escape in a skipped string", `{"x":"\q"}`, `reading in.json: line 1, offset 7: x: invalid escape '\q'`},
		{"truncated in a skipped value", `{"resourceSpans":[{"scopeSpans":[{"spans":[{"events":[{"name":"a"`,
			`reading in.json: line 1, offset 65: resourceSpans[0].scopeSpans[0].spans[0].events: unexpected end of input`},
		{"empty input", "", ""},
		{"whitespace only", " \n\t ", ""},
		{"null resourceSpans", `{"resourceSpans":null}{"resourceSpans":[null]}`, ""},
		{"byte order mark", "\xef\xbb\xbf{}", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, de := jtDecodeErr(t, decodeOTLPJSON, []byte(c.doc))
			got := ""
			if de != nil {
				got = de.Error()
			}
			if got != c.err {
				t.Errorf("got  %s\nwant %s", got, c.err)
			}
			jtOneByte(t, decodeOTLPJSON, []byte(c.doc))
		})
	}
}

func TestOTLPJSONTruncated(t *testing.T) {
	for _, f := range []string{"opentelemetry-proto/trace.json", "jaeger/fixtures/cassandra-otel_traces_01.json"} {
		data, err := os.ReadFile(jtCorpus(f))
		if err != nil {
			t.Fatal(err)
		}
		jtTruncations(t, decodeOTLPJSON, data, len(data)) // every cut
	}
	// The first line of the HotROD export: a cut inside a span names it.
	data, _ := os.ReadFile(jtCorpus("hotrod-local/hotrod.otlp.jsonl"))
	line, _, _ := bytes.Cut(data, []byte("\n"))
	jtTruncations(t, decodeOTLPJSON, line, 300)
	cut := bytes.Index(line, []byte(`"startTimeUnixNano"`))
	_, de := jtDecodeErr(t, decodeOTLPJSON, line[:cut])
	jtExpect(t, de.Error(), fmt.Sprintf("reading in.json: line 1, offset %d: resourceSpans[0].scopeSpans[0].spans[0].kind: unexpected end of input", cut))
	// Whole lines of a JSON Lines file are a valid prefix.
	i := bytes.Index(data, []byte("\n{")) + 1
	k, de := jtDecodeErr(t, decodeOTLPJSON, data[:i])
	if de != nil || k.Kept() == 0 {
		t.Errorf("first line alone: %v, %d spans", de, k.Kept())
	}
}

// Spans read before their resource are held until the ResourceSpans ends;
// their warnings still name them.
func TestOTLPJSONResourceLast(t *testing.T) {
	doc := `{"resourceSpans":[{"scope_spans":[{"spans":[` + jtOTLPSpan() + `,` + jtOTLPSpan("spanId", `"0000000000000000"`) + `]}],` +
		`"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"late"}}]},` +
		`"scopeSpans":[{"spans":[` + jtOTLPSpan("spanId", `"0a0a0a0a0a0a0a0a"`) + `]}]},` +
		`{"scopeSpans":[{"spans":[` + jtOTLPSpan("spanId", `"0b0b0b0b0b0b0b0b"`) + `]}]}]}`
	k, de := jtDecodeErr(t, decodeOTLPJSON, []byte(doc))
	if de != nil {
		t.Fatal(de)
	}
	var got []string
	for _, s := range k.Traces()[0].Spans {
		got = append(got, s.SpanID.String()+" "+s.Service)
	}
	// Input order is kept: the held span, then the one after the resource.
	jtExpect(t, got, []string{"0102030405060708 late", "0a0a0a0a0a0a0a0a late", "0b0b0b0b0b0b0b0b unknown_service"})
	at := strings.Index(doc, jtOTLPSpan("spanId", `"0000000000000000"`))
	jtWarned(t, k, fmt.Sprintf("in.json: line 1, offset %d: resourceSpans[0].scope_spans[0].spans[1]: span ID is all zeros", at))
	jtWarned(t, k, "resourceSpans[1].scopeSpans[0].spans[0]: no service name")
}
