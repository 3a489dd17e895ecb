package summary

import (
	"math"
	"math/rand/v2"
	"testing"

	"hopbudget/budget"
)

// A budget checked against a sketched summary that dropped its rows: every
// percentile line is judged on a value within the sketch's accuracy, error
// counts are exact, and what needs every request (layers) is not checked
// and says why, never judged on partial data.
func TestBudgetOnSketchedSummary(t *testing.T) {
	traces := load(t, "-scenario", "checkout", "-traces", "1200", "-seed", "21", "-error-rate", "0.03")
	b, err := budget.Load("../testdata/budget/full.yaml")
	if err != nil {
		t.Fatal(err)
	}
	whole := summarise(t, traces, Limits{Exact: 1 << 30, Accuracy: 0.005, Rows: 1 << 30}).Report()
	l := Limits{Exact: 40, Accuracy: 0.005, Rows: 100}
	rng := rand.New(rand.NewPCG(3, 4))
	var s *Summary
	for _, part := range split(traces, 4, rng) {
		x := summarise(t, part, l)
		if s == nil {
			s = x
		} else {
			s = mustMerge(t, s, x)
		}
	}
	r := s.Report()
	if r.PerRequest() || r.Summary.Approximate == 0 {
		t.Fatalf("summary kept its rows or sketched nothing: %+v", *r.Summary)
	}
	want := budget.Evaluate(b, whole, budget.EvalOptions{})
	got := budget.Evaluate(b, r, budget.EvalOptions{})
	if len(got.Lines) != len(want.Lines) {
		t.Fatalf("%d lines, want %d", len(got.Lines), len(want.Lines))
	}
	layers := 0
	for i, g := range got.Lines {
		w := want.Lines[i]
		switch {
		case g.Kind == budget.KindLayer:
			layers++
			if g.Status != budget.StatusNoData || !g.Failed || g.Note == "" || g.ActualUs != nil {
				t.Errorf("line %d (layer): %s %q, want no-data with a note", g.Line, g.Status, g.Note)
			}
		case g.Samples != w.Samples:
			t.Errorf("line %d %s: %d samples, want %d", g.Line, g.Title, g.Samples, w.Samples)
		case g.Errors != nil:
			if g.Errors.Errors != w.Errors.Errors || g.Errors.Total != w.Errors.Total {
				t.Errorf("line %d: %d errors of %d, want %d of %d", g.Line, g.Errors.Errors, g.Errors.Total, w.Errors.Errors, w.Errors.Total)
			}
		case g.ActualUs != nil && w.ActualUs != nil:
			if d := math.Abs(float64(*g.ActualUs - *w.ActualUs)); d > l.Accuracy*float64(*w.ActualUs)+1 {
				t.Errorf("line %d %s %s: %dµs, exact %dµs", g.Line, g.Title, g.Percentile, *g.ActualUs, *w.ActualUs)
			}
		}
	}
	if layers == 0 {
		t.Fatal("the budget has no layer line: the test checks nothing of them")
	}
}
