package budget

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// percentiles are the target keys, in the order Targets are kept.
var percentiles = [...]struct {
	key string
	p   float64
}{
	{"p50", 50}, {"p90", 90}, {"p95", 95}, {"p99", 99}, {"p999", 99.9}, {"max", 100},
}

const validPercentiles = "p50, p90, p95, p99, p999, max"

// percentileKey is the file's key for percentile p ("p99", "p999", "max").
func percentileKey(p float64) string {
	for _, pc := range percentiles {
		if pc.p == p {
			return pc.key
		}
	}
	return "p" + strconv.FormatFloat(p, 'f', -1, 64)
}

// percentileKeyProblem explains a key that looks like a percentile (p75,
// p100, p99.9) but is not one of the target keys; "" when it does not look
// like one, so the caller reports it as an unknown key.
func percentileKeyProblem(key string) string {
	num, ok := strings.CutPrefix(key, "p")
	if !ok || !isNumber(num) {
		return ""
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return ""
	}
	switch {
	case num == "99.9":
		return fmt.Sprintf("unsupported percentile %q: write p999 for the 99.9th percentile", key)
	case !strings.Contains(num, ".") && len(num) > 3 && strings.HasPrefix(num, "99"):
		// p9999 style: 99.99th and finer are not supported.
	case v == 100:
		return fmt.Sprintf("percentile %q is out of range: write max for the slowest request; valid percentiles: %s", key, validPercentiles)
	case v <= 0 || v > 100:
		return fmt.Sprintf("percentile %q is out of range: valid percentiles: %s", key, validPercentiles)
	}
	return fmt.Sprintf("unsupported percentile %q: valid percentiles: %s", key, validPercentiles)
}

// isNumber reports whether s is digits with at most one '.', and at least
// one digit: the number part of durations and percentages.
func isNumber(s string) bool {
	digits, dots := 0, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == '.':
			dots++
		default:
			return false
		}
	}
	return digits > 0 && dots <= 1
}

const validUnits = "ns, us (or µs), ms, s, m, h"

func isUnit(u string) bool {
	switch u {
	case "ns", "us", "µs", "μs", "ms", "s", "m", "h": // µ is U+00B5, μ is U+03BC
		return true
	}
	return false
}

// parseDuration parses a budget DURATION (see the package documentation):
// one or more number-unit pairs, positive, unit required. It is stricter
// than time.ParseDuration, which it uses for the arithmetic, so a bare
// number or a sign never slips through.
func parseDuration(s string) (time.Duration, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("bad duration %s: %s", quote(s), fmt.Sprintf(format, args...))
	}
	const want = "want a number and a unit, e.g. 200ms, 0.2s or 1500us"
	if s == "" {
		return 0, bad("%s", want)
	}
	if s[0] == '-' {
		return 0, bad("must be positive")
	}
	if strings.ContainsAny(s, " \t") {
		if joined := strings.Join(strings.Fields(s), ""); joined != s {
			if _, err := parseDuration(joined); err == nil {
				return 0, bad("remove the space, e.g. %s", joined)
			}
		}
		return 0, bad("%s", want)
	}
	for i := 0; i < len(s); {
		j := i
		for j < len(s) && (s[j] == '.' || s[j] >= '0' && s[j] <= '9') {
			j++
		}
		num := s[i:j]
		if !isNumber(num) {
			return 0, bad("%s", want)
		}
		k := j
		for k < len(s) && s[k] != '.' && (s[k] < '0' || s[k] > '9') {
			k++
		}
		unit := s[j:k]
		switch {
		case unit == "" && i == 0:
			return 0, bad("add a unit, e.g. %sms", s)
		case unit == "":
			return 0, bad("add a unit after %s", num)
		case !isUnit(unit) && isUnit(strings.ToLower(unit)):
			return 0, bad("units are lower-case, e.g. %s%s", num, strings.ToLower(unit))
		case !isUnit(unit):
			return 0, bad("unknown unit %s; valid units: %s", quote(unit), validUnits)
		}
		i = k
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		// The grammar is already checked, so this is overflow.
		return 0, bad("too large")
	}
	if d <= 0 {
		return 0, bad("must be more than zero")
	}
	return d, nil
}

// parsePercent parses a budget PERCENT, "5%", into a fraction (0.05).
// The % sign is required: a bare 0.05 or 5 would be ambiguous.
func parsePercent(s string) (float64, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("bad percentage %s: %s", quote(s), fmt.Sprintf(format, args...))
	}
	num, ok := strings.CutSuffix(s, "%")
	if strings.HasPrefix(num, "-") && isNumber(num[1:]) {
		return 0, bad("must be more than 0%%")
	}
	if !ok || !isNumber(num) {
		return 0, bad("want a number from 0 to 100 followed by %%, e.g. 5%%")
	}
	// Scaling in the decimal exponent rounds once: 99.9% is exactly the
	// float64 nearest 0.999, where 99.9/100 would not be.
	v, err := strconv.ParseFloat(num+"e-2", 64)
	switch {
	case err != nil || v > 1:
		return 0, bad("must be at most 100%%")
	case v == 0:
		return 0, bad("must be more than 0%% (for \"no request may exceed\", set max: instead)")
	}
	return v, nil
}

// quote quotes s for a message, cut short so that a huge value cannot
// flood the report; %q also makes control characters visible.
func quote(s string) string {
	if t := short(s); t != s {
		return strconv.Quote(t[:len(t)-len("…")]) + "…"
	}
	return strconv.Quote(s)
}

// short cuts s to at most 60 bytes, marking the cut with "…".
func short(s string) string {
	const max = 60
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && s[cut]&0xC0 == 0x80 { // do not split a UTF-8 sequence
		cut--
	}
	return s[:cut] + "…"
}
