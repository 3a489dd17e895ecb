package cmd

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/klauspost/compress/zstd"

	"hopbudget/analyze"
	"hopbudget/summary"
	"hopbudget/tracefmt"
)

// Summaries in the input pipeline: a file argument that holds a hopbudget
// summary (analyze --summary, merge) stands for the traces it summarises.
// Every summary and the summary of the trace inputs merge into one, whose
// Report (and profile) the command then works from.

// summaryHeader is how every summary file starts (summary.Encode writes
// the format field first).
var summaryHeader = []byte(`{"format":"` + summary.FormatName + `"`)

// isSummaryFile says whether path is a regular file that starts as a
// summary does. Directories, globs and stdin are trace inputs.
func isSummaryFile(path string) bool {
	if path == "-" {
		return false
	}
	st, err := os.Stat(path)
	if err != nil || !st.Mode().IsRegular() {
		return false
	}
	r, closer, err := openSummary(path)
	if err != nil {
		return false
	}
	defer closer()
	head, _ := r.Peek(len(summaryHeader) + 64)
	return bytes.HasPrefix(bytes.TrimLeft(head, " \t\r\n"), summaryHeader)
}

// openSummary opens a summary file, plain or compressed (gzip, zstd: by
// content, as trace inputs).
func openSummary(path string) (*bufio.Reader, func(), error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	br := bufio.NewReader(f)
	r, compression, closeZ, err := tracefmt.Decompress(br)
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("%s: %s: %v", path, compression, err)
	}
	if compression == "none" {
		return br, func() { f.Close() }, nil
	}
	return bufio.NewReader(r), func() { closeZ(); f.Close() }, nil
}

// compressSummary compresses an encoded summary as the file name asks:
// .zst (zstd, about 13x smaller) or .gz (gzip), else plain JSON.
func compressSummary(path string, data []byte) ([]byte, error) {
	var buf bytes.Buffer
	switch {
	case strings.HasSuffix(path, ".zst"):
		zw, err := zstd.NewWriter(&buf)
		if err != nil {
			return nil, err
		}
		if _, err := zw.Write(data); err != nil {
			return nil, err
		}
		if err := zw.Close(); err != nil {
			return nil, err
		}
	case strings.HasSuffix(path, ".gz"):
		zw := gzip.NewWriter(&buf)
		if _, err := zw.Write(data); err != nil {
			return nil, err
		}
		if err := zw.Close(); err != nil {
			return nil, err
		}
	default:
		return data, nil
	}
	return buf.Bytes(), nil
}

// splitSummaries separates summary files from trace inputs, keeping order.
func splitSummaries(paths []string) (sums, traces []string) {
	for _, p := range paths {
		if isSummaryFile(p) {
			sums = append(sums, p)
		} else {
			traces = append(traces, p)
		}
	}
	return sums, traces
}

// readSummary reads one summary file; errors are input errors.
func readSummary(path string) (*summary.Summary, error) {
	r, closer, err := openSummary(path)
	if err != nil {
		return nil, inputError(err)
	}
	defer closer()
	s, err := summary.Decode(r, path)
	if err != nil {
		return nil, inputError(err)
	}
	return s, nil
}

// summarize makes the summary of analysed traces: the report, the
// whole-band profile, the options they were analysed with.
func summarize(ctx context.Context, rep *analyze.Report, res *tracefmt.Result, opts analyze.Options, endpoint string) (*summary.Summary, error) {
	if res.Spilled() {
		return summary.FromPartitions(ctx, rep, res, opts, endpoint, summary.DefaultLimits())
	}
	p, err := analyze.BuildProfile(ctx, res.Traces, opts, analyze.Band{})
	if err != nil {
		return nil, err
	}
	return summary.FromReport(rep, p, res.Traces, summary.AnalysisOf(opts, endpoint), summary.DefaultLimits()), nil
}

// loadWithSummaries is load when some inputs are summaries: the trace
// inputs (if any) are analysed and summarised, everything merges, and the
// merged summary gives the Report.
func loadWithSummaries(ctx context.Context, s *Streams, spec loadSpec, l *loaded, sumPaths, tracePaths []string) (*loaded, error) {
	opts := *spec.Summaries
	want := summary.AnalysisOf(opts, spec.EndpointText)
	var merged *summary.Summary
	var files []tracefmt.FileSummary
	add := func(x *summary.Summary, what string) error {
		if x.Analysis != want {
			return inputError(fmt.Errorf("%s was analysed with other options (%s) than this run's (%s): run with the same --critical-path, --skew-adjust, --clock-granularity and --endpoint",
				what, analysisText(x.Analysis), analysisText(want)))
		}
		if merged == nil {
			merged = x
			return nil
		}
		m, err := summary.Merge(merged, x)
		if err != nil {
			return inputError(fmt.Errorf("%s: %v", what, err))
		}
		merged = m
		return nil
	}
	for _, p := range sumPaths {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		x, err := readSummary(p)
		if err != nil {
			return nil, err
		}
		if err := add(x, p); err != nil {
			return nil, err
		}
		files = append(files, summaryFile(p, x))
	}
	if len(tracePaths) > 0 {
		res, err := readInputs(ctx, s, tracePaths, spec.Input)
		if err != nil {
			return nil, err
		}
		l.Result = res
		l.Summary = tracefmt.Summarize(res)
		noteSpill(s, res, l.Summary)
		rep, err := analyzeResult(ctx, res, opts)
		if err != nil {
			res.Close()
			return nil, err
		}
		x, err := summarize(ctx, rep, res, opts, spec.EndpointText)
		if err == nil {
			err = add(x, "the trace inputs")
		}
		if err != nil {
			res.Close()
			return nil, err
		}
	}
	l.Merged = merged
	l.Summary = mergeInputSummary(l.Summary, files, merged)
	if spec.Analyze != nil {
		l.Report = merged.Report()
	}
	return l, nil
}

func analysisText(a summary.Analysis) string {
	t := "critical path " + a.CriticalPath
	if a.NoSkewAdjust {
		t += ", no skew adjustment"
	}
	if a.ClockGranularity != "" {
		t += ", clocks " + a.ClockGranularity
	}
	if a.Endpoint != "" {
		t += ", endpoint " + a.Endpoint
	}
	return t
}

// summaryFile describes a summary input as the input summary lists files.
func summaryFile(path string, x *summary.Summary) tracefmt.FileSummary {
	f := tracefmt.FileSummary{Name: path, Format: summary.FormatName, Compression: "none",
		Traces: x.Counts.Traces, Spans: x.Counts.Spans, Services: []tracefmt.ServiceCount{}, Warnings: []tracefmt.Warning{}}
	if st, err := os.Stat(path); err == nil {
		f.Bytes = st.Size()
	}
	for _, c := range x.Clocks {
		f.Services = append(f.Services, tracefmt.ServiceCount{Name: c.Service, Spans: c.Spans})
	}
	if p := x.Profile; p != nil && p.Traces > 0 {
		f.StartUs, f.EndUs = p.StartNs/1000, p.EndNs/1000
	}
	return f
}

// mergeInputSummary adds the summary files to the trace inputs' summary
// (zero when there were none): files, traces, spans and services.
func mergeInputSummary(in tracefmt.Summary, files []tracefmt.FileSummary, merged *summary.Summary) tracefmt.Summary {
	if in.Files == nil {
		in = tracefmt.Summary{Format: summary.FormatName, Files: []tracefmt.FileSummary{}, Rejected: []tracefmt.KindCount{},
			Services: []tracefmt.ServiceCount{}, Warnings: []tracefmt.Warning{}}
	} else {
		in.Format = "mixed"
	}
	for _, f := range files {
		in.Files = append(in.Files, f)
		if in.StartUs == 0 || f.StartUs != 0 && f.StartUs < in.StartUs {
			in.StartUs = f.StartUs
		}
		in.EndUs = max(in.EndUs, f.EndUs)
	}
	in.Traces, in.Spans = merged.Counts.Traces+merged.Counts.TracesFiltered, merged.Counts.Spans
	in.SpansRead = in.Spans + in.RejectedSpans
	svc := map[string]int{}
	for _, c := range merged.Clocks {
		svc[c.Service] = c.Spans
	}
	in.Services = in.Services[:0]
	for name, n := range svc {
		in.Services = append(in.Services, tracefmt.ServiceCount{Name: name, Spans: n})
	}
	tracefmt.SortServices(in.Services)
	return in
}
