package cmd

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"hopbudget/grammar"
)

// maxMemoryEnv names the environment variable that sets --max-memory's
// default.
const maxMemoryEnv = "HOPBUDGET_MAX_MEMORY"

// addMemoryFlags declares --max-memory and --tmp-dir
// (tracefmt.Options.MaxMemory and TmpDir).
func addMemoryFlags(fs *pflag.FlagSet, maxMem, tmpDir *string) {
	fs.StringVar(maxMem, "max-memory", "", "memory budget: spans beyond half of it are spilled to temporary files and analysed a partition at a time (e.g. 1GiB, 512MB; 0 = never spill; default $"+maxMemoryEnv+", else half of the physical memory or of the cgroup's limit)")
	fs.StringVar(tmpDir, "tmp-dir", "", "directory for the spilled spans (default the system temp dir: $TMPDIR or /tmp); removed on exit")
}

// parseMaxMemory resolves --max-memory: the flag, else the environment,
// else half of the memory available (0 when unknown: never spill).
func parseMaxMemory(v string) (int64, error) {
	what := "--max-memory"
	if v == "" {
		if v = strings.TrimSpace(os.Getenv(maxMemoryEnv)); v == "" {
			return defaultMaxMemory(), nil
		}
		what = maxMemoryEnv
	}
	if v == "0" {
		return 0, nil
	}
	n, err := grammar.ParseBytes(v)
	if err != nil {
		return 0, fmt.Errorf("%s: %v", what, err)
	}
	if n < 1<<20 {
		return 0, fmt.Errorf("%s %s: want at least 1MiB (or 0 to never spill)", what, v)
	}
	return n, nil
}

// defaultMaxMemory is half of the physical memory, or of the cgroup's
// limit when that is lower.
func defaultMaxMemory() int64 {
	total := memTotal()
	if lim := cgroupLimit(); lim > 0 && (total == 0 || lim < total) {
		total = lim
	}
	return total / 2
}

// memTotal is /proc/meminfo's MemTotal (0 when unknown).
func memTotal() int64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err == nil {
				return kb << 10
			}
		}
	}
	return 0
}

// cgroupLimit is the cgroup v2 (or v1) memory limit (0 = none or unknown).
func cgroupLimit() int64 {
	for _, p := range []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"} {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		n, err := strconv.ParseInt(string(bytes.TrimSpace(b)), 10, 64)
		if err == nil && n > 0 && n < 1<<62 {
			return n
		}
	}
	return 0
}
