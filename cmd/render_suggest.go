package cmd

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"hopbudget/analyze"
	"hopbudget/tracefmt"
)

// renderSuggest prints the ranked candidates, the evidence behind each, the
// serial calls that would save nothing, and the what-ifs.
// renderSuggest writes suggest's result as a table, JSON or Markdown.
func renderSuggest(w io.Writer, f Format, sum tracefmt.Summary, r *analyze.Report, o *SuggestOptions) error {
	if f == FormatJSON {
		return writeJSON(w, suggestJSON{Input: sum, Parallelizable: r.Parallelizable, WhatIf: r.WhatIf})
	}
	md := f == FormatMarkdown
	// heading prints a section title; code, the user's what-if, verbatim.
	heading := func(title, code string) {
		switch {
		case md && code != "":
			fmt.Fprintf(w, "\n## %s `%s`\n\n", title, code)
		case md:
			fmt.Fprintf(w, "\n## %s\n\n", title)
		default:
			fmt.Fprintf(w, "\n%s%s\n", strings.ToUpper(title), strings.TrimRight(" "+code, " "))
		}
	}
	item, num := "  ", "  " // list prefixes: bullet, before a number
	if md {
		item, num = "- ", ""
	}
	tol := "none"
	if o.SerialTolerance > 0 {
		tol = o.SerialTolerance.String()
	}
	if md {
		fmt.Fprintln(w, "# hopbudget suggest")
		fmt.Fprintln(w)
		fmt.Fprintf(w, "%d traces, %d spans from %d file(s) (%s); serial tolerance %s\n", sum.Traces, sum.Spans, len(sum.Files), sum.Format, tol)
	} else {
		if err := renderInputTable(w, sum, false); err != nil {
			return err
		}
		fmt.Fprintf(w, "  analysed %d traces; serial tolerance %s", r.Counts.Traces, tol)
		if r.Counts.TracesFiltered > 0 {
			fmt.Fprintf(w, "; %d traces left out by --endpoint", r.Counts.TracesFiltered)
		}
		fmt.Fprintln(w)
	}
	var fn notes
	var on, off []*analyze.Candidate
	for i := range r.Parallelizable {
		if c := &r.Parallelizable[i]; c.OnPathFraction > 0 {
			on = append(on, c)
		} else {
			off = append(off, c)
		}
	}

	title := "Parallelizable calls, by p99 saving"
	if o.Top > 0 && len(on) > o.Top {
		title = fmt.Sprintf("Top %d of %d parallelizable calls, by p99 saving", o.Top, len(on))
	}
	heading(title, "")
	if len(on) == 0 {
		fmt.Fprint(w, "No serial sibling calls found that could run together.")
		if !o.IncludeDependent {
			fmt.Fprint(w, " Pairs always seen in one order (possibly dependent) are not listed (--include-dependent shows them).")
		}
		fmt.Fprintln(w)
	} else {
		t := &table{header: []string{"#", "ENDPOINT", "PARENT", "CALLS (USUAL ORDER)", "TRACES", "EVIDENCE", "SAVING MEAN", "SAVING P50", "SAVING P99", "ENDPOINT P99"},
			right: map[int]bool{0: true, 4: true, 6: true, 7: true, 8: true}}
		shown := topN(on, o.Top)
		for i, c := range shown {
			t.add(strconv.Itoa(i+1), c.Endpoint.Service+" "+c.Endpoint.Operation, c.Service+" "+c.Operation, callsText(c),
				strconv.Itoa(c.Traces)+fn.mark(candidateSubject(c), c.Warnings), c.Evidence,
				fmtUs(c.SavingMeanUs), fmtUs(c.SavingP50Us), fmtUs(c.SavingP99Us), fmtUs(c.P99BeforeUs)+" → "+fmtUs(c.P99AfterUs))
		}
		if err := t.render(w, md); err != nil {
			return err
		}
		fmt.Fprintln(w)
		for i, c := range shown {
			onPath := ""
			if c.OnPathFraction < 1 {
				onPath = fmt.Sprintf(" On the critical path in %s of the traces.", pct(c.OnPathFraction))
			}
			fprintfSafe(w, "%s%d. %s: %s.%s Exemplars: %s\n", num, i+1, c.Evidence, c.Why, onPath, strings.Join(c.Exemplars, ", "))
		}
	}
	if !o.IncludeDependent && len(on) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Pairs always seen in one order (a fixed order may be a dependency) are not listed; --include-dependent shows them with their evidence.")
	}

	if len(off) > 0 {
		heading("Serial, but never on the critical path (starting them together saves nothing)", "")
		for _, c := range off {
			fprintfSafe(w, "%s%s %s, under %s %s: %s (%d traces, %s)\n", item, c.Endpoint.Service, c.Endpoint.Operation,
				c.Service, c.Operation, callsText(c), c.Traces, c.Evidence)
		}
	}

	for _, wi := range r.WhatIf {
		heading("What-if", wi.Spec)
		if wi.Calls == 0 {
			fmt.Fprintln(w, "Matched no call: the selectors name hops as the hop table of `hopbudget analyze` does (from, to, operation).")
			continue
		}
		fmt.Fprintf(w, "%d calls matched in %d traces\n", wi.Calls, wi.Traces)
		if md {
			fmt.Fprintln(w)
		}
		t := &table{header: []string{"ENDPOINT", "TRACES", "AFFECTED", "MEAN SAVING", "P50", "P95", "P99"},
			right: map[int]bool{1: true, 2: true, 3: true}}
		for _, e := range wi.Endpoints {
			arrow := func(a, b int64) string { return fmtUs(a) + " → " + fmtUs(b) }
			t.add(e.Service+" "+e.Operation, strconv.Itoa(e.Count)+fn.mark(e.Service+" "+e.Operation, e.Warnings), strconv.Itoa(e.Affected),
				fmtUs(e.SavingMeanUs), arrow(e.P50BeforeUs, e.P50AfterUs), arrow(e.P95BeforeUs, e.P95AfterUs), arrow(e.P99BeforeUs, e.P99AfterUs))
		}
		if err := t.render(w, md); err != nil {
			return err
		}
	}

	if len(fn.lines) > 0 {
		heading("Notes", "")
		for i, l := range fn.lines {
			fprintfSafe(w, "[%d] %s\n", i+1, l)
		}
	}
	return nil
}

// callsText is "A op → B op" for a pair, "A op ×N" (median run) for a batch.
func callsText(c *analyze.Candidate) string {
	if c.Kind == analyze.KindBatch {
		return fmt.Sprintf("%s ×%d", strings.TrimSpace(c.Calls[0].To+" "+c.Calls[0].Operation), c.RunLengthP50)
	}
	parts := make([]string, len(c.Calls))
	for i, x := range c.Calls {
		parts[i] = strings.TrimSpace(x.To + " " + x.Operation) // the callee may be unknown
	}
	return strings.Join(parts, " → ")
}

func candidateSubject(c *analyze.Candidate) string {
	return fmt.Sprintf("%s %s: %s", c.Service, c.Operation, callsText(c))
}
