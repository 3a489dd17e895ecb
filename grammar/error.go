package grammar

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// SyntaxError is an input that does not follow its grammar:
//
//	what-if "to=pricing:-20", column 12: bad duration: found "-20", want a number with a unit (ns, us, ms, s), e.g. -20ms
type SyntaxError struct {
	// Grammar names the language: "glob", "what-if", "fail-on rule", …
	Grammar string
	// Input is the whole text that was parsed.
	Input string
	// Column is where the problem lies, in characters from 1 (one past the
	// last character: at the end).
	Column int
	// Problem says what is wrong; Found is the text found at Column (""
	// at the end of the input); Want is what would have been valid there.
	Problem, Found, Want string
}

func (e *SyntaxError) Error() string {
	found := "the end"
	if e.Found != "" {
		found = strconv.Quote(e.Found)
	}
	return fmt.Sprintf("%s %q, column %d: %s: found %s, want %s", e.Grammar, e.Input, e.Column, e.Problem, found, e.Want)
}

// errAt builds a SyntaxError at byte offset off of input.
func errAt(grammar, input string, off int, problem, found, want string) *SyntaxError {
	return &SyntaxError{Grammar: grammar, Input: input, Column: column(input, off), Problem: problem, Found: found, Want: want}
}

// column is the 1-based character column of byte offset off in s.
func column(s string, off int) int {
	off = min(max(off, 0), len(s))
	return utf8.RuneCountInString(s[:off]) + 1
}

// within re-places an error found in a part of a larger input (e.g. a glob
// inside a what-if starting at byte offset off) so that its column points
// into the larger input.
func (e *SyntaxError) within(grammar, input string, off int) *SyntaxError {
	return &SyntaxError{Grammar: grammar, Input: input, Column: column(input, off) + e.Column - 1,
		Problem: e.Grammar + ": " + e.Problem, Found: e.Found, Want: e.Want}
}

// field is s[from:to] without the white space around it, and the byte
// offset in s where it starts.
func field(s string, from, to int) (string, int) {
	t := strings.TrimLeftFunc(s[from:to], unicode.IsSpace)
	return strings.TrimRightFunc(t, unicode.IsSpace), to - len(t)
}
