package cmd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"hopbudget/analyze"
	"hopbudget/grammar"
	"hopbudget/tracefmt"
)

// ProfileOptions are the flags of `hopbudget profile`.
type ProfileOptions struct {
	Input inputOptions
	analysisFlags
	Format     string // pprof, folded, speedscope ("" = from OutputFile)
	OutputFile string
	Band       string
	Slowest    string
	SampleType string
	Paths      []string
}

// profileFormats are the --format values; the order is the one messages list.
var profileFormats = []Format{FormatPprof, FormatFolded, FormatSpeedscope}

func newProfileCmd(s *Streams) *cobra.Command {
	opts := &ProfileOptions{}
	c := &cobra.Command{
		Use:   "profile [flags] FILE|DIR|GLOB|- ... [-o FILE]",
		Short: "Traces as a profile: critical-path stacks for pprof, flame graphs, speedscope",
		Long: `profile aggregates the critical paths of all matching traces into stacks, as a CPU
profiler aggregates samples: each stack is a span's ancestor chain, root first, one frame per
span ("service: operation"), weighted by the critical-path time that span owns. Two more sample
types cover every span, on the path or not: self (its duration minus the time its synchronous
children cover) and wall (its duration).

Formats (--format; by default from -o: .pb.gz/.pprof/.pb pprof, .json speedscope, else folded):
  pprof       gzipped profile.proto with sample types critical_path (default), self and wall in
              microseconds: go tool pprof -top FILE, -sample_index=self, -http=: FILE for a
              flame graph, -diff_base=BEFORE AFTER to compare; -files groups by service
  folded      "frame;frame;frame value" lines (µs) for flamegraph.pl, inferno, speedscope; one
              sample type (--sample-type, default critical_path); the values add up to the total
              critical-path time, the sum of the requests' durations
  speedscope  speedscope's JSON file format, one sampled profile per sample type (or only
              --sample-type)

--percentile-band p95-p100 (or --slowest 5%) keeps, per endpoint, only the slowest requests by
root duration, so the profile shows what the tail spends its time on.

The trace input format flag is --input-format here (--format chooses the profile format).`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			opts.Paths = args
			return profileRun(c.Context(), s, opts)
		},
	}
	f := c.Flags()
	f.StringVar(&opts.Input.Format, "input-format", "auto", "trace input format: auto or one of "+fmt.Sprint(tracefmt.Formats()))
	f.BoolVar(&opts.Input.Strict, "strict", false, "treat input warnings (rejected spans, skipped files, …) as errors: exit code 2")
	addMemoryFlags(f, &opts.Input.MaxMemory, &opts.Input.TmpDir)
	opts.analysisFlags.addFlags(f)
	f.StringVar(&opts.Format, "format", "", "profile format: pprof, folded, speedscope (default: from -o, else folded)")
	f.StringVarP(&opts.OutputFile, "output", "o", "", "write the profile to FILE instead of stdout (- is stdout)")
	f.StringVar(&opts.Band, "percentile-band", "", "per endpoint, only requests in this duration band, e.g. p95-p100")
	f.StringVar(&opts.Slowest, "slowest", "", "per endpoint, only the slowest requests, e.g. 1% (same as --percentile-band p99-p100)")
	f.StringVar(&opts.SampleType, "sample-type", "", "folded and speedscope: "+strings.Join(analyze.SampleTypes[:], ", ")+
		" (default: critical_path for folded, all three for speedscope)")
	return c
}

// format is the profile format: --format, else from the output file name.
func (o *ProfileOptions) format() (Format, error) {
	if o.Format != "" {
		return parseFormat("--format", o.Format, profileFormats...)
	}
	name := strings.ToLower(o.OutputFile)
	switch {
	case strings.HasSuffix(name, ".pb.gz"), strings.HasSuffix(name, ".pprof"), strings.HasSuffix(name, ".pb"):
		return FormatPprof, nil
	case strings.HasSuffix(name, ".json"):
		return FormatSpeedscope, nil
	}
	return FormatFolded, nil
}

// band is the request band of --percentile-band or --slowest.
func (o *ProfileOptions) band() (analyze.Band, error) {
	switch {
	case o.Band != "" && o.Slowest != "":
		return analyze.Band{}, errors.New("--percentile-band and --slowest both choose the requests: give one")
	case o.Band != "":
		b, err := grammar.ParseBand(o.Band)
		if err != nil {
			return b, fmt.Errorf("--percentile-band: %v", err)
		}
		return b, nil
	case o.Slowest != "":
		b, err := grammar.ParseSlowest(o.Slowest)
		if err != nil {
			return b, fmt.Errorf("--slowest: %v", err)
		}
		return b, nil
	}
	return analyze.Band{}, nil
}

func profileRun(ctx context.Context, s *Streams, opts *ProfileOptions) error {
	if opts.OutputFile == "-" { // as report -o -: stdout
		opts.OutputFile = ""
	}
	format, err := opts.format()
	if err != nil {
		return inputError(err)
	}
	band, err := opts.band()
	if err != nil {
		return inputError(err)
	}
	types := []int{analyze.SampleCriticalPath}
	switch {
	case opts.SampleType != "" && format == FormatPprof:
		return inputError(errors.New("--sample-type is for folded and speedscope: a pprof profile holds every sample type (pick one with go tool pprof -sample_index)"))
	case opts.SampleType != "":
		t, err := analyze.ParseSampleType(opts.SampleType)
		if err != nil {
			return inputError(fmt.Errorf("--sample-type: %v", err))
		}
		types = []int{t}
	case format == FormatSpeedscope:
		types = []int{analyze.SampleCriticalPath, analyze.SampleSelf, analyze.SampleWall}
	}
	if format == FormatPprof && opts.OutputFile == "" && s.OutIsTerminal {
		return inputError(errors.New("a pprof profile is binary: write it with -o FILE (or pipe stdout)"))
	}
	aopts, err := opts.analysisFlags.options()
	if err != nil {
		return inputError(err)
	}
	in, err := load(ctx, s, loadSpec{Paths: opts.Paths, Input: opts.Input, Summaries: &aopts, EndpointText: opts.Endpoint})
	if err != nil {
		return err
	}
	defer in.close()
	p, err := profileOf(ctx, in, aopts, band)
	if err != nil {
		return err
	}

	var buf bytes.Buffer
	if err := renderProfile(&buf, format, p, types, aopts.CriticalPath); err != nil {
		return err
	}
	if opts.OutputFile == "" {
		if _, err := s.Out.Write(buf.Bytes()); err != nil {
			return err
		}
	} else if err := writeFileAtomic(ctx, opts.OutputFile, buf.Bytes()); err != nil {
		return inputError(err)
	}
	renderProfileSummary(s.Err, p, string(format), opts.OutputFile)
	return in.strictErr()
}

// profileOf builds the profile of the loaded traces, or takes the merged
// summaries' (which hold the profile of every request, no band).
func profileOf(ctx context.Context, in *loaded, aopts analyze.Options, band analyze.Band) (*analyze.Profile, error) {
	if in.Merged == nil {
		ps, err := profilesOf(ctx, in.Result, aopts, []analyze.Band{band})
		if err != nil {
			return nil, err
		}
		return ps[0], nil
	}
	if band != (analyze.Band{}) {
		return nil, inputError(fmt.Errorf("--percentile-band/--slowest need the traces: a summary holds the profile of every request"))
	}
	if in.Merged.Profile == nil {
		return nil, inputError(fmt.Errorf("the summaries hold no profile (made by a hopbudget without one)"))
	}
	return in.Merged.Profile, nil
}
