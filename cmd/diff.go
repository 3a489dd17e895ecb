package cmd

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"hopbudget/analyze"
	"hopbudget/grammar"
	"hopbudget/tracefmt"
)

// DiffOptions are the flags of `hopbudget diff`.
type DiffOptions struct {
	Input inputOptions
	analysisFlags
	Output     string
	FailOn     []string
	Alpha      float64
	Correction string
	Verbose    bool
	Base       []string
	Candidate  []string
}

// diffFormats are the -o values; the order is the one messages list.
var diffFormats = []Format{FormatTable, FormatJSON, FormatMarkdown, FormatJUnit, FormatGitHub}

func newDiffCmd(s *Streams) *cobra.Command {
	opts := &DiffOptions{}
	c := &cobra.Command{
		Use:   "diff [flags] BASE CANDIDATE  |  diff [flags] BASE... -- CANDIDATE...",
		Short: "Compare two sets of traces (before/after): significant changes per endpoint and hop",
		Long: `diff analyses two sets of traces as analyze does and compares them per endpoint and per
hop: count, p50, p95, p99 and mean before and after, the change in time and percent, and
whether the change is statistically significant: a two-sided Mann–Whitney U test of the
latency samples (exact for small samples, else the normal approximation with tie correction),
as benchstat compares benchmarks. A diff runs one test per endpoint and hop, so the p-values
are Holm-adjusted over all of them (--correction none judges each alone, as benchstat does):
a change is significant when its adjusted p-value is below --alpha, and the chance that two
runs of the same build show any significant change stays below --alpha. For hops it also
shows the critical-path share: the mean time the critical path spends in the hop, before →
after.

BASE and CANDIDATE are each a file, directory or glob (quote it). For several paths per side,
put them all before and after "--": diff a.json b.json -- c.json d.json.

The table and Markdown show only significant changes (and endpoints or hops found on one side
only); -v shows everything. JSON, JUnit and GitHub annotations always cover every endpoint and
hop.

--fail-on RULE is the CI gate: exit 1 on a regression. RULE is METRIC>THRESHOLD with METRIC
p50, p95, p99 or mean and THRESHOLD a percentage of the base value (+10%) or a duration (+5ms;
ns, us, µs, ms, s); give the flag several times, or comma-separate rules, to fail on any of
them: --fail-on "p95>+10%,mean>+5ms".

One verdict rule: a regression is a gated statistic that grew beyond the rule's threshold and
whose growth is significant on its own, its confidence interval of after − before above zero:
a bootstrap interval for p50/p95/p99 (deterministic: a fixed seed per item), a Welch interval
for the mean; at level 1 − alpha, or 1 − alpha/(compared × rules) with the Holm correction, so
that the chance of any false regression stays below alpha. The U test says whether a
distribution shifted, not whether its p99 did, so it decides no gate. Otherwise an item is
slower or faster when the U test finds a significant shift, else ~. Each item has one verdict;
the summary counts them. A tail percentile resting on one of a side's 3 largest values is
flagged ("p99 is the 2nd largest"): such a change is a request or two.

JSON (-o json), all times in µs:
  {"base": SIDE, "candidate": SIDE, "criticalPathMode", "alpha", "correction": "holm"|"none",
   "compared": tests run, "failOn": [rules], "failed", "significant": count (U test),
   "regressions", "slower", "faster", "unchanged": the compared items by verdict,
   "level": the gates' interval confidence,
   "endpoints": [{"service", "operation", CHANGE...}],
   "hops": [{"from", "to", "operation", CHANGE..., "criticalPath": {"beforeMeanUs",
             "afterMeanUs", "deltaMeanUs", "beforeOnPath", "afterOnPath"}}]}
  SIDE:   {"paths", "traces" (analysed), "tracesFiltered", "input" (as analyze -o json)}
  CHANGE: "status": "both"|"added"|"removed"; "before", "after": {"count", "p50Us", "p95Us",
          "p99Us", "meanUs"} (null where absent); "deltaUs", "deltaPct": {"p50", "p95", "p99",
          "mean"} (a percentage is null from 0); "pValue" (the U test's), "pAdjusted" (after the
          correction), "significant", "verdict": "regression"|"slower"|"faster"|"~"|"added"|
          "removed", "direction": the verdict's ("slower"|"faster"|""), "shift": the U test's;
          "regressions": the --fail-on rules it fails; "gates": [{"rule", "metric", "deltaUs",
          "deltaPct", "exceeded", "ciLowUs", "ciHighUs", "level", "method", "regression"}];
          "warnings"

Exit codes: 0 no gate failed; 1 a regression by a --fail-on rule; 2 bad usage or input.`,
		Args: func(c *cobra.Command, args []string) error {
			dash := c.ArgsLenAtDash()
			switch {
			case dash < 0 && len(args) != 2:
				return fmt.Errorf("diff takes BASE and CANDIDATE (or BASE... -- CANDIDATE...), got %d arguments", len(args))
			case dash == 0 || dash == len(args):
				return errors.New(`diff BASE... -- CANDIDATE...: both sides need a path`)
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error {
			dash := c.ArgsLenAtDash()
			if dash < 0 {
				dash = 1
			}
			opts.Base, opts.Candidate = args[:dash], args[dash:]
			return diffRun(c.Context(), s, opts)
		},
	}
	f := c.Flags()
	opts.Input.addFlags(f)
	opts.analysisFlags.addFlags(f)
	f.StringVarP(&opts.Output, "output", "o", "table", "output format: "+formatList(diffFormats))
	f.StringArrayVar(&opts.FailOn, "fail-on", nil, `exit 1 on a significant change beyond RULE, e.g. "p99>+10%" or "mean>+5ms" (repeatable, or comma-separated: any fails)`)
	f.Float64Var(&opts.Alpha, "alpha", analyze.DefaultAlpha, "significance level of the U test")
	f.StringVar(&opts.Correction, "correction", analyze.CorrectionHolm, "multiple-comparison correction of the p-values: holm (chance of any false alarm < alpha) or none (each test alone, as benchstat)")
	f.BoolVarP(&opts.Verbose, "verbose", "v", false, "table and markdown: show every endpoint and hop, not only significant changes")
	return c
}

// gates parses --fail-on.
func (o *DiffOptions) gates() ([]grammar.Gate, error) {
	var gs []grammar.Gate
	for _, flag := range o.FailOn {
		for rule := range strings.SplitSeq(flag, ",") {
			g, err := grammar.ParseGate(rule)
			if err != nil {
				return nil, fmt.Errorf("--fail-on: %v", err)
			}
			gs = append(gs, g)
		}
	}
	return gs, nil
}

func diffRun(ctx context.Context, s *Streams, opts *DiffOptions) error {
	format, err := parseFormat("-o", opts.Output, diffFormats...)
	if err != nil {
		return inputError(err)
	}
	if !(opts.Alpha > 0 && opts.Alpha < 1) {
		return inputError(fmt.Errorf("--alpha %g: want a level between 0 and 1, e.g. 0.05", opts.Alpha))
	}
	if opts.Correction != analyze.CorrectionHolm && opts.Correction != analyze.CorrectionNone {
		return inputError(fmt.Errorf("--correction %q: want holm or none", opts.Correction))
	}
	if slices.Contains(opts.Base, "-") && slices.Contains(opts.Candidate, "-") {
		return inputError(errors.New(`stdin ("-") can feed one side only`))
	}
	gates, err := opts.gates()
	if err != nil {
		return inputError(err)
	}
	aopts, err := opts.analysisFlags.options()
	if err != nil {
		return inputError(err)
	}
	dr := &diffReport{Verbose: opts.Verbose, Mode: string(aopts.CriticalPath)}
	var reps [2]*analyze.Report
	for i, paths := range [][]string{opts.Base, opts.Candidate} {
		in, err := load(ctx, s, loadSpec{Paths: paths, Input: opts.Input, Analyze: &aopts, Summaries: &aopts, EndpointText: opts.Endpoint})
		if err != nil {
			return err
		}
		defer in.close()
		if err := in.strictErr(); err != nil {
			return err
		}
		reps[i] = in.Report
		side := diffSide{Paths: paths, Traces: reps[i].Counts.Traces, TracesFiltered: reps[i].Counts.TracesFiltered, Input: in.Summary}
		if i == 0 {
			dr.Base = side
		} else {
			dr.Candidate = side
		}
	}
	dr.Comparison = analyze.Compare(reps[0], reps[1], analyze.CompareOptions{Alpha: opts.Alpha, Gates: gates,
		NoCorrection: opts.Correction == analyze.CorrectionNone})
	if err := renderDiff(s.Out, format, dr); err != nil {
		return err
	}
	if dr.Failed {
		return &exitError{code: ExitBudgetExceeded, err: errors.New("significant regression")}
	}
	return nil
}

// diffReport is what the renderers of diff show; its JSON is `diff -o json`
// (schema in the command's help, fields documented on analyze.Comparison).
type diffReport struct {
	Base      diffSide `json:"base"`
	Candidate diffSide `json:"candidate"`
	Mode      string   `json:"criticalPathMode"`
	*analyze.Comparison
	Verbose bool `json:"-"`
}

// diffSide is one side's inputs.
type diffSide struct {
	Paths          []string         `json:"paths"`
	Traces         int              `json:"traces"`         // analysed
	TracesFiltered int              `json:"tracesFiltered"` // left out by --endpoint
	Input          tracefmt.Summary `json:"input"`
}
