package cmd

import (
	"fmt"
	"io"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"hopbudget/analyze"
	"hopbudget/tracefmt"
)

// fmtUs prints a duration in µs with a unit that keeps 3 significant digits.
func fmtUs(us int64) string {
	neg := ""
	if us < 0 {
		neg, us = "-", -us
	}
	switch {
	case us < 1000:
		return fmt.Sprintf("%s%dµs", neg, us)
	case us < 10_000:
		return fmt.Sprintf("%s%.2fms", neg, float64(us)/1e3)
	case us < 1_000_000:
		return fmt.Sprintf("%s%.1fms", neg, float64(us)/1e3)
	default:
		return fmt.Sprintf("%s%.2fs", neg, float64(us)/1e6)
	}
}

func pct(f float64) string { return strconv.FormatFloat(100*f, 'f', 1, 64) + "%" }

// hopSorts order the main hop table; ties fall back to the report's order.
var hopSorts = map[string]func(a, b *analyze.Hop) bool{
	"p99":    func(a, b *analyze.Hop) bool { return a.P99Us > b.P99Us },
	"share":  func(a, b *analyze.Hop) bool { return a.CriticalPathTotalUs > b.CriticalPathTotalUs },
	"count":  func(a, b *analyze.Hop) bool { return a.Count > b.Count },
	"errors": func(a, b *analyze.Hop) bool { return a.ErrorRate > b.ErrorRate },
	"name":   func(a, b *analyze.Hop) bool { return false },
}

func sortedHops(hops []analyze.Hop, by string) []*analyze.Hop {
	out := make([]*analyze.Hop, len(hops))
	for i := range hops {
		out[i] = &hops[i]
	}
	less := hopSorts[by]
	sort.SliceStable(out, func(i, j int) bool { return less(out[i], out[j]) })
	return out
}

func topN[T any](s []T, n int) []T {
	if n > 0 && len(s) > n {
		return s[:n]
	}
	return s
}

// notes collects statistics warnings as numbered footnotes, one per
// subject however many tables show it.
type notes struct {
	lines []string
	index map[string]int
}

func (n *notes) mark(subject string, warns []string) string {
	if len(warns) == 0 {
		return ""
	}
	line := subject + ": " + strings.Join(warns, "; ")
	i, ok := n.index[line]
	if !ok {
		if n.index == nil {
			n.index = map[string]int{}
		}
		n.lines = append(n.lines, line)
		i = len(n.lines)
		n.index[line] = i
	}
	return fmt.Sprintf(" [%d]", i)
}

// renderAnalyze writes analyze's result as a table, JSON or Markdown.
func renderAnalyze(w io.Writer, f Format, sum tracefmt.Summary, r *analyze.Report, o *AnalyzeOptions) error {
	if f == FormatJSON {
		return writeJSON(w, analyzeJSON{Input: sum, Report: r})
	}
	md := f == FormatMarkdown
	heading := func(title string) {
		if md {
			fmt.Fprintf(w, "\n## %s\n\n", title)
		} else {
			fmt.Fprintf(w, "\n%s\n", strings.ToUpper(title))
		}
	}
	if md {
		fmt.Fprintln(w, "# hopbudget analyze")
		fmt.Fprintln(w)
		fmt.Fprintf(w, "%d traces, %d spans from %d file(s) (%s); critical path: %s\n", sum.Traces, sum.Spans, len(sum.Files), sum.Format, o.CriticalPath)
	} else {
		if err := renderInputTable(w, sum, false); err != nil {
			return err
		}
		fmt.Fprintf(w, "  analysed %d traces; critical path: %s", r.Counts.Traces, o.CriticalPath)
		if r.Counts.TracesFiltered > 0 {
			fmt.Fprintf(w, "; %d traces left out by --endpoint", r.Counts.TracesFiltered)
		}
		fmt.Fprintln(w)
	}
	if line := clocksLine(r.Clocks); line != "" {
		fmt.Fprintln(w, "  "+line)
	}
	if line := summaryLine(r.Summary); line != "" {
		fmt.Fprintln(w, "  "+line)
	}
	var fn notes

	heading("Endpoints")
	t := &table{header: []string{"SERVICE", "OPERATION", "COUNT", "P50", "P95", "P99", "MAX", "P99 EXEMPLAR"},
		right: map[int]bool{2: true, 3: true, 4: true, 5: true, 6: true}}
	for _, e := range r.Endpoints {
		t.add(e.Service, e.Operation, strconv.Itoa(e.Count)+fn.mark(e.Service+" "+e.Operation, e.Warnings),
			approx(e.Approximate)+fmtUs(e.P50Us), fmtUs(e.P95Us), fmtUs(e.P99Us), fmtUs(e.MaxUs), e.Exemplars.P99)
	}
	if err := t.render(w, md); err != nil {
		return err
	}

	hopRows := func(title string, hops []*analyze.Hop) error {
		heading(title)
		t := &table{header: []string{"FROM", "TO", "OPERATION", "COUNT", "CALLS/TRACE", "P50", "P95", "P99", "MAX", "NET P50", "NET P99", "ERRORS", "CP MEAN", "CP P99", "ON PATH"},
			right: map[int]bool{3: true, 4: true, 5: true, 6: true, 7: true, 8: true, 9: true, 10: true, 11: true, 12: true, 13: true, 14: true}}
		for _, h := range hops {
			net := []string{"-", "-"}
			if h.NetworkCount > 0 {
				net = []string{fmtUs(h.NetworkP50Us), fmtUs(h.NetworkP99Us)}
			}
			op := h.Operation
			if h.Statement != "" {
				op += " [" + h.Statement + "]"
			}
			t.add(h.From, h.To, op, strconv.Itoa(h.Count)+fn.mark(h.From+" → "+h.To+" "+op, h.Warnings),
				fmt.Sprintf("%.1f (max %d)", h.CallsPerTrace.Mean, h.CallsPerTrace.Max),
				approx(h.Approximate)+fmtUs(h.P50Us), fmtUs(h.P95Us), fmtUs(h.P99Us), fmtUs(h.MaxUs), net[0], net[1], pct(h.ErrorRate),
				fmtUs(h.CriticalPathMeanUs), fmtUs(h.CriticalPathP99Us), pct(h.OnPathFraction))
		}
		return t.render(w, md)
	}
	title := "Hops by " + o.Sort
	if o.Top > 0 && len(r.Hops) > o.Top {
		title = fmt.Sprintf("Top %d of %d hops by %s", o.Top, len(r.Hops), o.Sort)
	}
	if err := hopRows(title, topN(sortedHops(r.Hops, o.Sort), o.Top)); err != nil {
		return err
	}
	if o.Sort != "share" {
		title := "Hops by critical-path share"
		if o.Top > 0 && len(r.Hops) > o.Top {
			title = fmt.Sprintf("Top %d hops by critical-path share (mean time on the path × traces)", o.Top)
		}
		if err := hopRows(title, topN(sortedHops(r.Hops, "share"), o.Top)); err != nil {
			return err
		}
	}

	if len(r.FanIn) > 0 {
		heading("Fan-in (parallel calls: wait = last child end − first child end)")
		fan := make([]*analyze.FanIn, len(r.FanIn))
		for i := range r.FanIn {
			fan[i] = &r.FanIn[i]
		}
		sort.SliceStable(fan, func(i, j int) bool { return fan[i].WaitP99Us > fan[j].WaitP99Us })
		t := &table{header: []string{"SERVICE", "OPERATION", "GROUPS", "WAIT P50", "WAIT P95", "WAIT P99", "PARTIAL FAIL", "OVERHEAD P50", "OVERHEAD P99", "STRAGGLERS"},
			right: map[int]bool{2: true, 3: true, 4: true, 5: true, 6: true, 7: true, 8: true}}
		for _, f := range topN(fan, o.Top) {
			var st []string
			for _, s := range topN(f.Stragglers, 3) {
				st = append(st, fmt.Sprintf("%s %s", s.To, pct(s.Fraction)))
			}
			t.add(f.Service, f.Operation, strconv.Itoa(f.Count)+fn.mark(f.Service+" "+f.Operation, f.Warnings),
				fmtUs(f.WaitP50Us), fmtUs(f.WaitP95Us), fmtUs(f.WaitP99Us), pct(f.PartialFailureRate),
				fmtUs(f.OverheadP50Us), fmtUs(f.OverheadP99Us), strings.Join(st, ", "))
		}
		if err := t.render(w, md); err != nil {
			return err
		}
	}

	if o.PerTrace {
		renderPerTrace(w, r, md, heading)
	}

	if len(fn.lines) > 0 {
		heading("Notes")
		for i, l := range fn.lines {
			fprintfSafe(w, "[%d] %s\n", i+1, l)
		}
	}
	renderCleanup(w, r, md, heading)
	if md && len(sum.Warnings) > 0 {
		heading("Input warnings")
		for _, wa := range sum.Warnings {
			fprintfSafe(w, "- %s ×%d, e.g. `%s`\n", string(wa.Kind), wa.Count, wa.Example)
		}
	}
	return nil
}

func renderPerTrace(w io.Writer, r *analyze.Report, md bool, heading func(string)) {
	heading("Critical path per trace")
	for _, tr := range r.Traces {
		fprintfSafe(w, "trace %s  %s %s  %s  %d spans\n", tr.TraceID, tr.RootService, tr.RootOperation, fmtUs(tr.DurationUs), tr.Spans)
		for _, s := range tr.CriticalPath {
			fprintfSafe(w, "  %10s  +%-10s %s: %s (%s)\n", fmtUs(s.EndUs-s.StartUs), fmtUs(s.StartUs-tr.StartUs), s.Service, s.Operation, s.SpanID)
		}
		for _, g := range tr.FanIn {
			fmt.Fprintf(w, "  fan-in under %s: %d calls, wait %s, straggler %s\n", g.ParentSpanID, len(g.Children), fmtUs(g.WaitUs), g.StragglerSpanID)
		}
	}
}

// renderCleanup lists which clean-up rules fired (non-zero counts) and the
// analysis warnings grouped by rule with their first example.
func renderCleanup(w io.Writer, r *analyze.Report, md bool, heading func(string)) {
	var fired []string
	v := reflect.ValueOf(r.Counts)
	for i := 0; i < v.NumField(); i++ {
		name := v.Type().Field(i).Tag.Get("json")
		if name == "traces" || name == "spans" {
			continue
		}
		if n := v.Field(i).Int(); n != 0 {
			fired = append(fired, fmt.Sprintf("%s %d", name, n))
		}
	}
	type group struct {
		n     int
		first analyze.Warning
	}
	groups := map[string]*group{}
	var order []string
	for _, wa := range r.Warnings {
		g := groups[wa.Rule]
		if g == nil {
			g = &group{first: wa}
			groups[wa.Rule] = g
			order = append(order, wa.Rule)
		}
		g.n++
	}
	if len(fired) == 0 && len(order) == 0 {
		return
	}
	heading("Clean-up")
	if len(fired) > 0 {
		fmt.Fprintf(w, "rules fired: %s\n", strings.Join(fired, ", "))
	}
	for _, rule := range order {
		g := groups[rule]
		ex := g.first.Message
		if g.first.SpanID != "" {
			ex = fmt.Sprintf("trace %s span %s (%s %s): %s", g.first.TraceID, g.first.SpanID, g.first.Service, g.first.Operation, ex)
		}
		if md {
			fprintfSafe(w, "- %s ×%d, e.g. %s\n", rule, g.n, ex)
		} else {
			fprintfSafe(w, "  %s ×%d, e.g. %s\n", rule, g.n, ex)
		}
	}
}

// clocksLine names the services whose start clock is coarse and the
// tolerance used for them ("" when every clock is exact).
func clocksLine(clocks []analyze.ServiceClock) string {
	var coarse []string
	for _, c := range clocks {
		if c.GranularityNs > 0 {
			coarse = append(coarse, fmt.Sprintf("%s %s (%s)", safeText(c.Service), c.Granularity, c.Source))
		}
	}
	if len(coarse) == 0 {
		return ""
	}
	return fmt.Sprintf("clock granularity (the tolerance for timing decisions): %s; %d other service(s) exact",
		strings.Join(coarse, ", "), len(clocks)-len(coarse))
}

// summaryLine says that the figures come from summaries, and how exact
// they are ("" for an analysis of traces).
func summaryLine(s *analyze.SummaryInfo) string {
	if s == nil {
		return ""
	}
	line := fmt.Sprintf("from %s: figures exact up to %d values each, beyond that within ±%g%% (marked ≈: %s)",
		plural(s.Shards, "summarised shard"), s.ExactLimit, 100*s.RelativeAccuracy, plural(s.Approximate, "item"))
	if !s.TraceRows {
		line += "; no per-request rows (layers and culprits need them)"
	}
	if s.RootlessTraces > 0 {
		line += fmt.Sprintf("; %s of traces miss a parent span: were the shards split by trace ID?", pctText(s.RootlessTraces))
	}
	if s.SplitTraces > 0 {
		line += fmt.Sprintf("; %s found in two shards were analysed in halves (split shards by trace ID)", plural(int(s.SplitTraces), "trace"))
	}
	return line
}

// approx marks a figure that comes from a sketch.
func approx(a bool) string {
	if a {
		return "≈"
	}
	return ""
}
