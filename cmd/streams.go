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
