package grammar

import (
	"path"
	"strings"
	"testing"
)

func TestMatchGlob(t *testing.T) {
	tests := []struct {
		pattern, name string
		want          bool
	}{
		// '/' is an ordinary character: the reason this is not path.Match.
		{"*", "HTTP GET /dispatch", true},
		{"HTTP GET /*", "HTTP GET /dispatch", true},
		{"HTTP GET /*", "HTTP GET /a/b/c", true},
		{"HTTP * /dispatch", "HTTP GET /dispatch", true},
		{"*/dispatch", "HTTP GET /dispatch", true},
		{"/driver.DriverService/*", "/driver.DriverService/FindNearest", true},
		{"GET /product/?", "GET /product//", true},
		{"a[/]b", "a/b", true},
		{"a?b", "a/b", true},
		// Whole-name, case-sensitive.
		{"frontend", "frontend", true},
		{"frontend", "frontend-v2", false},
		{"front", "frontend", false},
		{"Frontend", "frontend", false},
		{"", "", true},
		{"", "x", false},
		{"*", "", true},
		{"?", "", false},
		// Classes, negation, ranges, escapes.
		{"[ps]*", "pricing", true},
		{"[ps]*", "shipping-estimator", true},
		{"[ps]*", "inventory", false},
		{"[^ps]*", "inventory", true},
		{"[^ps]*", "pricing", false},
		{"svc[0-9]", "svc7", true},
		{"svc[0-9]", "svcx", false},
		{"svc[a-cx-z]", "svcy", true},
		{`\*`, "*", true},
		{`\*`, "x", false},
		{`GET /items\[0\]`, "GET /items[0]", true},
		{`[\]]`, "]", true},
		{`[\-]`, "-", true},
		{"a]b", "a]b", true},
		// Several stars and backtracking.
		{"*a*b*c*", "xxaxxbxxcxx", true},
		{"*a*b*c*", "xxaxxcxxbxx", false},
		{"*b", "abb", true},
		{"a*b*", "ab", true},
		{"*aab", "aaaab", true},
		{"**", "x", true},
		// Non-ASCII: '?' is one character, not one byte.
		{"caf?", "café", true},
		{"?", "µ", true},
		{"[µμ]s", "μs", true},
		// A byte of invalid UTF-8 is itself, not any invalid byte.
		{"\xd6", "\x80", false},
		{"\xd6", "\xd6", true},
		{"?", "\x80", true},
		// A malformed pattern matches nothing.
		{"[abc", "a", false},
		{"x\\", "x\\", false},
	}
	for _, tt := range tests {
		if got := MatchGlob(tt.pattern, tt.name); got != tt.want {
			t.Errorf("MatchGlob(%q, %q) = %v, want %v", tt.pattern, tt.name, got, tt.want)
		}
	}
}

// TestMatchGlobLikePathMatch checks that, away from '/', the globs are
// path.Match's.
func TestMatchGlobLikePathMatch(t *testing.T) {
	patterns := []string{"*", "a*", "*a", "a?c", "[abc]*", "[^a]?", "[a-c]x", `\*a`, "*b*", "ab", "?", "??", "a*b*c", "[a-]", "[", `a\`}
	names := []string{"", "a", "ab", "abc", "ba", "bx", "*a", "aXbYc", "ccc", "?", "a-"}
	for _, p := range patterns {
		for _, n := range names {
			want, err := path.Match(p, n)
			if err != nil {
				if CheckGlob(p) == nil {
					t.Errorf("CheckGlob(%q) accepts what path.Match rejects: %v", p, err)
				}
				continue
			}
			if got := MatchGlob(p, n); got != want {
				t.Errorf("MatchGlob(%q, %q) = %v, path.Match says %v", p, n, got, want)
			}
		}
	}
}

func TestCheckGlob(t *testing.T) {
	for _, ok := range []string{"", "*", "a?b", "[a-z]", "[^x]", `\[`, `[\]]`, "a]", "HTTP GET /dispatch"} {
		if err := CheckGlob(ok); err != nil {
			t.Errorf("CheckGlob(%q): %v", ok, err)
		}
	}

}

// TestMatchGlobNoBlowup: star backtracking stays polynomial on the
// pattern that is exponential for naive recursive matchers.
func TestMatchGlobNoBlowup(t *testing.T) {
	p := strings.Repeat("*a", 30) + "b"
	n := strings.Repeat("a", 5000)
	if MatchGlob(p, n) {
		t.Error("matched")
	}
}
