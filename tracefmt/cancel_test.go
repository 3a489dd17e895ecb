package tracefmt

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"hopbudget/internal/tracegentest"
)

// cancellingReader cancels its context once after bytes have been read,
// then counts what is read afterwards.
type cancellingReader struct {
	r      io.Reader
	after  int64
	read   int64
	cancel context.CancelFunc
	late   int64 // bytes read after the cancel
}

func (c *cancellingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	if c.read >= c.after {
		c.late += int64(n)
	}
	c.read += int64(n)
	if c.read >= c.after && c.cancel != nil {
		c.cancel()
		c.cancel = nil
	}
	return n, err
}

// A cancelled context stops Read within a chunk or so, whatever the format
// and compression, with an error that says so.
func TestReadStopsWhenCancelled(t *testing.T) {
	args := []string{"-scenario", "mixed", "-traces", "3000", "-seed", "9", "-format", "otlp-json,otlp-proto-stream,jaeger-json,jaeger-proto"}
	dirs := []string{tracegentest.Generate(t, args...), tracegentest.Generate(t, append(args, "-compress", "gzip")...),
		tracegentest.Generate(t, append(args, "-compress", "zstd")...)}
	for _, dir := range dirs {
		files, _ := filepath.Glob(filepath.Join(dir, "traces*"))
		for _, f := range files {
			t.Run(filepath.Base(f), func(t *testing.T) {
				st, err := os.Stat(f)
				if err != nil {
					t.Fatal(err)
				}
				file, err := os.Open(f)
				if err != nil {
					t.Fatal(err)
				}
				defer file.Close()
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				cr := &cancellingReader{r: file, after: 1 << 20, cancel: cancel}
				res, err := Read(ctx, []string{"-"}, Options{Stdin: cr})
				if !errors.Is(err, context.Canceled) {
					t.Fatalf("got %v (result %v), want an error wrapping context.Canceled", err, res != nil)
				}
				// Past the sniffer's window, so the decoder's own reads
				// must notice. A decompressor reads ahead of the decoder,
				// so the bound holds for plain files only.
				compressed := strings.HasSuffix(f, ".gz") || strings.HasSuffix(f, ".zst")
				if bound := int64(1 << 20); !compressed && cr.late > bound {
					t.Errorf("%d of %d bytes read after the cancel, want at most %d", cr.late, st.Size(), bound)
				}
			})
		}
	}
	// Between inputs too.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Read(ctx, []string{dirs[0]}, Options{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled before the start: got %v", err)
	}
}

// Progress is polled from another goroutine while a compressed input is
// decoded (zstd reads ahead on its own goroutine): under -race this is the
// check that the counters are shared safely; the totals must be exact.
func TestReadProgress(t *testing.T) {
	dir := tracegentest.Generate(t, "-scenario", "mixed", "-traces", "3000", "-seed", "9", "-format", "otlp-json", "-compress", "zstd")
	f := filepath.Join(dir, "traces.otlp.json.zst")
	st, err := os.Stat(f)
	if err != nil {
		t.Fatal(err)
	}
	p := new(Progress)
	done := make(chan struct{})
	polled := make(chan int64)
	go func() {
		var last int64
		for {
			select {
			case <-done:
				polled <- last
				return
			default:
				if n := p.Spans.Load(); n < last {
					t.Errorf("span count went back from %d to %d", last, n)
				} else {
					last = n
				}
				p.Bytes.Load()
			}
		}
	}()
	res, err := Read(context.Background(), []string{f}, Options{Progress: p})
	close(done)
	<-polled
	if err != nil {
		t.Fatal(err)
	}
	if got, want := p.Spans.Load(), int64(res.Sink.Read); got != want || want == 0 {
		t.Errorf("progress says %d spans, the sink read %d", got, want)
	}
	if got := p.Bytes.Load(); got != st.Size() {
		t.Errorf("progress says %d bytes, the file has %d", got, st.Size())
	}
}
