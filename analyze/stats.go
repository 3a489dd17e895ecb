package analyze

import (
	"fmt"
	"math/bits"
	"slices"
	"strings"
)

// rankIndex is the 0-based index of the exact nearest-rank p-th percentile
// of n sorted values: rank ⌈p/100·n⌉, computed in integers.
func rankIndex(p, n int) int {
	return max((p*n+99)/100, 1) - 1
}

// pct is the nearest-rank percentile of sorted xs (0 when empty).
func pct(xs []int64, p int) int64 {
	if len(xs) == 0 {
		return 0
	}
	return xs[rankIndex(p, len(xs))]
}

// fewSamples says which of the percentiles ps are just the maximum of n
// samples, e.g. "only 20 samples: p99 is the maximum": a tail percentile
// needs at least 100/(100−p) samples to differ from the maximum. label
// names the figure when an item has several sample sets.
func fewSamples(label string, n int, ps ...int) string {
	if n == 0 {
		return ""
	}
	var at []string
	for _, p := range ps {
		if n > 1 && rankIndex(p, n) == n-1 {
			at = append(at, fmt.Sprintf("p%d", p))
		}
	}
	if label != "" {
		label += ": "
	}
	switch {
	case n == 1:
		return label + "only 1 sample: every percentile is that sample"
	case len(at) == 0:
		return ""
	case len(at) == 1:
		return fmt.Sprintf("%sonly %d samples: %s is the maximum", label, n, at[0])
	}
	return fmt.Sprintf("%sonly %d samples: %s are the maximum", label, n, strings.Join(at, ", "))
}

func appendNonEmpty(ws []string, s ...string) []string {
	for _, x := range s {
		if x != "" {
			ws = append(ws, x)
		}
	}
	return ws
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// pcts returns the nearest-rank percentiles ps (ascending) of xs, which it
// reorders. Selection instead of a full sort: the secondary figures (network
// gap, self time, overhead, critical-path share) need two ranks, not order.
func pcts(xs []int64, ps ...int) []int64 {
	out := make([]int64, len(ps))
	if len(xs) == 0 {
		return out
	}
	lo := 0
	for i, p := range ps {
		k := rankIndex(p, len(xs))
		if k >= lo {
			selectK(xs[lo:], k-lo)
			lo = k
		}
		out[i] = xs[k]
	}
	return out
}

// selectK reorders xs so that xs[k] is the value a sort would put there,
// with nothing greater before it and nothing smaller after it (quickselect,
// median of three, iterative; a sort finishes ranges that shrink too slowly).
func selectK(xs []int64, k int) {
	budget := 2*bits.Len(uint(len(xs))) + 8
	for len(xs) > 16 {
		if budget--; budget == 0 {
			break
		}
		m := len(xs) / 2
		a, b, c := xs[0], xs[m], xs[len(xs)-1]
		pivot := max(min(a, b), min(max(a, b), c))
		// Three-way partition: < pivot | == pivot | > pivot.
		lt, i, gt := 0, 0, len(xs)
		for i < gt {
			switch v := xs[i]; {
			case v < pivot:
				xs[lt], xs[i] = v, xs[lt]
				lt++
				i++
			case v > pivot:
				gt--
				xs[gt], xs[i] = v, xs[gt]
			default:
				i++
			}
		}
		switch {
		case k < lt:
			xs = xs[:lt]
		case k >= gt:
			xs, k = xs[gt:], k-gt
		default:
			return
		}
	}
	slices.Sort(xs)
}
