package receiver

import (
	"encoding/base64"
	"encoding/hex"
)

// idsToBase64 appends src, an OTLP/JSON request, to dst with its hex IDs
// rewritten as base64: OTLP/JSON writes trace and span IDs in hex, but
// protojson, the only JSON decoder of the generated types, reads every
// bytes field as base64 (and would take 32 hex digits for 24 bytes).
//
// It works on the text, in one pass: a string is an object key exactly
// when a ':' follows it, and the only keys named traceId, spanId or
// parentSpanId (or their snake_case proto names, which protojson also
// accepts) are the span's and the link's IDs, so nothing else is touched.
// A value that is not 16 or 32 hex digits is left alone: protojson may
// still read it as base64 (some clients send that), and a wrong length is
// rejected later. Malformed JSON is copied as is, for protojson to report.
func idsToBase64(dst, src []byte) []byte {
	done := 0 // src[:done] has been copied to dst
	for i := 0; i < len(src); i++ {
		if src[i] != '"' {
			continue
		}
		end, plain := stringEnd(src, i+1)
		if end < 0 {
			break
		}
		key := src[i+1 : end]
		i = end
		if !plain || !idKey(key) {
			continue
		}
		j := skipSpace(src, end+1)
		if j >= len(src) || src[j] != ':' {
			continue // a value, not a key
		}
		j = skipSpace(src, j+1)
		if j >= len(src) || src[j] != '"' {
			continue
		}
		vend, plain := stringEnd(src, j+1)
		if vend < 0 {
			break
		}
		i = vend
		v := src[j+1 : vend]
		var raw [16]byte
		if !plain || (len(v) != 16 && len(v) != 32) {
			continue
		}
		if _, err := hex.Decode(raw[:len(v)/2], v); err != nil {
			continue
		}
		dst = append(dst, src[done:j+1]...)
		dst = base64.StdEncoding.AppendEncode(dst, raw[:len(v)/2])
		done = vend
	}
	return append(dst, src[done:]...)
}

func idKey(key []byte) bool {
	switch string(key) {
	case "traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id":
		return true
	}
	return false
}

// stringEnd returns the index of the quote closing the string whose
// contents start at i (-1 if unterminated) and whether it has no escapes.
func stringEnd(b []byte, i int) (int, bool) {
	plain := true
	for ; i < len(b); i++ {
		switch b[i] {
		case '"':
			return i, plain
		case '\\':
			plain = false
			i++
		}
	}
	return -1, false
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}
