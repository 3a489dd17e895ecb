package receiver

import (
	"bufio"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/klauspost/compress/zstd"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
)

// Writer writes export requests as OTLP JSON Lines, one request per line,
// the collector file exporter's layout, which tracefmt reads back as
// otlp-json. It is safe for concurrent use: each request is encoded by its
// caller and only the copy into the buffer is serialised, so the writer
// holds no more than its buffer however long the run.
type Writer struct {
	mu    sync.Mutex
	bw    *bufio.Writer
	zw    *zstd.Encoder // nil unless compressing
	f     *os.File      // nil unless Create opened it
	err   error         // the first write error; later writes fail with it
	bytes int64         // JSON bytes written (before compression)
	lines int64

	stop chan struct{}
	done chan struct{}
}

// flushEvery bounds how stale the file is while a run goes on, so that
// a crash loses at most this much and `tail -f` shows progress.
const flushEvery = time.Second

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
	w := &Writer{stop: make(chan struct{}), done: make(chan struct{})}
	if compress {
		zw, err := zstd.NewWriter(out, zstd.WithEncoderLevel(zstd.SpeedFastest))
		if err != nil {
			return nil, err
		}
		w.zw, out = zw, zw
	}
	w.bw = bufio.NewWriterSize(out, 256<<10)
	go w.flushLoop()
	return w, nil
}

func (w *Writer) flushLoop() {
	defer close(w.done)
	t := time.NewTicker(flushEvery)
	defer t.Stop()
	for {
		select {
		case <-w.stop:
			return
		case <-t.C:
			w.mu.Lock()
			w.flushLocked()
			w.mu.Unlock()
		}
	}
}

func (w *Writer) flushLocked() {
	if w.err != nil {
		return
	}
	if w.err = w.bw.Flush(); w.err == nil && w.zw != nil {
		w.err = w.zw.Flush()
	}
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

// Write appends req as one line and returns the bytes written.
func (w *Writer) Write(req *coltracepb.ExportTraceServiceRequest) (int, error) {
	line := getBuf()
	defer putBuf(line)
	*line = append(appendRequest((*line)[:0], req), '\n')

	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return 0, w.err
	}
	n, err := w.bw.Write(*line)
	w.bytes += int64(n)
	if err != nil {
		w.err = err
		return n, err
	}
	w.lines++
	return n, nil
}

// Err is the first write error, if any.
func (w *Writer) Err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// Close flushes everything and closes the file Create opened. It returns
// the first error of the whole run, so a failed write is never silent.
func (w *Writer) Close() error {
	close(w.stop)
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err == nil {
		w.err = w.bw.Flush()
	}
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
