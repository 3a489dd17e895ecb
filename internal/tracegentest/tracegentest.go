// Package tracegentest builds ../shared/tracegen and runs it for tests and
// benchmarks, caching outputs in the system temp folder so that repeated runs
// (and benchmarks needing a million spans) generate each input once.
// Generated data never goes into the repository.
//
// The cache is keyed by the generator's version (a hash of its sources,
// go.mod and go.sum) as well as by the arguments, so a changed generator
// never serves stale traces or truth. Without ../shared, tests that need it
// skip with a message saying so.
package tracegentest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
)

var (
	buildOnce sync.Once
	binPath   string
	version   string
	buildErr  error
	missing   error // ../shared/tracegen is not there: skip, not fail
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

// cacheDir holds the generator binaries and outputs.
func cacheDir() string { return filepath.Join(os.TempDir(), "hopbudget-tracegen") }

// sourceVersion hashes what the generator's output depends on: its Go
// sources (tests excluded), go.mod and go.sum.
func sourceVersion(dir string) (string, error) {
	names, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return "", err
	}
	names = append(names, filepath.Join(dir, "go.mod"), filepath.Join(dir, "go.sum"))
	sort.Strings(names)
	h := sha256.New()
	for _, n := range names {
		if strings.HasSuffix(n, "_test.go") {
			continue
		}
		b, err := os.ReadFile(n)
		if os.IsNotExist(err) && filepath.Ext(n) == ".sum" {
			continue // a module without dependencies has no go.sum
		}
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", filepath.Base(n), len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil)[:8]), nil
}

// Binary builds tracegen once per process (once per version across
// processes) and returns its path. Without ../shared it skips tb.
func Binary(tb testing.TB) string {
	tb.Helper()
	buildOnce.Do(func() {
		shared, err := SharedDir()
		if err != nil {
			missing = err
			return
		}
		src := filepath.Join(shared, "tracegen")
		if version, err = sourceVersion(src); err != nil {
			buildErr = fmt.Errorf("hashing tracegen's sources: %v", err)
			return
		}
		out := filepath.Join(cacheDir(), "tracegen-"+version)
		if _, err := os.Stat(out); err == nil {
			binPath = out
			return
		}
		if err := os.MkdirAll(cacheDir(), 0o755); err != nil {
			buildErr = err
			return
		}
		// Built under a temporary name and renamed: test processes of
		// several packages may build at the same time.
		tmp := fmt.Sprintf("%s.%d.tmp", out, os.Getpid())
		cmd := exec.Command("go", "build", "-C", src, "-o", tmp, ".")
		if b, err := cmd.CombinedOutput(); err != nil {
			os.Remove(tmp)
			buildErr = fmt.Errorf("building tracegen: %v\n%s", err, b)
			return
		}
		if err := os.Rename(tmp, out); err != nil {
			buildErr = err
			return
		}
		binPath = out
	})
	if missing != nil {
		tb.Skipf("needs the trace generator beside the repository (../shared/tracegen): %v", missing)
	}
	if buildErr != nil {
		tb.Fatal(buildErr)
	}
	return binPath
}

// Generate runs tracegen with args (without -o) and returns the output
// directory. Outputs are cached by generator version and args: tracegen is
// deterministic. Without ../shared it skips tb.
func Generate(tb testing.TB, args ...string) string {
	tb.Helper()
	bin := Binary(tb)
	sum := sha256.Sum256([]byte(version + "\x00" + strings.Join(args, "\x00")))
	dir := filepath.Join(cacheDir(), "out-"+hex.EncodeToString(sum[:8]))
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
