package cmd

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"hopbudget/receiver"
)

// writeRecordStart says where record listens, for the user and for
// programs that start it with :0 and need the port.
func writeRecordStart(w io.Writer, rec *recording, out string) {
	var on []string
	if rec.ListenAddr != "" {
		on = append(on, "OTLP/HTTP and OTLP/gRPC on http://"+rec.ListenAddr)
	}
	if rec.HTTPAddr != "" {
		on = append(on, "OTLP/HTTP on http://"+rec.HTTPAddr)
	}
	if rec.GRPCAddr != "" {
		on = append(on, "OTLP/gRPC on "+rec.GRPCAddr)
	}
	dest := out
	if rec.Out == "" {
		dest = "a temporary file (no --out)"
	}
	fmt.Fprintf(w, "record: receiving %s, writing to %s\n", strings.Join(on, " and "), dest)
}

func writeCommandEnd(w io.Writer, c *commandResult, took time.Duration) {
	how := fmt.Sprintf("exited with status %d", c.Code)
	if c.StoppedBy != "" {
		how = fmt.Sprintf("stopped (%s), %s", c.StoppedBy, how)
	}
	fmt.Fprintf(w, "record: %s %s after %s\n", c.Name, how, took.Round(time.Millisecond))
}

// writeRecordSummary is the closing summary: what was received, what was
// refused and why, where it went.
func writeRecordSummary(w io.Writer, rec *recording) {
	st := rec.Stats
	var by []string
	for _, t := range []string{receiver.HTTP, receiver.GRPC} {
		if n := st.ByTransport[t]; n > 0 {
			by = append(by, fmt.Sprintf("%d %s", n, t))
		}
	}
	transports := ""
	if len(by) > 0 {
		transports = " (" + strings.Join(by, ", ") + ")"
	}
	fmt.Fprintf(w, "record: %s%s, %s received, %s in, %s of OTLP/JSON written in %s\n",
		plural(int(st.Requests), "request"), transports, plural(int(st.Spans), "span"),
		humanBytes(st.Bytes), humanBytes(st.Written), rec.Elapsed.Round(time.Millisecond))
	if len(st.Services) > 0 {
		var svcs []string
		for _, name := range st.ServiceNames() {
			svcs = append(svcs, fmt.Sprintf("%s %d", name, st.Services[name]))
		}
		fmt.Fprintf(w, "  services: %s\n", strings.Join(svcs, ", "))
	}
	if n := st.RejectedSpans(); n > 0 {
		fmt.Fprintf(w, "  spans rejected: %d (%s)\n", n, counts(st.Rejected))
	}
	var failed int64
	for _, n := range st.Failed {
		failed += n
	}
	if failed > 0 {
		fmt.Fprintf(w, "  requests refused: %d (%s)\n", failed, counts(st.Failed))
	}
	switch {
	case st.Requests == 0 && rec.Command != nil:
		fmt.Fprintf(w, "  nothing was received: does %s export traces with OTLP (the OTEL_EXPORTER_OTLP_* variables record sets)?\n", rec.Command.Name)
	case st.Requests == 0:
		fmt.Fprintln(w, "  nothing was received")
	}
	if rec.Out != "" {
		fmt.Fprintf(w, "  recording: %s\n", rec.Out)
	}
}

// counts is "2 too-large, 1 undecodable": by count, then by name.
func counts(m map[string]int64) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if m[keys[i]] != m[keys[j]] {
			return m[keys[i]] > m[keys[j]]
		}
		return keys[i] < keys[j]
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%d %s", m[k], k)
	}
	return strings.Join(parts, ", ")
}
