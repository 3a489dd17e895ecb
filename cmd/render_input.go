package cmd

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"hopbudget/analyze"
	"hopbudget/tracefmt"
)

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func formatUs(us int64) string {
	return time.UnixMicro(us).UTC().Format("2006-01-02T15:04:05.000000Z")
}

// renderInputTable prints the input summary; detail adds the per-file and
// per-service tables (inspect), otherwise it is a short header (analyze).
// The service table gives each service's clock when clocks are given.
func renderInputTable(w io.Writer, s tracefmt.Summary, detail bool, clocks ...analyze.ServiceClock) error {
	enc := ""
	if len(s.Encodings) > 0 {
		enc = " (" + strings.Join(s.Encodings, ", ") + ")"
	}
	fmt.Fprintf(w, "Input: %d file(s), format %s%s\n", len(s.Files), s.Format, enc)
	fmt.Fprintf(w, "  %d traces, %d spans kept of %d read, %d rejected\n", s.Traces, s.Spans, s.SpansRead, s.RejectedSpans)
	for _, r := range s.Rejected {
		fmt.Fprintf(w, "    rejected %-20s %d\n", r.Kind, r.Count)
	}
	if s.Spans > 0 {
		fmt.Fprintf(w, "  time range %s → %s (%s)\n", formatUs(s.StartUs), formatUs(s.EndUs),
			time.Duration(s.EndUs-s.StartUs)*time.Microsecond)
	}
	if detail {
		fmt.Fprintln(w)
		t := &table{header: []string{"FILE", "FORMAT", "COMPRESSION", "BYTES", "TRACES", "SPANS", "REJECTED", "SERVICES"},
			right: map[int]bool{3: true, 4: true, 5: true, 6: true, 7: true}}
		for _, f := range s.Files {
			t.add(f.Name, string(f.Format), f.Compression, strconv.FormatInt(f.Bytes, 10), strconv.Itoa(f.Traces),
				strconv.Itoa(f.Spans), strconv.Itoa(f.RejectedSpans), strconv.Itoa(len(f.Services)))
		}
		if err := t.render(w, false); err != nil {
			return err
		}
		fmt.Fprintln(w)
		t = &table{header: []string{"SERVICE", "SPANS"}, right: map[int]bool{1: true}}
		clock := map[string]string{}
		if len(clocks) > 0 {
			// The tolerance timing decisions use for the service's spans.
			t.header = append(t.header, "CLOCK")
			for _, c := range clocks {
				clock[c.Service] = c.Granularity + " (" + c.Source + ")"
			}
		}
		for _, sc := range s.Services {
			if len(clocks) > 0 {
				t.add(sc.Name, strconv.Itoa(sc.Spans), clock[sc.Name])
			} else {
				t.add(sc.Name, strconv.Itoa(sc.Spans))
			}
		}
		if err := t.render(w, false); err != nil {
			return err
		}
	}
	if len(s.Warnings) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Warnings:")
		for _, wa := range s.Warnings {
			fprintfSafe(w, "  %s ×%d, e.g. %s\n", string(wa.Kind), wa.Count, wa.Example)
		}
	}
	return nil
}
