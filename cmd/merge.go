package cmd

import (
	"bytes"
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"hopbudget/analyze"
	"hopbudget/summary"
)

// MergeOptions are the flags of `hopbudget merge`.
type MergeOptions struct {
	Input  inputOptions
	Output string
	analysisFlags
	Paths []string
}

func newMergeCmd(s *Streams) *cobra.Command {
	opts := &MergeOptions{}
	c := &cobra.Command{
		Use:   "merge [flags] SUMMARY|FILE|DIR ... -o OUT",
		Short: "Merge summaries of trace shards into one (analyze --summary writes them)",
		Long: `merge combines mergeable summaries (written by analyze --summary or by merge itself) into the
summary of all their traces; trace files among the inputs are analysed and summarised first.
check, report, diff, profile and analyze read a summary wherever they read traces.

A figure stays exact while it holds at most 10,000 values, then becomes a DDSketch with a
relative accuracy of 0.5% (counts, sums, minimum and maximum stay exact); the JSON of a report
marks such items "approximate". Merging is associative and commutative: shards may be merged in
any order and grouping. Shards must be split by trace ID (every span of a trace in one shard):
merge counts the traces it finds in two shards ("split traces").`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			opts.Paths = args
			return mergeRun(c.Context(), s, opts)
		},
	}
	f := c.Flags()
	opts.Input.addFlags(f)
	f.StringVarP(&opts.Output, "output", "o", "", "write the merged summary to FILE (- for stdout)")
	opts.analysisFlags.addFlags(f)
	_ = c.MarkFlagRequired("output")
	return c
}

func mergeRun(ctx context.Context, s *Streams, opts *MergeOptions) error {
	aopts, err := opts.analysisFlags.options()
	if err != nil {
		return inputError(err)
	}
	in, err := load(ctx, s, loadSpec{Paths: opts.Paths, Input: opts.Input, Analyze: &aopts, Summaries: &aopts, EndpointText: opts.Endpoint})
	if err != nil {
		return err
	}
	defer in.close()
	if err := writeSummary(ctx, in, aopts, opts.Endpoint, opts.Output); err != nil {
		return err
	}
	m := in.Merged
	r := in.Report
	fmt.Fprintf(s.Err, "%s: %d shards, %d traces, %d endpoints, %d hops; %d approximate", opts.Output, m.Shards,
		r.Counts.Traces, len(r.Endpoints), len(r.Hops), r.Summary.Approximate)
	if m.SplitTraces > 0 {
		fmt.Fprintf(s.Err, "; %d traces found in two shards (split them by trace ID)", m.SplitTraces)
	}
	fmt.Fprintln(s.Err)
	return in.strictErr()
}

// writeSummary writes the summary of what was loaded: the merged summary,
// or that of the traces read.
func writeSummary(ctx context.Context, in *loaded, aopts analyze.Options, endpoint, path string) error {
	x := in.Merged
	if x == nil {
		var err error
		if x, err = summarize(ctx, in.Report, in.Result, aopts, endpoint); err != nil {
			return err
		}
		in.Merged = x
	}
	var buf bytes.Buffer
	if err := summary.Encode(&buf, x); err != nil {
		return err
	}
	if path == "-" {
		_, err := in.out.Write(buf.Bytes())
		return err
	}
	data, err := compressSummary(path, buf.Bytes())
	if err != nil {
		return err
	}
	if err := writeFileAtomic(ctx, path, data); err != nil {
		return inputError(err)
	}
	return nil
}
