package tracefmt

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"strings"

	"google.golang.org/protobuf/encoding/protowire"
)

// sniffWindow is how much decompressed input detection may look at.
const sniffWindow = 64 << 10

// errEmpty is the input holding nothing but white space.
var errEmpty = errors.New("empty input (no spans)")

// knownShapes lists what Sniff recognises, for messages about what it does
// not.
const knownShapes = `known shapes: OTLP JSON {"resourceSpans"} (also JSON Lines, Jaeger api_v3 {"result"}), ` +
	`Tempo {"batches"} and {"trace"}, Grafana "Download traces" {"batches"}, ` +
	`Jaeger UI/API {"data"} or a trace {"traceID","spans","processes"}, Jaeger protobuf JSON {"spans"}, ` +
	`Zipkin v1/v2 JSON [{"traceId","id",…}] or [[…]], OTLP or Jaeger protobuf (single or length-prefixed records, ` +
	`records optionally zstd/gzip compressed), any of them gzip or zstd compressed`

// Sniff detects the format of decompressed input from its first bytes
// (at most sniffWindow of them).
//
// JSON (first non-space byte '{' or '['): the structure decides, not the
// mere presence of a key: the top-level keys and, where they are not enough,
// the keys of the first element below them (see classifyJSON).
//
// Protobuf: a stream when the first byte is 0 (a 4-byte big-endian length
// below 16 MiB; no message starts with field number 0), else one message.
// The first record or message is classified by its first fields (a Jaeger
// span starts with IDs of 16 and 8 bytes), then decoded on trial; a record
// that starts with zstd or gzip magic is the collector file exporter's
// compressed stream. Input that looks like JSON but does not parse as JSON
// while it decodes as protobuf (a first ResourceSpans of 123 bytes starts
// with "\n{") is protobuf.
func Sniff(head []byte) (Format, error) {
	text := bytes.TrimLeft(bytes.TrimPrefix(head, []byte("\xef\xbb\xbf")), " \t\r\n")
	if len(text) == 0 {
		return "", errEmpty
	}
	truncated := len(head) >= sniffWindow
	if text[0] == '{' || text[0] == '[' {
		f, syntaxErr, err := sniffJSON(text)
		if syntaxErr {
			if pf, ok := sniffProtoTrial(head, truncated); ok {
				return pf, nil
			}
		}
		return f, err
	}
	if f, ok := sniffProtoTrial(head, truncated); ok {
		return f, nil
	}
	return "", fmt.Errorf("not a trace export hopbudget reads: starts with %s, want JSON or protobuf; %s", quoteHead(head), knownShapes)
}

// jsonShape is the outline of the start of a JSON document: enough to tell
// the formats apart without decoding them.
type jsonShape struct {
	kind byte                  // '{', '[', or 's' for a scalar
	keys []string              // an object's keys, in order
	sub  map[string]*jsonShape // shapes of object and array values, by key
	elem *jsonShape            // an array's first element
	n    int                   // an array's elements seen
}

func (sh *jsonShape) has(keys ...string) bool {
	for _, k := range keys {
		for _, h := range sh.keys {
			if h == k {
				return true
			}
		}
	}
	return false
}

// child is the shape under key, or an empty one.
func (sh *jsonShape) child(key string) *jsonShape {
	if c := sh.sub[key]; c != nil {
		return c
	}
	return &jsonShape{}
}

// first is an array's first element, or an empty shape.
func (sh *jsonShape) first() *jsonShape {
	if sh.elem != nil {
		return sh.elem
	}
	return &jsonShape{}
}

// readShape outlines the value at the scanner, descending depth levels.
func readShape(s *jsonScanner, depth int) *jsonShape {
	switch s.peek() {
	case '{':
		sh := &jsonShape{kind: '{'}
		s.beginObject()
		for {
			key, ok := s.nextKey()
			if !ok {
				return sh
			}
			if len(sh.keys) < 64 {
				sh.keys = append(sh.keys, string(key))
			}
			if c := s.peek(); depth > 0 && (c == '{' || c == '[') {
				if sh.sub == nil {
					sh.sub = map[string]*jsonShape{}
				}
				k := string(key)
				sh.sub[k] = readShape(s, depth-1)
				continue
			}
			s.skipValue()
		}
	case '[':
		sh := &jsonShape{kind: '['}
		s.beginArray()
		for s.nextElem() {
			if sh.n == 0 && depth > 0 {
				sh.elem = readShape(s, depth-1)
			} else {
				s.skipValue()
			}
			sh.n++
		}
		return sh
	}
	s.skipValue()
	return &jsonShape{kind: 's'}
}

// sniffJSON classifies a JSON document by its shape. syntaxErr reports that
// the window is not valid JSON (rather than valid JSON cut by the window).
func sniffJSON(b []byte) (f Format, syntaxErr bool, err error) {
	s := newJSONScanner(bytes.NewReader(b), "")
	sh := readShape(s, 4)
	if s.err != nil {
		syntaxErr = !(s.eof && s.pos >= s.end)
	}
	f, err = classifyJSON(sh)
	if err != nil && syntaxErr {
		err = fmt.Errorf("not JSON: %s at offset %d; %s", s.err.Msg, s.err.Offset, knownShapes)
	}
	return f, syntaxErr, err
}

// errTempoSearch is a Tempo search response: trace IDs, no spans.
var errTempoSearch = errors.New(`a Tempo search result ({"traces": [{"traceID", "rootServiceName", …}]}): it lists trace IDs, not spans; ` +
	`fetch the traces themselves (e.g. with hopbudget pull, or Tempo's /api/v2/traces/<id>)`)

func classifyJSON(sh *jsonShape) (Format, error) {
	switch sh.kind {
	case '{':
		if f, ok := classifyObject(sh, true); ok {
			return f, nil
		}
		if sh.has("traces") && !sh.child("traces").first().has("spans", "resourceSpans") {
			return "", errTempoSearch
		}
		if len(sh.keys) == 0 {
			return FormatOTLPJSON, nil // an empty ExportTraceServiceRequest
		}
		return "", fmt.Errorf("a JSON document with top-level keys %s: not a trace export hopbudget reads; %s", listKeys(sh.keys), knownShapes)
	case '[':
		if sh.n == 0 {
			return FormatZipkinJSON, nil // Zipkin's answer when nothing matched
		}
		e := sh.first()
		if e.kind == '[' { // Zipkin GET /api/v2/traces: an array per trace
			inner := e.first()
			if e.n == 0 {
				return FormatZipkinJSON, nil
			}
			if isZipkinSpan(inner) {
				return zipkinVersion(inner), nil
			}
			return "", fmt.Errorf("a JSON array of arrays of %s: not a trace export hopbudget reads; %s", describeShape(inner), knownShapes)
		}
		if e.kind == '{' {
			if f, ok := classifyObject(e, false); ok {
				return f, nil
			}
		}
		return "", fmt.Errorf("a JSON array of %s: not a trace export hopbudget reads; %s", describeShape(e), knownShapes)
	}
	return "", fmt.Errorf("a JSON scalar: not a trace export hopbudget reads; %s", knownShapes)
}

// classifyObject recognises a document object (top) or an array element.
func classifyObject(sh *jsonShape, top bool) (Format, bool) {
	switch {
	case sh.has("resourceSpans", "resource_spans", "batches", "scopeSpans", "scope_spans"):
		return FormatOTLPJSON, true
	case top && sh.has("result"):
		r := sh.child("result")
		if r.has("spans", "process", "processMap") {
			return FormatJaegerProtoJSON, true
		}
		return FormatOTLPJSON, true
	case top && sh.has("trace") && sh.child("trace").has("resourceSpans", "resource_spans", "batches"):
		return FormatOTLPJSON, true
	case top && sh.has("trace") && sh.has("status"): // Tempo v2 with an empty trace
		return FormatOTLPJSON, true
	case top && sh.has("error") && len(sh.keys) <= 2: // api_v3 error body
		return FormatOTLPJSON, true
	case top && sh.has("data", "errors"):
		return FormatJaegerJSON, true
	case sh.has("traceID", "spanID", "processID", "processes"):
		return FormatJaegerJSON, true
	case isZipkinSpan(sh):
		return zipkinVersion(sh), true
	case sh.has("spans"):
		sp := sh.child("spans").first()
		if sp.has("traceID", "spanID") {
			return FormatJaegerJSON, true
		}
		return FormatJaegerProtoJSON, true
	case sh.has("spanId", "span_id", "operationName"):
		return FormatJaegerProtoJSON, true
	}
	return "", false
}

// isZipkinSpan: Zipkin names the span ID "id" beside "traceId".
func isZipkinSpan(sh *jsonShape) bool {
	return sh.kind == '{' && sh.has("traceId") && sh.has("id")
}

// zipkinVersion tells v1 spans (binaryAnnotations, annotations with an
// endpoint) from v2 ones (localEndpoint, kind, tags, shared).
func zipkinVersion(sh *jsonShape) Format {
	switch {
	case sh.has("localEndpoint", "remoteEndpoint", "kind", "tags", "shared"):
		return FormatZipkinJSON
	case sh.has("binaryAnnotations"), sh.child("annotations").first().has("endpoint"):
		return FormatZipkinV1JSON
	}
	return FormatZipkinJSON
}

func describeShape(sh *jsonShape) string {
	switch sh.kind {
	case '{':
		if len(sh.keys) == 0 {
			return "empty objects"
		}
		return "objects with keys " + listKeys(sh.keys)
	case '[':
		return "arrays"
	}
	return "scalars"
}

// listKeys lists up to 8 keys, sorted, for a message.
func listKeys(keys []string) string {
	k := append([]string(nil), keys...)
	sort.Strings(k)
	if len(k) > 8 {
		k = append(k[:8], "…")
	}
	return strings.Join(k, ", ")
}

// sniffProtoTrial classifies protobuf input and confirms it by decoding
// the first record or message (as far as the window holds it).
func sniffProtoTrial(b []byte, truncated bool) (Format, bool) {
	if len(b) == 0 {
		return "", false
	}
	if b[0] == 0 {
		if len(b) < 5 {
			return "", false
		}
		n := binary.BigEndian.Uint32(b)
		rec := b[4:]
		whole := int(n) <= len(rec)
		if whole {
			rec = rec[:n]
		}
		if isCompressed(rec) {
			return FormatOTLPProtoStream, true
		}
		if len(rec) > 0 && rec[0] == '{' && whole {
			if _, syntaxErr, err := sniffJSON(rec); !syntaxErr && err == nil {
				return FormatOTLPProtoStream, true // a JSON record
			}
		}
		jaeger, ok := sniffProto(rec)
		if !ok {
			return "", false
		}
		if jaeger {
			return FormatJaegerProtoStream, trialDecode(decodeJaegerProto, rec, !whole)
		}
		return FormatOTLPProtoStream, trialDecode(decodeOTLPProto, rec, !whole)
	}
	jaeger, ok := sniffProto(b)
	if !ok {
		return "", false
	}
	if jaeger {
		return FormatJaegerProto, trialDecode(decodeJaegerProto, b, truncated)
	}
	return FormatOTLPProto, trialDecode(decodeOTLPProto, b, truncated)
}

// trialDecode reports whether b decodes with dec without error or, when b
// was cut by the window, fails only at the cut.
func trialDecode(dec Decoder, b []byte, cut bool) bool {
	err := dec(bytes.NewReader(b), "", NewSink())
	return err == nil || cut && strings.Contains(err.Error(), "truncated")
}

// isCompressed reports zstd or gzip magic.
func isCompressed(b []byte) bool {
	return len(b) >= 4 && string(b[:4]) == "\x28\xb5\x2f\xfd" || len(b) >= 2 && b[0] == 0x1f && b[1] == 0x8b
}

// sniffProto reports whether b looks like a protobuf trace message, and
// whether it is a Jaeger one.
func sniffProto(b []byte) (jaeger, ok bool) {
	num, typ, n := protowire.ConsumeTag(b)
	if n < 0 || typ != protowire.BytesType {
		return false, false
	}
	switch num {
	case 2:
		return true, true // Batch.process before any span
	case 1, 1000:
	default:
		return false, false
	}
	inner, m := protowire.ConsumeBytes(b[n:])
	if m < 0 && len(b) < sniffWindow {
		return false, false
	}
	if m < 0 {
		inner = b[n:] // message longer than the window: classify its start
		if l, k := protowire.ConsumeVarint(inner); k > 0 && l > 0 {
			inner = inner[k:]
		}
	}
	n1, t1, k1 := protowire.ConsumeTag(inner)
	if k1 > 0 && n1 == 1 && t1 == protowire.BytesType {
		if v, k := protowire.ConsumeBytes(inner[k1:]); k > 0 && len(v) == 16 {
			n2, t2, k2 := protowire.ConsumeTag(inner[k1+k:])
			if k2 > 0 && n2 == 2 && t2 == protowire.BytesType {
				if w, _ := protowire.ConsumeBytes(inner[k1+k+k2:]); len(w) == 8 {
					return true, true
				}
			}
		}
	}
	return false, true
}

func quoteHead(b []byte) string {
	if len(b) > 16 {
		b = b[:16]
	}
	return fmt.Sprintf("%q", b)
}
