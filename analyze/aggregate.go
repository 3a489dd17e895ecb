package analyze

import (
	"cmp"
	"slices"
	"unsafe"
)

type key2 struct{ a, b string }

// hopKey names a hop: caller service (a), callee (b), operation (c), and
// the call's normalised database statement when it has one (stmt): calls
// that share a generic name (pg.query, GET) but do different things are
// different hops.
type hopKey struct{ a, b, c, stmt string }

type epAcc struct {
	durs    series
	starts  []int64 // of each request, in durs's order
	id      int32   // worker-local, see accum.epKeys
	sloErrs series  // failed requests (SLOError): end, trace
}

type hopAcc struct {
	durs      series
	gaps      series
	selfs     []int64
	cp        series  // per trace containing the hop: CP time inside it
	calls     []int64 // per trace containing the hop (cp's order): calls made
	errs      int
	lastTrace int32  // trace of cp's last entry (worker-local)
	id        int32  // worker-local, see accum.hopKeys
	row       int32  // the hop's entry in traceState.rowHops (trace lastTrace)
	sloErrs   series // failed calls (SLOError): end, trace
}

type fanAcc struct {
	waits     series
	overheads []int64
	partial   int
	strag     map[string]int
}

// accum collects one worker's samples. Samples carry their trace index and
// exemplars take equal values in trace order, so the merged result does not
// depend on which worker saw which trace.
type accum struct {
	eps    map[key2]*epAcc
	hops   map[hopKey]*hopAcc
	fans   map[key2]*fanAcc
	counts Counts
	sug    *suggestAcc // suggest and what-if samples, nil until used
	// The keys in order of first sight: a worker-local id is an index here
	// (trace rows hold these ids until the report's order is known).
	epKeys  []key2
	hopKeys []hopKey
	rowOf   []int32     // trace index → row in Report.TraceRows (for fill)
	scratch sortScratch // for fill
	recent  [64]struct {
		k hopKey
		h *hopAcc
	}
}

func newAccum() *accum {
	return &accum{eps: map[key2]*epAcc{}, hops: map[hopKey]*hopAcc{}, fans: map[key2]*fanAcc{}}
}

func (a *accum) endpoint(k key2) *epAcc {
	e := a.eps[k]
	if e == nil {
		e = &epAcc{id: int32(len(a.epKeys))}
		a.eps[k] = e
		a.epKeys = append(a.epKeys, k)
	}
	return e
}

func (a *accum) hop(k hopKey) *hopAcc {
	// Names are interned by the readers, so the string pointers make a
	// cheap hash for a small cache in front of the map (hashing three
	// strings per call was a tenth of the analysis). Equality is checked
	// on the strings, so a miss is only slower, never wrong.
	x := uintptr(unsafe.Pointer(unsafe.StringData(k.a)))*3 + uintptr(unsafe.Pointer(unsafe.StringData(k.b)))*5 +
		uintptr(unsafe.Pointer(unsafe.StringData(k.c)))*7 + uintptr(unsafe.Pointer(unsafe.StringData(k.stmt)))*11
	c := &a.recent[(x>>3^x>>9)%uintptr(len(a.recent))]
	if c.h != nil && c.k == k {
		return c.h
	}
	h := a.hops[k]
	if h == nil {
		h = &hopAcc{lastTrace: -1, id: int32(len(a.hopKeys))}
		a.hops[k] = h
		a.hopKeys = append(a.hopKeys, k)
	}
	c.k, c.h = k, h
	return h
}

func (a *accum) fan(k key2) *fanAcc {
	f := a.fans[k]
	if f == nil {
		f = &fanAcc{strag: map[string]int{}}
		a.fans[k] = f
	}
	return f
}

// merge folds b into a.
func (a *accum) merge(b *accum) {
	for k, e := range b.eps {
		x := a.endpoint(k)
		x.durs.merge(&e.durs)
		x.starts = append(x.starts, e.starts...)
		x.sloErrs.merge(&e.sloErrs)
	}
	for k, h := range b.hops {
		x := a.hop(k)
		x.durs.merge(&h.durs)
		x.gaps.merge(&h.gaps)
		x.selfs = append(x.selfs, h.selfs...)
		x.cp.merge(&h.cp) // a trace is seen by one worker only
		x.calls = append(x.calls, h.calls...)
		x.errs += h.errs
		x.sloErrs.merge(&h.sloErrs)
	}
	for k, f := range b.fans {
		x := a.fan(k)
		x.waits.merge(&f.waits)
		x.overheads = append(x.overheads, f.overheads...)
		x.partial += f.partial
		for s, n := range f.strag {
			x.strag[s] += n
		}
	}
	a.counts.add(&b.counts)
	a.mergeSuggest(b)
}

// fill writes the aggregates into r, sorted (a.rowOf and r.TraceRows are
// set).
func (a *accum) fill(r *Report) {
	traceID := func(row int32) string { return r.TraceRows[row].ID.String() }
	r.Counts = a.counts
	r.Endpoints = make([]Endpoint, 0, len(a.eps))
	for _, k := range sortedKeys2(a.eps) {
		e := a.eps[k]
		smp, starts := a.epSample(e)
		r.Endpoints = append(r.Endpoints, NewEndpoint(EndpointSamples{Service: k.a, Operation: k.b,
			Durations: smp, Starts: starts, Failed: a.sample(&e.sloErrs)}, traceID))
	}
	r.Hops = make([]Hop, 0, len(a.hops))
	for _, k := range sortedHopKeys(a.hops) {
		h := a.hops[k]
		var sum int64
		for _, v := range h.cp.v {
			sum += v
		}
		r.Hops = append(r.Hops, NewHop(HopSamples{From: k.a, To: k.b, Operation: k.c, Statement: k.stmt,
			Latency: a.sample(&h.durs), Network: a.sample(&h.gaps), CriticalPath: a.sample(&h.cp),
			CriticalPathSumNs: sum, ServerSelf: h.selfs, Calls: h.calls,
			Errors: h.errs, Failed: a.sample(&h.sloErrs)}, traceID))
		// The Report holds the hop's samples now: free the collection
		// (nothing after fill reads hops), so that the two are not both
		// held at the peak.
		delete(a.hops, k)
	}
	a.recent = [len(a.recent)]struct {
		k hopKey
		h *hopAcc
	}{}
	r.FanIn = make([]FanIn, 0, len(a.fans))
	for _, k := range sortedKeys2(a.fans) {
		f := a.fans[k]
		r.FanIn = append(r.FanIn, NewFanIn(FanInSamples{Service: k.a, Operation: k.b, Waits: a.sample(&f.waits),
			Overheads: f.overheads, Partial: f.partial, Stragglers: f.strag}, traceID))
	}
}

func sortedKeys2[V any](m map[key2]V) []key2 {
	ks := make([]key2, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.SortFunc(ks, func(x, y key2) int {
		if c := cmp.Compare(x.a, y.a); c != 0 {
			return c
		}
		return cmp.Compare(x.b, y.b)
	})
	return ks
}

func sortedHopKeys[V any](m map[hopKey]V) []hopKey {
	ks := make([]hopKey, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.SortFunc(ks, func(x, y hopKey) int {
		if c := cmp.Compare(x.a, y.a); c != 0 {
			return c
		}
		if c := cmp.Compare(x.b, y.b); c != 0 {
			return c
		}
		if c := cmp.Compare(x.c, y.c); c != 0 {
			return c
		}
		return cmp.Compare(x.stmt, y.stmt)
	})
	return ks
}

// callsPerTrace summarises the calls a hop makes per trace that has it.
// It sorts xs.
func callsPerTrace(xs []int64) CallsPerTrace {
	if len(xs) == 0 {
		return CallsPerTrace{}
	}
	var sum int64
	for _, v := range xs {
		sum += v
	}
	slices.Sort(xs)
	at := func(p int) int64 { return xs[rankIndex(p, len(xs))] }
	return CallsPerTrace{Mean: float64(sum) / float64(len(xs)), P50: at(50), P99: at(99), Max: at(100), Sample: xs}
}
