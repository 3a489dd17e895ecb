package cmd

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
)

const hotrodTrace = "testdata/corpus/hotrod-local/jaeger-ui-json/5072188e6fa04fa5d33db8ddeb03ca29.json"

// Golden waterfalls of corpus traces in plain mode (stdout not a terminal).
func TestTraceGolden(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"trace-hotrod", []string{"trace", "5072188e6fa04fa5d33db8ddeb03ca29", hotrodTrace}},
		{"trace-hotrod-critical-path-only", []string{"trace", "--critical-path-only", "5072188e6fa04fa5d33db8ddeb03ca29", hotrodTrace}},
		{"trace-hotrod-pruned", []string{"trace", "--depth", "1", "--min-duration", "45ms", "--width", "80", "5072188e6fa04fa5d33db8ddeb03ca29", hotrodTrace}},
		{"trace-hotrod-jaeger-prefix", []string{"trace", "--critical-path", "jaeger", "--width", "120", "e81d796a", "testdata/corpus/hotrod-local/jaeger-ui-json"}},
		{"trace-skew", []string{"trace", "9ced30503c58dab894a2d7598b01a87a", "testdata/corpus/jaeger-ui/fixtures/stats-spanLongerAsParent.json"}},
		{"trace-outside-parent", []string{"trace", "6c3cf93508f205", "testdata/corpus/jaeger-ui/fixtures/stats-traceWithOverlappingChildrenLongerThanParent.json"}},
		{"trace-orphan", []string{"trace", "83a9efd15c1c98a977e0711cc93ee28b", "testdata/corpus/jaeger-ui/fixtures/otlp2jaeger-in-error.json"}},
		{"trace-not-found", []string{"trace", "deadbeef", hotrodTrace}},
		{"trace-ambiguous", []string{"trace", "e", "testdata/corpus/hotrod-local/jaeger-ui-json"}},
		{"trace-bad-id", []string{"trace", "xyz", hotrodTrace}},
		{"trace-bad-depth", []string{"trace", "--depth", "-2", "5072188e", hotrodTrace}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, code := run(t, "", tc.args...)
			golden(t, tc.name, stdout, stderr, code)
		})
	}
}

// Plain mode is ASCII (the corpus names are) and marks exactly the spans
// on the critical path; a terminal gets colour.
func TestTracePlainAndColour(t *testing.T) {
	stdout, _, code := run(t, "", "trace", "5072188e6fa04fa5d33db8ddeb03ca29", hotrodTrace)
	if code != ExitOK {
		t.Fatalf("exit %d", code)
	}
	for i, r := range stdout {
		if r > 127 {
			t.Fatalf("non-ASCII %q at byte %d in plain mode", r, i)
		}
	}
	lines := strings.Split(stdout, "\n")
	for _, l := range lines {
		if strings.HasSuffix(l, "|") && len(l) > 100 { // notes may run past the width, bars not
			t.Errorf("line wider than 100 columns: %q", l)
		}
	}
	// The critical path: every span owning a segment in analyze's per-trace
	// result is starred (a starred span may also only lead to one).
	out, _, _ := run(t, "", "analyze", "--per-trace", hotrodTrace)
	owners := map[string]bool{}
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "  ") && strings.Contains(l, "+") && strings.Contains(l, "(") {
			owners[l[strings.LastIndex(l, "(")+1:len(l)-1]] = true
		}
	}
	starred := 0
	for _, l := range lines {
		if strings.HasPrefix(l, "* ") {
			starred++
		}
	}
	if len(owners) == 0 || starred < len(owners) {
		t.Errorf("%d starred lines, %d spans own critical-path segments", starred, len(owners))
	}

	var buf, errb bytes.Buffer
	s := &Streams{In: strings.NewReader(""), Out: &buf, Err: &errb, OutIsTerminal: true}
	if code := Run(context.Background(), s, []string{"trace", "5072188e", hotrodTrace}); code != ExitOK {
		t.Fatalf("terminal: exit %d: %s", code, errb.String())
	}
	if !strings.Contains(buf.String(), ansiRed) || !strings.Contains(buf.String(), "█") {
		t.Error("no colour or blocks on a terminal")
	}
}

// A root of ~127 years: bar positions are computed without overflow, so a
// child at the end of the root is drawn at the end of the bar.
func TestTraceLongRoot(t *testing.T) {
	tr := fanoutTrace(2)
	tr.Spans[0].Start, tr.Spans[0].End = 0, 4e18
	tr.Spans[1].Start, tr.Spans[1].End = 39e17, 4e18
	in := filepath.Join(t.TempDir(), "long.otlp.json")
	writePathoJSON(t, tr, in)
	out, stderr, code := run(t, "", "trace", "--width", "80", tr.ID.String(), in)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var child string
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "svc1: call1") {
			child = l
		}
	}
	bar := child[strings.Index(child, "|")+1 : strings.LastIndex(child, "|")]
	if strings.TrimRight(bar, " ") != bar || !strings.HasPrefix(bar, "    ") {
		t.Errorf("child at the root's end drawn at %q:\n%s", bar, out)
	}
}
