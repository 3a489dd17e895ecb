// Command hopbudget is a latency budget analyzer and trace profiler.
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"hopbudget/cmd"
)

// gcPercent is the garbage collector's target unless GOGC is set: every
// command holds all spans read until it is done, so that live heap dominates,
// and the default 100% headroom on top of it would double peak memory for
// little gain (measured on 1M spans: peak RSS 255 → 238 MiB, wall time
// within noise). It is set here, not in cmd.Run, so that running a command
// in-process (tests, embedding) leaves the process's settings alone.
const gcPercent = 20

func main() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	// The first SIGINT or SIGTERM cancels ctx with the signal as its cause:
	// the command stops, writes no partial file and exits 128+signal. The
	// handler stays, so a second signal does not kill record while it
	// flushes and checks what it received.
	sigc := make(chan os.Signal, 1)
	signal.Notify(sigc, os.Interrupt, syscall.SIGTERM)
	// Without this, a write to a closed stdout pipe kills the process with
	// SIGPIPE; with it the write fails, and cmd.Run exits 2 saying so. (A
	// handler, unlike an ignored signal, is not inherited by record's
	// command.)
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
	go func() {
		cancel(cmd.Interrupt{Signal: <-sigc})
		for range sigc {
		}
	}()
	s := cmd.SystemStreams()
	// --max-memory bounds the whole process: the runtime's soft limit
	// makes the collector work harder near it (GOMEMLIMIT, when set, wins).
	s.SetMemoryLimit = func(n int64) {
		if os.Getenv("GOMEMLIMIT") == "" {
			debug.SetMemoryLimit(n)
		}
	}
	s.SetGCPercent = debug.SetGCPercent
	code := cmd.Run(ctx, s, os.Args[1:])
	signal.Stop(sigc)
	os.Exit(code)
}
