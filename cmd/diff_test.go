package cmd

import (
	"encoding/json"
	"encoding/xml"
	"hopbudget/analyze"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"hopbudget/internal/tracegentest"
)

func TestDiffGolden(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		// Different endpoints on each side: only-in-base / only-in-candidate.
		{"diff-demo-split", []string{"diff", "testdata/demo/hotrod.otlp.jsonl.gz", "testdata/demo/checkout.otlp.jsonl.zst"}},
		// The same traces: nothing changed, -v shows every row anyway.
		{"diff-demo-same-verbose", []string{"diff", "-v", "--endpoint", "frontend:POST /checkout", "--fail-on", "p99>+10%",
			"testdata/demo", "testdata/demo/checkout.otlp.jsonl.zst"}},
		{"diff-demo-same-markdown", []string{"diff", "-o", "markdown", "testdata/demo", "--", "testdata/demo/checkout.otlp.jsonl.zst", "testdata/demo/hotrod.otlp.jsonl.gz"}},
		{"diff-demo-same-github", []string{"diff", "-o", "github", "--fail-on", "p99>+10%", "testdata/demo", "--", "testdata/demo/checkout.otlp.jsonl.zst", "testdata/demo/hotrod.otlp.jsonl.gz"}},
		{"diff-bad-fail-on", []string{"diff", "--fail-on", "p99>+10%,p98>5ms", "testdata/demo", "testdata/demo"}},
		{"diff-bad-unit", []string{"diff", "--fail-on", "mean>+5min", "testdata/demo", "testdata/demo"}},
		{"diff-one-arg", []string{"diff", "testdata/demo"}},
		{"diff-bad-alpha", []string{"diff", "--alpha", "5", "testdata/demo", "testdata/demo"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, code := run(t, "", tc.args...)
			golden(t, tc.name, stdout, stderr, code)
		})
	}
}

// diffJSONOut is the part of `diff -o json` the tests read.
type diffJSONOut struct {
	Base struct {
		Traces int `json:"traces"`
	} `json:"base"`
	Alpha       float64  `json:"alpha"`
	Correction  string   `json:"correction"`
	FailOn      []string `json:"failOn"`
	Failed      bool     `json:"failed"`
	Significant int      `json:"significant"`
	Compared    int      `json:"compared"`
	Endpoints   []map[string]any
	Hops        []map[string]any
}

func parseDiffJSON(t *testing.T, stdout string) *diffJSONOut {
	t.Helper()
	var d diffJSONOut
	if err := json.Unmarshal([]byte(stdout), &d); err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	return &d
}

// significant lists the significant endpoints ("service operation") and
// hops ("from → to operation").
func (d *diffJSONOut) significant() []string {
	var out []string
	for _, e := range d.Endpoints {
		if e["significant"] == true {
			out = append(out, e["service"].(string)+" "+e["operation"].(string))
		}
	}
	for _, h := range d.Hops {
		if h["significant"] == true {
			out = append(out, h["from"].(string)+" → "+h["to"].(string)+" "+h["operation"].(string))
		}
	}
	return out
}

// The acceptance test: two tracegen runs of one scenario with
// different seeds show no significant change; the same seed with pricing
// 30% slower shows the pricing hop and the callers whose time grew through
// it, and nothing else. 1500 requests make the slowdown unmistakable (the
// endpoint's p-value is about 1e-8, the pricing hop's 1e-74) while the
// other hops keep identical samples (tracegen draws every other latency
// the same), and cost well under a second per diff.
func TestDiffTracegen(t *testing.T) {
	gen := func(args ...string) string {
		dir := tracegentest.Generate(t, append([]string{"-scenario", "checkout", "-traces", "1500", "-format", "otlp-proto"}, args...)...)
		return filepath.Join(dir, "traces.otlp.pb")
	}
	base := gen("-seed", "1")
	other := gen("-seed", "2")
	slow := gen("-seed", "1", "-slow-service", "pricing", "-slow-factor", "1.3")

	stdout, stderr, code := run(t, "", "diff", "-o", "json", "--fail-on", "p95>+10%", base, other)
	d := parseDiffJSON(t, stdout)
	if code != ExitOK || d.Failed || d.Significant != 0 || len(d.significant()) != 0 {
		t.Errorf("seed 1 vs 2: exit %d, failed %v, significant %v; stderr %s", code, d.Failed, d.significant(), stderr)
	}
	if d.Base.Traces != 1500 || d.Compared != 17 || d.Correction != "holm" || d.Alpha != 0.05 {
		t.Errorf("seed 1 vs 2: %d traces, %d compared, correction %s, alpha %v", d.Base.Traces, d.Compared, d.Correction, d.Alpha)
	}
	// The table says so too, and exits 0.
	table, _, code := run(t, "", "diff", "--fail-on", "p95>+10%", base, other)
	if code != ExitOK || !strings.Contains(table, "no significant change in the 17 endpoints and hops compared") || !strings.Contains(table, "passed:") {
		t.Errorf("seed 1 vs 2 table, exit %d:\n%s", code, table)
	}

	stdout, _, code = run(t, "", "diff", "-o", "json", "--fail-on", "p95>+10%", base, slow)
	d = parseDiffJSON(t, stdout)
	want := []string{"frontend POST /checkout", "frontend → order-service POST /orders", "order-service → pricing GetPrice"}
	if got := d.significant(); code != ExitBudgetExceeded || !d.Failed || !slices.Equal(got, want) {
		t.Errorf("pricing ×1.3: exit %d, failed %v, significant %v, want %v", code, d.Failed, got, want)
	}
	for _, h := range append(d.Endpoints, d.Hops...) {
		if h["significant"] != true {
			continue
		}
		if h["direction"] != "slower" {
			t.Errorf("%v: direction %v", h["operation"], h["direction"])
		}
		after := h["after"].(map[string]any)
		before := h["before"].(map[string]any)
		if after["p50Us"].(float64) <= before["p50Us"].(float64) || h["pValue"].(float64) >= 1e-6 {
			t.Errorf("%v: p50 %v → %v, p %v", h["operation"], before["p50Us"], after["p50Us"], h["pValue"])
		}
	}
	// Only the pricing hop grew beyond +10% at p95 (its callers by a few
	// percent): it alone fails the gate. (Its p99 grew 30% too, but the
	// p99 of 1500 samples of this heavy tail is too uncertain for its
	// interval to exclude zero: no regression by p99>+10%.)
	for _, h := range d.Hops {
		regs, _ := h["regressions"].([]any)
		isPricing := h["to"] == "pricing"
		if isPricing != (len(regs) == 1 && regs[0] == "p95>+10%") {
			t.Errorf("%v → %v: regressions %v", h["from"], h["to"], regs)
		}
		for _, k := range []string{"from", "to", "operation", "before", "after", "significant", "pValue", "pAdjusted", "deltaUs", "deltaPct", "criticalPath"} {
			if _, ok := h[k]; !ok {
				t.Errorf("hop JSON without %q: %v", k, h)
			}
		}
		if isPricing {
			cp := h["criticalPath"].(map[string]any)
			if cp["afterMeanUs"].(float64) <= cp["beforeMeanUs"].(float64) {
				t.Errorf("pricing: critical-path share %v", cp)
			}
		}
	}

	// A gate nothing reaches: significant changes, but exit 0.
	_, _, code = run(t, "", "diff", "--fail-on", "p99>+50%", "--fail-on", "mean>+100ms", base, slow)
	if code != ExitOK {
		t.Errorf("p99>+50%%: exit %d", code)
	}
	// An absolute gate: the pricing hop's mean grew by about 1 ms.
	_, _, code = run(t, "", "diff", "--fail-on", "mean>+500us", base, slow)
	if code != ExitBudgetExceeded {
		t.Errorf("mean>+500us: exit %d", code)
	}

	// GitHub annotations: an error for the regression, a warning for each
	// other slower item, one summary whose counts add up.
	stdout, _, code = run(t, "", "diff", "-o", "github", "--fail-on", "p95>+10%", base, slow)
	if code != ExitBudgetExceeded || strings.Count(stdout, "::error ") != 1 || strings.Count(stdout, "::warning ") != 2 ||
		!strings.Contains(stdout, "::error title=regression%3A order-service → pricing GetPrice::") ||
		!strings.Contains(stdout, "hopbudget diff: of the 17 endpoints and hops compared: 1 regression, 2 slower, 0 faster, 14 without a significant change; FAILED") {
		t.Errorf("github: exit %d\n%s", code, stdout)
	}

	// JUnit: one case per endpoint and hop; the regression is the failure.
	stdout, _, code = run(t, "", "diff", "-o", "junit", "--fail-on", "p95>+10%", base, slow)
	var suites struct {
		XMLName  xml.Name `xml:"testsuites"`
		Tests    int      `xml:"tests,attr"`
		Failures int      `xml:"failures,attr"`
		Suites   []struct {
			Name  string `xml:"name,attr"`
			Tests int    `xml:"tests,attr"`
			Cases []struct {
				Name      string `xml:"name,attr"`
				Classname string `xml:"classname,attr"`
				Failure   *struct {
					Message string `xml:"message,attr"`
					Text    string `xml:",chardata"`
				} `xml:"failure"`
				SystemOut string `xml:"system-out"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal([]byte(stdout), &suites); err != nil {
		t.Fatalf("junit: %v\n%s", err, stdout)
	}
	if code != ExitBudgetExceeded || suites.Tests != 17 || suites.Failures != 1 || len(suites.Suites) != 2 || suites.Suites[1].Tests != 16 {
		t.Fatalf("junit: exit %d, %d tests, %d failures, suites %d", code, suites.Tests, suites.Failures, len(suites.Suites))
	}
	var failed []string
	for _, s := range suites.Suites {
		for _, c := range s.Cases {
			if c.SystemOut == "" {
				t.Errorf("%s: no system-out", c.Name)
			}
			if c.Failure != nil {
				failed = append(failed, c.Name)
				if !strings.Contains(c.Failure.Message, "p95>+10%") || !strings.Contains(c.Failure.Text, "p95 ") {
					t.Errorf("failure %+v", c.Failure)
				}
			}
		}
	}
	if !slices.Equal(failed, []string{"order-service → pricing GetPrice"}) {
		t.Errorf("junit failures %v", failed)
	}
}

// The table shows every item whose verdict is not "~", such as a
// regression of a tail percentile whose distribution did not shift
// significantly, and its summary counts verdicts.
func TestDiffTableShowsVerdicts(t *testing.T) {
	st := &analyze.Stats{Count: 500}
	d := &analyze.Deltas{}
	pd := &analyze.PctDeltas{}
	dr := &diffReport{Comparison: &analyze.Comparison{Alpha: 0.05, Correction: analyze.CorrectionHolm, Compared: 2,
		FailOn: []string{"p99>+10%"}, Failed: true, Regressions: 1, Unchanged: 1, Level: 0.9875,
		Endpoints: []analyze.EndpointChange{
			{Service: "api", Operation: "GET /tail", Change: analyze.Change{Status: analyze.StatusBoth, Before: st, After: st, DeltaUs: d, DeltaPct: pd,
				PValue: 0.4, PAdjusted: 0.8, Verdict: analyze.VerdictRegression, Direction: "slower", Shift: "faster", Regressions: []string{"p99>+10%"}}},
			{Service: "api", Operation: "GET /same", Change: analyze.Change{Status: analyze.StatusBoth, Before: st, After: st, DeltaUs: d, DeltaPct: pd,
				PValue: 1, PAdjusted: 1, Verdict: analyze.VerdictSame}},
		}, Hops: []analyze.HopChange{}}}
	var b strings.Builder
	if err := renderDiffTable(&b, dr, false); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	row := regexp.MustCompile(`(?m)^.*GET /tail.*$`).FindString(out)
	if !strings.Contains(row, "REGRESSION p99>+10%") || strings.Contains(row, "faster") || strings.Contains(out, "GET /same") ||
		!strings.Contains(out, "of the 2 endpoints and hops compared: 1 regression, 0 slower, 0 faster, 1 without a significant change (not shown: -v shows them)") {
		t.Errorf("table:\n%s", out)
	}
}
