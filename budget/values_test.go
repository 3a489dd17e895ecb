package budget

import (
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	ok := []struct {
		in   string
		want time.Duration
	}{
		{"200ms", 200 * time.Millisecond},
		{"0.2s", 200 * time.Millisecond},
		{"1500us", 1500 * time.Microsecond},
		{"1500µs", 1500 * time.Microsecond}, // U+00B5 micro sign
		{"1500μs", 1500 * time.Microsecond}, // U+03BC Greek mu
		{"2m", 2 * time.Minute},
		{"1.5s", 1500 * time.Millisecond},
		{"250000ns", 250 * time.Microsecond},
		{"1h", time.Hour},
		{"1m30s", 90 * time.Second},
		{".5s", 500 * time.Millisecond},
		{"5.ms", 5 * time.Millisecond},
		{"1ns", 1},
	}
	for _, tt := range ok {
		if got, err := parseDuration(tt.in); err != nil || got != tt.want {
			t.Errorf("parseDuration(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	bad := []struct{ in, want string }{
		{"40", `bad duration "40": add a unit, e.g. 40ms`},
		{"1.5", `bad duration "1.5": add a unit, e.g. 1.5ms`},
		{"1m30", `bad duration "1m30": add a unit after 30`},
		{"40sec", `bad duration "40sec": unknown unit "sec"; valid units: ns, us (or µs), ms, s, m, h`},
		{"40MS", `bad duration "40MS": units are lower-case, e.g. 40ms`},
		{"40 ms", `bad duration "40 ms": remove the space, e.g. 40ms`},
		{"4 0", `bad duration "4 0": want a number and a unit, e.g. 200ms, 0.2s or 1500us`},
		{"-5ms", `bad duration "-5ms": must be positive`},
		{"+5ms", `bad duration "+5ms": want a number and a unit, e.g. 200ms, 0.2s or 1500us`},
		{"0ms", `bad duration "0ms": must be more than zero`},
		{"0.0000001ns", `bad duration "0.0000001ns": must be more than zero`},
		{"99999999999h", `bad duration "99999999999h": too large`},
		{"fast", `bad duration "fast": want a number and a unit, e.g. 200ms, 0.2s or 1500us`},
		{"1.2.3ms", `bad duration "1.2.3ms": want a number and a unit, e.g. 200ms, 0.2s or 1500us`},
		{"", `bad duration "": want a number and a unit, e.g. 200ms, 0.2s or 1500us`},
		{"ms", `bad duration "ms": want a number and a unit, e.g. 200ms, 0.2s or 1500us`},
	}
	for _, tt := range bad {
		_, err := parseDuration(tt.in)
		if err == nil || err.Error() != tt.want {
			t.Errorf("parseDuration(%q) error\n got  %v\n want %s", tt.in, err, tt.want)
		}
	}
}

func TestParsePercent(t *testing.T) {
	ok := []struct {
		in   string
		want float64
	}{
		{"5%", 0.05}, {"100%", 1}, {"0.1%", 0.001}, {"50%", 0.5}, {"99.9%", 0.999},
	}
	for _, tt := range ok {
		if got, err := parsePercent(tt.in); err != nil || got != tt.want {
			t.Errorf("parsePercent(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	bad := []struct{ in, want string }{
		{"120%", `bad percentage "120%": must be at most 100%`},
		{"100.01%", `bad percentage "100.01%": must be at most 100%`},
		{"0%", `bad percentage "0%": must be more than 0% (for "no request may exceed", set max: instead)`},
		{"-1%", `bad percentage "-1%": must be more than 0%`},
		{"0.05", `bad percentage "0.05": want a number from 0 to 100 followed by %, e.g. 5%`},
		{"5", `bad percentage "5": want a number from 0 to 100 followed by %, e.g. 5%`},
		{"5 %", `bad percentage "5 %": want a number from 0 to 100 followed by %, e.g. 5%`},
		{"%", `bad percentage "%": want a number from 0 to 100 followed by %, e.g. 5%`},
	}
	for _, tt := range bad {
		_, err := parsePercent(tt.in)
		if err == nil || err.Error() != tt.want {
			t.Errorf("parsePercent(%q) error\n got  %v\n want %s", tt.in, err, tt.want)
		}
	}
}

func TestPercentileKeyProblem(t *testing.T) {
	tests := []struct{ key, want string }{
		{"p75", `unsupported percentile "p75": valid percentiles: p50, p90, p95, p99, p999, max`},
		{"p99.9", `unsupported percentile "p99.9": write p999 for the 99.9th percentile`},
		{"p9999", `unsupported percentile "p9999": valid percentiles: p50, p90, p95, p99, p999, max`},
		{"p100", `percentile "p100" is out of range: write max for the slowest request; valid percentiles: p50, p90, p95, p99, p999, max`},
		{"p0", `percentile "p0" is out of range: valid percentiles: p50, p90, p95, p99, p999, max`},
		{"p120", `percentile "p120" is out of range: valid percentiles: p50, p90, p95, p99, p999, max`},
		{"pX", ""},
		{"p", ""},
		{"timeout", ""},
	}
	for _, tt := range tests {
		if got := percentileKeyProblem(tt.key); got != tt.want {
			t.Errorf("percentileKeyProblem(%q)\n got  %s\n want %s", tt.key, got, tt.want)
		}
	}
}
