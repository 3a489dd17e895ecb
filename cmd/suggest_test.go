package cmd

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestSuggestGolden(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"suggest-demo", []string{"suggest", "testdata/demo"}},
		{"suggest-demo-json", []string{"suggest", "-o", "json", "testdata/demo"}},
		{"suggest-demo-markdown", []string{"suggest", "-o", "markdown", "testdata/demo"}},
		{"suggest-what-if", []string{"suggest", "--include-dependent", "--top", "3", "--what-if", "to=pricing:-2ms",
			"--what-if", "to=route:x0.5", "--what-if", "to=nobody:x0", "testdata/demo"}},
		{"suggest-endpoint-none", []string{"suggest", "--endpoint", "frontend:GET /nothing", "testdata/demo"}},
		{"suggest-bad-what-if", []string{"suggest", "--what-if", "to=pricing:-20", "testdata/demo"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, code := run(t, "", tc.args...)
			golden(t, tc.name, stdout, stderr, code)
		})
	}
}

// analyze -o json carries the same candidates as suggest -o json.
func TestAnalyzeJSONCarriesCandidates(t *testing.T) {
	a, _, code := run(t, "", "analyze", "-o", "json", "testdata/demo")
	s, _, code2 := run(t, "", "suggest", "-o", "json", "testdata/demo")
	if code != ExitOK || code2 != ExitOK {
		t.Fatalf("exit %d, %d", code, code2)
	}
	var ad, sd struct {
		Parallelizable json.RawMessage `json:"parallelizable"`
	}
	if err := json.Unmarshal([]byte(a), &ad); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(s), &sd); err != nil {
		t.Fatal(err)
	}
	if len(ad.Parallelizable) < 10 || string(ad.Parallelizable) != string(sd.Parallelizable) {
		t.Errorf("analyze: %s\nsuggest: %s", ad.Parallelizable, sd.Parallelizable)
	}
}

func TestParseWhatIf(t *testing.T) {
	type call struct{ from, to, op string }
	pricing := call{"order-service", "pricing", "GetPrice"}
	tests := []struct {
		spec    string
		err     string // substring; "" = valid
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
		{spec: "to=pricing", err: `want SELECTORS:CHANGE, e.g. "to=pricing:-20ms"`},
		{spec: ":-20ms", err: "no selector before ':'"},
		{spec: "service=pricing:-20ms", err: `unknown selector "service": want from, to or operation`},
		{spec: "pricing:-20ms", err: `selector "pricing": want KEY=GLOB`},
		{spec: "to=:-20ms", err: "selector to= has no value"},
		{spec: "to=a,to=b:-20ms", err: `selector "to" given twice`},
		{spec: "to=[x:-20ms", err: "bad glob"},
		{spec: "to=pricing:", err: "no change after ':': want -DURATION or +DURATION (e.g. -20ms) or xFACTOR (e.g. x0.5)"},
		{spec: "to=pricing:-20", err: `bad duration "-20": want a number with a unit`},
		{spec: "to=pricing:--20ms", err: "bad duration"},
		{spec: "to=pricing:20ms", err: `bad change "20ms"`},
		{spec: "to=pricing:x-1", err: `bad factor "x-1": want x and a number ≥ 0`},
		{spec: "to=pricing:xx2", err: "bad factor"},
		{spec: "to=pricing:xNaN", err: "bad factor"},
	}
	for _, tc := range tests {
		t.Run(tc.spec, func(t *testing.T) {
			w, err := parseWhatIf(tc.spec)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), `"`+tc.spec+`"`) {
					t.Errorf("error %v, want one quoting the input and containing %q", err, tc.err)
				}
				return
			}
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
		})
	}
}
