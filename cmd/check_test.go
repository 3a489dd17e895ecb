package cmd

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"hopbudget/analyze"
	"hopbudget/budget"

	goldenfile "hopbudget/internal/golden"
)

const demoBudget = "testdata/budget/demo.yaml"

func TestCheckGolden(t *testing.T) {
	check := func(args ...string) []string {
		return append([]string{"check", "--budget", demoBudget}, append(args, "testdata/demo")...)
	}
	tests := []struct {
		name string
		args []string
	}{
		{"check-demo", check()},
		{"check-demo-json", check("-o", "json")},
		{"check-demo-markdown", check("-o", "markdown")},
		{"check-demo-junit", check("-o", "junit")},
		{"check-demo-github", check("-o", "github")},
		{"check-demo-warn-only", check("-o", "github", "--warn-only")},
		{"check-no-data", check("-o", "github", "--min-samples", "30")},
		{"check-no-data-allowed", check("--min-samples", "30", "--allow-no-data")},
		{"check-endpoint-jaeger", check("-o", "markdown", "--endpoint", "frontend:GET /dispatch", "--critical-path", "jaeger")},
		{"check-input-warnings", []string{"check", "-o", "github", "--budget", demoBudget, "testdata/bad/bad-ids.otlp.json", "testdata/demo"}},
		{"check-unmatched", []string{"check", "--budget", "testdata/budget/check-unmatched.yaml", "testdata/demo"}},
		{"check-unmatched-allowed", []string{"check", "--allow-no-data", "-o", "markdown", "--budget", "testdata/budget/check-unmatched.yaml", "testdata/demo"}},
		{"check-unmatched-junit", []string{"check", "-o", "junit", "--budget", "testdata/budget/check-unmatched.yaml", "testdata/demo"}},
		{"check-unmatched-json", []string{"check", "-o", "json", "--budget", "testdata/budget/check-unmatched.yaml", "testdata/demo"}},
		{"check-unmatched-github", []string{"check", "-o", "github", "--budget", "testdata/budget/check-unmatched.yaml", "testdata/demo"}},
		{"check-unmatched-strict", []string{"check", "--strict", "-o", "github", "--budget", "testdata/budget/check-unmatched.yaml", "testdata/demo"}},
		{"check-invalid-budget", []string{"check", "--budget", "testdata/budget/bad-durations.yaml", "testdata/demo"}},
		{"check-no-budget", []string{"check", "testdata/demo"}},
		{"check-bad-output", check("-o", "yaml")},
		{"check-bad-output-file", check("--output-file", "report.yaml")},
		{"check-bad-min-samples", check("--min-samples", "0")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, code := run(t, "", tc.args...)
			golden(t, tc.name, stdout, stderr, code)
		})
	}
}

// checkDemo runs check on the demo and returns its JSON result.
func checkDemo(t *testing.T, args ...string) *budget.Result {
	t.Helper()
	stdout, stderr, code := run(t, "", append([]string{"check", "-o", "json", "--budget", demoBudget}, append(args, "testdata/demo")...)...)
	if code != ExitBudgetExceeded {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var res budget.Result
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatal(err)
	}
	return &res
}

// The JSON result holds the documented keys, and the demo budget passes
// some lines and fails others.
func TestCheckJSON(t *testing.T) {
	stdout, _, _ := run(t, "", "check", "-o", "json", "--budget", demoBudget, "testdata/demo")
	var doc map[string]json.RawMessage
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"input", "budget", "passed", "minSamples", "allowNoData", "checked", "samplesChecked", "results", "warnings"} {
		if _, ok := doc[k]; !ok {
			t.Errorf("no %q in the JSON", k)
		}
	}
	var rows []map[string]json.RawMessage
	if err := json.Unmarshal(doc["results"], &rows); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"name", "title", "kind", "on", "match", "percentile", "targetUs", "actualUs", "headroomUs", "headroomPct",
		"samples", "status", "failed", "exemplar", "line", "culprits"} {
		if _, ok := rows[0][k]; !ok {
			t.Errorf("no %q in a result", k)
		}
	}
	res := checkDemo(t)
	ok, over, _, _ := checkCounts(res)
	kinds := map[budget.Kind]bool{}
	for _, l := range res.Lines {
		kinds[l.Kind] = true
		if l.Status == budget.StatusOver && l.Kind != budget.KindErrors && (l.Exemplar == "" || *l.HeadroomUs >= 0 || !l.Failed) {
			t.Errorf("over without exemplar or overspend: %+v", l)
		}
	}
	if res.Passed || ok == 0 || over == 0 || len(kinds) != 6 {
		t.Errorf("the demo budget should pass some lines and fail others, of every kind: %d ok, %d over, kinds %v", ok, over, kinds)
	}
}

// junitSchema is the common JUnit XML schema (Jenkins' junit-10.xsd, which
// GitLab, Azure and the GitHub test-report actions read): the attributes
// each element may have, its children in their order, and the required
// attributes.
var junitSchema = map[string]struct {
	attrs, required, children []string
}{
	"testsuites": {attrs: []string{"name", "time", "tests", "failures", "disabled", "errors"}, children: []string{"testsuite"}},
	"testsuite": {attrs: []string{"name", "tests", "failures", "errors", "time", "disabled", "skipped", "timestamp", "hostname", "id", "package"},
		required: []string{"name", "tests"}, children: []string{"properties", "testcase", "system-out", "system-err"}},
	"properties": {children: []string{"property"}},
	"property":   {attrs: []string{"name", "value"}, required: []string{"name", "value"}},
	"testcase": {attrs: []string{"name", "assertions", "time", "classname", "status"}, required: []string{"name"},
		children: []string{"skipped", "error", "failure", "system-out", "system-err"}},
	"skipped":    {attrs: []string{"message"}},
	"error":      {attrs: []string{"message", "type"}},
	"failure":    {attrs: []string{"message", "type"}},
	"system-out": {},
	"system-err": {},
}

// validateJUnit checks doc against junitSchema.
func validateJUnit(t *testing.T, doc []byte) {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(doc))
	type frame struct {
		name string
		last int // index in children of the last child seen
	}
	var stack []frame
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v", err)
		}
		switch el := tok.(type) {
		case xml.StartElement:
			name := el.Name.Local
			spec, ok := junitSchema[name]
			if !ok {
				t.Fatalf("element <%s> is not in the JUnit schema", name)
			}
			if len(stack) == 0 && name != "testsuites" {
				t.Fatalf("root <%s>, want <testsuites>", name)
			}
			if len(stack) > 0 {
				p := &stack[len(stack)-1]
				i := indexOf(junitSchema[p.name].children, name)
				if i < 0 || i < p.last {
					t.Fatalf("<%s> may not appear there in <%s>", name, p.name)
				}
				p.last = i
			}
			have := map[string]bool{}
			for _, a := range el.Attr {
				if indexOf(spec.attrs, a.Name.Local) < 0 {
					t.Errorf("<%s> has attribute %q, not in the schema", name, a.Name.Local)
				}
				have[a.Name.Local] = true
			}
			for _, a := range spec.required {
				if !have[a] {
					t.Errorf("<%s> lacks the required %q", name, a)
				}
			}
			stack = append(stack, frame{name: name})
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		}
	}
}

func indexOf(xs []string, x string) int {
	for i, y := range xs {
		if x == y {
			return i
		}
	}
	return -1
}

func TestCheckJUnit(t *testing.T) {
	// The 27 dispatch requests are no data: skipped with --allow-no-data.
	res := checkDemo(t, "--min-samples", "30", "--allow-no-data")
	stdout, _, _ := run(t, "", "check", "-o", "junit", "--min-samples", "30", "--allow-no-data", "--budget", demoBudget, "testdata/demo")
	validateJUnit(t, []byte(stdout))
	// With warnings (in system-err), and no-data and no-match failures by
	// default.
	other, _, code := run(t, "", "check", "-o", "junit", "--min-samples", "1000", "--budget", "testdata/budget/check-unmatched.yaml", "testdata/demo")
	validateJUnit(t, []byte(other))
	if !strings.Contains(other, "<system-err>") || !strings.Contains(other, `type="no-data"`) || !strings.Contains(other, `type="no-match"`) || code != ExitBudgetExceeded {
		t.Errorf("exit %d; no warnings, no-data or no-match failures in\n%s", code, other)
	}

	type msg struct {
		Message string `xml:"message,attr"`
		Type    string `xml:"type,attr"`
	}
	var doc struct {
		XMLName  xml.Name `xml:"testsuites"`
		Tests    int      `xml:"tests,attr"`
		Failures int      `xml:"failures,attr"`
		Suites   []struct {
			Name     string `xml:"name,attr"`
			Tests    int    `xml:"tests,attr"`
			Failures int    `xml:"failures,attr"`
			Skipped  int    `xml:"skipped,attr"`
			Cases    []struct {
				Name      string `xml:"name,attr"`
				Classname string `xml:"classname,attr"`
				Failure   *msg   `xml:"failure"`
				Skipped   *msg   `xml:"skipped"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Suites) != 1 || doc.Suites[0].Name != "hopbudget" {
		t.Fatalf("want one testsuite named hopbudget: %+v", doc)
	}
	s := doc.Suites[0]
	_, over, noData, _ := checkCounts(res)
	if s.Tests != len(res.Lines) || len(s.Cases) != s.Tests || doc.Tests != s.Tests {
		t.Errorf("tests=%d with %d cases, %d budget results", s.Tests, len(s.Cases), len(res.Lines))
	}
	failures, skipped, names := 0, 0, map[string]bool{}
	for i, c := range s.Cases {
		l := res.Lines[i]
		if c.Name != l.Title || names[c.Name] || c.Classname != "hopbudget."+string(l.Kind) {
			t.Errorf("case %d: name %q classname %q (result %q; names must be unique)", i, c.Name, c.Classname, l.Title)
		}
		names[c.Name] = true
		switch {
		case c.Failure != nil:
			failures++
			if l.Status != budget.StatusOver || c.Failure.Type != "over" || !strings.Contains(c.Failure.Message, " over ") {
				t.Errorf("case %q: failure %+v for status %s", c.Name, c.Failure, l.Status)
			}
		case c.Skipped != nil:
			skipped++
			if l.Status != budget.StatusNoData || !strings.Contains(c.Skipped.Message, "not enough data") {
				t.Errorf("case %q: skipped %+v for status %s", c.Name, c.Skipped, l.Status)
			}
		}
	}
	if failures != over || s.Failures != over || doc.Failures != over || skipped != noData || s.Skipped != noData || noData == 0 {
		t.Errorf("failures %d/%d, skipped %d/%d; want %d over, %d no data", failures, s.Failures, skipped, s.Skipped, over, noData)
	}
}

// The Markdown is one summary line and a table GitHub renders: every row
// with the header's number of cells, the delimiter row second.
func TestCheckMarkdown(t *testing.T) {
	res := checkDemo(t)
	stdout, _, _ := run(t, "", "check", "-o", "markdown", "--budget", demoBudget, "testdata/demo")
	lines := strings.Split(stdout, "\n")
	if !strings.HasPrefix(lines[0], "### ❌ hopbudget check: FAIL") {
		t.Errorf("summary line %q", lines[0])
	}
	cells := regexp.MustCompile(`(^|[^\\])\|`)
	var table []string
	for _, l := range lines {
		if strings.HasPrefix(l, "|") {
			table = append(table, l)
		} else if len(table) > 0 {
			break
		}
	}
	if len(table) != 2+len(res.Lines) {
		t.Fatalf("%d table lines for %d results", len(table), len(res.Lines))
	}
	if !regexp.MustCompile(`^\|(\s*:?-{3,}:?\s*\|)+$`).MatchString(table[1]) {
		t.Errorf("delimiter row %q", table[1])
	}
	n := len(cells.FindAllString(table[0], -1))
	for i, l := range table {
		if !strings.HasSuffix(l, "|") || len(cells.FindAllString(l, -1)) != n {
			t.Errorf("row %d has not %d cells: %q", i, n-1, l)
		}
	}
	for i, l := range res.Lines {
		if want := map[budget.Status]string{budget.StatusOK: "✅", budget.StatusOver: "❌", budget.StatusNoData: "⚠️"}[l.Status]; !strings.Contains(table[2+i], want) {
			t.Errorf("row %d lacks %s: %q", i, want, table[2+i])
		}
	}
}

// Colour only on a terminal, and it does not break the table's columns.
func TestCheckColour(t *testing.T) {
	args := []string{"check", "--budget", demoBudget, "testdata/demo"}
	var plain, coloured bytes.Buffer
	Run(context.Background(), &Streams{In: strings.NewReader(""), Out: &plain, Err: io.Discard}, args)
	Run(context.Background(), &Streams{In: strings.NewReader(""), Out: &coloured, Err: io.Discard, OutIsTerminal: true}, args)
	if strings.Contains(plain.String(), "\033[") {
		t.Error("colour without a terminal")
	}
	if !strings.Contains(coloured.String(), ansiRed+"OVER"+ansiReset) || !strings.Contains(coloured.String(), ansiGreen+"ok"+ansiReset) {
		t.Error("no colour on a terminal")
	}
	strip := regexp.MustCompile("\033\\[[0-9;]*m")
	if got := strip.ReplaceAllString(coloured.String(), ""); got != plain.String() {
		t.Errorf("colour changes the layout:\n%s", goldenfile.DiffLines(plain.String(), got))
	}
}

// --output-file writes the same bytes as that format on stdout.
func TestCheckOutputFile(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		file   string
		flags  []string
		format string
	}{
		{"report.xml", nil, "junit"},
		{"comment.md", nil, "markdown"},
		{"result.json", nil, "json"},
		{"result.out", []string{"--output-file-format", "json"}, "json"},
		{"table.txt", nil, "table"},
	} {
		path := filepath.Join(dir, tc.file)
		args := append([]string{"check", "-o", "github", "--budget", demoBudget, "--output-file", path}, append(tc.flags, "testdata/demo")...)
		gh, stderr, code := run(t, "", args...)
		if code != ExitBudgetExceeded {
			t.Fatalf("%s: exit %d: %s", tc.file, code, stderr)
		}
		want, _, _ := run(t, "", "check", "-o", tc.format, "--budget", demoBudget, "testdata/demo")
		wantGH, _, _ := run(t, "", "check", "-o", "github", "--budget", demoBudget, "testdata/demo")
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != want || gh != wantGH {
			t.Errorf("%s: the file is not -o %s's output, or stdout changed", tc.file, tc.format)
		}
	}
}

// Exit codes, end to end: the built binary, as CI runs it.
func TestCheckExitCodes(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "hopbudget")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	pass := filepath.Join(dir, "pass.yaml")
	if err := os.WriteFile(pass, []byte("version: 1\nendpoints:\n  - match: {service: frontend}\n    p99: 10s\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"within budget", []string{"--budget", pass}, 0, ""},
		{"over budget", []string{"--budget", demoBudget}, 1, ""},
		{"over budget, warn only", []string{"--budget", demoBudget, "--warn-only"}, 0, ""},
		{"not enough data fails", []string{"--budget", pass, "--min-samples", "1000"}, 1, ""},
		{"not enough data, allowed", []string{"--budget", pass, "--min-samples", "1000", "--allow-no-data"}, 0, ""},
		{"--fail-on-no-data: deprecated, the default", []string{"--budget", pass, "--min-samples", "1000", "--fail-on-no-data"}, 1, "deprecated"},
		{"--allow-no-data contradicts --fail-on-no-data", []string{"--budget", pass, "--allow-no-data", "--fail-on-no-data"}, 2, "contradict"},
		{"invalid budget", []string{"--budget", "testdata/budget/bad-durations.yaml"}, 2, "testdata/budget/bad-durations.yaml:4:10: "},
		{"invalid budget, warn only", []string{"--budget", "testdata/budget/bad-durations.yaml", "--warn-only"}, 2, "bad duration"},
		{"missing budget file", []string{"--budget", filepath.Join(dir, "none.yaml")}, 2, "no such file"},
		{"no budget", nil, 2, "--budget FILE is required"},
		{"unmatched matcher fails", []string{"--budget", "testdata/budget/check-unmatched.yaml"}, 1, ""},
		{"unmatched matcher, allowed", []string{"--budget", "testdata/budget/check-unmatched.yaml", "--allow-no-data"}, 0, ""},
		{"unmatched matcher, strict", []string{"--budget", "testdata/budget/check-unmatched.yaml", "--strict"}, 2, "--strict: 2 budget warnings"},
		{"unknown flag", []string{"--budget", pass, "--nope"}, 2, "unknown flag"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(bin, append(append([]string{"check", "-o", "github"}, tc.args...), "testdata/demo")...)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			err := cmd.Run()
			code := 0
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tc.code || !strings.Contains(stderr.String(), tc.stderr) {
				t.Errorf("exit %d, want %d; stderr %q, want it to contain %q", code, tc.code, stderr.String(), tc.stderr)
			}
		})
	}
	// Unreadable input.
	if err := exec.Command(bin, "check", "--budget", pass, "testdata/bad/truncated.otlp.json").Run(); err == nil || err.(*exec.ExitError).ExitCode() != 2 {
		t.Errorf("truncated input: %v, want exit 2", err)
	}
}

// The report finds a budget line by the row's structured key, whatever
// the line's display text says.
func TestBudgetIndexByKey(t *testing.T) {
	ep := analyze.EndpointKey{Service: "frontend", Operation: "GET /"}
	hop := analyze.HopKey{From: "frontend", To: "db", Operation: "SELECT"}
	res := &budget.Result{Lines: []budget.LineResult{
		{Kind: budget.KindEndpoint, Match: "reworded: frontend GET /", Endpoint: &ep},
		{Kind: budget.KindSlowRequests, Match: "x", Endpoint: &ep},
		{Kind: budget.KindErrors, Match: "frontend: GET /", Endpoint: &ep}, // not a duration line
		{Kind: budget.KindHop, On: "latency", Match: "frontend -> db", Hop: &hop},
		{Kind: budget.KindHop, On: "network", Match: "frontend -> db", Hop: &hop},
		{Kind: budget.KindHop, On: "latency", Match: "frontend → db: SELECT"}, // no key: matched nothing
	}}
	x := newBudgetIndex(res)
	if got := x.endpoint("frontend", "GET /"); len(got) != 2 || got[0] != &res.Lines[0] || got[1] != &res.Lines[1] {
		t.Errorf("endpoint lines: %v", got)
	}
	lat, all := x.hop(&analyze.Hop{From: "frontend", To: "db", Operation: "SELECT"})
	if len(lat) != 1 || lat[0] != &res.Lines[3] || len(all) != 2 {
		t.Errorf("hop lines: latency %v, all %v", lat, all)
	}
}
