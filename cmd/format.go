package cmd

import (
	"fmt"
	"strings"
)

// Format is an output format. One enum for every command: each command
// offers its subset (-o, or profile's --format), and each result type has
// one render function that dispatches on it, as pprof's report.Generate
// does: renderAnalyze, renderSuggest, renderProfile, renderCheck,
// renderDiff.
type Format string

const (
	FormatTable      Format = "table"
	FormatJSON       Format = "json"
	FormatMarkdown   Format = "markdown"
	FormatJUnit      Format = "junit"
	FormatGitHub     Format = "github"
	FormatPprof      Format = "pprof"
	FormatFolded     Format = "folded"
	FormatSpeedscope Format = "speedscope"
)

// parseFormat returns s as one of the formats allowed, or an error naming
// the flag and the choices ("-o "yaml": want table, json or markdown").
func parseFormat(flag, s string, allowed ...Format) (Format, error) {
	names := make([]string, len(allowed))
	for i, f := range allowed {
		if string(f) == s {
			return f, nil
		}
		names[i] = string(f)
	}
	want := names[0]
	if n := len(names); n > 1 {
		want = strings.Join(names[:n-1], ", ") + " or " + names[n-1]
	}
	return "", fmt.Errorf("%s %q: want %s", flag, s, want)
}

// formatList names formats for a flag's help: "table, json, markdown".
func formatList(fs []Format) string {
	names := make([]string, len(fs))
	for i, f := range fs {
		names[i] = string(f)
	}
	return strings.Join(names, ", ")
}
