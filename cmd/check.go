package cmd

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"hopbudget/analyze"
	"hopbudget/budget"
	"hopbudget/tracefmt"
)

// CheckOptions are the flags of `hopbudget check`.
type CheckOptions struct {
	Input inputOptions
	analysisFlags
	Budget           string
	Output           string
	OutputFile       string
	OutputFileFormat string
	MinSamples       int
	AllowNoData      bool
	FailOnNoData     bool // deprecated: the default; accepted, does nothing
	WarnOnly         bool
	Paths            []string
}

// checkFormats are the -o values; the order is the one messages list.
var checkFormats = []Format{FormatTable, FormatJSON, FormatMarkdown, FormatJUnit, FormatGitHub}

// outputFileFormats infers --output-file-format from the file's extension.
var outputFileFormats = map[string]Format{".xml": FormatJUnit, ".md": FormatMarkdown, ".json": FormatJSON, ".txt": FormatTable}

func newCheckCmd(s *Streams) *cobra.Command {
	opts := &CheckOptions{}
	c := &cobra.Command{
		Use:   "check --budget FILE [flags] FILE|DIR|GLOB|- ...",
		Short: "Hold traces to a latency budget file: the CI gate",
		Long: `check analyses the traces as analyze does and holds every line of the budget file to
them: per target and matched endpoint, hop, layer or fan-in, the actual percentile, the headroom
or overspend, the sample count and an exemplar trace; error rates (errors:) with their burn rate
over the export and over the 1h/6h/3d alert windows it spans; slow-request budgets
(slowRequests:) with theirs; for an endpoint over budget, the hops most on the critical path of
its slow requests.

No evidence, no pass: a line whose matcher matches nothing in the traces, or that has fewer
than --min-samples samples, fails the check, named as such; --allow-no-data reports those as
warnings instead. The summary says how many lines were checked against how many samples.

Exit codes: 0 every line within budget; 1 a line over budget, matching nothing or without
enough data; 2 bad usage, invalid budget file or unreadable input. --warn-only turns 1 into 0.
--strict makes budget warnings (a layer's hop matcher that matches no call, a deprecated key),
lines that match nothing, and input warnings exit 2.

--output-file writes a second format beside the one printed, e.g. -o github with
--output-file report.xml (junit); the format comes from --output-file-format, else from the
extension: .xml junit, .md markdown, .json json, .txt table.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			opts.Paths = args
			return checkRun(c.Context(), s, opts)
		},
	}
	f := c.Flags()
	opts.Input.addFlags(f)
	opts.analysisFlags.addFlags(f)
	f.StringVar(&opts.Budget, "budget", "", "the budget file (YAML; required)")
	opts.addGateFlags(f)
	return c
}

// addGateFlags binds the flags of the verdict and its output, shared with
// `record --budget`, which runs the same check.
func (o *CheckOptions) addGateFlags(f *pflag.FlagSet) {
	f.StringVarP(&o.Output, "output", "o", "table", "output format: "+formatList(checkFormats))
	f.StringVar(&o.OutputFile, "output-file", "", "also write the result to FILE (see --output-file-format)")
	f.StringVar(&o.OutputFileFormat, "output-file-format", "", "format of --output-file: "+formatList(checkFormats)+" (default: from the extension)")
	f.IntVar(&o.MinSamples, "min-samples", budget.DefaultMinSamples, "lines with fewer samples are not enough data: they fail unless --allow-no-data")
	f.BoolVar(&o.AllowNoData, "allow-no-data", false, "lines that match nothing or have too few samples are warnings, not failures")
	f.BoolVar(&o.FailOnNoData, "fail-on-no-data", false, "no effect: lines without data fail by default (see --allow-no-data)")
	f.MarkHidden("fail-on-no-data") // checkRun says it is deprecated (cobra's notice would be lost)
	f.BoolVar(&o.WarnOnly, "warn-only", false, "report, but exit 0 when the gate fails (lines over budget or without data)")
}

// validate checks the flags and returns the -o format and the
// --output-file format ("" without --output-file).
func (o *CheckOptions) validate() (out, file Format, err error) {
	if o.Budget == "" {
		return "", "", errors.New("--budget FILE is required")
	}
	if out, err = parseFormat("-o", o.Output, checkFormats...); err != nil {
		return "", "", err
	}
	if o.AllowNoData && o.FailOnNoData {
		return "", "", errors.New("--allow-no-data and --fail-on-no-data contradict each other")
	}
	if o.MinSamples < 1 {
		return "", "", fmt.Errorf("--min-samples %d: want 1 or more", o.MinSamples)
	}
	switch {
	case o.OutputFile == "" && o.OutputFileFormat != "":
		return "", "", errors.New("--output-file-format needs --output-file")
	case o.OutputFile == "":
		return out, "", nil
	case o.OutputFileFormat != "":
		file, err = parseFormat("--output-file-format", o.OutputFileFormat, checkFormats...)
		return out, file, err
	}
	if f, ok := outputFileFormats[strings.ToLower(filepath.Ext(o.OutputFile))]; ok {
		return out, f, nil
	}
	return "", "", fmt.Errorf("--output-file %q: cannot tell the format from the extension (.xml, .md, .json, .txt); set --output-file-format", o.OutputFile)
}

func checkRun(ctx context.Context, s *Streams, opts *CheckOptions) error {
	outFormat, fileFormat, err := opts.validate()
	if err != nil {
		return inputError(err)
	}
	if opts.FailOnNoData {
		fmt.Fprintln(s.Err, "hopbudget: --fail-on-no-data is deprecated and has no effect: lines without data fail by default (--allow-no-data lets them pass)")
	}
	aopts, err := opts.analysisFlags.options()
	if err != nil {
		return inputError(err)
	}
	in, err := load(ctx, s, loadSpec{Paths: opts.Paths, Input: opts.Input, Budget: opts.Budget, Analyze: &aopts,
		Summaries: &aopts, EndpointText: opts.Endpoint})
	if err != nil {
		return err
	}
	defer in.close()
	return checkVerdict(ctx, s, opts, outFormat, fileFormat, in.Budget, in.Summary, in.Report, string(aopts.CriticalPath), in.strictErr())
}

// checkVerdict holds the analysis to the budget, renders the result in
// every format asked for, and returns the exit; strictErr is the input's
// --strict verdict.
func checkVerdict(ctx context.Context, s *Streams, opts *CheckOptions, outFormat, fileFormat Format, b *budget.Budget, sum tracefmt.Summary, rep *analyze.Report, mode string, strictErr error) error {
	out := budget.Evaluate(b, rep, budget.EvalOptions{MinSamples: opts.MinSamples, AllowNoData: opts.AllowNoData})
	cr := &checkReport{Input: sum, Analysed: rep.Counts.Traces, Filtered: rep.Counts.TracesFiltered, FromSummary: rep.Summary,
		Mode: mode, Result: out}

	if err := renderCheck(s.Out, outFormat, cr, s.OutIsTerminal); err != nil {
		return err
	}
	if opts.OutputFile != "" {
		var buf bytes.Buffer
		if err := renderCheck(&buf, fileFormat, cr, false); err != nil {
			return err
		}
		if err := writeFileAtomic(ctx, opts.OutputFile, buf.Bytes()); err != nil {
			return inputError(err)
		}
	}
	if strictErr != nil {
		return strictErr
	}
	if opts.Input.Strict {
		ws := slices.Clone(out.Warnings)
		for _, l := range out.Lines {
			if l.Status == budget.StatusNoMatch {
				ws = append(ws, budget.Warning{Line: l.Line, Message: l.Title + ": " + l.Note})
			}
		}
		slices.SortStableFunc(ws, func(a, b budget.Warning) int { return cmp.Compare(a.Line, b.Line) })
		if len(ws) > 0 {
			return inputError(fmt.Errorf("--strict: %s (first: %s:%d: %s)", plural(len(ws), "budget warning"), out.File, ws[0].Line, ws[0].Message))
		}
	}
	if !out.Passed && !opts.WarnOnly {
		return &exitError{code: ExitBudgetExceeded, err: errors.New("budget exceeded")}
	}
	return nil
}

// checkNothing gives the verdict on no traces at all (record received no
// spans): every line matched nothing, in the formats asked for, without
// reading an empty file back.
func checkNothing(ctx context.Context, s *Streams, opts *CheckOptions) error {
	outFormat, fileFormat, err := opts.validate()
	if err != nil {
		return inputError(err)
	}
	aopts, err := opts.analysisFlags.options()
	if err != nil {
		return inputError(err)
	}
	b, err := loadBudget(opts.Budget)
	if err != nil {
		return err
	}
	return checkVerdict(ctx, s, opts, outFormat, fileFormat, b, tracefmt.Summary{Format: "none"}, &analyze.Report{}, string(aopts.CriticalPath), nil)
}

// checkReport is what the renderers of check show.
type checkReport struct {
	Input    tracefmt.Summary
	Analysed int // traces analysed
	// FromSummary: the Report was rebuilt from summaries (nil: from traces).
	FromSummary *analyze.SummaryInfo
	Filtered    int // left out by --endpoint
	Mode        string
	*budget.Result
}
