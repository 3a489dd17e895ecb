package budget

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"hopbudget/analyze"
	"hopbudget/tracefmt"
)

const ms = int64(1_000_000)

// fixture builds a report whose samples follow from its trace rows, as
// analyze's do:
//
//	rows 0–99   frontend: GET /a, duration i+1 ms, start i·10 ms;
//	            frontend → api: Get (i+1)/2 ms, network 1 ms, all on the critical path;
//	            api → db: SELECT i/4 ms in even rows (critical path: half of it);
//	            frontend → cache: GET 0.5 ms in every 10th row (no server span: no network gap)
//	rows 100–109 frontend: GET /b, duration 10·(i−99) ms
//	rows 110–114 api: POST /c (an orphan-free second service), 7 ms
//	fan-in api: Get, waits 1 … 50 ms in rows 0–49
//	outcomes: each request and call ends with its trace's root; requests of
//	            GET /a in rows 0, 25, 50, 75 failed (4%), the api call of row 7 (1%)
func fixture() *analyze.Report {
	r := &analyze.Report{
		Endpoints: []analyze.Endpoint{{Service: "api", Operation: "POST /c"}, {Service: "frontend", Operation: "GET /a"}, {Service: "frontend", Operation: "GET /b"}},
		Hops:      []analyze.Hop{{From: "api", To: "db", Operation: "SELECT"}, {From: "frontend", To: "api", Operation: "Get"}, {From: "frontend", To: "cache", Operation: "GET"}},
	}
	const epC, epA, epB = 0, 1, 2
	const db, api, cache = 0, 1, 2
	add := func(ep int32, start, dur int64, hops ...analyze.TraceHop) {
		var id tracefmt.TraceID
		binary.BigEndian.PutUint64(id[8:], uint64(len(r.TraceRows)+1))
		r.TraceRows = append(r.TraceRows, analyze.TraceRow{ID: id, Endpoint: ep, StartNs: start, DurationNs: dur, Hops: hops})
	}
	for i := int64(0); i < 100; i++ {
		hops := []analyze.TraceHop{{Hop: api, Calls: 1, LatencyNs: (i + 1) * ms / 2, NetworkNs: ms, CriticalPathNs: (i + 1) * ms / 2}}
		if i%2 == 0 {
			hops = append(hops, analyze.TraceHop{Hop: db, Calls: 1, LatencyNs: i * ms / 4, CriticalPathNs: i * ms / 8})
		}
		if i%10 == 0 {
			hops = append(hops, analyze.TraceHop{Hop: cache, Calls: 1, LatencyNs: ms / 2, CriticalPathNs: ms / 2})
		}
		slices.SortFunc(hops, func(a, b analyze.TraceHop) int { return cmp.Compare(a.Hop, b.Hop) })
		add(epA, i*10*ms, (i+1)*ms, hops...)
	}
	for i := int64(100); i < 110; i++ {
		add(epB, i*10*ms, 10*(i-99)*ms)
	}
	for i := int64(110); i < 115; i++ {
		add(epC, i*10*ms, 7*ms)
	}
	type pair struct {
		v   int64
		row int32
	}
	type samples struct{ lat, net, cp []pair }
	eps := make([][]pair, len(r.Endpoints))
	hs := make([]samples, len(r.Hops))
	for ri, row := range r.TraceRows {
		eps[row.Endpoint] = append(eps[row.Endpoint], pair{row.DurationNs, int32(ri)})
		for _, th := range row.Hops {
			s := &hs[th.Hop]
			s.lat = append(s.lat, pair{th.LatencyNs, int32(ri)})
			s.cp = append(s.cp, pair{th.CriticalPathNs, int32(ri)})
			if th.Hop != cache {
				s.net = append(s.net, pair{th.NetworkNs, int32(ri)})
			}
		}
	}
	toSample := func(ps []pair) analyze.Sample {
		slices.SortFunc(ps, func(a, b pair) int {
			if c := cmp.Compare(a.v, b.v); c != 0 {
				return c
			}
			return cmp.Compare(a.row, b.row)
		})
		var s analyze.Sample
		for _, p := range ps {
			s.Ns, s.Row = append(s.Ns, p.v), append(s.Row, p.row)
		}
		return s
	}
	for i := range r.Endpoints {
		e := &r.Endpoints[i]
		e.DurationSample = toSample(eps[i])
		for _, row := range e.DurationSample.Row {
			e.RequestStarts = append(e.RequestStarts, r.TraceRows[row].StartNs)
		}
		for ri, row := range r.TraceRows {
			if i == epA && int(row.Endpoint) == i && ri%25 == 0 {
				e.Outcomes.Errors.Ns = append(e.Outcomes.Errors.Ns, row.StartNs+row.DurationNs)
				e.Outcomes.Errors.Row = append(e.Outcomes.Errors.Row, int32(ri))
			}
		}
	}
	for i := range r.Hops {
		h := &r.Hops[i]
		h.LatencySample, h.NetworkSample, h.CriticalPathSample = toSample(hs[i].lat), toSample(hs[i].net), toSample(hs[i].cp)
		if i == api {
			h.Outcomes.Errors = analyze.Sample{Ns: []int64{r.TraceRows[7].StartNs + ms}, Row: []int32{7}}
		}
	}
	var waits []pair
	for i := int64(0); i < 50; i++ {
		waits = append(waits, pair{(i + 1) * ms, int32(i)})
	}
	r.FanIn = []analyze.FanIn{{Service: "api", Operation: "Get", WaitSample: toSample(waits)}}
	return r
}

// traceID is the ID of fixture row i.
func traceID(row int) string { return fmt.Sprintf("%032x", row+1) }

// brief shows a result in a line: status, title, actual, samples.
func brief(l LineResult) string {
	actual := "-"
	if l.ActualUs != nil {
		actual = fmt.Sprint(*l.ActualUs)
	}
	return fmt.Sprintf("%s %s = %s n=%d", l.Status, l.Title, actual, l.Samples)
}

func TestEvaluate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		yaml   string
		opts   EvalOptions
		want   []string // brief of each result, in order
		warn   []string // substrings of the warnings, in order
		passed bool
		check  func(t *testing.T, res *Result)
	}{
		{
			name: "endpoint over, with headroom, exemplar and culprits",
			yaml: `endpoints: [{match: {service: frontend, operation: GET /a}, p99: 98ms, p50: 50ms}]`,
			want: []string{
				"ok endpoint frontend: GET /a p50 = 50000 n=100",
				"over endpoint frontend: GET /a p99 = 99000 n=100",
			},
			check: func(t *testing.T, res *Result) {
				l := res.Lines[1]
				if *l.HeadroomUs != -1000 || *l.HeadroomPct != -1 || l.Exemplar != traceID(98) || !l.Failed || l.Line != 1 {
					t.Errorf("p99: %+v", l)
				}
				// The tail is rows 98 and 99: api 49.5 and 50 ms, db 24.5/2 ms in row 98 only.
				want := []Culprit{
					{From: "frontend", To: "api", Operation: "Get", CriticalPathMeanUs: 49750, BaselineMeanUs: 25250, Share: 0.5, Requests: 2},
					{From: "api", To: "db", Operation: "SELECT", CriticalPathMeanUs: 6125, BaselineMeanUs: 3062, Share: 0.062, Requests: 2},
				}
				if !reflect.DeepEqual(l.Culprits, want) {
					t.Errorf("culprits\n got %+v\nwant %+v", l.Culprits, want)
				}
				if p50 := res.Lines[0]; *p50.HeadroomUs != 0 || p50.Failed || len(p50.Culprits) != 0 || p50.Culprits == nil {
					t.Errorf("p50 (equal to its target passes): %+v", p50)
				}
			},
		},
		{
			name: "a glob gives one result per match; too few samples is no data, not a pass",
			yaml: `endpoints: [{match: {service: frontend}, p50: 60ms, max: 1s}]`,
			// One line in the file: by match, then the line's targets.
			want: []string{"ok endpoint frontend p50 [frontend: GET /a] = 50000 n=100", "ok endpoint frontend max [frontend: GET /a] = 100000 n=100", "no-data endpoint frontend p50 [frontend: GET /b] = 50000 n=10", "no-data endpoint frontend max [frontend: GET /b] = 100000 n=10"},
			check: func(t *testing.T, res *Result) {
				if l := res.Lines[2]; !l.Failed || l.Note != "10 samples, fewer than 20: not checked" {
					t.Errorf("no data must fail by default, named as such: %+v", l)
				}
				if res.Checked != 2 || res.SamplesChecked != 200 {
					t.Errorf("checked %d lines against %d samples, want 2 against 200", res.Checked, res.SamplesChecked)
				}
			},
		},
		{
			name: "--allow-no-data lets too few samples pass",
			yaml: `endpoints: [{match: {service: frontend}, p50: 60ms}]`,
			opts: EvalOptions{AllowNoData: true},
			want: []string{"ok endpoint frontend p50 [frontend: GET /a] = 50000 n=100", "no-data endpoint frontend p50 [frontend: GET /b] = 50000 n=10"}, passed: true,
			check: func(t *testing.T, res *Result) {
				if l := res.Lines[1]; l.Failed {
					t.Errorf("allowed no data failed: %+v", l)
				}
			},
		},
		{
			name: "fewer samples needed",
			yaml: `endpoints: [{match: {service: frontend}, p50: 60ms}]`,
			opts: EvalOptions{MinSamples: 10},
			want: []string{"ok endpoint frontend p50 [frontend: GET /a] = 50000 n=100", "ok endpoint frontend p50 [frontend: GET /b] = 50000 n=10"}, passed: true,
		},
		{
			name: "no data fails by default",
			yaml: `endpoints: [{match: {service: frontend, operation: GET /b}, p50: 60ms}]`,
			want: []string{"no-data endpoint frontend: GET /b p50 = 50000 n=10"},
			check: func(t *testing.T, res *Result) {
				if !res.Lines[0].Failed {
					t.Error("not failed")
				}
			},
		},
		{
			name: "hop measures",
			yaml: `hops:
  - {match: {from: frontend, to: api}, p99: 50ms}
  - {match: {from: frontend, to: api}, on: network, p99: 900us}
  - {match: {to: db}, on: critical-path, p50: 4ms}`,
			want: []string{
				"ok hop frontend → api p99 (latency) [frontend → api: Get] = 49500 n=100",
				"over hop frontend → api p99 (network) [frontend → api: Get] = 1000 n=100",
				"over hop * → db p50 (critical-path) [api → db: SELECT] = 6000 n=50",
			},
			check: func(t *testing.T, res *Result) {
				if l := res.Lines[1]; l.On != "network" || l.Kind != KindHop || l.Percentile != "p99" || l.TargetUs != 900 {
					t.Errorf("network line: %+v", l)
				}
			},
		},
		{
			name: "a glob leaves out hops without the measure, unless none has it",
			yaml: `hops:
  - {match: {to: "*"}, on: network, p50: 2ms}
  - {match: {to: cache}, on: network, p50: 2ms}`,
			opts: EvalOptions{AllowNoData: true},
			want: []string{
				"ok hop * → * p50 (network) [api → db: SELECT] = 0 n=50",
				"ok hop * → * p50 (network) [frontend → api: Get] = 1000 n=100",
				"no-data hop * → cache p50 (network) [frontend → cache: GET] = - n=0",
			},
			passed: true,
			check: func(t *testing.T, res *Result) {
				if l := res.Lines[2]; l.HeadroomUs != nil || l.HeadroomPct != nil || l.Exemplar != "" {
					t.Errorf("no samples: %+v", l)
				}
			},
		},
		{
			name: "layers add up per request, zero without calls",
			yaml: `layers:
  - {name: data, endpoint: {service: frontend, operation: GET /a}, match: [{to: db}, {to: cache}], on: latency, p50: 1ms, p90: 19ms}
  - {name: all, endpoint: {service: frontend}, match: [{to: "*"}], on: network, p99: 1ms}`,
			want: []string{
				// Odd rows have neither call but for every 10th: half the requests are 0.
				"ok layer data under frontend: GET /a p50 (latency) = 0 n=100",
				"over layer data under frontend: GET /a p90 (latency) = 19500 n=100",
				"ok layer all under frontend p99 (network) [frontend: GET /a] = 1000 n=100",
				"no-data layer all under frontend p99 (network) [frontend: GET /b] = 0 n=10",
			},
		},
		{
			name: "fan-in",
			yaml: `fanIn: [{match: {service: api}, p95: 47ms, max: 60ms}]`,
			want: []string{"over fan-in api p95 [api: Get] = 48000 n=50", "ok fan-in api max [api: Get] = 50000 n=50"},
		},
		{
			name: "slow requests within: exactly the allowed share over",
			yaml: `endpoints: [{match: {service: frontend, operation: GET /a}, slowRequests: {threshold: 95ms, allowed: 5%}}]`,
			want: []string{"ok endpoint frontend: GET /a slow requests = 95000 n=100"}, passed: true,
			check: func(t *testing.T, res *Result) {
				l := res.Lines[0]
				want := &SlowRequestsResult{ThresholdUs: 95000, Allowed: 0.05, Observed: 0.05, OverCount: 5, BurnRate: 1, StartUs: 0, EndUs: 1_090_000}
				if !reflect.DeepEqual(l.SlowRequests, want) || l.Percentile != "p95" || l.Kind != KindSlowRequests || l.Errors != nil {
					t.Errorf("got %+v %+v", l, l.SlowRequests)
				}
			},
		},
		{
			name: "slow requests burning, under the deprecated name errorBudget",
			yaml: `endpoints: [{match: {service: frontend, operation: GET /a}, errorBudget: {threshold: 94ms, allowed: 5%}}]`,
			want: []string{"over endpoint frontend: GET /a slow requests = 95000 n=100"},
			warn: []string{"endpoints[0].errorBudget: errorBudget is deprecated: it limits slow requests, so it is now called slowRequests"},
			check: func(t *testing.T, res *Result) {
				l := res.Lines[0]
				if l.SlowRequests.BurnRate != 1.2 || l.SlowRequests.OverCount != 6 || l.Exemplar != traceID(94) ||
					len(l.Culprits) != 2 || l.Culprits[0].Requests != 6 {
					t.Errorf("got %+v %+v", l, l.SlowRequests)
				}
			},
		},
		{
			name: "slow-request percentile of an odd allowance",
			yaml: `endpoints: [{match: {service: frontend, operation: GET /a}, slowRequests: {threshold: 1s, allowed: 2.5%}}]`,
			want: []string{"ok endpoint frontend: GET /a slow requests = 98000 n=100"}, passed: true,
			check: func(t *testing.T, res *Result) {
				if p := res.Lines[0].Percentile; p != "p97.5" {
					t.Errorf("percentile %q", p)
				}
			},
		},
		{
			name: "error rates of endpoints and hops: 4 of 100 requests failed, 1 of 100 calls",
			yaml: `endpoints:
  - {match: {service: frontend, operation: GET /a}, errors: {rate: 5%}}
  - {match: {service: frontend, operation: GET /a}, name: strict, errors: {objective: 99%}}
hops:
  - {match: {from: frontend, to: api}, errors: {rate: 1%}}
  - {match: {from: frontend, to: api}, name: tight, errors: {rate: 0.5%}}`,
			want: []string{
				"ok endpoint frontend: GET /a errors = - n=100",
				"over strict errors = - n=100",
				"ok hop frontend → api errors [frontend → api: Get] = - n=100",
				"over tight errors [frontend → api: Get] = - n=100",
			},
			check: func(t *testing.T, res *Result) {
				l := res.Lines[0]
				want := &ErrorRateResult{Allowed: 0.05, Objective: 0.95, Total: 100, Errors: 4, Observed: 0.04, BurnRate: 0.8,
					StartUs: 0, EndUs: 1_190_000, Windows: []BurnWindow{}, WindowsNotEvaluated: []string{"1h", "6h", "3d"}}
				if !reflect.DeepEqual(l.Errors, want) || l.Kind != KindErrors || l.SlowRequests != nil ||
					l.Endpoint == nil || *l.Endpoint != (analyze.EndpointKey{Service: "frontend", Operation: "GET /a"}) {
					t.Errorf("got %+v\n%+v\nwant %+v", l, l.Errors, want)
				}
				if e := res.Lines[1].Errors; e.Allowed != 0.01 || e.BurnRate != 4 {
					t.Errorf("objective 99%%: allowed %v, burn rate %v; want 0.01, 4", e.Allowed, e.BurnRate)
				}
				// Exactly at the allowed rate holds.
				if h := res.Lines[2]; h.Errors.BurnRate != 1 || h.Hop == nil || h.Hop.To != "api" {
					t.Errorf("hop: %+v %+v", h, h.Errors)
				}
			},
		},
		{
			name: "matchers that match nothing fail, named as such; file order across sections",
			yaml: `fanIn: [{match: {service: nobody}, p50: 1ms}]
hops:
  - {match: {from: frontend, to: dbb}, p50: 1ms}
  - {match: {to: api}, p50: 1s}
endpoints:
  - {match: {service: frontend, operation: GET /x}, p50: 1ms}
  - {match: {service: api}, p50: 1s}
layers:
  - {name: l, endpoint: {service: web}, match: [{to: db}], p50: 1ms}
  - {name: m, endpoint: {service: frontend, operation: GET /a}, match: [{to: db}, {to: dbb}, {from: api, to: cache}], p50: 1s}`,
			opts: EvalOptions{MinSamples: 1},
			want: []string{
				"no-match fan-in nobody p50 = - n=0",
				"no-match hop frontend → dbb p50 (latency) = - n=0",
				"ok hop * → api p50 (latency) [frontend → api: Get] = 25000 n=100",
				"no-match endpoint frontend: GET /x p50 = - n=0",
				"ok endpoint api p50 [api: POST /c] = 7000 n=5",
				"no-match layer l under web p50 (critical-path) = - n=0",
				"ok layer m under frontend: GET /a p50 (critical-path) = 0 n=100",
			},
			warn: []string{
				`layers[1] (m): match[1] {to: "dbb"} matches no call in the requests of frontend: GET /a`,
				`layers[1] (m): match[2] {from: "api", to: "cache"} matches no call`,
			},
			check: func(t *testing.T, res *Result) {
				for _, i := range []int{0, 1, 3, 5} {
					if l := res.Lines[i]; !l.Failed || !strings.HasSuffix(l.Note, ": nothing was checked") || l.Endpoint != nil || l.Hop != nil {
						t.Errorf("line %d: %+v", i, l)
					}
				}
				if n := res.Lines[1].Note; n != "matched no hop: nothing was checked" {
					t.Errorf("note %q", n)
				}
				if lines := []int{res.Lines[0].Line, res.Lines[1].Line, res.Lines[5].Line}; !slices.Equal(lines, []int{1, 3, 9}) {
					t.Errorf("lines %v", lines)
				}
				if res.Checked != 3 || res.SamplesChecked != 205 {
					t.Errorf("checked %d against %d samples", res.Checked, res.SamplesChecked)
				}
			},
		},
		{
			name: "--allow-no-data: a line that matches nothing passes, still shown",
			yaml: `hops: [{match: {to: nowhere}, p50: 1ms, errors: {rate: 1%}}]`,
			opts: EvalOptions{AllowNoData: true},
			want: []string{"no-match hop * → nowhere p50 (latency) = - n=0", "no-match hop * → nowhere errors = - n=0"}, passed: true,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := Parse("budget.yaml", []byte("version: 1\n"+tc.yaml))
			if err != nil {
				t.Fatal(err)
			}
			// The fixture's line numbers count from the first line of tc.yaml.
			shift(b, -1)
			res := Evaluate(b, fixture(), tc.opts)
			var got []string
			for _, l := range res.Lines {
				got = append(got, brief(l))
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("results:\n got %s\nwant %s", strings.Join(got, "\n     "), strings.Join(tc.want, "\n     "))
			}
			if len(res.Warnings) != len(tc.warn) {
				t.Errorf("warnings %+v, want %d", res.Warnings, len(tc.warn))
			}
			for i := range min(len(res.Warnings), len(tc.warn)) {
				if !strings.Contains(res.Warnings[i].Message, tc.warn[i]) {
					t.Errorf("warning %d: %q, want %q", i, res.Warnings[i].Message, tc.warn[i])
				}
			}
			if res.Passed != tc.passed || res.File != "budget.yaml" {
				t.Errorf("passed %v, want %v", res.Passed, tc.passed)
			}
			if tc.check != nil && len(got) == len(tc.want) {
				tc.check(t, res)
			}
		})
	}
}

// shift moves every line number of b by d.
func shift(b *Budget, d int) {
	lines := func(ts []Target) {
		for i := range ts {
			ts[i].Line += d
		}
	}
	for i := range b.Endpoints {
		lines(b.Endpoints[i].Targets)
		b.Endpoints[i].Line += d
		if eb := b.Endpoints[i].SlowRequests; eb != nil {
			eb.Line += d
		}
		if er := b.Endpoints[i].Errors; er != nil {
			er.Line += d
		}
	}
	for i := range b.Hops {
		lines(b.Hops[i].Targets)
		b.Hops[i].Line += d
		if er := b.Hops[i].Errors; er != nil {
			er.Line += d
		}
	}
	for i := range b.Notes {
		b.Notes[i].Line += d
	}
	for i := range b.Layers {
		lines(b.Layers[i].Targets)
		b.Layers[i].Line += d
	}
	for i := range b.FanIn {
		lines(b.FanIn[i].Targets)
		b.FanIn[i].Line += d
	}
}

func TestEvaluateEmptyReport(t *testing.T) {
	b, err := Parse("b.yaml", []byte("version: 1\nendpoints: [{match: {service: a}, p99: 1ms}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	// Nothing to check is no pass.
	res := Evaluate(b, &analyze.Report{}, EvalOptions{})
	if res.Passed || len(res.Lines) != 1 || res.Lines[0].Status != StatusNoMatch || res.Checked != 0 || res.MinSamples != DefaultMinSamples {
		t.Errorf("%+v", res)
	}
}

// TestErrorRateWindows: one request a minute; the last 30 minutes all
// fail. Over the whole export the rate is within the objective, but the
// 1h and 6h windows (with their 5m and 30m confirmations) burn fast enough
// to page, so the line fails; a shorter export evaluates fewer windows.
func TestErrorRateWindows(t *testing.T) {
	// One request a minute, each ending on the minute; failed when bad(i).
	report := func(minutes int, bad func(i int) bool) *analyze.Report {
		e := analyze.Endpoint{Service: "api", Operation: "GET /"}
		for i := range minutes {
			start := int64(i+1)*60e9 - 1e6 // 1ms requests
			e.RequestStarts = append(e.RequestStarts, start)
			e.DurationSample.Ns = append(e.DurationSample.Ns, 1e6)
			e.DurationSample.Row = append(e.DurationSample.Row, int32(i))
			if bad(i) {
				e.Outcomes.Errors.Ns = append(e.Outcomes.Errors.Ns, start+1e6)
				e.Outcomes.Errors.Row = append(e.Outcomes.Errors.Row, int32(i))
			}
		}
		r := &analyze.Report{Endpoints: []analyze.Endpoint{e}}
		for i := range minutes {
			var id tracefmt.TraceID
			binary.BigEndian.PutUint64(id[8:], uint64(i+1))
			r.TraceRows = append(r.TraceRows, analyze.TraceRow{ID: id, StartNs: e.RequestStarts[i], DurationNs: 1e6})
		}
		return r
	}
	lastHalfHour := func(minutes int) func(int) bool { return func(i int) bool { return i >= minutes-30 } }
	b, err := Parse("b.yaml", []byte("version: 1\nendpoints: [{match: {service: api}, errors: {rate: 1%}}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	res := Evaluate(b, report(4*24*60, lastHalfHour(4*24*60)), EvalOptions{})
	l := res.Lines[0]
	e := l.Errors
	if l.Status != StatusOver || e.BurnRate != 0.521 || e.Total != 5760 || e.Errors != 30 || l.Exemplar != fmt.Sprintf("%032x", 5760) {
		t.Fatalf("4 days: %+v %+v", l, e)
	}
	want := []BurnWindow{
		{Long: "1h", Short: "5m", Factor: 14.4, Severity: "page", Total: 60, Errors: 30, BurnRate: 50, ShortTotal: 5, ShortErrors: 5, ShortBurnRate: 100, Alert: true},
		{Long: "6h", Short: "30m", Factor: 6, Severity: "page", Total: 360, Errors: 30, BurnRate: 8.333, ShortTotal: 30, ShortErrors: 30, ShortBurnRate: 100, Alert: true},
		{Long: "3d", Short: "6h", Factor: 1, Severity: "ticket", Total: 4320, Errors: 30, BurnRate: 0.694, ShortTotal: 360, ShortErrors: 30, ShortBurnRate: 8.333},
	}
	if !reflect.DeepEqual(e.Windows, want) || len(e.WindowsNotEvaluated) != 0 {
		t.Errorf("windows\n got %+v\nwant %+v\nnot evaluated %v", e.Windows, want, e.WindowsNotEvaluated)
	}

	// Two hours: only the 1h window fits.
	e = Evaluate(b, report(120, lastHalfHour(120)), EvalOptions{}).Lines[0].Errors
	if len(e.Windows) != 1 || e.Windows[0].Long != "1h" || !slices.Equal(e.WindowsNotEvaluated, []string{"6h", "3d"}) {
		t.Errorf("2 hours: %+v, not evaluated %v", e.Windows, e.WindowsNotEvaluated)
	}

	// Errors spread evenly at the allowed rate: no window alerts, passes.
	r := report(4*24*60, func(i int) bool { return i%100 == 99 })
	if l := Evaluate(b, r, EvalOptions{}).Lines[0]; l.Status != StatusOK {
		t.Errorf("even errors at 1%%: %s %+v", l.Status, l.Errors)
	}
}
