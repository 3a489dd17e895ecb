package tracefmt

import (
	"bytes"
	"fmt"
	"io"
	"strconv"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"hopbudget/grammar"
)

// decodeOTLPProtoStream reads the collector file exporter's length-prefixed
// format: records of a 4-byte big-endian length and an
// ExportTraceServiceRequest. With `compression` set the exporter compresses
// each record on its own (zstd; gzip is accepted too), and with `format:
// json` plus compression each record is a compressed OTLP/JSON document.
// Plain protobuf records are decoded as they arrive, never read whole; a
// compressed record is read whole and expanded in memory.
func decodeOTLPProtoStream(r io.Reader, file string, k *Sink) error {
	d := newOTLPProtoDecoder(r, file, k)
	c := &recordCodec{file: file, k: k}
	defer c.close()
	return d.p.records(func() error {
		head, _ := d.p.r.Peek(4)
		if d.p.end-d.p.start < int64(len(head)) {
			head = head[:d.p.end-d.p.start]
		}
		if !isCompressed(head) && !(len(head) > 0 && head[0] == '{') {
			return d.message()
		}
		return c.record(d)
	})
}

// recordCodec expands compressed records; its decompressors and buffers
// are reused from one record to the next.
type recordCodec struct {
	file  string
	k     *Sink
	zr    *zstd.Decoder
	gr    *gzip.Reader
	out   bytes.Buffer
	inner *otlpProtoDecoder
}

func (c *recordCodec) close() {
	if c.zr != nil {
		c.zr.Close()
	}
}

// record reads the current record of d's stream whole, expands it and
// decodes it as protobuf or JSON. Positions inside it are offsets in the
// expanded record.
func (c *recordCodec) record(d *otlpProtoDecoder) error {
	p := d.p
	start := p.start
	body, derr := p.body(pbTop{off: start, n: int(p.end - p.start)})
	if derr != nil {
		return derr
	}
	c.out.Reset()
	var kind string
	var src io.Reader = bytes.NewReader(body)
	switch {
	case len(body) >= 4 && string(body[:4]) == "\x28\xb5\x2f\xfd":
		kind = "zstd"
		if c.zr == nil {
			zr, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(pbMaxMessage))
			if err != nil {
				return p.errAt(start, "", "zstd: %v", err)
			}
			c.zr = zr
		}
		if err := c.zr.Reset(src); err != nil {
			return p.errAt(start, "", "zstd record: %v", err)
		}
		src = c.zr
	case len(body) >= 2 && body[0] == 0x1f && body[1] == 0x8b:
		kind = "gzip"
		var err error
		if c.gr == nil {
			c.gr, err = gzip.NewReader(src)
		} else {
			err = c.gr.Reset(src)
		}
		if err != nil {
			return p.errAt(start, "", "gzip record: %v", err)
		}
		src = c.gr
	}
	if kind != "" {
		// Each record is bounded by pbMaxMessage, and all of an input's
		// records together by the input's decompression cap.
		left := c.k.expandLeft
		if left == 0 {
			left = DefaultMaxDecompressed
		}
		limit := min(int64(pbMaxMessage), left)
		n, err := c.out.ReadFrom(io.LimitReader(src, limit+1))
		if err != nil {
			return p.errAt(start, "", "%s record: %v (at offset %d of the expanded record)", kind, err, n)
		}
		if n > limit {
			if limit < pbMaxMessage {
				return p.errAt(start, "", "%s records: decompressed size exceeds the limit of %s (--max-decompressed)",
					kind, grammar.FormatBytes(c.k.expandCap))
			}
			return p.errAt(start, "", "%s record expands beyond the 1 GiB limit", kind)
		}
		c.k.expandLeft = left - n
		body = c.out.Bytes()
	}
	file := fmt.Sprintf("%s: record %d (expanded)", c.file, p.record)
	if kind == "" {
		file = fmt.Sprintf("%s: record %d", c.file, p.record)
	}
	var err error
	if t := bytes.TrimLeft(body, " \t\r\n"); len(t) > 0 && t[0] == '{' {
		// format: json with compression: one OTLP/JSON document per record.
		err = decodeOTLPJSON(bytes.NewReader(body), file, c.k)
	} else {
		if c.inner == nil {
			c.inner = newOTLPProtoDecoder(nil, file, c.k)
		}
		in := c.inner
		in.p.r.Reset(bytes.NewReader(body))
		in.p.file, in.p.off, in.p.end, in.p.start = file, 0, -1, 0
		err = in.message()
	}
	// Errors inside the record point at the record in the stream and say
	// where inside it.
	if de, ok := err.(*DecodeError); ok {
		where := "offset " + strconv.FormatInt(de.Offset, 10)
		if de.Line > 0 {
			where = "line " + strconv.Itoa(de.Line) + ", " + where
		}
		inside := "record"
		if kind != "" {
			inside = "expanded record"
		}
		return &DecodeError{Pos: Pos{File: c.file, Offset: start, Record: p.record, Path: de.Path},
			Msg: de.Msg + " (at " + where + " of the " + inside + ")"}
	}
	return err
}
