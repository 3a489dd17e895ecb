package pipeline

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"hopbudget/tracefmt"
)

// Fragment is the spans of one trace read from one file, on their way
// through the shuffle (one element per trace and file, not per span: the
// shuffle's cost is per element). File is the input's index in the list of
// matches and Seq the first span's place in what tracefmt.Read returned for
// that file (traces in order of first appearance, each one's spans in input
// order, so a fragment's spans have consecutive places). Sorting a trace's
// fragments by (File, Seq) gives its spans the order the CLI reads them in,
// and sorting traces by their first (File, Seq) the CLI's order of first
// appearance, whatever order the shuffle delivers them in.
type Fragment struct {
	File  int32
	Seq   int64
	Spans []tracefmt.Span
}

// A compact binary coder (registered in init): tracefmt.Span has a pointer
// and a slice, and Beam's default coders would spend field names or
// reflection on every one of millions of spans.

const (
	wireVersion = 1
	noAttrs     = 0
	hasAttrs    = 1
)

// encodeFragment returns f's binary form. IDs are fixed-size; numbers are
// varints; strings are length-prefixed. Spans of one fragment share the
// trace ID, written once.
func encodeFragment(f Fragment) []byte {
	b := make([]byte, 0, 32+64*len(f.Spans))
	b = append(b, wireVersion)
	b = binary.AppendVarint(b, int64(f.File))
	b = binary.AppendVarint(b, f.Seq)
	b = binary.AppendUvarint(b, uint64(len(f.Spans)))
	if len(f.Spans) == 0 {
		return b
	}
	b = append(b, f.Spans[0].TraceID[:]...)
	for i := range f.Spans {
		b = appendSpan(b, &f.Spans[i], f.Spans[0].TraceID)
	}
	return b
}

func appendSpan(b []byte, s *tracefmt.Span, trace tracefmt.TraceID) []byte {
	if s.TraceID == trace {
		b = append(b, 0)
	} else { // not from tracefmt.Read's grouping, but kept faithfully
		b = append(b, 1)
		b = append(b, s.TraceID[:]...)
	}
	b = append(b, s.SpanID[:]...)
	b = append(b, s.Parent[:]...)
	b = binary.AppendVarint(b, s.Start)
	b = binary.AppendVarint(b, s.End-s.Start)
	b = appendString(b, s.Service)
	b = appendString(b, s.Operation)
	b = append(b, byte(s.Kind), byte(s.Status), boolByte(s.ParentFollowsFrom))
	if a := s.Attrs; a == nil {
		b = append(b, noAttrs)
	} else {
		b = append(b, hasAttrs)
		for _, v := range attrStrings(a) {
			b = appendString(b, *v)
		}
		b = binary.AppendVarint(b, int64(a.HTTPStatus))
	}
	b = binary.AppendUvarint(b, uint64(len(s.Refs)))
	for _, r := range s.Refs {
		b = append(b, r.TraceID[:]...)
		b = append(b, r.SpanID[:]...)
		b = append(b, byte(r.Type))
	}
	return b
}

// decodeFragment reads what encodeFragment wrote.
func decodeFragment(b []byte) (Fragment, error) {
	d := decoder{b: b}
	var f Fragment
	if v := d.byte(); v != wireVersion && d.err == nil {
		return f, fmt.Errorf("span wire form: version %d, want %d", v, wireVersion)
	}
	f.File = int32(d.varint())
	f.Seq = d.varint()
	// Every span takes more than 16 bytes: a count beyond that is a lie,
	// not an allocation.
	if n := d.uvarint(); n > uint64(len(d.b))/16 {
		d.fail()
	} else if n > 0 {
		var trace tracefmt.TraceID
		d.bytes(trace[:])
		f.Spans = make([]tracefmt.Span, n)
		for i := range f.Spans {
			d.span(&f.Spans[i], trace)
		}
	}
	if d.err == nil && len(d.b) > 0 {
		d.err = fmt.Errorf("span wire form: %d bytes left over", len(d.b))
	}
	return f, d.err
}

func (d *decoder) span(s *tracefmt.Span, trace tracefmt.TraceID) {
	s.TraceID = trace
	if d.byte() != 0 {
		d.bytes(s.TraceID[:])
	}
	d.bytes(s.SpanID[:])
	d.bytes(s.Parent[:])
	s.Start = d.varint()
	s.End = s.Start + d.varint()
	s.Service = d.string()
	s.Operation = d.string()
	s.Kind = tracefmt.Kind(d.byte())
	s.Status = tracefmt.StatusCode(d.byte())
	s.ParentFollowsFrom = d.byte() != 0
	if d.byte() == hasAttrs {
		a := new(tracefmt.Attrs)
		for _, v := range attrStrings(a) {
			*v = d.string()
		}
		a.HTTPStatus = int32(d.varint())
		s.Attrs = a
	}
	if n := d.uvarint(); n > 0 && d.err == nil {
		if n > uint64(len(d.b))/25 { // each ref takes 25 bytes
			d.fail()
			return
		}
		s.Refs = make([]tracefmt.Ref, n)
		for i := range s.Refs {
			r := &s.Refs[i]
			d.bytes(r.TraceID[:])
			d.bytes(r.SpanID[:])
			r.Type = tracefmt.RefType(d.byte())
		}
	}
}

// attrStrings lists the string fields of a in a fixed order.
func attrStrings(a *tracefmt.Attrs) []*string {
	return []*string{&a.PeerService, &a.ServerAddress, &a.DBSystem, &a.HTTPMethod, &a.HTTPRoute,
		&a.RPCSystem, &a.RPCService, &a.RPCMethod, &a.Messaging, &a.DBStatement}
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func boolByte(v bool) byte {
	if v {
		return 1
	}
	return 0
}

var errShort = errors.New("span wire form: truncated")

// decoder reads the wire form; the first error sticks and later reads
// return zero values.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) byte() byte {
	if d.err != nil || len(d.b) < 1 {
		d.fail()
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

func (d *decoder) bytes(dst []byte) {
	if d.err != nil || len(d.b) < len(dst) {
		d.fail()
		return
	}
	copy(dst, d.b)
	d.b = d.b[len(dst):]
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) string() string {
	n := d.uvarint()
	if d.err != nil || n > uint64(len(d.b)) || n > math.MaxInt32 {
		d.fail()
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

func (d *decoder) fail() {
	if d.err == nil {
		d.err = errShort
	}
}
