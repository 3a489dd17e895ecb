package summary

import (
	"fmt"
	"slices"

	"hopbudget/analyze"
)

// The file form of a Summary. Values travel as parallel arrays of numbers
// and traces as indices into one table of trace references, sorted: a
// summary is mostly numbers, and JSON decodes arrays of numbers several
// times faster than objects (and a third of the size).

type wireSummary struct {
	Format        string                 `json:"format"`
	Version       int                    `json:"version"`
	Analysis      Analysis               `json:"analysis"`
	Limits        Limits                 `json:"limits"`
	Shards        int                    `json:"shards"`
	StartNs       int64                  `json:"startNs"`
	EndNs         int64                  `json:"endNs"`
	SplitTraces   int64                  `json:"splitTraces,omitempty"`
	Traces        []TraceRef             `json:"traces"`
	Rows          *wireRows              `json:"rows,omitempty"`
	RowsDropped   bool                   `json:"rowsDropped,omitempty"`
	Endpoints     []wireEndpoint         `json:"endpoints"`
	Hops          []wireHop              `json:"hops"`
	FanIn         []wireFanIn            `json:"fanIn"`
	Counts        analyze.Counts         `json:"counts"`
	Clocks        []analyze.ServiceClock `json:"clocks"`
	Warnings      []wireWarning          `json:"warnings"`
	WarningsTotal int64                  `json:"warningsTotal"`
	Profile       *analyze.Profile       `json:"profile,omitempty"`
}

// wireRows: one entry per row in each array; Hops[i] is row i's hops as
// [hop, calls, latency, network, critical path] five numbers at a time.
type wireRows struct {
	T        []int32   `json:"t"`
	Endpoint []int32   `json:"ep"`
	Start    []int64   `json:"start"`
	Duration []int64   `json:"dur"`
	Hops     [][]int64 `json:"hops"`
}

// wireDist: V, T, A are the exact points' values, traces and aux (A and T
// left out when all zero / all the empty reference); K, C, E the bins'
// keys, counts and exemplars; Min and Max [value, trace].
type wireDist struct {
	N        int64     `json:"n"`
	Sum      int64     `json:"sum"`
	V        []int64   `json:"v,omitempty"`
	T        []int32   `json:"t,omitempty"`
	A        []int64   `json:"a,omitempty"`
	K        []int32   `json:"k,omitempty"`
	C        []int64   `json:"c,omitempty"`
	E        []int32   `json:"e,omitempty"`
	Min      *[2]int64 `json:"min,omitempty"`
	Max      *[2]int64 `json:"max,omitempty"`
	Sketched bool      `json:"sketched,omitempty"`
}

type wireEndpoint struct {
	Service   string   `json:"service"`
	Operation string   `json:"operation"`
	Durations wireDist `json:"durations"`
	Failed    wireDist `json:"failed"`
}

type wireHop struct {
	From         string   `json:"from"`
	To           string   `json:"to"`
	Operation    string   `json:"operation"`
	Statement    string   `json:"statement,omitempty"`
	Latency      wireDist `json:"latency"`
	Network      wireDist `json:"network"`
	CriticalPath wireDist `json:"criticalPath"`
	ServerSelf   wireDist `json:"serverSelf"`
	Calls        wireDist `json:"calls"`
	Errors       int64    `json:"errors"`
	Failed       wireDist `json:"failed"`
}

type wireFanIn struct {
	Service    string           `json:"service"`
	Operation  string           `json:"operation"`
	Waits      wireDist         `json:"waits"`
	Overheads  wireDist         `json:"overheads"`
	Partial    int64            `json:"partial"`
	Stragglers map[string]int64 `json:"stragglers"`
}

type wireWarning struct {
	T       int32           `json:"t"`
	Seq     int             `json:"seq"`
	Warning analyze.Warning `json:"w"`
}

// toWire lays s out for its file.
func (s *Summary) toWire() *wireSummary {
	var refs []TraceRef
	for _, r := range s.Rows {
		refs = append(refs, r.Tr)
	}
	for _, w := range s.Warnings {
		refs = append(refs, w.Tr)
	}
	s.eachDist(func(d *Dist) { refs = d.appendRefs(refs) })
	slices.SortFunc(refs, TraceRef.compare)
	refs = slices.Compact(refs)
	index := func(r TraceRef) int32 {
		i, _ := slices.BinarySearchFunc(refs, r, TraceRef.compare)
		return int32(i)
	}
	w := &wireSummary{Format: s.Format, Version: s.Version, Analysis: s.Analysis, Limits: s.Limits, Shards: s.Shards,
		StartNs: s.StartNs, EndNs: s.EndNs, SplitTraces: s.SplitTraces, Traces: nonNil(refs), RowsDropped: s.RowsDropped,
		Counts: s.Counts, Clocks: s.Clocks, WarningsTotal: s.WarningsTotal, Profile: s.Profile,
		Endpoints: []wireEndpoint{}, Hops: []wireHop{}, FanIn: []wireFanIn{}, Warnings: []wireWarning{}}
	if len(s.Rows) > 0 {
		rw := &wireRows{}
		for _, r := range s.Rows {
			rw.T = append(rw.T, index(r.Tr))
			rw.Endpoint = append(rw.Endpoint, r.Endpoint)
			rw.Start = append(rw.Start, r.StartNs)
			rw.Duration = append(rw.Duration, r.DurationNs)
			hs := make([]int64, 0, 5*len(r.Hops))
			for _, h := range r.Hops {
				hs = append(hs, int64(h.Hop), int64(h.Calls), h.Lat, h.Net, h.CP)
			}
			rw.Hops = append(rw.Hops, hs)
		}
		w.Rows = rw
	}
	dist := func(d *Dist) wireDist { return d.toWire(index) }
	for _, e := range s.Endpoints {
		w.Endpoints = append(w.Endpoints, wireEndpoint{e.Service, e.Operation, dist(&e.Durations), dist(&e.Failed)})
	}
	for _, h := range s.Hops {
		w.Hops = append(w.Hops, wireHop{h.From, h.To, h.Operation, h.Statement, dist(&h.Latency), dist(&h.Network),
			dist(&h.CriticalPath), dist(&h.ServerSelf), dist(&h.Calls), h.Errors, dist(&h.Failed)})
	}
	for _, f := range s.FanIn {
		w.FanIn = append(w.FanIn, wireFanIn{f.Service, f.Operation, dist(&f.Waits), dist(&f.Overheads), f.Partial, f.Stragglers})
	}
	for _, x := range s.Warnings {
		w.Warnings = append(w.Warnings, wireWarning{index(x.Tr), x.Seq, x.Warning})
	}
	return w
}

// appendRefs appends every trace d names.
func (d *Dist) appendRefs(refs []TraceRef) []TraceRef {
	for _, p := range d.Exact {
		refs = append(refs, p.Tr)
	}
	for _, b := range d.Bins {
		refs = append(refs, b.Ex)
	}
	if d.Min != nil {
		refs = append(refs, d.Min.Tr)
	}
	if d.Max != nil {
		refs = append(refs, d.Max.Tr)
	}
	return refs
}

func (d *Dist) toWire(index func(TraceRef) int32) wireDist {
	w := wireDist{N: d.N, Sum: d.Sum, Sketched: d.Sketched}
	anyT, anyA := false, false
	for _, p := range d.Exact {
		anyT = anyT || p.Tr != TraceRef{}
		anyA = anyA || p.Aux != 0
	}
	for _, p := range d.Exact {
		w.V = append(w.V, p.V)
		if anyT {
			w.T = append(w.T, index(p.Tr))
		}
		if anyA {
			w.A = append(w.A, p.Aux)
		}
	}
	for _, b := range d.Bins {
		w.K = append(w.K, b.Key)
		w.C = append(w.C, b.Count)
		w.E = append(w.E, index(b.Ex))
	}
	if d.Min != nil {
		w.Min = &[2]int64{d.Min.V, int64(index(d.Min.Tr))}
	}
	if d.Max != nil {
		w.Max = &[2]int64{d.Max.V, int64(index(d.Max.Tr))}
	}
	return w
}

// fromWire rebuilds the summary, checking every index.
func (w *wireSummary) fromWire() (*Summary, error) {
	s := &Summary{Format: w.Format, Version: w.Version, Analysis: w.Analysis, Limits: w.Limits, Shards: w.Shards,
		StartNs: w.StartNs, EndNs: w.EndNs, SplitTraces: w.SplitTraces, RowsDropped: w.RowsDropped,
		Counts: w.Counts, Clocks: nonNil(w.Clocks), WarningsTotal: w.WarningsTotal, Profile: w.Profile,
		Endpoints: []EndpointSum{}, Hops: []HopSum{}, FanIn: []FanInSum{}, Warnings: []WarningEntry{}}
	var err error
	ref := func(what string, i int64) TraceRef {
		if i < 0 || i >= int64(len(w.Traces)) {
			if err == nil {
				err = fmt.Errorf("%s: trace %d out of range (%d traces)", what, i, len(w.Traces))
			}
			return TraceRef{}
		}
		return w.Traces[i]
	}
	if rw := w.Rows; rw != nil {
		n := len(rw.T)
		if len(rw.Endpoint) != n || len(rw.Start) != n || len(rw.Duration) != n || len(rw.Hops) != n {
			return nil, fmt.Errorf("rows: arrays of different lengths")
		}
		s.Rows = make([]Row, n)
		for i := range n {
			r := Row{Tr: ref("rows", int64(rw.T[i])), Endpoint: rw.Endpoint[i], StartNs: rw.Start[i], DurationNs: rw.Duration[i]}
			hs := rw.Hops[i]
			if len(hs)%5 != 0 {
				return nil, fmt.Errorf("rows[%d]: hops: want five numbers per hop, got %d", i, len(hs))
			}
			for j := 0; j < len(hs); j += 5 {
				r.Hops = append(r.Hops, RowHop{Hop: int32(hs[j]), Calls: int32(hs[j+1]), Lat: hs[j+2], Net: hs[j+3], CP: hs[j+4]})
			}
			s.Rows[i] = r
		}
	}
	dist := func(what string, x wireDist) Dist {
		d, e := x.fromWire(what, ref)
		if err == nil {
			err = e
		}
		return d
	}
	for i, e := range w.Endpoints {
		p := fmt.Sprintf("endpoints[%d].", i)
		s.Endpoints = append(s.Endpoints, EndpointSum{e.Service, e.Operation, dist(p+"durations", e.Durations), dist(p+"failed", e.Failed)})
	}
	for i, h := range w.Hops {
		p := fmt.Sprintf("hops[%d].", i)
		s.Hops = append(s.Hops, HopSum{h.From, h.To, h.Operation, h.Statement, dist(p+"latency", h.Latency), dist(p+"network", h.Network),
			dist(p+"criticalPath", h.CriticalPath), dist(p+"serverSelf", h.ServerSelf), dist(p+"calls", h.Calls), h.Errors, dist(p+"failed", h.Failed)})
	}
	for i, f := range w.FanIn {
		p := fmt.Sprintf("fanIn[%d].", i)
		st := f.Stragglers
		if st == nil {
			st = map[string]int64{}
		}
		s.FanIn = append(s.FanIn, FanInSum{f.Service, f.Operation, dist(p+"waits", f.Waits), dist(p+"overheads", f.Overheads), f.Partial, st})
	}
	for _, x := range w.Warnings {
		s.Warnings = append(s.Warnings, WarningEntry{ref("warnings", int64(x.T)), x.Seq, x.Warning})
	}
	if err != nil {
		return nil, err
	}
	return s, nil
}

func (w wireDist) fromWire(what string, ref func(string, int64) TraceRef) (Dist, error) {
	d := Dist{N: w.N, Sum: w.Sum, Sketched: w.Sketched}
	if (w.T != nil && len(w.T) != len(w.V)) || (w.A != nil && len(w.A) != len(w.V)) || len(w.K) != len(w.C) || len(w.K) != len(w.E) {
		return d, fmt.Errorf("%s: arrays of different lengths", what)
	}
	if w.Sketched && len(w.V) > 0 || !w.Sketched && len(w.K) > 0 {
		return d, fmt.Errorf("%s: exact values and buckets mixed", what)
	}
	if !w.Sketched {
		d.Exact = make([]Point, len(w.V))
		for i, v := range w.V {
			p := Point{V: v}
			if w.T != nil {
				p.Tr = ref(what, int64(w.T[i]))
			}
			if w.A != nil {
				p.Aux = w.A[i]
			}
			d.Exact[i] = p
			if i > 0 && p.compare(d.Exact[i-1]) < 0 {
				return d, fmt.Errorf("%s: values not in order at %d", what, i)
			}
		}
	}
	for i, k := range w.K {
		if i > 0 && k <= w.K[i-1] {
			return d, fmt.Errorf("%s: bucket keys not ascending", what)
		}
		d.Bins = append(d.Bins, Bin{Key: k, Count: w.C[i], Ex: ref(what, int64(w.E[i]))})
	}
	if w.Min != nil {
		d.Min = &Point{V: w.Min[0], Tr: ref(what, w.Min[1])}
	}
	if w.Max != nil {
		d.Max = &Point{V: w.Max[0], Tr: ref(what, w.Max[1])}
	}
	return d, nil
}
