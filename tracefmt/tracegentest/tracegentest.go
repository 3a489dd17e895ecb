// Package tracegentest builds ../shared/tracegen and runs it for tests and
// benchmarks, caching outputs in the system temp folder so that repeated runs
// (and benchmarks needing a million spans) generate each input once.
// Generated data never goes into the repository.
package tracegentest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// SharedDir locates ../shared beside the repository (the CI layout) by
// walking up from this source file.
func SharedDir() (string, error) {
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Dir(file)
	for d := dir; ; d = filepath.Dir(d) {
		cand := filepath.Join(d, "..", "shared")
		if st, err := os.Stat(filepath.Join(cand, "tracegen", "main.go")); err == nil && !st.IsDir() {
			return filepath.Clean(cand), nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("../shared/tracegen not found above %s", dir)
		}
	}
}

// Binary builds tracegen once per process and returns its path.
func Binary(tb testing.TB) string {
	tb.Helper()
	buildOnce.Do(func() {
		shared, err := SharedDir()
		if err != nil {
			buildErr = err
			return
		}
		out := filepath.Join(os.TempDir(), "hopbudget-tracegen", "tracegen")
		cmd := exec.Command("go", "build", "-C", filepath.Join(shared, "tracegen"), "-o", out, ".")
		if b, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("building tracegen: %v\n%s", err, b)
			return
		}
		binPath = out
	})
	if buildErr != nil {
		tb.Fatal(buildErr)
	}
	return binPath
}

// Generate runs tracegen with args (without -o) and returns the output
// directory. Outputs are cached by args: tracegen is deterministic.
func Generate(tb testing.TB, args ...string) string {
	tb.Helper()
	bin := Binary(tb)
	sum := sha256.Sum256([]byte(strings.Join(args, "\x00")))
	dir := filepath.Join(os.TempDir(), "hopbudget-tracegen", "out-"+hex.EncodeToString(sum[:8]))
	if _, err := os.Stat(filepath.Join(dir, "truth.json")); err == nil {
		return dir
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), "gen-")
	if err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command(bin, append(append([]string{}, args...), "-o", tmp)...)
	if b, err := cmd.CombinedOutput(); err != nil {
		os.RemoveAll(tmp)
		tb.Fatalf("tracegen %s: %v\n%s", strings.Join(args, " "), err, b)
	}
	if err := os.Rename(tmp, dir); err != nil {
		os.RemoveAll(tmp) // another process won the race; its output is identical
		if _, err2 := os.Stat(filepath.Join(dir, "truth.json")); err2 != nil {
			tb.Fatal(err)
		}
	}
	return dir
}
