package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/pflag"

	"hopbudget/analyze"
	"hopbudget/budget"
	"hopbudget/summary"
	"hopbudget/tracefmt"
)

// The one input pipeline every command runs:
//
//	budget file (first: a broken one fails before a long read)
//	→ read the inputs (tracefmt.Read: expand, sniff, decode, group by trace)
//	→ summarize what was read
//	→ analyse (when the command needs a report)
//
// New sources and spilling plug in here; commands only say what they need
// (loadSpec) and take what they get (loaded). The context stops every step.

// inputOptions are the flags every command that reads traces shares.
type inputOptions struct {
	Format          string
	Strict          bool
	MaxDecompressed string
	MaxMemory       string
	TmpDir          string
}

func (o *inputOptions) addFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Format, "format", "auto", "input format: auto or one of "+fmt.Sprint(tracefmt.Formats()))
	fs.BoolVar(&o.Strict, "strict", false, "treat warnings (rejected spans, skipped files, …) as errors: exit code 2")
	addMaxDecompressedFlag(fs, &o.MaxDecompressed)
	addMemoryFlags(fs, &o.MaxMemory, &o.TmpDir)
}

// loadSpec says what a command needs from its inputs.
type loadSpec struct {
	Paths []string
	Input inputOptions
	// Budget is a budget file to load before reading ("" = none).
	Budget string
	// Analyze, when set, analyses the traces into loaded.Report.
	Analyze *analyze.Options
	// Summaries, when set, lets summary files (analyze --summary, merge)
	// stand among the inputs: they must have been made with these options,
	// and the command works from their merged Report (loaded.Merged).
	// EndpointText is --endpoint's text, which summaries record.
	Summaries    *analyze.Options
	EndpointText string
}

// loaded is what load produced.
type loaded struct {
	Result  *tracefmt.Result
	Summary tracefmt.Summary
	Report  *analyze.Report // nil unless loadSpec.Analyze
	Budget  *budget.Budget  // nil unless loadSpec.Budget
	// Merged is the merged summary when some input was a summary; trace
	// inputs read beside them are summarised into it.
	Merged *summary.Summary
	strict bool
	out    io.Writer // the command's stdout
}

// close removes the temporary files of a spilled input. Every command
// that loads calls it when done.
func (l *loaded) close() {
	if l != nil && l.Result != nil {
		l.Result.Close()
	}
}

// noteSpill says on stderr that the input was spilled, and where.
func noteSpill(s *Streams, res *tracefmt.Result, sum tracefmt.Summary) {
	if res.Spilled() {
		fmt.Fprintf(s.Err, "hopbudget: %d spans do not fit in --max-memory: spilled to %d partitions in %s (removed on exit)\n",
			sum.Spans, res.Partitions(), res.SpillDir())
	}
}

// profilesOf builds the profiles of what was read for bands: in memory, or
// a partition at a time when it was spilled (the same profiles).
func profilesOf(ctx context.Context, res *tracefmt.Result, opts analyze.Options, bands []analyze.Band) ([]*analyze.Profile, error) {
	if res.Spilled() {
		return analyze.BuildProfilesPartitions(ctx, res, opts, bands)
	}
	return analyze.BuildProfiles(ctx, res.Traces, opts, bands)
}

// analyzeResult analyses what was read: in memory, or a partition at a
// time when it was spilled (the same Report).
func analyzeResult(ctx context.Context, res *tracefmt.Result, opts analyze.Options) (*analyze.Report, error) {
	if res.Spilled() {
		return analyze.AnalyzePartitions(ctx, res, opts)
	}
	return analyze.Analyze(ctx, res.Traces, opts)
}

// strictErr fails a --strict run whose input produced warnings. Commands
// call it after rendering, so the output is still shown.
func (l *loaded) strictErr() error { return strictCheck(l.strict, l.Summary) }

// load runs the input pipeline. Its errors are input errors (exit code 2),
// except an interruption, which wraps ctx's error.
func load(ctx context.Context, s *Streams, spec loadSpec) (*loaded, error) {
	l := &loaded{strict: spec.Input.Strict, out: s.Out}
	if spec.Budget != "" {
		b, err := loadBudget(spec.Budget)
		if err != nil {
			return nil, err
		}
		l.Budget = b
	}
	if sums, traces := splitSummaries(spec.Paths); len(sums) > 0 {
		if spec.Summaries == nil {
			return nil, inputError(fmt.Errorf("%s is a hopbudget summary: this command needs the traces themselves (summaries serve analyze, check, report, diff, profile and merge)", sums[0]))
		}
		return loadWithSummaries(ctx, s, spec, l, sums, traces)
	}
	res, err := readInputs(ctx, s, spec.Paths, spec.Input)
	if err != nil {
		return nil, err
	}
	l.Result = res
	l.Summary = tracefmt.Summarize(res)
	noteSpill(s, res, l.Summary)
	if spec.Analyze != nil {
		if l.Report, err = analyzeResult(ctx, res, *spec.Analyze); err != nil {
			res.Close()
			return nil, err
		}
	}
	return l, nil
}

// readInputs reads every path, drawing progress on stderr when it is a
// terminal. Decode errors come back as input errors (exit code 2).
func readInputs(ctx context.Context, s *Streams, paths []string, o inputOptions) (*tracefmt.Result, error) {
	format, err := tracefmt.ParseFormat(o.Format)
	if err != nil {
		return nil, inputError(err)
	}
	opts := tracefmt.Options{Format: format, Stdin: s.In}
	if opts.MaxDecompressed, err = parseMaxDecompressed(o.MaxDecompressed); err != nil {
		return nil, inputError(err)
	}
	if opts.MaxMemory, err = parseMaxMemory(o.MaxMemory); err != nil {
		return nil, inputError(err)
	}
	opts.TmpDir = o.TmpDir
	if s.SetMemoryLimit != nil && opts.MaxMemory > 0 {
		s.SetMemoryLimit(opts.MaxMemory)
	}
	if s.ErrIsTerminal {
		opts.Progress = new(tracefmt.Progress)
		stop := drawProgress(s, opts.Progress)
		defer stop()
	}
	res, err := tracefmt.Read(ctx, paths, opts)
	if err != nil {
		if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
			return nil, err
		}
		return nil, inputError(err)
	}
	// One trace order whatever the order of the files (a spilled result
	// is put in it as it is analysed).
	analyze.SortTraces(res.Traces)
	return res, nil
}

// loadBudget loads and validates a budget file; errors are input errors.
func loadBudget(path string) (*budget.Budget, error) {
	b, err := budget.Load(path)
	if err != nil {
		var ve *budget.ValidationError
		if errors.As(err, &ve) {
			return nil, inputError(fmt.Errorf("invalid budget file:\n%v", ve))
		}
		return nil, inputError(fmt.Errorf("budget file: %v", err))
	}
	return b, nil
}

// strictCheck fails a --strict run that produced warnings.
func strictCheck(strict bool, sum tracefmt.Summary) error {
	if strict && len(sum.Warnings) > 0 {
		n := 0
		for _, w := range sum.Warnings {
			n += w.Count
		}
		return inputError(fmt.Errorf("--strict: %d warnings (first: %s)", n, sum.Warnings[0].Example))
	}
	return nil
}
