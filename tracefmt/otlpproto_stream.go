package tracefmt

import "io"

// decodeOTLPProtoStream reads the collector file exporter's proto format:
// records of a 4-byte big-endian length and an ExportTraceServiceRequest.
// Records are decoded as they arrive, never read whole.
func decodeOTLPProtoStream(r io.Reader, file string, k *Sink) error {
	d := newOTLPProtoDecoder(r, file, k)
	return d.p.records(d.message)
}
