package cmd

import (
	"io"
	"os"

	"golang.org/x/term"
)

// Streams are a command's I/O, swapped in tests (the cli/cli IOStreams idea).
type Streams struct {
	In  io.Reader
	Out io.Writer
	Err io.Writer
	// ErrIsTerminal says whether progress may be drawn on Err.
	ErrIsTerminal bool
	// OutIsTerminal says whether tables may use colour.
	OutIsTerminal bool
	// SetMemoryLimit, when set, is given --max-memory to bound the whole
	// process (main sets the Go runtime's soft limit; in-process runs leave
	// the process alone).
	SetMemoryLimit func(bytes int64)
	// SetGCPercent, when set, changes the collector's target as
	// debug.SetGCPercent does (record raises it while receiving; main
	// sets it, in-process runs leave the process alone).
	SetGCPercent func(percent int) (previous int)
}

// SystemStreams are the process's standard streams.
func SystemStreams() *Streams {
	return &Streams{
		In:            os.Stdin,
		Out:           os.Stdout,
		Err:           os.Stderr,
		ErrIsTerminal: term.IsTerminal(int(os.Stderr.Fd())),
		OutIsTerminal: term.IsTerminal(int(os.Stdout.Fd())),
	}
}

// errWriter remembers the first write error, so that a renderer that does
// not check every write still cannot end in a truncated output with exit
// code 0: Run checks it at the end (a full disk, a closed pipe: exit 2).
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(b []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(b)
	if err != nil {
		e.err = err
	}
	return n, err
}

// unwrap is the writer beneath Run's errWriter: the *os.File to query a
// terminal through or to hand to a child process (which then writes to the
// file itself, not through a pipe and a copying goroutine).
func unwrap(w io.Writer) io.Writer {
	if e, ok := w.(*errWriter); ok {
		return e.w
	}
	return w
}

// file is the *os.File beneath w, if any.
func file(w io.Writer) (*os.File, bool) {
	f, ok := unwrap(w).(*os.File)
	return f, ok
}
