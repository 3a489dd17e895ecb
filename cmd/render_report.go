package cmd

import (
	"bytes"
	"embed"
	"fmt"
	"hash/fnv"
	"html"
	"html/template"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"hopbudget/analyze"
	"hopbudget/budget"
	"hopbudget/tracefmt"
)

// The HTML report: html/template for the page (contextual escaping), charts
// as inline SVG written by hand below (every text through html.EscapeString),
// CSS and a little JavaScript inlined from reporthtml/. Nothing is fetched
// when the page opens, and the same input gives the same bytes: no clock,
// no map order, fixed number formats.

//go:embed reporthtml/report.html reporthtml/report.css reporthtml/report.js
var reportFiles embed.FS

var reportTemplate = template.Must(template.New("report.html").Funcs(template.FuncMap{
	// dict passes several values to a sub-template.
	"dict": func(kv ...any) map[string]any {
		m := map[string]any{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	},
}).ParseFS(reportFiles, "reporthtml/report.html"))

// reportInput is what reportRun computed; renderReport shows it.
type reportInput struct {
	Title   string
	Input   tracefmt.Summary
	Report  *analyze.Report
	Budget  *budget.Result // nil without --budget
	Mode    string
	Tail    *analyze.Profile   // the --percentile-band profile
	Heat    []*analyze.Profile // one per heatBands
	Picks   []analyze.ExemplarPick
	Layouts []*analyze.TraceLayout // per pick
	Top     int                    // hops charted (0 = all)
}

func renderReport(w io.Writer, in *reportInput) error {
	css, err := reportFiles.ReadFile("reporthtml/report.css")
	if err != nil {
		return err
	}
	js, err := reportFiles.ReadFile("reporthtml/report.js")
	if err != nil {
		return err
	}
	v := buildPage(in)
	v.CSS, v.JS = template.CSS(css), template.JS(js)
	var buf bytes.Buffer
	if err := reportTemplate.Execute(&buf, v); err != nil {
		return err
	}
	_, err = w.Write(buf.Bytes())
	return err
}

// ---- the page's view ----

type pageView struct {
	Title, Subtitle string
	CSS             template.CSS
	JS              template.JS
	Facts           []fact
	Files           []tracefmt.FileSummary
	MoreFiles       int
	AllFiles        int
	InputWarnings   []string
	Cleanup         string
	Budget          *budgetView
	HasBudget       bool
	Endpoints       []statRow
	Hops            []statRow
	HopsCharted     int
	Tail            tailView
	Exemplars       []wfView
	Candidates      []candView
	CandidatesMore  int
	Notes           []string
}

type fact struct{ Name, Value string }

type budgetView struct {
	File, Verdict string
	Passed        bool
	MinSamples    int
	Lines         []budgetLineView
	Warnings      []string
}

type budgetLineView struct {
	Status, StatusClass                  string
	Line                                 int
	Title, Pct, Target, Actual, Headroom string
	HeadroomUs                           int64
	Samples                              int
	Exemplar                             string
	Linked                               bool // the exemplar is drawn in section 4
	Detail                               []string
	TargetUs, ActualUs                   int64
}

// statRow is an endpoint or a hop: its figures, budget lines and charts.
type statRow struct {
	Name, From, To, Operation string
	Count                     int
	P50, P95, P99, Max        string
	P50Us, P95Us, P99Us       int64
	MaxUs                     int64
	Extra                     []string // hop: network, errors, critical path
	// Hops: calls per trace (over the traces making the call), the mean
	// shown and sorted on, p50, p99 and max below it.
	CallsMean           float64
	Calls, CallsDetail  string
	Budget              []string
	Status, StatusClass string
	Notes               string
	Exemplar            string
	Linked              bool
	Bars, Hist          template.HTML
}

type tailView struct {
	Band, Summary string
	Requests      int
	Icicle        template.HTML
	Omitted       int
	Bands         []heatBandView
	Rows          []heatRowView
}

type heatBandView struct {
	Label    string
	Requests int
	Mean     string
}

type heatRowView struct {
	Leaf, Path string
	Cells      []heatCellView
}

type heatCellView struct {
	Text, Title string
	Level       int
	Ns          int64
}

type wfView struct {
	Anchor, TraceID string
	Why             []string
	Root            string
	Duration        string
	Spans, Shown    int
	Hidden          int
	Roots           int
	Open            bool
	Ticks           []wfTick
	Rows            []wfRow
	Path, FanIn     string
	Cleanup         string
}

type wfTick struct {
	Pos   string
	Label string
}

type wfRow struct {
	Depth             int
	Name, Dur, Tip    string
	Colour            int
	OnPath, Err, Kids bool
	Bar               box
	Path, Waits, Clip []box
	Ghost             []box // before a clock-skew shift
	Notes             string
	Hidden            int
}

// box is a horizontal extent in percent of a waterfall's time axis.
type box struct{ L, W string }

type candView struct {
	Rank                             int
	Endpoint, Parent, Calls, Kind    string
	Evidence, EvidenceClass, Why     string
	Traces                           int
	SavingMean, SavingP50, SavingP99 string
	SavingP99Us                      int64
	Before, After                    string
	Chart                            template.HTML
	Exemplars                        []string
	OnPath                           string
}

func buildPage(in *reportInput) *pageView {
	r := in.Report
	sum := in.Input
	v := &pageView{Title: in.Title}
	if v.Title == "" {
		v.Title = "hopbudget report"
	}
	v.Subtitle = fmt.Sprintf("%s, %s from %s (%s); critical path: %s", plural(r.Counts.Traces, "trace"), plural(r.Counts.Spans, "span"),
		plural(len(sum.Files), "file"), sum.Format, in.Mode)
	v.Facts = []fact{
		{"Traces", fmt.Sprintf("%d read, %d analysed", sum.Traces, r.Counts.Traces)},
		{"Spans", fmt.Sprintf("%d kept of %d read, %d rejected", sum.Spans, sum.SpansRead, sum.RejectedSpans)},
	}
	if r.Counts.TracesFiltered > 0 {
		v.Facts = append(v.Facts, fact{"Left out", plural(r.Counts.TracesFiltered, "trace") + " by --endpoint"})
	}
	if sum.Spans > 0 {
		v.Facts = append(v.Facts, fact{"Time range", formatUs(sum.StartUs) + " → " + formatUs(sum.EndUs) +
			" (" + (time.Duration(sum.EndUs-sum.StartUs) * time.Microsecond).String() + ")"})
	}
	v.Facts = append(v.Facts, fact{"Services", strconv.Itoa(len(sum.Services))},
		fact{"Endpoints, hops", fmt.Sprintf("%d, %d", len(r.Endpoints), len(r.Hops))})
	const maxFiles = 20
	v.Files = sum.Files[:min(len(sum.Files), maxFiles)]
	v.MoreFiles, v.AllFiles = len(sum.Files)-len(v.Files), len(sum.Files)
	for _, wa := range sum.Warnings {
		v.InputWarnings = append(v.InputWarnings, fmt.Sprintf("%s ×%d, e.g. %s", wa.Kind, wa.Count, wa.Example))
	}
	var cl strings.Builder
	renderCleanup(&cl, r, false, func(string) {})
	v.Cleanup = strings.TrimSpace(cl.String())

	bx := newBudgetIndex(in.Budget)
	if in.Budget != nil {
		v.Budget, v.HasBudget = budgetSection(in.Budget), true
	}
	var fn notes
	for i := range r.Endpoints {
		e := &r.Endpoints[i]
		dur := bx.endpoint(e.Service, e.Operation)
		row := statRow{Name: endpointKey(e.Service, e.Operation), Count: e.Count, P50Us: e.P50Us, P95Us: e.P95Us, P99Us: e.P99Us,
			MaxUs: e.MaxUs, P50: fmtUs(e.P50Us), P95: fmtUs(e.P95Us), P99: fmtUs(e.P99Us), Max: fmtUs(e.MaxUs), Exemplar: e.Exemplars.P99,
			Notes: fn.mark(e.Service+" "+e.Operation, e.Warnings)}
		row.budget(dur) // layers are in the budget table
		name := "duration of " + row.Name
		row.Bars = pctChart(pctBars(e.P50Us, e.P95Us, e.P99Us, dur), name)
		row.Hist = histChart(histogram(e.Samples), e.P50Us, e.P95Us, e.P99Us, dur, "requests", name)
		v.Endpoints = append(v.Endpoints, row)
	}
	for k, h := range reportHops(r, bx) {
		lat, all := bx.hop(h)
		row := statRow{Name: hopKey(h), From: h.From, To: h.To, Operation: h.Operation, Count: h.Count,
			P50Us: h.P50Us, P95Us: h.P95Us, P99Us: h.P99Us, MaxUs: h.MaxUs, P50: fmtUs(h.P50Us), P95: fmtUs(h.P95Us),
			P99: fmtUs(h.P99Us), Max: fmtUs(h.MaxUs), Exemplar: h.Exemplars.P99,
			Notes: fn.mark(h.From+" → "+h.To+" "+h.Operation, h.Warnings)}
		net := "network –"
		if h.NetworkCount > 0 {
			net = "network p50 " + fmtUs(h.NetworkP50Us) + ", p99 " + fmtUs(h.NetworkP99Us)
		}
		c := h.CallsPerTrace
		row.CallsMean, row.Calls = c.Mean, fmt.Sprintf("%.1f", c.Mean)
		row.CallsDetail = fmt.Sprintf("p50 %d, p99 %d, max %d", c.P50, c.P99, c.Max)
		row.Extra = []string{net, "errors " + pct(h.ErrorRate),
			"critical path mean " + fmtUs(h.CriticalPathMeanUs) + ", p99 " + fmtUs(h.CriticalPathP99Us) + ", on the path in " + pct(h.OnPathFraction) + " of traces"}
		row.budget(all)
		if in.Top == 0 || k < in.Top {
			name := "latency of " + row.Name
			row.Bars = pctChart(pctBars(h.P50Us, h.P95Us, h.P99Us, lat), name)
			row.Hist = histChart(histogram(h.Samples), h.P50Us, h.P95Us, h.P99Us, lat, "calls", name)
			v.HopsCharted++
		}
		v.Hops = append(v.Hops, row)
	}
	v.Tail = tailSection(in.Tail, in.Heat)
	for i, p := range in.Picks {
		if l := in.Layouts[i]; l != nil {
			v.Exemplars = append(v.Exemplars, waterfallView(l, p, i < 2))
		}
	}
	drawn := map[string]bool{}
	for _, e := range v.Exemplars {
		drawn[e.TraceID] = true
	}
	if v.Budget != nil {
		for i := range v.Budget.Lines {
			v.Budget.Lines[i].Linked = drawn[v.Budget.Lines[i].Exemplar]
		}
	}
	for _, rows := range [][]statRow{v.Endpoints, v.Hops} {
		for i := range rows {
			rows[i].Linked = drawn[rows[i].Exemplar]
		}
	}
	const maxCandidates = 50
	for i := range r.Parallelizable {
		if i == maxCandidates {
			v.CandidatesMore = len(r.Parallelizable) - maxCandidates
			break
		}
		v.Candidates = append(v.Candidates, candidateView(i+1, &r.Parallelizable[i]))
	}
	for i, l := range fn.lines {
		v.Notes = append(v.Notes, fmt.Sprintf("[%d] %s", i+1, l))
	}
	return v
}

// budget fills a row's budget column: each line's target and verdict,
// briefly (the budget table in section 1 has the whole of each line).
func (row *statRow) budget(lines []*budget.LineResult) {
	for _, l := range lines {
		s := l.Percentile + " ≤ " + fmtUs(l.TargetUs)
		switch {
		case l.Kind == budget.KindSlowRequests:
			s = "slow requests: " + s
		case l.On != "duration" && l.On != string(budget.Latency):
			s = l.On + " " + s
		}
		row.Budget = append(row.Budget, fmt.Sprintf("%s %s (%s), line %d", statusText(l.Status), s, optUs(l.ActualUs), l.Line))
	}
	if s := worst(lines); s != "" {
		row.Status, row.StatusClass = statusText(s), statusClass(s)
	}
}

func statusText(s budget.Status) string {
	switch s {
	case budget.StatusOver:
		return "OVER"
	case budget.StatusNoData:
		return "no data"
	case budget.StatusNoMatch:
		return "no match"
	}
	return "ok"
}

func statusClass(s budget.Status) string {
	switch s {
	case budget.StatusOver:
		return "over"
	case budget.StatusNoData, budget.StatusNoMatch:
		return "nodata"
	case budget.StatusOK:
		return "ok"
	}
	return ""
}

func budgetSection(r *budget.Result) *budgetView {
	bv := &budgetView{File: r.File, Verdict: checkSummary(r), Passed: r.Passed, MinSamples: r.MinSamples}
	for i := range r.Lines {
		l := &r.Lines[i]
		lv := budgetLineView{Status: statusText(l.Status), StatusClass: statusClass(l.Status), Line: l.Line, Title: l.Title,
			Pct: l.Percentile, Target: fmtUs(l.TargetUs), Actual: optUs(l.ActualUs), Headroom: headroomText(l),
			Samples: l.Samples, TargetUs: l.TargetUs}
		if l.ActualUs != nil {
			lv.ActualUs = *l.ActualUs
		}
		if l.HeadroomUs != nil {
			lv.HeadroomUs = *l.HeadroomUs
		}
		if l.Status == budget.StatusOver {
			lv.Exemplar = l.Exemplar
		}
		lv.Detail = append(lv.Detail, lineDetails(l)...)
		if len(l.Culprits) > 0 {
			lv.Detail = append(lv.Detail, culpritsIntro(l))
			for _, c := range l.Culprits {
				lv.Detail = append(lv.Detail, "• "+culpritText(c))
			}
		}
		bv.Lines = append(bv.Lines, lv)
	}
	for _, wa := range r.Warnings {
		bv.Warnings = append(bv.Warnings, fmt.Sprintf("%s:%d: %s", r.File, wa.Line, wa.Message))
	}
	return bv
}

func tailSection(tail *analyze.Profile, heat []*analyze.Profile) tailView {
	m := analyze.NewIcicle(tail, flameMaxDepth, flameMaxNodes, flameMinShare)
	tv := tailView{Band: tail.Band.String(), Requests: tail.Traces, Icicle: icicleChart(tail, m), Omitted: m.Omitted}
	if tail.Traces > 0 {
		tv.Summary = fmt.Sprintf("%s in the band (%s of each endpoint's requests by duration), %s of critical path per request",
			plural(tail.Traces, "request"), tail.Band, fmtUs(m.TotalNs/int64(tail.Traces)/1000))
	}
	hm := analyze.NewHeatmap(tail, heat, heatRowsMax)
	for _, p := range hm.Bands {
		b := heatBandView{Label: p.Band.String(), Requests: p.Traces}
		if p.Traces > 0 {
			b.Mean = fmtUs(p.TotalNs[analyze.SampleCriticalPath] / int64(p.Traces) / 1000)
		}
		tv.Bands = append(tv.Bands, b)
	}
	for _, row := range hm.Rows {
		names := make([]string, len(row.Path))
		for i, f := range row.Path {
			names[i] = f.Name()
		}
		rv := heatRowView{Leaf: names[len(names)-1], Path: pathText(names)}
		for b, c := range row.Cells {
			text := fmtUs(c.MeanNs / 1000)
			if c.Ns == 0 {
				text = "–"
			}
			rv.Cells = append(rv.Cells, heatCellView{Text: text, Level: heatLevel(c.Share), Ns: c.Ns,
				Title: fmt.Sprintf("%s per request in %s (%s of its critical path)", fmtUs(c.MeanNs/1000), hm.Bands[b].Band, pctText(c.Share))})
		}
		tv.Rows = append(tv.Rows, rv)
	}
	return tv
}

// pathText is a call path, root first; long ones keep both ends.
func pathText(frames []string) string {
	if len(frames) > 6 {
		frames = append(append(frames[:2:2], "…"), frames[len(frames)-3:]...)
	}
	return strings.Join(frames, " → ")
}

func candidateView(rank int, c *analyze.Candidate) candView {
	var calls []string
	for _, x := range c.Calls {
		calls = append(calls, strings.TrimSpace(x.To+" "+x.Operation))
	}
	cv := candView{Rank: rank, Endpoint: endpointKey(c.Endpoint.Service, c.Endpoint.Operation), Parent: endpointKey(c.Service, c.Operation),
		Evidence: c.Evidence, EvidenceClass: strings.ReplaceAll(c.Evidence, " ", "-"), Why: c.Why, Traces: c.Traces,
		SavingP50: fmtUs(c.SavingP50Us), SavingP99: fmtUs(c.SavingP99Us), SavingP99Us: c.SavingP99Us,
		Before: fmtUs(c.P99BeforeUs), After: fmtUs(c.P99AfterUs), Exemplars: c.Exemplars, OnPath: pct(c.OnPathFraction)}
	if c.Kind == analyze.KindBatch {
		cv.Calls = fmt.Sprintf("%s × up to %d in a row (median %d)", calls[0], c.RunLengthMax, c.RunLengthP50)
	} else {
		cv.Calls = strings.Join(calls, " ∥ ")
	}
	cv.Chart = beforeAfterChart(c.P99BeforeUs, c.P99AfterUs, cv.Endpoint)
	return cv
}

// ---- waterfalls ----

func waterfallView(l *analyze.TraceLayout, p analyze.ExemplarPick, open bool) wfView {
	d := &l.Detail
	v := wfView{Anchor: "trace-" + d.TraceID, TraceID: d.TraceID, Why: p.Why, Root: endpointKey(d.RootService, d.RootOperation),
		Duration: fmtUs(d.DurationUs), Spans: len(l.Spans), Roots: d.Roots, Open: open}
	x := indexLayout(l)
	show, hidden := wfVisible(l, wfMaxRows)
	t0, span := l.StartNs, float64(max(1, l.EndNs-l.StartNs))
	at := func(from, to int64) box {
		left := float64(from-t0) / span * 100
		return box{L: num(left), W: num(max(0.2, float64(to-from)/span*100))}
	}
	for k := 0; k <= 4; k++ {
		v.Ticks = append(v.Ticks, wfTick{Pos: num(float64(k) * 25), Label: fmtUs(int64(float64(k)/4*span) / 1000)})
	}
	for i := range l.Spans {
		s := &l.Spans[i]
		if !show[i] {
			continue
		}
		v.Shown++
		row := wfRow{Depth: int(s.Depth), Name: spanName(s.Span), Dur: fmtUs((s.EndNs - s.StartNs) / 1000),
			Colour: serviceColour(s.Span.Service), OnPath: s.SubtreeCriticalNs > 0, Err: s.Span.Status == tracefmt.StatusError,
			Bar: at(s.StartNs, s.EndNs), Hidden: hidden[i]}
		// Kids: a shown child follows (tree order), so the row can fold.
		row.Kids = i+1 < len(l.Spans) && l.Spans[i+1].Parent == int32(i) && show[i+1]
		for _, sg := range x.segs[int32(i)] {
			row.Path = append(row.Path, at(sg.StartNs, sg.EndNs))
		}
		for _, g := range x.waits[int32(i)] {
			if from, to := waitSpan(s, g); from < to {
				row.Waits = append(row.Waits, at(from, to))
			}
		}
		switch {
		case s.OutsideParent:
			row.Clip = append(row.Clip, at(s.StartNs, s.EndNs))
		case s.Clipped:
			if s.ClipStartNs > s.StartNs {
				row.Clip = append(row.Clip, at(s.StartNs, s.ClipStartNs))
			}
			if s.ClipEndNs < s.EndNs {
				row.Clip = append(row.Clip, at(s.ClipEndNs, s.EndNs))
			}
		}
		if ownShift(l, int32(i)) { // where the span was before the shift
			from, to := max(s.Span.Start, t0), min(s.Span.End, l.EndNs)
			if from < to {
				row.Ghost = append(row.Ghost, at(from, to))
			}
		}
		nts := spanNotes(l, x, int32(i), false)
		if hidden[i] > 0 {
			nts = append(nts, fmt.Sprintf("+%s not shown", plural(hidden[i], "span")))
		}
		row.Notes = strings.Join(nts, "; ")
		tip := fmt.Sprintf("%s\nstart +%s, %s", row.Name, fmtUs((s.StartNs-t0)/1000), row.Dur)
		if s.CriticalNs > 0 {
			tip += ", owns " + fmtUs(s.CriticalNs/1000) + " of the critical path"
		}
		row.Tip = tip + "\nspan " + s.Span.SpanID.String()
		v.Rows = append(v.Rows, row)
	}
	v.Hidden = len(l.Spans) - v.Shown
	v.Path = fmt.Sprintf("critical path: %s over %s", fmtUs(l.CriticalPathNs/1000), plural(l.CriticalPathSpans, "span"))
	if len(l.FanIn) > 0 {
		v.FanIn = fmt.Sprintf("fan-in: %s, %s waiting in all", plural(len(l.FanIn), "group"), fmtUs(l.FanInWaitNs/1000))
	}
	if len(l.Warnings) > 0 {
		var parts []string
		for _, rc := range l.WarningRules() {
			parts = append(parts, fmt.Sprintf("%s ×%d", rc.Rule, rc.Count))
		}
		v.Cleanup = "clean-up: " + strings.Join(parts, ", ")
	}
	return v
}

// ---- SVG ----

// num formats a coordinate: one decimal at most, no "-0".
func num(x float64) string {
	x = math.Round(x*10) / 10
	if x == 0 {
		x = 0
	}
	return strconv.FormatFloat(x, 'f', -1, 64)
}

var esc = html.EscapeString

// serviceColour picks one of the palette's 10 colours by service name, so a
// service keeps its colour in every chart of the report.
func serviceColour(service string) int {
	h := fnv.New32a()
	h.Write([]byte(service))
	return int(h.Sum32() % 10)
}

// svgOpen starts an SVG with its accessible name and title.
func svgOpen(b *strings.Builder, class string, w, h float64, title string) {
	fmt.Fprintf(b, `<svg class="%s" viewBox="0 0 %s %s" width="%s" height="%s" role="img" aria-label="%s"><title>%s</title>`,
		class, num(w), num(h), num(w), num(h), esc(title), esc(title))
}

func pctClass(label string) string {
	switch label {
	case "p50":
		return "b50"
	case "p95":
		return "b95"
	case "p99":
		return "b99"
	}
	return "bx"
}

// pctChart draws the bars of pctBars: one per percentile on a linear
// scale from 0, a budget line as a tick, the overspend in red.
func pctChart(bars []pctBar, what string) template.HTML {
	const w, lab, rowH, barH = 250.0, 30.0, 10.0, 7.0
	h := rowH*float64(len(bars)) + 2
	var scale int64 = 1
	var parts []string
	for _, b := range bars {
		scale = max(scale, b.ValueUs, b.TargetUs)
		s := b.Label + " " + fmtUs(b.ValueUs)
		if b.TargetUs > 0 {
			if b.Over() {
				s += fmt.Sprintf(", over its %s target by %s", fmtUs(b.TargetUs), fmtUs(b.ValueUs-b.TargetUs))
			} else {
				s += fmt.Sprintf(" (target %s, %s)", fmtUs(b.TargetUs), statusText(b.Status))
			}
		}
		parts = append(parts, s)
	}
	x := func(us int64) float64 { return lab + (w-lab-4)*float64(us)/(float64(scale)*1.05) }
	var sb strings.Builder
	svgOpen(&sb, "pct", w, h, strings.ToUpper(what[:1])+what[1:]+": "+strings.Join(parts, "; "))
	for i, b := range bars {
		y := 1 + rowH*float64(i)
		fmt.Fprintf(&sb, `<text x="0" y="%s" class="lb">%s</text>`, num(y+barH-0.5), esc(b.Label))
		fmt.Fprintf(&sb, `<rect x="%s" y="%s" width="%s" height="%s" class="%s"/>`, num(lab), num(y), num(x(b.ValueUs)-lab), num(barH), pctClass(b.Label))
		if b.TargetUs > 0 {
			if b.Over() {
				fmt.Fprintf(&sb, `<rect x="%s" y="%s" width="%s" height="%s" class="ov"/>`, num(x(b.TargetUs)), num(y), num(x(b.ValueUs)-x(b.TargetUs)), num(barH))
			}
			fmt.Fprintf(&sb, `<line x1="%s" x2="%s" y1="%s" y2="%s" class="tg"/>`, num(x(b.TargetUs)), num(x(b.TargetUs)), num(y-1), num(y+barH+1))
		}
	}
	sb.WriteString(`</svg>`)
	return template.HTML(sb.String())
}

// histChart draws a histModel on its log axis, with the p50/p95/p99
// markers and the budget targets on latency.
func histChart(hm histModel, p50, p95, p99 int64, lines []*budget.LineResult, unit, what string) template.HTML {
	if hm.N == 0 || len(hm.Bins) == 0 {
		return ""
	}
	const w, plotH, h = 250.0, 40.0, 56.0
	lo, hi := math.Log10(float64(hm.Bins[0].LoNs)), math.Log10(float64(hm.Bins[len(hm.Bins)-1].HiNs))
	x := func(ns float64) float64 { return (math.Log10(max(ns, 1)) - lo) / (hi - lo) * w }
	most := 0
	mode := hm.Bins[0]
	for _, b := range hm.Bins {
		if b.Count > most {
			most, mode = b.Count, b
		}
	}
	title := fmt.Sprintf("Distribution of the %s of %s (log axis, %s to %s): p50 %s, p95 %s, p99 %s; most in %s–%s (%d)",
		what, plural(hm.N, strings.TrimSuffix(unit, "s")), fmtUs(hm.Bins[0].LoNs/1000), fmtUs(hm.Bins[len(hm.Bins)-1].HiNs/1000),
		fmtUs(p50), fmtUs(p95), fmtUs(p99), fmtUs(mode.LoNs/1000), fmtUs(mode.HiNs/1000), mode.Count)
	var sb strings.Builder
	svgOpen(&sb, "hist", w, h, title)
	// The bins as one path: a bar per bin, heights linear in the count.
	var d strings.Builder
	for _, b := range hm.Bins {
		if b.Count == 0 {
			continue
		}
		x0, x1 := x(float64(b.LoNs)), x(float64(b.HiNs))
		y := plotH - plotH*float64(b.Count)/float64(most)
		fmt.Fprintf(&d, "M%s %sV%sH%sV%sZ", num(x0), num(plotH), num(y), num(max(x0+0.6, x1-0.4)), num(plotH))
	}
	fmt.Fprintf(&sb, `<path d="%s" class="bins"/>`, d.String())
	fmt.Fprintf(&sb, `<line x1="0" x2="%s" y1="%s" y2="%s" class="ax"/>`, num(w), num(plotH), num(plotH))
	// Ticks at 1, 10, 100… (and 2, 5 between them on a short axis) as
	// the log axis' scale.
	steps := []float64{1}
	if hi-lo < 2 {
		steps = []float64{1, 2, 5}
	}
	// A label is drawn only clear of the one before it ("50.0ms100.0ms"
	// otherwise): tickCharW is a generous width of a 9.5px digit.
	const tickCharW, tickGap = 5.8, 4.0
	lastRight := math.Inf(-1)
	for e := math.Floor(lo); e <= hi; e++ {
		for _, m := range steps {
			v := m * math.Pow(10, e)
			if math.Log10(v) < lo || math.Log10(v) > hi {
				continue
			}
			xe := x(v)
			fmt.Fprintf(&sb, `<line x1="%s" x2="%s" y1="%s" y2="%s" class="ax"/>`, num(xe), num(xe), num(plotH), num(plotH+3))
			label := fmtUs(int64(v) / 1000)
			lw := tickCharW * float64(utf8.RuneCountInString(label))
			anchor, left := "middle", xe-lw/2
			if xe < 14 {
				anchor, left = "start", xe
			} else if xe > w-14 {
				anchor, left = "end", xe-lw
			}
			if left < lastRight+tickGap {
				continue
			}
			lastRight = left + lw
			fmt.Fprintf(&sb, `<text x="%s" y="%s" text-anchor="%s" class="tk">%s</text>`, num(xe), num(h-2), anchor, esc(label))
		}
	}
	for _, m := range []struct {
		us    int64
		class string
	}{{p50, "m50"}, {p95, "m95"}, {p99, "m99"}} {
		xm := x(float64(m.us * 1000))
		fmt.Fprintf(&sb, `<line x1="%s" x2="%s" y1="0" y2="%s" class="%s"/>`, num(xm), num(xm), num(plotH), m.class)
	}
	for _, l := range lines {
		xt := x(float64(l.TargetUs * 1000))
		if xt >= 0 && xt <= w {
			fmt.Fprintf(&sb, `<line x1="%s" x2="%s" y1="0" y2="%s" class="tg"/>`, num(xt), num(xt), num(plotH))
		}
	}
	sb.WriteString(`</svg>`)
	return template.HTML(sb.String())
}

// icicleChart draws the icicle: the top box is every kept request, below
// it each call path's box as wide as its critical-path time.
func icicleChart(p *analyze.Profile, m analyze.Icicle) template.HTML {
	const w, rowH = 1000.0, 20.0
	if m.TotalNs == 0 {
		return ""
	}
	h := rowH * float64(m.MaxDepth+1)
	per := func(ns int64) string { return fmtUs(ns / int64(max(1, m.Requests)) / 1000) }
	var sb strings.Builder
	svgOpen(&sb, "icicle", w, h, fmt.Sprintf("Icicle of the critical path of %s (%s of each endpoint): %s per request; each box is a call path, as wide as its share of the critical path",
		plural(m.Requests, "request"), p.Band, per(m.TotalNs)))
	var path []int32
	for _, n := range m.Boxes {
		x := float64(n.OffsetNs) / float64(m.TotalNs) * w
		bw := float64(n.TotalNs) / float64(m.TotalNs) * w
		y := float64(n.Depth) * rowH
		label, colour, tip := "all requests", -1, ""
		if n.Stack >= 0 {
			path = p.Path(int(n.Stack), path)
			names := make([]string, len(path))
			for i, f := range path {
				names[i] = p.Frames[f].Name()
			}
			label = names[len(names)-1]
			colour = serviceColour(p.Frames[path[len(path)-1]].Service)
			tip = fmt.Sprintf("%s\n%s per request (%s of the tail's critical path); %s in the span itself",
				pathText(names), per(n.TotalNs), pctText(float64(n.TotalNs)/float64(m.TotalNs)), per(n.SelfNs))
		} else {
			tip = fmt.Sprintf("all %s in %s: %s of critical path per request", plural(m.Requests, "request"), p.Band, per(n.TotalNs))
		}
		class := "c" + strconv.Itoa(colour)
		if colour < 0 {
			class = "call"
		}
		fmt.Fprintf(&sb, `<g><title>%s</title><rect x="%s" y="%s" width="%s" height="%s" class="%s"/>`,
			esc(tip), num(x), num(y), num(max(0.5, bw-0.5)), num(rowH-1), class)
		if chars := int((bw - 6) / 6.6); chars >= 3 {
			fmt.Fprintf(&sb, `<text x="%s" y="%s">%s</text>`, num(x+3), num(y+14), esc(truncate(label, chars, false)))
		}
		sb.WriteString(`</g>`)
	}
	sb.WriteString(`</svg>`)
	return template.HTML(sb.String())
}

// beforeAfterChart draws an endpoint's p99 before and after a candidate.
func beforeAfterChart(before, after int64, endpoint string) template.HTML {
	const w, h = 160.0, 18.0
	scale := float64(max(1, before, after))
	var sb strings.Builder
	svgOpen(&sb, "ba", w, h, fmt.Sprintf("p99 of %s: %s before, %s after", endpoint, fmtUs(before), fmtUs(after)))
	fmt.Fprintf(&sb, `<rect x="0" y="1" width="%s" height="7" class="before"/>`, num(w*float64(before)/scale))
	fmt.Fprintf(&sb, `<rect x="0" y="10" width="%s" height="7" class="after"/>`, num(w*float64(after)/scale))
	sb.WriteString(`</svg>`)
	return template.HTML(sb.String())
}
