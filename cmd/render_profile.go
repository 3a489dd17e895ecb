package cmd

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/google/pprof/profile"

	"hopbudget/analyze"
)

// Renderers of analyze.Profile: pprof's profile.proto, folded stacks and
// speedscope's JSON. All three show the same apportioned µs values
// (ProfileStack.Us), so their totals agree to the microsecond.

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
	for _, st := range p.Stacks {
		s := &profile.Sample{Value: append([]int64(nil), st.Us[:]...), Location: make([]*profile.Location, len(st.Frames))}
		for i, f := range st.Frames {
			s.Location[len(st.Frames)-1-i] = locs[f] // leaf first
		}
		pp.Sample = append(pp.Sample, s)
	}
	if err := pp.CheckValid(); err != nil {
		return fmt.Errorf("internal error: invalid pprof profile: %v", err)
	}
	return pp.Write(w)
}

// foldedName keeps a frame on its line and in its place: ';' separates
// frames and a newline ends the line, so both become '_'.
var foldedName = strings.NewReplacer(";", "_", "\n", "_", "\r", "_")

// writeFolded writes one "root;…;leaf value" line per stack with a non-zero
// value of sample type t, in the profile's stack order.
func writeFolded(w io.Writer, p *analyze.Profile, t int) error {
	bw := bufio.NewWriter(w)
	names := make([]string, len(p.Frames))
	for i, f := range p.Frames {
		names[i] = foldedName.Replace(f.Name())
	}
	for _, st := range p.Stacks {
		if st.Us[t] == 0 {
			continue
		}
		for i, f := range st.Frames {
			if i > 0 {
				bw.WriteByte(';')
			}
			bw.WriteString(names[f])
		}
		fmt.Fprintf(bw, " %d\n", st.Us[t])
	}
	return bw.Flush()
}

// Speedscope's file format (https://www.speedscope.app/file-format-schema.json):
// shared frames and "sampled" profiles whose samples are stacks of frame
// indices, root first, each with a weight.
type speedscopeFile struct {
	Schema             string              `json:"$schema"`
	Shared             speedscopeShared    `json:"shared"`
	Profiles           []speedscopeProfile `json:"profiles"`
	Name               string              `json:"name"`
	ActiveProfileIndex int                 `json:"activeProfileIndex"`
	Exporter           string              `json:"exporter"`
}

type speedscopeShared struct {
	Frames []speedscopeFrame `json:"frames"`
}

type speedscopeFrame struct {
	Name string `json:"name"`
	File string `json:"file,omitempty"`
}

type speedscopeProfile struct {
	Type       string    `json:"type"`
	Name       string    `json:"name"`
	Unit       string    `json:"unit"`
	StartValue int64     `json:"startValue"`
	EndValue   int64     `json:"endValue"`
	Samples    [][]int32 `json:"samples"`
	Weights    []int64   `json:"weights"`
}

const speedscopeSchema = "https://www.speedscope.app/file-format-schema.json"

func writeSpeedscope(w io.Writer, p *analyze.Profile, types []int) error {
	f := speedscopeFile{Schema: speedscopeSchema, Name: "hopbudget profile (" + p.Band.String() + ")", Exporter: "hopbudget",
		Shared: speedscopeShared{Frames: make([]speedscopeFrame, len(p.Frames))}}
	for i, fr := range p.Frames {
		f.Shared.Frames[i] = speedscopeFrame{Name: fr.Name(), File: fr.Service}
	}
	for _, t := range types {
		sp := speedscopeProfile{Type: "sampled", Name: analyze.SampleTypes[t], Unit: "microseconds",
			EndValue: p.TotalUs[t], Samples: [][]int32{}, Weights: []int64{}}
		for _, st := range p.Stacks {
			if st.Us[t] != 0 {
				sp.Samples = append(sp.Samples, st.Frames)
				sp.Weights = append(sp.Weights, st.Us[t])
			}
		}
		f.Profiles = append(f.Profiles, sp)
	}
	return writeJSON(w, f)
}

// renderProfileSummary says on stderr what the profile holds.
func renderProfileSummary(w io.Writer, p *analyze.Profile, format, file string) {
	dest := "stdout"
	if file != "" {
		dest = file
	}
	fmt.Fprintf(w, "profile (%s) → %s: %d traces, %d stacks, %d frames; critical path %s, self %s, wall %s\n",
		format, dest, p.Traces, len(p.Stacks), len(p.Frames),
		fmtUs(p.TotalUs[analyze.SampleCriticalPath]), fmtUs(p.TotalUs[analyze.SampleSelf]), fmtUs(p.TotalUs[analyze.SampleWall]))
	for _, e := range p.Endpoints {
		switch {
		case p.Band == (analyze.Band{}):
			fmt.Fprintf(w, "  %s %s: %d requests\n", e.Service, e.Operation, e.Requests)
		case e.Kept == 0:
			fmt.Fprintf(w, "  %s %s: none of %d requests in %s\n", e.Service, e.Operation, e.Requests, p.Band)
		default:
			fmt.Fprintf(w, "  %s %s: %d of %d requests in %s, %s to %s\n", e.Service, e.Operation, e.Kept, e.Requests, p.Band,
				fmtUs(e.MinNs/1000), fmtUs(e.MaxNs/1000))
		}
	}
	if p.Counts.TracesFiltered > 0 {
		fmt.Fprintf(w, "  %d traces left out by --endpoint\n", p.Counts.TracesFiltered)
	}
}
