package grammar

import (
	"unicode/utf8"
)

// Globs are path.Match's, except that '/' is an ordinary character:
// operation names such as "HTTP GET /dispatch" contain slashes, and
// path.Match's '*' stops at them.
//
//	pattern    = { term }
//	term       = '*'                               any run of characters, '/' included, even none
//	           | '?'                               any one character
//	           | '[' [ '^' ] range { range } ']'   one character in (with ^: not in) the ranges
//	           | '\' char                          char itself
//	           | char                              itself: any character but '*', '?', '[', '\'
//	range      = class-char [ '-' class-char ]
//	class-char = '\' char | any character but '\', '-', ']'
//
// Matching is case-sensitive and covers the whole name.

// CheckGlob reports whether pattern is a well-formed glob; the error (a
// *SyntaxError) says what is wrong with it and where.
func CheckGlob(pattern string) error {
	for i := 0; i < len(pattern); {
		if pattern[i] == '*' {
			i++
			continue
		}
		_, n, bad := matchTerm(pattern[i:], 0)
		if bad != nil {
			return errAt("glob", pattern, i+bad.off, bad.problem, pattern[i+bad.off:i+bad.end], bad.want)
		}
		i += n
	}
	return nil
}

// MatchGlob reports whether name matches the whole glob pattern. A
// malformed pattern matches nothing (CheckGlob tells why).
func MatchGlob(pattern, name string) bool {
	// Greedy matching that backtracks only to the last '*': linear in
	// practice and never exponential, whatever the pattern.
	px, nx := 0, 0
	starPx, starNx := -1, 0
	for px < len(pattern) || nx < len(name) {
		if px < len(pattern) {
			if pattern[px] == '*' {
				starPx, starNx = px, nx
				px++
				continue
			}
			if nx < len(name) {
				r, w := decodeRune(name[nx:])
				ok, n, bad := matchTerm(pattern[px:], r)
				if bad != nil {
					return false
				}
				if ok {
					px += n
					nx += w
					continue
				}
			}
		}
		// Mismatch: let the last '*' swallow one more character.
		if starPx < 0 || starNx >= len(name) {
			return false
		}
		_, w := decodeRune(name[starNx:])
		starNx += w
		px, nx = starPx+1, starNx
	}
	return true
}

// decodeRune is utf8.DecodeRuneInString, except that each byte of
// invalid UTF-8 decodes to a value of its own beyond Unicode: a pattern's
// stray byte matches that byte only, not every invalid byte.
func decodeRune(s string) (rune, int) {
	r, w := utf8.DecodeRuneInString(s)
	if r == utf8.RuneError && w == 1 {
		r = utf8.MaxRune + 1 + rune(s[0])
	}
	return r, w
}

// globProblem is a malformed term: the bytes [off, end) of the term (from
// its start) are what is wrong.
type globProblem struct {
	off, end      int
	problem, want string
}

const (
	wantClose     = `"]" closing the class (write \[ for a literal "[")`
	wantRangeEnds = `a character on each side of "-" (write \- for a literal "-")`
)

// matchTerm matches the term at the start of p (not '*') against r. It
// returns whether r matches, the term's length in bytes, and what is wrong
// when the term is malformed.
func matchTerm(p string, r rune) (ok bool, n int, bad *globProblem) {
	switch p[0] {
	case '?':
		return true, 1, nil
	case '\\':
		if len(p) == 1 {
			return false, 0, &globProblem{0, 1, `"\" at the end escapes nothing`, `a character after "\" (write \\ for a literal "\")`}
		}
		c, w := decodeRune(p[1:])
		return c == r, 1 + w, nil
	case '[':
		return matchClass(p, r)
	}
	c, w := decodeRune(p)
	return c == r, w, nil
}

// matchClass matches the character class at the start of p against r.
func matchClass(p string, r rune) (ok bool, n int, bad *globProblem) {
	unclosed := &globProblem{0, len(p), `"[" has no closing "]"`, wantClose}
	i := 1
	negate := false
	if i < len(p) && p[i] == '^' {
		negate = true
		i++
	}
	matched := false
	for ranges := 0; ; ranges++ {
		if i >= len(p) {
			return false, 0, unclosed
		}
		if p[i] == ']' {
			if ranges == 0 {
				return false, 0, &globProblem{0, i + 1, "empty character class", `a character before "]" (write \] for a literal "]")`}
			}
			i++
			break
		}
		lo, w, bad := classChar(p, i)
		if bad != nil {
			return false, 0, bad
		}
		at := i
		i += w
		hi := lo
		if i < len(p) && p[i] == '-' {
			i++
			if hi, w, bad = classChar(p, i); bad != nil {
				return false, 0, bad
			}
			i += w
			if hi < lo {
				return false, 0, &globProblem{at, i, "reversed range", "the lower character first, e.g. a-z"}
			}
		}
		if lo <= r && r <= hi {
			matched = true
		}
	}
	return matched != negate, i, nil
}

// classChar reads the class-char at p[i:].
func classChar(p string, i int) (c rune, n int, bad *globProblem) {
	if i >= len(p) || p[i] == '\\' && i+1 == len(p) {
		return 0, 0, &globProblem{0, len(p), `"[" has no closing "]"`, wantClose}
	}
	switch p[i] {
	case '-', ']':
		// A '-' where a range end belongs: "[-a]", "[a-]", "[a--]".
		dash := i
		if p[i] == ']' {
			dash = i - 1
		}
		return 0, 0, &globProblem{dash, dash + 1, `"-" without a character on each side`, wantRangeEnds}
	case '\\':
		c, w := decodeRune(p[i+1:])
		return c, 1 + w, nil
	}
	c, w := decodeRune(p[i:])
	return c, w, nil
}
