package tracefmt

import "io"

// decodeJaegerProtoStream reads records of a 4-byte big-endian length and a
// jaeger-idl api_v2 Batch (tracegen's jaeger-proto output), one record at a
// time.
func decodeJaegerProtoStream(r io.Reader, file string, k *Sink) error {
	d := newJaegerProtoDecoder(r, file, k)
	return d.p.records(d.message)
}
