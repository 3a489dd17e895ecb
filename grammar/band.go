package grammar

import (
	"math"
	"strconv"
	"strings"
	"unicode"
)

// Band selects, per endpoint, the requests whose duration rank lies in a
// percentile range (the tail-latency profiles CRISP popularised). With n
// requests ordered by duration (ties: input order), it keeps ranks
// ⌊Lo·n/100⌋+1 … ⌈Hi·n/100⌉ (1-based), so p95-p100 of 100 requests is the
// 5 slowest and p99-p100 of 10 requests the slowest one. The zero value
// keeps everything.
//
// --percentile-band (white space allowed around each bound):
//
//	band  = bound "-" bound          low below high, e.g. p95-p100, p99.9-p100, p0-p50
//	bound = [ "p" ] percentile       0 to 100, up to three decimals
//
// --slowest:
//
//	slowest = percentage [ "%" ]     above 0, at most 100, up to three decimals: the band p(100−X)-p100
type Band struct{ Lo, Hi float64 }

// All reports whether the band keeps every request.
func (b Band) All() bool { return b == Band{} || b.Lo <= 0 && b.Hi >= 100 }

// String is the band as ParseBand reads it, e.g. "p95-p100".
func (b Band) String() string {
	if b == (Band{}) {
		return "p0-p100"
	}
	return "p" + formatFloat(b.Lo) + "-p" + formatFloat(b.Hi)
}

// Ranks returns the 0-based rank range [from, to) the band keeps of n
// requests ordered by duration.
func (b Band) Ranks(n int) (from, to int) {
	if b.All() {
		return 0, n
	}
	lo, hi := int64(math.Round(b.Lo*1000)), int64(math.Round(b.Hi*1000))
	nn := int64(n)
	return int(lo * nn / 100_000), int((hi*nn + 99_999) / 100_000)
}

const wantPercentile = "a percentile from 0 to 100 with up to three decimals, e.g. p95"

// ParseBand reads a --percentile-band (see Band).
func ParseBand(s string) (Band, error) {
	const g = "percentile band"
	dash := strings.IndexByte(s, '-')
	if dash < 0 {
		return Band{}, errAt(g, s, len(s), `no "-" between the bounds`, "", `"-" and the high bound, e.g. p95-p100`)
	}
	l, _, err := parseBound(g, s, 0, dash)
	if err != nil {
		return Band{}, err
	}
	h, hOff, err := parseBound(g, s, dash+1, len(s))
	if err != nil {
		return Band{}, err
	}
	if l >= h {
		return Band{}, errAt(g, s, hOff, "the high bound is not above the low one", strings.TrimRightFunc(s[hOff:], unicode.IsSpace), "a bound above "+formatFloat(l))
	}
	return Band{l, h}, nil
}

// parseBound reads the bound s[from:to], spaces around it allowed, and
// returns where it starts.
func parseBound(g, s string, from, to int) (float64, int, error) {
	b, from := field(s, from, to)
	v, ok := parsePercent(strings.TrimPrefix(b, "p"))
	if !ok {
		found := b
		if found == "" { // nothing before or after the "-": quote what stands there
			found = s[from:min(from+1, len(s))]
		}
		return 0, from, errAt(g, s, from, "bad bound", found, wantPercentile)
	}
	return v, from, nil
}

// parsePercent reads a plain decimal from 0 to 100 with up to three
// decimals (no sign, exponent, hex or underscores: strconv.ParseFloat
// takes all of those).
func parsePercent(x string) (float64, bool) {
	digits, dot := 0, false
	for i := 0; i < len(x); i++ {
		switch {
		case x[i] >= '0' && x[i] <= '9':
			digits++
		case x[i] == '.' && !dot:
			dot = true
		default:
			return 0, false
		}
	}
	if digits == 0 {
		return 0, false
	}
	v, err := strconv.ParseFloat(x, 64)
	return v, err == nil && v <= 100 && math.Round(v*1000) == v*1000
}

// ParseSlowest reads a --slowest percentage (see Band): "1%" is p99-p100.
func ParseSlowest(s string) (Band, error) {
	t, off := field(s, 0, len(s))
	v, ok := parsePercent(strings.TrimSuffix(t, "%"))
	if !ok || v == 0 {
		return Band{}, errAt("slowest", s, off, "bad percentage", t, "a percentage above 0 and at most 100 with up to three decimals, e.g. 1%")
	}
	return Band{Lo: (100_000 - math.Round(v*1000)) / 1000, Hi: 100}, nil
}

func formatFloat(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }
