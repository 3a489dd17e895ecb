package receiver

import (
	"context"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	_ "google.golang.org/grpc/encoding/gzip" // accept gzip-compressed exports
	"google.golang.org/grpc/stats"
	"google.golang.org/grpc/status"
)

func newGRPCServer(r *Receiver) *grpc.Server {
	s := grpc.NewServer(
		grpc.MaxRecvMsgSize(int(min(r.cfg.MaxBody, 1<<31-1))),
		// gRPC refuses undecodable and oversized messages itself, before
		// the service sees them; the stats handler counts those refusals.
		grpc.StatsHandler(grpcStats{r}),
		// GracefulStop then waits for Export calls to have written.
		grpc.WaitForHandlers(true),
		// Through a handler, calls to other services reach the stats
		// handler, which counts them.
		grpc.UnknownServiceHandler(func(any, grpc.ServerStream) error {
			return status.Error(codes.Unimplemented, "this receiver only serves "+coltracepb.TraceService_ServiceDesc.ServiceName)
		}),
	)
	coltracepb.RegisterTraceServiceServer(s, &traceService{r: r})
	return s
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
	if !t.r.acquire(ctx) {
		t.r.fail(GRPC, FailOther)
		return nil, status.FromContextError(ctx.Err()).Err()
	}
	defer t.r.release()
	rejected, msg, err := t.r.accept(req, GRPC)
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	resp := &coltracepb.ExportTraceServiceResponse{}
	if rejected > 0 {
		resp.PartialSuccess = &coltracepb.ExportTracePartialSuccess{RejectedSpans: rejected, ErrorMessage: msg}
	}
	return resp, nil
}

// grpcStats counts payload bytes and the calls gRPC refused before Export
// ran; Export counts the calls it handles itself.
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
	switch s := s.(type) {
	case *stats.InPayload:
		g.r.addBytes(s.Length)
	case *stats.End:
		c, _ := ctx.Value(callKey{}).(*call)
		if c == nil || c.handled || s.Error == nil {
			return
		}
		switch code := status.Code(s.Error); {
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
}

func (g grpcStats) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context { return ctx }
func (g grpcStats) HandleConn(context.Context, stats.ConnStats)                       {}
