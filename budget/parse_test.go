package budget

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	goldenfile "hopbudget/internal/golden"
)

const testdata = "../testdata/budget"

// golden compares got with the golden file, or rewrites it under -update.
func golden(t *testing.T, path, got string) {
	t.Helper()
	goldenfile.Check(t, path, []byte(got))
}

func TestExample(t *testing.T) {
	b, err := Load(filepath.Join(testdata, "example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	ep := "endpoint frontend: HTTP GET /dispatch"
	want := &Budget{
		Version: 1,
		File:    filepath.Join(testdata, "example.yaml"),
		Endpoints: []Endpoint{{
			Name:  ep,
			Match: Matcher{Service: "frontend", Operation: "HTTP GET /dispatch"},
			// p95 comes first although the file sets p99 first.
			Targets: []Target{
				{Percentile: 95, Limit: 120 * time.Millisecond, Name: ep + " p95", Line: 5},
				{Percentile: 99, Limit: 200 * time.Millisecond, Name: ep + " p99", Line: 4},
			},
			SlowRequests: &SlowRequests{Threshold: 120 * time.Millisecond, Allowed: 0.05, Name: ep + " slow requests", Line: 6},
			Errors:       &ErrorRate{Allowed: 0.001, Name: ep + " errors", Line: 7},
			Line:         3,
		}},
		Hops: []Hop{
			{
				Name: "hop frontend → driver (latency)", Match: Matcher{From: "frontend", To: "driver"}, On: Latency, Line: 9,
				Targets: []Target{{Percentile: 99, Limit: 40 * time.Millisecond, Name: "hop frontend → driver p99 (latency)", Line: 10}},
				// objective: 99.5% is exactly rate: 0.5%.
				Errors: &ErrorRate{Allowed: 0.005, Name: "hop frontend → driver errors", Line: 11},
			},
			{
				Name: "hop * → mysql (critical-path)", Match: Matcher{To: "mysql"}, On: CriticalPath, Line: 12,
				Targets: []Target{{Percentile: 95, Limit: 40 * time.Millisecond, Name: "hop * → mysql p95 (critical-path)", Line: 14}},
			},
			{
				Name: "hop * → * (network)", Match: Matcher{To: "*"}, On: Network, Line: 15,
				Targets: []Target{{Percentile: 99, Limit: 10 * time.Millisecond, Name: "hop * → * p99 (network)", Line: 17}},
			},
		},
	}
	if !reflect.DeepEqual(b, want) {
		t.Errorf("got\n%s\nwant\n%s", dump(b), dump(want))
	}
}

func TestLoadMissing(t *testing.T) {
	_, err := Load(filepath.Join(testdata, "no-such-file.yaml"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("got %v, want a not-exist error", err)
	}
}

// TestFull parses the file using every key and compares a dump of the
// model, derived names included, with its golden file.
func TestFull(t *testing.T) {
	b, err := Load(filepath.Join(testdata, "full.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	golden(t, filepath.Join(testdata, "full.golden"), dump(b))
}

// TestBadFiles checks every bad-*.yaml against its golden .err: the exact
// messages and positions of every error class.
func TestBadFiles(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(testdata, "bad-*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no bad-*.yaml files: %v", err)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".yaml"), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			b, err := Parse(filepath.Base(f), data)
			var ve *ValidationError
			if !errors.As(err, &ve) || b != nil {
				t.Fatalf("got %v, %v; want a nil budget and a *ValidationError", b, err)
			}
			golden(t, strings.TrimSuffix(f, ".yaml")+".err", err.Error()+"\n")
		})
	}
}

func TestErrorCap(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(testdata, "bad-many.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = Parse("bad-many.yaml", data)
	var ve *ValidationError
	if !errors.As(err, &ve) || len(ve.Errors) != MaxErrors || ve.Omitted != 5 {
		t.Fatalf("got %d errors, %d omitted; want %d and 5", len(ve.Errors), ve.Omitted, MaxErrors)
	}
	for i := 1; i < len(ve.Errors); i++ {
		if ve.Errors[i].Line < ve.Errors[i-1].Line {
			t.Errorf("errors not in file order: line %d after %d", ve.Errors[i].Line, ve.Errors[i-1].Line)
		}
	}
}

// TestMessages pins one message of each kind inline, so the wording and
// the position (value vs key vs line) can be read next to the input.
func TestMessages(t *testing.T) {
	const hop = "version: 1\nhops:\n  - match: {to: x}\n"
	tests := []struct {
		name, in, want string
	}{
		{"bare number", hop + "    p99: 40\n",
			`b.yaml:4:10: hops[0].p99: bad duration "40": add a unit, e.g. 40ms`},
		{"CRLF line ends", "version: 1\r\nhops:\r\n  - match: {to: x}\r\n    p99: 40\r\n",
			`b.yaml:4:10: hops[0].p99: bad duration "40": add a unit, e.g. 40ms`},
		{"CR line ends", "version: 1\rhops:\r  - match: {to: x}\r    p99: 40\r",
			`b.yaml:4:10: hops[0].p99: bad duration "40": add a unit, e.g. 40ms`},
		{"CR line ends, syntax error", "version: 1\rhops:\r  - match: {to: x}\r     p99: 40ms\r",
			`b.yaml:4:6: invalid YAML: did not find expected key (while parsing a block mapping that starts at line 3, column 5)`},
		{"unknown key with suggestion", hop + "    p99: 1ms\n    onn: network\n",
			`b.yaml:5:5: hops[0]: unknown key "onn" (did you mean "on"?): valid keys: name, match, on, p50, p90, p95, p99, p999, max, errors`},
		{"duplicate key", hop + "    p99: 1ms\n    p99: 2ms\n",
			`b.yaml:5:5: hops[0].p99: duplicate key "p99" (first at line 4)`},
		{"percentile out of range", hop + "    p100: 1ms\n",
			`b.yaml:4:5: hops[0]: percentile "p100" is out of range: write max for the slowest request; valid percentiles: p50, p90, p95, p99, p999, max`},
		{"on", hop + "    on: critical_path\n    p99: 1ms\n",
			`b.yaml:4:9: hops[0].on: unknown value "critical_path" (did you mean "critical-path"?): valid values: latency, network, critical-path`},
		{"no target", hop,
			`b.yaml:3:5: hops[0]: no target: add at least one of p50, p90, p95, p99, p999, max or errors`},
		{"empty matcher", "version: 1\nhops:\n  - match: {}\n    p99: 1ms\n",
			`b.yaml:3:12: hops[0].match: empty matcher: set at least one of from, to, operation, statement (use "*" to match anything)`},
		{"missing version", "hops:\n  - match: {to: x}\n    p99: 1ms\n",
			`b.yaml:1:1: missing version: add "version: 1"`},
		{"unsupported version", "version: 3\nhops:\n  - match: {to: x}\n    p99: 1ms\n",
			`b.yaml:1:10: version: unsupported version 3: this hopbudget reads version 1`},
		{"percent", "version: 1\nendpoints:\n  - match: {service: x}\n    errorBudget: {threshold: 1s, allowed: 120%}\n",
			`b.yaml:4:43: endpoints[0].errorBudget.allowed: bad percentage "120%": must be at most 100%`},
		{"empty", "",
			`b.yaml: empty file: want a budget starting with "version: 1"`},
		{"null document", "---\n",
			`b.yaml:2:1: want a mapping of budget sections (version, endpoints, hops, layers, fanIn), found nothing`},
		{"yaml syntax", "version: 1\nhops: [\n",
			`b.yaml:2:7: invalid YAML: did not find expected node content before the end of the file`},
		{"alias as glob", "version: 1\nhops:\n  - match: {to: *}\n",
			`b.yaml:3:17: invalid YAML: did not find expected alphabetic or numeric character (a value starting with "*" or "&" must be quoted, e.g. to: "*")`},
		{"anchor as glob, after other text", "version: 1\nhops:\n  - match: {operation: \"é\", to: &}\n",
			`b.yaml:3:33: invalid YAML: did not find expected alphabetic or numeric character (a value starting with "*" or "&" must be quoted, e.g. to: "*")`},
		// The alias is the position, not the first "*slow" in the text.
		{"unknown anchor", "version: 1\nhops:\n  - match: {to: \"*slow\"}\n    p99: *slow\n",
			`b.yaml:4:10: invalid YAML: unknown anchor 'slow' referenced (a value starting with "*" is a YAML alias: quote a glob, e.g. to: "*")`},
		{"flow mapping not closed", hop + "    errors: {rate: 1%\n    p99: 1ms\n",
			`b.yaml:5:8: invalid YAML: did not find expected ',' or '}' (while parsing a flow mapping that starts at line 4, column 13)`},
		{"flow mapping not closed at the end", hop + "    errors: {rate: 1%\n\n",
			`b.yaml:4:13: invalid YAML: did not find expected ',' or '}' before the end of the file (while parsing a flow mapping that starts here)`},
		{"quote not closed", "version: 1\nhops:\n  - match: {to: \"x}\n    p99: 1ms\n",
			`b.yaml:3:17: invalid YAML: found unexpected end of stream (while scanning a quoted scalar that starts here)`},
		{"bad escape", "version: 1\nhops:\n  - match: {to: \"a\\qb\"}\n",
			`b.yaml:3:19: invalid YAML: found unknown escape character (while scanning a quoted scalar that starts at column 17)`},
		{"character that cannot start a token", "version: 1\nhops:\n  - match: {to: @x}\n",
			"b.yaml:3:17: invalid YAML: found character that cannot start any token: \"@\" (quote values that start with @, ` or %)"},
		{"tab indent", "version: 1\nhops:\n  - match:\n\t\tto: x\n",
			`b.yaml:4:1: invalid YAML: found character that cannot start any token (indent with spaces: YAML does not allow tabs there)`},
		// YAML also breaks lines at LS (U+2028), NEL and a lone CR.
		{"line separator", "version: 1\u2028hops: [@]\n",
			"b.yaml:2:8: invalid YAML: found character that cannot start any token: \"@\" (quote values that start with @, ` or %)"},
		{"byte order mark", "\ufeffversion: 1\nhops: [`]\n",
			"b.yaml:2:8: invalid YAML: found character that cannot start any token: \"`\" (quote values that start with @, ` or %)"},
		// Encoding errors carry only a byte offset: the position is
		// counted from it.
		{"not UTF-8", "version: 1\nhops:\n  - match: {to: \"a\x8ab\"}\n",
			`b.yaml:3:19: invalid YAML: invalid leading UTF-8 octet (value: 138)`},
		{"control character", "\ufeffversion: 1\nhops:\n  - match: {to: a\x07b}\n",
			`b.yaml:3:18: invalid YAML: control characters are not allowed (value: 7)`},
		{"UTF-16", "\xff\xfev\x00:\x00 \x001\x00\n\x00h\x00:\x00 \x00[\x00@\x00]\x00\n\x00",
			"b.yaml:2:5: invalid YAML: found character that cannot start any token: \"@\" (quote values that start with @, ` or %)"},
		{"too deep", "version: 1\nhops: " + strings.Repeat("[", 10001) + "\n",
			`b.yaml:2:10007: invalid YAML: exceeded max depth of 10000`},
		{"layer sum", `version: 1
endpoints:
  - match: {service: frontend, operation: "HTTP GET /dispatch"}
    p99: 200ms
layers:
  - {name: a, endpoint: {service: frontend, operation: "HTTP GET /dispatch"}, match: [{to: x}], p99: 150ms}
  - {name: b, endpoint: {service: frontend, operation: "HTTP GET /dispatch"}, match: [{to: y}], p99: 65ms}
`,
			`b.yaml:4:5: endpoints[0].p99: layers under frontend "HTTP GET /dispatch" add up to 215ms at p99, over the endpoint's 200ms target: a 150ms + b 65ms`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("b.yaml", []byte(tt.in))
			if err == nil {
				t.Fatalf("no error, want %s", tt.want)
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

// TestLayerSum checks the boundary: allowances may add up to exactly the
// target, and only endpoint lines with the identical matcher count.
func TestLayerSum(t *testing.T) {
	const head = `version: 1
endpoints:
  - match: {service: frontend, operation: "GET /"}
    p95: 100ms
    p99: 200ms
  - match: {service: frontend}
    p99: 50ms
layers:
`
	layer := func(name string, pct string, d string) string {
		return fmt.Sprintf("  - {name: %s, endpoint: {service: frontend, operation: \"GET /\"}, match: [{to: %s}], %s: %s}\n", name, name, pct, d)
	}
	tests := []struct {
		name, layers string
		wantErr      string
	}{
		{"exactly the target", layer("a", "p99", "150ms") + layer("b", "p99", "50ms"), ""},
		{"one over", layer("a", "p99", "150ms") + layer("b", "p99", "50000001ns"), "add up to 200.000001ms at p99"},
		{"other percentile separate", layer("a", "p99", "150ms") + layer("b", "p95", "100ms"), ""},
		{"p95 over", layer("a", "p95", "60ms") + layer("b", "p95", "41ms") + layer("c", "p99", "1ms"), "add up to 101ms at p95, over the endpoint's 100ms target: a 60ms + b 41ms"},
		{"endpoint without that percentile", layer("a", "p50", "1h"), ""},
		{"overflow saturates", layer("a", "p99", "2000000h") + layer("b", "p99", "2000000h"), "add up to 2562047h47m16.854775807s at p99"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("b.yaml", []byte(head+tt.layers))
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("unexpected error: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("got %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}

// A hop matcher can select queries sharing a generic span name by their
// normalised statement (globs: '*' inside "SELECT *" still matches itself).
func TestMatcherStatement(t *testing.T) {
	m := Matcher{To: "postgresql", Statement: "SELECT name FROM authors *"}
	if !m.MatchHop("reviews", "postgresql", "pg.query:SELECT shop", "SELECT name FROM authors WHERE id = $1") ||
		m.MatchHop("reviews", "postgresql", "pg.query:SELECT shop", "SELECT * FROM reviews WHERE product_id = $1") {
		t.Error("MatchHop by statement")
	}
	b, err := Parse("b.yaml", []byte("version: 1\nhops:\n  - match: {to: postgresql, statement: \"SELECT * FROM reviews*\"}\n    p99: 20ms\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := b.Hops[0].Match.Statement; got != "SELECT * FROM reviews*" {
		t.Errorf("parsed statement %q", got)
	}
}

func TestMatcher(t *testing.T) {
	ep := Matcher{Service: "front*", Operation: "HTTP GET /*"}
	if !ep.MatchEndpoint("frontend", "HTTP GET /dispatch") || ep.MatchEndpoint("frontend", "HTTP POST /dispatch") || ep.MatchEndpoint("backend", "HTTP GET /") {
		t.Error("MatchEndpoint")
	}
	svc := Matcher{Service: "frontend"} // empty operation: any
	if !svc.MatchEndpoint("frontend", "") || !svc.MatchEndpoint("frontend", "anything / at all") {
		t.Error("MatchEndpoint with an empty field")
	}
	hop := Matcher{To: "postgres*"}
	if !hop.MatchHop("order-service", "postgresql", "INSERT orders", "") || hop.MatchHop("a", "mysql", "x", "") {
		t.Error("MatchHop")
	}
	full := Matcher{From: "frontend", To: "driver", Operation: "/driver.DriverService/FindNearest"}
	if !full.MatchHop("frontend", "driver", "/driver.DriverService/FindNearest", "") || full.MatchHop("frontend", "driver", "/driver.DriverService/Other", "") {
		t.Error("MatchHop with every field")
	}
	l := Layer{Match: []Matcher{{To: "postgresql"}, {To: "redis", Operation: "GET"}}}
	if !l.MatchHop("x", "redis", "GET", "") || l.MatchHop("x", "redis", "SET", "") || !l.MatchHop("x", "postgresql", "SELECT", "") {
		t.Error("Layer.MatchHop")
	}
}

// dump renders a budget as text for the golden model file and for diffs.
func dump(b *Budget) string {
	var s strings.Builder
	m := func(m Matcher) string {
		var f []string
		for _, kv := range [][2]string{{"service", m.Service}, {"operation", m.Operation}, {"from", m.From}, {"to", m.To}} {
			if kv[1] != "" {
				f = append(f, fmt.Sprintf("%s=%q", kv[0], kv[1]))
			}
		}
		return "{" + strings.Join(f, " ") + "}"
	}
	fmt.Fprintf(&s, "version %d, file %s\n", b.Version, filepath.Base(b.File))
	targets := func(ts []Target) {
		for _, t := range ts {
			fmt.Fprintf(&s, "    %-4s %-8v line %-3d %s\n", t.Key(), t.Limit, t.Line, t.Name)
		}
	}
	for _, e := range b.Endpoints {
		fmt.Fprintf(&s, "endpoint line %d %q match %s\n", e.Line, e.Name, m(e.Match))
		targets(e.Targets)
		if eb := e.SlowRequests; eb != nil {
			fmt.Fprintf(&s, "    slow requests %v over %v, line %d %s\n", eb.Allowed, eb.Threshold, eb.Line, eb.Name)
		}
		if er := e.Errors; er != nil {
			fmt.Fprintf(&s, "    errors %v, line %d %s\n", er.Allowed, er.Line, er.Name)
		}
	}
	for _, h := range b.Hops {
		fmt.Fprintf(&s, "hop line %d %q match %s on %s\n", h.Line, h.Name, m(h.Match), h.On)
		targets(h.Targets)
		if er := h.Errors; er != nil {
			fmt.Fprintf(&s, "    errors %v, line %d %s\n", er.Allowed, er.Line, er.Name)
		}
	}
	for _, l := range b.Layers {
		var ms []string
		for _, x := range l.Match {
			ms = append(ms, m(x))
		}
		fmt.Fprintf(&s, "layer line %d %q (%s) endpoint %s on %s match %s\n", l.Line, l.Name, l.LayerName, m(l.Endpoint), l.On, strings.Join(ms, " "))
		targets(l.Targets)
	}
	for _, f := range b.FanIn {
		fmt.Fprintf(&s, "fan-in line %d %q match %s\n", f.Line, f.Name, m(f.Match))
		targets(f.Targets)
	}
	return s.String()
}
