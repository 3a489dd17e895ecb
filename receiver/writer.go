package receiver

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/klauspost/compress/zstd"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
)

// Writer writes export requests as OTLP JSON Lines, one request per line,
// the collector file exporter's layout, which tracefmt reads back as
// otlp-json. It is safe for concurrent use.
//
// Write returns once its line is in the file (handed to the operating
// system, and through the zstd encoder when compressing), so a request is
// acknowledged only when a crash of hopbudget, even SIGKILL, cannot lose
// it. Concurrent writes share one write call (group commit): each request
// is encoded by its caller, the lines waiting meanwhile go out together.
type Writer struct {
	mu      sync.Mutex    // guards pending and the counts of lines appended
	pending []byte        // lines appended, not yet written
	marks   []mark        // where each pending line ends
	seq     int64         // lines appended
	err     error         // the first write error; every later write fails with it
	failed  chan struct{} // closed with err set

	wmu     sync.Mutex // serialises writing to out; guards the fields below
	out     io.Writer  // the file, or the zstd encoder over it
	zw      *zstd.Encoder
	f       *os.File // nil unless Create opened it
	spare   []byte
	written int64 // lines wholly written, in order
	lines   int64 // of which: lines in the file
	spans   int64 // spans in those lines
}

// mark is a pending line's end in pending and its span count.
type mark struct {
	end   int
	spans int64
}

// Create creates (or truncates) path; a name ending in .zst is written
// zstd-compressed.
func Create(path string) (*Writer, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	w, err := newWriter(f, strings.HasSuffix(path, ".zst"))
	if err != nil {
		f.Close()
		return nil, err
	}
	w.f = f
	return w, nil
}

// NewWriter writes to out, zstd-compressed if compress is set. Close
// flushes but does not close out.
func NewWriter(out io.Writer, compress bool) (*Writer, error) {
	return newWriter(out, compress)
}

func newWriter(out io.Writer, compress bool) (*Writer, error) {
	w := &Writer{out: out, failed: make(chan struct{})}
	if compress {
		zw, err := zstd.NewWriter(out, zstd.WithEncoderLevel(zstd.SpeedFastest))
		if err != nil {
			return nil, err
		}
		w.zw, w.out = zw, zw
	}
	return w, nil
}

// bufPool recycles encoding buffers; oversized ones are dropped so that one
// huge request does not pin its buffer for the rest of the run.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}

const maxPooled = 4 << 20

func getBuf() *[]byte { return bufPool.Get().(*[]byte) }

func putBuf(b *[]byte) {
	if cap(*b) <= maxPooled {
		*b = (*b)[:0]
		bufPool.Put(b)
	}
}

// Write appends req as one line, waits until the line is written and
// returns the bytes written. After a failed write every Write fails.
func (w *Writer) Write(req *coltracepb.ExportTraceServiceRequest) (int, error) {
	line := getBuf()
	defer putBuf(line)
	*line = append(appendRequest((*line)[:0], req), '\n')
	var spans int64
	for _, rs := range req.ResourceSpans {
		for _, ss := range rs.ScopeSpans {
			spans += int64(len(ss.Spans))
		}
	}

	w.mu.Lock()
	if w.err != nil {
		err := w.err
		w.mu.Unlock()
		return 0, err
	}
	w.pending = append(w.pending, *line...)
	w.marks = append(w.marks, mark{end: len(w.pending), spans: spans})
	w.seq++
	mine := w.seq
	w.mu.Unlock()

	w.wmu.Lock()
	defer w.wmu.Unlock()
	if w.written < mine {
		w.writePending() // ours, and any lines appended meanwhile
	}
	if w.lines < mine {
		return 0, w.Err()
	}
	return len(*line), nil
}

// writePending writes every line appended so far. On failure it keeps the
// count of the lines the file holds whole.
func (w *Writer) writePending() {
	w.mu.Lock()
	buf, marks, upto := w.pending, w.marks, w.seq
	// spare is handed out once: were it kept after an oversized buf was
	// dropped below, the next call would write it while it is appended to.
	w.pending, w.marks, w.spare = w.spare[:0], nil, nil
	failed := w.err != nil
	w.mu.Unlock()
	if failed {
		w.written = upto
		return
	}

	n, err := w.out.Write(buf)
	if err == nil && w.zw != nil {
		n, err = len(buf), w.zw.Flush()
		if err != nil {
			n = 0 // what reached the file is not known: count none of these
		}
	}
	for _, m := range marks {
		if m.end > n {
			break
		}
		w.lines++
		w.spans += m.spans
	}
	w.written = upto
	if err != nil {
		w.mu.Lock()
		if w.err == nil {
			w.err = err
			close(w.failed)
		}
		w.mu.Unlock()
	}
	if cap(buf) <= maxPooled {
		w.spare = buf[:0]
	}
}

// Failed is closed when a write first fails (not by Close's own errors).
func (w *Writer) Failed() <-chan struct{} { return w.failed }

// Err is the first write error, if any.
func (w *Writer) Err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// Held is what the output holds whole: requests (lines) and their spans.
// After a failed write, it is what was written before the failure.
func (w *Writer) Held() (requests, spans int64) {
	w.wmu.Lock()
	defer w.wmu.Unlock()
	return w.lines, w.spans
}

// Close finishes the output and closes the file Create opened. It returns
// the first error of the whole run, so a failed write is never silent.
func (w *Writer) Close() error {
	w.wmu.Lock()
	defer w.wmu.Unlock()
	w.writePending() // nothing, unless a Write is still on its way
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.zw != nil {
		if err := w.zw.Close(); w.err == nil {
			w.err = err
		}
	}
	if w.f != nil {
		if err := w.f.Close(); w.err == nil {
			w.err = err
		}
	}
	return w.err
}

// WriteError says what failed and what the output still holds.
type WriteError struct {
	Err             error
	Requests, Spans int64 // held whole in the output
}

func (e *WriteError) Error() string {
	return fmt.Sprintf("writing the recording failed: %v; it holds the %d spans (%d requests) written before", e.Err, e.Spans, e.Requests)
}

func (e *WriteError) Unwrap() error { return e.Err }
