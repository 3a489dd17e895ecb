package analyze

import (
	"testing"

	"hopbudget/tracefmt"
)

const (
	client = tracefmt.KindClient
	server = tracefmt.KindServer
)

// A checkout-like trace with every kind of hop, worked out by hand.
func factsTrace() tracefmt.Trace {
	return mkTrace(1,
		sp{id: 1, start: 0, end: 1000, svc: "frontend", op: "POST /checkout", kind: server},
		sp{id: 2, parent: 1, start: 10, end: 110, svc: "frontend", op: "auth call", kind: client},
		sp{id: 3, parent: 2, start: 20, end: 100, svc: "auth", op: "Verify", kind: server},
		sp{id: 4, parent: 3, start: 30, end: 50, svc: "auth", op: "GET", kind: client, attrs: tracefmt.Attrs{DBSystem: "redis", ServerAddress: "cache"}},
		sp{id: 5, parent: 1, start: 200, end: 500, svc: "frontend", op: "inv call", kind: client},
		sp{id: 6, parent: 5, start: 210, end: 490, svc: "inventory", op: "Reserve", kind: server},
		sp{id: 7, parent: 1, start: 220, end: 700, svc: "frontend", op: "fraud call", kind: client, err: true},
		sp{id: 8, parent: 7, start: 230, end: 690, svc: "fraud", op: "Score", kind: server, err: true},
		sp{id: 9, parent: 1, start: 250, end: 600, svc: "frontend", op: "Slot", kind: client, attrs: tracefmt.Attrs{PeerService: "fulfillment", ServerAddress: "x"}},
		sp{id: 10, parent: 1, start: 710, end: 800, svc: "frontend", op: "INSERT", kind: client, attrs: tracefmt.Attrs{DBSystem: "postgresql", ServerAddress: "orders-db"}},
		sp{id: 11, parent: 1, start: 810, end: 900, svc: "legacy", op: "Render"},
		sp{id: 12, parent: 1, start: 905, end: 915, svc: "frontend", op: "notify", kind: client, attrs: tracefmt.Attrs{ServerAddress: "mail", HTTPStatus: 504}},
	)
}

func TestHops(t *testing.T) {
	opts := DefaultOptions()
	opts.PerTrace = true
	r := mustAnalyze([]tracefmt.Trace{factsTrace()}, opts)
	type want struct {
		from, to, op       string
		dur, gap, self, cp int64 // gap/self -1: none
		errs               int
	}
	wants := []want{
		{"auth", "redis", "GET", 20, -1, -1, 20, 0},
		{"frontend", "auth", "Verify", 100, 20, 60, 100, 0},
		{"frontend", "fraud", "Score", 480, 20, 460, 480, 1},
		{"frontend", "fulfillment", "Slot", 350, -1, -1, 0, 0},
		{"frontend", "inventory", "Reserve", 300, 20, 280, 0, 0},
		{"frontend", "legacy", "Render", 90, -1, 90, 90, 0},
		{"frontend", "mail", "notify", 10, -1, -1, 10, 1},
		{"frontend", "postgresql", "INSERT", 90, -1, -1, 90, 0},
	}
	if len(r.Hops) != len(wants) {
		t.Fatalf("%d hops: %+v", len(r.Hops), r.Hops)
	}
	for i, w := range wants {
		h := r.Hops[i]
		gap, self := int64(-1), int64(-1)
		if h.NetworkCount > 0 {
			gap = h.NetworkP50Us
		}
		if h.ServerSelfP50Us > 0 {
			self = h.ServerSelfP50Us
		}
		onPath := 0.0
		if w.cp > 0 {
			onPath = 1
		}
		if h.From != w.from || h.To != w.to || h.Operation != w.op || h.Count != 1 || h.P50Us != w.dur ||
			h.MaxUs != w.dur || gap != w.gap || self != w.self || h.CriticalPathMeanUs != w.cp ||
			h.CriticalPathP99Us != w.cp || h.OnPathFraction != onPath || h.ErrorCount != w.errs || h.Traces != 1 {
			t.Errorf("hop %d:\n got  %+v\n want %+v", i, h, w)
		}
		if h.Exemplars.P99 != tid(1).String() || len(h.Warnings) == 0 {
			t.Errorf("hop %d: exemplars %+v warnings %v", i, h.Exemplars, h.Warnings)
		}
	}
	if len(r.Endpoints) != 1 || r.Endpoints[0].P99Us != 1000 || r.Endpoints[0].Count != 1 {
		t.Errorf("endpoints %+v", r.Endpoints)
	}
}

func TestFanIn(t *testing.T) {
	opts := DefaultOptions()
	opts.PerTrace = true
	r := mustAnalyze([]tracefmt.Trace{factsTrace()}, opts)
	if len(r.FanIn) != 1 {
		t.Fatalf("fan-in %+v", r.FanIn)
	}
	f := r.FanIn[0]
	if f.Service != "frontend" || f.Operation != "POST /checkout" || f.Count != 1 || f.ParentSpans != 1 ||
		f.WaitP50Us != 200 || f.PartialFailureRate != 1 || f.OverheadP50Us != 210 ||
		len(f.Stragglers) != 1 || f.Stragglers[0] != (Straggler{To: "fraud", Count: 1, Fraction: 1}) {
		t.Errorf("fan-in %+v", f)
	}
	g := r.Traces[0].FanIn
	if len(g) != 1 || g[0].StragglerSpanID != sid(7).String() || len(g[0].Children) != 3 || g[0].Children[0] != sid(5).String() {
		t.Errorf("groups %+v", g)
	}
	cp := r.Traces[0].CriticalPath
	var sum int64
	for i, s := range cp {
		sum += s.EndUs - s.StartUs
		if i > 0 && s.StartUs != cp[i-1].EndUs {
			t.Errorf("gap before segment %d", i)
		}
	}
	if sum != 1000 || len(cp) != 17 {
		t.Errorf("critical path %d segments, %d µs: %+v", len(cp), sum, cp)
	}
}

// Groups: back-to-back is not overlap; a group's run extends while each
// next child starts before the latest end so far.
func TestFanInGroups(t *testing.T) {
	for _, tc := range []struct {
		name   string
		kids   [][2]int64
		groups [][]uint64
		waits  []int64
		strag  []uint64
	}{
		{"serial", [][2]int64{{0, 10}, {10, 20}}, nil, nil, nil},
		{"pair", [][2]int64{{0, 10}, {5, 30}}, [][]uint64{{2, 3}}, []int64{20}, []uint64{3}},
		{"chained overlap", [][2]int64{{0, 50}, {10, 20}, {40, 60}, {60, 70}}, [][]uint64{{2, 3, 4}}, []int64{40}, []uint64{4}},
		{"two groups", [][2]int64{{0, 10}, {5, 10}, {20, 30}, {25, 28}}, [][]uint64{{2, 3}, {4, 5}}, []int64{0, 2}, []uint64{2, 4}},
		{"straggler tie: earliest start", [][2]int64{{5, 30}, {0, 30}}, [][]uint64{{3, 2}}, []int64{0}, []uint64{3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spans := []sp{{id: 1, start: 0, end: 100}}
			for i, k := range tc.kids {
				spans = append(spans, sp{id: uint64(i + 2), parent: 1, start: k[0], end: k[1]})
			}
			opts := DefaultOptions()
			opts.PerTrace = true
			r := mustAnalyze([]tracefmt.Trace{mkTrace(1, spans...)}, opts)
			g := r.Traces[0].FanIn
			if len(g) != len(tc.groups) {
				t.Fatalf("groups %+v", g)
			}
			for i := range g {
				var ids []string
				for _, c := range tc.groups[i] {
					ids = append(ids, sid(c).String())
				}
				if len(g[i].Children) != len(ids) || g[i].WaitUs != tc.waits[i] || g[i].StragglerSpanID != sid(tc.strag[i]).String() {
					t.Errorf("group %d: %+v", i, g[i])
				}
				for j := range ids {
					if g[i].Children[j] != ids[j] {
						t.Errorf("group %d children %v, want %v", i, g[i].Children, ids)
					}
				}
			}
		})
	}
}
