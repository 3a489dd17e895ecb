package analyze

import (
	"context"
	"errors"
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
