package analyze

import (
	"math"
	"testing"
)

func TestMannWhitney(t *testing.T) {
	seq := func(n int, f func(i int) int64) []int64 {
		xs := make([]int64, n)
		for i := range xs {
			xs[i] = f(i)
		}
		return xs
	}
	// Large samples: R's wilcox.test(l1, l2) (normal approximation with
	// continuity and tie correction), the values go-moremath's U-test
	// (benchstat's) is checked against:
	//   l1 <- seq(0, 499)*2; l2 <- seq(0, 599)*2-41
	//   l3 <- l2; for (i in 1:30) { l3[i] = l1[i] }
	l1 := seq(500, func(i int) int64 { return int64(2 * i) })
	l2 := seq(600, func(i int) int64 { return int64(2*i - 41) })
	l3 := append([]int64(nil), l2...)
	copy(l3[:30], l1[:30])
	// R's documentation example for wilcox.test (exact: no ties):
	// wilcox.test(x, y, alternative = "g") gives W = 35, p = 0.1272.
	rx := []int64{80, 83, 189, 104, 145, 138, 191, 164, 73, 146}
	ry := []int64{115, 88, 90, 74, 121}
	tests := []struct {
		name  string
		x, y  []int64
		u     float64 // pairs with y > x (+ half ties)
		p     float64
		tol   float64
		exact bool
	}{
		// By hand: every y above every x; 2 of the C(8,4) = 70 splits are
		// this extreme.
		{"disjoint", []int64{2, 1, 3, 5}, []int64{12, 11, 13, 15}, 16, 2.0 / 70, 1e-12, true},
		{"disjoint reversed", []int64{12, 11, 13, 15}, []int64{2, 1, 3, 5}, 0, 2.0 / 70, 1e-12, true},
		// Interleaved, no ties: P(U <= 5) = 17/70 for 4 and 4 values.
		{"interleaved", []int64{2, 1, 3, 5}, []int64{0, 4, 6, 7}, 11, 34.0 / 70, 1e-12, true},
		{"identical", []int64{2, 1, 3, 5}, []int64{2, 1, 3, 5}, 8, 1, 1e-12, true},
		// Ties, by hand: midranks 1, 4×5, 7, 8; of the 70 subsets of 4, 50
		// have a rank sum at least 2 from the mean 18.
		{"ties", []int64{1, 2, 3, 5}, []int64{2, 2, 2, 2}, 6, 50.0 / 70, 1e-12, true},
		// Ties, by hand: x holds the top three ranks and one of the six
		// tied 1s: 6 of the C(9,4) = 126 subsets are as extreme.
		{"ties at the bottom", []int64{1, 2, 3, 5}, []int64{1, 1, 1, 1, 1}, 2.5, 6.0 / 126, 1e-12, true},
		{"all equal", []int64{4, 4, 4}, []int64{4, 4}, 3, 1, 0, false},
		{"empty", nil, []int64{1, 2}, 0, 1, 0, false},
		{"R example", rx, ry, 15, 2 * 0.1272, 1e-4, true},
		{"large", l1, l2, 500*600 - 135250, 0.0049335360814172224, 1e-12, false},
		{"large with ties", l1, l3, 500*600 - 134845, 0.0038703814239617884, 1e-12, false},
		{"large identical", l1, l1, 125000, 1, 1e-12, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := MannWhitney(tc.x, tc.y)
			if r.U != tc.u || math.Abs(r.P-tc.p) > tc.tol || r.Exact != tc.exact {
				t.Errorf("got U=%v P=%.17g exact=%v, want U=%v P=%.17g exact=%v", r.U, r.P, r.Exact, tc.u, tc.p, tc.exact)
			}
		})
	}
}

// At the sizes where the test switches from exact to approximate, the two
// agree closely.
func TestMannWhitneyExactMatchesApproximation(t *testing.T) {
	for _, shift := range []int64{0, 5, 10, 20, 40} {
		x := make([]int64, 30)
		y := make([]int64, 30)
		for i := range x {
			x[i] = int64(3 * i)
			y[i] = int64(3*i) + shift
		}
		r := MannWhitney(x, y)
		if !r.Exact {
			t.Fatal("60 values: want the exact test")
		}
		ties := 0.0
		if shift%3 == 0 {
			ties = 6 * float64(30-shift/3) // pairs of equal values: t³ − t = 6 each
		}
		approx := normalUTestP(r.U, 30, 30, ties)
		if math.Abs(r.P-approx) > 0.005 {
			t.Errorf("shift %d: exact p %.5f, approximation %.5f", shift, r.P, approx)
		}
	}
}

func TestHolm(t *testing.T) {
	// By hand: sorted 0.01, 0.02, 0.03, 0.5 × (4, 3, 2, 1) = 0.04, 0.06,
	// 0.06 (monotone), 0.5.
	got := holm([]float64{0.03, 0.5, 0.01, 0.02})
	want := []float64{0.06, 0.5, 0.04, 0.06}
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-12 {
			t.Errorf("holm = %v, want %v", got, want)
			break
		}
	}
}
