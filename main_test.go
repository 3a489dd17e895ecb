//go:build unix

package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"hopbudget/internal/tracegentest"
)

// rchar is the number of bytes process pid has read (Linux's /proc/PID/io).
func rchar(pid int) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/io")
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "rchar: "); ok {
			return strconv.ParseInt(v, 10, 64)
		}
	}
	return 0, errors.New("no rchar")
}

// build builds hopbudget into a temporary folder.
func build(t *testing.T) string {
	bin := filepath.Join(t.TempDir(), "hopbudget")
	if b, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	return bin
}

// A closed pipe or a full disk on stdout is exit code 2 with a message,
// not a death by SIGPIPE nor a truncated output with exit 0.
func TestStdoutErrors(t *testing.T) {
	if testing.Short() {
		t.Skip("builds hopbudget; skipped with -short")
	}
	bin := build(t)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Logf("no /dev/full: %v", err)
	} else {
		defer full.Close()
	}
	for _, tc := range []struct {
		name string
		out  *os.File
	}{{"closed pipe", w}, {"full disk", full}} {
		if tc.out == nil {
			continue
		}
		var stderr bytes.Buffer
		c := exec.Command(bin, "analyze", "testdata/demo")
		c.Stdout, c.Stderr = tc.out, &stderr
		err := c.Run()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 2 || !strings.Contains(stderr.String(), "writing the output") {
			t.Errorf("%s: %v, stderr %q; want exit 2 saying the output could not be written", tc.name, err, stderr.String())
		}
	}
	w.Close()
}

// A real process stops on SIGINT / SIGTERM within a bound, exits 128 +
// the signal's number, and leaves no output file behind.
func TestSignalStopsCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("builds hopbudget and generates 400k spans; skipped with -short")
	}
	if _, err := rchar(os.Getpid()); err != nil {
		t.Skipf("needs /proc/PID/io to see how far a process has read: %v", err)
	}
	input := filepath.Join(tracegentest.Generate(t, "-scenario", "mixed", "-spans", "400000", "-seed", "1", "-format", "otlp-proto"), "traces.otlp.pb")
	st, err := os.Stat(input)
	if err != nil {
		t.Fatal(err)
	}
	bin := build(t)
	// The target is 0.5 s, the bound leaves room for a loaded machine; an
	// uninterrupted report of this input takes about 2 s after the read.
	const bound = time.Second
	for _, tc := range []struct {
		name string
		sig  syscall.Signal
		code int
		// read: bytes the process must have read before the signal;
		// -1 = the whole input (the signal lands in the analysis).
		read int64
	}{
		{"SIGINT during analysis", syscall.SIGINT, 130, -1},
		{"SIGTERM while reading", syscall.SIGTERM, 143, 1 << 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := t.TempDir()
			var stderr bytes.Buffer
			c := exec.Command(bin, "report", "-o", filepath.Join(out, "report.html"), input)
			c.Stderr = &stderr
			if err := c.Start(); err != nil {
				t.Fatal(err)
			}
			defer c.Process.Kill()
			want := tc.read
			if want < 0 {
				want = st.Size()
			}
			for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(2 * time.Millisecond) {
				n, err := rchar(c.Process.Pid)
				if err != nil || time.Now().After(deadline) {
					t.Fatalf("waiting for the process to read %d bytes: %v (read %d)", want, err, n)
				}
				if n >= want {
					break
				}
			}
			if tc.read < 0 {
				time.Sleep(50 * time.Millisecond) // past the grouping, into Analyze
			}
			sent := time.Now()
			if err := c.Process.Signal(tc.sig); err != nil {
				t.Fatal(err)
			}
			err := c.Wait()
			took := time.Since(sent)
			t.Logf("stopped %v after %v; stderr: %q", tc.sig, took, stderr.String())
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != tc.code {
				t.Fatalf("exit: %v, want code %d (a run that ended before the signal needs a larger input)", err, tc.code)
			}
			if took > bound {
				t.Errorf("took %v to stop, want at most %v", took, bound)
			}
			if !strings.Contains(stderr.String(), "interrupted") {
				t.Errorf("stderr does not say it was interrupted: %q", stderr.String())
			}
			if files, _ := os.ReadDir(out); len(files) > 0 {
				t.Errorf("left %d files in the output folder, first %s", len(files), files[0].Name())
			}
		})
	}
}
