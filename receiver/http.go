package receiver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"mime"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	grpcstatus "google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
)

// TracesPath is the OTLP/HTTP traces endpoint.
const TracesPath = "/v1/traces"

const (
	ctProtobuf = "application/x-protobuf"
	ctJSON     = "application/json"
)

func newHTTPServer(r *Receiver, p port) *httpServer {
	h := &httpServer{fresh: map[net.Conn]bool{}}
	var protos http.Protocols
	protos.SetHTTP1(true)
	protos.SetUnencryptedHTTP2(true) // gRPC, and HTTP/2 clients, with prior knowledge
	h.s = &http.Server{
		Handler:           p,
		Protocols:         &protos,
		ReadHeaderTimeout: r.cfg.HeaderTimeout,
		IdleTimeout:       2 * time.Minute,
		// An HTTP/2 peer silent for this long is pinged, and dropped if it
		// does not answer: a vanished client's connection is not kept.
		HTTP2: &http.HTTP2Config{SendPingTimeout: 30 * time.Second, PingTimeout: 15 * time.Second},
		// Broken clients are counted, not logged over the child's output.
		ErrorLog: log.New(io.Discard, "", 0),
		ConnState: func(c net.Conn, st http.ConnState) {
			h.mu.Lock()
			if st == http.StateNew {
				h.fresh[c] = true
			} else {
				delete(h.fresh, c)
			}
			h.mu.Unlock()
		},
	}
	return h
}

// httpServer tracks connections that have not sent a request yet: clients
// dial spare ones, and Shutdown would wait 5 s for each before counting it
// idle. They carry no data, so shutdown closes them at once.
type httpServer struct {
	s     *http.Server
	mu    sync.Mutex
	fresh map[net.Conn]bool
}

func (h *httpServer) shutdown(ctx context.Context) error {
	done := make(chan error, 1)
	go func() { done <- h.s.Shutdown(ctx) }()
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		h.mu.Lock()
		for c := range h.fresh {
			c.Close()
			delete(h.fresh, c)
		}
		h.mu.Unlock()
		select {
		case err := <-done:
			if err != nil {
				h.s.Close()
			}
			return err
		case <-t.C:
		}
	}
}

// port is one listener's handler: the transports it serves.
type port struct {
	r          *Receiver
	http, grpc bool
}

func (p port) ServeHTTP(w http.ResponseWriter, q *http.Request) {
	if isGRPC(q) {
		if !p.grpc {
			p.r.fail(GRPC, FailNotFound)
			writeGRPCStatus(w, grpcstatus.New(codes.Unimplemented, "this port serves OTLP/HTTP only"))
			return
		}
		p.r.serveGRPC(w, q)
		return
	}
	if !p.http {
		p.r.fail(HTTP, FailNotFound)
		http.Error(w, "this port serves OTLP/gRPC only", http.StatusNotFound)
		return
	}
	p.r.serveHTTP(w, q)
}

// isGRPC: gRPC is HTTP/2 with a content type of application/grpc or
// application/grpc+CODEC.
func isGRPC(q *http.Request) bool {
	ct := q.Header.Get("Content-Type")
	return q.ProtoMajor == 2 && strings.HasPrefix(ct, "application/grpc") &&
		(len(ct) == len("application/grpc") || ct[len("application/grpc")] == '+' || ct[len("application/grpc")] == ';')
}

// ServeHTTP serves OTLP/HTTP, and OTLP/gRPC when the server it is mounted
// on speaks HTTP/2.
func (r *Receiver) ServeHTTP(w http.ResponseWriter, q *http.Request) {
	port{r: r, http: true, grpc: true}.ServeHTTP(w, q)
}

// bodyDeadline holds the rest of the request's body to BodyTimeout. Where
// the connection cannot take a deadline (a test's recorder), the body is
// read without one.
func (r *Receiver) bodyDeadline(w http.ResponseWriter) {
	http.NewResponseController(w).SetReadDeadline(time.Now().Add(r.cfg.BodyTimeout))
}

// serveHTTP is the OTLP/HTTP traces endpoint.
func (r *Receiver) serveHTTP(w http.ResponseWriter, q *http.Request) {
	if q.URL.Path != TracesPath {
		r.fail(HTTP, FailNotFound)
		http.NotFound(w, q)
		return
	}
	if q.Method != http.MethodPost {
		r.fail(HTTP, FailMethod)
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed: OTLP/HTTP wants POST", http.StatusMethodNotAllowed)
		return
	}
	isJSON, ok := mediaType(q.Header.Get("Content-Type"))
	if !ok {
		r.fail(HTTP, FailMediaType)
		http.Error(w, fmt.Sprintf("unsupported content type %q: want %s or %s", q.Header.Get("Content-Type"), ctProtobuf, ctJSON),
			http.StatusUnsupportedMediaType)
		return
	}
	ce := q.Header.Get("Content-Encoding")
	switch ce {
	case "", "identity", "gzip", "x-gzip", "zstd":
	default:
		r.fail(HTTP, FailEncoding)
		http.Error(w, fmt.Sprintf("unsupported content encoding %q: want gzip, zstd or none", ce), http.StatusUnsupportedMediaType)
		return
	}
	if q.ContentLength > r.cfg.MaxBody {
		r.fail(HTTP, FailTooLarge)
		r.httpError(w, isJSON, http.StatusRequestEntityTooLarge, codes.ResourceExhausted, r.tooLarge())
		return
	}

	// The body first, under its deadline and the byte budget, and only
	// then a slot: a slow client holds the bytes it sent, nothing more.
	r.bodyDeadline(w)
	l := &lease{b: &r.bytes}
	defer l.release()
	raw, err := readAll(q.Body, nil, r.cfg.MaxBody, l)
	if err != nil {
		r.addBytes(len(raw))
		r.httpReadError(w, isJSON, err)
		return
	}
	if !r.acquire(q.Context()) {
		r.fail(HTTP, FailOther) // the client went away while waiting
		return
	}
	defer r.release()

	body, fail, err := r.decompress(ce, raw, nil, l)
	r.addBytes(len(body))
	if err != nil {
		r.httpRefuse(w, isJSON, fail, err.Error())
		return
	}

	req := &coltracepb.ExportTraceServiceRequest{}
	if isJSON {
		tmp := getBuf()
		*tmp = idsToBase64((*tmp)[:0], body)
		err = jsonIn.Unmarshal(*tmp, req)
		putBuf(tmp)
	} else {
		err = proto.Unmarshal(body, req)
	}
	if err != nil {
		r.fail(HTTP, FailUndecodable)
		r.httpError(w, isJSON, http.StatusBadRequest, codes.InvalidArgument, "undecodable ExportTraceServiceRequest: "+err.Error())
		return
	}
	rejected, msg, err := r.accept(req, HTTP)
	if err != nil {
		r.httpError(w, isJSON, http.StatusInternalServerError, codes.Unavailable, err.Error())
		return
	}
	resp := &coltracepb.ExportTraceServiceResponse{}
	if rejected > 0 {
		resp.PartialSuccess = &coltracepb.ExportTracePartialSuccess{RejectedSpans: rejected, ErrorMessage: msg}
	}
	writeMessage(w, isJSON, http.StatusOK, resp)
}

// httpReadError answers a body that could not be read whole.
func (r *Receiver) httpReadError(w http.ResponseWriter, isJSON bool, err error) {
	fail, msg := r.readFailure(err)
	r.httpRefuse(w, isJSON, fail, msg)
}

// httpRefuse counts and answers a request refused for reason fail.
func (r *Receiver) httpRefuse(w http.ResponseWriter, isJSON bool, fail, msg string) {
	r.fail(HTTP, fail)
	switch fail {
	case FailBusy:
		w.Header().Set("Retry-After", strconv.Itoa(int(retryAfter/time.Second)))
		writeMessage(w, isJSON, http.StatusTooManyRequests, r.busyStatus().Proto())
	case FailTooLarge:
		r.httpError(w, isJSON, http.StatusRequestEntityTooLarge, codes.ResourceExhausted, msg)
	default:
		r.httpError(w, isJSON, failStatus(fail), codes.InvalidArgument, msg)
	}
}

// readFailure names what went wrong reading a body: the reason counted,
// and the message for the client.
func (r *Receiver) readFailure(err error) (fail, msg string) {
	switch {
	case errors.Is(err, errTooLarge):
		return FailTooLarge, r.tooLarge()
	case errors.Is(err, errBusy):
		return FailBusy, r.busyStatus().Message()
	case errors.Is(err, os.ErrDeadlineExceeded):
		return FailTimeout, fmt.Sprintf("request body not received within %s", r.cfg.BodyTimeout)
	}
	return FailUndecodable, fmt.Sprintf("reading the body: %v", err)
}

// failStatus is the HTTP status of a refusal.
func failStatus(fail string) int {
	switch fail {
	case FailTooLarge:
		return http.StatusRequestEntityTooLarge
	case FailBusy:
		return http.StatusTooManyRequests
	case FailTimeout:
		return http.StatusRequestTimeout
	}
	return http.StatusBadRequest
}

// busyStatus is the answer to a request refused for want of in-flight
// bytes, with the retry delay the Collector gives (RetryInfo): the OTLP
// exporters retry RESOURCE_EXHAUSTED only when it is there.
func (r *Receiver) busyStatus() *grpcstatus.Status {
	st := grpcstatus.New(codes.ResourceExhausted,
		fmt.Sprintf("busy: the receiver holds its limit of %d request bytes in flight; retry after %s", r.cfg.MaxInFlightBytes, retryAfter))
	if d, err := st.WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(retryAfter)}); err == nil {
		st = d
	}
	return st
}

// jsonIn reads OTLP/JSON; unknown fields are ignored, as the spec asks of
// receivers, so a newer client's additions do not fail its requests.
var jsonIn = protojson.UnmarshalOptions{DiscardUnknown: true}

// mediaType parses a Content-Type: JSON or protobuf, ok false otherwise.
func mediaType(ct string) (isJSON, ok bool) {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false, false
	}
	switch mt {
	case ctJSON:
		return true, true
	case ctProtobuf, "application/protobuf":
		return false, true
	}
	return false, false
}

func (r *Receiver) tooLarge() string {
	return fmt.Sprintf("request body over the %d-byte limit", r.cfg.MaxBody)
}

// decompress appends body, decoded as encoding says, to dst, holding the
// result to MaxBody and its memory to l. With no encoding, it is body
// itself. On error it says which failure to count.
func (r *Receiver) decompress(encoding string, body, dst []byte, l *lease) ([]byte, string, error) {
	switch encoding {
	case "", "identity":
		return body, "", nil
	case "gzip", "x-gzip":
		zr := gzipPool.Get().(*gzip.Reader)
		defer gzipPool.Put(zr)
		if err := zr.Reset(bytes.NewReader(body)); err != nil {
			return dst, FailUndecodable, fmt.Errorf("gzip: %v", err)
		}
		out, err := readAll(zr, dst, int64(len(dst))+r.cfg.MaxBody, l)
		switch {
		case errors.Is(err, errTooLarge):
			return out, FailTooLarge, errors.New(r.tooLarge())
		case errors.Is(err, errBusy):
			return out, FailBusy, errors.New(r.busyStatus().Message())
		case err != nil:
			return out, FailUndecodable, fmt.Errorf("gzip: %v", err)
		}
		return out, "", nil
	case "zstd":
		dec, err := r.zstdDecoder()
		if err != nil {
			return dst, FailUndecodable, err
		}
		// The decoder's memory limit holds the output to MaxBody; it is
		// counted once made, within the MaxInFlight decodes at a time.
		out, err := dec.DecodeAll(body, dst)
		if errors.Is(err, zstd.ErrDecoderSizeExceeded) || errors.Is(err, zstd.ErrWindowSizeExceeded) || int64(len(out)-len(dst)) > r.cfg.MaxBody {
			return dst, FailTooLarge, errors.New(r.tooLarge())
		}
		if err != nil {
			return dst, FailUndecodable, fmt.Errorf("zstd: %v", err)
		}
		if !l.grow(int64(cap(out))) {
			return dst, FailBusy, errors.New(r.busyStatus().Message())
		}
		return out, "", nil
	}
	return dst, FailEncoding, fmt.Errorf("unsupported encoding %q", encoding)
}

var gzipPool = sync.Pool{New: func() any { return new(gzip.Reader) }}

// zstdDecoder is made on first use: DecodeAll is safe for concurrent use,
// and its memory limit holds the decompressed body to MaxBody.
func (r *Receiver) zstdDecoder() (*zstd.Decoder, error) {
	r.zstdOnce.Do(func() {
		r.zstd, r.zstdErr = zstd.NewReader(nil, zstd.WithDecoderMaxMemory(uint64(r.cfg.MaxBody)), zstd.WithDecoderConcurrency(0))
	})
	return r.zstd, r.zstdErr
}

// httpError answers with a google.rpc.Status in the request's encoding, as
// the OTLP/HTTP spec asks for failures.
func (r *Receiver) httpError(w http.ResponseWriter, isJSON bool, code int, grpcCode codes.Code, msg string) {
	writeMessage(w, isJSON, code, &status.Status{Code: int32(grpcCode), Message: msg})
}

func writeMessage(w http.ResponseWriter, isJSON bool, code int, m proto.Message) {
	var b []byte
	var err error
	if isJSON {
		w.Header().Set("Content-Type", ctJSON)
		b, err = protojson.Marshal(m)
	} else {
		w.Header().Set("Content-Type", ctProtobuf)
		b, err = proto.Marshal(m)
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(code)
	w.Write(b)
}
