package cmd

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"hopbudget/analyze"
	"hopbudget/grammar"
	"hopbudget/tracefmt"
)

// AnalyzeOptions are the flags of `hopbudget analyze`.
type AnalyzeOptions struct {
	Input    inputOptions
	Output   string
	PerTrace bool
	Top      int
	Sort     string
	// SummaryFile: also write a mergeable summary there (--summary).
	SummaryFile string
	analysisFlags
	Paths []string
}

func newAnalyzeCmd(s *Streams) *cobra.Command {
	opts := &AnalyzeOptions{}
	c := &cobra.Command{
		Use:   "analyze [flags] FILE|DIR|GLOB|- ...",
		Short: "Critical paths, fan-in waits, per-hop and per-endpoint percentiles",
		Long: `analyze rebuilds every request's span DAG (dedupe, orphans, cycles, clock skew),
walks its critical path, measures fan-in waits of parallel calls, and aggregates per endpoint
(root service + operation) and per hop (caller → callee, operation): p50/p95/p99, network gap,
error rate and critical-path share. Percentiles are exact (nearest rank).`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			opts.Paths = args
			return analyzeRun(c.Context(), s, opts)
		},
	}
	f := c.Flags()
	opts.Input.addFlags(f)
	f.StringVarP(&opts.Output, "output", "o", "table", "output format: table, json or markdown")
	f.BoolVar(&opts.PerTrace, "per-trace", false, "add every trace's critical path and fan-in groups (oldest first, ties by trace ID)")
	f.IntVar(&opts.Top, "top", 10, "rows in the hop and fan-in tables (0 = all)")
	f.StringVar(&opts.Sort, "sort", "p99", "order of the main hop table: p99, share, count, errors or name")
	f.StringVar(&opts.SummaryFile, "summary", "", "also write a mergeable summary of these traces to FILE (for merge, check, report, diff, profile)")
	opts.analysisFlags.addFlags(f)
	return c
}

// endpointFilter reads --endpoint (grammar.Endpoint); "" selects every
// endpoint.
func endpointFilter(spec string) (func(service, op string) bool, error) {
	if spec == "" {
		return nil, nil
	}
	e, err := grammar.ParseEndpoint(spec)
	if err != nil {
		return nil, fmt.Errorf("--endpoint: %v", err)
	}
	return e.Match, nil
}

func (o *AnalyzeOptions) analyzeOptions() (analyze.Options, error) {
	opts, err := o.analysisFlags.options()
	opts.PerTrace = o.PerTrace
	return opts, err
}

func analyzeRun(ctx context.Context, s *Streams, opts *AnalyzeOptions) error {
	format, err := parseFormat("-o", opts.Output, FormatTable, FormatJSON, FormatMarkdown)
	if err != nil {
		return inputError(err)
	}
	if _, ok := hopSorts[opts.Sort]; !ok {
		return inputError(fmt.Errorf("--sort %q: want p99, share, count, errors or name", opts.Sort))
	}
	if opts.Top < 0 {
		return inputError(fmt.Errorf("--top %d: want 0 (all) or more", opts.Top))
	}
	aopts, err := opts.analyzeOptions()
	if err != nil {
		return inputError(err)
	}
	aopts.Suggest = format == FormatJSON // the JSON carries the candidates; the tables do not show them
	in, err := load(ctx, s, loadSpec{Paths: opts.Paths, Input: opts.Input, Analyze: &aopts, Summaries: &aopts, EndpointText: opts.Endpoint})
	if err != nil {
		return err
	}
	defer in.close()
	if in.Merged != nil && opts.PerTrace {
		return inputError(fmt.Errorf("--per-trace needs the traces: a summary holds no single trace"))
	}
	if opts.SummaryFile != "" {
		if err := writeSummary(ctx, in, aopts, opts.Endpoint, opts.SummaryFile); err != nil {
			return err
		}
	}
	if err := renderAnalyze(s.Out, format, in.Summary, in.Report, opts); err != nil {
		return err
	}
	return in.strictErr()
}

// analyzeJSON is the documented JSON of `analyze -o json`: the input summary
// and the report's fields side by side.
type analyzeJSON struct {
	Input tracefmt.Summary `json:"input"`
	*analyze.Report
}
