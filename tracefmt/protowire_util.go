package tracefmt

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"

	"google.golang.org/protobuf/encoding/protowire"
)

// Shared machinery of the binary protobuf decoders (OTLP and Jaeger). They
// are hand-written over protowire instead of proto.Unmarshal into generated
// types: that builds a tree of small objects for every span and every
// attribute, only to copy a few fields out of it.
//
// Streaming: the top level of a message (or of each length-prefixed record)
// is read field by field from a bufio.Reader; each top-level submessage
// (ResourceSpans, Jaeger Span) is read whole into one reusable buffer and
// decoded from memory. Input bytes held are therefore bounded by the largest
// such submessage, never by the file.

// pbMaxMessage bounds every length read at the top level (records,
// submessages): a corrupt length fails with a DecodeError instead of a huge
// allocation. Even within the bound, buffers grow only with bytes actually
// read.
const pbMaxMessage = 1 << 30

// pbReader reads the top level of a protobuf input and tracks the byte
// offset and record index for positions.
type pbReader struct {
	r      *bufio.Reader
	file   string
	record int   // current record of a stream; -1 for a single message
	off    int64 // bytes consumed
	end    int64 // offset where the current message ends; -1 = at EOF
	start  int64 // offset where the current message starts
	buf    []byte
	hdr    [4]byte // a record header; a field so that it does not escape per record
}

func newPBReader(r io.Reader, file string) *pbReader {
	return &pbReader{r: bufio.NewReaderSize(r, 64<<10), file: file, record: -1, end: -1}
}

// errAt builds a DecodeError at the given offset.
func (p *pbReader) errAt(off int64, path, format string, args ...any) *DecodeError {
	return &DecodeError{Pos: Pos{File: p.file, Offset: off, Record: p.record, Path: path}, Msg: fmt.Sprintf(format, args...)}
}

// wrap turns an error from decoding a buffered submessage into a
// DecodeError; prefix is the submessage's path, e.g. "resource_spans[3]".
func (p *pbReader) wrap(e *pbError, prefix string) *DecodeError {
	return &DecodeError{Pos: Pos{File: p.file, Offset: e.off, Record: p.record, Path: pbJoinPath(prefix, e.path)}, Msg: e.msg}
}

// ioErr describes a failed read of want bytes of which got arrived.
func (p *pbReader) ioErr(off int64, err error, what string, want, got int64) *DecodeError {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return p.errAt(off, "", "truncated %s: want %d bytes, got %d", what, want, got)
	}
	return p.errAt(off, "", "reading %s: %v", what, err)
}

// pbTop is a top-level field header.
type pbTop struct {
	num protowire.Number
	typ protowire.Type
	off int64 // offset of the tag
	n   int   // body length of a BytesType field
}

// next reads the next top-level field header of the current message. It
// returns ok=false at the message's end.
func (p *pbReader) next() (f pbTop, ok bool, err error) {
	f.off = p.off
	if p.end >= 0 && p.off >= p.end {
		return f, false, nil
	}
	tag, err := p.varint()
	if err == io.EOF && p.end < 0 {
		return f, false, nil
	}
	if err != nil {
		return f, false, p.headerErr(f.off, err, "field tag")
	}
	num, typ := protowire.DecodeTag(tag)
	if !num.IsValid() {
		return f, false, p.errAt(f.off, "", "invalid field number %d", int64(tag>>3))
	}
	f.num, f.typ = num, typ
	switch typ {
	case protowire.BytesType:
		n, err := p.varint()
		if err != nil {
			return f, false, p.headerErr(f.off, err, fmt.Sprintf("length of field %d", num))
		}
		if n > pbMaxMessage {
			return f, false, p.errAt(f.off, "", "field %d: length %d exceeds the 1 GiB limit", num, n)
		}
		f.n = int(n)
	case protowire.EndGroupType:
		return f, false, p.errAt(f.off, "", "unexpected end-group marker for field %d", num)
	case 6, 7:
		return f, false, p.errAt(f.off, "", "invalid wire type %d for field %d", typ, num)
	}
	return f, true, p.checkEnd(f, int64(f.n))
}

// checkEnd fails if the field, with more bytes still to read, runs past the
// end of the current record.
func (p *pbReader) checkEnd(f pbTop, more int64) error {
	if p.end >= 0 && p.off+more > p.end {
		return p.errAt(f.off, "", "field %d runs %d bytes past the end of the record (%d bytes, starting at offset %d)",
			f.num, p.off+more-p.end, p.end-p.start, p.start)
	}
	return nil
}

func (p *pbReader) headerErr(off int64, err error, what string) *DecodeError {
	switch {
	case err == pbErrOverflow:
		return p.errAt(off, "", "%s: varint longer than 10 bytes", what)
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		if p.end >= 0 {
			return p.errAt(off, "", "truncated %s: record wants %d bytes, input ends after %d", what, p.end-p.start, p.off-p.start)
		}
		return p.errAt(off, "", "truncated %s", what)
	}
	return p.errAt(off, "", "reading %s: %v", what, err)
}

var pbErrOverflow = errors.New("varint overflow")

// varint reads one varint; io.EOF means no byte was available at all.
func (p *pbReader) varint() (uint64, error) {
	var v uint64
	for i := 0; i < 10; i++ {
		c, err := p.r.ReadByte()
		if err != nil {
			if err == io.EOF && i > 0 {
				err = io.ErrUnexpectedEOF
			}
			return 0, err
		}
		p.off++
		v |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			return v, nil
		}
	}
	return 0, pbErrOverflow
}

// body reads the body of a BytesType field into the reusable buffer. The
// buffer grows (at most doubling) with the bytes that actually arrive, so a
// length claiming more than the input holds cannot cause a huge allocation.
func (p *pbReader) body(f pbTop) ([]byte, *DecodeError) {
	start := p.off
	b := p.buf[:0]
	for len(b) < f.n {
		if len(b) == cap(b) {
			b = slices.Grow(b, min(f.n-len(b), max(len(b), 64<<10)))
		}
		m, err := io.ReadFull(p.r, b[len(b):min(f.n, cap(b))])
		b = b[:len(b)+m]
		p.off += int64(m)
		if err != nil {
			p.buf = b
			return nil, p.ioErr(start, err, "message", int64(f.n), int64(len(b)))
		}
	}
	p.buf = b
	return b, nil
}

// skip discards the value of a top-level field.
func (p *pbReader) skip(f pbTop) error {
	switch f.typ {
	case protowire.VarintType:
		if _, err := p.varint(); err != nil {
			return p.headerErr(f.off, err, fmt.Sprintf("varint field %d", f.num))
		}
		return p.checkEnd(f, 0)
	case protowire.Fixed64Type, protowire.Fixed32Type, protowire.BytesType:
		n := f.n
		switch f.typ {
		case protowire.Fixed64Type:
			n = 8
		case protowire.Fixed32Type:
			n = 4
		}
		if err := p.checkEnd(f, int64(n)); err != nil {
			return err
		}
		m, err := p.r.Discard(n)
		p.off += int64(m)
		if err != nil {
			return p.ioErr(f.off, err, fmt.Sprintf("field %d", f.num), int64(n), int64(m))
		}
		return nil
	case protowire.StartGroupType:
		return p.skipGroup(f, 0)
	}
	return p.errAt(f.off, "", "invalid wire type %d for field %d", f.typ, f.num)
}

// skipGroup discards a (deprecated, but valid) group up to its end marker.
func (p *pbReader) skipGroup(g pbTop, depth int) error {
	if depth > 100 {
		return p.errAt(g.off, "", "groups nested more than 100 deep")
	}
	for {
		f := pbTop{off: p.off}
		tag, err := p.varint()
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return p.headerErr(f.off, err, fmt.Sprintf("group %d", g.num))
		}
		f.num, f.typ = protowire.DecodeTag(tag)
		if !f.num.IsValid() {
			return p.errAt(f.off, "", "invalid field number %d", int64(tag>>3))
		}
		switch f.typ {
		case protowire.EndGroupType:
			if f.num != g.num {
				return p.errAt(f.off, "", "end-group marker for field %d closes group %d", f.num, g.num)
			}
			return p.checkEnd(f, 0)
		case protowire.StartGroupType:
			err = p.skipGroup(f, depth+1)
		case protowire.BytesType:
			var n uint64
			if n, err = p.varint(); err == nil {
				if n > pbMaxMessage {
					return p.errAt(f.off, "", "field %d: length %d exceeds the 1 GiB limit", f.num, n)
				}
				f.n = int(n)
				err = p.skip(f)
			} else {
				err = p.headerErr(f.off, err, fmt.Sprintf("length of field %d", f.num))
			}
		default:
			err = p.skip(f)
		}
		if err != nil {
			return err
		}
	}
}

// records reads a stream of 4-byte big-endian length-prefixed messages,
// calling msg for each with p.start/p.end set to the record's body.
func (p *pbReader) records(msg func() error) error {
	for rec := 0; ; rec++ {
		p.record = rec
		off := p.off
		n, err := io.ReadFull(p.r, p.hdr[:])
		p.off += int64(n)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return p.ioErr(off, err, "record header", 4, int64(n))
		}
		size := int64(binary.BigEndian.Uint32(p.hdr[:]))
		if size > pbMaxMessage {
			return p.errAt(off, "", "record length %d exceeds the 1 GiB limit", size)
		}
		p.start, p.end = p.off, p.off+size
		if err := msg(); err != nil {
			return err
		}
	}
}

// pbError is an error inside a buffered submessage: the absolute offset,
// and the field path below the submessage, built only on failure.
type pbError struct {
	off  int64
	path string
	msg  string
}

// in prefixes the path with the enclosing field, e.g. "spans[4]".
func (e *pbError) in(seg string) *pbError {
	e.path = pbJoinPath(seg, e.path)
	return e
}

func pbJoinPath(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "." + b
}

// pbMsg walks the fields of an in-memory message.
type pbMsg struct {
	b    []byte
	i    int
	base int64 // stream offset of b[0]
}

// pbField is one field: v holds varint and fixed values, b a BytesType body.
type pbField struct {
	num  protowire.Number
	typ  protowire.Type
	v    uint64
	b    []byte
	off  int64 // offset of the tag
	boff int64 // offset of a BytesType body
}

// next decodes the next field into f; it returns false at the end or on
// error (err set).
func (m *pbMsg) next(f *pbField) (ok bool, err *pbError) {
	if m.i >= len(m.b) {
		return false, nil
	}
	f.off = m.base + int64(m.i)
	b := m.b[m.i:]
	var tag uint64
	n := 1
	if tag = uint64(b[0]); tag >= 0x80 {
		if tag, n = protowire.ConsumeVarint(b); n < 0 {
			return false, m.errf(f.off, "truncated or overlong field tag")
		}
	}
	f.num, f.typ = protowire.DecodeTag(tag)
	if !f.num.IsValid() {
		return false, m.errf(f.off, "invalid field number %d", int64(tag>>3))
	}
	b = b[n:]
	switch f.typ {
	case protowire.VarintType:
		if len(b) > 0 && b[0] < 0x80 {
			f.v, n = uint64(b[0]), 1
		} else if f.v, n = protowire.ConsumeVarint(b); n < 0 {
			return false, m.errf(f.off, "truncated or overlong varint in field %d", f.num)
		}
	case protowire.Fixed64Type:
		if len(b) < 8 {
			return false, m.errf(f.off, "truncated fixed64 field %d: want 8 bytes, got %d", f.num, len(b))
		}
		f.v, n = binary.LittleEndian.Uint64(b), 8
	case protowire.Fixed32Type:
		if len(b) < 4 {
			return false, m.errf(f.off, "truncated fixed32 field %d: want 4 bytes, got %d", f.num, len(b))
		}
		f.v, n = uint64(binary.LittleEndian.Uint32(b)), 4
	case protowire.BytesType:
		var l uint64
		if len(b) > 0 && b[0] < 0x80 {
			l, n = uint64(b[0]), 1
		} else if l, n = protowire.ConsumeVarint(b); n < 0 {
			return false, m.errf(f.off, "truncated or overlong length of field %d", f.num)
		}
		if l > uint64(len(b)-n) {
			return false, m.errf(f.off, "truncated message: field %d wants %d bytes, got %d", f.num, l, len(b)-n)
		}
		f.b = b[n : n+int(l)]
		f.boff = m.base + int64(len(m.b)-len(b)+n)
		n += int(l)
	case protowire.StartGroupType:
		if n = protowire.ConsumeFieldValue(f.num, f.typ, b); n < 0 {
			return false, m.errf(f.off, "malformed group for field %d: %v", f.num, protowire.ParseError(n))
		}
	case protowire.EndGroupType:
		return false, m.errf(f.off, "unexpected end-group marker for field %d", f.num)
	default:
		return false, m.errf(f.off, "invalid wire type %d for field %d", f.typ, f.num)
	}
	m.i = len(m.b) - len(b) + n
	return true, nil
}

func (m *pbMsg) errf(off int64, format string, args ...any) *pbError {
	return &pbError{off: off, msg: fmt.Sprintf(format, args...)}
}

// sub returns a walker over a BytesType field's body.
func (f *pbField) sub() pbMsg { return pbMsg{b: f.b, base: f.boff} }

// want fails unless f has wire type t (a known field with the wrong type
// means the input is not the message we think it is).
func (f *pbField) want(t protowire.Type, name string) *pbError {
	if f.typ == t {
		return nil
	}
	return f.wrongType(t, name)
}

// wrongType is want's slow path, apart so that want inlines.
func (f *pbField) wrongType(t protowire.Type, name string) *pbError {
	return &pbError{off: f.off, path: name, msg: fmt.Sprintf("want wire type %d (%s), got %d (%s)", t, pbTypeNames[t], f.typ, pbTypeNames[f.typ])}
}

// pbTypeNames names the wire types, by number.
var pbTypeNames = [...]string{"varint", "fixed64", "bytes", "start-group", "end-group", "fixed32", "reserved", "reserved"}

// pbDecimal parses a non-negative decimal integer of at most 9 digits, as
// an HTTP status sent as a string.
func pbDecimal(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 9 {
		return 0, false
	}
	var v int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	return v, true
}

// pbSpanID copies an 8-byte span ID; ok is false for other lengths.
func pbSpanID(b []byte) (id SpanID, ok bool) {
	if len(b) != len(id) {
		return id, false
	}
	copy(id[:], b)
	return id, true
}
