package cmd

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/pflag"

	"hopbudget/analyze"
	"hopbudget/budget"
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
}

func (o *inputOptions) addFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Format, "format", "auto", "input format: auto or one of "+fmt.Sprint(tracefmt.Formats()))
	fs.BoolVar(&o.Strict, "strict", false, "treat warnings (rejected spans, skipped files, …) as errors: exit code 2")
	addMaxDecompressedFlag(fs, &o.MaxDecompressed)
}

// loadSpec says what a command needs from its inputs.
type loadSpec struct {
	Paths []string
	Input inputOptions
	// Budget is a budget file to load before reading ("" = none).
	Budget string
	// Analyze, when set, analyses the traces into loaded.Report.
	Analyze *analyze.Options
}

// loaded is what load produced.
type loaded struct {
	Result  *tracefmt.Result
	Summary tracefmt.Summary
	Report  *analyze.Report // nil unless loadSpec.Analyze
	Budget  *budget.Budget  // nil unless loadSpec.Budget
	strict  bool
}

// Traces are the traces read, grouped by trace ID.
func (l *loaded) Traces() []tracefmt.Trace { return l.Result.Traces }

// strictErr fails a --strict run whose input produced warnings. Commands
// call it after rendering, so the output is still shown.
func (l *loaded) strictErr() error { return strictCheck(l.strict, l.Summary) }

// load runs the input pipeline. Its errors are input errors (exit code 2),
// except an interruption, which wraps ctx's error.
func load(ctx context.Context, s *Streams, spec loadSpec) (*loaded, error) {
	l := &loaded{strict: spec.Input.Strict}
	if spec.Budget != "" {
		b, err := loadBudget(spec.Budget)
		if err != nil {
			return nil, err
		}
		l.Budget = b
	}
	res, err := readInputs(ctx, s, spec.Paths, spec.Input)
	if err != nil {
		return nil, err
	}
	l.Result = res
	l.Summary = tracefmt.Summarize(res)
	if spec.Analyze != nil {
		if l.Report, err = analyze.Analyze(ctx, res.Traces, *spec.Analyze); err != nil {
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
	// One trace order whatever the order of the files.
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
