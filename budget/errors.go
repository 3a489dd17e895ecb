package budget

import (
	"fmt"
	"strings"
)

// MaxErrors is how many problems a ValidationError lists; the rest are only
// counted, so a file that is wrong throughout still gives a readable report.
const MaxErrors = 20

// Error is one problem in a budget file.
type Error struct {
	File   string
	Line   int    // 1-based; 0 only when the problem is the whole file (it is empty)
	Column int    // 1-based; 0 when the YAML decoder gave no column
	Path   string // where in the document, e.g. hops[1].p99; empty for the file itself
	Msg    string // what was found and what would be valid
}

// Error formats the problem as FILE:LINE:COL: PATH: MSG, leaving out the
// parts that are unknown, so editors and CI annotations can jump to it.
func (e Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
		if e.Column > 0 {
			fmt.Fprintf(&b, ":%d", e.Column)
		}
	}
	b.WriteString(": ")
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// ValidationError is every problem found in a budget file, in file order:
// at most MaxErrors of them, with Omitted counting the rest. Parse and Load
// return it for syntax and validation problems alike.
type ValidationError struct {
	Errors  []Error
	Omitted int
}

// Error lists the problems one per line.
func (v *ValidationError) Error() string {
	lines := make([]string, 0, len(v.Errors)+1)
	for _, e := range v.Errors {
		lines = append(lines, e.Error())
	}
	if v.Omitted > 0 {
		lines = append(lines, fmt.Sprintf("(and %d more problems)", v.Omitted))
	}
	return strings.Join(lines, "\n")
}

// didYouMean suggests the valid word closest to s: the same but for case
// or '-'/'_', else within two edits; "" when none is close.
func didYouMean(s string, valid []string) string {
	norm := func(w string) string {
		return strings.ToLower(strings.NewReplacer("-", "", "_", "").Replace(w))
	}
	for _, v := range valid {
		if norm(v) == norm(s) {
			return fmt.Sprintf(" (did you mean %s?)", quote(v))
		}
	}
	if len(s) > 64 {
		return ""
	}
	// Short words are all within two edits of each other: allow one.
	best, bestDist := "", 2
	if len(s) > 4 {
		bestDist = 3
	}
	for _, v := range valid {
		if d := editDistance(s, v); d < bestDist {
			best, bestDist = v, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %s?)", quote(best))
}

// editDistance counts single-byte insertions, deletions, substitutions and
// swaps of neighbours ("form" is one edit from "from").
func editDistance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}
