package tracefmt

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// The scanner's buffer starts small, so that small inputs are cheap, and
// doubles at each refill up to jsonBufSize; beyond that it grows only when a
// single token (a string or number) is larger.
const (
	jsonBufStart = 8 << 10
	jsonBufSize  = 256 << 10
)

// jsonMaxDepth bounds the nesting of skipped values, so hostile input cannot
// make the bracket stack grow without limit.
const jsonMaxDepth = 10000

// JSONMaxString is the longest string value or key kept whole (1 MiB):
// longer ones (a name, an attribute value) are cut to it with a
// "long-string" warning, so one hostile token cannot take memory without
// bound. Values that are skipped are never held at all, whatever their
// length.
const JSONMaxString = 1 << 20

// jsonMaxNumber is the longest number token accepted.
const jsonMaxNumber = 4096

// jsonScanner is a streaming JSON tokenizer over an io.Reader. It never
// builds a tree: decoders walk the document with beginObject/nextKey,
// beginArray/nextElem and the leaf readers, and skip what they do not need.
//
// Byte slices it returns (keys, strings) point into its buffer or scratch
// space and are valid only until the next call on the scanner.
//
// Errors are sticky: the first one is kept in err as a *DecodeError and every
// later call does nothing, so decoders check s.err once per loop.
type jsonScanner struct {
	r    io.Reader
	file string
	buf  []byte
	pos  int   // next unread byte
	end  int   // buf[pos:end] is read but unconsumed
	base int64 // stream offset of buf[0]
	eof  bool
	rerr error // read error other than io.EOF

	// Line numbers are counted lazily: lines is the number of '\n' in the
	// stream before buf[lineMark]; each byte is counted at most once.
	lines    int
	lineMark int

	err   *DecodeError
	stack []jsonFrame

	scratch  []byte // decoded string values with escapes
	kscratch []byte // decoded keys with escapes
	skipKind []byte // bracket stack of skipValue

	// got names what a leaf reader found instead of the wanted type
	// ("null", "number", "object", …) when it returns ok == false.
	got string

	// cut counts strings cut to JSONMaxString; cutAt is the first one.
	cut   int
	cutAt Pos
}

// warnCut reports the strings cut to JSONMaxString to the sink.
func (s *jsonScanner) warnCut(k *Sink) {
	if s.cut > 0 {
		k.Warn(WarnLongString, s.cutAt, fmt.Sprintf("%d string(s) longer than %d bytes cut to that length", s.cut, JSONMaxString))
	}
}

// noteCut records a string cut at the current position.
func (s *jsonScanner) noteCut() {
	if s.cut == 0 {
		s.cutAt = s.posAt(s.offset(), s.line(), s.path())
	}
	s.cut++
}

// skipStringFrom consumes the rest of a string from index i of the buffer
// (inside the string) without holding it: the buffer is refilled in place
// as the string streams past, so its length does not matter.
func (s *jsonScanner) skipStringFrom(i int) bool {
	for {
		buf := s.buf[:s.end]
	scan:
		for i < len(buf) {
			if i = jsonStrScan(buf, i); i >= len(buf) {
				break
			}
			switch buf[i] {
			case '"':
				s.pos = i + 1
				return true
			case '\\':
				if i+1 == len(buf) {
					break scan // see the escaped byte after the refill
				}
				if !jsonEscapeOK[buf[i+1]] {
					s.pos = i + 1
					if e := buf[i+1]; e > ' ' && e < 0x7f {
						s.fail("invalid escape '\\" + string(rune(e)) + "'")
					} else {
						s.fail("invalid escape: '\\' then " + jsonDescribeByte(e))
					}
					return false
				}
				i += 2
			default:
				s.pos = i
				s.fail("invalid control character " + jsonDescribeByte(buf[i]) + " in string")
				return false
			}
		}
		keep := max(len(buf)-i, 0) // 1 to keep a backslash for the refill
		s.pos = len(buf) - keep
		if !s.refill() {
			s.failEOF()
			return false
		}
		i = s.pos
	}
}

// jsonFrame is one open object or array, kept so that the JSON path of an
// error can be rebuilt, e.g. resourceSpans[0].scopeSpans[1].spans[4].
type jsonFrame struct {
	arr bool
	n   int // keys or elements started so far
	// The current key is buf[keyPos:keyPos+keyLen] while keyPos >= 0; a
	// refill copies it to kbuf (keyPos = -1) before discarding it.
	keyPos, keyLen int
	kbuf           []byte
}

func newJSONScanner(r io.Reader, file string) *jsonScanner {
	return &jsonScanner{r: r, file: file, buf: make([]byte, jsonBufStart), stack: make([]jsonFrame, 0, 16)}
}

// refill reads more input, keeping buf[pos:end]. It reports whether bytes
// were added.
func (s *jsonScanner) refill() bool {
	if s.eof || s.err != nil {
		return false
	}
	if s.pos > 0 {
		for i := range s.stack {
			if f := &s.stack[i]; f.keyPos >= 0 {
				f.kbuf = append(f.kbuf[:0], s.buf[f.keyPos:f.keyPos+f.keyLen]...)
				f.keyPos = -1
			}
		}
		if s.lineMark < s.pos {
			s.lines += bytes.Count(s.buf[s.lineMark:s.pos], jsonNL)
			s.lineMark = s.pos
		}
		n := copy(s.buf, s.buf[s.pos:s.end])
		s.base += int64(s.pos)
		s.lineMark -= s.pos
		s.end = n
		s.pos = 0
	}
	if s.end == len(s.buf) || len(s.buf) < jsonBufSize {
		nb := make([]byte, 2*len(s.buf))
		copy(nb, s.buf[:s.end])
		s.buf = nb
	}
	for range 100 {
		n, err := s.r.Read(s.buf[s.end:])
		s.end += n
		if err != nil {
			if err != io.EOF {
				s.rerr = err
			}
			s.eof = true
			return n > 0
		}
		if n > 0 {
			return true
		}
	}
	s.rerr = io.ErrNoProgress
	s.eof = true
	return false
}

var jsonNL = []byte{'\n'}

// ensure makes at least n unconsumed bytes available, if the input has them.
func (s *jsonScanner) ensure(n int) bool {
	for s.end-s.pos < n {
		if !s.refill() {
			return false
		}
	}
	return true
}

// offset is the stream offset of the next unread byte.
func (s *jsonScanner) offset() int64 { return s.base + int64(s.pos) }

// line is the 1-based line of the next unread byte.
func (s *jsonScanner) line() int {
	if s.lineMark < s.pos {
		s.lines += bytes.Count(s.buf[s.lineMark:s.pos], jsonNL)
		s.lineMark = s.pos
	}
	return s.lines + 1
}

// path renders the open frames as a JSON path.
func (s *jsonScanner) path() string {
	var b []byte
	for i := range s.stack {
		f := &s.stack[i]
		if f.arr {
			if f.n > 0 {
				b = append(b, '[')
				b = strconv.AppendInt(b, int64(f.n-1), 10)
				b = append(b, ']')
			}
			continue
		}
		if f.n == 0 {
			continue
		}
		if len(b) > 0 {
			b = append(b, '.')
		}
		if f.keyPos >= 0 {
			b = append(b, s.buf[f.keyPos:f.keyPos+f.keyLen]...)
		} else {
			b = append(b, f.kbuf...)
		}
	}
	return string(b)
}

// posAt is a Pos in this scanner's file.
func (s *jsonScanner) posAt(off int64, line int, path string) Pos {
	return Pos{File: s.file, Line: line, Offset: off, Record: -1, Path: path}
}

// fail records a syntax error at the current position (first error wins).
func (s *jsonScanner) fail(msg string) {
	if s.err != nil {
		return
	}
	if s.pos > s.end {
		s.pos = s.end
	}
	s.err = &DecodeError{Pos: s.posAt(s.offset(), s.line(), s.path()), Msg: msg}
}

// failEOF reports the end of input (or a read error) in the middle of a value.
func (s *jsonScanner) failEOF() {
	s.pos = s.end
	if s.rerr != nil {
		s.fail("read error: " + s.rerr.Error())
		return
	}
	s.fail("unexpected end of input")
}

// unexpected reports that the next byte is not what was wanted.
func (s *jsonScanner) unexpected(want string) {
	if s.pos >= s.end {
		s.failEOF()
		return
	}
	s.fail("want " + want + ", got " + jsonDescribeByte(s.buf[s.pos]))
}

func jsonDescribeByte(c byte) string {
	if c > ' ' && c < 0x7f {
		return "'" + string(rune(c)) + "'"
	}
	return fmt.Sprintf("byte 0x%02x", c)
}

// peek skips whitespace and returns the next byte without consuming it, or
// 0 at the end of input (then pos == end).
func (s *jsonScanner) peek() byte {
	if s.pos < s.end { // fast path, inlined: compact JSON has no whitespace
		if c := s.buf[s.pos]; c > ' ' {
			return c
		}
	}
	return s.peekSlow()
}

func (s *jsonScanner) peekSlow() byte {
	for {
		buf := s.buf[:s.end]
		for i := s.pos; i < len(buf); i++ {
			if c := buf[i]; c > ' ' || !jsonSpace(c) {
				s.pos = i
				return c
			}
		}
		s.pos = s.end
		if !s.refill() {
			return 0
		}
	}
}

// atEOF reports whether only whitespace remains (and no read error hides
// more input).
func (s *jsonScanner) atEOF() bool {
	s.peek()
	if s.pos < s.end {
		return false
	}
	if s.rerr != nil {
		s.failEOF()
	}
	return true
}

// cutAtEnd reports whether the sticky error is the input ending in the
// middle of a value: plain end of input, or a compressed stream cut short.
func (s *jsonScanner) cutAtEnd() bool {
	return s.err != nil && s.eof && s.pos >= s.end && (s.rerr == nil || errors.Is(s.rerr, io.ErrUnexpectedEOF))
}

// skipBOM drops a UTF-8 byte order mark at the start of the stream.
func (s *jsonScanner) skipBOM() {
	if s.ensure(3) && s.base == 0 && s.pos == 0 && bytes.HasPrefix(s.buf[:s.end], []byte("\xef\xbb\xbf")) {
		s.pos = 3
	}
}

func (s *jsonScanner) push(arr bool) {
	if len(s.stack) < cap(s.stack) {
		s.stack = s.stack[:len(s.stack)+1]
		f := &s.stack[len(s.stack)-1]
		f.arr, f.n, f.keyPos, f.keyLen = arr, 0, -1, 0
		f.kbuf = f.kbuf[:0]
		return
	}
	s.stack = append(s.stack, jsonFrame{arr: arr, keyPos: -1})
}

// beginObject consumes '{' and opens an object. It returns false, without
// error, for null (an absent message in protobuf JSON); anything else is an
// error.
func (s *jsonScanner) beginObject() bool {
	switch s.peek() {
	case '{':
		s.pos++
		s.push(false)
		return true
	case 'n':
		s.literal("null")
		return false
	}
	s.unexpected("'{'")
	return false
}

// beginArray is beginObject for '['.
func (s *jsonScanner) beginArray() bool {
	switch s.peek() {
	case '[':
		s.pos++
		s.push(true)
		return true
	case 'n':
		s.literal("null")
		return false
	}
	s.unexpected("'['")
	return false
}

// nextKey reads the next key of the innermost object and its ':'. At '}' it
// closes the object and returns false (also on error).
func (s *jsonScanner) nextKey() ([]byte, bool) {
	// Fast path: compact JSON with the whole key in the buffer.
	if s.err == nil {
		f := &s.stack[len(s.stack)-1]
		buf := s.buf[:s.end]
		i := s.pos
		if f.n > 0 && i < len(buf) && buf[i] == ',' {
			i++
		}
		if (f.n == 0 || i > s.pos) && i < len(buf) && buf[i] == '"' {
			st := i + 1
			if j := jsonStrScan(buf, st); j+1 < len(buf) && buf[j] == '"' && buf[j+1] == ':' {
				f.n++
				f.keyPos, f.keyLen = st, j-st
				s.pos = j + 2
				return buf[st:j], true
			}
		}
	}
	return s.nextKeySlow()
}

func (s *jsonScanner) nextKeySlow() ([]byte, bool) {
	if s.err != nil {
		return nil, false
	}
	f := &s.stack[len(s.stack)-1]
	c := s.peek()
	if f.n > 0 {
		switch c {
		case '}':
			s.pos++
			s.stack = s.stack[:len(s.stack)-1]
			return nil, false
		case ',':
			s.pos++
			c = s.peek()
		default:
			s.unexpected("',' or '}'")
			return nil, false
		}
	} else if c == '}' {
		s.pos++
		s.stack = s.stack[:len(s.stack)-1]
		return nil, false
	}
	if c != '"' {
		s.unexpected("a string key")
		return nil, false
	}
	f.n++
	key, start, ok := s.readString(&s.kscratch)
	if !ok {
		return nil, false
	}
	// Only if a refill is needed to find the ':' must the key be copied out
	// of the buffer first.
	i := s.pos
	for i < s.end && jsonSpace(s.buf[i]) {
		i++
	}
	if i < s.end && s.buf[i] == ':' {
		s.pos = i + 1
		if start >= 0 {
			f.keyPos, f.keyLen = start, len(key)
		} else {
			f.keyPos = -1
			f.kbuf = append(f.kbuf[:0], key...)
		}
		return key, true
	}
	f.kbuf = append(f.kbuf[:0], key...)
	f.keyPos = -1
	if s.peek() != ':' {
		s.unexpected("':'")
		return nil, false
	}
	s.pos++
	return f.kbuf, true
}

func jsonSpace(c byte) bool { return c == ' ' || c == '\n' || c == '\r' || c == '\t' }

// nextElem moves to the next element of the innermost array: it consumes
// ',' or, at ']', closes the array and returns false (also on error).
func (s *jsonScanner) nextElem() bool {
	if s.err != nil {
		return false
	}
	f := &s.stack[len(s.stack)-1]
	if f.n > 0 && s.pos+1 < s.end && s.buf[s.pos] == ',' && s.buf[s.pos+1] > ' ' && s.buf[s.pos+1] != ']' {
		s.pos++ // fast path: compact JSON
		f.n++
		return true
	}
	c := s.peek()
	if c == ']' {
		s.pos++
		s.stack = s.stack[:len(s.stack)-1]
		return false
	}
	if f.n > 0 {
		if c != ',' {
			s.unexpected("',' or ']'")
			return false
		}
		s.pos++
		if s.peek() == ']' {
			s.unexpected("a value")
			return false
		}
	}
	f.n++
	return true
}

// jsonEscapeOK marks the bytes that may follow a backslash in a string.
var jsonEscapeOK = func() (t [256]bool) {
	for _, c := range []byte(`"\\/bfnrtu`) {
		t[c] = true
	}
	return t
}()

// jsonStrStop marks the bytes that end the fast path of a string: the closing
// quote, an escape, or a control character (invalid in JSON strings).
var jsonStrStop = func() (t [256]bool) {
	for c := range 0x20 {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	return t
}()

// jsonStrScan returns the index of the first byte at or after i that ends
// the fast path of a string (see jsonStrStop), or len(buf). It tests 8 bytes
// at a time: a byte is flagged in the masks below if it is '"', '\\' or
// < 0x20; the lowest flagged byte is always exact.
func jsonStrScan(buf []byte, i int) int {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	for ; i+8 <= len(buf); i += 8 {
		w := binary.LittleEndian.Uint64(buf[i:])
		q, bs := w^(ones*'"'), w^(ones*'\\')
		m := ((q - ones) &^ q) | ((bs - ones) &^ bs) | ((w - ones*0x20) &^ w)
		if m &= highs; m != 0 {
			return i + bits.TrailingZeros64(m)/8
		}
	}
	for i < len(buf) && !jsonStrStop[buf[i]] {
		i++
	}
	return i
}

// readString reads the string at pos (buf[pos] == '"'). Without escapes it
// returns a slice of the buffer and its start index; with escapes it decodes
// into *dst and returns start = -1.
func (s *jsonScanner) readString(dst *[]byte) ([]byte, int, bool) {
	i := s.pos + 1
	for {
		buf := s.buf[:s.end]
		i = jsonStrScan(buf, i)
		if i < len(buf) {
			switch buf[i] {
			case '"':
				st := s.pos + 1
				s.pos = i + 1
				return buf[st:i], st, true
			case '\\':
				*dst = append((*dst)[:0], buf[s.pos+1:i]...)
				s.pos = i
				b, ok := s.unescape(dst)
				return b, -1, ok
			}
			s.pos = i
			s.fail("invalid control character " + jsonDescribeByte(buf[i]) + " in string")
			return nil, -1, false
		}
		n := i - s.pos
		if n > JSONMaxString {
			// Too long to keep: keep its start, stream past the rest.
			*dst = append((*dst)[:0], buf[s.pos+1:s.pos+1+JSONMaxString]...)
			s.noteCut()
			if !s.skipStringFrom(i) {
				return nil, -1, false
			}
			return *dst, -1, true
		}
		if !s.refill() {
			s.failEOF()
			return nil, -1, false
		}
		i = s.pos + n
	}
}

// unescape continues a string with escapes from pos, appending to *dst.
func (s *jsonScanner) unescape(dst *[]byte) ([]byte, bool) {
	b := *dst
	defer func() { *dst = b[:0] }()
	for {
		if s.pos >= s.end && !s.refill() {
			s.failEOF()
			return nil, false
		}
		buf := s.buf[:s.end]
		switch c := buf[s.pos]; {
		case c == '"':
			s.pos++
			return b, true
		case c == '\\':
			if !s.ensure(2) {
				s.failEOF()
				return nil, false
			}
			e := s.buf[s.pos+1]
			switch e {
			case '"', '\\', '/':
				b = append(b, e)
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				if !s.ensure(6) {
					s.failEOF()
					return nil, false
				}
				r := jsonHex4(s.buf[s.pos+2 : s.pos+6])
				if r < 0 {
					s.fail("invalid \\u escape")
					return nil, false
				}
				s.pos += 6
				if utf16.IsSurrogate(r) {
					r2 := rune(-1)
					if s.ensure(6) && s.buf[s.pos] == '\\' && s.buf[s.pos+1] == 'u' {
						r2 = jsonHex4(s.buf[s.pos+2 : s.pos+6])
					}
					// A lone surrogate becomes U+FFFD, as in encoding/json.
					if r = utf16.DecodeRune(r, r2); r != utf8.RuneError {
						s.pos += 6
					}
				}
				b = utf8.AppendRune(b, r)
				continue
			default:
				s.pos++
				if e > ' ' && e < 0x7f {
					s.fail("invalid escape '\\" + string(rune(e)) + "'")
				} else {
					s.fail("invalid escape: '\\' then " + jsonDescribeByte(e))
				}
				return nil, false
			}
			s.pos += 2
		case c < 0x20:
			s.fail("invalid control character " + jsonDescribeByte(c) + " in string")
			return nil, false
		default:
			j := s.pos
			for j < len(buf) && !jsonStrStop[buf[j]] {
				j++
			}
			b = append(b, buf[s.pos:j]...)
			s.pos = j
		}
		if len(b) > JSONMaxString {
			b = b[:JSONMaxString] // may split a UTF-8 sequence; names stay printable by quoting
			s.noteCut()
			if !s.skipStringFrom(s.pos) {
				return nil, false
			}
			return b, true
		}
	}
}

// jsonHex4 decodes 4 hex digits, or returns -1.
func jsonHex4(b []byte) rune {
	var r rune
	for _, c := range b {
		v := hexVal[c]
		if v == 0xff {
			return -1
		}
		r = r<<4 | rune(v)
	}
	return r
}

// hexVal maps hex digits (either case) to their value and all else to 0xff.
var hexVal = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for c := byte('0'); c <= '9'; c++ {
		t[c] = c - '0'
	}
	for c := byte('a'); c <= 'f'; c++ {
		t[c] = c - 'a' + 10
		t[c-'a'+'A'] = c - 'a' + 10
	}
	return t
}()

// str reads a string value. For null or a value of another type it skips
// the value, sets s.got and returns false.
func (s *jsonScanner) str() ([]byte, bool) {
	if s.peek() == '"' {
		buf := s.buf[:s.end]
		st := s.pos + 1
		if i := jsonStrScan(buf, st); i < len(buf) && buf[i] == '"' && i-st <= JSONMaxString { // fast path
			s.pos = i + 1
			return buf[st:i], true
		}
		b, _, ok := s.readString(&s.scratch)
		return b, ok
	}
	s.mismatch()
	return nil, false
}

// mismatch skips a value of an unwanted type and names it in s.got.
func (s *jsonScanner) mismatch() {
	switch s.peek() {
	case 'n':
		s.got = "null"
	case 't', 'f':
		s.got = "a bool"
	case '{':
		s.got = "an object"
	case '[':
		s.got = "an array"
	case '"':
		s.got = "a string"
	default:
		s.got = "a number"
	}
	s.skipValue()
}

// int64 reads an integer given as a JSON number or as a decimal string (as
// protobuf JSON writes int64). Numbers with a fraction or exponent such as
// 1.5e9 are accepted and truncated toward zero. For null, other types or
// out-of-range values it returns false and sets s.got.
func (s *jsonScanner) int64() (int64, bool) {
	var b []byte
	switch c := s.peek(); {
	case c == '"':
		var ok bool
		if b, _, ok = s.readString(&s.scratch); !ok {
			return 0, false
		}
		if !jsonValidNumber(b) {
			s.got = jsonQuote(b)
			return 0, false
		}
	case c == '-' || c >= '0' && c <= '9':
		if b = s.number(); b == nil {
			return 0, false
		}
	default:
		s.mismatch()
		return 0, false
	}
	v, ok := jsonParseInt(b)
	if !ok {
		s.got = jsonQuote(b)
	}
	return v, ok
}

// jsonQuote quotes b for a message, shortened if long.
func jsonQuote(b []byte) string {
	if len(b) > 40 {
		return strconv.Quote(string(b[:40])) + "…"
	}
	return strconv.Quote(string(b))
}

// jsonNumChar marks the bytes a JSON number token may contain.
var jsonNumChar = func() (t [256]bool) {
	for _, c := range []byte("0123456789+-.eE") {
		t[c] = true
	}
	return t
}()

// number consumes a number token and returns it, or nil after an error.
func (s *jsonScanner) number() []byte {
	i := s.pos
	for {
		buf := s.buf[:s.end]
		for i < len(buf) && jsonNumChar[buf[i]] {
			i++
		}
		if i < len(buf) {
			break
		}
		n := i - s.pos
		if n > jsonMaxNumber {
			s.fail(fmt.Sprintf("number longer than %d bytes", jsonMaxNumber))
			return nil
		}
		more := s.refill() // may move the buffer even when nothing is added
		i = s.pos + n
		if !more {
			break
		}
	}
	b := s.buf[s.pos:i]
	if !jsonValidNumber(b) {
		if i == s.end && jsonValidNumber(append(b[:len(b):len(b)], '0')) {
			s.failEOF() // cut short, as in "12." or "1e"
		} else {
			s.fail("invalid number " + jsonQuote(b))
		}
		return nil
	}
	s.pos = i
	return b
}

// jsonValidNumber checks the JSON number grammar.
func jsonValidNumber(b []byte) bool {
	i := 0
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		j := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == j {
			return false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == j {
			return false
		}
	}
	return i == len(b)
}

// jsonParseInt converts a valid JSON number to int64, truncating a fraction;
// false if it is out of range.
func jsonParseInt(b []byte) (int64, bool) {
	neg := len(b) > 0 && b[0] == '-'
	d := b
	if neg {
		d = b[1:]
	}
	var u uint64
	for i, c := range d {
		if c < '0' || c > '9' {
			return jsonParseDecimal(b)
		}
		if i >= 18 && u > (math.MaxUint64-9)/10 {
			return 0, false
		}
		u = u*10 + uint64(c-'0')
	}
	return jsonSigned(u, neg)
}

// jsonSigned applies a sign to a magnitude; false if out of int64 range.
func jsonSigned(u uint64, neg bool) (int64, bool) {
	if neg {
		if u > 1<<63 {
			return 0, false
		}
		return -int64(u), true
	}
	if u > math.MaxInt64 {
		return 0, false
	}
	return int64(u), true
}

// jsonParseDecimal converts a valid JSON number with a fraction or an
// exponent to int64 exactly, truncating toward zero: Grafana writes
// nanosecond times as milliseconds × 1e6, e.g. 1556604172355.123e6, which a
// float64 would round by up to 128 ns.
func jsonParseDecimal(b []byte) (int64, bool) {
	neg := b[0] == '-'
	if neg {
		b = b[1:]
	}
	var digits [40]byte
	nd, point, seen := 0, 0, false // point: digits before the decimal point
	i := 0
	for ; i < len(b) && b[i] != 'e' && b[i] != 'E'; i++ {
		switch c := b[i]; {
		case c == '.':
			point, seen = nd, true
		case nd == 0 && c == '0':
			if seen {
				point-- // a leading zero after the point scales down
			}
		case nd < len(digits):
			digits[nd] = c
			nd++
		default:
			if !seen {
				return 0, false // more than 40 significant integer digits
			}
		}
	}
	if !seen {
		point = nd
	}
	exp := 0
	if i < len(b) {
		e, err := strconv.Atoi(strings.TrimPrefix(string(b[i+1:]), "+"))
		if err != nil || e > 40 || e < -400 {
			if err == nil && e < -400 {
				return 0, true
			}
			return 0, false
		}
		exp = e
	}
	intDigits := point + exp // digits of the integer part
	var u uint64
	for j := 0; j < intDigits; j++ {
		d := uint64(0)
		if j < nd {
			d = uint64(digits[j] - '0')
		}
		if u > (math.MaxUint64-9)/10 {
			return 0, false
		}
		u = u*10 + d
	}
	return jsonSigned(u, neg)
}

// micros reads a non-negative number of microseconds (Jaeger and Zipkin
// times and durations) that fits in int64 nanoseconds. A problem is noted
// in bad; null is just not read.
func (s *jsonScanner) micros(bad *otlpProblem, field string) (int64, bool) {
	v, ok := s.int64()
	switch {
	case !ok:
		if s.err == nil && s.got != "null" {
			bad.set(WarnInvalidTime, field, "want microseconds, got "+s.got)
		}
		return 0, false
	case v < 0 || v > math.MaxInt64/1000:
		bad.set(WarnInvalidTime, field, "want microseconds, got "+strconv.FormatInt(v, 10))
		return 0, false
	}
	return v, true
}

// boolean reads true/false, also as the strings "true"/"false" (as some
// Jaeger exports write bool tags). Otherwise like int64.
func (s *jsonScanner) boolean() (bool, bool) {
	switch s.peek() {
	case 't':
		return true, s.literal("true")
	case 'f':
		return false, s.literal("false")
	case '"':
		b, _, ok := s.readString(&s.scratch)
		if !ok {
			return false, false
		}
		switch string(b) {
		case "true":
			return true, true
		case "false":
			return false, true
		}
		s.got = jsonQuote(b)
		return false, false
	}
	s.mismatch()
	return false, false
}

// literal consumes true, false or null.
func (s *jsonScanner) literal(word string) bool {
	s.ensure(len(word))
	b := s.buf[s.pos:s.end]
	if len(b) > len(word) {
		b = b[:len(word)]
	}
	if string(b) == word {
		s.pos += len(word)
		return true
	}
	if len(b) < len(word) && word[:len(b)] == string(b) {
		s.failEOF()
		return false
	}
	s.fail("want " + word + ", got " + jsonQuote(b))
	return false
}

// jsonSkipStop marks the bytes skipNested must look at outside strings.
var jsonSkipStop = func() (t [256]bool) {
	for _, c := range []byte(`"{}[]`) {
		t[c] = true
	}
	return t
}()

// skipValue consumes one value of any type without decoding it.
func (s *jsonScanner) skipValue() {
	switch c := s.peek(); {
	case c == '"':
		s.skipStringFrom(s.pos + 1)
	case c == '{' || c == '[':
		s.skipNested()
	case c == 't':
		s.literal("true")
	case c == 'f':
		s.literal("false")
	case c == 'n':
		s.literal("null")
	case c == '-' || c >= '0' && c <= '9':
		s.number()
	default:
		s.unexpected("a value")
	}
}

// skipNested skips an object or array. For speed it checks only that
// brackets balance and strings are well formed; escapes and scalars inside
// are not validated.
func (s *jsonScanner) skipNested() { s.skipOpen(s.skipKind[:0]) }

// skipRest skips the rest of the innermost open object or array, as
// skipNested would, and closes it.
func (s *jsonScanner) skipRest() {
	open := byte('{')
	if s.stack[len(s.stack)-1].arr {
		open = '['
	}
	if s.skipOpen(append(s.skipKind[:0], open)) {
		s.stack = s.stack[:len(s.stack)-1]
	}
}

// skipOpen skips input until the brackets in kinds, and any opened on the
// way, are closed. It reports success.
func (s *jsonScanner) skipOpen(kinds []byte) bool {
	defer func() { s.skipKind = kinds }()
	i := s.pos
	inStr := false
	for {
		buf := s.buf[:s.end]
		for i < len(buf) {
			if inStr {
				if i = jsonStrScan(buf, i); i >= len(buf) {
					break
				}
				switch buf[i] {
				case '"':
					inStr = false
					i++
				case '\\':
					i += 2
				default:
					s.pos = i
					s.fail("invalid control character " + jsonDescribeByte(buf[i]) + " in string")
					return false
				}
				continue
			}
			for i < len(buf) && !jsonSkipStop[buf[i]] {
				i++
			}
			if i >= len(buf) {
				break
			}
			switch c := buf[i]; c {
			case '"':
				inStr = true
			case '{', '[':
				if len(kinds) >= jsonMaxDepth {
					s.pos = i
					s.fail("nesting deeper than 10000")
					return false
				}
				kinds = append(kinds, c)
			default: // '}' or ']': the opener is 2 below the closer in ASCII
				if len(kinds) == 0 || kinds[len(kinds)-1] != c-2 {
					s.pos = i
					s.fail("unbalanced " + jsonDescribeByte(c))
					return false
				}
				kinds = kinds[:len(kinds)-1]
				if len(kinds) == 0 {
					s.pos = i + 1
					return true
				}
			}
			i++
		}
		over := i - len(buf) // 1 when an escaped byte lies beyond the buffer
		s.pos = len(buf)
		if !s.refill() {
			s.failEOF()
			return false
		}
		i = s.pos + over
	}
}

// error returns the sticky error as an error (nil if none).
func (s *jsonScanner) error() error {
	if s.err == nil {
		return nil
	}
	return s.err
}

// scalar is a string, number or bool value read by jsonScanner.scalar.
type scalar struct {
	kind uint8 // scalarString, scalarInt, scalarBool, or 0 for anything else
	str  []byte
	n    int64
	b    bool
}

const (
	scalarString = 1 + iota
	scalarInt
	scalarBool
)

// scalar reads a string, number or bool; any other value (and a number out
// of int64 range) is skipped and has kind 0. str is valid until the next
// call on the scanner.
func (s *jsonScanner) scalar() scalar {
	switch c := s.peek(); {
	case c == '"':
		if b, ok := s.str(); ok {
			return scalar{kind: scalarString, str: b}
		}
	case c == 't' || c == 'f':
		if v, ok := s.boolean(); ok {
			return scalar{kind: scalarBool, b: v}
		}
	case c == '-' || c >= '0' && c <= '9':
		if v, ok := s.int64(); ok {
			return scalar{kind: scalarInt, n: v}
		}
	default:
		s.skipValue()
	}
	return scalar{}
}
