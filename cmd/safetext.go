package cmd

import (
	"fmt"
	"io"
	"strconv"
	"unicode"
	"unicode/utf8"
)

// Names in traces are whatever the instrumented code sent: a span named
// "\x1b]0;pwned\x07" would set the terminal's title, "\r" or "\n" fake an
// output line, U+202E reverse the text after it, and any C0 control makes
// JUnit invalid XML. Every text renderer shows names through safeText,
// which spells such characters out as Go escapes (`\x1b`, `\n`, `\u202e`);
// the HTML report escapes with html/template instead.

// unsafeRune says whether r (size bytes of UTF-8) is written escaped: C0
// and C1 controls, DEL, bytes that are not UTF-8, and the bidirectional
// overrides and isolates.
func unsafeRune(r rune, size int) bool {
	return r == utf8.RuneError && size == 1 || unicode.IsControl(r) ||
		r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069 || r == 0x200e || r == 0x200f
}

// safeText returns s with its unsafe characters escaped (s itself when it
// has none).
func safeText(s string) string {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if unsafeRune(r, size) {
			return escapeFrom(s, i)
		}
		i += size
	}
	return s
}

func escapeFrom(s string, i int) string {
	b := []byte(s[:i])
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case !unsafeRune(r, size):
			b = append(b, s[i:i+size]...)
		case r == '\n':
			b = append(b, `\n`...)
		case r == '\r':
			b = append(b, `\r`...)
		case r == '\t':
			b = append(b, `\t`...)
		case size == 1: // a control below 0x80 or a byte that is not UTF-8
			b = append(b, `\x`...)
			b = append(b, "0123456789abcdef"[s[i]>>4], "0123456789abcdef"[s[i]&15])
		default:
			b = append(b, `\u`...)
			h := strconv.FormatInt(int64(r), 16)
			for range 4 - len(h) {
				b = append(b, '0')
			}
			b = append(b, h...)
		}
		i += size
	}
	return string(b)
}

// fprintfSafe is fmt.Fprintf with every string argument through safeText:
// for lines that show names (never for arguments that are colour codes).
func fprintfSafe(w io.Writer, format string, args ...any) (int, error) {
	for i, a := range args {
		if s, ok := a.(string); ok {
			args[i] = safeText(s)
		}
	}
	return fmt.Fprintf(w, format, args...)
}
