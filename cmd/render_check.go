package cmd

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"hopbudget/budget"
	"hopbudget/tracefmt"
)

// renderCheck writes the check result in format (one of checkFormats);
// colour is for the table on a terminal.
func renderCheck(w io.Writer, format Format, cr *checkReport, colour bool) error {
	switch format {
	case FormatJSON:
		return writeJSON(w, checkJSON{Input: cr.Input, Result: cr.Result})
	case FormatMarkdown:
		return renderCheckMarkdown(w, cr)
	case FormatJUnit:
		return renderCheckJUnit(w, cr)
	case FormatGitHub:
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

func checkCounts(r *budget.Result) (ok, over, noData, noMatch int) {
	for _, l := range r.Lines {
		switch l.Status {
		case budget.StatusOK:
			ok++
		case budget.StatusOver:
			over++
		case budget.StatusNoMatch:
			noMatch++
		default:
			noData++
		}
	}
	return
}

// checkSummary is the one-line verdict, e.g. "FAIL: 6 of 9 budget lines
// within budget, 2 over budget, 1 matched nothing; 8 checked against 4210
// samples". It always says how much was checked: a gate that checked
// nothing must not read like one that passed.
func checkSummary(r *budget.Result) string {
	ok, over, noData, noMatch := checkCounts(r)
	var b strings.Builder
	head := "PASS"
	if !r.Passed {
		head = "FAIL"
	}
	fmt.Fprintf(&b, "%s: %d of %s within budget", head, ok, plural(len(r.Lines), "budget line"))
	if over > 0 {
		fmt.Fprintf(&b, ", %d over budget", over)
	}
	if noMatch > 0 {
		fmt.Fprintf(&b, ", %d matched nothing", noMatch)
	}
	if noData > 0 {
		fmt.Fprintf(&b, ", %d without enough data (fewer than %d samples)", noData, r.MinSamples)
	}
	if noMatch+noData > 0 {
		if r.AllowNoData {
			b.WriteString(" (allowed by --allow-no-data)")
		} else {
			b.WriteString(" (--allow-no-data lets those pass)")
		}
	}
	if r.Checked == 0 {
		b.WriteString("; nothing was checked")
	} else {
		fmt.Fprintf(&b, "; %d checked against %s", r.Checked, plural(r.SamplesChecked, "sample"))
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
	if l.Status == budget.StatusNoMatch {
		return l.Note
	}
	if er := l.Errors; er != nil && l.Samples > 0 {
		b.WriteString(errorsText(l))
	} else if eb := l.SlowRequests; eb != nil && l.Samples > 0 {
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

// errorsText is an error-rate line's finding, e.g. "4 of 100 requests
// failed (4%), 5% allowed: burn rate 0.8 over 1.19s".
func errorsText(l *budget.LineResult) string {
	er := l.Errors
	what := "request"
	if l.Kind == budget.KindErrors && l.Hop != nil {
		what = "call"
	}
	return fmt.Sprintf("%d of %s failed (%s), %s allowed: burn rate %s over %s", er.Errors, plural(er.Total, what),
		pctText(er.Observed), pctText(er.Allowed), strconv.FormatFloat(er.BurnRate, 'f', -1, 64), spanText(er.EndUs-er.StartUs))
}

// spanText is a time span: as fmtUs below a minute, else in whole seconds
// ("7849h25m8s"), as windows are written.
func spanText(us int64) string {
	if us < 60e6 {
		return fmtUs(us)
	}
	return (time.Duration(us) * time.Microsecond).Round(time.Second).String()
}

// windowsText is the multi-window view of an error-rate line: each window
// evaluated, then those the export is too short for.
func windowsText(er *budget.ErrorRateResult) []string {
	var out []string
	for _, w := range er.Windows {
		s := fmt.Sprintf("last %s: no requests; %s above %s", w.Long, w.Severity, strconv.FormatFloat(w.Factor, 'f', -1, 64))
		if w.Total > 0 {
			s = fmt.Sprintf("last %s: burn rate %s (%d of %d failed), last %s: %s; %s above %s",
				w.Long, strconv.FormatFloat(w.BurnRate, 'f', -1, 64), w.Errors, w.Total, w.Short,
				strconv.FormatFloat(w.ShortBurnRate, 'f', -1, 64), w.Severity, strconv.FormatFloat(w.Factor, 'f', -1, 64))
		}
		if w.Alert {
			s += ": ALERT"
		} else {
			s += ": no alert"
		}
		out = append(out, s)
	}
	if n := er.WindowsNotEvaluated; len(n) > 0 {
		out = append(out, fmt.Sprintf("windows %s not evaluated: the export spans %s", strings.Join(n, ", "), spanText(er.EndUs-er.StartUs)))
	}
	return out
}

// lineDetails are the notes under a line in the table and report: a
// slow-request budget's burn, an error rate's windows.
func lineDetails(l *budget.LineResult) []string {
	var out []string
	if eb := l.SlowRequests; eb != nil && l.Samples > 0 {
		out = append(out, fmt.Sprintf("%s of %s over %s, %s allowed: burn rate %s (%s)", pctText(eb.Observed),
			plural(l.Samples, "request"), fmtUs(eb.ThresholdUs), pctText(eb.Allowed),
			strconv.FormatFloat(eb.BurnRate, 'f', -1, 64), formatUs(eb.StartUs)+" → "+formatUs(eb.EndUs)))
	}
	if er := l.Errors; er != nil && l.Samples > 0 {
		out = append(out, errorsText(l))
		out = append(out, windowsText(er)...)
	}
	if l.Note != "" {
		out = append(out, l.Note)
	}
	return out
}

// Cells of a line in the table, Markdown and report: an error rate has no
// percentile or duration, but its allowed and observed rates.
func pctlCell(l *budget.LineResult) string {
	if l.Kind == budget.KindErrors {
		return "errors"
	}
	return l.Percentile
}

func targetCell(l *budget.LineResult) string {
	if l.Kind == budget.KindErrors {
		if l.Errors != nil {
			return "≤" + pctText(l.Errors.Allowed)
		}
		return "-"
	}
	return fmtUs(l.TargetUs)
}

func actualCell(l *budget.LineResult) string {
	if l.Kind == budget.KindErrors {
		if l.Errors != nil && l.Samples > 0 {
			return pctText(l.Errors.Observed)
		}
		return "-"
	}
	return optUs(l.ActualUs)
}

func headroomCell(l *budget.LineResult) string {
	if l.Kind == budget.KindErrors {
		if l.Errors != nil && l.Samples > 0 {
			return "burn " + strconv.FormatFloat(l.Errors.BurnRate, 'f', -1, 64) + "×"
		}
		return "-"
	}
	return headroomText(l)
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
	op := c.Operation
	if c.Statement != "" {
		op += " [" + c.Statement + "]"
	}
	return fmt.Sprintf("%s → %s: %s %s mean on the critical path (%s of the slow requests' time; %s over all requests)",
		c.From, c.To, op, fmtUs(c.CriticalPathMeanUs), pctText(c.Share), fmtUs(c.BaselineMeanUs))
}

// culpritsIntro introduces the culprits of line l.
func culpritsIntro(l *budget.LineResult) string {
	n := l.Culprits[0].Requests
	if l.Kind == budget.KindSlowRequests {
		return fmt.Sprintf("likely culprits in the %s over %s:", plural(n, "request"), fmtUs(l.TargetUs))
	}
	return fmt.Sprintf("likely culprits in the %s at or above %s:", plural(n, "slowest request"), l.Percentile)
}

// ---- table ----

const (
	ansiRed    = "\033[31m"
	ansiGreen  = "\033[32m"
	ansiYellow = "\033[33m"
	ansiReset  = "\033[0m"
)

func statusWord(l *budget.LineResult, colour bool) string {
	word, c := "ok", ansiGreen
	switch l.Status {
	case budget.StatusOver:
		word, c = "OVER", ansiRed
	case budget.StatusNoData:
		word, c = "no data", ansiYellow
	case budget.StatusNoMatch:
		word, c = "no match", ansiYellow
	}
	if l.Status != budget.StatusOver && l.Failed {
		// Not checked, and that fails the gate: say it in capitals.
		word, c = strings.ToUpper(word), ansiRed
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
	if line := summaryLine(cr.FromSummary); line != "" {
		fmt.Fprintln(w, "  "+line)
	}
	r := cr.Result
	fmt.Fprintf(w, "Budget: %s; lines need %d samples", r.File, r.MinSamples)
	if r.AllowNoData {
		fmt.Fprint(w, "; lines without data pass (--allow-no-data)")
	}
	fmt.Fprint(w, "\n\n")

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
		t.add(statusWord(l, colour), strconv.Itoa(l.Line), l.Title, pctlCell(l), targetCell(l),
			actualCell(l), headroomCell(l), strconv.Itoa(l.Samples), ex)
		under[i] = append(under[i], lineDetails(l)...)
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
		t.add(statusEmoji(l), strconv.Itoa(l.Line), mdCell(l.Title), pctlCell(l), targetCell(l), actualCell(l),
			headroomCell(l), strconv.Itoa(l.Samples), ex)
	}
	if err := t.render(w, true); err != nil {
		return err
	}
	var notes []string
	for i := range r.Lines {
		l := &r.Lines[i]
		detailed := (l.SlowRequests != nil || l.Errors != nil) && l.Samples > 0 || l.Status == budget.StatusNoMatch
		if detailed {
			notes = append(notes, fmt.Sprintf("- %s **%s** (line %d): %s", statusEmoji(l), mdText(l.Title), l.Line, mdText(verdictText(l, r.MinSamples))))
		}
		if er := l.Errors; er != nil && l.Samples > 0 {
			for _, w := range windowsText(er) {
				notes = append(notes, "  - "+mdText(w))
			}
		}
		if len(l.Culprits) > 0 && !detailed {
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
	case budget.StatusNoData, budget.StatusNoMatch:
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
		detail := fmt.Sprintf("%s:%d: %s\nmatch: %s\n", safeText(r.File), l.Line, text, safeText(l.Match))
		if er := l.Errors; er != nil && l.Samples > 0 {
			detail += strings.Join(windowsText(er), "\n") + "\n"
		}
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
		case l.Failed: // not checked: no match, or too few samples
			c.Failure = &junitMessage{Message: text, Type: string(l.Status), Text: detail}
			s.Failures++
		case l.Status == budget.StatusNoData || l.Status == budget.StatusNoMatch: // --allow-no-data
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
		if er := l.Errors; er != nil && l.Samples > 0 {
			msg += "\n" + strings.Join(windowsText(er), "\n")
		}
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
		case l.Status == budget.StatusNoMatch && l.Failed:
			annotate("error", l.Line, "matched nothing: "+l.Title, msg)
		case l.Status == budget.StatusNoMatch:
			annotate("warning", l.Line, "matched nothing: "+l.Title, msg)
		}
	}
	for _, wa := range r.Warnings {
		annotate("warning", wa.Line, "budget warning", wa.Message)
	}
	for _, wa := range cr.Input.Warnings {
		fmt.Fprintf(w, "::warning title=%s::%s\n", ghProp("input: "+string(wa.Kind)), ghData(fmt.Sprintf("%d×, e.g. %s", wa.Count, wa.Example)))
	}
	_, err := fmt.Fprintf(w, "hopbudget check: %s\n", checkSummary(r))
	return err
}
