// Package cmd holds hopbudget's commands. Each is thin: it binds flags into
// an options struct, calls a pure function from tracefmt, analyze or budget,
// and renders the result. Renderers live beside the command that uses them.
package cmd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// gcPercent is the garbage collector's target unless GOGC is set: every
// command holds all spans read until it is done, so that live heap dominates,
// and the default 100% headroom on top of it would double peak memory for
// little gain (measured on 1M spans: peak RSS 255 → 238 MiB, wall time
// within noise).
const gcPercent = 20

// Run executes hopbudget with args and returns the process exit code.
func Run(ctx context.Context, s *Streams, args []string) int {
	if os.Getenv("GOGC") == "" {
		defer debug.SetGCPercent(debug.SetGCPercent(gcPercent))
	}
	root := newRootCmd(s)
	root.SetArgs(args)
	root.SetIn(s.In)
	root.SetOut(s.Out)
	root.SetErr(s.Err)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil && ee.code != ExitBudgetExceeded {
			fmt.Fprintln(s.Err, "hopbudget:", ee.err)
		}
		return ee.code
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
		Long: `hopbudget reads trace exports (OTLP JSON / JSON Lines / protobuf, Jaeger UI JSON,
Jaeger model protobuf; plain, gzip or zstd), rebuilds every request's span DAG and
tells where the time went and which hops overspend their latency budget.

Exit codes: 0 ok, 1 budget exceeded, 2 bad usage or input.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.CompletionOptions.DisableDefaultCmd = true
	root.AddCommand(newInspectCmd(s), newAnalyzeCmd(s), newSuggestCmd(s), newCheckCmd(s), newProfileCmd(s), newDiffCmd(s), newReportCmd(s), newTraceCmd(s), newRecordCmd(s), newPullCmd(s))
	return root
}
