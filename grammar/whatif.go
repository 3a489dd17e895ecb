package grammar

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// WhatIf is one --what-if of suggest: the calls it selects and how their
// duration changes.
//
//	what-if   = selectors ":" change
//	selectors = selector { "," selector }          each key at most once
//	selector  = key "=" glob                       white space allowed around key and glob
//	key       = "from" | "to" | "operation" | "op"
//	change    = ( "-" | "+" ) duration             shorter or longer by, e.g. -20ms, +1.5ms
//	          | ( "x" | "X" | "*" | "×" ) factor   duration times a number ≥ 0, e.g. x0.5
//
// duration is Go's (20ms, 1.5s, 500us); globs are those of glob.go ('*'
// matches '/'). The change follows the last ':', so globs may contain
// colons; a ',' always ends a selector (write ? for a comma in a name). A
// call matches when every selector matches its hop (caller service,
// callee, operation).
type WhatIf struct {
	// Spec is the text as given.
	Spec string
	// From, To, Operation: the selectors' globs, "" for any.
	From, To, Operation string
	// Factor multiplies the duration (1 = unchanged); Shift is then added
	// (negative = faster).
	Factor float64
	Shift  time.Duration
}

// Match reports whether a call from → to with operation op is selected.
func (w WhatIf) Match(from, to, op string) bool {
	return (w.From == "" || MatchGlob(w.From, from)) && (w.To == "" || MatchGlob(w.To, to)) &&
		(w.Operation == "" || MatchGlob(w.Operation, op))
}

// String is the what-if in a normal form ParseWhatIf reads back as the
// same selection and change.
func (w WhatIf) String() string {
	var sel []string
	for _, kv := range [][2]string{{"from", w.From}, {"to", w.To}, {"operation", w.Operation}} {
		if kv[1] != "" {
			sel = append(sel, kv[0]+"="+kv[1])
		}
	}
	change := "x" + strconv.FormatFloat(w.Factor, 'g', -1, 64)
	switch {
	case w.Factor == 1 && w.Shift < 0:
		change = w.Shift.String()
	case w.Factor == 1 && w.Shift > 0:
		change = "+" + w.Shift.String()
	}
	return strings.Join(sel, ",") + ":" + change
}

const (
	wantWhatIfKey = "from, to or operation"
	wantChange    = "-DURATION or +DURATION (e.g. -20ms) or xFACTOR (e.g. x0.5)"
)

// ParseWhatIf reads one --what-if (see WhatIf).
func ParseWhatIf(spec string) (WhatIf, error) {
	fail := func(off int, problem, found, want string) (WhatIf, error) {
		return WhatIf{}, errAt("what-if", spec, off, problem, found, want)
	}
	colon := strings.LastIndexByte(spec, ':')
	if colon < 0 {
		return fail(len(spec), `no ":" before the change`, "", `SELECTORS:CHANGE, e.g. "to=pricing:-20ms" or "from=frontend,operation=GET*:x0.5"`)
	}
	if strings.TrimSpace(spec[:colon]) == "" {
		return fail(0, "no selector", spec[:colon+1], wantWhatIfKey+"=GLOB before the ':', e.g. to=pricing")
	}
	w := WhatIf{Spec: spec, Factor: 1}
	for off := 0; off < colon; {
		end := off + strings.IndexByte(spec[off:colon]+",", ',')
		part := spec[off:end]
		eq := strings.IndexByte(part, '=')
		if eq < 0 {
			t, tOff := field(spec, off, end)
			if t == "" {
				return fail(end, "empty selector", spec[end:end+1], "KEY=GLOB with KEY "+wantWhatIfKey)
			}
			return fail(tOff, "selector without =", t, "KEY=GLOB with KEY "+wantWhatIfKey)
		}
		k, kOff := field(spec, off, off+eq)
		v, vOff := field(spec, off+eq+1, end)
		var dst *string
		switch k {
		case "":
			return fail(off+eq, "no key before =", "=", wantWhatIfKey+" before =")
		case "from":
			dst = &w.From
		case "to":
			dst = &w.To
		case "operation", "op":
			dst = &w.Operation
		default:
			return fail(kOff, "unknown selector", k, wantWhatIfKey)
		}
		if *dst != "" {
			return fail(kOff, "selector given twice", k, "each of "+wantWhatIfKey+" at most once")
		}
		if v == "" {
			return fail(end, "selector "+k+"= has no value", spec[end:end+1], "a name or glob")
		}
		if err := CheckGlob(v); err != nil {
			return WhatIf{}, err.(*SyntaxError).within("what-if", spec, vOff)
		}
		*dst = v
		off = end + 1
	}
	cOff := colon + 1
	for cOff < len(spec) && spec[cOff] == ' ' {
		cOff++
	}
	change := strings.TrimRight(spec[cOff:], " ")
	switch {
	case change == "":
		return fail(cOff, "no change", "", wantChange)
	case change[0] == '-' || change[0] == '+':
		d, err := time.ParseDuration(change[1:])
		if err != nil || d < 0 || strings.HasPrefix(change[1:], "-") || strings.HasPrefix(change[1:], "+") {
			return fail(cOff, "bad duration", change, "a number with a unit (ns, us, ms, s), e.g. -20ms")
		}
		if change[0] == '-' {
			d = -d
		}
		w.Shift = d
	case factorPrefix(change) > 0:
		f, err := strconv.ParseFloat(change[factorPrefix(change):], 64)
		if err != nil || f < 0 || math.IsInf(f, 0) || math.IsNaN(f) {
			return fail(cOff, "bad factor", change, "x and a number ≥ 0, e.g. x0.5")
		}
		w.Factor = f
	default:
		return fail(cOff, "bad change", change, wantChange)
	}
	return w, nil
}

// factorPrefix is the length of the x, X, * or × starting s, else 0.
func factorPrefix(s string) int {
	for _, p := range []string{"x", "X", "*", "×"} {
		if strings.HasPrefix(s, p) {
			return len(p)
		}
	}
	return 0
}
