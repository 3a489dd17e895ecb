package cmd

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"hopbudget/analyze"
	"hopbudget/budget"
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

// parseWhatIf reads one --what-if value:
//
//	what-if   = selectors ":" change
//	selectors = selector { "," selector }
//	selector  = ( "from" | "to" | "operation" | "op" ) "=" glob
//	change    = ( "-" | "+" ) duration      shorter or longer by, e.g. -20ms, +1.5ms
//	          | ( "x" | "*" | "×" ) factor  duration times a number ≥ 0, e.g. x0.5
//
// duration is Go's (20ms, 1.5s, 500us); globs are the budget file's ('*'
// matches '/'). The change follows the last ':', so operations may contain
// colons. A call matches when every selector matches its hop (caller
// service, callee, operation).
func parseWhatIf(spec string) (analyze.WhatIf, error) {
	bad := func(format string, a ...any) (analyze.WhatIf, error) {
		return analyze.WhatIf{}, fmt.Errorf("--what-if %q: %s", spec, fmt.Sprintf(format, a...))
	}
	i := strings.LastIndexByte(spec, ':')
	if i < 0 {
		return bad(`want SELECTORS:CHANGE, e.g. "to=pricing:-20ms" or "from=frontend,operation=GET*:x0.5"`)
	}
	sel, change := spec[:i], spec[i+1:]
	if strings.TrimSpace(sel) == "" {
		return bad("no selector before ':': want from=, to= or operation= (e.g. to=pricing)")
	}
	globs := map[string]string{}
	for _, part := range strings.Split(sel, ",") {
		k, v, ok := strings.Cut(part, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok {
			return bad("selector %q: want KEY=GLOB with KEY from, to or operation", part)
		}
		if k == "op" {
			k = "operation"
		}
		switch k {
		case "from", "to", "operation":
		default:
			return bad("unknown selector %q: want from, to or operation", k)
		}
		if _, dup := globs[k]; dup {
			return bad("selector %q given twice", k)
		}
		if v == "" {
			return bad("selector %s= has no value: want a name or glob", k)
		}
		if err := budget.CheckGlob(v); err != nil {
			return bad("selector %s: %v", k, err)
		}
		globs[k] = v
	}
	w := analyze.WhatIf{Spec: spec, Factor: 1}
	change = strings.TrimSpace(change)
	const wantChange = "want -DURATION or +DURATION (e.g. -20ms) or xFACTOR (e.g. x0.5)"
	switch {
	case change == "":
		return bad("no change after ':': %s", wantChange)
	case change[0] == '-' || change[0] == '+':
		d, err := time.ParseDuration(change[1:])
		if err != nil || d < 0 || strings.HasPrefix(change[1:], "-") || strings.HasPrefix(change[1:], "+") {
			return bad("bad duration %q: want a number with a unit (ns, us, ms, s), e.g. -20ms", change)
		}
		if change[0] == '-' {
			d = -d
		}
		w.Shift = d
	case factorPrefix(change) > 0:
		f, err := strconv.ParseFloat(change[factorPrefix(change):], 64)
		if err != nil || f < 0 || math.IsInf(f, 0) || math.IsNaN(f) {
			return bad("bad factor %q: want x and a number ≥ 0, e.g. x0.5", change)
		}
		w.Factor = f
	default:
		return bad("bad change %q: %s", change, wantChange)
	}
	from, to, op := globs["from"], globs["to"], globs["operation"]
	w.Match = func(f, t, o string) bool {
		return (from == "" || budget.MatchGlob(from, f)) && (to == "" || budget.MatchGlob(to, t)) &&
			(op == "" || budget.MatchGlob(op, o))
	}
	return w, nil
}

// factorPrefix is the length of the x, X, * or × starting s, else 0.
func factorPrefix(s string) int {
	for _, p := range []string{"x", "X", "*", "×"} {
		if strings.HasPrefix(s, p) {
			return len(p)
		}
	}
	return 0
}
