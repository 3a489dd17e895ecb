package summary

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strconv"

	"hopbudget/tracefmt"
)

// The summary file is JSON: {"format": "hopbudget-summary", "version": 1,
// …}, laid out as in wire.go. A trace reference is [first start (Unix ns),
// "lowercase hex ID"].

// MarshalJSON writes a trace reference as [first, "hex id"].
func (t TraceRef) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 56)
	b = append(b, '[')
	b = strconv.AppendInt(b, t.First, 10)
	b = append(b, ",\""...)
	b = append(b, t.ID.String()...)
	return append(b, "\"]"...), nil
}

// UnmarshalJSON reads [first, "hex id"].
func (t *TraceRef) UnmarshalJSON(b []byte) error {
	var v [2]json.RawMessage
	if err := json.Unmarshal(b, &v); err != nil {
		return fmt.Errorf("trace reference: want [first, \"id\"]: %v", err)
	}
	if err := json.Unmarshal(v[0], &t.First); err != nil {
		return fmt.Errorf("trace reference: first start: %v", err)
	}
	var id string
	if err := json.Unmarshal(v[1], &id); err != nil {
		return fmt.Errorf("trace reference: id: %v", err)
	}
	var x tracefmt.TraceID
	if err := decodeHex(x[:], id); err != nil {
		return fmt.Errorf("trace reference: id: %v", err)
	}
	t.ID = x
	return nil
}

// Encode writes s as JSON.
func Encode(w io.Writer, s *Summary) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	if err := enc.Encode(s.toWire()); err != nil {
		return err
	}
	return bw.Flush()
}

// Decode reads a summary written by Encode; name is used in errors.
func Decode(r io.Reader, name string) (*Summary, error) {
	dec := json.NewDecoder(bufio.NewReader(r))
	var w wireSummary
	if err := dec.Decode(&w); err != nil {
		if se, ok := err.(*json.SyntaxError); ok {
			return nil, fmt.Errorf("%s: offset %d: not a hopbudget summary: %v", name, se.Offset, err)
		}
		return nil, fmt.Errorf("%s: offset %d: not a hopbudget summary: %v", name, dec.InputOffset(), err)
	}
	if w.Format != FormatName {
		return nil, fmt.Errorf("%s: not a hopbudget summary (format %q, want %q)", name, w.Format, FormatName)
	}
	if w.Version != Version {
		return nil, fmt.Errorf("%s: summary version %d, this hopbudget reads version %d", name, w.Version, Version)
	}
	s, err := w.fromWire()
	if err == nil {
		err = s.validate()
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	return s, nil
}

// validate checks what Report and Merge rely on, so that a damaged file is
// an error, never a panic or a wrong figure.
func (s *Summary) validate() error {
	if !(s.Limits.Accuracy > 0 && s.Limits.Accuracy < 1) || s.Limits.Exact < 0 || s.Limits.Rows < 0 {
		return fmt.Errorf("limits: accuracy %v must be in (0, 1), exact %d and rows %d ≥ 0", s.Limits.Accuracy, s.Limits.Exact, s.Limits.Rows)
	}
	for i, r := range s.Rows {
		if r.Endpoint < -1 || int(r.Endpoint) >= len(s.Endpoints) {
			return fmt.Errorf("rows[%d]: endpoint %d out of range", i, r.Endpoint)
		}
		for _, h := range r.Hops {
			if h.Hop < 0 || int(h.Hop) >= len(s.Hops) {
				return fmt.Errorf("rows[%d]: hop %d out of range", i, h.Hop)
			}
		}
	}
	var err error
	check := func(what string, d *Dist) {
		if err != nil {
			return
		}
		var n int64
		if d.Sketched {
			for _, b := range d.Bins {
				if b.Count <= 0 || b.Count > 1<<40 {
					err = fmt.Errorf("%s: bin count %d", what, b.Count)
					return
				}
				n += b.Count
			}
			if n > 0 && (d.Min == nil || d.Max == nil) {
				err = fmt.Errorf("%s: sketch without its extremes", what)
				return
			}
		} else {
			n = int64(len(d.Exact))
		}
		if n != d.N {
			err = fmt.Errorf("%s: %d values, n says %d", what, n, d.N)
		}
	}
	all := func(f func(string, *Dist)) {
		for i := range s.Endpoints {
			e := &s.Endpoints[i]
			f("endpoints["+strconv.Itoa(i)+"].durations", &e.Durations)
			f("endpoints["+strconv.Itoa(i)+"].failed", &e.Failed)
		}
		for i := range s.Hops {
			h := &s.Hops[i]
			p := "hops[" + strconv.Itoa(i) + "]."
			f(p+"latency", &h.Latency)
			f(p+"network", &h.Network)
			f(p+"criticalPath", &h.CriticalPath)
			f(p+"serverSelf", &h.ServerSelf)
			f(p+"calls", &h.Calls)
			f(p+"failed", &h.Failed)
		}
		for i := range s.FanIn {
			f("fanIn["+strconv.Itoa(i)+"].waits", &s.FanIn[i].Waits)
			f("fanIn["+strconv.Itoa(i)+"].overheads", &s.FanIn[i].Overheads)
		}
	}
	all(check)
	if p := s.Profile; err == nil && p != nil {
		for i, st := range p.Stacks {
			want := int32(1)
			if st.Parent >= 0 && st.Parent < int32(i) {
				want = p.Stacks[st.Parent].Depth + 1
			}
			if st.Parent >= int32(i) || st.Parent < -1 || st.Frame < 0 || int(st.Frame) >= len(p.Frames) || st.Depth != want {
				err = fmt.Errorf("profile: stack %d: parent %d, frame %d, depth %d do not fit", i, st.Parent, st.Frame, st.Depth)
				break
			}
		}
	}
	if err != nil || s.RowsDropped {
		return err
	}
	// With rows kept, every trace a figure names has its row.
	rows := make(map[TraceRef]bool, len(s.Rows))
	for _, r := range s.Rows {
		rows[r.Tr] = true
	}
	s.eachDist(func(d *Dist) {
		refs := make([]TraceRef, 0, len(d.Exact)+len(d.Bins)+2)
		for _, p := range d.Exact {
			refs = append(refs, p.Tr)
		}
		for _, b := range d.Bins {
			refs = append(refs, b.Ex)
		}
		if d.Min != nil && d.Max != nil {
			refs = append(refs, d.Min.Tr, d.Max.Tr)
		}
		for _, ref := range refs {
			if err == nil && !rows[ref] {
				err = fmt.Errorf("trace %s is named by a figure but has no row", ref.ID)
			}
		}
	})
	return err
}

// Values is the number of values the summary's figures hold (what Report
// lays out in memory, 8 bytes each plus 4 for the trace).
func (s *Summary) Values() int64 {
	var n int64
	all := func(d *Dist) { n += d.N }
	s.eachDist(all)
	for i := range s.Hops {
		n += s.Hops[i].ServerSelf.N + s.Hops[i].Calls.N
	}
	for i := range s.FanIn {
		n += s.FanIn[i].Overheads.N
	}
	return n
}
