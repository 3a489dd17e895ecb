package cmd

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"

	"hopbudget/budget"
	"hopbudget/tracefmt"
)

// renderCheck writes the check result in format (one of checkFormats);
// colour is for the table on a terminal.
func renderCheck(w io.Writer, format string, cr *checkReport, colour bool) error {
	switch format {
	case "json":
		return writeJSON(w, checkJSON{Input: cr.Input, Result: cr.Result})
	case "markdown":
		return renderCheckMarkdown(w, cr)
	case "junit":
		return renderCheckJUnit(w, cr)
	case "github":
		return renderCheckGitHub(w, cr)
	}
	return renderCheckTable(w, cr, colour)
}

// checkJSON is the documented JSON of `check -o json`: the input summary
// and the result's fields side by side.
type checkJSON struct {
	Input tracefmt.Summary `json:"input"`
	*budget.Result
}

// ---- words shared by the renderers ----

func checkCounts(r *budget.Result) (ok, over, noData int) {
	for _, l := range r.Lines {
		switch l.Status {
		case budget.StatusOK:
			ok++
		case budget.StatusOver:
			over++
		default:
			noData++
		}
	}
	return
}

// checkSummary is the one-line verdict, e.g. "FAIL: 2 of 9 budget lines
// over budget, 1 without enough data".
func checkSummary(r *budget.Result) string {
	ok, over, noData := checkCounts(r)
	n := len(r.Lines)
	var b strings.Builder
	switch {
	case r.Passed && over == 0 && noData == 0:
		fmt.Fprintf(&b, "PASS: %s within budget", plural(n, "budget line"))
	case r.Passed:
		fmt.Fprintf(&b, "PASS: %d of %s within budget", ok, plural(n, "budget line"))
	case over > 0:
		fmt.Fprintf(&b, "FAIL: %d of %s over budget", over, plural(n, "budget line"))
	default:
		fmt.Fprintf(&b, "FAIL: %d of %s without enough data (--fail-on-no-data)", noData, plural(n, "budget line"))
		noData = 0
	}
	if noData > 0 {
		fmt.Fprintf(&b, ", %d without enough data (fewer than %d samples)", noData, r.MinSamples)
	}
	if len(r.Warnings) > 0 {
		fmt.Fprintf(&b, "; %s", plural(len(r.Warnings), "warning"))
	}
	return b.String()
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}

func optUs(v *int64) string {
	if v == nil {
		return "-"
	}
	return fmtUs(*v)
}

// headroomText is "+17.8ms (35.6%)" or "-1.60ms (-3.2%)".
func headroomText(l *budget.LineResult) string {
	if l.HeadroomUs == nil {
		return "-"
	}
	sign := "+"
	if l.Actual > l.Target { // by the ns, though the µs may round to 0
		sign = "-"
	}
	h := *l.HeadroomUs
	if h < 0 {
		h = -h
	}
	p := *l.HeadroomPct
	if p < 0 {
		p = -p
	}
	return fmt.Sprintf("%s%s (%s%.1f%%)", sign, fmtUs(h), sign, p)
}

// verdictText says what a line found, in a sentence.
func verdictText(l *budget.LineResult, minSamples int) string {
	var b strings.Builder
	if eb := l.ErrorBudget; eb != nil && l.Samples > 0 {
		fmt.Fprintf(&b, "%s of %s over %s, %s allowed: burn rate %s", pctText(eb.Observed), plural(l.Samples, "request"),
			fmtUs(eb.ThresholdUs), pctText(eb.Allowed), strconv.FormatFloat(eb.BurnRate, 'f', -1, 64))
		if l.ActualUs != nil {
			fmt.Fprintf(&b, " (%s %s)", l.Percentile, fmtUs(*l.ActualUs))
		}
	} else if l.ActualUs != nil {
		h, p := *l.HeadroomUs, *l.HeadroomPct
		if l.Status == budget.StatusOver || h < 0 {
			fmt.Fprintf(&b, "%s %s is over the %s target by %s (%.1f%%)", l.Percentile, fmtUs(*l.ActualUs), fmtUs(l.TargetUs), fmtUs(-h), -p)
		} else {
			fmt.Fprintf(&b, "%s %s is within the %s target, %s (%.1f%%) to spare", l.Percentile, fmtUs(*l.ActualUs), fmtUs(l.TargetUs), fmtUs(h), p)
		}
		fmt.Fprintf(&b, ", %s", plural(l.Samples, "sample"))
	}
	if l.Status == budget.StatusNoData {
		if b.Len() > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "not enough data: %s, fewer than %d", plural(l.Samples, "sample"), minSamples)
	}
	if l.Status == budget.StatusOver && l.Exemplar != "" {
		fmt.Fprintf(&b, "; exemplar trace %s", l.Exemplar)
	}
	return b.String()
}

// pctText shows a fraction as a percentage with up to two decimals.
func pctText(f float64) string {
	return strconv.FormatFloat(roundFloat(100*f, 2), 'f', -1, 64) + "%"
}

func roundFloat(x float64, decimals int) float64 {
	s := strconv.FormatFloat(x, 'f', decimals, 64)
	v, _ := strconv.ParseFloat(s, 64)
	return v
}

// culpritText is one culprit of an over line.
func culpritText(c budget.Culprit) string {
	return fmt.Sprintf("%s → %s: %s %s mean on the critical path (%s of the slow requests' time; %s over all requests)",
		c.From, c.To, c.Operation, fmtUs(c.CriticalPathMeanUs), pctText(c.Share), fmtUs(c.BaselineMeanUs))
}

// culpritsIntro introduces the culprits of line l.
func culpritsIntro(l *budget.LineResult) string {
	n := l.Culprits[0].Requests
	if l.Kind == budget.KindErrorBudget {
		return fmt.Sprintf("likely culprits in the %s over %s:", plural(n, "request"), fmtUs(l.TargetUs))
	}
	return fmt.Sprintf("likely culprits in the %s at or above %s:", plural(n, "slowest request"), l.Percentile)
}

func timeRange(eb *budget.ErrorBudgetResult) string {
	return formatUs(eb.StartUs) + " → " + formatUs(eb.EndUs)
}

// ---- table ----

const (
	ansiRed    = "\033[31m"
	ansiGreen  = "\033[32m"
	ansiYellow = "\033[33m"
	ansiReset  = "\033[0m"
)

func statusWord(s budget.Status, colour bool) string {
	word, c := "ok", ansiGreen
	switch s {
	case budget.StatusOver:
		word, c = "OVER", ansiRed
	case budget.StatusNoData:
		word, c = "no data", ansiYellow
	}
	if colour {
		return c + word + ansiReset
	}
	return word
}

func renderCheckTable(w io.Writer, cr *checkReport, colour bool) error {
	if err := renderInputTable(w, cr.Input, false); err != nil {
		return err
	}
	fmt.Fprintf(w, "  analysed %d traces; critical path: %s", cr.Analysed, cr.Mode)
	if cr.Filtered > 0 {
		fmt.Fprintf(w, "; %d traces left out by --endpoint", cr.Filtered)
	}
	fmt.Fprintln(w)
	r := cr.Result
	fmt.Fprintf(w, "Budget: %s; lines need %d samples\n\n", r.File, r.MinSamples)

	t := &table{header: []string{"STATUS", "LINE", "BUDGET", "PCTL", "TARGET", "ACTUAL", "HEADROOM", "SAMPLES", "EXEMPLAR"},
		right: map[int]bool{1: true, 4: true, 5: true, 6: true, 7: true}, coloured: map[int]bool{0: true}}
	// Lines to print under each row: culprits, error budget burn.
	under := make([][]string, len(r.Lines))
	for i := range r.Lines {
		l := &r.Lines[i]
		ex := ""
		if l.Status == budget.StatusOver {
			ex = l.Exemplar
		}
		t.add(statusWord(l.Status, colour), strconv.Itoa(l.Line), l.Title, l.Percentile, fmtUs(l.TargetUs),
			optUs(l.ActualUs), headroomText(l), strconv.Itoa(l.Samples), ex)
		if eb := l.ErrorBudget; eb != nil && l.Samples > 0 {
			under[i] = append(under[i], fmt.Sprintf("%s of %s over %s, %s allowed: burn rate %s (%s)", pctText(eb.Observed),
				plural(l.Samples, "request"), fmtUs(eb.ThresholdUs), pctText(eb.Allowed),
				strconv.FormatFloat(eb.BurnRate, 'f', -1, 64), timeRange(eb)))
		}
		if len(l.Culprits) > 0 {
			under[i] = append(under[i], culpritsIntro(l))
			for _, c := range l.Culprits {
				under[i] = append(under[i], "    "+culpritText(c))
			}
		}
	}
	var buf bytes.Buffer
	if err := t.render(&buf, false); err != nil {
		return err
	}
	// The table has no borders and no wrapping: line 0 is the header, line
	// i+1 row i, so the notes go right under their row.
	lines := strings.SplitAfter(buf.String(), "\n")
	for i, line := range lines {
		io.WriteString(w, line)
		if i >= 1 && i-1 < len(under) {
			for _, u := range under[i-1] {
				if strings.HasPrefix(u, " ") {
					fprintfSafe(w, "         %s\n", u)
				} else {
					fprintfSafe(w, "       ↳ %s\n", u)
				}
			}
		}
	}
	if len(r.Warnings) > 0 {
		fmt.Fprintln(w, "\nWarnings:")
		for _, wa := range r.Warnings {
			fprintfSafe(w, "  %s:%d: %s\n", r.File, wa.Line, wa.Message)
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, checkSummary(r))
	return nil
}

// ---- Markdown (a pull-request comment) ----

func mdCell(s string) string { return strings.ReplaceAll(safeText(s), "|", `\|`) }

func renderCheckMarkdown(w io.Writer, cr *checkReport) error {
	r := cr.Result
	mark := "✅"
	if !r.Passed {
		mark = "❌"
	}
	fmt.Fprintf(w, "### %s hopbudget check: %s\n\n", mark, checkSummary(r))
	fmt.Fprintf(w, "Budget `%s` against %d traces (%d files, %s); lines need %d samples.\n\n",
		r.File, cr.Analysed, len(cr.Input.Files), cr.Input.Format, r.MinSamples)
	t := &table{header: []string{"", "Line", "Budget", "Pctl", "Target", "Actual", "Headroom", "Samples", "Exemplar"},
		right: map[int]bool{1: true, 4: true, 5: true, 6: true, 7: true}}
	for i := range r.Lines {
		l := &r.Lines[i]
		ex := ""
		if l.Status == budget.StatusOver && l.Exemplar != "" {
			ex = "`" + l.Exemplar + "`"
		}
		t.add(statusEmoji(l), strconv.Itoa(l.Line), mdCell(l.Title), l.Percentile, fmtUs(l.TargetUs), optUs(l.ActualUs),
			headroomText(l), strconv.Itoa(l.Samples), ex)
	}
	if err := t.render(w, true); err != nil {
		return err
	}
	var notes []string
	for i := range r.Lines {
		l := &r.Lines[i]
		if l.ErrorBudget != nil && l.Samples > 0 {
			notes = append(notes, fmt.Sprintf("- %s **%s** (line %d): %s", statusEmoji(l), mdText(l.Title), l.Line, mdText(verdictText(l, r.MinSamples))))
		}
		if len(l.Culprits) > 0 && l.ErrorBudget == nil {
			notes = append(notes, fmt.Sprintf("- %s **%s** (line %d): %s", statusEmoji(l), mdText(l.Title), l.Line, culpritsIntro(l)))
		} else if len(l.Culprits) > 0 {
			notes = append(notes, "  "+culpritsIntro(l))
		}
		for _, c := range l.Culprits {
			notes = append(notes, "  - "+mdText(culpritText(c)))
		}
	}
	if len(notes) > 0 {
		fmt.Fprintf(w, "\n%s\n", strings.Join(notes, "\n"))
	}
	if len(r.Warnings) > 0 {
		fmt.Fprintln(w, "\n**Warnings**")
		fmt.Fprintln(w)
		for _, wa := range r.Warnings {
			fmt.Fprintf(w, "- `%s:%d`: %s\n", r.File, wa.Line, mdText(wa.Message))
		}
	}
	if len(cr.Input.Warnings) > 0 {
		fmt.Fprintln(w, "\n**Input warnings**")
		fmt.Fprintln(w)
		for _, wa := range cr.Input.Warnings {
			fprintfSafe(w, "- %s ×%d, e.g. `%s`\n", string(wa.Kind), wa.Count, wa.Example)
		}
	}
	return nil
}

func statusEmoji(l *budget.LineResult) string {
	switch l.Status {
	case budget.StatusOver:
		return "❌"
	case budget.StatusNoData:
		if l.Failed {
			return "❌"
		}
		return "⚠️"
	}
	return "✅"
}

// mdText escapes the Markdown that names may contain (operations such as
// "GET /items/*").
func mdText(s string) string {
	r := strings.NewReplacer(`\`, `\\`, "*", `\*`, "_", `\_`, "`", "\\`", "|", `\|`, "<", "&lt;", ">", "&gt;")
	return r.Replace(safeText(s))
}

// ---- JUnit XML ----

func renderCheckJUnit(w io.Writer, cr *checkReport) error {
	r := cr.Result
	s := junitSuite{Name: "hopbudget", Tests: len(r.Lines), Properties: []junitProperty{
		{"budget", r.File}, {"traces", strconv.Itoa(cr.Analysed)}, {"minSamples", strconv.Itoa(r.MinSamples)},
	}}
	for i := range r.Lines {
		l := &r.Lines[i]
		c := junitCase{Name: l.Title, Classname: "hopbudget." + string(l.Kind)}
		text := verdictText(l, r.MinSamples)
		detail := fmt.Sprintf("%s:%d: %s\nmatch: %s\n", r.File, l.Line, text, l.Match)
		for k, cu := range l.Culprits {
			if k == 0 {
				detail += culpritsIntro(l) + "\n"
			}
			detail += "  " + culpritText(cu) + "\n"
		}
		switch {
		case l.Status == budget.StatusOver:
			c.Failure = &junitMessage{Message: text, Type: "over", Text: detail}
			s.Failures++
		case l.Failed: // no data, with --fail-on-no-data
			c.Failure = &junitMessage{Message: text, Type: "no-data", Text: detail}
			s.Failures++
		case l.Status == budget.StatusNoData:
			c.Skipped = &junitMessage{Message: text}
			s.Skipped++
		default:
			c.SystemOut = &junitText{detail}
		}
		s.Cases = append(s.Cases, c)
	}
	if len(r.Warnings) > 0 {
		s.SystemErr = &junitText{}
		for _, wa := range r.Warnings {
			s.SystemErr.Text += fmt.Sprintf("warning: %s:%d: %s\n", r.File, wa.Line, wa.Message)
		}
	}
	return writeJUnit(w, junitSuites{Name: "hopbudget", Tests: s.Tests, Failures: s.Failures, Suites: []junitSuite{s}})
}

// ---- GitHub Actions annotations ----

// ghData escapes an annotation's message; ghProp also a property value
// (the runner's own escaping rules).
// A message's own line breaks are kept (the runner shows them); every
// other control character, from names, is escaped by safeText.
func ghData(s string) string {
	return strings.NewReplacer("%", "%25", "\n", "%0A").Replace(safeLines(s))
}

func ghProp(s string) string {
	return strings.NewReplacer("%", "%25", ":", "%3A", ",", "%2C").Replace(safeText(s))
}

func renderCheckGitHub(w io.Writer, cr *checkReport) error {
	r := cr.Result
	annotate := func(level string, line int, title, msg string) {
		fmt.Fprintf(w, "::%s file=%s,line=%d,title=%s::%s\n", level, ghProp(r.File), line, ghProp(title), ghData(msg))
	}
	for i := range r.Lines {
		l := &r.Lines[i]
		msg := verdictText(l, r.MinSamples)
		if len(l.Culprits) > 0 {
			var cs []string
			for _, c := range l.Culprits {
				cs = append(cs, culpritText(c))
			}
			msg += "\n" + culpritsIntro(l) + "\n" + strings.Join(cs, "\n")
		}
		switch {
		case l.Status == budget.StatusOver:
			annotate("error", l.Line, "over budget: "+l.Title, msg)
		case l.Status == budget.StatusNoData && l.Failed:
			annotate("error", l.Line, "not enough data: "+l.Title, msg)
		case l.Status == budget.StatusNoData:
			annotate("warning", l.Line, "not enough data: "+l.Title, msg)
		}
	}
	for _, wa := range r.Warnings {
		annotate("warning", wa.Line, "budget line matches nothing", wa.Message)
	}
	for _, wa := range cr.Input.Warnings {
		fmt.Fprintf(w, "::warning title=%s::%s\n", ghProp("input: "+string(wa.Kind)), ghData(fmt.Sprintf("%d×, e.g. %s", wa.Count, wa.Example)))
	}
	_, err := fmt.Fprintf(w, "hopbudget check: %s\n", checkSummary(r))
	return err
}
