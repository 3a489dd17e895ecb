package cmd

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"hopbudget/analyze"
	"hopbudget/tracefmt"
)

// TraceOptions are the flags of `hopbudget trace`.
type TraceOptions struct {
	Input inputOptions
	analysisFlags
	CriticalPathOnly bool
	Depth            int
	MinDuration      time.Duration
	Width            int
	TraceID          string
	Paths            []string
}

// defaultTraceWidth is the line width when stdout is not a terminal.
const defaultTraceWidth = 100

func newTraceCmd(s *Streams) *cobra.Command {
	opts := &TraceOptions{}
	c := &cobra.Command{
		Use:   "trace TRACEID [flags] FILE|DIR|GLOB|- ...",
		Short: "One trace as a waterfall in the terminal, its critical path marked",
		Long: `trace finds one trace in the inputs, cleans it up as analyze does (dedupe, orphans,
cycles, clock skew, clipping) and draws it as a waterfall: one line per span in tree order
(service: operation, duration, a bar on the trace's time axis), spans on the critical path
marked with *, the time each owns on the path drawn as # (= is the rest of the span, ~ a
fan-in wait: the parent waiting for its straggler). Notes at the end of a line say what the
clean-up did (clock-skew shifts, clipped or outside-parent children, orphans, async edges)
and which child was a fan-in straggler.

TRACEID is the hex trace ID (a 64-bit Jaeger ID may be given in 16 digits) or a unique
prefix of one. On a terminal the waterfall fits its width and uses colour; otherwise it is
plain ASCII, 100 columns wide (--width to change).`,
		Args: cobra.MinimumNArgs(2),
		RunE: func(c *cobra.Command, args []string) error {
			opts.TraceID, opts.Paths = args[0], args[1:]
			return traceRun(c.Context(), s, opts)
		},
	}
	f := c.Flags()
	opts.Input.addFlags(f)
	opts.analysisFlags.addTraceFlags(f)
	f.BoolVar(&opts.CriticalPathOnly, "critical-path-only", false, "only spans on the critical path")
	f.IntVar(&opts.Depth, "depth", -1, "only spans at most N levels below a root (0 = roots only; -1 = all)")
	f.DurationVar(&opts.MinDuration, "min-duration", 0, "only spans lasting at least this long, e.g. 1ms")
	f.IntVar(&opts.Width, "width", 0, "line width (default: the terminal's, else 100)")
	return c
}

func traceRun(ctx context.Context, s *Streams, opts *TraceOptions) error {
	aopts, err := opts.analysisFlags.options()
	if err != nil {
		return inputError(err)
	}
	switch {
	case opts.Depth < -1:
		return inputError(fmt.Errorf("--depth %d: want -1 (all), 0 (roots only) or more", opts.Depth))
	case opts.MinDuration < 0:
		return inputError(fmt.Errorf("--min-duration %v: want 0 or more", opts.MinDuration))
	case opts.Width != 0 && opts.Width < 40:
		return inputError(fmt.Errorf("--width %d: want 40 or more", opts.Width))
	}
	id := strings.ToLower(strings.TrimSpace(opts.TraceID))
	if _, err := hex.DecodeString(id + strings.Repeat("0", len(id)%2)); err != nil || id == "" || len(id) > 32 {
		return inputError(fmt.Errorf("trace ID %q: want up to 32 hex digits", opts.TraceID))
	}
	in, err := load(ctx, s, loadSpec{Paths: opts.Paths, Input: opts.Input})
	if err != nil {
		return err
	}
	defer in.close()
	tr, err := findTraceIn(in.Result, id)
	if err != nil {
		return err
	}
	// One trace shows too few spans to read its services' clocks: use
	// those of the whole input.
	clocks, err := analyze.DetectClocksPartitions(ctx, in.Result, aopts.ClockGranularity)
	if err != nil {
		return err
	}
	aopts.ClockGranularity = analyze.ClockOverrides(clocks)
	l := analyze.Layout(tr, aopts)
	width := opts.Width
	if width == 0 {
		width = terminalWidth(s)
	}
	ro := traceRender{Width: width, Colour: s.OutIsTerminal, Mode: string(aopts.CriticalPath), CriticalPathOnly: opts.CriticalPathOnly,
		MaxDepth: opts.Depth, MinDurationNs: int64(opts.MinDuration)}
	if err := renderTrace(s.Out, l, ro); err != nil {
		return err
	}
	return in.strictErr()
}

// terminalWidth is stdout's width when it is a terminal, else the default.
func terminalWidth(s *Streams) int {
	if f, ok := file(s.Out); ok && s.OutIsTerminal {
		if w, _, err := term.GetSize(int(f.Fd())); err == nil && w >= 40 {
			return w
		}
	}
	return defaultTraceWidth
}

// findTrace finds the trace whose ID is id (lowercase hex): exactly, as a
// 64-bit ID (left-padded with zeros), or as the unique prefix of one.
// findTraceIn is findTrace over every partition of what was read: the
// traces that match are gathered (a handful), then chosen among.
func findTraceIn(res *tracefmt.Result, id string) (*tracefmt.Trace, error) {
	if !res.Spilled() {
		tr, err := findTrace(res.Traces, id, len(res.Traces))
		if err != nil {
			return nil, inputError(err)
		}
		return tr, nil
	}
	full := strings.Repeat("0", 32-len(id)) + id
	var found []tracefmt.Trace
	for p := range res.Partitions() {
		traces, err := res.LoadPartition(p)
		if err != nil {
			return nil, err
		}
		for _, tr := range traces {
			if traceMatches(tr.ID.String(), id, full) {
				found = append(found, tr)
			}
		}
	}
	tr, err := findTrace(found, id, res.NumTraces())
	if err != nil {
		return nil, inputError(err)
	}
	return tr, nil
}

// traceMatches: the ID in full, or a prefix of it as written or as Jaeger
// shows a 64-bit ID.
func traceMatches(s, id, full string) bool {
	return s == full || strings.HasPrefix(s, id) || strings.HasPrefix(strings.TrimLeft(s, "0"), id)
}

// findTrace finds the trace id (full or a prefix) among traces, of total
// traces read.
func findTrace(traces []tracefmt.Trace, id string, total int) (*tracefmt.Trace, error) {
	full := strings.Repeat("0", 32-len(id)) + id
	var prefixed []int
	for i := range traces {
		s := traces[i].ID.String()
		if s == full {
			return &traces[i], nil
		}
		if traceMatches(s, id, full) {
			prefixed = append(prefixed, i)
		}
	}
	switch len(prefixed) {
	case 0:
		return nil, fmt.Errorf("trace %s not found in %s", id, plural(total, "trace"))
	case 1:
		return &traces[prefixed[0]], nil
	}
	var ids []string
	for _, i := range prefixed {
		ids = append(ids, traces[i].ID.String())
	}
	slices.Sort(ids) // the first few by ID, whatever the trace order
	ids = ids[:min(5, len(ids))]
	more := ""
	if len(prefixed) > 5 {
		more = fmt.Sprintf(", … (%d in all)", len(prefixed))
	}
	return nil, errors.New("trace ID prefix " + id + " is ambiguous: " + strings.Join(ids, ", ") + more)
}
