// Package receiver is an OTLP trace receiver that records what it is
// sent: OTLP/HTTP (POST /v1/traces, protobuf or JSON, optionally gzip or
// zstd, over HTTP/1.1 or cleartext HTTP/2) and OTLP/gRPC
// (TraceService/Export), both on one port. Every accepted request is
// decoded into the generated OTLP types and written losslessly, one line of
// OTLP/JSON each, by a Writer, and acknowledged once written; tracefmt
// reads the file back as otlp-json.
//
// It answers as the OTLP specification says: success, partial success with
// the count of rejected spans, 400 for undecodable bodies, 413 over the body
// limit, 415 for unknown content types or encodings, 429 / RESOURCE_EXHAUSTED
// with a retry delay when busy, 500 / UNAVAILABLE once the output failed.
// Nothing a client sends, or fails to send, can stop it from serving the
// others (see Config); everything refused is counted.
package receiver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/klauspost/compress/zstd"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	"google.golang.org/grpc"

	"hopbudget/tracefmt"
)

// Config configures a Receiver. Its zero value is the default.
type Config struct {
	// MaxBody limits a request's body, before and after decompression
	// (0: DefaultMaxBody). Larger requests get 413 / RESOURCE_EXHAUSTED.
	MaxBody int64
	// MaxInFlight bounds the requests decompressed and decoded at once, and
	// so CPU and the memory of decoded requests (0: 2 × GOMAXPROCS, at
	// least 4). Bodies are read before a request takes one of these, so
	// slow clients never hold them.
	MaxInFlight int
	// MaxInFlightBytes bounds the request bytes held at once, bodies as
	// received plus their decompressed form, over all transports (0: 4 ×
	// MaxBody; never less than 2 × MaxBody, so one largest request always
	// fits). A request that would pass it is refused with 429 /
	// RESOURCE_EXHAUSTED and a retry delay (Retry-After / RetryInfo).
	MaxInFlightBytes int64
	// BodyTimeout is how long a request's body may take to arrive after
	// its headers (0: DefaultBodyTimeout); later ones get 408 /
	// DEADLINE_EXCEEDED.
	BodyTimeout time.Duration
	// HeaderTimeout is how long an HTTP/1 request's headers may take
	// (0: DefaultHeaderTimeout).
	HeaderTimeout time.Duration
}

func (c Config) withDefaults() Config {
	if c.MaxBody <= 0 {
		c.MaxBody = DefaultMaxBody
	}
	if c.MaxInFlight <= 0 {
		c.MaxInFlight = max(4, 2*runtime.GOMAXPROCS(0))
	}
	if c.MaxInFlightBytes <= 0 {
		c.MaxInFlightBytes = 4 * c.MaxBody
	}
	// A largest compressed body and its decompressed form, each in a
	// buffer a few bytes over MaxBody (to see its end), always fit.
	c.MaxInFlightBytes = max(c.MaxInFlightBytes, 2*(c.MaxBody+firstRead))
	if c.BodyTimeout <= 0 {
		c.BodyTimeout = DefaultBodyTimeout
	}
	if c.HeaderTimeout <= 0 {
		c.HeaderTimeout = DefaultHeaderTimeout
	}
	return c
}

// Reasons a request is refused, as counted in Stats.Failed.
const (
	FailUndecodable = "undecodable"          // 400 / INTERNAL (gRPC's own decode error)
	FailTooLarge    = "too-large"            // 413 / RESOURCE_EXHAUSTED
	FailMediaType   = "unsupported-media"    // 415: content type
	FailEncoding    = "unsupported-encoding" // 415: content encoding
	FailMethod      = "method-not-allowed"   // 405
	FailNotFound    = "not-found"            // 404 / UNIMPLEMENTED
	FailBusy        = "busy"                 // 429 / RESOURCE_EXHAUSTED with a retry delay: in-flight bytes used up
	FailTimeout     = "body-timeout"         // 408 / DEADLINE_EXCEEDED: the body did not arrive in time
	FailWrite       = "write-error"          // 500 / UNAVAILABLE: the recording could not be written
	FailOther       = "other"                // a gRPC error not listed above
)

// Transports, as counted in Stats.ByTransport.
const (
	HTTP = "http"
	GRPC = "grpc"
)

// Stats are the receiver's running totals.
type Stats struct {
	Requests    int64            // requests answered, whatever the answer
	ByTransport map[string]int64 // requests per transport (HTTP, GRPC)
	Spans       int64            // spans accepted and written
	Rejected    map[string]int64 // spans refused inside accepted requests (partial success), by reason
	Failed      map[string]int64 // requests refused as a whole, by reason (Fail…)
	Bytes       int64            // request payload bytes, after decompression
	Written     int64            // OTLP/JSON bytes written (before any file compression)
	Services    map[string]int64 // accepted spans per resource service.name
}

// RejectedSpans is the total of Rejected.
func (s Stats) RejectedSpans() int64 {
	var n int64
	for _, v := range s.Rejected {
		n += v
	}
	return n
}

// ServiceNames lists Services by span count, descending, then by name.
func (s Stats) ServiceNames() []string {
	names := make([]string, 0, len(s.Services))
	for n := range s.Services {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool {
		a, b := s.Services[names[i]], s.Services[names[j]]
		if a != b {
			return a > b
		}
		return names[i] < names[j]
	})
	return names
}

// Receiver receives OTLP traces and writes them to a Writer.
type Receiver struct {
	cfg   Config
	out   *Writer
	sem   chan struct{}
	bytes byteBudget
	grpc  *grpc.Server // serves gRPC requests handed over by ServeHTTP

	mu      sync.Mutex
	stats   Stats
	servers []*httpServer

	zstdOnce sync.Once
	zstd     *zstd.Decoder
	zstdErr  error
}

// New returns a receiver writing to out. It serves nothing until Listen,
// or its ServeHTTP is mounted elsewhere.
func New(out *Writer, cfg Config) *Receiver {
	cfg = cfg.withDefaults()
	r := &Receiver{
		cfg:   cfg,
		out:   out,
		sem:   make(chan struct{}, cfg.MaxInFlight),
		bytes: byteBudget{limit: cfg.MaxInFlightBytes},
		stats: Stats{
			ByTransport: map[string]int64{},
			Rejected:    map[string]int64{},
			Failed:      map[string]int64{},
			Services:    map[string]int64{},
		},
	}
	r.grpc = newGRPCServer(r)
	return r
}

// Limits is the configuration in effect, defaults filled in.
func (r *Receiver) Limits() Config { return r.cfg }

// Stats returns a copy of the running totals.
func (r *Receiver) Stats() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.stats
	s.ByTransport = cloneMap(s.ByTransport)
	s.Rejected = cloneMap(s.Rejected)
	s.Failed = cloneMap(s.Failed)
	s.Services = cloneMap(s.Services)
	return s
}

func cloneMap(m map[string]int64) map[string]int64 {
	c := make(map[string]int64, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// fail counts a request refused as a whole.
func (r *Receiver) fail(transport, reason string) {
	r.mu.Lock()
	r.stats.Requests++
	r.stats.ByTransport[transport]++
	r.stats.Failed[reason]++
	r.mu.Unlock()
}

// addBytes counts payload bytes, accepted or not.
func (r *Receiver) addBytes(n int) {
	r.mu.Lock()
	r.stats.Bytes += int64(n)
	r.mu.Unlock()
}

// accept validates a decoded request, drops (and counts) spans that are not
// valid OTLP spans, writes the rest and returns the partial-success answer:
// how many spans were rejected and why ("" when none). A request is counted
// here whatever the outcome.
func (r *Receiver) accept(req *coltracepb.ExportTraceServiceRequest, transport string) (rejected int64, msg string, err error) {
	var reasons map[string]int64
	services := map[string]int64{}
	var kept int64
	for _, rs := range req.ResourceSpans {
		svc := serviceName(rs.GetResource().GetAttributes())
		for _, ss := range rs.ScopeSpans {
			spans := ss.Spans[:0]
			for _, sp := range ss.Spans {
				if why := invalid(sp.TraceId, sp.SpanId); why != "" {
					if reasons == nil {
						reasons = map[string]int64{}
					}
					reasons[why]++
					rejected++
					continue
				}
				spans = append(spans, sp)
			}
			clear(ss.Spans[len(spans):]) // let the rejected spans go
			ss.Spans = spans
			kept += int64(len(spans))
			if len(spans) > 0 {
				services[svc] += int64(len(spans))
			}
		}
	}
	var n int
	if kept > 0 {
		if n, err = r.out.Write(req); err != nil {
			reqs, spans := r.out.Held()
			err = &WriteError{Err: err, Requests: reqs, Spans: spans}
		}
	}

	r.mu.Lock()
	r.stats.Requests++
	r.stats.ByTransport[transport]++
	r.stats.Written += int64(n)
	if err != nil {
		r.stats.Failed[FailWrite]++
	} else {
		r.stats.Spans += kept
		for k, v := range reasons {
			r.stats.Rejected[k] += v
		}
		for k, v := range services {
			r.stats.Services[k] += v
		}
	}
	r.mu.Unlock()
	if err != nil || rejected == 0 {
		return 0, "", err
	}
	return rejected, rejectionMessage(rejected, reasons), nil
}

// invalid says why a span's IDs make it no span at all (as tracefmt would
// reject it on reading), or "" when they are valid: a 16-byte trace ID and
// an 8-byte span ID, neither all zeros.
func invalid(traceID, spanID []byte) string {
	if len(traceID) != 16 || allZero(traceID) {
		return string(tracefmt.WarnInvalidTraceID)
	}
	if len(spanID) != 8 || allZero(spanID) {
		return string(tracefmt.WarnInvalidSpanID)
	}
	return ""
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

func rejectionMessage(n int64, reasons map[string]int64) string {
	keys := make([]string, 0, len(reasons))
	for k := range reasons {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%d %s", reasons[k], k)
	}
	return fmt.Sprintf("%d spans rejected: %s", n, strings.Join(parts, ", "))
}

// serviceName is the resource's service.name, or what SDKs call a service
// without one.
func serviceName(attrs []*commonpb.KeyValue) string {
	for _, kv := range attrs {
		if kv.Key == "service.name" {
			if s := kv.GetValue().GetStringValue(); s != "" {
				return s
			}
		}
	}
	return tracefmt.UnknownService
}

// acquire takes an in-flight slot, or gives up with ctx.
func (r *Receiver) acquire(ctx context.Context) bool {
	select {
	case r.sem <- struct{}{}:
		return true
	case <-ctx.Done():
		return false
	}
}

func (r *Receiver) release() { <-r.sem }

// Listen serves OTLP on addr ("127.0.0.1:0" picks a free port) and returns
// the address bound: the transports named (HTTP, GRPC), both when none is.
// One port serves both: HTTP/1.1 and HTTP/2 (h2c, prior knowledge) share
// it, and an HTTP/2 request of content type application/grpc is gRPC.
func (r *Receiver) Listen(addr string, transports ...string) (net.Addr, error) {
	p := port{r: r, http: len(transports) == 0, grpc: len(transports) == 0}
	for _, t := range transports {
		switch t {
		case HTTP:
			p.http = true
		case GRPC:
			p.grpc = true
		default:
			return nil, fmt.Errorf("unknown transport %q", t)
		}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := newHTTPServer(r, p)
	go s.s.Serve(ln)
	r.mu.Lock()
	r.servers = append(r.servers, s)
	r.mu.Unlock()
	return ln.Addr(), nil
}

// ListenHTTP serves OTLP/HTTP only on addr.
func (r *Receiver) ListenHTTP(addr string) (net.Addr, error) { return r.Listen(addr, HTTP) }

// ListenGRPC serves OTLP/gRPC only on addr.
func (r *Receiver) ListenGRPC(addr string) (net.Addr, error) { return r.Listen(addr, GRPC) }

// Shutdown stops accepting, lets requests in flight finish (until ctx is
// done, then cuts them off) and returns. It does not close the Writer.
func (r *Receiver) Shutdown(ctx context.Context) error {
	r.mu.Lock()
	servers := r.servers
	r.servers = nil
	r.mu.Unlock()
	var errs []error
	for _, s := range servers {
		errs = append(errs, s.shutdown(ctx))
	}
	// Every gRPC call came through an HTTP server, now done with them.
	r.grpc.Stop()
	return errors.Join(errs...)
}
