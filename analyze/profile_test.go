package analyze

import (
	"reflect"
	"strconv"
	"strings"
	"testing"

	"hopbudget/tracefmt"
)

// checkoutLike is a request of k·100 µs: root, a client call, its server
// span with a database query inside, and a span that ran beside the call
// and is off the critical path.
func checkoutLike(n uint64, k int64) tracefmt.Trace {
	return mkTrace(n,
		sp{id: 1, start: 0, end: 100 * k, svc: "fe", op: "GET /", kind: tracefmt.KindServer},
		sp{id: 2, parent: 1, start: 10 * k, end: 60 * k, svc: "fe", op: "call", kind: tracefmt.KindClient},
		sp{id: 3, parent: 2, start: 15 * k, end: 55 * k, svc: "be", op: "handle", kind: tracefmt.KindServer},
		sp{id: 4, parent: 3, start: 20 * k, end: 40 * k, svc: "be", op: "query"},
		sp{id: 5, parent: 1, start: 12 * k, end: 30 * k, svc: "fe", op: "log"},
	)
}

func TestBuildProfile(t *testing.T) {
	var traces []tracefmt.Trace
	for k := int64(1); k <= 10; k++ {
		traces = append(traces, checkoutLike(uint64(k), k))
	}
	traces = append(traces, mkTrace(99, sp{id: 1, start: 0, end: 7, svc: "fe", op: "POST /x"}))

	p := mustBuildProfile(traces, DefaultOptions(), Band{})
	names := func(i int) string {
		var fs []string
		for _, f := range p.Path(i, nil) {
			fs = append(fs, p.Frames[f].Name())
		}
		return strings.Join(fs, ";")
	}
	// Per request of k: critical path root 10+40, call 5+5, handle 5+15,
	// query 20 (×k, in µs); self: root 100−50 (call ∪ log cover 10..60),
	// call 50−40, handle 40−20, query 20, log 18.
	sumK := int64(55) // 1 + … + 10
	want := map[string][3]int64{
		"fe: GET /":                               {50 * sumK, 50 * sumK, 100 * sumK},
		"fe: GET /;fe: call":                      {10 * sumK, 10 * sumK, 50 * sumK},
		"fe: GET /;fe: call;be: handle":           {20 * sumK, 20 * sumK, 40 * sumK},
		"fe: GET /;fe: call;be: handle;be: query": {20 * sumK, 20 * sumK, 20 * sumK},
		"fe: GET /;fe: log":                       {0, 18 * sumK, 18 * sumK},
		"fe: POST /x":                             {7, 7, 7},
	}
	got := map[string][3]int64{}
	var order []string
	for i, st := range p.Stacks {
		got[names(i)] = st.Us
		order = append(order, names(i))
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("stacks:\n got %v\nwant %v", got, want)
	}
	wantOrder := []string{"be: handle"} // frames sorted: be: handle, be: query, fe: GET /, fe: POST /x, fe: call, fe: log
	if p.Frames[0].Name() != wantOrder[0] || len(p.Frames) != 6 {
		t.Errorf("frames %v", p.Frames)
	}
	if order[0] != "fe: GET /" || order[len(order)-1] != "fe: POST /x" {
		t.Errorf("stack order %v", order)
	}
	if p.TotalUs[SampleCriticalPath] != 100*sumK+7 || p.Traces != 11 || p.StartNs != 0 || p.EndNs != 1000_000 {
		t.Errorf("totals %v, traces %d, span %d..%d", p.TotalUs, p.Traces, p.StartNs, p.EndNs)
	}

	// The slowest 20% of each endpoint: requests k = 9, 10 and the one POST.
	p = mustBuildProfile(traces, DefaultOptions(), Band{Lo: 80, Hi: 100})
	if p.Traces != 3 || p.TotalUs[SampleCriticalPath] != 100*19+7 {
		t.Errorf("band: %d traces, critical path %d µs", p.Traces, p.TotalUs[SampleCriticalPath])
	}
	ep := p.Endpoints[0]
	if ep.Operation != "GET /" || ep.Requests != 10 || ep.Kept != 2 || ep.MinNs != 900_000 || ep.MaxNs != 1000_000 {
		t.Errorf("endpoint %+v", ep)
	}

	// The endpoint filter applies before the band.
	opts := DefaultOptions()
	opts.Endpoint = func(s, op string) bool { return op == "POST /x" }
	p = mustBuildProfile(traces, opts, Band{})
	if p.Traces != 1 || p.Counts.TracesFiltered != 10 || len(p.Stacks) != 1 {
		t.Errorf("filtered: %d traces, %d filtered, %d stacks", p.Traces, p.Counts.TracesFiltered, len(p.Stacks))
	}
}

// The per-frame critical-path time equals what Analyze's per-trace critical
// paths attribute to that operation, the totals equal the requests'
// durations, and nothing depends on the number of workers. Tracegen's mixed
// scenario with orphans covers async consumers, fan-out and extra roots.
func TestProfileMatchesAnalyze(t *testing.T) {
	for _, mode := range []Mode{ModeDefault, ModeJaeger} {
		traces, _ := generate(t, "-scenario", "mixed", "-traces", "400", "-seed", "11", "-orphans", "0.05")
		opts := perTraceOpts()
		opts.CriticalPath = mode
		r := mustAnalyze(traces, opts)
		want := map[string]int64{}
		for _, tr := range r.Traces {
			for _, s := range tr.CriticalPath {
				want[s.Service+": "+s.Operation] += s.EndUs - s.StartUs
			}
		}
		opts.PerTrace, opts.Workers = false, 1
		p := mustBuildProfile(traces, opts, Band{})
		got := map[string]int64{}
		for _, st := range p.Stacks {
			if v := st.Us[SampleCriticalPath]; v != 0 {
				got[p.Frames[st.Frame].Name()] += v
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: critical path per frame:\n got %v\nwant %v", mode, got, want)
		}
		if mode == ModeDefault {
			var roots int64
			for _, tr := range r.Traces {
				roots += tr.DurationUs
			}
			if p.Counts.MultiRootTraces == 0 {
				t.Error("want traces with extra roots (orphans)")
			}
			// Extra roots add their own time: at least the requests' total.
			if cp := p.TotalUs[SampleCriticalPath]; cp < roots {
				t.Errorf("critical path %d µs < requests' %d µs", cp, roots)
			}
		}
		band := Band{Lo: 90, Hi: 100}
		one := mustBuildProfile(traces, opts, band)
		opts.Workers = 4
		if four := mustBuildProfile(traces, opts, band); !reflect.DeepEqual(one, four) {
			t.Errorf("%s: the profile depends on the number of workers", mode)
		}
	}
}

// A chain deeper than ProfileMaxDepth: the stack trie holds one node per
// depth up to the cap and one marker below it, so the profile is linear in
// the chain (not N²/2 frames), and no time is lost to the cap.
func TestProfileDeepChain(t *testing.T) {
	const n = 2*ProfileMaxDepth + 500
	var spans []sp
	for i := range n {
		spans = append(spans, sp{id: uint64(i + 1), parent: uint64(i), start: int64(i), end: int64(2*n - i),
			svc: "s", op: "op" + strconv.Itoa(i%3)})
	}
	spans[0].parent = 0
	p := mustBuildProfile([]tracefmt.Trace{mkTrace(1, spans...)}, DefaultOptions(), Band{})
	if len(p.Stacks) != ProfileMaxDepth+1 || p.Truncated != 1 || p.Samples != len(p.Stacks) {
		t.Fatalf("%d stacks (%d with time), %d truncated traces; want %d, %d, 1", len(p.Stacks), p.Samples, p.Truncated,
			ProfileMaxDepth+1, ProfileMaxDepth+1)
	}
	var wall int64
	for _, s := range spans {
		wall += s.end - s.start
	}
	last := p.Stacks[len(p.Stacks)-1]
	if !p.Frames[last.Frame].Truncated || last.Depth != ProfileMaxDepth+1 || p.Stacks[last.Parent].Depth != ProfileMaxDepth {
		t.Errorf("last stack %+v: want the marker at depth %d", last, ProfileMaxDepth+1)
	}
	if p.TotalUs[SampleWall] != wall || p.TotalUs[SampleCriticalPath] != 2*n || p.TotalUs[SampleSelf] != 2*n {
		t.Errorf("totals %v, want wall %d, critical path and self %d", p.TotalUs, wall, 2*n)
	}
	// Below the cap, a stack's frames are its spans' own.
	if got := p.Path(2, nil); len(got) != 3 || p.Frames[got[2]].Operation != "op2" {
		t.Errorf("stack 2: frames %v", got)
	}
}

// Profiles of shards merge into the profile of all their traces, exactly,
// whatever the split and order.
func TestMergeProfiles(t *testing.T) {
	traces, _ := generate(t, "-scenario", "mixed", "-traces", "300", "-seed", "4", "-orphans", "0.05", "-skew-ms", "2")
	SortTraces(traces)
	opts := DefaultOptions()
	whole := mustBuildProfile(traces, opts, Band{})
	for _, cut := range []int{0, 1, 97, 299} {
		a := mustBuildProfile(traces[:cut], opts, Band{})
		b := mustBuildProfile(traces[cut:], opts, Band{})
		for _, pair := range [][2]*Profile{{a, b}, {b, a}} {
			m, err := MergeProfiles(pair[0], pair[1])
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(m, whole) {
				t.Fatalf("cut %d: merged profile differs:\n%+v\n%+v", cut, m.Endpoints, whole.Endpoints)
			}
		}
	}
	if _, err := MergeProfiles(mustBuildProfile(traces, opts, Band{Lo: 99, Hi: 100}), whole); err == nil {
		t.Fatal("a band's profile merged")
	}
}
