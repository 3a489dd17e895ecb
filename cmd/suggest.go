package cmd

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"hopbudget/analyze"
	"hopbudget/grammar"
	"hopbudget/tracefmt"
)

// SuggestOptions are the flags of `hopbudget suggest`.
type SuggestOptions struct {
	Input inputOptions
	analysisFlags
	Output           string
	Top              int
	WhatIf           []string
	IncludeDependent bool
	SerialTolerance  time.Duration
	Paths            []string
}

func newSuggestCmd(s *Streams) *cobra.Command {
	opts := &SuggestOptions{}
	c := &cobra.Command{
		Use:   "suggest [flags] FILE|DIR|GLOB|- ...",
		Short: "Serial calls that could run in parallel, and what it would save",
		Long: `suggest finds sibling calls that one parent operation makes one after another, judges
from all traces together whether they depend on each other, and estimates what starting them
together would save: every affected trace is recomputed with the later call moved to the
earlier one's start, and the change is carried up to the root. Candidates are ranked by the
saving at the endpoint's p99.

Evidence levels (only independent and batching are listed unless --include-dependent):
  independent          in some traces the calls truly overlap or surely ran in the other order
                       (never an overlap, or an order, within the services' clock granularity)
  likely independent   always serial in one order, but the later call does not start right
                       after the earlier one ends: a fixed order is no proof
  possibly dependent   always serial, the later call starts right after the earlier one ends
  dependent            always in one order, and the later call writes back the key the earlier
                       read (GET k → SET k), or the earlier prepares it on the same callee
                       (pool connect → query)
  batching             repeated calls to one callee, operation and statement in a row (loops,
                       N+1), also when each comes with its own helper call (connect, query)

--what-if "SELECTORS:CHANGE" recomputes the endpoints' percentiles as if the matched calls
were faster (or slower); give it several times to compare, e.g.
  --what-if "to=pricing:-20ms" --what-if "to=recommendations:x0.5"
SELECTORS are from=, to= and operation= globs (as in the hop table), joined by commas;
CHANGE is -DURATION, +DURATION or xFACTOR.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			opts.Paths = args
			return suggestRun(c.Context(), s, opts)
		},
	}
	f := c.Flags()
	opts.Input.addFlags(f)
	opts.analysisFlags.addFlags(f)
	f.StringVarP(&opts.Output, "output", "o", "table", "output format: table, json or markdown")
	f.IntVar(&opts.Top, "top", 10, "candidates in the table (0 = all)")
	f.StringArrayVar(&opts.WhatIf, "what-if", nil, `make matched calls faster, e.g. "to=pricing:-20ms" or "from=frontend,operation=GET*:x0.5" (repeatable)`)
	f.BoolVar(&opts.IncludeDependent, "include-dependent", false, "also list pairs that look dependent (the later call starts right after the earlier one ends)")
	f.DurationVar(&opts.SerialTolerance, "serial-tolerance", analyze.DefaultSerialTolerance,
		"overlap that still counts as serial, and the delay that counts as \"right after\" (millisecond clocks; 0 = none)")
	return c
}

func suggestRun(ctx context.Context, s *Streams, opts *SuggestOptions) error {
	format, err := parseFormat("-o", opts.Output, FormatTable, FormatJSON, FormatMarkdown)
	if err != nil {
		return inputError(err)
	}
	if opts.Top < 0 {
		return inputError(fmt.Errorf("--top %d: want 0 (all) or more", opts.Top))
	}
	if opts.SerialTolerance < 0 {
		return inputError(fmt.Errorf("--serial-tolerance %v: want 0 or more", opts.SerialTolerance))
	}
	if len(opts.WhatIf) > analyze.MaxWhatIfs {
		return inputError(fmt.Errorf("%d --what-if flags: at most %d", len(opts.WhatIf), analyze.MaxWhatIfs))
	}
	aopts, err := opts.analysisFlags.options()
	if err != nil {
		return inputError(err)
	}
	for _, spec := range opts.WhatIf {
		w, err := parseWhatIf(spec)
		if err != nil {
			return inputError(err)
		}
		aopts.WhatIf = append(aopts.WhatIf, w)
	}
	aopts.Suggest, aopts.SuggestDependent = true, opts.IncludeDependent
	aopts.SerialTolerance = opts.SerialTolerance
	if opts.SerialTolerance == 0 {
		aopts.SerialTolerance = -1 // analyze reads 0 as the default
	}
	in, err := load(ctx, s, loadSpec{Paths: opts.Paths, Input: opts.Input, Analyze: &aopts})
	if err != nil {
		return err
	}
	defer in.close()
	if err := renderSuggest(s.Out, format, in.Summary, in.Report, opts); err != nil {
		return err
	}
	return in.strictErr()
}

// suggestJSON is the documented JSON of `suggest -o json`.
type suggestJSON struct {
	Input          tracefmt.Summary       `json:"input"`
	Parallelizable []analyze.Candidate    `json:"parallelizable"`
	WhatIf         []analyze.WhatIfResult `json:"whatIf,omitempty"`
}

// parseWhatIf reads one --what-if value (grammar.WhatIf) into the
// analysis' change.
func parseWhatIf(spec string) (analyze.WhatIf, error) {
	w, err := grammar.ParseWhatIf(spec)
	if err != nil {
		return analyze.WhatIf{}, fmt.Errorf("--what-if: %v", err)
	}
	return analyze.WhatIf{Spec: spec, Match: w.Match, Factor: w.Factor, Shift: w.Shift}, nil
}
