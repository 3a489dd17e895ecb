// Command hopbudget is a latency budget analyzer and trace profiler.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"hopbudget/cmd"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cmd.Run(ctx, cmd.SystemStreams(), os.Args[1:])
	stop()
	os.Exit(code)
}
