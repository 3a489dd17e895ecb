package analyze

import (
	"math/rand/v2"
	"slices"
	"testing"

	"gonum.org/v1/gonum/stat"
)

func TestRankIndex(t *testing.T) {
	for _, tc := range []struct{ p, n, want int }{
		{50, 1, 0}, {99, 1, 0}, {50, 2, 0}, {50, 3, 1}, {50, 4, 1},
		{95, 20, 18}, {95, 21, 19}, {99, 100, 98}, {99, 101, 99}, {99, 20, 19},
	} {
		if got := rankIndex(tc.p, tc.n); got != tc.want {
			t.Errorf("rankIndex(%d, %d) = %d, want %d", tc.p, tc.n, got, tc.want)
		}
	}
}

// Nearest rank agrees with gonum's empirical quantile (the lowest value
// whose cumulative fraction reaches p) wherever p·n is not so close to an
// integer that float rounding decides; integers avoid that question.
func TestPctMatchesGonum(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for n := 1; n <= 500; n++ {
		xs := make([]int64, n)
		fs := make([]float64, n)
		for i := range xs {
			xs[i] = r.Int64N(1000)
		}
		slices.Sort(xs)
		for i, x := range xs {
			fs[i] = float64(x)
		}
		for _, p := range []int{50, 95, 99} {
			if p*n%100 == 0 {
				continue // exact rank: float p·n may land either side
			}
			if got, want := pct(xs, p), stat.Quantile(float64(p)/100, stat.Empirical, fs, nil); float64(got) != want {
				t.Fatalf("n=%d p%d: %d, gonum %v", n, p, got, want)
			}
		}
	}
}

func TestFewSamples(t *testing.T) {
	for _, tc := range []struct {
		label string
		n     int
		ps    []int
		want  string
	}{
		{"", 0, []int{50, 95, 99}, ""},
		{"", 1, []int{50, 95, 99}, "only 1 sample: every percentile is that sample"},
		{"", 20, []int{50, 95, 99}, "only 20 samples: p99 is the maximum"},
		{"", 19, []int{50, 95, 99}, "only 19 samples: p95, p99 are the maximum"},
		{"", 100, []int{50, 95, 99}, ""},
		{"network gap", 50, []int{50, 99}, "network gap: only 50 samples: p99 is the maximum"},
	} {
		if got := fewSamples(tc.label, tc.n, tc.ps...); got != tc.want {
			t.Errorf("fewSamples(%q, %d) = %q, want %q", tc.label, tc.n, got, tc.want)
		}
	}
}

func TestSeriesExemplar(t *testing.T) {
	var s series
	for _, x := range [][2]int64{{5, 3}, {1, 9}, {5, 1}, {3, 2}, {5, 0}} {
		s.add(x[0], int32(x[1]))
	}
	xs := s.sorted()
	if !slices.Equal(xs, []int64{1, 3, 5, 5, 5}) {
		t.Fatalf("sorted %v", xs)
	}
	// As if (value, trace) pairs were sorted: (1,9) (3,2) (5,0) (5,1) (5,3).
	for i, want := range []int32{9, 2, 0, 1, 3} {
		if got := s.exemplar(xs, i); got != want {
			t.Errorf("exemplar at %d = %d, want %d", i, got, want)
		}
	}
	var empty series
	if got := empty.exemplar(nil, 0); got != -1 {
		t.Errorf("empty: %d", got)
	}
}

// Selection gives what sorting gives, on shapes that trouble quickselect.
func TestPctsMatchSort(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	gen := map[string]func(i, n int) int64{
		"random":    func(i, n int) int64 { return r.Int64N(1 << 40) },
		"few":       func(i, n int) int64 { return r.Int64N(3) },
		"ascending": func(i, n int) int64 { return int64(i) },
		"desc":      func(i, n int) int64 { return int64(n - i) },
		"organ":     func(i, n int) int64 { return int64(min(i, n-i)) },
		"equal":     func(i, n int) int64 { return 7 },
		"negative":  func(i, n int) int64 { return r.Int64N(100) - 50 },
	}
	for name, g := range gen {
		for _, n := range []int{0, 1, 2, 15, 17, 100, 1001, 20000} {
			xs := make([]int64, n)
			for i := range xs {
				xs[i] = g(i, n)
			}
			sorted := slices.Sorted(slices.Values(xs))
			got := pcts(slices.Clone(xs), 50, 95, 99)
			for i, p := range []int{50, 95, 99} {
				if got[i] != pct(sorted, p) {
					t.Errorf("%s n=%d p%d: %d, sort gives %d", name, n, p, got[i], pct(sorted, p))
				}
			}
		}
	}
}
