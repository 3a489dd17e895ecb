package budget

import (
	"fmt"
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

// CheckGlob reports whether pattern is a well-formed glob; the error says
// what is wrong with it.
func CheckGlob(pattern string) error {
	for i := 0; i < len(pattern); {
		if pattern[i] == '*' {
			i++
			continue
		}
		_, n, problem := matchTerm(pattern[i:], 0)
		if problem != "" {
			return fmt.Errorf("bad glob %s: %s", quote(pattern), problem)
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
				r, w := utf8.DecodeRuneInString(name[nx:])
				ok, n, problem := matchTerm(pattern[px:], r)
				if problem != "" {
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
		_, w := utf8.DecodeRuneInString(name[starNx:])
		starNx += w
		px, nx = starPx+1, starNx
	}
	return true
}

// matchTerm matches the term at the start of p (not '*') against r. It
// returns whether r matches, the term's length in bytes, and a problem
// when the term is malformed.
func matchTerm(p string, r rune) (ok bool, n int, problem string) {
	switch p[0] {
	case '?':
		return true, 1, ""
	case '\\':
		if len(p) == 1 {
			return false, 0, `"\" at the end escapes nothing`
		}
		c, w := utf8.DecodeRuneInString(p[1:])
		return c == r, 1 + w, ""
	case '[':
		return matchClass(p, r)
	}
	c, w := utf8.DecodeRuneInString(p)
	return c == r, w, ""
}

// matchClass matches the character class at the start of p against r.
func matchClass(p string, r rune) (ok bool, n int, problem string) {
	i := 1
	negate := false
	if i < len(p) && p[i] == '^' {
		negate = true
		i++
	}
	matched := false
	for ranges := 0; ; ranges++ {
		if i >= len(p) {
			return false, 0, `"[" has no closing "]"`
		}
		if p[i] == ']' {
			if ranges == 0 {
				return false, 0, `empty character class (write \] for a literal "]")`
			}
			i++
			break
		}
		lo, w, problem := classChar(p[i:])
		if problem != "" {
			return false, 0, problem
		}
		i += w
		hi := lo
		if i < len(p) && p[i] == '-' {
			i++
			if hi, w, problem = classChar(p[i:]); problem != "" {
				return false, 0, problem
			}
			i += w
			if hi < lo {
				return false, 0, fmt.Sprintf("range %s is reversed", quote(string(lo)+"-"+string(hi)))
			}
		}
		if lo <= r && r <= hi {
			matched = true
		}
	}
	return matched != negate, i, ""
}

func classChar(p string) (c rune, n int, problem string) {
	if len(p) == 0 {
		return 0, 0, `"[" has no closing "]"`
	}
	switch p[0] {
	case '-':
		return 0, 0, `"-" in a character class needs a character on each side (write \- for a literal "-")`
	case ']':
		return 0, 0, `"-" in a character class needs a character on each side (write \- for a literal "-")`
	case '\\':
		if len(p) == 1 {
			return 0, 0, `"[" has no closing "]"`
		}
		c, w := utf8.DecodeRuneInString(p[1:])
		return c, 1 + w, ""
	}
	c, w := utf8.DecodeRuneInString(p)
	return c, w, ""
}
