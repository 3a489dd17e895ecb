// Package golden compares test output with golden files under testdata/;
// `go test ./... -update` rewrites them instead (review the diff like code).
// It is the one -update flag of every package's tests.
package golden

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/ instead of comparing with them")

// Updating reports whether -update was given.
func Updating() bool { return *update }

// Check compares got with the file at path, or writes it there (creating
// its folder) under -update.
func Check(tb testing.TB, path string, got []byte) {
	tb.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			tb.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("%v (go test -update creates it)", err)
	}
	if string(got) != string(want) {
		tb.Errorf("output differs from %s (go test -update rewrites it; review the diff):\n%s", path, DiffLines(string(want), string(got)))
	}
}

// DiffLines shows the first differing lines, enough to see what changed.
func DiffLines(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	shown := 0
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			fmt.Fprintf(&b, "line %d:\n  want: %s\n  got:  %s\n", i+1, wl, gl)
			if shown++; shown == 8 {
				break
			}
		}
	}
	return b.String()
}
