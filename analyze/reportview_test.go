package analyze

import (
	"testing"
)

// A hop's critical-path total is the exact sum of its per-trace values,
// not the truncated mean times the traces (which --sort share used to rank
// by); the mean stays the truncated quotient.
func TestHopCriticalPathTotal(t *testing.T) {
	traces, _ := generate(t, "-scenario", "mixed", "-traces", "300", "-seed", "5")
	r := mustAnalyze(traces, DefaultOptions())
	lost := false
	for _, h := range r.Hops {
		var sum int64
		for _, v := range h.CriticalPathSample.Ns {
			sum += v
		}
		if h.CriticalPathTotalUs != sum/1000 || h.Traces != h.CriticalPathSample.Len() {
			t.Errorf("%s → %s %s: total %d µs, samples add up to %d ns over %d", h.From, h.To, h.Operation,
				h.CriticalPathTotalUs, sum, h.CriticalPathSample.Len())
		}
		if h.Traces > 0 && h.CriticalPathMeanUs != sum/int64(h.Traces)/1000 {
			t.Errorf("%s → %s %s: mean %d µs", h.From, h.To, h.Operation, h.CriticalPathMeanUs)
		}
		lost = lost || h.CriticalPathMeanUs*int64(h.Traces) < h.CriticalPathTotalUs
	}
	if !lost {
		t.Error("no hop whose mean × traces loses time to truncation: the test shows nothing")
	}
}

// A layout's totals are its segments' and fan-in groups' sums, so the
// waterfall (trace, the report) shows them without adding up.
func TestLayoutTotals(t *testing.T) {
	traces, _ := generate(t, "-scenario", "mixed", "-traces", "60", "-seed", "9")
	for i := range traces {
		l := Layout(&traces[i], DefaultOptions())
		var cp, wait int64
		owners := map[int32]bool{}
		for _, sg := range l.Segments {
			cp += sg.EndNs - sg.StartNs
			if sg.EndNs > sg.StartNs {
				owners[sg.Span] = true
			}
		}
		for _, g := range l.FanIn {
			wait += g.WaitNs
		}
		if l.CriticalPathNs != cp || l.CriticalPathSpans != len(owners) || l.FanInWaitNs != wait {
			t.Errorf("trace %s: path %d ns over %d spans, fan-in %d ns; segments %d ns over %d, groups %d ns",
				l.Detail.TraceID, l.CriticalPathNs, l.CriticalPathSpans, l.FanInWaitNs, cp, len(owners), wait)
		}
	}
}
