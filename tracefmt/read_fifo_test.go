//go:build unix

package tracefmt

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A named pipe nobody writes to fails after the wait instead of hanging.
func TestReadFIFOWithoutWriter(t *testing.T) {
	p := filepath.Join(t.TempDir(), "pipe")
	if err := syscall.Mkfifo(p, 0o600); err != nil {
		t.Skip("mkfifo:", err)
	}
	start := time.Now()
	_, err := readAll([]string{p}, Options{FIFOWait: 100 * time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "no writer") {
		t.Errorf("error %v, want one saying the pipe has no writer", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %v", d)
	}
	// With a writer, the pipe is read.
	go func() {
		w, err := os.OpenFile(p, os.O_WRONLY, 0)
		if err == nil {
			w.WriteString(oneSpan("01"))
			w.Close()
		}
	}()
	res, err := readAll([]string{p}, Options{FIFOWait: 5 * time.Second})
	if err != nil || res.Sink.Kept() != 1 {
		t.Errorf("with a writer: %v", err)
	}
}
