package cmd

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"hopbudget/analyze"
	"hopbudget/grammar"
	"hopbudget/tracefmt"
)

// InspectOptions are the flags of `hopbudget inspect`.
type InspectOptions struct {
	Input  inputOptions
	Output string
	Clocks []string // --clock-granularity
	Paths  []string
}

func newInspectCmd(s *Streams) *cobra.Command {
	opts := &InspectOptions{}
	c := &cobra.Command{
		Use:   "inspect [--format F] [-o table|json] FILE|DIR|GLOB|- ...",
		Short: "Show what was read: formats, traces, spans, services, time range, warnings",
		Long: `inspect reads trace exports and reports, per input, the detected format and
compression, traces, spans, services and time range, and every warning with an example.
Spans read = spans kept + spans rejected (by reason), always. Services whose span starts come
from a coarse clock (e.g. whole milliseconds, as the OpenTelemetry JS SDK writes them) are named
with the granularity detected (or set by --clock-granularity) in the service table; the JSON
lists every service's clock.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			opts.Paths = args
			return inspectRun(c.Context(), s, opts)
		},
	}
	opts.Input.addFlags(c.Flags())
	c.Flags().StringVarP(&opts.Output, "output", "o", "table", "output format: table or json")
	addClockFlag(c.Flags(), &opts.Clocks)
	return c
}

func inspectRun(ctx context.Context, s *Streams, opts *InspectOptions) error {
	if opts.Output != "table" && opts.Output != "json" {
		return inputError(fmt.Errorf("-o %q: want table or json", opts.Output))
	}
	overrides, err := grammar.ParseClockGranularity(opts.Clocks)
	if err != nil {
		return inputError(fmt.Errorf("--clock-granularity: %v", err))
	}
	in, err := load(ctx, s, loadSpec{Paths: opts.Paths, Input: opts.Input})
	if err != nil {
		return err
	}
	defer in.close()
	sum := in.Summary
	clocks, err := analyze.DetectClocksPartitions(ctx, in.Result, overrides)
	if err != nil {
		return err
	}
	if opts.Output == "json" {
		err = writeJSON(s.Out, struct {
			Input  tracefmt.Summary       `json:"input"`
			Clocks []analyze.ServiceClock `json:"clocks"`
		}{sum, clocks})
	} else {
		err = renderInputTable(s.Out, sum, true, clocks...)
	}
	if err != nil {
		return err
	}
	return in.strictErr()
}
