package cmd

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"hopbudget/analyze"
)

func renderDiff(w io.Writer, format Format, dr *diffReport) error {
	switch format {
	case FormatJSON:
		return writeJSON(w, dr)
	case FormatJUnit:
		return renderDiffJUnit(w, dr)
	case FormatGitHub:
		return renderDiffGitHub(w, dr)
	}
	return renderDiffTable(w, dr, format == FormatMarkdown)
}

// signedPct is a percentage change with its sign, "n/a" from zero.
func signedPct(p *float64) string {
	if p == nil {
		return "n/a"
	}
	return fmt.Sprintf("%+.1f%%", *p)
}

func signedUs(us int64) string {
	if us > 0 {
		return "+" + fmtUs(us)
	}
	return fmtUs(us)
}

func pValueText(p float64) string {
	if p < 0.001 {
		return "<0.001"
	}
	return strconv.FormatFloat(p, 'f', 3, 64)
}

// pctCell is "before → after (+x%)" for one percentile; one side alone when
// the item is on one side only.
func pctCell(c *analyze.Change, before, after int64, delta *float64) string {
	switch {
	case c.Before == nil:
		return "→ " + fmtUs(after)
	case c.After == nil:
		return fmtUs(before) + " →"
	}
	return fmt.Sprintf("%s → %s (%s)", fmtUs(before), fmtUs(after), signedPct(delta))
}

func countCell(c *analyze.Change) string {
	b, a := "-", "-"
	if c.Before != nil {
		b = strconv.Itoa(c.Before.Count)
	}
	if c.After != nil {
		a = strconv.Itoa(c.After.Count)
	}
	return b + " → " + a
}

// verdict shows Change.Verdict: one word per item, as the summary counts
// them.
func verdict(c *analyze.Change) string {
	switch c.Verdict {
	case analyze.VerdictAdded:
		return "only in candidate"
	case analyze.VerdictRemoved:
		return "only in base"
	case analyze.VerdictRegression:
		return "REGRESSION " + strings.Join(c.Regressions, ", ")
	}
	return c.Verdict // slower, faster, or ~ (benchstat's mark for "no significant change")
}

// gateText is one gate held to a change, e.g. "p99>+10%: p99 +25.6%
// (+1.20ms, 99.9% interval −3.1ms … +4.0ms): not significant".
func gateText(g *analyze.GateCheck) string {
	s := fmt.Sprintf("%s: %s %s (%s", g.Rule, g.Metric, signedPct(g.DeltaPct), signedUs(g.DeltaUs))
	if g.CILowUs != nil {
		s += fmt.Sprintf(", %s %s interval %s … %s", levelText(g.Level), g.Method,
			signedUs(*g.CILowUs), signedUs(*g.CIHighUs))
	}
	s += ")"
	switch {
	case g.Regression:
		s += ": REGRESSION"
	case g.Exceeded:
		s += ": beyond the threshold, but the interval reaches zero: not a regression"
	default:
		s += ": within the threshold"
	}
	return s
}

// hopOp is a hop's operation with its statement, which is part of its
// identity, when it has one.
func hopOp(h *analyze.HopChange) string {
	if h.Statement != "" {
		return h.Operation + " [" + h.Statement + "]"
	}
	return h.Operation
}

// levelText is a confidence level in percent, two decimals at most.
func levelText(l float64) string {
	return strconv.FormatFloat(roundFloat(100*l, 2), 'f', -1, 64) + "%"
}

// gateNotes are the gates of a change worth a note: those exceeded.
func gateNotes(c *analyze.Change) []string {
	var out []string
	for i := range c.Gates {
		if g := &c.Gates[i]; g.Exceeded {
			out = append(out, gateText(g))
		}
	}
	return out
}

// shown says whether the table lists c: everything with -v, else every
// verdict but "~" (a regression, a significant shift, one side only).
func shown(c *analyze.Change, verbose bool) bool {
	return verbose || c.Verdict != analyze.VerdictSame
}

// changeCells are the columns every row shares after the names.
func changeCells(c *analyze.Change, fn *notes, subject string) []string {
	var b, a analyze.Stats
	if c.Before != nil {
		b = *c.Before
	}
	if c.After != nil {
		a = *c.After
	}
	var pd analyze.PctDeltas
	delta := "-"
	if c.DeltaPct != nil {
		pd = *c.DeltaPct
		delta = signedUs(c.DeltaUs.P99)
	}
	p := "-"
	if c.Status == analyze.StatusBoth {
		p = pValueText(c.PAdjusted)
	}
	return []string{countCell(c) + fn.mark(subject, append(gateNotes(c), c.Warnings...)),
		pctCell(c, b.P50Us, a.P50Us, pd.P50), pctCell(c, b.P95Us, a.P95Us, pd.P95), pctCell(c, b.P99Us, a.P99Us, pd.P99),
		delta, p, verdict(c)}
}

func renderDiffTable(w io.Writer, dr *diffReport, md bool) error {
	heading := func(title string) {
		if md {
			fmt.Fprintf(w, "\n## %s\n\n", title)
		} else {
			fmt.Fprintf(w, "\n%s\n", strings.ToUpper(title))
		}
	}
	gate := "none"
	if len(dr.FailOn) > 0 {
		gate = strings.Join(dr.FailOn, " or ")
	}
	side := func(name string, s diffSide) {
		extra := ""
		if s.TracesFiltered > 0 {
			extra = fmt.Sprintf(", %d left out by --endpoint", s.TracesFiltered)
		}
		if md {
			fprintfSafe(w, "- %s: `%s` (%d traces%s)\n", name, strings.Join(s.Paths, " "), s.Traces, extra)
		} else {
			fprintfSafe(w, "%-10s %s (%d traces%s)\n", name+":", strings.Join(s.Paths, " "), s.Traces, extra)
		}
	}
	if md {
		fmt.Fprint(w, "# hopbudget diff\n\n")
	}
	side("base", dr.Base)
	side("candidate", dr.Candidate)
	corr := "P: its p-value"
	if dr.Correction == analyze.CorrectionHolm {
		corr = fmt.Sprintf("P: its p-value Holm-adjusted over the %d compared", dr.Compared)
	}
	settings := fmt.Sprintf("Mann–Whitney U test per endpoint and hop, significant when P < %g (%s); critical path: %s; fail on: %s",
		dr.Alpha, corr, dr.Mode, gate)
	if len(dr.FailOn) > 0 {
		settings += fmt.Sprintf(" (a regression: beyond the rule, and its %s confidence interval above zero)", levelText(dr.Level))
	}
	if md {
		fmt.Fprintf(w, "\n%s\n", settings)
	} else {
		fmt.Fprintln(w, settings)
	}
	var fn notes
	hidden := 0

	var eps []int
	for _, i := range analyze.SortChanges(len(dr.Endpoints), func(i int) *analyze.Change { return &dr.Endpoints[i].Change }) {
		if shown(&dr.Endpoints[i].Change, dr.Verbose) {
			eps = append(eps, i)
		} else {
			hidden++
		}
	}
	if len(eps) > 0 {
		heading("Endpoints")
		t := &table{header: []string{"SERVICE", "OPERATION", "COUNT", "P50", "P95", "P99", "Δ P99", "P", "VERDICT"},
			right: map[int]bool{2: true, 3: true, 4: true, 5: true, 6: true, 7: true}}
		for _, i := range eps {
			e := &dr.Endpoints[i]
			t.add(append([]string{e.Service, e.Operation}, changeCells(&e.Change, &fn, e.Service+" "+e.Operation)...)...)
		}
		if err := t.render(w, md); err != nil {
			return err
		}
	}
	var hops []int
	for _, i := range analyze.SortChanges(len(dr.Hops), func(i int) *analyze.Change { return &dr.Hops[i].Change }) {
		if shown(&dr.Hops[i].Change, dr.Verbose) || dr.Hops[i].CallsPerTrace.Significant {
			hops = append(hops, i)
		} else {
			hidden++
		}
	}
	if len(hops) > 0 {
		heading("Hops")
		t := &table{header: []string{"FROM", "TO", "OPERATION", "COUNT", "P50", "P95", "P99", "Δ P99", "P", "VERDICT", "CP MEAN", "CALLS/TRACE"},
			right: map[int]bool{3: true, 4: true, 5: true, 6: true, 7: true, 8: true}}
		for _, i := range hops {
			h := &dr.Hops[i]
			cp := h.CriticalPath
			row := append([]string{h.From, h.To, hopOp(h)}, changeCells(&h.Change, &fn, h.From+" → "+h.To+" "+hopOp(h))...)
			cpCell := fmt.Sprintf("%s → %s (%s)", fmtUs(cp.BeforeMeanUs), fmtUs(cp.AfterMeanUs), signedUs(cp.DeltaMeanUs))
			switch h.Status {
			case analyze.StatusAdded:
				cpCell = "→ " + fmtUs(cp.AfterMeanUs)
			case analyze.StatusRemoved:
				cpCell = fmtUs(cp.BeforeMeanUs) + " →"
			}
			calls := "-"
			if c := h.CallsPerTrace; c.Ratio > 0 {
				calls = fmt.Sprintf("%.1f → %.1f (%.2f×)", c.BeforeMean, c.AfterMean, c.Ratio)
				if c.Significant {
					calls += " p=" + fmt.Sprintf("%.3g", c.P)
				}
			}
			t.add(append(row, cpCell, calls)...)
		}
		if err := t.render(w, md); err != nil {
			return err
		}
	}
	if len(fn.lines) > 0 {
		heading("Notes")
		for i, l := range fn.lines {
			fprintfSafe(w, "[%d] %s\n", i+1, l)
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, diffSummary(dr, hidden))
	return nil
}

// diffSummary is the closing line: the compared items by verdict (they add
// up), and the gate's verdict.
func diffSummary(dr *diffReport, hidden int) string {
	var b strings.Builder
	switch {
	case dr.Compared == 0:
		b.WriteString("nothing to compare: no endpoint or hop is on both sides")
	case dr.Regressions+dr.Slower+dr.Faster == 0:
		fmt.Fprintf(&b, "no significant change in the %s compared", countOf(dr.Compared, "endpoint or hop", "endpoints and hops"))
	default:
		fmt.Fprintf(&b, "of the %s compared: ", countOf(dr.Compared, "endpoint or hop", "endpoints and hops"))
		if len(dr.FailOn) > 0 {
			fmt.Fprintf(&b, "%s, ", countOf(dr.Regressions, "regression", "regressions"))
		}
		fmt.Fprintf(&b, "%d slower, %d faster, %d without a significant change", dr.Slower, dr.Faster, dr.Unchanged)
	}
	if hidden > 0 && dr.Compared > 0 {
		b.WriteString(" (not shown: -v shows them)")
	}
	if one := len(dr.Endpoints) + len(dr.Hops) - dr.Compared; one > 0 {
		fmt.Fprintf(&b, "; %d on one side only", one)
	}
	switch {
	case len(dr.FailOn) == 0:
	case dr.Failed:
		fmt.Fprintf(&b, "\nFAILED: %s beyond %s", countOf(dr.Regressions, "significant regression", "significant regressions"), strings.Join(dr.FailOn, " or "))
	default:
		fmt.Fprintf(&b, "\npassed: no significant regression beyond %s", strings.Join(dr.FailOn, " or "))
	}
	return b.String()
}

// countOf is "1 one" or "n many".
func countOf(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

func (dr *diffReport) changes() []*analyze.Change {
	var out []*analyze.Change
	for i := range dr.Endpoints {
		out = append(out, &dr.Endpoints[i].Change)
	}
	for i := range dr.Hops {
		out = append(out, &dr.Hops[i].Change)
	}
	return out
}

// ---- JUnit XML ----

// changeText is one change in a line, e.g. "p50 1.20ms → 1.50ms (+25.0%),
// …, p=0.001 slower".
func changeText(c *analyze.Change) string {
	if c.Status != analyze.StatusBoth {
		return verdict(c)
	}
	b, a, d := c.Before, c.After, c.DeltaPct
	s := fmt.Sprintf("count %d → %d; p50 %s → %s (%s); p95 %s → %s (%s); p99 %s → %s (%s); mean %s → %s (%s); p=%s: %s",
		b.Count, a.Count, fmtUs(b.P50Us), fmtUs(a.P50Us), signedPct(d.P50), fmtUs(b.P95Us), fmtUs(a.P95Us), signedPct(d.P95),
		fmtUs(b.P99Us), fmtUs(a.P99Us), signedPct(d.P99), fmtUs(b.MeanUs), fmtUs(a.MeanUs), signedPct(d.Mean),
		pValueText(c.PAdjusted), verdict(c))
	for i := range c.Gates {
		s += "\n" + gateText(&c.Gates[i])
	}
	return s
}

// diffCase adds one test case per endpoint and hop: failed when it is a
// regression by a --fail-on rule, skipped when it exists on one side only.
// The detail of each change goes to system-out.
func diffCase(name, class string, c *analyze.Change, s *junitSuite) {
	out := &junitText{changeText(c) + "\n"}
	for _, w := range c.Warnings {
		out.Text += "warning: " + w + "\n"
	}
	jc := junitCase{Name: name, Classname: class, SystemOut: out}
	switch {
	case c.Verdict == analyze.VerdictRegression:
		jc.Failure = &junitMessage{Message: "significant regression beyond " + strings.Join(c.Regressions, ", "),
			Type: "regression", Text: changeText(c)}
		s.Failures++
	case c.Status != analyze.StatusBoth:
		jc.Skipped = &junitMessage{Message: verdict(c)}
		s.Skipped++
	}
	s.Tests++
	s.Cases = append(s.Cases, jc)
}

func renderDiffJUnit(w io.Writer, dr *diffReport) error {
	props := []junitProperty{{"base", strings.Join(dr.Base.Paths, " ")}, {"candidate", strings.Join(dr.Candidate.Paths, " ")},
		{"alpha", strconv.FormatFloat(dr.Alpha, 'g', -1, 64)}, {"correction", dr.Correction}, {"failOn", strings.Join(dr.FailOn, ",")}}
	eps := junitSuite{Name: "hopbudget diff: endpoints", Properties: props}
	for i := range dr.Endpoints {
		e := &dr.Endpoints[i]
		diffCase(e.Service+" "+e.Operation, "hopbudget.diff.endpoint", &e.Change, &eps)
	}
	hops := junitSuite{Name: "hopbudget diff: hops", Properties: props}
	for i := range dr.Hops {
		h := &dr.Hops[i]
		diffCase(h.From+" → "+h.To+" "+hopOp(h), "hopbudget.diff.hop", &h.Change, &hops)
	}
	doc := junitSuites{Name: "hopbudget diff", Tests: eps.Tests + hops.Tests, Failures: eps.Failures + hops.Failures,
		Suites: []junitSuite{eps, hops}}
	return writeJUnit(w, doc)
}

// ---- GitHub Actions annotations ----

// renderDiffGitHub writes an error annotation per regression and a warning
// per other significant slowdown, then the summary.
func renderDiffGitHub(w io.Writer, dr *diffReport) error {
	note := func(level, title string, c *analyze.Change) {
		msg := changeText(c)
		for _, wa := range c.Warnings {
			msg += "\nwarning: " + wa
		}
		fmt.Fprintf(w, "::%s title=%s::%s\n", level, ghProp(title), ghData(msg))
	}
	each := func(name string, c *analyze.Change) {
		switch c.Verdict {
		case analyze.VerdictRegression:
			note("error", "regression: "+name, c)
		case analyze.VerdictSlower:
			note("warning", "slower: "+name, c)
		}
	}
	for i := range dr.Endpoints {
		e := &dr.Endpoints[i]
		each(e.Service+" "+e.Operation, &e.Change)
	}
	for i := range dr.Hops {
		h := &dr.Hops[i]
		each(h.From+" → "+h.To+" "+hopOp(h), &h.Change)
	}
	_, err := fmt.Fprintf(w, "hopbudget diff: %s\n", strings.ReplaceAll(diffSummary(dr, 0), "\n", "; "))
	return err
}
