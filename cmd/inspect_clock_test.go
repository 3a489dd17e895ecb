package cmd

import (
	"regexp"
	"testing"

	"hopbudget/internal/tracegentest"
)

// inspect's service table gives each service's clock, detected or set by
// --clock-granularity, and a bad override is an input error.
func TestInspectClocks(t *testing.T) {
	dir := tracegentest.Generate(t, "-scenario", "shop", "-traces", "300", "-seed", "2", "-format", "otlp-json", "-ms-clock", "web")
	row := func(out, svc string) string {
		return regexp.MustCompile(`(?m)^ ` + svc + ` +\d+  (.*?) *$`).FindStringSubmatch(out + "\n")[1]
	}
	out, stderr, code := run(t, "", "inspect", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if got := row(out, "web"); got != "1ms (detected)" {
		t.Errorf("web: %q, want 1ms (detected)\n%s", got, out)
	}
	if got := row(out, "catalog"); got != "exact (detected)" {
		t.Errorf("catalog: %q, want exact (detected)", got)
	}
	out, _, code = run(t, "", "inspect", "--clock-granularity", "web=0", "--clock-granularity", "catalog=10ms", dir)
	if code != 0 || row(out, "web") != "exact (flag)" || row(out, "catalog") != "10ms (flag)" {
		t.Errorf("overridden: exit %d\n%s", code, out)
	}
	if _, stderr, code := run(t, "", "inspect", "--clock-granularity", "web=soon", dir); code != ExitInputError || stderr == "" {
		t.Errorf("bad override: exit %d, %q", code, stderr)
	}
}
