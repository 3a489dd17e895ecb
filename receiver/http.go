package receiver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"mime"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// TracesPath is the OTLP/HTTP traces endpoint.
const TracesPath = "/v1/traces"

const (
	ctProtobuf = "application/x-protobuf"
	ctJSON     = "application/json"
)

func newHTTPServer(r *Receiver) *httpServer {
	h := &httpServer{fresh: map[net.Conn]bool{}}
	h.s = &http.Server{
		Handler:           r,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
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

// ServeHTTP is the OTLP/HTTP traces endpoint.
func (r *Receiver) ServeHTTP(w http.ResponseWriter, q *http.Request) {
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
	if !r.acquire(q.Context()) {
		r.fail(HTTP, FailOther) // the client went away while waiting
		return
	}
	defer r.release()

	buf := getBuf()
	defer putBuf(buf)
	body, fail, err := r.readBody(q, ce, *buf)
	*buf = body[:0]
	r.addBytes(len(body))
	if err != nil {
		r.fail(HTTP, fail)
		if fail == FailTooLarge {
			r.httpError(w, isJSON, http.StatusRequestEntityTooLarge, codes.ResourceExhausted, err.Error())
		} else {
			r.httpError(w, isJSON, http.StatusBadRequest, codes.InvalidArgument, err.Error())
		}
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
		r.httpError(w, isJSON, http.StatusInternalServerError, codes.Internal, err.Error())
		return
	}
	resp := &coltracepb.ExportTraceServiceResponse{}
	if rejected > 0 {
		resp.PartialSuccess = &coltracepb.ExportTracePartialSuccess{RejectedSpans: rejected, ErrorMessage: msg}
	}
	writeMessage(w, isJSON, http.StatusOK, resp)
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

// readBody reads and decompresses the body into buf, both sides held to
// MaxBody (a small gzip body may inflate to gigabytes). On error it says
// which failure to count.
func (r *Receiver) readBody(q *http.Request, ce string, buf []byte) ([]byte, string, error) {
	limit := r.cfg.MaxBody
	lr := &io.LimitedReader{R: q.Body, N: limit + 1}
	var src io.Reader = lr
	switch ce {
	case "gzip", "x-gzip":
		zr := gzipPool.Get().(*gzip.Reader)
		defer gzipPool.Put(zr)
		if err := zr.Reset(lr); err != nil {
			if lr.N <= 0 {
				return buf, FailTooLarge, errors.New(r.tooLarge())
			}
			return buf, FailUndecodable, fmt.Errorf("gzip: %v", err)
		}
		src = zr
	case "zstd":
		comp, err := readLimited(lr, buf, limit, q.ContentLength)
		if errors.Is(err, errTooLarge) {
			return comp, FailTooLarge, errors.New(r.tooLarge())
		}
		if err != nil {
			return comp, FailUndecodable, fmt.Errorf("reading the body: %v", err)
		}
		dec, err := r.zstdDecoder()
		if err != nil {
			return comp, FailUndecodable, err
		}
		out, err := dec.DecodeAll(comp, nil)
		if errors.Is(err, zstd.ErrDecoderSizeExceeded) || errors.Is(err, zstd.ErrWindowSizeExceeded) {
			return comp, FailTooLarge, errors.New(r.tooLarge())
		}
		if err != nil {
			return comp, FailUndecodable, fmt.Errorf("zstd: %v", err)
		}
		return out, "", nil
	}
	size := q.ContentLength
	if src != lr {
		size = -1 // the compressed length says little about the decompressed one
	}
	b, err := readLimited(src, buf, limit, size)
	switch {
	case errors.Is(err, errTooLarge) || lr.N <= 0:
		return b, FailTooLarge, errors.New(r.tooLarge())
	case err != nil && ce != "" && ce != "identity":
		return b, FailUndecodable, fmt.Errorf("%s: %v", ce, err)
	case err != nil:
		return b, FailUndecodable, fmt.Errorf("reading the body: %v", err)
	}
	return b, "", nil
}

var errTooLarge = errors.New("too large")

// readLimited appends all of src to buf[:0], failing with errTooLarge
// past limit; size, when known, sizes the buffer once.
func readLimited(src io.Reader, buf []byte, limit, size int64) ([]byte, error) {
	buf = buf[:0]
	if size > 0 && size <= limit && int64(cap(buf)) < size+1 {
		buf = make([]byte, 0, size+1) // +1: room to see EOF without growing
	}
	src = io.LimitReader(src, limit+1)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := src.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if int64(len(buf)) > limit {
			return buf, errTooLarge
		}
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
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
