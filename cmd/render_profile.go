package cmd

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/google/pprof/profile"

	"hopbudget/analyze"
)

// Renderers of analyze.Profile: pprof's profile.proto, folded stacks and
// speedscope's JSON. All three show the same apportioned µs values
// (ProfileStack.Us), so their totals agree to the microsecond.

// renderProfile writes p in format f: pprof (every sample type), folded
// (types[0]) or speedscope (each of types).
func renderProfile(w io.Writer, f Format, p *analyze.Profile, types []int, mode analyze.Mode) error {
	switch f {
	case FormatPprof:
		return writePprof(w, p, mode)
	case FormatFolded:
		return writeFolded(w, p, types[0])
	case FormatSpeedscope:
		return writeSpeedscope(w, p, types)
	}
	return fmt.Errorf("internal error: no profile format %q", f)
}

// writePprof writes p as a gzipped profile.proto: one Function and one
// Location per frame (the Function's file name is the service, so
// `go tool pprof -files` totals per service), one Sample per stack. Its
// time is the traces' earliest start, never the clock, so the bytes depend
// only on the input.
func writePprof(w io.Writer, p *analyze.Profile, mode analyze.Mode) error {
	pp := &profile.Profile{
		DefaultSampleType: analyze.SampleTypes[analyze.SampleCriticalPath],
		// No DurationNanos: pprof would show the totals as a share of it,
		// as if the traces had run one after another.
		TimeNanos: p.StartNs,
		Comments: []string{
			fmt.Sprintf("hopbudget profile: %d traces from %s to %s, requests %s per endpoint, critical path %s",
				p.Traces, formatUs(p.StartNs/1000), formatUs(p.EndNs/1000), p.Band, mode),
		},
	}
	for _, t := range analyze.SampleTypes {
		pp.SampleType = append(pp.SampleType, &profile.ValueType{Type: t, Unit: "microseconds"})
	}
	// A mapping that says the functions are known, so pprof does not try to
	// symbolize addresses.
	m := &profile.Mapping{ID: 1, File: "hopbudget", HasFunctions: true}
	pp.Mapping = []*profile.Mapping{m}
	locs := make([]*profile.Location, len(p.Frames))
	for i, f := range p.Frames {
		fn := &profile.Function{ID: uint64(i + 1), Name: f.Name(), SystemName: f.Name(), Filename: f.Service}
		pp.Function = append(pp.Function, fn)
		locs[i] = &profile.Location{ID: uint64(i + 1), Mapping: m, Line: []profile.Line{{Function: fn}}}
	}
	pp.Location = locs
	// A sample lists its stack leaf first; the stacks are capped at
	// analyze.ProfileMaxDepth+1 frames, so this is bounded by that times
	// the number of stacks.
	for i := range p.Stacks {
		st := &p.Stacks[i]
		if st.IsZero() {
			continue
		}
		s := &profile.Sample{Value: append([]int64(nil), st.Us[:]...), Location: make([]*profile.Location, 0, st.Depth)}
		for j := int32(i); j >= 0; j = p.Stacks[j].Parent {
			s.Location = append(s.Location, locs[p.Stacks[j].Frame])
		}
		pp.Sample = append(pp.Sample, s)
	}
	if err := pp.CheckValid(); err != nil {
		return fmt.Errorf("internal error: invalid pprof profile: %v", err)
	}
	return pp.Write(w)
}

// foldedName keeps a frame on its line and in its place: ';' separates
// frames and a newline ends the line, so both become '_' (other control
// characters are escaped by safeText).
var foldedName = strings.NewReplacer(";", "_", "\n", "_", "\r", "_")

// writeFolded writes one "root;…;leaf value" line per stack with a non-zero
// value of sample type t, in the profile's stack order. The stacks come in
// pre-order, so each line is its parent's plus one frame: the line is kept
// and cut back to the parent's length, never rebuilt.
func writeFolded(w io.Writer, p *analyze.Profile, t int) error {
	bw := bufio.NewWriter(w)
	names := make([]string, len(p.Frames))
	for i, f := range p.Frames {
		names[i] = safeText(foldedName.Replace(f.Name()))
	}
	var line []byte
	ends := make([]int, 0, 64) // ends[d]: the line's length with d+1 frames
	for i := range p.Stacks {
		st := &p.Stacks[i]
		d := int(st.Depth) - 1 // frames before this one: the parent's line
		ends = ends[:d]
		line = line[:0]
		if d > 0 {
			line = append(line[:ends[d-1]], ';')
		}
		line = append(line, names[st.Frame]...)
		ends = append(ends, len(line))
		if st.Us[t] == 0 {
			continue
		}
		bw.Write(line)
		bw.WriteByte(' ')
		bw.WriteString(strconv.FormatInt(st.Us[t], 10))
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

// Speedscope's file format (https://www.speedscope.app/file-format-schema.json):
// shared frames and "sampled" profiles whose samples are stacks of frame
// indices, root first, each with a weight.
const speedscopeSchema = "https://www.speedscope.app/file-format-schema.json"

// writeSpeedscope writes the file field by field: the samples are written
// as the stack trie is walked (each a parent's frames plus one), so no
// stack is held as its own slice.
func writeSpeedscope(w io.Writer, p *analyze.Profile, types []int) error {
	bw := bufio.NewWriter(w)
	str := func(s string) {
		b, _ := json.Marshal(s)
		bw.Write(b)
	}
	bw.WriteString("{\n  \"$schema\": ")
	str(speedscopeSchema)
	bw.WriteString(",\n  \"shared\": {\n    \"frames\": [")
	for i, fr := range p.Frames {
		if i > 0 {
			bw.WriteByte(',')
		}
		bw.WriteString("\n      {\"name\": ")
		str(fr.Name())
		if fr.Service != "" {
			bw.WriteString(", \"file\": ")
			str(fr.Service)
		}
		bw.WriteByte('}')
	}
	bw.WriteString("\n    ]\n  },\n  \"profiles\": [")
	path := make([]int32, 0, 64)
	for k, t := range types {
		if k > 0 {
			bw.WriteByte(',')
		}
		bw.WriteString("\n    {\"type\": \"sampled\", \"name\": ")
		str(analyze.SampleTypes[t])
		fmt.Fprintf(bw, ", \"unit\": \"microseconds\", \"startValue\": 0, \"endValue\": %d,\n      \"samples\": [", p.TotalUs[t])
		n := 0
		for i := range p.Stacks {
			st := &p.Stacks[i]
			path = append(path[:st.Depth-1], st.Frame)
			if st.Us[t] == 0 {
				continue
			}
			if n > 0 {
				bw.WriteByte(',')
			}
			n++
			bw.WriteString("\n        [")
			for j, f := range path {
				if j > 0 {
					bw.WriteByte(',')
				}
				bw.WriteString(strconv.Itoa(int(f)))
			}
			bw.WriteByte(']')
		}
		bw.WriteString("\n      ],\n      \"weights\": [")
		n = 0
		for i := range p.Stacks {
			if v := p.Stacks[i].Us[t]; v != 0 {
				if n > 0 {
					bw.WriteByte(',')
				}
				n++
				bw.WriteString(strconv.FormatInt(v, 10))
			}
		}
		bw.WriteString("]\n    }")
	}
	bw.WriteString("\n  ],\n  \"name\": ")
	str("hopbudget profile (" + p.Band.String() + ")")
	bw.WriteString(",\n  \"activeProfileIndex\": 0,\n  \"exporter\": \"hopbudget\"\n}\n")
	return bw.Flush()
}

// renderProfileSummary says on stderr what the profile holds.
func renderProfileSummary(w io.Writer, p *analyze.Profile, format, file string) {
	dest := "stdout"
	if file != "" {
		dest = file
	}
	fmt.Fprintf(w, "profile (%s) → %s: %d traces, %d stacks, %d frames; critical path %s, self %s, wall %s\n",
		format, dest, p.Traces, p.Samples, len(p.Frames),
		fmtUs(p.TotalUs[analyze.SampleCriticalPath]), fmtUs(p.TotalUs[analyze.SampleSelf]), fmtUs(p.TotalUs[analyze.SampleWall]))
	for _, e := range p.Endpoints {
		switch {
		case p.Band == (analyze.Band{}):
			fprintfSafe(w, "  %s %s: %d requests\n", e.Service, e.Operation, e.Requests)
		case e.Kept == 0:
			fprintfSafe(w, "  %s %s: none of %d requests in %s\n", e.Service, e.Operation, e.Requests, p.Band)
		default:
			fprintfSafe(w, "  %s %s: %d of %d requests in %s, %s to %s\n", e.Service, e.Operation, e.Kept, e.Requests, p.Band,
				fmtUs(e.MinNs/1000), fmtUs(e.MaxNs/1000))
		}
	}
	if p.Truncated > 0 {
		fmt.Fprintf(w, "  warning: %s with stacks deeper than %d frames: the frames past it are one frame, %q\n",
			plural(p.Truncated, "trace"), analyze.ProfileMaxDepth, analyze.ProfileFrame{Truncated: true}.Name())
	}
	if p.Counts.TracesFiltered > 0 {
		fmt.Fprintf(w, "  %d traces left out by --endpoint\n", p.Counts.TracesFiltered)
	}
}
