package analyze

import (
	"testing"

	"hopbudget/tracefmt"
)

func TestSkewDelta(t *testing.T) {
	for _, tc := range []struct {
		name           string
		cs, ce, ps, pe int64
		want           int64
	}{
		{"fits", 10, 20, 0, 100, 0},
		{"fits exactly", 0, 100, 0, 100, 0},
		{"starts before: centred", -50, -30, 0, 100, 90},
		{"ends after: centred", 90, 110, 0, 100, -50},
		{"odd gap: halved in integers", 90, 111, 0, 100, -51},
		{"longer than parent, starts before: aligned", -10, 200, 0, 100, 10},
		{"longer than parent, starts inside: left", 10, 200, 0, 100, 0},
	} {
		if got := skewDelta(tc.cs, tc.ce, tc.ps, tc.pe); got != tc.want {
			t.Errorf("%s: got %d, want %d", tc.name, got, tc.want)
		}
	}
}

func TestAdjustSkew(t *testing.T) {
	// frontend calls inventory, whose clock is 1000 µs ahead; inventory's own
	// child moves with it, and its call to a third service is judged against
	// the adjusted inventory span.
	spans := []sp{
		{id: 1, start: 0, end: 100, svc: "frontend"},
		{id: 2, parent: 1, start: 10, end: 90, svc: "frontend", kind: tracefmt.KindClient},
		{id: 3, parent: 2, start: 1020, end: 1080, svc: "inventory", kind: tracefmt.KindServer},
		{id: 4, parent: 3, start: 1030, end: 1040, svc: "inventory"},
		{id: 5, parent: 3, start: 40, end: 60, svc: "db", kind: tracefmt.KindServer},
		{id: 6, parent: 1, start: 95, end: 99, svc: "frontend"},
		{id: 7, parent: 1, start: 150, end: 300, svc: "worker", kind: cons, ff: true},
	}
	type want struct{ start, end int64 }
	for _, tc := range []struct {
		name   string
		on     bool
		mode   Mode
		shifts int
		moved  int
		times  map[uint64]want
	}{
		{"on", true, ModeDefault, 1, 2, map[uint64]want{3: {20, 80}, 4: {30, 40}, 5: {40, 60}, 7: {150, 300}}},
		{"off", false, ModeDefault, 0, 0, map[uint64]want{3: {1020, 1080}, 4: {1030, 1040}, 5: {40, 60}}},
		{"jaeger mode never adjusts", true, ModeJaeger, 0, 0, map[uint64]want{3: {1020, 1080}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := DefaultOptions()
			opts.NoSkewAdjust, opts.CriticalPath = !tc.on, tc.mode
			ts := built(t, mkTrace(1, spans...), opts)
			if ts.counts.SkewShifts != tc.shifts || ts.counts.SpansShifted != tc.moved || len(ts.warns) != tc.shifts {
				t.Errorf("shifts %d moved %d warnings %d; want %d %d", ts.counts.SkewShifts, ts.counts.SpansShifted, len(ts.warns), tc.shifts, tc.moved)
			}
			for id, w := range tc.times {
				n := &ts.nodes[nodeOf(ts, id)]
				if n.start != w.start*1000 || n.end != w.end*1000 {
					t.Errorf("span %d at [%d, %d] µs; want [%d, %d]", id, n.start/1000, n.end/1000, w.start, w.end)
				}
			}
			for _, w := range ts.warns {
				if w.Rule != RuleClockSkew || w.Service != "inventory" || w.ShiftUs != -1000 {
					t.Errorf("warning %+v", w)
				}
			}
		})
	}
}
