package pipeline

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"hopbudget/tracefmt"
)

// Keyed is a span on its way through the shuffle, with where it was read:
// File is the input's index in the list of matches and Seq the span's place
// in what tracefmt.Read returned for that file (traces in order of first
// appearance, each one's spans in input order). Sorting a trace's spans by
// (File, Seq) gives them the order the CLI reads them in, and sorting traces
// by their first (File, Seq) the CLI's order of first appearance, whatever
// order the shuffle delivers them in.
type Keyed struct {
	File int32
	Seq  int64
	Span tracefmt.Span
}

// A compact binary coder (registered in init): tracefmt.Span has a pointer
// and a slice, and Beam's default coders would spend field names or
// reflection on every one of millions of spans.

const (
	wireVersion = 1
	noAttrs     = 0
	hasAttrs    = 1
)

// encodeKeyed appends k's binary form. IDs are fixed-size; numbers are
// varints; strings are length-prefixed.
func encodeKeyed(k Keyed) []byte {
	s := &k.Span
	b := make([]byte, 0, 96+len(s.Service)+len(s.Operation))
	b = append(b, wireVersion)
	b = binary.AppendVarint(b, int64(k.File))
	b = binary.AppendVarint(b, k.Seq)
	b = append(b, s.TraceID[:]...)
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

// decodeKeyed reads what encodeKeyed wrote.
func decodeKeyed(b []byte) (Keyed, error) {
	d := decoder{b: b}
	var k Keyed
	if v := d.byte(); v != wireVersion && d.err == nil {
		return k, fmt.Errorf("span wire form: version %d, want %d", v, wireVersion)
	}
	k.File = int32(d.varint())
	k.Seq = d.varint()
	s := &k.Span
	d.bytes(s.TraceID[:])
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
		if n > uint64(len(d.b)) { // each ref takes 25 bytes: a lie, not an allocation
			d.err = errShort
		} else {
			s.Refs = make([]tracefmt.Ref, n)
			for i := range s.Refs {
				r := &s.Refs[i]
				d.bytes(r.TraceID[:])
				d.bytes(r.SpanID[:])
				r.Type = tracefmt.RefType(d.byte())
			}
		}
	}
	if d.err == nil && len(d.b) > 0 {
		d.err = fmt.Errorf("span wire form: %d bytes left over", len(d.b))
	}
	return k, d.err
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
