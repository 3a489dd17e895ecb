package receiver

import (
	"errors"
	"io"
	"sync/atomic"
	"time"
)

// Defaults of the limits in Config.
const (
	// DefaultMaxBody is the default limit on a request's body, compressed
	// and decompressed alike.
	DefaultMaxBody = 16 << 20
	// DefaultBodyTimeout is how long a request's body may take to arrive
	// after its headers: 16 MiB at 0.6 MB/s.
	DefaultBodyTimeout = 30 * time.Second
	// DefaultHeaderTimeout is how long an HTTP/1 request's headers may take.
	DefaultHeaderTimeout = 10 * time.Second
)

// retryAfter is the back-off asked of clients refused because the in-flight
// bytes are used up: long enough for the requests holding them to finish.
const retryAfter = time.Second

// Errors reading a body, each answered differently.
var (
	errTooLarge = errors.New("too large")
	errBusy     = errors.New("in-flight bytes used up")
)

// byteBudget bounds the request bytes held at once, over all requests of
// all transports.
type byteBudget struct {
	used  atomic.Int64
	peak  atomic.Int64 // the most used at once, for tests
	limit int64
}

func (b *byteBudget) take(n int64) bool {
	for {
		u := b.used.Load()
		if u+n > b.limit {
			return false
		}
		if b.used.CompareAndSwap(u, u+n) {
			for p := b.peak.Load(); u+n > p && !b.peak.CompareAndSwap(p, u+n); p = b.peak.Load() {
			}
			return true
		}
	}
}

// lease is one request's share of the budget, given back at once when the
// request is answered.
type lease struct {
	b *byteBudget
	n int64
}

func (l *lease) grow(n int64) bool {
	if !l.b.take(n) {
		return false
	}
	l.n += n
	return true
}

func (l *lease) release() {
	l.b.used.Add(-l.n)
	l.n = 0
}

// firstRead is the buffer a body starts in. A body's buffer grows (doubling)
// only as its bytes arrive, never to a length the client merely announces:
// thousands of clients announcing 16 MiB and sending slowly hold a few KiB
// each, not 16 MiB.
const firstRead = 4 << 10

// readAll appends src to buf, at most limit bytes in all (errTooLarge past
// it). Every byte of capacity it adds to buf's is taken from l first
// (errBusy when the budget has none left); a nil buf starts at firstRead.
func readAll(src io.Reader, buf []byte, limit int64, l *lease) ([]byte, error) {
	for {
		if len(buf) == cap(buf) {
			if int64(len(buf)) > limit {
				return buf, errTooLarge
			}
			// +1: room to see EOF (or one byte too many) without growing.
			c := min(max(2*cap(buf), firstRead), int(limit)+1)
			if !l.grow(int64(c - cap(buf))) {
				return buf, errBusy
			}
			nb := make([]byte, len(buf), c)
			copy(nb, buf)
			buf = nb
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
