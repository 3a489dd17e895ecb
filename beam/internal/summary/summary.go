// Package summary is a TEMPORARY stand-in for hopbudget/summary (being
// written on main) with the same API, so that the pipeline builds and its
// tests run before the real package lands. It keeps whole traces, so its
// Report is the CLI's exactly. Delete it once hopbudget/summary is on main.
package summary

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"

	"hopbudget/analyze"
	"hopbudget/tracefmt"
)

// Summary stands for the traces it holds.
type Summary struct {
	Traces []tracefmt.Trace
	Opts   struct {
		CriticalPath analyze.Mode
		NoSkewAdjust bool
	}
}

// FromTraces keeps the traces.
func FromTraces(ctx context.Context, traces []tracefmt.Trace, opts analyze.Options) (*Summary, error) {
	s := &Summary{Traces: slices.Clone(traces)}
	s.Opts.CriticalPath, s.Opts.NoSkewAdjust = opts.CriticalPath, opts.NoSkewAdjust
	return s, ctx.Err()
}

// Merge concatenates.
func Merge(a, b *Summary) *Summary {
	s := &Summary{Traces: append(slices.Clone(a.Traces), b.Traces...), Opts: a.Opts}
	return s
}

// Encode writes JSON.
func Encode(w io.Writer, s *Summary) error { return json.NewEncoder(w).Encode(s) }

// Decode reads JSON.
func Decode(r io.Reader, name string) (*Summary, error) {
	var s Summary
	if err := json.NewDecoder(r).Decode(&s); err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	return &s, nil
}

// Report analyses the traces in trace-ID order.
func (s *Summary) Report() (*analyze.Report, error) {
	ts := slices.Clone(s.Traces)
	slices.SortFunc(ts, func(a, b tracefmt.Trace) int {
		if a.ID.Less(b.ID) {
			return -1
		}
		if b.ID.Less(a.ID) {
			return 1
		}
		return 0
	})
	return analyze.Analyze(context.Background(), ts, analyze.Options{CriticalPath: s.Opts.CriticalPath, NoSkewAdjust: s.Opts.NoSkewAdjust})
}
