package grammar

import (
	"errors"
	"testing"
)

// TestSyntaxErrors holds every grammar's errors to their full text: what
// is wrong, the column (in characters), the text found there, and what
// would have been valid.
func TestSyntaxErrors(t *testing.T) {
	one := func(f func(string) error) func(string) error { return f }
	parsers := map[string]func(string) error{
		"glob":     CheckGlob,
		"endpoint": one(func(s string) error { _, err := ParseEndpoint(s); return err }),
		"what-if":  one(func(s string) error { _, err := ParseWhatIf(s); return err }),
		"gate":     one(func(s string) error { _, err := ParseGate(s); return err }),
		"band":     one(func(s string) error { _, err := ParseBand(s); return err }),
		"slowest":  one(func(s string) error { _, err := ParseSlowest(s); return err }),
		"clock":    one(func(s string) error { _, err := ParseClockGranularity([]string{"auto", s}); return err }),
		"size":     one(func(s string) error { _, err := ParseBytes(s); return err }),
	}
	for _, tc := range syntaxErrorCases {
		err := parsers[tc.grammar](tc.in)
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("%s %q: got %v, want a *SyntaxError", tc.grammar, tc.in, err)
			continue
		}
		if se.Column != tc.col || err.Error() != tc.want {
			t.Errorf("%s %q: column %d\n got  %s\n want %s", tc.grammar, tc.in, se.Column, err, tc.want)
		}
	}
}

// syntaxErrorCases are bad inputs of every grammar with their full error
// text; the fuzz targets start from them too.
var syntaxErrorCases = []struct {
	grammar, in string
	col         int
	want        string
}{
	{"glob", "[abc", 1, `glob "[abc", column 1: "[" has no closing "]": found "[abc", want "]" closing the class (write \[ for a literal "[")`},
	{"glob", "x[", 2, `glob "x[", column 2: "[" has no closing "]": found "[", want "]" closing the class (write \[ for a literal "[")`},
	{"glob", `[\`, 1, `glob "[\\", column 1: "[" has no closing "]": found "[\\", want "]" closing the class (write \[ for a literal "[")`},
	{"glob", `x\`, 2, `glob "x\\", column 2: "\" at the end escapes nothing: found "\\", want a character after "\" (write \\ for a literal "\")`},
	{"glob", "a[]", 2, `glob "a[]", column 2: empty character class: found "[]", want a character before "]" (write \] for a literal "]")`},
	{"glob", "[^]", 1, `glob "[^]", column 1: empty character class: found "[^]", want a character before "]" (write \] for a literal "]")`},
	{"glob", "é[z-a]", 3, `glob "é[z-a]", column 3: reversed range: found "z-a", want the lower character first, e.g. a-z`},
	{"glob", "[a-]", 3, `glob "[a-]", column 3: "-" without a character on each side: found "-", want a character on each side of "-" (write \- for a literal "-")`},
	{"glob", "[-a]", 2, `glob "[-a]", column 2: "-" without a character on each side: found "-", want a character on each side of "-" (write \- for a literal "-")`},

	{"endpoint", "frontend:[oops", 10, `endpoint "frontend:[oops", column 10: glob: "[" has no closing "]": found "[oops", want "]" closing the class (write \[ for a literal "[")`},
	{"endpoint", `a\:b`, 2, `endpoint "a\\:b", column 2: glob: "\" at the end escapes nothing: found "\\", want a character after "\" (write \\ for a literal "\")`},

	{"what-if", "to=pricing", 11, `what-if "to=pricing", column 11: no ":" before the change: found the end, want SELECTORS:CHANGE, e.g. "to=pricing:-20ms" or "from=frontend,operation=GET*:x0.5"`},
	{"what-if", " :-20ms", 1, `what-if " :-20ms", column 1: no selector: found " :", want from, to or operation=GLOB before the ':', e.g. to=pricing`},
	{"what-if", "service=pricing:-20ms", 1, `what-if "service=pricing:-20ms", column 1: unknown selector: found "service", want from, to or operation`},
	{"what-if", "to=a, pricing:-20ms", 7, `what-if "to=a, pricing:-20ms", column 7: selector without =: found "pricing", want KEY=GLOB with KEY from, to or operation`},
	{"what-if", "=:", 1, `what-if "=:", column 1: no key before =: found "=", want from, to or operation before =`},
	{"what-if", "to=a, ,op=b:x1", 7, `what-if "to=a, ,op=b:x1", column 7: empty selector: found ",", want KEY=GLOB with KEY from, to or operation`},
	{"what-if", "to=:-20ms", 4, `what-if "to=:-20ms", column 4: selector to= has no value: found ":", want a name or glob`},
	{"what-if", "to=a, to=b:-20ms", 7, `what-if "to=a, to=b:-20ms", column 7: selector given twice: found "to", want each of from, to or operation at most once`},
	{"what-if", "op=x,to=a[b:-20ms", 10, `what-if "op=x,to=a[b:-20ms", column 10: glob: "[" has no closing "]": found "[b", want "]" closing the class (write \[ for a literal "[")`},
	{"what-if", "to=pricing: ", 13, `what-if "to=pricing: ", column 13: no change: found the end, want -DURATION or +DURATION (e.g. -20ms) or xFACTOR (e.g. x0.5)`},
	{"what-if", "to=pricing:-20", 12, `what-if "to=pricing:-20", column 12: bad duration: found "-20", want a number with a unit (ns, us, ms, s), e.g. -20ms`},
	{"what-if", "to=pricing:--20ms", 12, `what-if "to=pricing:--20ms", column 12: bad duration: found "--20ms", want a number with a unit (ns, us, ms, s), e.g. -20ms`},
	{"what-if", "to=pricing:20ms", 12, `what-if "to=pricing:20ms", column 12: bad change: found "20ms", want -DURATION or +DURATION (e.g. -20ms) or xFACTOR (e.g. x0.5)`},
	{"what-if", "to=pricing: x-1", 13, `what-if "to=pricing: x-1", column 13: bad factor: found "x-1", want x and a number ≥ 0, e.g. x0.5`},
	{"what-if", "to=pricing:×NaN", 12, `what-if "to=pricing:×NaN", column 12: bad factor: found "×NaN", want x and a number ≥ 0, e.g. x0.5`},

	{"gate", "p98>+10%", 1, `fail-on rule "p98>+10%", column 1: unknown metric: found "p98", want one of p50, p95, p99, mean`},
	{"gate", "", 1, `fail-on rule "", column 1: unknown metric: found the end, want one of p50, p95, p99, mean`},
	{"gate", "p99<+10%", 4, `fail-on rule "p99<+10%", column 4: missing comparison: found "<", want ">" (a gate fails on growth)`},
	{"gate", "p99 ", 5, `fail-on rule "p99 ", column 5: missing comparison: found the end, want ">" (a gate fails on growth)`},
	{"gate", "p99>-10%", 5, `fail-on rule "p99>-10%", column 5: missing threshold: found "-", want a non-negative number, e.g. +10% or +5ms`},
	{"gate", "p99>+.5%", 6, `fail-on rule "p99>+.5%", column 6: missing threshold: found ".", want a non-negative number, e.g. +10% or +5ms`},
	{"gate", "p99>+10", 8, `fail-on rule "p99>+10", column 8: unknown unit: found the end, want % or a duration unit: ns, us, µs, ms, s`},
	{"gate", "p99>+10 min", 9, `fail-on rule "p99>+10 min", column 9: unknown unit: found "min", want % or a duration unit: ns, us, µs, ms, s`},
	{"gate", "µ>1s", 1, `fail-on rule "µ>1s", column 1: unknown metric: found "µ", want one of p50, p95, p99, mean`},
	{"gate", "p99>99999999999s", 5, `fail-on rule "p99>99999999999s", column 5: threshold too large: found "99999999999", want at most 9223372036s`},

	{"band", "p95", 4, `percentile band "p95", column 4: no "-" between the bounds: found the end, want "-" and the high bound, e.g. p95-p100`},
	{"band", "p99-p95", 5, `percentile band "p99-p95", column 5: the high bound is not above the low one: found "p95", want a bound above 99`},
	{"band", "p50 - p50", 7, `percentile band "p50 - p50", column 7: the high bound is not above the low one: found "p50", want a bound above 50`},
	{"band", " x-p100", 2, `percentile band " x-p100", column 2: bad bound: found "x", want a percentile from 0 to 100 with up to three decimals, e.g. p95`},
	{"band", "-", 1, `percentile band "-", column 1: bad bound: found "-", want a percentile from 0 to 100 with up to three decimals, e.g. p95`},
	{"band", "p5-", 4, `percentile band "p5-", column 4: bad bound: found the end, want a percentile from 0 to 100 with up to three decimals, e.g. p95`},
	{"band", "p95-p101", 5, `percentile band "p95-p101", column 5: bad bound: found "p101", want a percentile from 0 to 100 with up to three decimals, e.g. p95`},
	{"band", "p95.0001-p100", 1, `percentile band "p95.0001-p100", column 1: bad bound: found "p95.0001", want a percentile from 0 to 100 with up to three decimals, e.g. p95`},
	{"band", "p-1-p10", 1, `percentile band "p-1-p10", column 1: bad bound: found "p", want a percentile from 0 to 100 with up to three decimals, e.g. p95`},

	{"slowest", "0%", 1, `slowest "0%", column 1: bad percentage: found "0%", want a percentage above 0 and at most 100 with up to three decimals, e.g. 1%`},
	{"slowest", " 101", 2, `slowest " 101", column 2: bad percentage: found "101", want a percentage above 0 and at most 100 with up to three decimals, e.g. 1%`},
	{"slowest", "", 1, `slowest "", column 1: bad percentage: found the end, want a percentage above 0 and at most 100 with up to three decimals, e.g. 1%`},

	{"clock", "web", 1, `clock granularity "web", column 1: no "=": found "web", want auto, SERVICE=DURATION or *=DURATION (e.g. web=1ms)`},
	{"clock", " =1ms", 1, `clock granularity " =1ms", column 1: no service: found " =", want a service name or "*" before "=" (e.g. web=1ms)`},
	{"clock", "web= 1x", 6, `clock granularity "web= 1x", column 6: bad duration: found "1x", want a duration of 0 or more, e.g. 1ms`},
	{"clock", "web=-1ms", 5, `clock granularity "web=-1ms", column 5: bad duration: found "-1ms", want a duration of 0 or more, e.g. 1ms`},
	{"clock", "web=", 5, `clock granularity "web=", column 5: bad duration: found the end, want a duration of 0 or more, e.g. 1ms`},

	{"size", "lots", 1, `size "lots", column 1: no number: found "lots", want a number with an optional unit (KiB, MiB, GiB, TiB, KB, MB, GB, TB), e.g. 512MiB`},
	{"size", "", 1, `size "", column 1: no number: found the end, want a number with an optional unit (KiB, MiB, GiB, TiB, KB, MB, GB, TB), e.g. 512MiB`},
	{"size", " 12 XB", 5, `size " 12 XB", column 5: unknown unit: found "XB", want one of B, KiB, MiB, GiB, TiB (1024s), KB, MB, GB, TB (1000s)`},
	{"size", "99999999999TiB", 1, `size "99999999999TiB", column 1: size too large: found "99999999999TiB", want at most 9223372036854775807 bytes`},
	{"size", "99999999999999999999", 1, `size "99999999999999999999", column 1: number too large: found "99999999999999999999", want at most 9223372036854775807 bytes`},
}
