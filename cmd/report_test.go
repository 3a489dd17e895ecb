package cmd

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"hopbudget/analyze"
	"hopbudget/budget"
	"hopbudget/tracefmt"
)

func demoReportInput(t *testing.T) *reportInput {
	t.Helper()
	opts := &ReportOptions{Output: "-", Band: "p95-p100", Top: 30, Exemplars: 3, MinSamples: budget.DefaultMinSamples,
		Budget: "testdata/budget/demo.yaml", Paths: []string{"testdata/demo"}}
	opts.CriticalPath, opts.SkewAdjust = "default", true
	s := &Streams{In: strings.NewReader(""), Out: &bytes.Buffer{}, Err: &bytes.Buffer{}}
	in, err := computeReport(context.Background(), s, opts)
	if err != nil {
		t.Fatal(err)
	}
	return in
}

// The bars draw the figures analyze and check print: p50/p95/p99 from
// `analyze -o json`, every budget line on a latency or duration with the
// target, actual value and verdict of `check -o json`.
func TestReportBarsAreCheckNumbers(t *testing.T) {
	in := demoReportInput(t)
	out, _, code := run(t, "", "analyze", "-o", "json", "testdata/demo")
	if code != ExitOK {
		t.Fatal(code)
	}
	var an struct {
		Endpoints []analyze.Endpoint `json:"endpoints"`
		Hops      []analyze.Hop      `json:"hops"`
	}
	if err := json.Unmarshal([]byte(out), &an); err != nil {
		t.Fatal(err)
	}
	out, _, code = run(t, "", "check", "-o", "json", "--budget", "testdata/budget/demo.yaml", "testdata/demo")
	if code != ExitBudgetExceeded {
		t.Fatalf("check exit %d", code)
	}
	var ck struct {
		Results []budget.LineResult `json:"results"`
	}
	if err := json.Unmarshal([]byte(out), &ck); err != nil {
		t.Fatal(err)
	}
	type lineKey struct {
		line        int
		match, pctl string
	}
	drawn := map[lineKey]pctBar{}
	bx := newBudgetIndex(in.Budget)
	check := func(name string, p50, p95, p99 int64, bars []pctBar, want [3]int64) {
		if got := [3]int64{p50, p95, p99}; got != want {
			t.Errorf("%s: p50/p95/p99 %v, analyze -o json %v", name, got, want)
		}
		for i, b := range bars[:3] {
			if b.ValueUs != want[i] {
				t.Errorf("%s: bar %s draws %d µs, analyze says %d", name, b.Label, b.ValueUs, want[i])
			}
		}
		for _, b := range bars {
			if b.TargetUs > 0 {
				drawn[lineKey{b.Line, name, b.Label}] = b
			}
		}
	}
	for i, e := range in.Report.Endpoints {
		w := an.Endpoints[i]
		check(endpointKey(e.Service, e.Operation), e.P50Us, e.P95Us, e.P99Us,
			pctBars(e.P50Us, e.P95Us, e.P99Us, bx.endpoint(e.Service, e.Operation)), [3]int64{w.P50Us, w.P95Us, w.P99Us})
	}
	for i := range in.Report.Hops {
		h := &in.Report.Hops[i]
		lat, _ := bx.hop(h)
		w := an.Hops[i]
		check(hopKey(h), h.P50Us, h.P95Us, h.P99Us, pctBars(h.P50Us, h.P95Us, h.P99Us, lat), [3]int64{w.P50Us, w.P95Us, w.P99Us})
	}
	n := 0
	for _, l := range ck.Results {
		if l.On != "duration" && l.On != "latency" {
			continue
		}
		n++
		b, ok := drawn[lineKey{l.Line, l.Match, l.Percentile}]
		switch {
		case !ok:
			t.Errorf("check line %d (%s %s) is drawn on no bar", l.Line, l.Match, l.Percentile)
		case b.TargetUs != l.TargetUs || b.Status != l.Status || l.ActualUs == nil || b.ValueUs != *l.ActualUs:
			t.Errorf("line %d: bar %+v, check target %d actual %s %s", l.Line, b, l.TargetUs, optUs(l.ActualUs), l.Status)
		}
	}
	if n == 0 || len(drawn) != n {
		t.Errorf("%d bars with a target, %d check lines on latency or duration", len(drawn), n)
	}
}

// The histograms count every sample once; the icicle and heatmap add up
// to the profiles' totals; the exemplars are the report's.
func TestReportModels(t *testing.T) {
	in := demoReportInput(t)
	r := in.Report
	for i := range r.Hops {
		h := &r.Hops[i]
		hm := histogram(h.Samples)
		sum := 0
		for k, b := range hm.Bins {
			sum += b.Count
			if k > 0 && b.LoNs != hm.Bins[k-1].HiNs {
				t.Fatalf("%s: bins not contiguous", hopKey(h))
			}
		}
		last := hm.Bins[len(hm.Bins)-1]
		if sum != h.Count || hm.N != h.Count || last.HiNs <= h.Samples[h.Count-1] || hm.Bins[0].LoNs > max(h.Samples[0], 1000) {
			t.Errorf("%s: %d counted of %d; bins %d-%d ns for samples %d-%d", hopKey(h), sum, h.Count,
				hm.Bins[0].LoNs, last.HiNs, h.Samples[0], h.Samples[h.Count-1])
		}
	}

	// Icicle: the top box is the profile's total; every box holds its own
	// stack's time and its children's.
	m := analyze.NewIcicle(in.Tail, flameMaxDepth, flameMaxNodes, flameMinShare)
	if m.Boxes[0].TotalNs != in.Tail.TotalNs[analyze.SampleCriticalPath] || m.Requests != in.Tail.Traces || m.Requests == 0 {
		t.Errorf("icicle total %d ns for %d requests, profile %d ns, %d traces", m.Boxes[0].TotalNs, m.Requests,
			in.Tail.TotalNs[analyze.SampleCriticalPath], in.Tail.Traces)
	}
	pathName := func(p *analyze.Profile, i int) string {
		var names []string
		for _, f := range p.Path(i, nil) {
			names = append(names, p.Frames[f].Name())
		}
		return strings.Join(names, ";")
	}
	self := map[string]int64{}
	for i, st := range in.Tail.Stacks {
		self[pathName(in.Tail, i)] = st.Ns[analyze.SampleCriticalPath]
	}
	kids := map[int]int64{}
	var stack []int // open boxes by depth
	for i, n := range m.Boxes {
		if n.Depth > 0 {
			name := pathName(in.Tail, int(n.Stack))
			if got, want := n.SelfNs, self[name]; got != want || strings.Count(name, ";") != n.Depth-1 {
				t.Errorf("box %s at depth %d: self %d, profile stack %d", name, n.Depth, got, want)
			}
			stack = stack[:n.Depth]
			kids[stack[n.Depth-1]] += n.TotalNs
			if p := m.Boxes[stack[n.Depth-1]]; n.OffsetNs < p.OffsetNs || n.OffsetNs+n.TotalNs > p.OffsetNs+p.TotalNs {
				t.Errorf("box %s outside its parent", name)
			}
		}
		stack = append(stack[:n.Depth], i)
	}
	for i, n := range m.Boxes {
		if kids[i]+n.SelfNs > n.TotalNs {
			t.Errorf("box %d: children %d + self %d > total %d", i, kids[i], n.SelfNs, n.TotalNs)
		}
	}

	// Heatmap: each cell is the band profile's stack, per request.
	hm := analyze.NewHeatmap(in.Tail, in.Heat, heatRowsMax)
	if len(hm.Rows) == 0 || len(hm.Bands) != len(heatBands) {
		t.Fatalf("heatmap %d rows, %d bands", len(hm.Rows), len(hm.Bands))
	}
	for b, p := range in.Heat {
		if p.Band != heatBands[b] {
			t.Errorf("band %d is %s", b, p.Band)
		}
		byPath := map[string]int64{}
		for i, st := range p.Stacks {
			byPath[pathName(p, i)] = st.Ns[analyze.SampleCriticalPath]
		}
		for _, row := range hm.Rows {
			c := row.Cells[b]
			var names []string
			for _, f := range row.Path {
				names = append(names, f.Name())
			}
			if want := byPath[strings.Join(names, ";")]; c.Ns != want || c.MeanNs != want/int64(max(1, p.Traces)) {
				t.Errorf("%s in %s: %d ns (mean %d), profile %d over %d requests", names, p.Band, c.Ns, c.MeanNs, want, p.Traces)
			}
		}
	}

	// Exemplars: the slowest requests first, then the endpoints' own.
	slowest := slices.MaxFunc(r.TraceRows, func(a, b analyze.TraceRow) int { return int(a.DurationNs - b.DurationNs) })
	if in.Picks[0].TraceID != slowest.ID.String() {
		t.Errorf("first exemplar %s, slowest trace %s", in.Picks[0].TraceID, slowest.ID)
	}
	ids := map[string]bool{}
	for i, p := range in.Picks {
		ids[p.TraceID] = true
		if in.Layouts[i] == nil || in.Layouts[i].Detail.TraceID != p.TraceID {
			t.Errorf("exemplar %s has no layout", p.TraceID)
		}
	}
	for _, e := range r.Endpoints {
		for _, id := range []string{e.Exemplars.P50, e.Exemplars.P95, e.Exemplars.P99} {
			if !ids[id] {
				t.Errorf("%s %s: exemplar %s not drawn", e.Service, e.Operation, id)
			}
		}
	}
}

// A trace of 12,000 spans: its waterfall keeps the critical path and the
// longest of the rest within the row limit, and counts what it leaves out.
func TestWaterfallCollapse(t *testing.T) {
	tr := bigTrace(12_000)
	l := analyze.Layout(&tr, analyze.DefaultOptions())
	show, hidden := wfVisible(l, wfMaxRows)
	shown, path := 0, 0
	sumHidden := 0
	for i, s := range l.Spans {
		if show[i] {
			shown++
		}
		if s.SubtreeCriticalNs > 0 {
			path++
			if !show[i] {
				t.Errorf("span %d on the critical path not shown", i)
			}
		}
		sumHidden += hidden[i]
	}
	if shown != wfMaxRows || sumHidden != len(l.Spans)-shown || path == 0 {
		t.Errorf("%d rows shown (limit %d), %d counted hidden of %d not shown; %d on the path", shown, wfMaxRows, sumHidden, len(l.Spans)-shown, path)
	}
	v := waterfallView(l, analyze.ExemplarPick{TraceID: l.Detail.TraceID, Why: []string{"test"}}, true)
	if len(v.Rows) != wfMaxRows || v.Hidden != len(l.Spans)-wfMaxRows {
		t.Errorf("view: %d rows, %d hidden", len(v.Rows), v.Hidden)
	}
}

// bigTrace: a root calling a 30-deep chain (the slow part, on the critical
// path) and, in parallel, n−31 short calls in another service.
func bigTrace(n int) tracefmt.Trace {
	tid := tracefmt.TraceID{15: 1}
	sid := func(i int) tracefmt.SpanID { return tracefmt.SpanID{6: byte(i >> 8), 7: byte(i), 0: 1} }
	attrs := &tracefmt.Attrs{}
	tr := tracefmt.Trace{ID: tid}
	add := func(i, parent int, start, end int64, svc string) {
		s := &tracefmt.Span{TraceID: tid, SpanID: sid(i), Start: start, End: end, Service: svc, Operation: "op", Attrs: attrs}
		if parent >= 0 {
			s.Parent = sid(parent)
		}
		tr.Spans = append(tr.Spans, s)
	}
	const ms = int64(1e6)
	add(0, -1, 0, 1000*ms, "root")
	for i := 1; i <= 30; i++ {
		add(i, i-1, int64(i)*ms, 1000*ms-int64(i)*ms, "chain")
	}
	for i := 31; i < n; i++ {
		st := int64(i%500) * ms
		add(i, 0, st, st+int64(1+i%7)*ms, "leaf")
	}
	return tr
}

// The report is one file that fetches nothing, and the same input gives
// the same bytes whatever the number of workers.
func TestReportSelfContained(t *testing.T) {
	dir := t.TempDir()
	var pages [][]byte
	for _, workers := range []string{"1", "3"} {
		file := filepath.Join(dir, "report-"+workers+".html")
		_, stderr, code := run(t, "", "report", "--workers", workers, "--budget", "testdata/budget/demo.yaml", "-o", file, "testdata/demo")
		if code != ExitOK {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, b)
	}
	if !bytes.Equal(pages[0], pages[1]) {
		t.Error("the report depends on the number of workers")
	}
	checkSelfContained(t, pages[0], 600<<10)
	for _, id := range []string{`id="summary"`, `id="hops"`, `id="tail"`, `id="exemplars"`, `id="parallel"`, `class="icicle"`, `class="hist"`, `table class="wf"`} {
		if !bytes.Contains(pages[0], []byte(id)) {
			t.Errorf("no %s in the report", id)
		}
	}
}

var external = regexp.MustCompile(`(?i)https?://|\b(?:src|href|xlink:href|action)\s*=\s*["']?[^"'#\s>]|url\(\s*["']?[^"'#)\s]|@import`)

// checkSelfContained fails on anything that could make the page fetch: a
// URL, a src or href not to an anchor of the page, a CSS url() or @import.
func checkSelfContained(t *testing.T, page []byte, maxBytes int) {
	t.Helper()
	if loc := external.FindIndex(page); loc != nil {
		t.Errorf("external reference: %q", page[max(0, loc[0]-40):min(len(page), loc[1]+40)])
	}
	if len(page) > maxBytes {
		t.Errorf("report is %d bytes, want at most %d", len(page), maxBytes)
	}
	if !bytes.Contains(page, []byte(`Content-Security-Policy" content="default-src 'none'`)) {
		t.Error("no Content-Security-Policy forbidding fetches")
	}
}

// A 12,000-span trace among small ones: the page stays small.
func TestReportLargeTrace(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "big.otlp.json")
	writeOTLPJSON(t, bigTrace(12_000), in)
	out := filepath.Join(dir, "big.html")
	if _, stderr, code := run(t, "", "report", "-o", out, in, "testdata/demo"); code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	page, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	checkSelfContained(t, page, 1<<20)
	if !bytes.Contains(page, []byte("11,700 spans not shown")) && !bytes.Contains(page, []byte("300 of 12000 spans shown")) {
		t.Error("the large trace's waterfall does not say what it left out")
	}
}

// writeOTLPJSON writes a trace as OTLP JSON (one resource per span: the
// readers do not mind).
func writeOTLPJSON(t *testing.T, tr tracefmt.Trace, path string) {
	t.Helper()
	var b strings.Builder
	b.WriteString(`{"resourceSpans":[`)
	for i, s := range tr.Spans {
		if i > 0 {
			b.WriteString(",")
		}
		parent := ""
		if !s.Parent.IsZero() {
			parent = `"parentSpanId":"` + s.Parent.String() + `",`
		}
		fmt.Fprintf(&b, `{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":%q}}]},"scopeSpans":[{"spans":[{"traceId":"%s","spanId":"%s",%s"name":%q,"kind":2,"startTimeUnixNano":"%d","endTimeUnixNano":"%d"}]}]}`,
			s.Service, tr.ID, s.SpanID, parent, s.Operation, 1_700_000_000_000_000_000+s.Start, 1_700_000_000_000_000_000+s.End)
	}
	b.WriteString(`]}`)
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestReportGolden(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"report-no-output", []string{"report", "testdata/demo"}},
		{"report-bad-band", []string{"report", "-o", "x.html", "--percentile-band", "p99-p95", "testdata/demo"}},
		{"report-bad-budget", []string{"report", "-o", "x.html", "--budget", "testdata/budget/bad-syntax.yaml", "testdata/demo"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, code := run(t, "", tc.args...)
			golden(t, tc.name, stdout, stderr, code)
		})
	}
}

// Names from the traces are text everywhere: in tables, in SVG titles and
// labels, in tooltips.
func TestReportEscapes(t *testing.T) {
	tr := bigTrace(40)
	for _, s := range tr.Spans {
		s.Service, s.Operation = `<b>svc"'&`, `</title><script>x()</script>`
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "evil.otlp.json")
	writeOTLPJSON(t, tr, in)
	page, stderr, code := run(t, "", "report", "-o", "-", in)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if strings.Contains(page, "<script>x()") || strings.Contains(page, "<b>svc") {
		t.Error("a name from the traces is not escaped")
	}
	if strings.Count(page, "<script>") != 1 || !strings.Contains(page, "&lt;/title&gt;&lt;script&gt;x()") {
		t.Error("names missing or scripts added")
	}
}

// Tick labels of a histogram never run into each other ("50.0ms100.0ms"):
// for every span of samples, consecutive labels are at least half their
// widths apart at 5 px a character (9.5px digits are wider).
func TestHistogramTickLabels(t *testing.T) {
	tick := regexp.MustCompile(`<text x="([0-9.]+)" y="[0-9.]+" text-anchor="(\w+)" class="tk">([^<]*)</text>`)
	for _, r := range [][2]int64{{20e6, 150e6}, {1e6, 9e6}, {3e3, 40e6}, {50e6, 100e6}, {1e3, 1e12}} {
		var samples []int64
		for v := r[0]; v <= r[1]; v += max(1, (r[1]-r[0])/50) {
			samples = append(samples, v)
		}
		svg := string(histChart(histogram(samples), samples[0]/1000, samples[0]/1000, samples[0]/1000, nil, "calls", "test"))
		ms := tick.FindAllStringSubmatch(svg, -1)
		if len(ms) < 2 {
			t.Errorf("%v: %d labels", r, len(ms))
		}
		lastRight := -1e9
		for _, m := range ms {
			x, _ := strconv.ParseFloat(m[1], 64)
			w := 5 * float64(utf8.RuneCountInString(html.UnescapeString(m[3])))
			left := x - w/2
			switch m[2] {
			case "start":
				left = x
			case "end":
				left = x - w
			}
			if left < lastRight {
				t.Errorf("%v: label %q at %s overlaps the one before:\n%s", r, m[3], m[1], svg)
			}
			lastRight = left + w
		}
	}
}

// The report's hop table shows each hop's calls per trace as `analyze -o
// json` computes them: the mean (and sorts on it), p50, p99 and max.
func TestReportCallsPerTrace(t *testing.T) {
	file := filepath.Join(t.TempDir(), "report.html")
	if _, stderr, code := run(t, "", "report", "-o", file, "testdata/demo"); code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	page, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	out, _, code := run(t, "", "analyze", "-o", "json", "testdata/demo")
	if code != ExitOK {
		t.Fatal(code)
	}
	var an struct {
		Hops []analyze.Hop `json:"hops"`
	}
	if err := json.Unmarshal([]byte(out), &an); err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`<th[^>]*>Calls / trace</th>`).Match(page) {
		t.Error("no Calls / trace column")
	}
	row := regexp.MustCompile(`<th scope="row">([^<]*) → ([^<]*)<small>([^<]*)</small>.*?</th><td class="n">\d+.*?</td>` +
		`<td class="n" data-v="([^"]*)">([^<]*)<div class="detail">([^<]*)</div></td>`)
	rows := map[string][]string{}
	for _, m := range row.FindAllStringSubmatch(string(page), -1) {
		rows[html.UnescapeString(m[1]+" → "+m[2]+": "+m[3])] = m[4:]
	}
	varied := false
	for _, h := range an.Hops {
		c := h.CallsPerTrace
		name := h.From + " → " + h.To + ": " + h.Operation
		got, ok := rows[name]
		if !ok {
			t.Errorf("%s: no row with calls per trace", name)
			continue
		}
		if v, err := strconv.ParseFloat(got[0], 64); err != nil || v != c.Mean {
			t.Errorf("%s: sorts on %q, want the mean %v", name, got[0], c.Mean)
		}
		want := []string{fmt.Sprintf("%.1f", c.Mean), fmt.Sprintf("p50 %d, p99 %d, max %d", c.P50, c.P99, c.Max)}
		if got[1] != want[0] || got[2] != want[1] {
			t.Errorf("%s: shows %q, %q; want %q, %q", name, got[1], got[2], want[0], want[1])
		}
		varied = varied || c.P50 != c.Max
	}
	if len(rows) != len(an.Hops) || !varied {
		t.Errorf("%d rows for %d hops, a hop with varying calls per trace: %v", len(rows), len(an.Hops), varied)
	}
}
