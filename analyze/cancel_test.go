package analyze

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"hopbudget/tracefmt"
)

// A done context stops Analyze with an error wrapping its cause, no report.
func TestAnalyzeStopsWhenCancelled(t *testing.T) {
	traces := make([]tracefmt.Trace, 3*chunkSize)
	for i := range traces {
		traces[i] = factsTrace()
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, workers := range []int{1, 4} {
		r, err := Analyze(ctx, traces, Options{Workers: workers})
		if !errors.Is(err, context.Canceled) || r != nil {
			t.Errorf("workers=%d: got report %v, error %v; want none and context.Canceled", workers, r != nil, err)
		}
	}
	if r, err := Analyze(context.Background(), traces, Options{}); err != nil || r.Counts.Traces != len(traces) {
		t.Fatalf("not cancelled: error %v", err)
	}
}

// The zero Options is the default analysis.
func TestZeroOptionsAreTheDefault(t *testing.T) {
	if !reflect.DeepEqual(DefaultOptions(), Options{}) {
		t.Fatalf("DefaultOptions() = %+v, want the zero value", DefaultOptions())
	}
	// Skew adjustment is on by default: a child that starts before its
	// parent (another service's clock) is shifted and warned about.
	tr := mkTrace(1,
		sp{id: 1, start: 0, end: 1000, svc: "a", op: "GET", kind: tracefmt.KindServer},
		sp{id: 2, parent: 1, start: 100, end: 900, svc: "a", op: "call b", kind: tracefmt.KindClient},
		sp{id: 3, parent: 2, start: -500, end: 100, svc: "b", op: "GET", kind: tracefmt.KindServer})
	shifted := func(o Options) bool {
		for _, w := range mustAnalyze([]tracefmt.Trace{tr}, o).Warnings {
			if w.ShiftUs != 0 {
				return true
			}
		}
		return false
	}
	if !shifted(Options{}) || shifted(Options{NoSkewAdjust: true}) {
		t.Errorf("skew adjusted with zero Options: %v, with NoSkewAdjust: %v; want true, false", shifted(Options{}), shifted(Options{NoSkewAdjust: true}))
	}
}
