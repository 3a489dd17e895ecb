package analyze

import (
	"reflect"
	"slices"
	"testing"

	"hopbudget/tracefmt"
)

func TestSampleIndex(t *testing.T) {
	mk := func(n int) Sample { return Sample{Ns: make([]int64, n)} }
	for _, tc := range []struct {
		n    int
		p    float64
		want int
	}{
		{0, 99, -1},
		{1, 50, 0}, {1, 100, 0},
		{100, 50, 49}, {100, 99, 98}, {100, 99.9, 99}, {100, 100, 99},
		{1000, 99.9, 998}, {1000, 99, 989},
		{20, 95, 18}, {20, 99, 19}, {27, 99, 26}, {400, 95, 379},
	} {
		if got := mk(tc.n).Index(tc.p); got != tc.want {
			t.Errorf("n=%d p%v: index %d, want %d", tc.n, tc.p, got, tc.want)
		}
		if tc.n > 0 && tc.p == float64(int(tc.p)) && tc.p < 100 {
			if w := rankIndex(int(tc.p), tc.n); w != tc.want {
				t.Errorf("n=%d p%v: rankIndex %d disagrees", tc.n, tc.p, w)
			}
		}
	}
}

// A hand-built trace: two calls of one hop (with server spans) and a
// database call, and an orphan-only trace whose root is not a true root.
func TestTraceRowsHandBuilt(t *testing.T) {
	db := tracefmt.Attrs{DBSystem: "postgresql"}
	traces := []tracefmt.Trace{
		mkTrace(1,
			sp{id: 1, start: 0, end: 100, svc: "frontend", op: "GET /", kind: tracefmt.KindServer},
			sp{id: 2, parent: 1, start: 10, end: 60, svc: "frontend", op: "call", kind: tracefmt.KindClient},
			sp{id: 3, parent: 2, start: 15, end: 55, svc: "api", op: "Get", kind: tracefmt.KindServer},
			sp{id: 4, parent: 1, start: 60, end: 90, svc: "frontend", op: "call", kind: tracefmt.KindClient},
			sp{id: 5, parent: 4, start: 62, end: 88, svc: "api", op: "Get", kind: tracefmt.KindServer},
			sp{id: 6, parent: 1, start: 90, end: 95, svc: "frontend", op: "INSERT", kind: tracefmt.KindClient, attrs: db},
		),
		{}, // empty: not analysed, no row
		mkTrace(3,
			sp{id: 7, parent: 99, start: 1000, end: 1040, svc: "api", op: "Get", kind: tracefmt.KindServer},
			sp{id: 8, parent: 7, start: 1010, end: 1030, svc: "api", op: "INSERT", kind: tracefmt.KindClient, attrs: db},
		),
	}
	r := mustAnalyze(traces, DefaultOptions())
	if len(r.TraceRows) != 2 || r.TraceRows[0].ID != tid(1) || r.TraceRows[1].ID != tid(3) {
		t.Fatalf("rows %+v", r.TraceRows)
	}
	hop := func(from, to, op string) int32 {
		for i, h := range r.Hops {
			if h.From == from && h.To == to && h.Operation == op {
				return int32(i)
			}
		}
		t.Fatalf("no hop %s → %s %s in %+v", from, to, op, r.Hops)
		return -1
	}
	api, pg, apiPg := hop("frontend", "api", "Get"), hop("frontend", "postgresql", "INSERT"), hop("api", "postgresql", "INSERT")
	r0 := r.TraceRows[0]
	if r0.Endpoint != 0 || r.Endpoints[0].Operation != "GET /" || r0.StartNs != 0 || r0.DurationNs != 100_000 {
		t.Errorf("row 0: %+v", r0)
	}
	want := []TraceHop{
		{Hop: api, Calls: 2, LatencyNs: 80_000, NetworkNs: 14_000, CriticalPathNs: 80_000},
		{Hop: pg, Calls: 1, LatencyNs: 5_000, CriticalPathNs: 5_000},
	}
	slices.SortFunc(want, func(a, b TraceHop) int { return int(a.Hop - b.Hop) })
	if !reflect.DeepEqual(r0.Hops, want) {
		t.Errorf("row 0 hops:\n got %+v\nwant %+v", r0.Hops, want)
	}
	r1 := r.TraceRows[1]
	if r1.Endpoint != -1 || r1.StartNs != 1_000_000 || r1.DurationNs != 40_000 ||
		!reflect.DeepEqual(r1.Hops, []TraceHop{{Hop: apiPg, Calls: 1, LatencyNs: 20_000, CriticalPathNs: 20_000}}) {
		t.Errorf("row 1 (orphan root): %+v", r1)
	}

	h := r.Hops[api]
	if !reflect.DeepEqual(h.LatencySample, Sample{Ns: []int64{30_000, 50_000}, Row: []int32{0, 0}}) ||
		!reflect.DeepEqual(h.NetworkSample, Sample{Ns: []int64{4_000, 10_000}, Row: []int32{0, 0}}) ||
		!reflect.DeepEqual(h.CriticalPathSample, Sample{Ns: []int64{80_000}, Row: []int32{0}}) {
		t.Errorf("hop samples: %+v %+v %+v", h.LatencySample, h.NetworkSample, h.CriticalPathSample)
	}
	if &h.LatencySample.Ns[0] != &h.Samples[0] {
		t.Error("LatencySample does not share Samples' array")
	}
	if got := r.Hops[apiPg].CriticalPathSample; !reflect.DeepEqual(got, Sample{Ns: []int64{20_000}, Row: []int32{1}}) {
		t.Errorf("orphan trace's hop: %+v", got)
	}
	if e := r.Endpoints[0]; !reflect.DeepEqual(e.DurationSample, Sample{Ns: []int64{100_000}, Row: []int32{0}}) ||
		!reflect.DeepEqual(e.RequestStarts, []int64{0}) {
		t.Errorf("endpoint samples: %+v starts %v", e.DurationSample, e.RequestStarts)
	}
}

// On generated traces with faults: the rows and samples agree with each
// other and with the printed figures, and do not depend on the number of
// workers.
func TestTraceRowsConsistent(t *testing.T) {
	traces, _ := generate(t, "-scenario", "mixed", "-traces", "600", "-seed", "5",
		"-dup", "0.02", "-orphans", "0.05", "-skew-ms", "5")
	opts := DefaultOptions()
	opts.Workers = 1
	r := mustAnalyze(traces, opts)
	for _, w := range []int{3, 8} {
		opts.Workers = w
		o := mustAnalyze(traces, opts)
		if !reflect.DeepEqual(o.TraceRows, r.TraceRows) || !reflect.DeepEqual(o.Hops, r.Hops) ||
			!reflect.DeepEqual(o.Endpoints, r.Endpoints) || !reflect.DeepEqual(o.FanIn, r.FanIn) {
			t.Fatalf("%d workers: rows or samples differ from 1 worker", w)
		}
	}
	if len(r.TraceRows) != r.Counts.Traces {
		t.Fatalf("%d rows for %d traces", len(r.TraceRows), r.Counts.Traces)
	}
	id := func(row int32) string { return r.TraceRows[row].ID.String() }
	checkSample := func(what string, s Sample) {
		t.Helper()
		if len(s.Ns) != len(s.Row) || !slices.IsSorted(s.Ns) {
			t.Errorf("%s: not sorted or not aligned", what)
		}
		for i := 1; i < len(s.Ns); i++ {
			if s.Ns[i] == s.Ns[i-1] && s.Row[i] < s.Row[i-1] {
				t.Errorf("%s: equal values not in trace order", what)
			}
		}
	}
	type sums struct {
		calls    int
		lat, net int64
		cp       []int64
	}
	perHop := make([]sums, len(r.Hops))
	perEp := make([]int, len(r.Endpoints))
	for ri, row := range r.TraceRows {
		if row.Endpoint >= 0 {
			perEp[row.Endpoint]++
		}
		for j, th := range row.Hops {
			if j > 0 && th.Hop <= row.Hops[j-1].Hop {
				t.Fatalf("row %d: hops not sorted", ri)
			}
			s := &perHop[th.Hop]
			s.calls += int(th.Calls)
			s.lat += th.LatencyNs
			s.net += th.NetworkNs
			s.cp = append(s.cp, th.CriticalPathNs)
		}
	}
	sum := func(xs []int64) (t int64) {
		for _, x := range xs {
			t += x
		}
		return t
	}
	for i, h := range r.Hops {
		name := h.From + " → " + h.To + " " + h.Operation
		checkSample(name+" latency", h.LatencySample)
		checkSample(name+" network", h.NetworkSample)
		checkSample(name+" critical path", h.CriticalPathSample)
		s := perHop[i]
		slices.Sort(s.cp)
		if s.calls != h.Count || s.lat != sum(h.LatencySample.Ns) || s.net != sum(h.NetworkSample.Ns) ||
			!slices.Equal(s.cp, h.CriticalPathSample.Ns) || h.NetworkSample.Len() != h.NetworkCount {
			t.Errorf("%s: rows give %d calls, latency %d, network %d; samples %d, %d, %d", name,
				s.calls, s.lat, s.net, h.Count, sum(h.LatencySample.Ns), sum(h.NetworkSample.Ns))
		}
		if h.Exemplars.P99 != id(h.LatencySample.Row[h.LatencySample.Index(99)]) ||
			h.Exemplars.Max != id(h.LatencySample.Row[h.LatencySample.Len()-1]) {
			t.Errorf("%s: exemplars %+v disagree with the sample's rows", name, h.Exemplars)
		}
		for k, row := range h.LatencySample.Row {
			if _, found := slices.BinarySearchFunc(r.TraceRows[row].Hops, int32(i), func(a TraceHop, b int32) int { return int(a.Hop - b) }); !found {
				t.Fatalf("%s: sample %d's trace has no such hop", name, k)
			}
		}
	}
	for i, e := range r.Endpoints {
		checkSample(e.Service+" "+e.Operation, e.DurationSample)
		if perEp[i] > e.Count || perEp[i] < e.Count-r.Counts.MultiRootTraces {
			t.Errorf("%s %s: %d rows for %d requests", e.Service, e.Operation, perEp[i], e.Count)
		}
		if len(e.RequestStarts) != e.Count || e.Exemplars.P95 != id(e.DurationSample.Row[e.DurationSample.Index(95)]) {
			t.Errorf("%s %s: starts or exemplars disagree", e.Service, e.Operation)
		}
		for k, row := range e.DurationSample.Row {
			if tr := r.TraceRows[row]; tr.Endpoint == int32(i) && tr.StartNs == e.RequestStarts[k] && tr.DurationNs != e.DurationSample.Ns[k] {
				t.Fatalf("%s %s: request %d: duration %d, row says %d", e.Service, e.Operation, k, e.DurationSample.Ns[k], tr.DurationNs)
			}
		}
	}
	for _, f := range r.FanIn {
		checkSample(f.Service+" "+f.Operation+" wait", f.WaitSample)
		if f.WaitSample.Len() != f.Count || us(f.WaitSample.Ns[f.WaitSample.Index(99)]) != f.WaitP99Us ||
			f.Exemplars.P99 != id(f.WaitSample.Row[f.WaitSample.Index(99)]) {
			t.Errorf("%s %s: wait sample disagrees with the figures", f.Service, f.Operation)
		}
	}
}
