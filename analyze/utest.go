package analyze

import (
	"math"
	"slices"

	"gonum.org/v1/gonum/stat/distuv"
)

// UTest is the result of a two-sided Mann–Whitney U test (Wilcoxon rank
// sum) of two samples, as benchstat compares benchmark runs: no assumption
// about the distributions, robust to the heavy tails latencies have.
type UTest struct {
	N1, N2 int
	// U counts the pairs (x from the first sample, y from the second) with
	// y > x, ties counting one half: n1·n2/2 when neither tends to be larger.
	U float64
	// P is the two-sided p-value: the probability, were both samples drawn
	// from one population, of a rank sum at least as far from its mean.
	P float64
	// Exact: P comes from the exact permutation distribution (small
	// samples, ties included), not the normal approximation.
	Exact bool
}

// exactUTestLimit is the largest n1+n2 tested exactly. Beyond it the normal
// approximation is within a fraction of a percent of the exact p-value, and
// the exact distribution (a DP over rank sums, O(N³)) gets costly.
const exactUTestLimit = 60

// MannWhitney tests whether the values of y tend to be larger or smaller
// than those of x. Samples need not be sorted (sorted copies are made when
// they are not). With n1+n2 <= 60 the p-value is exact, conditional on the
// ties (the permutation distribution of the midrank sum); beyond that it is
// the normal approximation with tie and continuity correction, as R's
// wilcox.test(exact=FALSE) and benchstat compute it. An empty sample, or
// samples all of one value, give P = 1.
func MannWhitney(x, y []int64) UTest {
	n1, n2 := len(x), len(y)
	r := UTest{N1: n1, N2: n2, U: float64(n1) * float64(n2) / 2, P: 1}
	if n1 == 0 || n2 == 0 {
		return r
	}
	if !slices.IsSorted(x) {
		x = slices.Sorted(slices.Values(x))
	}
	if !slices.IsSorted(y) {
		y = slices.Sorted(slices.Values(y))
	}
	// One merge pass: the midrank sum of x (doubled, so it stays an
	// integer), the tie groups and, for the exact test, every value's
	// doubled midrank.
	n := n1 + n2
	exact := n <= exactUTestLimit
	var ranks2 []int64 // doubled midranks in merged order, exact test only
	var r1x2 int64     // doubled rank sum of x
	var ties float64   // Σ (t³ − t) over tie groups
	i, j := 0, 0
	for i < n1 || j < n2 {
		v := y[min(j, n2-1)]
		if j == n2 || i < n1 && x[i] < v {
			v = x[i]
		}
		lo := i + j // 0-based rank of the group's first value
		nx := 0
		for i < n1 && x[i] == v {
			i++
			nx++
		}
		for j < n2 && y[j] == v {
			j++
		}
		t := int64(i + j - lo)
		mid2 := int64(2*lo) + t + 1 // doubled midrank: (lo+1 + lo+t)
		r1x2 += mid2 * int64(nx)
		ties += float64(t*t*t - t)
		if exact {
			for range t {
				ranks2 = append(ranks2, mid2)
			}
		}
	}
	u1 := float64(r1x2)/2 - float64(n1)*float64(n1+1)/2 // pairs with x > y
	r.U = float64(n1)*float64(n2) - u1
	if ties == float64(n)*float64(n)*float64(n)-float64(n) {
		return r // one value throughout: nothing to test
	}
	if exact {
		r.P, r.Exact = exactRankSumP(ranks2, n1, r1x2), true
		return r
	}
	r.P = normalUTestP(u1, n1, n2, ties)
	return r
}

// normalUTestP is the two-sided p-value of U (either orientation) by the
// normal approximation, with the tie correction of the variance (ties:
// Σ t³ − t over tie groups) and the continuity correction.
func normalUTestP(u float64, n1, n2 int, ties float64) float64 {
	nf, mean := float64(n1+n2), float64(n1)*float64(n2)/2
	sigma := math.Sqrt(float64(n1) * float64(n2) / 12 * ((nf + 1) - ties/(nf*(nf-1))))
	if sigma == 0 {
		return 1
	}
	d := math.Abs(u - mean)
	d = max(d-0.5, 0) // continuity correction, toward the mean
	return min(1, 2*distuv.UnitNormal.CDF(-d/sigma))
}

// exactRankSumP is the two-sided p-value of the doubled rank sum obs of m
// values drawn without replacement from ranks2: the share of the C(N, m)
// subsets whose sum lies at least as far from the mean, m·(N+1) doubled.
// Counting subsets by sum (a knapsack DP) handles ties exactly.
func exactRankSumP(ranks2 []int64, m int, obs int64) float64 {
	n := len(ranks2)
	if m > n-m { // the complement has the mirrored statistic: count the smaller
		var all int64
		for _, r := range ranks2 {
			all += r
		}
		m, obs = n-m, all-obs
	}
	maxSum := int64(0)
	for _, r := range ranks2[n-m:] {
		maxSum += r
	}
	// dp[k][s]: subsets of k of the values seen so far with sum s, as a
	// float64 (C(60,30) ≈ 1.2e17 is within its exact integers' reach to a
	// relative 1e-16, which is all a p-value needs).
	dp := make([][]float64, m+1)
	for k := range dp {
		dp[k] = make([]float64, maxSum+1)
	}
	dp[0][0] = 1
	for i, r := range ranks2 {
		for k := min(i+1, m); k >= 1; k-- {
			prev, cur := dp[k-1], dp[k]
			for s := maxSum; s >= r; s-- {
				cur[s] += prev[s-r]
			}
		}
	}
	mean := int64(m) * int64(n+1)
	dist := obs - mean
	if dist < 0 {
		dist = -dist
	}
	var tail, total float64
	for s, c := range dp[m] {
		if c == 0 {
			continue
		}
		total += c
		if d := int64(s) - mean; d >= dist || -d >= dist {
			tail += c
		}
	}
	return min(1, tail/total)
}
