package cmd

import "testing"

func TestSafeText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"GET /users", "GET /users"},
		{"héllo → wörld", "héllo → wörld"},
		{"a\x1b]0;title\x07b", `a\x1b]0;title\x07b`},
		{"line\nfake\r\tx", `line\nfake\r\tx`},
		{"\x7f\u0085\u009b", `\x7f\u0085\u009b`},
		{"abc\u202etxt.exe", `abc\u202etxt.exe`},
		{"bad\xffutf8", `bad\xffutf8`},
		{"", ""},
	}
	for _, tc := range tests {
		if got := safeText(tc.in); got != tc.want {
			t.Errorf("safeText(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
