package cmd

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// Every command that reads traces stops on a cancelled context with the
// signal's exit code, prints no result and writes no file.
func TestCancelledContextStopsEveryCommand(t *testing.T) {
	dir := t.TempDir()
	out := func(name string) string { return filepath.Join(dir, name) }
	for _, args := range [][]string{
		{"inspect", "testdata/demo"},
		{"analyze", "testdata/demo"},
		{"suggest", "testdata/demo"},
		{"check", "--budget", "testdata/budget/demo.yaml", "--output-file", out("check.xml"), "testdata/demo"},
		{"profile", "-o", out("p.pb.gz"), "testdata/demo"},
		{"report", "-o", out("r.html"), "testdata/demo"},
		{"trace", "0", "testdata/demo"},
		{"diff", "testdata/demo", "testdata/demo"},
	} {
		t.Run(args[0], func(t *testing.T) {
			for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
				ctx, cancel := context.WithCancelCause(context.Background())
				cancel(Interrupt{Signal: sig})
				var stdout, stderr bytes.Buffer
				code := Run(ctx, &Streams{In: strings.NewReader(""), Out: &stdout, Err: &stderr}, args)
				if code != 128+int(sig) || stdout.Len() > 0 || !strings.Contains(stderr.String(), "interrupted") {
					t.Errorf("%v: exit %d, stdout %q, stderr %q; want %d, nothing, interrupted", sig, code, stdout.String(), stderr.String(), 128+int(sig))
				}
			}
			// Without a signal as the cause: 130.
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			if code := Run(ctx, &Streams{In: strings.NewReader(""), Out: new(bytes.Buffer), Err: new(bytes.Buffer)}, args); code != ExitInterrupted {
				t.Errorf("plain cancel: exit %d, want %d", code, ExitInterrupted)
			}
		})
	}
	if files, _ := os.ReadDir(dir); len(files) > 0 {
		t.Errorf("files written: %v", files)
	}
}

// failWriter fails every write after the first n bytes.
type failWriter struct{ n int }

func (f *failWriter) Write(b []byte) (int, error) {
	if len(b) > f.n {
		k := f.n
		f.n = 0
		return k, syscall.ENOSPC
	}
	f.n -= len(b)
	return len(b), nil
}

// A write error on stdout (a full disk, a closed pipe) is exit code 2 with
// a message, whatever the renderer, never a truncated output with exit 0.
func TestWriteErrorIsExit2(t *testing.T) {
	for _, args := range [][]string{
		{"inspect", "testdata/demo"},
		{"inspect", "-o", "json", "testdata/demo"},
		{"analyze", "testdata/demo"},
		{"analyze", "-o", "json", "testdata/demo"},
		{"analyze", "-o", "markdown", "testdata/demo"},
		{"suggest", "testdata/demo"},
		{"check", "--budget", "testdata/budget/demo.yaml", "testdata/demo"},
		{"check", "--budget", "testdata/budget/demo.yaml", "-o", "junit", "testdata/demo"},
		{"profile", "testdata/demo"},
		{"report", "-o", "-", "testdata/demo"},
		{"diff", "testdata/demo", "testdata/demo"},
		{"analyze", "--help"},
	} {
		for _, n := range []int{0, 100} {
			var stderr bytes.Buffer
			code := Run(context.Background(), &Streams{In: strings.NewReader(""), Out: &failWriter{n: n}, Err: &stderr}, args)
			if code != ExitInputError || !strings.Contains(stderr.String(), "no space left on device") {
				t.Errorf("%v, failing after %d bytes: exit %d, stderr %q; want 2 and the error", args, n, code, stderr.String())
			}
		}
	}
}
