package cmd

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// No evidence, no pass: inputs that hold no spans make every command that
// reads traces fail with exit 2 and say why, whatever the budget flags.
func TestNoSpansIsAnInputError(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	budget := write("b.yaml", "version: 1\nendpoints:\n  - match: {service: frontend}\n    p99: 10s\n")
	rejected := write("rejected.json", `{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"00000000000000000000000000000000","spanId":"0102030405060708","startTimeUnixNano":"1","endTimeUnixNano":"2"}]}]}]}`)
	for _, tc := range []struct {
		name, path, want string
	}{
		{"unknown JSON shape", "testdata/formats/unknown-shape.json", "unknown-shape.json: a JSON document with top-level keys batch, version: not a trace export hopbudget reads; known shapes:"},
		{"Tempo search result", "testdata/formats/tempo-search.json", "tempo-search.json: a Tempo search result"},
		{"api_v3 error body", "testdata/formats/jaeger-apiv3-error.json", "trace not found"},
		{"query API error body", "testdata/formats/jaeger-api-error.json", "parameter 'service' is required"},
		{"0-byte file", write("empty.json", ""), "no spans in the inputs: " + filepath.Join(dir, "empty.json") + ": empty input"},
		{"white space only", write("blank.json", " \n\t\n"), "no spans in the inputs: " + filepath.Join(dir, "blank.json") + ": empty input"},
		{"recognised but empty", write("none.json", `{"resourceSpans":[]}`), "read as otlp-json but it holds no spans"},
		{"empty Zipkin answer", write("none.zipkin.json", `[]`), "read as zipkin-json but it holds no spans"},
		{"every span rejected", rejected, "no spans kept: all 1 spans read were rejected"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, args := range [][]string{
				{"check", "--budget", budget, tc.path},
				{"check", "--budget", budget, "--warn-only", tc.path},
				{"check", "--budget", budget, "--fail-on-no-data", tc.path},
				{"analyze", tc.path},
			} {
				_, stderr, code := run(t, "", args...)
				if code != ExitInputError || !strings.Contains(stderr, tc.want) {
					t.Errorf("%s: exit %d, stderr %q; want exit 2 and %q", strings.Join(args, " "), code, stderr, tc.want)
				}
			}
		})
	}
}

// A forced --format that yields nothing is the wrong format: exit 2.
func TestForcedFormatYieldingNothingFails(t *testing.T) {
	_, stderr, code := run(t, "", "analyze", "--format", "jaeger-json", "testdata/formats/tempo-v1.json")
	if code != ExitInputError || !strings.Contains(stderr, "forced by --format") {
		t.Errorf("exit %d, stderr %q; want exit 2 naming the forced format", code, stderr)
	}
}

func TestMaxDecompressedFlag(t *testing.T) {
	for _, tc := range []struct {
		val  string
		code int
		want string
	}{
		{"1KiB", ExitInputError, "decompressed size exceeds the limit of 1 KiB (--max-decompressed)"},
		{"lots", ExitInputError, `--max-decompressed: size "lots", column 1: no number`},
		{"-1", ExitOK, ""},
	} {
		_, stderr, code := run(t, "", "analyze", "--max-decompressed", tc.val, "testdata/demo/checkout.otlp.jsonl.zst")
		if code != tc.code || !strings.Contains(stderr, tc.want) {
			t.Errorf("--max-decompressed %s: exit %d, stderr %q; want %d and %q", tc.val, code, stderr, tc.code, tc.want)
		}
	}
}
