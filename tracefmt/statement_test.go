package tracefmt

import (
	"strings"
	"testing"
)

func TestNormalizeStatement(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"SELECT name FROM authors WHERE id = $1", "SELECT name FROM authors WHERE id = $1"},
		{"SELECT * FROM t WHERE id = 42", "SELECT * FROM t WHERE id = ?"},
		{"SELECT * FROM t WHERE name = 'O''Brien' AND x > 3.5e-3", "SELECT * FROM t WHERE name = ? AND x > ?"},
		{"SELECT * FROM t WHERE id IN (1, 2,3 ,  4)", "SELECT * FROM t WHERE id IN (?)"},
		{"INSERT INTO t2 (a, b) VALUES (1, 'x')", "INSERT INTO t2 (a, b) VALUES (?)"},
		{"  SELECT\n\t1 -- comment\n FROM /* c */ dual ", "SELECT ? FROM dual"},
		{"GET price:123", "GET price:?"},
		{"SET promo:77 1 EX 60", "SET promo:? ? EX ?"},
		{"GET price:?", "GET price:?"},
		{"SELECT x FROM table2 WHERE y = 0x1F", "SELECT x FROM table2 WHERE y = ?"},
		{"", ""},
		{"'unterminated", "?"},
		{"/* unterminated", ""},
	} {
		if got := string(NormalizeStatement([]byte(tc.in))); got != tc.want {
			t.Errorf("NormalizeStatement(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	long := "SELECT " + strings.Repeat("a, ", 200) + "b FROM t"
	got := string(NormalizeStatement([]byte(long)))
	if len(got) > MaxStatementLen+len("…") || !strings.HasSuffix(got, "…") {
		t.Errorf("long statement: %d bytes %q", len(got), got)
	}
	// Idempotent: a normalised statement is its own shape.
	for _, s := range []string{"SELECT * FROM t WHERE id IN (1, 2)", "GET a:1", long} {
		once := NormalizeStatement([]byte(s))
		if twice := NormalizeStatement(once); string(twice) != string(once) {
			t.Errorf("not idempotent: %q → %q → %q", s, once, twice)
		}
	}
}

func FuzzNormalizeStatement(f *testing.F) {
	for _, s := range []string{"SELECT * FROM t WHERE id IN (1, 2)", "GET price:1", "'a''b' -- x\n/* y */ 1e5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		once := NormalizeStatement([]byte(s))
		if len(once) > MaxStatementLen+len("…") {
			t.Fatalf("%d bytes", len(once))
		}
		_ = NormalizeStatement(once)
	})
}
