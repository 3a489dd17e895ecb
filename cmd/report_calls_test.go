package cmd

import (
	"encoding/json"
	"fmt"
	"html"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"hopbudget/analyze"
)

// The report's hop table shows each hop's calls per trace as `analyze -o
// json` computes them: the mean (and sorts on it), p50, p99 and max.
func TestReportCallsPerTrace(t *testing.T) {
	file := filepath.Join(t.TempDir(), "report.html")
	if _, stderr, code := run(t, "", "report", "-o", file, "testdata/demo"); code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	page, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	out, _, code := run(t, "", "analyze", "-o", "json", "testdata/demo")
	if code != ExitOK {
		t.Fatal(code)
	}
	var an struct {
		Hops []analyze.Hop `json:"hops"`
	}
	if err := json.Unmarshal([]byte(out), &an); err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`<th[^>]*>Calls / trace</th>`).Match(page) {
		t.Error("no Calls / trace column")
	}
	row := regexp.MustCompile(`<th scope="row">([^<]*) → ([^<]*)<small>([^<]*)</small>.*?</th><td class="n">\d+.*?</td>` +
		`<td class="n" data-v="([^"]*)">([^<]*)<div class="detail">([^<]*)</div></td>`)
	rows := map[string][]string{}
	for _, m := range row.FindAllStringSubmatch(string(page), -1) {
		rows[html.UnescapeString(m[1]+" → "+m[2]+": "+m[3])] = m[4:]
	}
	varied := false
	for _, h := range an.Hops {
		c := h.CallsPerTrace
		name := h.From + " → " + h.To + ": " + h.Operation
		got, ok := rows[name]
		if !ok {
			t.Errorf("%s: no row with calls per trace", name)
			continue
		}
		if v, err := strconv.ParseFloat(got[0], 64); err != nil || v != c.Mean {
			t.Errorf("%s: sorts on %q, want the mean %v", name, got[0], c.Mean)
		}
		want := []string{fmt.Sprintf("%.1f", c.Mean), fmt.Sprintf("p50 %d, p99 %d, max %d", c.P50, c.P99, c.Max)}
		if got[1] != want[0] || got[2] != want[1] {
			t.Errorf("%s: shows %q, %q; want %q, %q", name, got[1], got[2], want[0], want[1])
		}
		varied = varied || c.P50 != c.Max
	}
	if len(rows) != len(an.Hops) || !varied {
		t.Errorf("%d rows for %d hops, a hop with varying calls per trace: %v", len(rows), len(an.Hops), varied)
	}
}
