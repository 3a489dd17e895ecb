package receiver

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	_ "google.golang.org/grpc/encoding/gzip" // answer gzip-compressed exports in kind
	"google.golang.org/grpc/stats"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// gRPC is served through net/http (grpc.Server.ServeHTTP), so that one port
// takes both transports and both share one set of limits: the body of an
// Export call is read here, under the body deadline, MaxBody and the byte
// budget, before the call takes a slot and reaches gRPC.
func newGRPCServer(r *Receiver) *grpc.Server {
	s := grpc.NewServer(
		// The body was held to MaxBody and decompressed before gRPC sees it.
		grpc.MaxRecvMsgSize(int(min(r.cfg.MaxBody, 1<<31-1))),
		// gRPC refuses undecodable messages itself, before the service
		// sees them; the stats handler counts those refusals.
		grpc.StatsHandler(grpcStats{r}),
		// Through a handler, calls to other services reach the stats
		// handler, which counts them.
		grpc.UnknownServiceHandler(func(any, grpc.ServerStream) error {
			return status.Error(codes.Unimplemented, "this receiver only serves "+coltracepb.TraceService_ServiceDesc.ServiceName)
		}),
	)
	coltracepb.RegisterTraceServiceServer(s, &traceService{r: r})
	return s
}

// grpcPrefix is a gRPC message's frame header: a compressed flag and a
// 4-byte big-endian length.
const grpcPrefix = 5

// slotKey marks a call's context when its Export already holds a slot.
type slotKey struct{}

// serveGRPC reads an Export call's message, decompresses it and hands the
// call to gRPC; other calls go to gRPC as they are (it answers them
// UNIMPLEMENTED without reading them).
func (r *Receiver) serveGRPC(w http.ResponseWriter, q *http.Request) {
	// A client that took OTEL_EXPORTER_OTLP_TRACES_ENDPOINT's path as a
	// prefix of the method's still reaches Export.
	if m := coltracepb.TraceService_Export_FullMethodName; q.URL.Path != m && strings.HasSuffix(q.URL.Path, m) {
		q.URL.Path = m
	}
	if q.URL.Path != coltracepb.TraceService_Export_FullMethodName {
		r.grpc.ServeHTTP(w, q)
		return
	}

	r.bodyDeadline(w)
	l := &lease{b: &r.bytes}
	defer l.release()
	frame, err := r.readGRPCMessage(q.Body, l)
	if err != nil {
		r.addBytes(max(0, len(frame)-grpcPrefix))
		fail, msg := r.readFailure(err)
		r.fail(GRPC, fail)
		writeGRPCStatus(w, grpcFailStatus(r, fail, msg))
		return
	}
	if !r.acquire(q.Context()) {
		r.fail(GRPC, FailOther) // the client went away while waiting
		return
	}
	defer r.release()

	if len(frame) >= grpcPrefix && frame[0] == 1 {
		// Compressed: decompressed here, to hold the result to MaxBody and
		// count it, and so for any encoding this receiver reads (gzip,
		// zstd), not only those registered with gRPC.
		enc := q.Header.Get("Grpc-Encoding")
		out, fail, err := r.decompress(enc, frame[grpcPrefix:], make([]byte, grpcPrefix), l)
		if err != nil {
			r.addBytes(max(0, len(out)-grpcPrefix))
			r.fail(GRPC, fail)
			if fail == FailEncoding {
				err = fmt.Errorf("grpc-encoding %q: want gzip or zstd", enc)
			}
			writeGRPCStatus(w, grpcFailStatus(r, fail, err.Error()))
			return
		}
		binary.BigEndian.PutUint32(out[1:], uint32(len(out)-grpcPrefix))
		out[0] = 0
		frame = out
		q.Header.Del("Grpc-Encoding")
	}
	r.addBytes(max(0, len(frame)-grpcPrefix))
	q.Body = io.NopCloser(bytes.NewReader(frame))
	r.grpc.ServeHTTP(w, q.WithContext(context.WithValue(q.Context(), slotKey{}, true)))
}

// readGRPCMessage reads a unary call's one length-prefixed message. The
// announced length is checked before anything else is read, and the
// buffer grows only as the message arrives.
func (r *Receiver) readGRPCMessage(body io.Reader, l *lease) ([]byte, error) {
	frame := make([]byte, grpcPrefix, grpcPrefix+firstRead)
	if !l.grow(int64(cap(frame))) {
		return frame[:0], errBusy
	}
	if _, err := io.ReadFull(body, frame); err != nil {
		if errors.Is(err, io.EOF) {
			return frame[:0], nil // no message at all: gRPC says so
		}
		return frame[:0], err
	}
	n := int64(binary.BigEndian.Uint32(frame[1:]))
	if n > r.cfg.MaxBody {
		return frame, errTooLarge
	}
	frame, err := readAll(body, frame, grpcPrefix+n, l)
	if errors.Is(err, errTooLarge) {
		err = nil // more than one message: gRPC refuses it as a unary call
		frame = frame[:grpcPrefix+n]
	}
	return frame, err
}

// grpcFailStatus is the status answering a refusal counted as fail.
func grpcFailStatus(r *Receiver, fail, msg string) *status.Status {
	switch fail {
	case FailBusy:
		return r.busyStatus()
	case FailTooLarge:
		return status.New(codes.ResourceExhausted, msg)
	case FailTimeout:
		return status.New(codes.DeadlineExceeded, msg)
	case FailEncoding:
		return status.New(codes.Unimplemented, msg)
	}
	return status.New(codes.InvalidArgument, msg)
}

// writeGRPCStatus answers a call with st alone (a trailers-only response),
// as gRPC itself would, details included.
func writeGRPCStatus(w http.ResponseWriter, st *status.Status) {
	h := w.Header()
	h.Set("Content-Type", "application/grpc")
	h.Set("Grpc-Status", strconv.Itoa(int(st.Code())))
	h.Set("Grpc-Message", percentEncode(st.Message()))
	if p := st.Proto(); len(p.Details) > 0 {
		if b, err := proto.Marshal(p); err == nil {
			h.Set("Grpc-Status-Details-Bin", base64.RawStdEncoding.EncodeToString(b))
		}
	}
	w.WriteHeader(http.StatusOK)
}

// percentEncode encodes a grpc-message as the gRPC HTTP/2 protocol asks:
// printable ASCII but '%' as is, every other byte as %XX.
func percentEncode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= ' ' && c <= '~' && c != '%' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

type traceService struct {
	coltracepb.UnimplementedTraceServiceServer
	r *Receiver
}

// Export is OTLP/gRPC TraceService/Export.
func (t *traceService) Export(ctx context.Context, req *coltracepb.ExportTraceServiceRequest) (*coltracepb.ExportTraceServiceResponse, error) {
	if c, ok := ctx.Value(callKey{}).(*call); ok {
		c.handled = true
	}
	if held, _ := ctx.Value(slotKey{}).(bool); !held {
		if !t.r.acquire(ctx) {
			t.r.fail(GRPC, FailOther)
			return nil, status.FromContextError(ctx.Err()).Err()
		}
		defer t.r.release()
	}
	rejected, msg, err := t.r.accept(req, GRPC)
	if err != nil {
		// The recording failed: nothing more is acknowledged, and the
		// client may deliver elsewhere or later.
		return nil, status.Error(codes.Unavailable, err.Error())
	}
	resp := &coltracepb.ExportTraceServiceResponse{}
	if rejected > 0 {
		resp.PartialSuccess = &coltracepb.ExportTracePartialSuccess{RejectedSpans: rejected, ErrorMessage: msg}
	}
	return resp, nil
}

// grpcStats counts the calls gRPC refused before Export ran; Export counts
// the calls it handles itself, serveGRPC those it refuses.
type grpcStats struct{ r *Receiver }

// call is one RPC's state, carried from TagRPC to End in its context.
type call struct {
	export  bool // TraceService/Export, not some other method
	handled bool // Export ran (set before End, on the same call)
}

type callKey struct{}

func (g grpcStats) TagRPC(ctx context.Context, info *stats.RPCTagInfo) context.Context {
	return context.WithValue(ctx, callKey{}, &call{export: info.FullMethodName == coltracepb.TraceService_Export_FullMethodName})
}

func (g grpcStats) HandleRPC(ctx context.Context, s stats.RPCStats) {
	end, ok := s.(*stats.End)
	if !ok {
		return
	}
	c, _ := ctx.Value(callKey{}).(*call)
	if c == nil || c.handled || end.Error == nil {
		return
	}
	switch code := status.Code(end.Error); {
	case !c.export:
		g.r.fail(GRPC, FailNotFound)
	case code == codes.ResourceExhausted:
		g.r.fail(GRPC, FailTooLarge)
	case code == codes.Internal:
		g.r.fail(GRPC, FailUndecodable) // "grpc: error unmarshalling request"
	default:
		g.r.fail(GRPC, FailOther)
	}
}

func (g grpcStats) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context { return ctx }
func (g grpcStats) HandleConn(context.Context, stats.ConnStats)                       {}
