package cmd

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"hopbudget/analyze"
	"hopbudget/tracefmt"
)

// traceRender says how renderTrace draws a trace.
type traceRender struct {
	Width  int
	Colour bool // a terminal: ANSI colour and block characters
	Mode   string
	// Pruning: only spans on the critical path, at most MaxDepth below a
	// root (-1: any), lasting at least MinDurationNs.
	CriticalPathOnly bool
	MaxDepth         int
	MinDurationNs    int64
}

// The bar's cells: the time a span owns on the critical path, a fan-in
// wait (the parent waiting for its straggler), the rest of the span, a span
// of zero length. Plain mode is ASCII; a terminal gets blocks and colour too,
// so the kinds differ by shape as well as by colour.
var (
	plainCells = [4]string{"#", "~", "=", "|"}
	ttyCells   = [4]string{ansiRed + "█" + ansiReset, ansiYellow + "░" + ansiReset, "▒", "│"}
)

// Cell kinds, by priority: where several meet in one cell, the lowest wins.
const (
	cellPath = iota
	cellWait
	cellSpan
	cellZero
	cellNone = -1
)

const (
	ansiBold = "\033[1m"
	maxShown = 20 // indentation levels drawn; deeper spans say their depth
)

// traceIndex groups a layout's critical-path segments and fan-in waits by
// span, for drawing.
type traceIndex struct {
	segs  map[int32][]analyze.LayoutSegment
	waits map[int32][]analyze.LayoutFanIn
}

func indexLayout(l *analyze.TraceLayout) traceIndex {
	x := traceIndex{segs: map[int32][]analyze.LayoutSegment{}, waits: map[int32][]analyze.LayoutFanIn{}}
	for _, sg := range l.Segments {
		x.segs[sg.Span] = append(x.segs[sg.Span], sg)
	}
	for _, g := range l.FanIn {
		x.waits[g.Parent] = append(x.waits[g.Parent], g)
	}
	return x
}

// durText is fmtUs of a duration in ns; ASCII ("us") when plain.
func durText(ns int64, plain bool) string {
	s := fmtUs(ns / 1000)
	if plain {
		s = strings.ReplaceAll(s, "µs", "us")
	}
	return s
}

// spanNotes says what the clean-up passes and fan-in found about span i,
// briefly, for the end of its line (and the report's waterfall).
func spanNotes(l *analyze.TraceLayout, x traceIndex, i int32, plain bool) []string {
	s := &l.Spans[i]
	var notes []string
	for _, g := range x.waits[i] {
		notes = append(notes, fmt.Sprintf("fan-in wait %s (%d calls)", durText(g.WaitNs, plain), len(g.Children)))
	}
	if s.Straggler {
		notes = append(notes, "straggler")
	}
	if ownShift(l, i) {
		sign := "+"
		if s.ShiftNs < 0 {
			sign = ""
		}
		notes = append(notes, "skew shift "+sign+durText(s.ShiftNs, plain))
	}
	switch {
	case s.OutsideParent:
		notes = append(notes, "outside parent: off the path")
	case s.Clipped:
		notes = append(notes, "clipped to parent")
	}
	if s.Async {
		notes = append(notes, "async")
	}
	if s.Orphan {
		notes = append(notes, "orphan: parent "+s.Span.Parent.String()+" not in the trace")
	}
	if s.CycleRoot {
		notes = append(notes, "parent loop broken here")
	}
	if s.DuplicateID {
		notes = append(notes, "duplicate span ID")
	}
	if s.Span.Status == tracefmt.StatusError {
		notes = append(notes, "error")
	}
	return notes
}

// ownShift says whether span i was shifted by the clock-skew pass on its
// own account: a shift is noted where it was made, not on the
// same-service spans that moved with it.
func ownShift(l *analyze.TraceLayout, i int32) bool {
	s := &l.Spans[i]
	if s.ShiftNs == 0 || s.Parent < 0 {
		return s.ShiftNs != 0
	}
	p := &l.Spans[s.Parent]
	return s.ShiftNs != p.ShiftNs || s.Span.Service != p.Span.Service
}

// traceVisible says which spans renderTrace shows.
func traceVisible(l *analyze.TraceLayout, o traceRender) []bool {
	show := make([]bool, len(l.Spans))
	for i := range l.Spans {
		s := &l.Spans[i]
		show[i] = (!o.CriticalPathOnly || s.SubtreeCriticalNs > 0) &&
			(o.MaxDepth < 0 || int(s.Depth) <= o.MaxDepth) &&
			s.EndNs-s.StartNs >= o.MinDurationNs
	}
	return show
}

// waitSpan is the part of a fan-in wait drawn on the parent's bar: the wait
// as analyze measures it (raw child ends), within the parent, which cannot
// wait past its own end.
func waitSpan(parent *analyze.LayoutSpan, g analyze.LayoutFanIn) (from, to int64) {
	return max(g.FirstEndNs, parent.StartNs), min(g.FirstEndNs+g.WaitNs, parent.EndNs)
}

// spanName is "service: operation", control characters escaped.
func spanName(s *tracefmt.Span) string { return safeText(s.Service + ": " + s.Operation) }

// truncate cuts s to n runes, marking the cut.
func truncate(s string, n int, plain bool) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	mark := "…"
	if plain {
		mark = "~"
	}
	r := []rune(s)
	return string(r[:max(0, n-1)]) + mark
}

func pad(s string, n int) string {
	if k := utf8.RuneCountInString(s); k < n {
		return s + strings.Repeat(" ", n-k)
	}
	return s
}

// renderTrace writes the waterfall of one trace.
func renderTrace(w io.Writer, l *analyze.TraceLayout, o traceRender) error {
	plain := !o.Colour
	d := &l.Detail
	x := indexLayout(l)
	show := traceVisible(l, o)
	roots := ""
	if d.Roots > 1 {
		roots = fmt.Sprintf(" (%d roots)", d.Roots)
	}
	fprintfSafe(w, "Trace %s: %s %s, %s, %s%s; critical path: %s\n", d.TraceID, d.RootService, d.RootOperation,
		durText(d.DurationUs*1000, plain), plural(d.Spans, "span"), roots, o.Mode)
	c := plainCells
	if o.Colour {
		c = ttyCells
	}
	fmt.Fprintf(w, "* on the critical path; bar: %s time it owns on the path, %s rest of the span, %s fan-in wait\n\n",
		c[cellPath], c[cellSpan], c[cellWait])

	type line struct {
		i     int32
		name  string
		notes string
	}
	var lines []line
	nameW, notesW := len("SPAN"), 0
	for i := range l.Spans {
		if !show[i] {
			continue
		}
		s := &l.Spans[i]
		indent := strings.Repeat("  ", int(min(s.Depth, maxShown)))
		name := spanName(s.Span)
		if s.Depth > maxShown {
			name = fmt.Sprintf("(depth %d) %s", s.Depth, name)
		}
		ln := line{i: int32(i), name: indent + name, notes: strings.Join(spanNotes(l, x, int32(i), plain), "; ")}
		nameW = max(nameW, utf8.RuneCountInString(ln.name))
		notesW = max(notesW, utf8.RuneCountInString(ln.notes))
		lines = append(lines, ln)
	}
	// Columns: marker, name, duration, |bar|, notes. Names come first: they
	// take what they need as long as the bar keeps a quarter of the width
	// (at least 20 columns). Notes never narrow the bar below 40% of the
	// width: lines without notes fit the width, notes run past it when the
	// bar would get narrower.
	const durW = 9
	fixed := 2 + 1 + durW + 1 + 2
	if notesW > 0 {
		notesW++
	}
	minBar := max(20, o.Width/4)
	nameW = max(4, min(nameW, o.Width-fixed-minBar))
	barW := max(o.Width-fixed-nameW-notesW, min(o.Width*2/5, o.Width-fixed-nameW), minBar)

	total := durText(l.EndNs-l.StartNs, plain)
	axis := "0" + strings.Repeat(" ", max(1, barW-1-utf8.RuneCountInString(total))) + total
	fmt.Fprintf(w, "  %s %*s  %s\n", pad("SPAN", nameW), durW, "DURATION", axis)

	// In float: (t−t0)·barW overflows int64 for roots longer than ~290
	// years / barW, which hostile or broken timestamps give.
	t0, span := l.StartNs, float64(max(1, l.EndNs-l.StartNs))
	cellOf := func(t int64) int {
		return min(barW-1, max(0, int(float64(t-t0)/span*float64(barW))))
	}
	cells := make([]int, barW)
	var b strings.Builder
	for _, ln := range lines {
		s := &l.Spans[ln.i]
		for k := range cells {
			cells[k] = cellNone
		}
		if s.EndNs <= s.StartNs {
			cells[cellOf(s.StartNs)] = cellZero
		} else {
			fill := func(from, to int64, kind int) {
				if to <= from {
					return
				}
				for k := cellOf(from); k <= cellOf(to-1); k++ {
					if cells[k] == cellNone || kind < cells[k] {
						cells[k] = kind
					}
				}
			}
			fill(s.StartNs, s.EndNs, cellSpan)
			for _, g := range x.waits[ln.i] {
				from, to := waitSpan(s, g)
				fill(from, to, cellWait)
			}
			for _, sg := range x.segs[ln.i] {
				fill(sg.StartNs, sg.EndNs, cellPath)
			}
		}
		b.Reset()
		mark, name := "  ", pad(truncate(ln.name, nameW, plain), nameW)
		if s.SubtreeCriticalNs > 0 {
			mark = "* "
			if o.Colour {
				mark = ansiRed + "*" + ansiReset + " "
				name = ansiBold + name + ansiReset
			}
		}
		b.WriteString(mark)
		b.WriteString(name)
		fmt.Fprintf(&b, " %*s |", durW, durText(s.EndNs-s.StartNs, plain))
		for _, k := range cells {
			if k == cellNone {
				b.WriteByte(' ')
			} else {
				b.WriteString(c[k])
			}
		}
		b.WriteByte('|')
		if ln.notes != "" {
			b.WriteString(" ")
			b.WriteString(ln.notes)
		}
		b.WriteByte('\n')
		if _, err := io.WriteString(w, b.String()); err != nil {
			return err
		}
	}

	// Footer: what was left out, the path, the fan-ins, the clean-up.
	fmt.Fprintln(w)
	if hidden := len(l.Spans) - len(lines); hidden > 0 {
		var why []string
		if o.CriticalPathOnly {
			why = append(why, "--critical-path-only")
		}
		if o.MaxDepth >= 0 {
			why = append(why, fmt.Sprintf("--depth %d", o.MaxDepth))
		}
		if o.MinDurationNs > 0 {
			why = append(why, "--min-duration "+durText(o.MinDurationNs, plain))
		}
		fmt.Fprintf(w, "%d of %s shown (%d hidden by %s)\n", len(lines), plural(len(l.Spans), "span"), hidden, strings.Join(why, ", "))
	}
	fmt.Fprintf(w, "critical path: %s over %s", durText(l.CriticalPathNs, plain), plural(l.CriticalPathSpans, "span"))
	if len(l.FanIn) > 0 {
		fmt.Fprintf(w, "; fan-in: %s, %s waiting in all", plural(len(l.FanIn), "group"), durText(l.FanInWaitNs, plain))
	}
	fmt.Fprintln(w)
	if len(l.Warnings) > 0 {
		var parts []string
		for _, rc := range l.WarningRules() {
			parts = append(parts, fmt.Sprintf("%s x%d", rc.Rule, rc.Count))
		}
		fmt.Fprintf(w, "clean-up: %s\n", strings.Join(parts, ", "))
	}
	return nil
}
