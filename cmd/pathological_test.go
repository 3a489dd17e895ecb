package cmd

import (
	"encoding/json"
	"flag"
	"fmt"
	goldenfile "hopbudget/internal/golden"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	"hopbudget/tracefmt"
)

// Pathological traces (issue 17): a chain of n spans, each the only child
// of the one before, and a fan-out of one root with n children. Names
// repeat every few spans, as a recursive call would, but not along the
// whole chain, so stacks do not collapse by name.

var writePatho = flag.String("write-pathological", "", "write chain-N, fanout-N, cycle-N and skewed-N OTLP JSON files (N = 10k, 100k) into this folder, for measuring the built binary")

const pathoBase = int64(1_700_000_000_000_000_000)

func pathoID(i int) tracefmt.SpanID {
	return tracefmt.SpanID{0: 1, 4: byte(i >> 24), 5: byte(i >> 16), 6: byte(i >> 8), 7: byte(i)}
}

// chainTrace: span i (1µs after its parent starts, 1µs before it ends)
// is the only child of span i−1.
func chainTrace(n int) tracefmt.Trace {
	tid := tracefmt.TraceID{0: 0xc4, 15: 1}
	tr := tracefmt.Trace{ID: tid}
	attrs := &tracefmt.Attrs{}
	const us = int64(1000)
	for i := range n {
		s := &tracefmt.Span{TraceID: tid, SpanID: pathoID(i + 1), Service: "svc" + strconv.Itoa(i%7), Operation: "call" + strconv.Itoa(i%11),
			Start: int64(i) * us, End: int64(2*n-i) * us, Attrs: attrs}
		if i > 0 {
			s.Parent = pathoID(i)
		}
		tr.Spans = append(tr.Spans, s)
	}
	return tr
}

// cycleTrace: chainTrace whose first span names the last as its parent:
// a 100k-span loop for the cycles pass to break.
func cycleTrace(n int) tracefmt.Trace {
	tr := chainTrace(n)
	tr.Spans[0].Parent = pathoID(n)
	return tr
}

// skewedChainTrace: chainTrace where every other service's clock runs
// 5 ms ahead, so children start before their parents (clock-skew pass).
func skewedChainTrace(n int) tracefmt.Trace {
	tr := chainTrace(n)
	for i, s := range tr.Spans {
		if i%2 == 1 {
			s.Service = "skewed" + strconv.Itoa(i%5)
			s.Start -= 5_000_000
			s.End -= 5_000_000
		}
	}
	return tr
}

// fanoutTrace: a root with n−1 children, staggered and overlapping.
func fanoutTrace(n int) tracefmt.Trace {
	tid := tracefmt.TraceID{0: 0xf0, 15: 1}
	tr := tracefmt.Trace{ID: tid}
	attrs := &tracefmt.Attrs{}
	const us = int64(1000)
	tr.Spans = append(tr.Spans, &tracefmt.Span{TraceID: tid, SpanID: pathoID(1), Service: "root", Operation: "GET /fan",
		Start: 0, End: int64(n+1000) * us, Attrs: attrs})
	for i := 1; i < n; i++ {
		tr.Spans = append(tr.Spans, &tracefmt.Span{TraceID: tid, SpanID: pathoID(i + 1), Parent: pathoID(1),
			Service: "svc" + strconv.Itoa(i%7), Operation: "call" + strconv.Itoa(i%11),
			Start: int64(i) * us, End: int64(i+1+i%997) * us, Attrs: attrs})
	}
	return tr
}

// writePathoJSON writes tr as OTLP JSON, one resource per span.
func writePathoJSON(t testing.TB, tr tracefmt.Trace, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := []byte(`{"resourceSpans":[`)
	for i, s := range tr.Spans {
		if i > 0 {
			b = append(b, ',')
		}
		parent := ""
		if !s.Parent.IsZero() {
			parent = `"parentSpanId":"` + s.Parent.String() + `",`
		}
		svc, _ := json.Marshal(s.Service)
		op, _ := json.Marshal(s.Operation)
		b = fmt.Appendf(b, `{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":%s}}]},"scopeSpans":[{"spans":[{"traceId":"%s","spanId":"%s",%s"name":%s,"kind":2,"startTimeUnixNano":"%d","endTimeUnixNano":"%d"}]}]}`,
			svc, tr.ID, s.SpanID, parent, op, pathoBase+s.Start, pathoBase+s.End)
		if len(b) > 1<<20 {
			if _, err := f.Write(b); err != nil {
				t.Fatal(err)
			}
			b = b[:0]
		}
	}
	b = append(b, "]}"...)
	if _, err := f.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestWritePathological writes the measurement inputs with
// -write-pathological DIR; without it, it checks that small ones read back
// as one trace of n spans.
func TestWritePathological(t *testing.T) {
	dir, sizes := *writePatho, []int{10_000, 100_000}
	if dir == "" {
		dir, sizes = t.TempDir(), []int{50}
	}
	for _, n := range sizes {
		for name, tr := range map[string]tracefmt.Trace{"chain": chainTrace(n), "fanout": fanoutTrace(n),
			"cycle": cycleTrace(n), "skewed": skewedChainTrace(n)} {
			path := filepath.Join(dir, fmt.Sprintf("%s-%d.otlp.json", name, n))
			writePathoJSON(t, tr, path)
			if *writePatho != "" {
				continue
			}
			out, stderr, code := run(t, "", "inspect", path)
			if code != ExitOK || !strings.Contains(out, fmt.Sprintf("%d spans", n)) {
				t.Errorf("%s: exit %d: %s%s", path, code, out, stderr)
			}
		}
	}
}

// Profiles and the report stay linear in a trace's depth and width: for
// each shape, the output and the bytes allocated for 2n spans are at most
// 2.5× those for n (a quadratic renderer gives 4×). Sizes, not times, so
// the test is as fast and as stable on a loaded machine.
func TestPathologicalLinear(t *testing.T) {
	dir := t.TempDir()
	const n = 1000
	shapes := map[string]func(int) tracefmt.Trace{"chain": chainTrace, "fanout": fanoutTrace, "skewed": skewedChainTrace}
	cmds := [][]string{
		{"profile", "--format", "pprof", "-o", "OUT"},
		{"profile", "--format", "folded", "-o", "OUT"},
		{"profile", "--format", "speedscope", "-o", "OUT"},
		{"report", "-o", "OUT"},
	}
	for _, shape := range []string{"chain", "fanout", "skewed"} {
		var in [2]string
		for k, size := range []int{n, 2 * n} {
			in[k] = filepath.Join(dir, fmt.Sprintf("%s-%d.otlp.json", shape, size))
			writePathoJSON(t, shapes[shape](size), in[k])
		}
		for _, c := range cmds {
			name := shape + " " + strings.Join(c[:len(c)-2], " ")
			var out, alloc [2]int64
			for k := range in {
				args := slices.Clone(c)
				file := filepath.Join(dir, "out")
				args[len(args)-1] = file
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				_, stderr, code := run(t, "", append(args, in[k])...)
				runtime.ReadMemStats(&after)
				if code != ExitOK {
					t.Fatalf("%s: exit %d: %s", name, code, stderr)
				}
				st, err := os.Stat(file)
				if err != nil {
					t.Fatal(err)
				}
				out[k], alloc[k] = st.Size(), int64(after.TotalAlloc-before.TotalAlloc)
			}
			if float64(out[1]) > 2.5*float64(out[0]) || float64(alloc[1]) > 2.5*float64(alloc[0]) {
				t.Errorf("%s: output %d → %d bytes, allocated %d → %d bytes from %d to %d spans: not linear",
					name, out[0], out[1], alloc[0], alloc[1], n, 2*n)
			}
		}
	}
}

// The order the files are given changes nothing: exemplars tie by trace
// order, and the trace order is by start, then trace ID (issue 17 item 9).
func TestInputOrderIndependent(t *testing.T) {
	dir := t.TempDir()
	var files []string
	for f := range 3 {
		tr := fanoutTrace(4)
		tr.ID[15] = byte(10 - f) // later files hold smaller IDs
		for _, s := range tr.Spans {
			s.TraceID = tr.ID
		}
		files = append(files, filepath.Join(dir, fmt.Sprintf("f%d.otlp.json", f)))
		writePathoJSON(t, tr, files[f])
	}
	reversed := slices.Clone(files)
	slices.Reverse(reversed)
	for _, args := range [][]string{
		{"analyze", "-o", "json", "--per-trace"},
		{"analyze", "--per-trace"},
		{"profile", "--slowest", "50%"},
		{"report", "-o", "-"},
	} {
		// The input summary lists the files as given: leave those lines out.
		noFiles := func(s string) string {
			var keep []string
			for _, l := range strings.Split(s, "\n") {
				if !strings.Contains(l, dir) {
					keep = append(keep, l)
				}
			}
			return strings.Join(keep, "\n")
		}
		a, _, _ := run(t, "", append(slices.Clone(args), files...)...)
		b, _, _ := run(t, "", append(slices.Clone(args), reversed...)...)
		if a, b = noFiles(a), noFiles(b); a != b || a == "" {
			t.Errorf("%s: the output depends on the order of the files:\n%s", strings.Join(args, " "), goldenfile.DiffLines(a, b))
		}
	}
}
