package tracefmt

// MaxStatementLen is the longest normalised statement kept (in bytes); a
// longer one is cut and ends in "…".
const MaxStatementLen = 200

// NormalizeStatement turns a database statement (db.query.text,
// db.statement) into its shape, so that calls doing the same thing share one
// value whatever their arguments, and the span model keeps one interned
// string per shape instead of one per call:
//
//   - quoted string literals ('…', with ” escapes) become ?;
//   - numbers become ? unless they are part of a name (table2, $1 stay);
//     "price:123" becomes "price:?" (a cache key's variable part);
//   - a parenthesised list of placeholders, as in IN (?, ?, ?), becomes (?);
//   - comments are dropped and runs of white space become one space;
//   - the result is cut to MaxStatementLen bytes.
//
// It returns b itself when nothing changes, else a new slice.
func NormalizeStatement(b []byte) []byte {
	if !needsNormalizing(b) {
		return b
	}
	out := make([]byte, 0, min(len(b), MaxStatementLen+4))
	space := false // a space is pending (written before the next token)
	emit := func(c ...byte) {
		if space && len(out) > 0 {
			out = append(out, ' ')
		}
		space = false
		out = append(out, c...)
	}
	for i := 0; i < len(b) && len(out) <= MaxStatementLen; {
		c := b[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			space = true
			i++
		case c == '-' && i+1 < len(b) && b[i+1] == '-':
			for i < len(b) && b[i] != '\n' {
				i++
			}
			space = true
		case c == '/' && i+1 < len(b) && b[i+1] == '*':
			i += 2
			for i+1 < len(b) && !(b[i] == '*' && b[i+1] == '/') {
				i++
			}
			i += 2
			space = true
		case c == '\'':
			i++
			for i < len(b) {
				if b[i] == '\'' {
					if i+1 < len(b) && b[i+1] == '\'' {
						i += 2
						continue
					}
					i++
					break
				}
				i++
			}
			emit('?')
		case isDigit(c) && (i == 0 || !isNameByte(b[i-1])):
			for i < len(b) && (isDigit(b[i]) || b[i] == '.' || b[i] == 'x' || b[i] == 'X' ||
				isHexLetter(b[i]) || (b[i] == 'e' || b[i] == 'E') && i+1 < len(b) && (isDigit(b[i+1]) || b[i+1] == '-' || b[i+1] == '+')) {
				if (b[i] == 'e' || b[i] == 'E') && i+1 < len(b) && (b[i+1] == '-' || b[i+1] == '+') {
					i++
				}
				i++
			}
			emit('?')
		case c == ')':
			out = collapseList(out)
			emit(c)
			i++
		default:
			if c == ',' {
				space = false // "?, ?" and "?,?" read alike
				out = append(out, ',')
				space = true
				i++
				continue
			}
			emit(c)
			i++
		}
	}
	if len(out) > MaxStatementLen {
		cut := MaxStatementLen
		for cut > 0 && out[cut]&0xC0 == 0x80 { // not inside a UTF-8 sequence
			cut--
		}
		out = append(out[:cut], "…"...)
	}
	return out
}

// collapseList turns a trailing "(?, ?, …, ?" into "(?" (a ')' follows).
func collapseList(out []byte) []byte {
	j := len(out)
	n := 0
	for {
		if j > 0 && out[j-1] == '?' {
			j--
			n++
		} else {
			return out
		}
		if j > 0 && out[j-1] == '(' {
			if n > 1 {
				return append(out[:j], '?')
			}
			return out
		}
		if j > 1 && out[j-1] == ' ' && out[j-2] == ',' {
			j -= 2
		} else if j > 0 && out[j-1] == ',' {
			j--
		} else {
			return out
		}
	}
}

// needsNormalizing reports whether NormalizeStatement would change b.
func needsNormalizing(b []byte) bool {
	if len(b) > MaxStatementLen {
		return true
	}
	for i, c := range b {
		switch {
		case c == '\'' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			return true
		case c == ' ' && (i == 0 || i == len(b)-1 || b[i+1] == ' '):
			return true
		case c == '-' && i+1 < len(b) && b[i+1] == '-', c == '/' && i+1 < len(b) && b[i+1] == '*':
			return true
		case isDigit(c) && (i == 0 || !isNameByte(b[i-1])):
			return true
		case c == ',' && (i+1 == len(b) || b[i+1] != ' '):
			return true
		}
	}
	return false
}

func isDigit(c byte) bool     { return c >= '0' && c <= '9' }
func isHexLetter(c byte) bool { return c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

// isNameByte: a byte that makes a following digit part of a name or a
// placeholder ($1, :2, @p1 are placeholders, table2 a name).
func isNameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || isDigit(c) || c == '_' || c == '$' || c == '@' || c >= 0x80
}
