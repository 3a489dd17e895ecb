package summary

import (
	"encoding/hex"
	"fmt"
	"slices"

	"hopbudget/analyze"
)

// Report rebuilds the Report the summary stands for, its figures computed
// by the same code as an analysis of the traces (analyze.NewEndpoint,
// NewHop, NewFanIn): equal to that analysis where the summary is exact.
func (s *Summary) Report() *analyze.Report {
	l := &s.Limits
	r := &analyze.Report{Counts: s.Counts, Clocks: nonNil(slices.Clone(s.Clocks)), Warnings: []analyze.Warning{},
		Summary: &analyze.SummaryInfo{Shards: s.Shards, ExactLimit: l.Exact, RelativeAccuracy: l.Accuracy,
			TraceRows: !s.RowsDropped, SplitTraces: s.SplitTraces, WarningsTotal: s.WarningsTotal,
			StartNs: s.StartNs, EndNs: s.EndNs}}
	for _, w := range s.Warnings {
		r.Warnings = append(r.Warnings, w.Warning)
	}
	if c := s.Counts; s.Shards > 1 && c.Traces > 0 && 10*c.TracesWithOrphans > c.Traces {
		r.Summary.RootlessTraces = float64(c.TracesWithOrphans) / float64(c.Traces)
	}

	// The rows: every trace's, or only the exemplars' when they were dropped.
	rowOf := map[TraceRef]int32{}
	if !s.RowsDropped {
		r.TraceRows = make([]analyze.TraceRow, len(s.Rows))
		for i, x := range s.Rows {
			row := analyze.TraceRow{ID: x.Tr.ID, Endpoint: x.Endpoint, StartNs: x.StartNs, DurationNs: x.DurationNs}
			if len(x.Hops) > 0 {
				row.Hops = make([]analyze.TraceHop, len(x.Hops))
				for j, h := range x.Hops {
					row.Hops[j] = analyze.TraceHop{Hop: h.Hop, Calls: h.Calls, LatencyNs: h.Lat, NetworkNs: h.Net, CriticalPathNs: h.CP}
				}
			}
			r.TraceRows[i] = row
			if _, dup := rowOf[x.Tr]; !dup {
				rowOf[x.Tr] = int32(i)
			}
		}
	} else {
		var refs []TraceRef
		s.eachDist(func(d *Dist) {
			for _, p := range d.Exact {
				refs = append(refs, p.Tr)
			}
			for _, b := range d.Bins {
				refs = append(refs, b.Ex)
			}
			if d.Min != nil {
				refs = append(refs, d.Min.Tr, d.Max.Tr)
			}
		})
		slices.SortFunc(refs, TraceRef.compare)
		refs = slices.Compact(refs)
		r.TraceRows = make([]analyze.TraceRow, len(refs))
		for i, ref := range refs {
			r.TraceRows[i] = analyze.TraceRow{ID: ref.ID, Endpoint: -1}
			rowOf[ref] = int32(i)
		}
	}
	traceID := func(row int32) string { return r.TraceRows[row].ID.String() }
	sample := func(d Dist) (analyze.Sample, []int64) {
		vs, trs, aux := d.values(l)
		smp := analyze.Sample{Ns: vs, Row: make([]int32, len(trs))}
		for i, tr := range trs {
			smp.Row[i] = rowOf[tr]
		}
		return smp, aux
	}
	plain := func(d Dist) []int64 {
		vs, _, _ := d.values(l)
		return vs
	}
	for _, e := range s.Endpoints {
		durs, starts := sample(e.Durations)
		failed, _ := sample(e.Failed)
		x := analyze.NewEndpoint(analyze.EndpointSamples{Service: e.Service, Operation: e.Operation,
			Durations: durs, Starts: starts, Failed: failed}, traceID)
		x.Approximate = e.Durations.Sketched || e.Failed.Sketched
		r.Endpoints = append(r.Endpoints, x)
	}
	for _, h := range s.Hops {
		lat, _ := sample(h.Latency)
		net, _ := sample(h.Network)
		cp, _ := sample(h.CriticalPath)
		failed, _ := sample(h.Failed)
		x := analyze.NewHop(analyze.HopSamples{From: h.From, To: h.To, Operation: h.Operation, Statement: h.Statement,
			Latency: lat, Network: net, CriticalPath: cp, CriticalPathSumNs: h.CriticalPath.Sum,
			ServerSelf: plain(h.ServerSelf), Calls: plain(h.Calls), Errors: int(h.Errors), Failed: failed}, traceID)
		x.Approximate = h.Latency.Sketched || h.Network.Sketched || h.CriticalPath.Sketched ||
			h.ServerSelf.Sketched || h.Calls.Sketched || h.Failed.Sketched
		r.Hops = append(r.Hops, x)
	}
	for _, f := range s.FanIn {
		waits, _ := sample(f.Waits)
		st := make(map[string]int, len(f.Stragglers))
		for k, n := range f.Stragglers {
			st[k] = int(n)
		}
		x := analyze.NewFanIn(analyze.FanInSamples{Service: f.Service, Operation: f.Operation, Waits: waits,
			Overheads: plain(f.Overheads), Partial: int(f.Partial), Stragglers: st}, traceID)
		x.Approximate = f.Waits.Sketched || f.Overheads.Sketched
		r.FanIn = append(r.FanIn, x)
	}
	r.Endpoints, r.Hops, r.FanIn = nonNil(r.Endpoints), nonNil(r.Hops), nonNil(r.FanIn)
	for _, e := range r.Endpoints {
		r.Summary.Approximate += b2i(e.Approximate)
	}
	for _, h := range r.Hops {
		r.Summary.Approximate += b2i(h.Approximate)
	}
	for _, f := range r.FanIn {
		r.Summary.Approximate += b2i(f.Approximate)
	}
	return r
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// eachDist calls f on every distribution of s.
func (s *Summary) eachDist(f func(*Dist)) {
	for i := range s.Endpoints {
		e := &s.Endpoints[i]
		f(&e.Durations)
		f(&e.Failed)
	}
	for i := range s.Hops {
		h := &s.Hops[i]
		for _, d := range []*Dist{&h.Latency, &h.Network, &h.CriticalPath, &h.Failed} {
			f(d)
		}
	}
	for i := range s.FanIn {
		f(&s.FanIn[i].Waits)
	}
}

func decodeHex(dst []byte, s string) error {
	if hex.DecodedLen(len(s)) != len(dst) {
		return fmt.Errorf("want %d hex digits, got %q", 2*len(dst), s)
	}
	_, err := hex.Decode(dst, []byte(s))
	return err
}
