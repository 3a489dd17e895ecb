package tracefmt

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/gogo/protobuf/jsonpb"
	model "github.com/jaegertracing/jaeger-idl/model/v1"
)

func TestJaegerProtoJSONCorpus(t *testing.T) {
	for _, c := range []struct {
		file  string
		check func(t *testing.T, s []*Span)
	}{
		{"jaeger/fixtures/model-protojson-domain_01.json", func(t *testing.T, s []*Span) {
			jtExpect(t, len(s), 1)
			jtExpect(t, s[0].TraceID.String()+" "+s[0].SpanID.String()+" "+s[0].Parent.String(),
				"000000000000000052969a8955571a3f 0000000000647d98 000000000068c4e3")
			jtExpect(t, s[0].Start, int64(1485467191639875000)) // 2017-01-26T16:46:31.639875-05:00
			jtExpect(t, s[0].Duration(), int64(22938000))
			jtExpect(t, s[0].Service+" "+s[0].Operation+" "+s[0].Kind.String()+" "+s[0].Attrs.PeerService, "api get server rtapi")
		}},
		{"jaeger/fixtures/model-protojson-domain_02.json", func(t *testing.T, s []*Span) {
			jtExpect(t, len(s), 2)
			jtExpect(t, s[0].ParentFollowsFrom, false)
			jtExpect(t, s[1].ParentFollowsFrom, true)
			jtExpect(t, s[1].Parent.String(), "000000000068c4e3")
			jtExpect(t, s[0].Attrs.PeerService, "") // a BINARY value is not a name
		}},
		{"jaeger/fixtures/model-protojson-domain_03.json", func(t *testing.T, s []*Span) {
			jtExpect(t, len(s), 2)
			// The second span names itself as its parent: kept as a reference only.
			jtExpect(t, s[1].Parent.IsZero(), true)
			jtExpect(t, len(s[1].Refs), 1)
		}},
	} {
		t.Run(filepath.Base(c.file), func(t *testing.T) {
			k := jtDecodeFile(t, decodeJaegerProtoJSON, jtCorpus(c.file))
			jtWarned(t, k, "")
			jtExpect(t, k.Encoding.Names(), []string{"base64-ids", "enum-names"})
			var spans []*Span
			for _, tr := range k.Traces() {
				spans = append(spans, tr.Spans...)
			}
			c.check(t, spans)
			data, _ := os.ReadFile(jtCorpus(c.file))
			jtOneByte(t, decodeJaegerProtoJSON, data)
			jtTruncations(t, decodeJaegerProtoJSON, data, len(data))
		})
	}
}

// tracegen's jaeger-proto batches, rendered by jaeger-idl's own model types
// with gogo jsonpb (as Jaeger does), read the same as its jaeger-json.
func TestJaegerProtoJSONMatchesJaegerJSON(t *testing.T) {
	dir := jtGenerated(t)
	want := jtViews(jtDecodeFile(t, decodeJaegerJSON, filepath.Join(dir, "traces.jaeger.json")))
	raw, err := os.ReadFile(filepath.Join(dir, "traces.jaeger.pbstream"))
	if err != nil {
		t.Fatal(err)
	}
	var doc bytes.Buffer
	m := jsonpb.Marshaler{}
	for len(raw) >= 4 {
		n := binary.BigEndian.Uint32(raw)
		var b model.Batch
		if err := b.Unmarshal(raw[4 : 4+n]); err != nil {
			t.Fatal(err)
		}
		raw = raw[4+n:]
		if err := m.Marshal(&doc, &b); err != nil {
			t.Fatal(err)
		}
		doc.WriteByte('\n')
	}
	k, de := jtDecodeErr(t, decodeJaegerProtoJSON, doc.Bytes())
	if de != nil {
		t.Fatal(de)
	}
	jtWarned(t, k, "")
	jtCompare(t, "jsonpb", jtViews(k), want)
}

func TestJaegerProtoJSONShapes(t *testing.T) {
	const (
		tid = `"AAAAAAAAAAAAAAAAAAAAqg=="` // 16 bytes, ...aa
		sid = `"AAAAAAAAAAE="`
	)
	span := func(extra string) string {
		return `{"traceId":` + tid + `,"spanId":` + sid + `,"operationName":"op","startTime":"2024-01-02T03:04:05.5Z","duration":"1.5s"` + extra + `}`
	}
	for _, c := range []struct {
		name, doc string
		want      string // service kind status start dur parent follows
		warn      string
	}{
		{"batch process", `{"spans":[` + span("") + `],"process":{"serviceName":"b"}}`, "b unspecified unset 1704164645500000000 1500000000 0000000000000000 false", ""},
		{"process map after spans", `{"spans":[` + span(`,"processId":"p2"`) + `],"processMap":[{"processId":"p1","process":{"serviceName":"one"}},{"process":{"serviceName":"two"},"processId":"p2"}]}`,
			"two unspecified unset 1704164645500000000 1500000000 0000000000000000 false", ""},
		{"result wrapper", `{"result":{"spans":[` + span(`,"process":{"serviceName":"s"}`) + `]}}`, "s unspecified unset 1704164645500000000 1500000000 0000000000000000 false", ""},
		{"snake case and hex", `{"spans":[{"trace_id":"000000000000000000000000000000aa","span_id":"0000000000000001","operation_name":"op",` +
			`"start_time":"2024-01-02T03:04:05.5+01:00","duration":"1500ms","process":{"service_name":"s"},` +
			`"references":[{"ref_type":1,"trace_id":"00000000000000aa","span_id":"0000000000000009"}]}]}`,
			"s unspecified unset 1704161045500000000 1500000000 0000000000000009 true", ""},
		{"tags", `{"spans":[` + span(`,"tags":[{"key":"span.kind","vStr":"client"},{"key":"error","vType":"BOOL","vBool":true},`+
			`{"key":"http.response.status_code","vType":"INT64","vInt64":"503"},{"vType":"STRING","vStr":"pg","key":"db.system"},`+
			`{"key":"rpc.system","vType":"BINARY","vBinary":"AAE="}]`) + `]}`,
			"unknown_service client error 1704164645500000000 1500000000 0000000000000000 false", ""},
		{"references", `{"spans":[` + span(`,"references":[{"traceId":`+tid+`,"spanId":"AAAAAAAAAAk="},{"refType":"FOLLOWS_FROM","traceId":`+tid+`,"spanId":"AAAAAAAAAAg="}]`) + `]}`,
			"unknown_service unspecified unset 1704164645500000000 1500000000 0000000000000009 false", ""},
		{"zero duration omitted", `{"spans":[{"traceId":` + tid + `,"spanId":` + sid + `,"startTime":"2024-01-02T03:04:05Z"}]}`,
			"unknown_service unspecified unset 1704164645000000000 0 0000000000000000 false", ""},
		{"bad reference type", `{"spans":[` + span(`,"references":[{"refType":7,"traceId":`+tid+`,"spanId":"AAAAAAAAAAk="}]`) + `]}`,
			"unknown_service unspecified unset 1704164645500000000 1500000000 0000000000000000 false", "spans[0].references[0].refType: not CHILD_OF or FOLLOWS_FROM"},
	} {
		t.Run(c.name, func(t *testing.T) {
			k, de := jtDecodeErr(t, decodeJaegerProtoJSON, []byte(c.doc))
			if de != nil || k.Kept() != 1 {
				t.Fatalf("%v, %d kept", de, k.Kept())
			}
			s := k.Traces()[0].Spans[0]
			got := strings.Join([]string{s.Service, s.Kind.String(), s.Status.String(), strconv.FormatInt(s.Start, 10), strconv.FormatInt(s.Duration(), 10), s.Parent.String(), strconv.FormatBool(s.ParentFollowsFrom)}, " ")
			jtExpect(t, got, c.want)
			if c.warn != "" {
				jtWarned(t, k, c.warn)
			}
			if c.name == "tags" {
				jtExpect(t, *s.Attrs, Attrs{HTTPStatus: 503, DBSystem: "pg"})
			}
			jtOneByte(t, decodeJaegerProtoJSON, []byte(c.doc))
		})
	}
}

func TestJaegerProtoJSONBadSpans(t *testing.T) {
	for _, c := range []struct {
		name, span string
		rejected   WarningKind
		warn       string
	}{
		{"hex of a wrong length", `{"traceId":"abc","spanId":"AAAAAAAAAAE=","startTime":"2024-01-02T03:04:05Z"}`, WarnInvalidTraceID,
			`spans[0].traceId: want 32 hex digits or base64 of 16 bytes, got "abc" (span rejected)`},
		{"bad time", `{"traceId":"AAAAAAAAAAAAAAAAAAAAqg==","spanId":"AAAAAAAAAAE=","startTime":"yesterday"}`, WarnInvalidTime,
			`spans[0].startTime: want an RFC 3339 time, got "yesterday" (span rejected)`},
		{"bad duration", `{"traceId":"AAAAAAAAAAAAAAAAAAAAqg==","spanId":"AAAAAAAAAAE=","startTime":"2024-01-02T03:04:05Z","duration":"long"}`, WarnInvalidTime,
			`spans[0].duration: want a duration such as "1.5s", got "long" (span rejected)`},
		{"missing start", `{"traceId":"AAAAAAAAAAAAAAAAAAAAqg==","spanId":"AAAAAAAAAAE="}`, WarnInvalidTime, `spans[0].startTime: missing (span rejected)`},
		{"missing trace", `{"spanId":"AAAAAAAAAAE=","startTime":"2024-01-02T03:04:05Z"}`, WarnInvalidTraceID, `spans[0].traceId: missing (span rejected)`},
	} {
		t.Run(c.name, func(t *testing.T) {
			k, de := jtDecodeErr(t, decodeJaegerProtoJSON, []byte(`{"spans":[`+c.span+`]}`))
			if de != nil {
				t.Fatal(de)
			}
			if k.Read != 1 || k.Rejected[c.rejected] != 1 {
				t.Errorf("read %d, rejected %v", k.Read, k.Rejected)
			}
			jtWarned(t, k, c.warn)
		})
	}
	_, de := jtDecodeErr(t, decodeJaegerProtoJSON, []byte(`[]`))
	jtExpect(t, de.Error(), `reading in.json: line 1, offset 0: want '{' (a jaeger-idl Batch or Trace object), got '['`)
}
