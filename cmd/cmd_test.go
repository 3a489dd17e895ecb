package cmd

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	goldenfile "hopbudget/internal/golden"
)

// Tests run from the repository root so paths in outputs read as a user
// would type them.
func TestMain(m *testing.M) {
	if err := os.Chdir(".."); err != nil {
		panic(err)
	}
	os.Exit(m.Run())
}

// run executes hopbudget in-process.
func run(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	s := &Streams{In: strings.NewReader(stdin), Out: &out, Err: &errb}
	code = Run(context.Background(), s, args)
	return out.String(), errb.String(), code
}

// golden compares a command's whole result with testdata/golden/NAME.golden.
func golden(t *testing.T, name, stdout, stderr string, code int) {
	t.Helper()
	got := fmt.Sprintf("exit: %d\n-- stdout --\n%s-- stderr --\n%s", code, stdout, stderr)
	goldenfile.Check(t, filepath.Join("testdata", "golden", name+".golden"), []byte(got))
}

func TestGolden(t *testing.T) {
	tests := []struct {
		name  string
		stdin string
		args  []string
	}{
		{"inspect-demo", "", []string{"inspect", "testdata/demo"}},
		{"inspect-demo-json", "", []string{"inspect", "-o", "json", "testdata/demo"}},
		{"inspect-truncated", "", []string{"inspect", "testdata/bad/truncated.otlp.json"}},
		{"inspect-bad-ids", "", []string{"inspect", "testdata/bad/bad-ids.otlp.json"}},
		{"inspect-bad-ids-strict", "", []string{"inspect", "--strict", "testdata/bad/bad-ids.otlp.json"}},
		{"inspect-stdin", `{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"api"}}]},"scopeSpans":[{"spans":[{"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203331","name":"GET /","kind":2,"startTimeUnixNano":"1700000000000000000","endTimeUnixNano":"1700000000250000000"}]}]}]}`, []string{"inspect", "-"}},
		{"analyze-demo", "", []string{"analyze", "testdata/demo"}},
		{"analyze-demo-markdown", "", []string{"analyze", "-o", "markdown", "--top", "5", "testdata/demo"}},
		{"analyze-endpoint-checkout", "", []string{"analyze", "--endpoint", "frontend:POST /check*", "--sort", "share", "testdata/demo"}},
		{"analyze-jaeger-per-trace", "", []string{"analyze", "--critical-path", "jaeger", "--per-trace", "testdata/corpus/hotrod-local/jaeger-ui-json/5072188e6fa04fa5d33db8ddeb03ca29.json"}},
		{"analyze-bad-sort", "", []string{"analyze", "--sort", "speed", "testdata/demo"}},
		{"analyze-bad-endpoint", "", []string{"analyze", "--endpoint", "frontend:[oops", "testdata/demo"}},
		{"usage-unknown-flag", "", []string{"inspect", "--nope", "x"}},
		{"usage-bad-output", "", []string{"inspect", "-o", "yaml", "testdata/demo"}},
		{"usage-bad-format", "", []string{"inspect", "--format", "zipkin", "testdata/demo"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, code := run(t, tc.stdin, tc.args...)
			golden(t, tc.name, stdout, stderr, code)
		})
	}
}

func TestExitCodes(t *testing.T) {
	if _, _, code := run(t, "", "inspect", "testdata/demo"); code != ExitOK {
		t.Errorf("inspect demo: exit %d, want %d", code, ExitOK)
	}
	if _, stderr, code := run(t, "", "inspect", "testdata/bad/truncated.otlp.json"); code != ExitInputError || strings.Contains(stderr, "goroutine") {
		t.Errorf("truncated: exit %d, want %d; stderr %q", code, ExitInputError, stderr)
	}
}
