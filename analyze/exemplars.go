package analyze

import (
	"cmp"
	"encoding/hex"
	"slices"
	"strconv"
	"strings"

	"hopbudget/tracefmt"
)

// ExemplarPick is a trace to show as an example, and why.
type ExemplarPick struct {
	TraceID string
	ID      tracefmt.TraceID
	Why     []string
}

// ExemplarReason is a trace chosen by a caller (e.g. a budget line's
// exemplar) and why.
type ExemplarReason struct{ TraceID, Why string }

const (
	exemplarEndpoints = 4  // endpoints (most requests first) whose p50/p95/p99 traces are picked
	exemplarMax       = 12 // picks in all
)

// PickExemplars chooses the traces a report draws: the slowest requests
// (ties in trace order), the traces at p99, p95 and p50 of the busiest
// endpoints (Endpoint.Exemplars; ties by name), then extra in its order.
// A trace chosen twice is picked once with both reasons; at most 12.
func PickExemplars(r *Report, slowest int, extra []ExemplarReason) []ExemplarPick {
	var out []ExemplarPick
	add := func(id, why string) {
		if id == "" {
			return
		}
		for i := range out {
			if out[i].TraceID == id {
				out[i].Why = append(out[i].Why, why)
				return
			}
		}
		var tid tracefmt.TraceID
		if _, err := hex.Decode(tid[:], []byte(id)); err == nil && len(out) < exemplarMax {
			out = append(out, ExemplarPick{TraceID: id, ID: tid, Why: []string{why}})
		}
	}
	rows := make([]int, len(r.TraceRows))
	for i := range rows {
		rows[i] = i
	}
	slices.SortStableFunc(rows, func(a, b int) int { return cmp.Compare(r.TraceRows[b].DurationNs, r.TraceRows[a].DurationNs) })
	for k, i := range rows[:min(max(0, slowest), len(rows))] {
		add(r.TraceRows[i].ID.String(), "slowest request #"+strconv.Itoa(k+1))
	}
	eps := make([]*Endpoint, len(r.Endpoints))
	for i := range r.Endpoints {
		eps[i] = &r.Endpoints[i]
	}
	slices.SortStableFunc(eps, func(a, b *Endpoint) int { return cmp.Compare(b.Count, a.Count) })
	for _, e := range eps[:min(exemplarEndpoints, len(eps))] {
		name := e.Service + ": " + e.Operation
		add(e.Exemplars.P99, name+"\x00p99")
		add(e.Exemplars.P95, name+"\x00p95")
		add(e.Exemplars.P50, name+"\x00p50")
	}
	// "E p99", "E p95" → "E p99, p95": one endpoint named once.
	for i := range out {
		var why []string
		for _, w := range out[i].Why {
			name, p, ok := strings.Cut(w, "\x00")
			if k := len(why) - 1; ok && k >= 0 && strings.HasPrefix(why[k], name+" p") {
				why[k] += ", " + p
			} else if ok {
				why = append(why, name+" "+p)
			} else {
				why = append(why, w)
			}
		}
		out[i].Why = why
	}
	for _, x := range extra {
		add(x.TraceID, x.Why)
	}
	return out
}

// Layouts lays out the traces with the given IDs (Layout of each), index
// for index; nil for an ID not among traces.
func Layouts(traces []tracefmt.Trace, ids []tracefmt.TraceID, opts Options) []*TraceLayout {
	want := make(map[tracefmt.TraceID]int, len(ids))
	for i, id := range ids {
		want[id] = i
	}
	out := make([]*TraceLayout, len(ids))
	for i := range traces {
		if k, ok := want[traces[i].ID]; ok {
			out[k] = Layout(&traces[i], opts)
		}
	}
	return out
}
