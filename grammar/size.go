package grammar

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"
)

// Sizes, such as --max-decompressed's:
//
//	size = digits [ " " ] [ unit ]     white space allowed around it
//	unit = "B" | "byte" | "bytes"                   1
//	     | "K" | "KiB" | "M" | "MiB" | "G" | "GiB" | "T" | "TiB"   powers of 1024
//	     | "KB" | "MB" | "GB" | "TB"                          powers of 1000
//
// Units are read in any case; a size is at most 2⁶³−1 bytes.

var sizeUnits = map[string]int64{"": 1, "B": 1, "BYTE": 1, "BYTES": 1,
	"K": 1 << 10, "KIB": 1 << 10, "M": 1 << 20, "MIB": 1 << 20, "G": 1 << 30, "GIB": 1 << 30, "T": 1 << 40, "TIB": 1 << 40,
	"KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12}

const wantSize = "a number with an optional unit (KiB, MiB, GiB, TiB, KB, MB, GB, TB), e.g. 512MiB"

// FormatBytes writes a byte count in the units ParseBytes reads.
func FormatBytes(n int64) string {
	for _, u := range []struct {
		s string
		v int64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n >= u.v && n%u.v == 0 {
			return fmt.Sprintf("%d %s", n/u.v, u.s)
		}
	}
	return fmt.Sprintf("%d bytes", n)
}

// ParseBytes reads a size (see above).
func ParseBytes(s string) (int64, error) {
	const g = "size"
	i := len(s) - len(strings.TrimLeftFunc(s, unicode.IsSpace))
	start := i
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == start {
		return 0, errAt(g, s, start, "no number", strings.TrimRightFunc(s[start:], unicode.IsSpace), wantSize)
	}
	v, err := strconv.ParseInt(s[start:i], 10, 64)
	if err != nil {
		return 0, errAt(g, s, start, "number too large", s[start:i], "at most 9223372036854775807 bytes")
	}
	unitOff := len(s) - len(strings.TrimLeftFunc(s[i:], unicode.IsSpace))
	unit := strings.TrimRightFunc(s[unitOff:], unicode.IsSpace)
	mult, ok := sizeUnits[strings.ToUpper(unit)]
	if !ok {
		return 0, errAt(g, s, unitOff, "unknown unit", unit, "one of B, KiB, MiB, GiB, TiB (1024s), KB, MB, GB, TB (1000s)")
	}
	if v > math.MaxInt64/mult {
		return 0, errAt(g, s, start, "size too large", strings.TrimRightFunc(s[start:], unicode.IsSpace), "at most 9223372036854775807 bytes")
	}
	return v * mult, nil
}
