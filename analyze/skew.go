package analyze

import (
	"fmt"
	"time"
)

// adjustSkew corrects clock skew between services, as Jaeger's clock-skew
// adjuster (model/adjuster/clockskew.go) does, with the service standing in
// for Jaeger's host:
//
//   - A child in the same service as its parent shares its clock: it moves
//     by exactly its parent's shift (so a shifted subtree moves whole) and
//     is never shifted on its own account.
//   - A synchronous child in another service gets its own shift, computed
//     from its raw times against its parent's already adjusted times: none
//     if it fits in the parent; if it is longer than the parent, just enough
//     to not start before it; otherwise it is centred in the parent, i.e.
//     the network time the parent leaves around it is split equally between
//     request and response.
//   - Asynchronous children (consumers) are never shifted on their own
//     account: they legitimately outlive their parent.
//
// Each cross-service shift is warned with its size. Off with
// Options.NoSkewAdjust (children then keep their times; only the clip pass
// applies) and in jaeger mode, which reproduces the UI.
func adjustSkew(ts *traceState) {
	if ts.opts.NoSkewAdjust || ts.opts.CriticalPath == ModeJaeger {
		return
	}
	nd := ts.nodes
	for _, i := range ts.topo {
		n := &nd[i]
		if n.parent < 0 {
			continue
		}
		p := &nd[n.parent]
		var delta int64
		if n.span.Service == p.span.Service {
			delta = p.start - p.span.Start // the parent's shift
		} else if !n.has(fAsync) {
			delta = skewDelta(n.span.Start, n.span.End, p.start, p.end)
			if delta != 0 && withinGranularity(n, p, n.span.Start, n.span.End, p.start, p.end) {
				// Coarse clocks, not skew: the clip pass cuts it to the parent.
				ts.counts.WithinGranularity++
				delta = 0
			}
			if delta != 0 {
				ts.counts.SkewShifts++
				ts.warn(RuleClockSkew, i, delta, fmt.Sprintf("clock skew: %s span shifted by %v (with its same-service descendants) to fit its %s parent",
					n.span.Service, time.Duration(delta), p.span.Service))
			}
		}
		if delta != 0 {
			n.start, n.end = n.span.Start+delta, n.span.End+delta
			n.cs, n.ce = n.start, n.end
			ts.counts.SpansShifted++
		}
	}
}

// skewDelta is the shift that moves child [cs, ce] into parent [ps, pe].
func skewDelta(cs, ce, ps, pe int64) int64 {
	cd, pd := ce-cs, pe-ps
	if cd > pd {
		// Cannot fit: it was asynchronous or the parent gave up waiting.
		// Only make sure it does not start before the parent.
		if cs < ps {
			return ps - cs
		}
		return 0
	}
	if cs >= ps && ce <= pe {
		return 0
	}
	return ps + (pd-cd)/2 - cs
}
