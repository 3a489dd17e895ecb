package cmd

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The command dies with record: a record killed by SIGKILL, which can
// forward nothing, leaves no orphan behind.
func TestRecordCommandDiesWithRecord(t *testing.T) {
	rec := exec.Command(os.Args[0], "-test.run=^$")
	rec.Env = append(os.Environ(), childEnv+"=wait",
		mainEnv+"="+strings.Join([]string{"record", "--listen", ":0", "--out", filepath.Join(t.TempDir(), "r.otlp.jsonl"), "--", os.Args[0], "-test.run=^$"}, "\n"))
	out, err := rec.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := rec.Start(); err != nil {
		t.Fatal(err)
	}
	defer rec.Process.Kill()
	ready := make(chan int, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if m := regexp.MustCompile(`ready pid=(\d+)`).FindStringSubmatch(sc.Text()); m != nil {
				pid, _ := strconv.Atoi(m[1])
				ready <- pid
			}
		}
	}()
	var pid int
	select {
	case pid = <-ready:
	case <-time.After(30 * time.Second):
		t.Fatal("the command never got ready")
	}
	rec.Process.Kill() // SIGKILL
	rec.Wait()
	for deadline := time.Now().Add(10 * time.Second); alive(pid); {
		if time.Now().After(deadline) {
			exec.Command("kill", "-9", strconv.Itoa(pid)).Run()
			t.Fatalf("command %d still running after record was killed", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// alive: the process exists and is not a zombie (nobody may reap an
// orphan in a container).
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}

// A full disk (/dev/full fails every write with ENOSPC): record refuses the
// exports instead of acknowledging them, and says what the file holds.
func TestRecordFullDisk(t *testing.T) {
	_, stderr, code := runRecord(t, context.Background(), map[string]string{childEnv: "emit", "HOPBUDGET_CHILD_TRACES": "5"},
		"--out", "/dev/full")
	if code != ExitInputError {
		t.Fatalf("exit %d, want 2\n%s", code, stderr)
	}
	for _, want := range []string{"0 spans received", "write-error",
		"record: writing /dev/full failed: write /dev/full: no space left on device; refusing every export from now on (the file holds 0 spans, 0 requests)\n",
		"writing /dev/full failed: write /dev/full: no space left on device; it holds the 0 spans (0 requests) received before"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
}
