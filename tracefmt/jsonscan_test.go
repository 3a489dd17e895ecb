package tracefmt

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"testing/iotest"
)

// jtWalk reads one JSON value with the scanner into the shape
// encoding/json produces with UseNumber.
func jtWalk(s *jsonScanner) any {
	switch c := s.peek(); {
	case c == '{':
		m := map[string]any{}
		s.beginObject()
		for {
			key, ok := s.nextKey()
			if !ok {
				return m
			}
			k := string(key)
			m[k] = jtWalk(s)
		}
	case c == '[':
		a := []any{}
		s.beginArray()
		for s.nextElem() {
			a = append(a, jtWalk(s))
		}
		return a
	case c == '"':
		b, _ := s.str()
		return string(b)
	case c == 't' || c == 'f':
		v, _ := s.boolean()
		return v
	case c == 'n':
		s.literal("null")
		return nil
	case c == '-' || c >= '0' && c <= '9':
		return json.Number(s.number())
	}
	s.unexpected("a value")
	return nil
}

// jtScan reads all top-level values of in with a buffer of bufSize bytes
// fed by reads of one byte (bufSize 0: defaults).
func jtScan(in string, bufSize int) ([]any, error) {
	var s *jsonScanner
	if bufSize > 0 {
		s = newJSONScanner(iotest.OneByteReader(strings.NewReader(in)), "in.json")
		s.buf = make([]byte, bufSize)
	} else {
		s = newJSONScanner(strings.NewReader(in), "in.json")
	}
	var out []any
	for !s.atEOF() && s.err == nil {
		out = append(out, jtWalk(s))
	}
	return out, s.error()
}

func TestScannerMatchesEncodingJSON(t *testing.T) {
	valid := []string{
		`{}`, `[]`, `""`, `0`, `-0`, `1.5e9`, `-12.25E-3`, `true`, `false`, `null`,
		`{"a":1,"b":[1,2,{"c":null}],"d":"x"}`,
		` { "a" : [ ] , "b" : { } } `,
		`"\"\\\/\b\f\n\r\t"`,
		`"\u00e9\u20AC\ud83d\ude00 and \u0041"`,
		`"lone \ud800 high, lone \udc00 low, \ud800\u0041 pair-less"`,
		`"ünïcödé ✓ 😀"`,
		`{"k\u0065y":"v\nw"}`,
		`[1234567890123456789, -9223372036854775808, 0.5]`,
		`{"deep":[[[[[[[[[[{"x":[]}]]]]]]]]]]}`,
		`"` + strings.Repeat("long ", 200) + `"`,
		`"` + strings.Repeat(`\u0041\n`, 100) + `"`,
	}
	for _, in := range valid {
		var want any
		d := json.NewDecoder(strings.NewReader(in))
		d.UseNumber()
		if err := d.Decode(&want); err != nil {
			t.Fatalf("%s: encoding/json: %v", in, err)
		}
		for _, size := range []int{0, 1, 2, 3, 5, 8, 13} {
			got, err := jtScan(in, size)
			if err != nil {
				t.Errorf("%.40s (buf %d): %v", in, size, err)
				continue
			}
			if len(got) != 1 || !reflect.DeepEqual(got[0], want) {
				t.Errorf("%.40s (buf %d): got %#v, want %#v", in, size, got, want)
			}
		}
	}
}

func TestScannerErrors(t *testing.T) {
	for _, c := range []struct {
		in   string
		line int
		off  int64
		path string
		msg  string
	}{
		{`{"a":1 "b":2}`, 1, 7, "a", `want ',' or '}', got '"'`},
		{`{"a":[1,2,x]}`, 1, 10, "a[2]", `want a value, got 'x'`},
		{"{\n\"a\":\n[1,\n", 4, 11, "a[1]", "unexpected end of input"},
		{`{"a":{"b":[{"c":tru`, 1, 19, "a.b[0].c", "unexpected end of input"},
		{`{"a":nul}`, 1, 5, "a", `want null, got "nul}"`},
		{`{"a" 1}`, 1, 5, "a", `want ':', got '1'`},
		{`{1:2}`, 1, 1, "", `want a string key, got '1'`},
		{`{"a":1,}`, 1, 7, "a", `want a string key, got '}'`},
		{`[1,]`, 1, 3, "[0]", `want a value, got ']'`},
		{`{"a":"x` + "\x01" + `"}`, 1, 7, "a", `invalid control character byte 0x01 in string`},
		{`{"a":"\x"}`, 1, 7, "a", `invalid escape '\x'`},
		{`{"a":"\u12G4"}`, 1, 6, "a", `invalid \u escape`},
		{`{"a":01}`, 1, 5, "a", `invalid number "01"`},
		{`{"a":-}`, 1, 5, "a", `invalid number "-"`},
		{`{"a":"x`, 1, 7, "a", "unexpected end of input"},
		{`{"a":"x\`, 1, 8, "a", "unexpected end of input"},
		{`{"a":"\u12`, 1, 10, "a", "unexpected end of input"},
	} {
		for _, size := range []int{0, 1, 4} {
			_, err := jtScan(c.in, size)
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Errorf("%q: got %v, want a DecodeError", c.in, err)
				continue
			}
			want := DecodeError{Pos: Pos{File: "in.json", Line: c.line, Offset: c.off, Record: -1, Path: c.path}, Msg: c.msg}
			if *de != want {
				t.Errorf("%q (buf %d):\ngot  %v\nwant %v", c.in, size, de, &want)
			}
		}
	}
}

// Skipped values are checked only for balanced brackets and closed strings.
func TestScannerSkip(t *testing.T) {
	for _, c := range []struct {
		in, err string
	}{
		{`[{"a":[1,{"b":"]}\"\\"}],"c":{}}, "x", 1, true, null] 7`, ""},
		{`{"a":[}`, "unbalanced '}'"},
		{`{"a":"}`, "unexpected end of input"},
		{"[\"a\x01\"]", "invalid control character byte 0x01 in string"},
		{`{"a":[1,2`, "unexpected end of input"},
		{strings.Repeat("[", jsonMaxDepth+1), "nesting deeper than 10000"},
	} {
		for _, size := range []int{0, 1, 3} {
			s := newJSONScanner(iotest.OneByteReader(strings.NewReader(c.in)), "x")
			if size > 0 {
				s.buf = make([]byte, size)
			}
			n := 0
			for !s.atEOF() && s.err == nil {
				s.skipValue()
				n++
			}
			got := ""
			if s.err != nil {
				got = s.err.Msg
			}
			if got != c.err {
				t.Errorf("%.30q (buf %d): error %q, want %q", c.in, size, got, c.err)
			}
			if c.err == "" && n != 2 {
				t.Errorf("%.30q: %d values, want 2", c.in, n)
			}
		}
	}
}

func TestScannerLeaves(t *testing.T) {
	for _, c := range []struct {
		in, read string // read: "int" or "bool"
		v        int64  // bools as 0/1
		ok       bool
		got      string // s.got when !ok
	}{
		{"12", "int", 12, true, ""},
		{`"34"`, "int", 34, true, ""},
		{"1.5e9", "int", 1500000000, true, ""},
		{`"-7"`, "int", -7, true, ""},
		{"-9223372036854775808", "int", -9223372036854775808, true, ""},
		{`"x"`, "int", 0, false, `"x"`},
		{`" 1"`, "int", 0, false, `" 1"`},
		{"null", "int", 0, false, "null"},
		{`{"a":1}`, "int", 0, false, "an object"},
		{"99999999999999999999", "int", 0, false, `"99999999999999999999"`},
		{"true", "bool", 1, true, ""},
		{`"true"`, "bool", 1, true, ""},
		{`"false"`, "bool", 0, true, ""},
		{`"no"`, "bool", 0, false, `"no"`},
		{"[1]", "bool", 0, false, "an array"},
	} {
		s := newJSONScanner(strings.NewReader(c.in+" 5"), "x")
		var v int64
		var ok bool
		if c.read == "int" {
			v, ok = s.int64()
		} else {
			var b bool
			b, ok = s.boolean()
			if b {
				v = 1
			}
		}
		if v != c.v || ok != c.ok || !ok && s.got != c.got || s.err != nil {
			t.Errorf("%s as %s: %d %v %q %v; want %d %v %q", c.in, c.read, v, ok, s.got, s.err, c.v, c.ok, c.got)
		}
		if next, _ := s.int64(); next != 5 { // the value was consumed whole
			t.Errorf("%s: next value %d", c.in, next)
		}
	}
}

func TestScannerReadError(t *testing.T) {
	r := iotest.TimeoutReader(iotest.OneByteReader(strings.NewReader(`{"a":1}`)))
	s := newJSONScanner(r, "x")
	for !s.atEOF() && s.err == nil {
		jtWalk(s)
	}
	if s.err == nil || !strings.Contains(s.err.Msg, "read error: timeout") {
		t.Errorf("got %v, want a read error", s.err)
	}
}

// ---- helpers shared by the decoder tests ----

// jtCorpus is the path of a corpus file copied into testdata.
func jtCorpus(name string) string { return filepath.Join("..", "testdata", "corpus", name) }

// jtDecodeFile decodes a file and fails the test on error.
func jtDecodeFile(t testing.TB, dec Decoder, path string) *Sink {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	k := NewSink()
	if err := dec(bytes.NewReader(data), filepath.Base(path), k); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	jtCheckAccounting(t, k)
	return k
}

func jtCheckAccounting(t testing.TB, k *Sink) {
	t.Helper()
	if k.Read != k.Kept()+k.RejectedTotal() {
		t.Errorf("read %d != kept %d + rejected %d", k.Read, k.Kept(), k.RejectedTotal())
	}
}

// jtView is a span as compared across formats: start and duration in µs
// (Jaeger's precision; its converters truncate both, so the end can differ
// from OTLP's end by 1 µs), and only FollowsFrom references (OTLP has links,
// Jaeger lists the parent's CHILD_OF reference too).
type jtView struct {
	Trace             TraceID
	Span, Parent      SpanID
	Service, Op       string
	Kind              Kind
	Status            StatusCode
	StartUs, DurUs    int64
	Attrs             Attrs
	Follows           string
	ParentFollowsFrom bool
}

// jtViews lists the kept spans by (trace, span, start).
func jtViews(k *Sink) []jtView {
	var out []jtView
	for _, tr := range k.Traces() {
		for _, s := range tr.Spans {
			v := jtView{Trace: s.TraceID, Span: s.SpanID, Parent: s.Parent, Service: s.Service, Op: s.Operation,
				Kind: s.Kind, Status: s.Status, StartUs: s.Start / 1000, DurUs: (s.End - s.Start) / 1000, Attrs: *s.Attrs,
				ParentFollowsFrom: s.ParentFollowsFrom}
			for _, r := range s.Refs {
				if r.Type == FollowsFrom {
					v.Follows += r.TraceID.String() + "/" + r.SpanID.String() + " "
				}
			}
			out = append(out, v)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Trace != b.Trace {
			return a.Trace.Less(b.Trace)
		}
		if a.Span != b.Span {
			return string(a.Span[:]) < string(b.Span[:])
		}
		return a.StartUs < b.StartUs
	})
	return out
}

// jtCompare reports the first differences between two span lists.
func jtCompare(t *testing.T, what string, got, want []jtView) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d spans, want %d", what, len(got), len(want))
		return
	}
	bad := 0
	for i := range got {
		if got[i] != want[i] {
			if bad++; bad <= 3 {
				t.Errorf("%s: span %d:\ngot  %+v\nwant %+v", what, i, got[i], want[i])
			}
		}
	}
	if bad > 3 {
		t.Errorf("%s: %d spans differ", what, bad)
	}
}

// jtDecodeErr decodes data and returns the *DecodeError (or nil), failing
// on any other error and checking the accounting.
func jtDecodeErr(t testing.TB, dec Decoder, data []byte) (*Sink, *DecodeError) {
	t.Helper()
	k := NewSink()
	err := dec(bytes.NewReader(data), "in.json", k)
	jtCheckAccounting(t, k)
	if err == nil {
		return k, nil
	}
	var de *DecodeError
	if !errors.As(err, &de) {
		t.Fatalf("got %T %v, want a *DecodeError", err, err)
	}
	return k, de
}

// jtTruncations cuts data at many points and checks every cut gives
// "unexpected end of input" at the cut (for documents that are one value).
func jtTruncations(t *testing.T, dec Decoder, data []byte, maxCuts int) {
	data = bytes.TrimRight(data, " \n\r\t")
	step := max(1, len(data)/maxCuts)
	for n := 1; n < len(data); n += step {
		_, de := jtDecodeErr(t, dec, data[:n])
		if de == nil {
			t.Errorf("cut at %d of %d: no error", n, len(data))
			continue
		}
		wantLine := 1 + bytes.Count(data[:n], []byte("\n"))
		if de.Msg != "unexpected end of input" || de.Offset != int64(n) || de.Line != wantLine || de.File != "in.json" {
			t.Errorf("cut at %d: %v; want unexpected end of input at line %d, offset %d", n, de, wantLine, n)
		}
	}
}

// jtOneByte decodes data both normally and fed one byte at a time (so
// every token straddles refills), and checks both runs agree exactly.
func jtOneByte(t testing.TB, dec Decoder, data []byte) {
	t.Helper()
	k1 := NewSink()
	err1 := dec(bytes.NewReader(data), "in.json", k1)
	k2 := NewSink()
	err2 := dec(iotest.OneByteReader(bytes.NewReader(data)), "in.json", k2)
	if (err1 == nil) != (err2 == nil) || err1 != nil && err1.Error() != err2.Error() {
		t.Fatalf("errors differ: %v / %v", err1, err2)
	}
	if k1.Read != k2.Read || k1.Kept() != k2.Kept() || !reflect.DeepEqual(k1.Warnings(), k2.Warnings()) {
		t.Fatalf("results differ: %d/%d read, %d/%d kept, warnings %v / %v", k1.Read, k2.Read, k1.Kept(), k2.Kept(), k1.Warnings(), k2.Warnings())
	}
	if !reflect.DeepEqual(jtViews(k1), jtViews(k2)) {
		t.Fatal("spans differ when read one byte at a time")
	}
}

func TestJSONStrScan(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte("ab\"\\\x00\x1f\x20\x7f\x80\xff")
	for range 20000 {
		b := make([]byte, r.IntN(40))
		for i := range b {
			if r.IntN(8) == 0 {
				b[i] = alphabet[r.IntN(len(alphabet))]
			} else {
				b[i] = byte('a' + r.IntN(26))
			}
		}
		from := r.IntN(len(b) + 1)
		want := from
		for want < len(b) && !jsonStrStop[b[want]] {
			want++
		}
		if got := jsonStrScan(b, from); got != want {
			t.Fatalf("jsonStrScan(%q, %d) = %d, want %d", b, from, got, want)
		}
	}
}

func TestScannerSkipRest(t *testing.T) {
	for _, c := range []struct{ in, err string }{
		{`{"a":1,"b":[1,{"c":"}\""}],"d":2} 7`, ""},
		{`[1,[2,{"x":[]}],3] 7`, ""},
		{`{"a":1,"b":[}`, "unbalanced '}'"},
		{`{"a":1,"b":"`, "unexpected end of input"},
	} {
		for _, size := range []int{0, 1} {
			s := newJSONScanner(iotest.OneByteReader(strings.NewReader(c.in)), "x")
			if size > 0 {
				s.buf = make([]byte, size)
			}
			if c.in[0] == '{' {
				s.beginObject()
				s.nextKey()
			} else {
				s.beginArray()
				s.nextElem()
			}
			s.skipValue()
			s.skipRest()
			v, _ := s.int64()
			got := ""
			if s.err != nil {
				got = s.err.Msg
			}
			if got != c.err || c.err == "" && (v != 7 || len(s.stack) != 0) {
				t.Errorf("%q (buf %d): error %q, next %d, %d frames open; want error %q", c.in, size, got, v, len(s.stack), c.err)
			}
		}
	}
}

// Numbers with a fraction or exponent convert exactly (Grafana's ms × 1e6
// times would lose up to 128 ns through float64).
func TestJSONParseDecimal(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"1556604172355.000000e6", 1556604172355000000, true},
		{"1556604172355.123456789e6", 1556604172355123456, true},
		{"1.5", 1, true}, {"-1.5", -1, true}, {"0.5", 0, true}, {"1e3", 1000, true}, {"1E+3", 1000, true},
		{"1.5e9", 1500000000, true}, {"0.000123e6", 123, true}, {"12.34e-1", 1, true}, {"1e19", 0, false},
		{"9.2e18", 9200000000000000000, true}, {"0.0", 0, true}, {"1e-500", 0, true},
		{"123456789012345678901234567890123456789012345.0", 0, false},
	} {
		got, ok := jsonParseInt([]byte(c.in))
		if got != c.want || ok != c.ok {
			t.Errorf("%s: %d %v, want %d %v", c.in, got, ok, c.want, c.ok)
		}
	}
}
