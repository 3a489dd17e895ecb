package tracefmt

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// The spill files' record format: the neutral model, compact and binary.
// A file is a sequence of records, each one span:
//
//	record  = uvarint(len) body                   len = the body's bytes
//	body    = uvarint(file) uvarint(seq - prevSeq) traceID[16] spanID[8] parent[8]
//	          varint(start - prevStart) uvarint(end - start)
//	          str(service) str(operation) attrs
//	          kind status flags uvarint(nrefs) { traceID[16] spanID[8] type }
//	str     = uvarint(0) uvarint(n) bytes[n]      a string used once
//	        | uvarint(1) uvarint(n) bytes[n]      a string, added to the file's table
//	        | uvarint(2+i)                        the table's string i
//	attrs   = uvarint(0) attrsBody | uvarint(1) attrsBody | uvarint(2+i)   (as str)
//	attrsBody = str × 10 (the Attrs strings in field order) varint(HTTPStatus)
//
// file is the input's number (Sink.fileNo), seq the span's index among all
// kept spans (so the first appearance of a trace, and input order, are
// known after partitioning). The tables are per file and capped, so that a
// writer's memory stays bounded whatever the strings' cardinality.

// spillTableMax caps each file's string and attribute tables.
const spillTableMax = 4096

// spillRecordMax bounds a record's length (a span with very many
// references is still far below it).
const spillRecordMax = 64 << 20

// spillMeta is what a record carries besides the span.
type spillMeta struct {
	file int32
	seq  int64
}

// spillEncoder writes records to w.
type spillEncoder struct {
	w         *bufio.Writer
	strs      map[string]uint64
	attrs     map[*Attrs]uint64
	prevSeq   int64
	prevStart int64
	buf       []byte
}

func newSpillEncoder(w *bufio.Writer) *spillEncoder {
	return &spillEncoder{w: w, strs: map[string]uint64{}, attrs: map[*Attrs]uint64{}}
}

func (e *spillEncoder) str(s string) {
	if i, ok := e.strs[s]; ok {
		e.buf = binary.AppendUvarint(e.buf, 2+i)
		return
	}
	tag := uint64(0)
	if len(e.strs) < spillTableMax {
		e.strs[s] = uint64(len(e.strs))
		tag = 1
	}
	e.buf = binary.AppendUvarint(e.buf, tag)
	e.buf = binary.AppendUvarint(e.buf, uint64(len(s)))
	e.buf = append(e.buf, s...)
}

func (e *spillEncoder) attrsRef(a *Attrs) {
	if i, ok := e.attrs[a]; ok {
		e.buf = binary.AppendUvarint(e.buf, 2+i)
		return
	}
	tag := uint64(0)
	if len(e.attrs) < spillTableMax {
		e.attrs[a] = uint64(len(e.attrs))
		tag = 1
	}
	e.buf = binary.AppendUvarint(e.buf, tag)
	for _, s := range [...]string{a.PeerService, a.ServerAddress, a.DBSystem, a.HTTPMethod, a.HTTPRoute,
		a.RPCSystem, a.RPCService, a.RPCMethod, a.Messaging, a.DBStatement} {
		e.str(s)
	}
	e.buf = binary.AppendVarint(e.buf, int64(a.HTTPStatus))
}

// encode writes one span. seq must not decrease from one call to the next.
func (e *spillEncoder) encode(s *Span, m spillMeta) error {
	e.buf = e.buf[:0]
	e.buf = binary.AppendUvarint(e.buf, uint64(m.file))
	e.buf = binary.AppendUvarint(e.buf, uint64(m.seq-e.prevSeq))
	e.prevSeq = m.seq
	e.buf = append(e.buf, s.TraceID[:]...)
	e.buf = append(e.buf, s.SpanID[:]...)
	e.buf = append(e.buf, s.Parent[:]...)
	e.buf = binary.AppendVarint(e.buf, s.Start-e.prevStart)
	e.prevStart = s.Start
	e.buf = binary.AppendUvarint(e.buf, uint64(s.End-s.Start))
	e.str(s.Service)
	e.str(s.Operation)
	a := s.Attrs
	if a == nil {
		a = &Attrs{}
	}
	e.attrsRef(a)
	var flags byte
	if s.ParentFollowsFrom {
		flags = 1
	}
	e.buf = append(e.buf, byte(s.Kind), byte(s.Status), flags)
	e.buf = binary.AppendUvarint(e.buf, uint64(len(s.Refs)))
	for _, r := range s.Refs {
		e.buf = append(e.buf, r.TraceID[:]...)
		e.buf = append(e.buf, r.SpanID[:]...)
		e.buf = append(e.buf, byte(r.Type))
	}
	var n [binary.MaxVarintLen64]byte
	if _, err := e.w.Write(binary.AppendUvarint(n[:0], uint64(len(e.buf)))); err != nil {
		return err
	}
	_, err := e.w.Write(e.buf)
	return err
}

// spillDecoder reads records back. Strings and attribute sets are interned
// per decoder, so the spans of one partition share them as a Sink's do.
type spillDecoder struct {
	r         *bufio.Reader
	strs      []string
	attrs     []*Attrs
	inStrs    map[string]string
	inAttrs   map[Attrs]*Attrs
	prevSeq   int64
	prevStart int64
	buf       []byte
	b         []byte // the rest of the record being decoded
	refs      []Ref  // arena for the spans' references
}

func newSpillDecoder(r *bufio.Reader) *spillDecoder {
	return &spillDecoder{r: r, inStrs: map[string]string{}, inAttrs: map[Attrs]*Attrs{}}
}

var errSpillCorrupt = errors.New("corrupt record")

func (d *spillDecoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		panic(errSpillCorrupt)
	}
	d.b = d.b[n:]
	return v
}

func (d *spillDecoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		panic(errSpillCorrupt)
	}
	d.b = d.b[n:]
	return v
}

func (d *spillDecoder) bytes(n uint64) []byte {
	if n > uint64(len(d.b)) {
		panic(errSpillCorrupt)
	}
	b := d.b[:n]
	d.b = d.b[n:]
	return b
}

func (d *spillDecoder) intern(b []byte) string {
	if s, ok := d.inStrs[string(b)]; ok {
		return s
	}
	s := string(b)
	d.inStrs[s] = s
	return s
}

func (d *spillDecoder) str() string {
	tag := d.uvarint()
	if tag >= 2 {
		if tag-2 >= uint64(len(d.strs)) {
			panic(errSpillCorrupt)
		}
		return d.strs[tag-2]
	}
	s := d.intern(d.bytes(d.uvarint()))
	if tag == 1 {
		d.strs = append(d.strs, s)
	}
	return s
}

func (d *spillDecoder) attrsRef() *Attrs {
	tag := d.uvarint()
	if tag >= 2 {
		if tag-2 >= uint64(len(d.attrs)) {
			panic(errSpillCorrupt)
		}
		return d.attrs[tag-2]
	}
	var a Attrs
	for _, p := range [...]*string{&a.PeerService, &a.ServerAddress, &a.DBSystem, &a.HTTPMethod, &a.HTTPRoute,
		&a.RPCSystem, &a.RPCService, &a.RPCMethod, &a.Messaging, &a.DBStatement} {
		*p = d.str()
	}
	st := d.varint()
	if int64(int32(st)) != st {
		panic(errSpillCorrupt)
	}
	a.HTTPStatus = int32(st)
	p, ok := d.inAttrs[a]
	if !ok {
		p = new(Attrs)
		*p = a
		d.inAttrs[a] = p
	}
	if tag == 1 {
		d.attrs = append(d.attrs, p)
	}
	return p
}

// decode reads the next record into s; io.EOF at the end of the file.
// s.Refs points into an arena shared by the spans of this decoder.
func (d *spillDecoder) decode(s *Span, m *spillMeta) (err error) {
	n, err := binary.ReadUvarint(d.r)
	if err != nil {
		if err == io.EOF {
			return io.EOF
		}
		return fmt.Errorf("record length: %w", err)
	}
	if n > spillRecordMax {
		return errSpillCorrupt
	}
	if uint64(cap(d.buf)) < n {
		d.buf = make([]byte, n)
	}
	d.buf = d.buf[:n]
	if _, err := io.ReadFull(d.r, d.buf); err != nil {
		return fmt.Errorf("record: %w", err)
	}
	d.b = d.buf
	defer func() {
		if r := recover(); r != nil {
			if r != errSpillCorrupt {
				panic(r)
			}
			err = errSpillCorrupt
		}
	}()
	file := d.uvarint()
	if file > 1<<31-1 {
		return errSpillCorrupt
	}
	m.file = int32(file)
	m.seq = d.prevSeq + int64(d.uvarint())
	d.prevSeq = m.seq
	*s = Span{}
	copy(s.TraceID[:], d.bytes(16))
	copy(s.SpanID[:], d.bytes(8))
	copy(s.Parent[:], d.bytes(8))
	s.Start = d.prevStart + d.varint()
	d.prevStart = s.Start
	s.End = s.Start + int64(d.uvarint())
	s.Service = d.str()
	s.Operation = d.str()
	s.Attrs = d.attrsRef()
	f := d.bytes(3)
	s.Kind, s.Status, s.ParentFollowsFrom = Kind(f[0]), StatusCode(f[1]), f[2]&1 != 0
	nr := d.uvarint()
	if nr > uint64(len(d.b))/25 {
		return errSpillCorrupt
	}
	if nr > 0 {
		if cap(d.refs)-len(d.refs) < int(nr) {
			d.refs = make([]Ref, 0, max(int(nr), 256))
		}
		from := len(d.refs)
		for range nr {
			var r Ref
			copy(r.TraceID[:], d.bytes(16))
			copy(r.SpanID[:], d.bytes(8))
			r.Type = RefType(d.bytes(1)[0])
			d.refs = append(d.refs, r)
		}
		s.Refs = d.refs[from:len(d.refs):len(d.refs)]
	}
	if len(d.b) != 0 {
		return errSpillCorrupt
	}
	return nil
}
