// Package cmd holds hopbudget's commands. Each is thin: it binds flags into
// an options struct, calls a pure function from tracefmt, analyze or budget,
// and renders the result. Renderers live beside the command that uses them.
package cmd

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"
)

// Run executes hopbudget with args and returns the process exit code. It
// changes no process-wide state (main sets the GC target). When ctx is
// cancelled (main cancels it on SIGINT or SIGTERM, with an Interrupt as the
// cause), the command stops and Run returns ExitInterrupted, or 128 + the
// signal's number.
func Run(ctx context.Context, s *Streams, args []string) int {
	out := &errWriter{w: s.Out}
	code := execute(ctx, &Streams{In: s.In, Out: out, Err: s.Err, ErrIsTerminal: s.ErrIsTerminal, OutIsTerminal: s.OutIsTerminal, SetMemoryLimit: s.SetMemoryLimit, SetGCPercent: s.SetGCPercent}, args)
	if out.err != nil && code <= ExitInputError {
		fmt.Fprintln(s.Err, "hopbudget: writing the output:", out.err)
		return ExitInputError
	}
	return code
}

func execute(ctx context.Context, s *Streams, args []string) int {
	root := newRootCmd(s)
	root.SetArgs(args)
	root.SetIn(s.In)
	root.SetOut(s.Out)
	root.SetErr(s.Err)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		var in Interrupt
		if errors.As(context.Cause(ctx), &in) {
			fmt.Fprintln(s.Err, "hopbudget:", in)
			return in.Code()
		}
		fmt.Fprintln(s.Err, "hopbudget: interrupted")
		return ExitInterrupted
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil && ee.code != ExitBudgetExceeded {
			fmt.Fprintln(s.Err, "hopbudget:", ee.err)
		}
		return ee.code
	}
	if ew, ok := s.Out.(*errWriter); ok && ew.err != nil && errors.Is(err, ew.err) {
		return ExitInputError // Run says so
	}
	// Cobra's own errors: unknown command or flag, wrong argument count.
	fmt.Fprintln(s.Err, "hopbudget:", err)
	fmt.Fprintln(s.Err, "Run 'hopbudget --help' for usage.")
	return ExitInputError
}

func newRootCmd(s *Streams) *cobra.Command {
	root := &cobra.Command{
		Use:   "hopbudget",
		Short: "Latency budget analyzer and trace profiler",
		Long: `hopbudget reads trace exports (OTLP JSON / JSON Lines / protobuf, Tempo and Grafana
JSON, Jaeger UI JSON, Jaeger model protobuf, Zipkin v1/v2 JSON; plain, gzip or zstd),
rebuilds every request's span DAG and
tells where the time went and which hops overspend their latency budget.

Exit codes: 0 ok, 1 budget exceeded, 2 bad usage or input.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.CompletionOptions.DisableDefaultCmd = true
	root.AddCommand(newInspectCmd(s), newAnalyzeCmd(s), newSuggestCmd(s), newCheckCmd(s), newProfileCmd(s), newDiffCmd(s), newReportCmd(s), newTraceCmd(s), newRecordCmd(s), newPullCmd(s), newMergeCmd(s))
	return root
}
