package cmd

import (
	"cmp"
	"math"
	"slices"
	"sort"
	"strconv"

	"hopbudget/analyze"
	"hopbudget/budget"
)

// The models behind the HTML report's charts: the numbers each chart draws,
// taken from the Report, the budget result and the profiles as they are
// (never recomputed), plus what only a chart needs (histogram bins, icicle
// boxes, heatmap cells, waterfall rows). render_report.go turns them into
// SVG and HTML.

// ---- histograms ----

// histBinsPerDecade: log-scaled bins, ten per factor of ten, edges at
// 10^(k/10) ns so that every histogram of a report shares them.
const histBinsPerDecade = 10

// histBin counts the samples in [LoNs, HiNs).
type histBin struct {
	LoNs, HiNs int64
	Count      int
}

// histModel is a latency distribution on a log axis.
type histModel struct {
	Bins []histBin
	// N is the number of samples: the counts add up to it (values under
	// the first edge, such as zero-length spans, count in the first bin,
	// the maximum in the last).
	N int
}

func histEdge(k int) int64 { return int64(math.Round(math.Pow(10, float64(k)/histBinsPerDecade))) }

// histogram bins sorted samples (ns, ascending: Hop.Samples,
// Endpoint.Samples) on a log axis from 1µs up.
func histogram(samples []int64) histModel {
	h := histModel{N: len(samples)}
	if len(samples) == 0 {
		return h
	}
	lo, hi := max(samples[0], 1000), max(samples[len(samples)-1], 1000)
	k0 := int(math.Floor(math.Log10(float64(lo)) * histBinsPerDecade))
	k1 := int(math.Floor(math.Log10(float64(hi))*histBinsPerDecade)) + 1
	for histEdge(k0) > lo { // float edges: make sure the first bin holds lo
		k0--
	}
	for histEdge(k1) <= hi {
		k1++
	}
	for k := k0; k < k1; k++ {
		b := histBin{LoNs: histEdge(k), HiNs: histEdge(k + 1)}
		from := sort.Search(len(samples), func(i int) bool { return samples[i] >= b.LoNs })
		to := sort.Search(len(samples), func(i int) bool { return samples[i] >= b.HiNs })
		if k == k0 {
			from = 0
		}
		b.Count = to - from
		h.Bins = append(h.Bins, b)
	}
	return h
}

// ---- percentiles against the budget ----

// pctBar is one bar of a percentile chart: a percentile's value and, when
// a budget line holds it, the target and verdict (from budget.Evaluate).
type pctBar struct {
	Label    string // p50, p95, p99, or a budget line's percentile
	ValueUs  int64
	TargetUs int64 // 0: no budget line on this percentile
	Status   budget.Status
	Line     int // of the budget line, 0 without
}

// Over says whether the bar goes past its target.
func (b pctBar) Over() bool { return b.TargetUs > 0 && b.Status == budget.StatusOver }

// pctBars is the p50/p95/p99 of an endpoint or hop with the budget lines
// on its latency: a line on p50, p95 or p99 marks that bar; a line on
// another percentile (p90, p999, max, an error budget's) adds its own bar
// with the actual value check measured.
func pctBars(p50, p95, p99 int64, lines []*budget.LineResult) []pctBar {
	bars := []pctBar{{Label: "p50", ValueUs: p50}, {Label: "p95", ValueUs: p95}, {Label: "p99", ValueUs: p99}}
	for _, l := range lines {
		i := slices.IndexFunc(bars, func(b pctBar) bool { return b.Label == l.Percentile })
		if i < 0 || bars[i].TargetUs != 0 {
			v := int64(0)
			if l.ActualUs != nil {
				v = *l.ActualUs
			}
			bars = append(bars, pctBar{Label: l.Percentile, ValueUs: v})
			i = len(bars) - 1
		}
		bars[i].TargetUs, bars[i].Status, bars[i].Line = l.TargetUs, l.Status, l.Line
	}
	return bars
}

// budgetIndex finds the budget lines that hold an endpoint or a hop, by
// the rows' structured keys (never by display text, whose wording may
// change).
type budgetIndex struct {
	endpoints map[analyze.EndpointKey][]*budget.LineResult // lines on an endpoint's duration
	hops      map[analyze.HopKey][]*budget.LineResult      // hop lines (latency, network, critical path)
}

func newBudgetIndex(r *budget.Result) budgetIndex {
	x := budgetIndex{endpoints: map[analyze.EndpointKey][]*budget.LineResult{}, hops: map[analyze.HopKey][]*budget.LineResult{}}
	if r == nil {
		return x
	}
	for i := range r.Lines {
		l := &r.Lines[i]
		switch {
		case (l.Kind == budget.KindEndpoint || l.Kind == budget.KindSlowRequests) && l.Endpoint != nil:
			x.endpoints[*l.Endpoint] = append(x.endpoints[*l.Endpoint], l)
		case l.Kind == budget.KindHop && l.Hop != nil:
			x.hops[*l.Hop] = append(x.hops[*l.Hop], l)
		}
	}
	return x
}

// endpointKey and hopKey are the display names of an endpoint and a hop
// ("service: operation", "from → to: operation"): for people only; budget
// lines are found by budgetIndex's structured keys.
func endpointKey(service, op string) string { return service + ": " + op }

func hopKey(h *analyze.Hop) string {
	name := h.From + " → " + h.To + ": " + h.Operation
	if h.Statement != "" {
		name += " [" + h.Statement + "]" // as the analyze table: hops differing by query alone
	}
	return name
}

// endpoint returns the lines on an endpoint's duration: its targets and
// slow-request budgets (layers are per endpoint too, but on the calls
// under it; error rates are not durations).
func (x budgetIndex) endpoint(service, op string) []*budget.LineResult {
	return x.endpoints[analyze.EndpointKey{Service: service, Operation: op}]
}

// hop returns the lines on a hop's latency, and all its lines (network,
// critical path) for the table.
func (x budgetIndex) hop(h *analyze.Hop) (latency, all []*budget.LineResult) {
	all = x.hops[h.Key()]
	for _, l := range all {
		if l.On == string(budget.Latency) {
			latency = append(latency, l)
		}
	}
	return latency, all
}

// worst is the most severe status of lines ("" without lines).
func worst(lines []*budget.LineResult) budget.Status {
	var s budget.Status
	for _, l := range lines {
		switch {
		case l.Status == budget.StatusOver:
			return budget.StatusOver
		case l.Status == budget.StatusNoData || s == "":
			s = l.Status
		}
	}
	return s
}

// reportHops orders the hops for the report: over budget first, then
// those with a budget line, then by critical-path time (the exact total,
// as analyze's --sort share), ties in report order.
func reportHops(r *analyze.Report, bx budgetIndex) []*analyze.Hop {
	rank := func(h *analyze.Hop) int {
		_, all := bx.hop(h)
		switch worst(all) {
		case budget.StatusOver:
			return 0
		case "":
			return 2
		}
		return 1
	}
	out := make([]*analyze.Hop, len(r.Hops))
	for i := range r.Hops {
		out[i] = &r.Hops[i]
	}
	slices.SortStableFunc(out, func(a, b *analyze.Hop) int {
		if c := cmp.Compare(rank(a), rank(b)); c != 0 {
			return c
		}
		return cmp.Compare(b.CriticalPathTotalUs, a.CriticalPathTotalUs)
	})
	return out
}

// ---- icicle and heatmap (analyze.NewIcicle, analyze.NewHeatmap) ----

const (
	flameMinShare = 0.0005 // half a pixel of a 1000-wide chart
	flameMaxDepth = 40
	flameMaxNodes = 1500
	heatRowsMax   = 20
)

// heatBands are the heatmap's columns: percentile bands of each endpoint's
// requests by duration.
var heatBands = []analyze.Band{{Lo: 0, Hi: 50}, {Lo: 50, Hi: 90}, {Lo: 90, Hi: 95}, {Lo: 95, Hi: 99}, {Lo: 99, Hi: 100}}

// heatLevel is a heatmap cell's colour step, 0…8 (sqrt of its share).
func heatLevel(share float64) int { return min(8, int(math.Ceil(math.Sqrt(share)*8))) }

// ---- exemplars ----

// exemplarOverLines: budget lines over their target whose exemplars are
// drawn too (after analyze.PickExemplars' own).
const exemplarOverLines = 3

// overExemplars are the exemplars of the budget lines that are over, with
// the reason the report gives.
func overExemplars(res *budget.Result) []analyze.ExemplarReason {
	var out []analyze.ExemplarReason
	if res == nil {
		return out
	}
	for i := range res.Lines {
		if l := &res.Lines[i]; l.Status == budget.StatusOver && l.Exemplar != "" && len(out) < exemplarOverLines {
			out = append(out, analyze.ExemplarReason{TraceID: l.Exemplar, Why: "budget line " + strconv.Itoa(l.Line) + " over: " + l.Title})
		}
	}
	return out
}

// wfMaxRows bounds a waterfall's rows so that a 10k-span trace keeps the
// page small and responsive.
const wfMaxRows = 300

// wfVisible says which spans of a layout a waterfall shows. A trace of at
// most maxRows spans is shown whole. A larger one shows the spans on the
// critical path (it, or a span under it, owns part of the path) and, while
// rows remain, their longest children off the path, each with its subtree
// collapsed; if the path alone has more spans, its first ones in tree
// order. hidden[i] counts the spans not shown whose nearest shown ancestor
// is i.
func wfVisible(l *analyze.TraceLayout, maxRows int) (show []bool, hidden []int) {
	n := len(l.Spans)
	show = make([]bool, n)
	hidden = make([]int, n)
	if n <= maxRows {
		for i := range show {
			show[i] = true
		}
		return show, hidden
	}
	rows := 0
	for i := range l.Spans {
		if l.Spans[i].SubtreeCriticalNs > 0 && rows < maxRows {
			show[i] = true
			rows++
		}
	}
	var off []int32
	for i := range l.Spans {
		s := &l.Spans[i]
		if !show[i] && s.Parent >= 0 && show[s.Parent] && l.Spans[s.Parent].SubtreeCriticalNs > 0 {
			off = append(off, int32(i))
		}
	}
	slices.SortStableFunc(off, func(a, b int32) int {
		x, y := &l.Spans[a], &l.Spans[b]
		return cmp.Compare(y.EndNs-y.StartNs, x.EndNs-x.StartNs)
	})
	for _, i := range off[:min(len(off), max(0, maxRows-rows))] {
		show[i] = true
	}
	near := make([]int32, n) // nearest shown ancestor-or-self, -1 none
	for i := range l.Spans {
		switch p := l.Spans[i].Parent; {
		case show[i]:
			near[i] = int32(i)
		case p >= 0:
			near[i] = near[p]
		default:
			near[i] = -1
		}
		if !show[i] && near[i] >= 0 {
			hidden[near[i]]++
		}
	}
	return show, hidden
}
