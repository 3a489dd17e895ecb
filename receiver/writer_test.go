package receiver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// diskWriter is a disk of room bytes: past them, a write is partial and
// fails as a full disk's does.
type diskWriter struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	room int
}

var errDiskFull = errors.New("write rec.otlp.jsonl: no space left on device")

func (d *diskWriter) Write(p []byte) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if free := d.room - d.buf.Len(); len(p) > free {
		d.buf.Write(p[:free])
		return free, errDiskFull
	}
	return d.buf.Write(p)
}

func (d *diskWriter) bytes() []byte {
	d.mu.Lock()
	defer d.mu.Unlock()
	return bytes.Clone(d.buf.Bytes())
}

// startOn is startReceiver writing to w.
func startOn(t *testing.T, w *Writer) *testReceiver {
	r := New(w, Config{})
	a, err := r.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tr := &testReceiver{Receiver: r, w: w, addr: a.String()}
	t.Cleanup(func() { tr.stop(t) })
	return tr
}

// A request is answered only once its line is in the output, compressed
// or not: a crash right after the answer loses nothing acknowledged.
func TestAckAfterWrite(t *testing.T) {
	for _, compress := range []bool{false, true} {
		d := &diskWriter{room: 1 << 30}
		w, err := NewWriter(d, compress)
		if err != nil {
			t.Fatal(err)
		}
		tr := startOn(t, w)
		want := appendRequest(nil, smallRequest("svc", 3))
		resp, err := http.Post("http://"+tr.addr+TracesPath, ctProtobuf, bytes.NewReader(mustProto(t, smallRequest("svc", 3))))
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("compress=%v: %v %v", compress, resp, err)
		}
		resp.Body.Close()
		if _, err := grpcClient(t, tr.addr).Export(context.Background(), smallRequest("svc", 3)); err != nil {
			t.Fatal(err)
		}
		got := d.bytes()
		if compress {
			// The frame is not finished: the decoder reads what is there.
			zr, _ := zstd.NewReader(bytes.NewReader(got))
			got, _ = io.ReadAll(zr)
			zr.Close()
		}
		if lines := bytes.Split(bytes.TrimSuffix(got, []byte("\n")), []byte("\n")); len(lines) != 2 || !bytes.Equal(lines[0], want) || !bytes.Equal(lines[1], want) {
			t.Errorf("compress=%v: after two answers the output holds %q", compress, got)
		}
		tr.stop(t)
	}
}

// A full disk: requests are acknowledged while their lines fit; from the
// first that does not, every request on either transport is refused (500 /
// UNAVAILABLE) with how many spans the recording holds, which is exactly
// the complete lines in the output.
func TestFullDisk(t *testing.T) {
	line := len(appendRequest(nil, smallRequest("svc", 3))) + 1
	d := &diskWriter{room: 2*line + line/2}
	w, err := NewWriter(d, false)
	if err != nil {
		t.Fatal(err)
	}
	tr := startOn(t, w)
	client := grpcClient(t, tr.addr)
	post := func() (int, string) {
		rec := httptest.NewRecorder()
		q, _ := http.NewRequest("POST", TracesPath, bytes.NewReader(appendRequest(nil, smallRequest("svc", 3))))
		q.Header.Set("Content-Type", ctJSON)
		tr.ServeHTTP(rec, q)
		return rec.Code, rec.Body.String()
	}
	if code, body := post(); code != 200 {
		t.Fatalf("first: %d %s", code, body)
	}
	if _, err := client.Export(context.Background(), smallRequest("svc", 3)); err != nil {
		t.Fatalf("second: %v", err)
	}
	const held = "it holds the 6 spans (2 requests) written before"
	if code, body := post(); code != http.StatusInternalServerError || !strings.Contains(body, held) || !strings.Contains(body, "no space left") {
		t.Errorf("third, over the disk: %d %s", code, body)
	}
	_, err = client.Export(context.Background(), smallRequest("svc", 3))
	if status.Code(err) != codes.Unavailable || !strings.Contains(err.Error(), held) {
		t.Errorf("fourth, after: %v", err)
	}
	if code, _ := post(); code != http.StatusInternalServerError {
		t.Errorf("fifth, after: %d", code)
	}
	if reqs, spans := w.Held(); reqs != 2 || spans != 6 {
		t.Errorf("Held: %d requests, %d spans", reqs, spans)
	}
	if n := bytes.Count(d.bytes(), []byte("\n")); n != 2 || len(d.bytes()) != d.room {
		t.Errorf("the disk holds %d lines in %d bytes", n, len(d.bytes()))
	}
	if err := tr.Shutdown(context.Background()); err != nil {
		t.Error(err)
	}
	tr.w = nil // closed here, failing
	if err := w.Close(); !errors.Is(err, errDiskFull) {
		t.Errorf("Close: %v", err)
	}
	st := tr.Stats()
	if st.Spans != 6 || st.Failed[FailWrite] != 3 {
		t.Errorf("stats: %d spans, failed %v", st.Spans, st.Failed)
	}
}

// slowDisk copies what it is given only after a pause, as a slow disk
// reads the caller's buffer while other requests go on.
type slowDisk struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (d *slowDisk) Write(p []byte) (int, error) {
	time.Sleep(2 * time.Millisecond)
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.buf.Write(p)
}

// Lines larger together than a pooled buffer, written concurrently, each
// reach the output whole and unchanged: a buffer being written is never
// the one the next lines are appended to.
func TestConcurrentLargeLines(t *testing.T) {
	d := &slowDisk{}
	w, err := NewWriter(d, false)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{}
	reqs := make([]*coltracepb.ExportTraceServiceRequest, 6)
	for i := range reqs {
		reqs[i] = smallRequest(fmt.Sprintf("svc-%d", i), 8000) // ~1 MiB lines
		want[string(appendRequest(nil, reqs[i]))] += 8
	}
	var wg sync.WaitGroup
	for _, req := range reqs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 8 {
				if _, err := w.Write(req); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, line := range bytes.Split(bytes.TrimSuffix(d.buf.Bytes(), []byte("\n")), []byte("\n")) {
		got[string(line)]++
	}
	if len(got) != len(want) {
		t.Fatalf("%d distinct lines written, want %d: lines were overwritten", len(got), len(want))
	}
	for line, n := range want {
		if got[line] != n {
			t.Errorf("a line of %d bytes written %d times, want %d", len(line), got[line], n)
		}
	}
}
