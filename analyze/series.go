package analyze

import (
	"slices"
	"sort"
)

// series is a sample of values (ns) with the trace index of each, kept as
// two parallel slices in collection order. Only the values are sorted (a
// plain integer sort, much cheaper than sorting pairs); an exemplar is then
// found by one scan (see exemplar), so the result is the same as sorting
// (value, trace) pairs and does not depend on collection order.
type series struct {
	v []int64
	t []int32
}

func (s *series) add(v int64, t int32) {
	s.v = push(s.v, v)
	s.t = push(s.t, t)
}

func (s *series) merge(o *series) {
	s.v = append(slices.Grow(s.v, len(o.v)), o.v...)
	s.t = append(slices.Grow(s.t, len(o.t)), o.t...)
}

func (s *series) len() int { return len(s.v) }

// sorted returns the values ascending, in a new exactly sized slice.
func (s *series) sorted() []int64 {
	xs := slices.Clone(s.v)
	slices.Sort(xs)
	return xs
}

// exemplar returns the trace holding the sample at index i of the sorted
// values, taking equal values in trace order: among the samples equal to
// xs[i], the (i − first index of that value)-th smallest trace index.
func (s *series) exemplar(xs []int64, i int) int32 {
	if len(xs) == 0 {
		return -1
	}
	x := xs[i]
	k := i - sort.Search(len(xs), func(j int) bool { return xs[j] >= x })
	var ts []int32
	for j, v := range s.v {
		if v == x {
			ts = append(ts, s.t[j])
		}
	}
	if k > 0 {
		slices.Sort(ts)
		return ts[k]
	}
	return slices.Min(ts)
}

// push appends v, doubling the capacity when full: Go's own growth for
// large slices (×1.25) would allocate about five times the final size over
// the slice's life; doubling keeps that near two.
func push[T any](s []T, v T) []T {
	if len(s) == cap(s) {
		s = slices.Grow(s, max(len(s), 32))
	}
	return append(s, v)
}
