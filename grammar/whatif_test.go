package grammar

import (
	"testing"
	"time"
)

func TestParseWhatIf(t *testing.T) {
	type call struct{ from, to, op string }
	pricing := call{"order-service", "pricing", "GetPrice"}
	tests := []struct {
		spec    string
		factor  float64
		shift   time.Duration
		match   []call
		nomatch []call
	}{
		{spec: "to=pricing:-20ms", factor: 1, shift: -20 * time.Millisecond, match: []call{pricing}, nomatch: []call{{"x", "pricing2", "GetPrice"}}},
		{spec: "to=recommendations:x0.5", factor: 0.5, match: []call{{"frontend", "recommendations", "List"}}, nomatch: []call{pricing}},
		{spec: "from=frontend,operation=GET *:×2", factor: 2, match: []call{{"frontend", "api", "GET /a/b"}}, nomatch: []call{{"frontend", "api", "POST /a"}, {"edge", "api", "GET /"}}},
		{spec: "op=db:query:+1.5ms", factor: 1, shift: 1500 * time.Microsecond, match: []call{{"a", "b", "db:query"}}},
		{spec: "to=pricing , from=order-*:*0", factor: 0, match: []call{pricing}},
		{spec: "to=pricing:X1", factor: 1, match: []call{pricing}},
	}
	for _, tc := range tests {
		t.Run(tc.spec, func(t *testing.T) {
			w, err := ParseWhatIf(tc.spec)
			if err != nil {
				t.Fatal(err)
			}
			if w.Spec != tc.spec || w.Factor != tc.factor || w.Shift != tc.shift {
				t.Errorf("got %+v", w)
			}
			for _, c := range tc.match {
				if !w.Match(c.from, c.to, c.op) {
					t.Errorf("%v does not match", c)
				}
			}
			for _, c := range tc.nomatch {
				if w.Match(c.from, c.to, c.op) {
					t.Errorf("%v matches", c)
				}
			}
			// The normal form reads back as the same selection and change.
			back, err := ParseWhatIf(w.String())
			back.Spec = w.Spec
			if err != nil || back != w {
				t.Errorf("%q read back as %+v, %v; want %+v", w.String(), back, err, w)
			}
		})
	}
}
