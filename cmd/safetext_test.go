package cmd

import (
	"encoding/xml"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestSafeText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"GET /users", "GET /users"},
		{"héllo → wörld", "héllo → wörld"},
		{"a\x1b]0;title\x07b", `a\x1b]0;title\x07b`},
		{"line\nfake\r\tx", `line\nfake\r\tx`},
		{"\x7f\u0085\u009b", `\x7f\u0085\u009b`},
		{"abc\u202etxt.exe", `abc\u202etxt.exe`},
		{"bad\xffutf8", `bad\xffutf8`},
		{"", ""},
	}
	for _, tc := range tests {
		if got := safeText(tc.in); got != tc.want {
			t.Errorf("safeText(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// Names with control characters reach no output raw: not a table, not
// Markdown, not the per-trace listing, not the waterfall, not JUnit (which
// stays valid XML), not GitHub annotations.
func TestOutputsEscapeControlCharacters(t *testing.T) {
	tr := chainTrace(6)
	evil := []string{"\x1b]0;pwned\x07", "a\r\nFAIL: fake line", "rtl\u202eexe.txt", "nul\x00bell\x07", "c1\u009b31m"}
	for i, s := range tr.Spans {
		s.Service = "svc" + evil[i%len(evil)]
		s.Operation = "op" + evil[(i+2)%len(evil)]
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "evil.otlp.json")
	writePathoJSON(t, tr, in)
	bud := filepath.Join(dir, "budget.yaml")
	if err := os.WriteFile(bud, []byte("version: 1\nendpoints:\n  - name: all\n    match: {service: \"*\", operation: \"*\"}\n    p99: 1us\n"+
		"  - name: one\n    match: {service: \"svca\\r\\nFAIL: fake line\"}\n    p99: 1us\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	runs := [][]string{
		{"analyze", in},
		{"analyze", "-o", "markdown", in},
		{"analyze", "--per-trace", in},
		{"trace", tr.ID.String(), in},
		{"inspect", in},
		{"check", "--budget", bud, "--min-samples", "1", in},
		{"check", "--budget", bud, "--min-samples", "1", "-o", "markdown", in},
		{"check", "--budget", bud, "--min-samples", "1", "-o", "junit", in},
		{"check", "--budget", bud, "--min-samples", "1", "-o", "github", in},
		{"diff", "-v", in, in},
		{"diff", "-o", "junit", in, in},
		{"profile", "--slowest", "50%", in},
	}
	for _, args := range runs {
		name := strings.Join(args[:min(len(args), 5)], " ")
		stdout, stderr, code := run(t, "", args...)
		if code == ExitInputError {
			t.Fatalf("%s: exit %d: %s", name, code, stderr)
		}
		for _, out := range []string{stdout, stderr} {
			for _, bad := range []string{"\x1b", "\r", "\x07", "\x00", "\u202e", "\u009b", "\nFAIL: fake"} {
				if strings.Contains(out, bad) {
					t.Errorf("%s: output holds %q raw:\n%s", name, bad, out)
				}
			}
		}
		if !strings.Contains(stdout+stderr, `\x1b]0;pwned\x07`) && !strings.Contains(stdout+stderr, `\\x1b]0;pwned\\x07`) {
			t.Errorf("%s: the name is not shown escaped:\n%s", name, stdout)
		}
		if slices.Contains(args, "junit") {
			if err := xml.Unmarshal([]byte(stdout), new(junitSuites)); err != nil {
				t.Errorf("%s: invalid XML: %v", name, err)
			}
		}
	}
}
