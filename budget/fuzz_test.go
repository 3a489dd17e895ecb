package budget

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse: whatever the input, Parse does not panic, and either returns
// a valid budget or a *ValidationError whose every problem has a position
// (line 0 only for a file with no YAML document at all).
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(testdata, "*.yaml"))
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	// Aliases that refer to their own container: walks must stay bounded.
	for _, s := range []string{
		"", "---\n", "a: &x [*x]\n",
		"version: 1\nhops: &h [*h]\n",
		"version: 1\nhops:\n  - &m {match: *m, p99: 1ms}\n",
		"version: 1\nendpoints: &e [{match: {service: x}, p99: 1ms, errorBudget: *e}]\n",
		"version: 1\nlayers: &l [{name: *l, endpoint: *l, match: *l, p99: *l}]\n",
		"version: &v 1\nhops: [{match: {to: *v}, p99: *v}]\n",
		"version: 1\nhops: &h [{match: {to: x}, errors: *h}]\n",
		"version: 1\nendpoints: [{match: {service: x}, errors: &r {rate: *r, objective: *r}, slowRequests: *r}]\n",
		"\xff\xfe\x00v",
		// Syntax errors: positions come from the decoder's marks.
		"version: 1\nhops: [\n", "version: 1\nhops: {to: \"x\n", "a:\n\t- b\n", "a: [@]\u2028b: 1\r\nc: *\n",
		"\ufeffa: &\n", "a: *b\n", "%YAML 1.1\n%YAML 1.1\n---\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := Parse("f.yaml", data)
		if err == nil {
			if b == nil || b.Version != 1 || len(b.Endpoints)+len(b.Hops)+len(b.Layers)+len(b.FanIn) == 0 {
				t.Fatalf("no error but budget %+v", b)
			}
			return
		}
		if b != nil {
			t.Fatal("a budget and an error")
		}
		var ve *ValidationError
		if !errors.As(err, &ve) {
			t.Fatalf("error is %T, not *ValidationError: %v", err, err)
		}
		if len(ve.Errors) == 0 || len(ve.Errors) > MaxErrors {
			t.Fatalf("%d errors", len(ve.Errors))
		}
		// YAML's line breaks: \n, \r\n, \r, and NEL, LS, PS.
		lines := 1 + bytes.Count(data, []byte("\n")) + bytes.Count(data, []byte("\r")) - bytes.Count(data, []byte("\r\n")) +
			bytes.Count(data, []byte("\u0085")) + bytes.Count(data, []byte("\u2028")) + bytes.Count(data, []byte("\u2029"))
		for _, e := range ve.Errors {
			if e.File != "f.yaml" || e.Msg == "" {
				t.Fatalf("bad error %#v", e)
			}
			if e.Line <= 0 && !strings.HasPrefix(e.Msg, "empty file") {
				t.Fatalf("no position: %v", e)
			}
			// A syntax error always has the decoder's column.
			if strings.HasPrefix(e.Msg, "invalid YAML: ") && e.Column <= 0 && !strings.Contains(e.Msg, "decoder failed") {
				t.Fatalf("no column: %v", e)
			}
			if e.Line > lines+1 {
				t.Fatalf("line %d past the end (%d lines): %v", e.Line, lines, e)
			}
		}
		_ = err.Error()
	})
}
