package cmd

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"hopbudget/analyze"
	"hopbudget/budget"
	"hopbudget/grammar"
	"hopbudget/tracefmt"
)

// ReportOptions are the flags of `hopbudget report`.
type ReportOptions struct {
	Input inputOptions
	analysisFlags
	Output       string
	Budget       string
	MinSamples   int
	FailOnNoData bool
	Band         string
	Top          int
	Exemplars    int
	Title        string
	Paths        []string
}

func newReportCmd(s *Streams) *cobra.Command {
	opts := &ReportOptions{}
	c := &cobra.Command{
		Use:   "report [--budget FILE] [flags] FILE|DIR|GLOB|- ... -o report.html",
		Short: "One self-contained HTML file: budgets, hops, the tail's critical path, exemplar waterfalls",
		Long: `report analyses the traces as analyze does and writes one HTML file to attach to an
incident ticket: it needs no network when opened (no scripts, fonts or styles fetched; its
Content-Security-Policy forbids them) and holds aggregates and a bounded number of exemplar
traces, never every span, so it stays small for millions of spans. Sections:

  1 Summary         the input, every endpoint's p50/p95/p99 and, with --budget, each budget
                    line's verdict exactly as check computes it
  2 Hops            each hop's p50/p95/p99 against its budget line (overspend in red) and its
                    latency distribution on a log axis
  3 Tail            the critical path of the slowest requests (--percentile-band, default
                    p95-p100 of each endpoint) as an icicle, and a heatmap of critical-path time
                    per call path and percentile band
  4 Exemplars       waterfalls of the slowest traces, of the traces at each busy endpoint's
                    p50/p95/p99 and of budget lines over target: critical path highlighted,
                    fan-in waits hatched, clock-skew shifts and clipped spans noted; traces
                    over 300 spans show their critical path and collapse the rest
  5 Parallelization serial calls that could run together (as suggest finds them), with the
                    endpoint's p99 before and after

report is not a gate: it exits 0 whatever the budget says (check is the gate). The same
input gives the same bytes.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			opts.Paths = args
			return reportRun(c.Context(), s, opts)
		},
	}
	f := c.Flags()
	opts.Input.addFlags(f)
	opts.analysisFlags.addFlags(f)
	f.StringVarP(&opts.Output, "output", "o", "", "the HTML file to write (required; - for stdout)")
	f.StringVar(&opts.Budget, "budget", "", "a budget file (YAML) to hold the traces to, as check does")
	f.IntVar(&opts.MinSamples, "min-samples", budget.DefaultMinSamples, "with --budget: lines with fewer samples are reported as not enough data")
	f.BoolVar(&opts.FailOnNoData, "fail-on-no-data", false, "no effect (deprecated): lines without enough data count as failed, as in check")
	f.MarkHidden("fail-on-no-data")
	f.StringVar(&opts.Band, "percentile-band", defaultReportBand, "requests of each endpoint whose critical path the icicle shows")
	f.IntVar(&opts.Top, "top", 30, "hops drawn with charts (0 = all); the table lists every hop")
	f.IntVar(&opts.Exemplars, "exemplars", 3, "slowest traces drawn as waterfalls, besides those at each endpoint's percentiles")
	f.StringVar(&opts.Title, "title", "", "the report's title (default: hopbudget report)")
	return c
}

// defaultReportBand: the icicle shows the tail unless told otherwise.
const defaultReportBand = "p95-p100"

func (o *ReportOptions) validate() (analyze.Band, error) {
	switch {
	case o.Output == "":
		return analyze.Band{}, errors.New("-o FILE is required (the HTML report; - for stdout)")
	case o.Top < 0:
		return analyze.Band{}, fmt.Errorf("--top %d: want 0 (all) or more", o.Top)
	case o.Exemplars < 0:
		return analyze.Band{}, fmt.Errorf("--exemplars %d: want 0 or more", o.Exemplars)
	case o.MinSamples < 1:
		return analyze.Band{}, fmt.Errorf("--min-samples %d: want 1 or more", o.MinSamples)
	}
	b, err := grammar.ParseBand(o.Band)
	if err != nil {
		return b, fmt.Errorf("--percentile-band: %v", err)
	}
	return b, nil
}

func reportRun(ctx context.Context, s *Streams, opts *ReportOptions) error {
	in, err := computeReport(ctx, s, opts)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := renderReport(&buf, in); err != nil {
		return err
	}
	if opts.Output == "-" {
		if _, err := s.Out.Write(buf.Bytes()); err != nil {
			return err
		}
	} else {
		if err := writeFileAtomic(ctx, opts.Output, buf.Bytes()); err != nil {
			return inputError(err)
		}
		fmt.Fprintf(s.Err, "wrote %s (%s): %d traces, %d endpoints, %d hops, %s\n", opts.Output, humanBytes(int64(buf.Len())),
			in.Report.Counts.Traces, len(in.Report.Endpoints), len(in.Report.Hops), plural(len(in.Picks), "exemplar trace"))
	}
	return strictCheck(opts.Input.Strict, in.Input)
}

// computeReport reads and analyses the traces: everything the report shows.
func computeReport(ctx context.Context, s *Streams, opts *ReportOptions) (*reportInput, error) {
	band, err := opts.validate()
	if err != nil {
		return nil, inputError(err)
	}
	aopts, err := opts.analysisFlags.options()
	if err != nil {
		return nil, inputError(err)
	}
	aopts.Suggest = true
	l, err := load(ctx, s, loadSpec{Paths: opts.Paths, Input: opts.Input, Budget: opts.Budget, Analyze: &aopts,
		Summaries: &aopts, EndpointText: opts.Endpoint})
	if err != nil {
		return nil, err
	}
	defer l.close()
	rep := l.Report
	var verdict *budget.Result
	if l.Budget != nil {
		// As check: lines without data fail (report is no gate: it still exits 0).
		verdict = budget.Evaluate(l.Budget, rep, budget.EvalOptions{MinSamples: opts.MinSamples})
	}
	if l.Merged != nil {
		// From summaries: the profile of every request, no heatmap and no
		// waterfalls (those need the traces).
		if opts.Band == defaultReportBand {
			band = analyze.Band{}
			fmt.Fprintln(s.Err, "hopbudget: from summaries: the icicle shows every request (a summary holds no percentile band), no heatmap and no waterfalls")
		}
		p, err := profileOf(ctx, l, aopts, band)
		if err != nil {
			return nil, err
		}
		return &reportInput{Title: opts.Title, Input: l.Summary, Report: rep, Budget: verdict, Mode: string(aopts.CriticalPath),
			Tail: p, Top: opts.Top}, nil
	}
	// One more pass over the traces for every profile: the icicle's band
	// and the heatmap's.
	profiles, err := profilesOf(ctx, l.Result, aopts, append([]analyze.Band{band}, heatBands...))
	if err != nil {
		return nil, err
	}

	// The exemplars: analysed again, alone, for their span layout.
	picks := analyze.PickExemplars(rep, opts.Exemplars, overExemplars(verdict))
	ids := make([]tracefmt.TraceID, len(picks))
	for i, p := range picks {
		ids[i] = p.ID
	}
	// One trace shows too few spans to read its services' clocks: use
	// those of the whole input.
	aopts.ClockGranularity = analyze.ClockOverrides(rep.Clocks)
	exemplars, err := l.Result.FindTraces(ids)
	if err != nil {
		return nil, inputError(err)
	}
	layouts := analyze.Layouts(exemplars, ids, aopts)
	return &reportInput{Title: opts.Title, Input: l.Summary, Report: rep, Budget: verdict, Mode: string(aopts.CriticalPath),
		Tail: profiles[0], Heat: profiles[1:], Picks: picks, Layouts: layouts, Top: opts.Top}, nil
}
