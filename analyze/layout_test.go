package analyze

import (
	"reflect"
	"testing"
)

// The layout is Analyze's own per-trace result, only indexed by span: its
// detail, segments and fan-in groups must be exactly those of Analyze with
// PerTrace, on traces where every clean-up pass fires.
func TestLayoutMatchesAnalyze(t *testing.T) {
	inputs := map[string][]string{
		"skew":    {"-scenario", "checkout", "-traces", "60", "-seed", "7", "-skew-ms", "40"},
		"faults":  {"-scenario", "mixed", "-traces", "120", "-seed", "3", "-orphans", "0.1", "-dup", "0.05"},
		"fanout":  {"-scenario", "fanout", "-traces", "10", "-seed", "2"},
		"async":   {"-scenario", "async", "-traces", "20", "-seed", "2"},
		"deepish": {"-scenario", "deep-chain", "-traces", "3", "-seed", "2"},
	}
	for name, args := range inputs {
		traces, _ := generate(t, args...)
		for _, mode := range []Mode{ModeDefault, ModeJaeger} {
			opts := perTraceOpts()
			opts.CriticalPath = mode
			r := mustAnalyze(traces, opts)
			for i := range traces {
				l := Layout(&traces[i], opts)
				want := r.Traces[i]
				if !reflect.DeepEqual(l.Detail, want) {
					t.Fatalf("%s/%s trace %d: detail differs from Analyze", name, mode, i)
				}
				if len(l.Spans) != want.Spans {
					t.Fatalf("%s/%s trace %d: %d spans, Analyze %d", name, mode, i, len(l.Spans), want.Spans)
				}
				if len(l.Segments) != len(want.CriticalPath) {
					t.Fatalf("%s/%s trace %d: %d segments, Analyze %d", name, mode, i, len(l.Segments), len(want.CriticalPath))
				}
				var own int64
				for k, sg := range l.Segments {
					w := want.CriticalPath[k]
					if s := l.Spans[sg.Span].Span; s.SpanID.String() != w.SpanID || sg.StartNs/1000 != w.StartUs || sg.EndNs/1000 != w.EndUs {
						t.Fatalf("%s/%s trace %d segment %d: %s %d-%d, Analyze %+v", name, mode, i, k, s.SpanID, sg.StartNs, sg.EndNs, w)
					}
					own += sg.EndNs - sg.StartNs
				}
				var sum int64
				for _, s := range l.Spans {
					sum += s.CriticalNs
				}
				if sum != own {
					t.Fatalf("%s/%s trace %d: spans own %d ns of the path, segments %d", name, mode, i, sum, own)
				}
				if len(l.FanIn) != len(want.FanIn) {
					t.Fatalf("%s/%s trace %d: %d fan-in groups, Analyze %d", name, mode, i, len(l.FanIn), len(want.FanIn))
				}
				for k, g := range l.FanIn {
					w := want.FanIn[k]
					if l.Spans[g.Parent].Span.SpanID.String() != w.ParentSpanID || l.Spans[g.Straggler].Span.SpanID.String() != w.StragglerSpanID ||
						g.WaitNs/1000 != w.WaitUs || len(g.Children) != len(w.Children) {
						t.Fatalf("%s/%s trace %d group %d: %+v, Analyze %+v", name, mode, i, k, g, w)
					}
				}
				checkTreeOrder(t, l)
			}
		}
	}
}

// checkTreeOrder: parents before children, subtrees contiguous, depths and
// sizes consistent.
func checkTreeOrder(t *testing.T, l *TraceLayout) {
	t.Helper()
	for i, s := range l.Spans {
		if s.Parent >= int32(i) {
			t.Fatalf("span %d before its parent %d", i, s.Parent)
		}
		if s.Parent >= 0 {
			p := l.Spans[s.Parent]
			if s.Depth != p.Depth+1 || int32(i) > s.Parent+p.Descendants {
				t.Fatalf("span %d: depth %d or outside its parent's subtree", i, s.Depth)
			}
		} else if s.Depth != 0 {
			t.Fatalf("root %d at depth %d", i, s.Depth)
		}
		if s.StartNs < l.StartNs || s.EndNs > l.EndNs {
			t.Fatalf("span %d outside the trace bounds", i)
		}
	}
}

// Hand-built: a skewed child moves with its same-service child, an orphan
// becomes a root, a child sticking out of its parent is clipped, and the
// straggler of a fan-in is marked.
func TestLayoutFlags(t *testing.T) {
	tr := mkTrace(1,
		sp{id: 1, start: 0, end: 100, svc: "a"},
		sp{id: 2, parent: 1, start: 10, end: 40, svc: "a", kind: 3},
		sp{id: 3, parent: 1, start: 20, end: 80, svc: "a", kind: 3},
		sp{id: 4, parent: 3, start: 200, end: 230, svc: "b"}, // skewed: shifted into 3
		sp{id: 5, parent: 4, start: 205, end: 210, svc: "b"},
		sp{id: 6, parent: 2, start: 30, end: 45, svc: "a"}, // sticks out of 2: clipped
		sp{id: 7, parent: 99, start: 50, end: 60, svc: "c"},
	)
	l := Layout(&tr, DefaultOptions())
	byID := map[uint64]*LayoutSpan{}
	for i := range l.Spans {
		for id := uint64(1); id <= 7; id++ {
			if l.Spans[i].Span.SpanID == sid(id) {
				byID[id] = &l.Spans[i]
			}
		}
	}
	if s := byID[4]; s.ShiftNs != (35-200)*1000 || s.StartNs != 35_000 {
		t.Errorf("skewed span: shift %d start %d", s.ShiftNs, s.StartNs)
	}
	if s := byID[5]; s.ShiftNs != byID[4].ShiftNs || s.Depth != 3 {
		t.Errorf("same-service child: shift %d depth %d", s.ShiftNs, s.Depth)
	}
	if s := byID[6]; !s.Clipped || s.ClipEndNs != 40_000 {
		t.Errorf("clipped child: %+v", s)
	}
	if s := byID[7]; !s.Orphan || s.Parent != -1 {
		t.Errorf("orphan: %+v", s)
	}
	if !byID[3].Straggler || byID[2].Straggler {
		t.Error("straggler not marked")
	}
	if len(l.FanIn) != 1 || l.FanIn[0].WaitNs != 40_000 || l.FanIn[0].FirstEndNs != 40_000 {
		t.Errorf("fan-in %+v", l.FanIn)
	}
	if byID[1].Descendants != 5 || l.Spans[0].Span.SpanID != sid(1) {
		t.Errorf("root subtree %d", byID[1].Descendants)
	}
}

func TestBuildProfilesMatchesBuildProfile(t *testing.T) {
	traces, _ := generate(t, "-scenario", "mixed", "-traces", "300", "-seed", "11", "-orphans", "0.05")
	bands := []Band{{Lo: 95, Hi: 100}, {}, {Lo: 0, Hi: 50}, {Lo: 99, Hi: 100}}
	opts := DefaultOptions()
	ps := mustBuildProfiles(traces, opts, bands)
	for k, b := range bands {
		if want := mustBuildProfile(traces, opts, b); !reflect.DeepEqual(ps[k], want) {
			t.Errorf("band %s differs from BuildProfile", b)
		}
	}
}
