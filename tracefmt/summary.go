package tracefmt

import "sort"

// Summary is the "input" object every command reports: what was read, from
// where, and what was lost. Its JSON form is stable (documented in README).
// Spans read = Spans (kept) + RejectedSpans, always.
type Summary struct {
	Files         []FileSummary  `json:"files"`
	Format        string         `json:"format"` // the one format of all inputs, or "mixed"
	Encodings     []string       `json:"encodings,omitempty"`
	Traces        int            `json:"traces"`
	Spans         int            `json:"spans"`
	SpansRead     int            `json:"spansRead"`
	RejectedSpans int            `json:"rejectedSpans"`
	Rejected      []KindCount    `json:"rejected"`
	StartUs       int64          `json:"startUs"`
	EndUs         int64          `json:"endUs"`
	Services      []ServiceCount `json:"services"`
	Warnings      []Warning      `json:"warnings"`
}

// KindCount is a warning kind and a count.
type KindCount struct {
	Kind  WarningKind `json:"kind"`
	Count int         `json:"count"`
}

// Summarize builds the input summary of a Read result.
func Summarize(r *Result) Summary {
	k := r.Sink
	s := Summary{
		Files:         r.Files,
		Encodings:     k.Encoding.Names(),
		Traces:        r.NumTraces(),
		Spans:         k.Kept(),
		SpansRead:     k.Read,
		RejectedSpans: k.RejectedTotal(),
		Rejected:      []KindCount{},
		Services:      []ServiceCount{},
		Warnings:      k.Warnings(),
	}
	if s.Files == nil {
		s.Files = []FileSummary{}
	}
	for i, f := range r.Files {
		switch {
		case i == 0:
			s.Format = string(f.Format)
		case s.Format != string(f.Format):
			s.Format = "mixed"
		}
	}
	for kind, n := range k.Rejected {
		s.Rejected = append(s.Rejected, KindCount{kind, n})
	}
	sort.Slice(s.Rejected, func(i, j int) bool { return s.Rejected[i].Kind < s.Rejected[j].Kind })
	services := map[string]int{}
	first := true
	for _, f := range r.Files {
		for _, sc := range f.Services {
			services[sc.Name] += sc.Spans
		}
		if f.Spans == 0 {
			continue
		}
		if first || f.StartUs < s.StartUs {
			s.StartUs = f.StartUs
		}
		if first || f.EndUs > s.EndUs {
			s.EndUs = f.EndUs
		}
		first = false
	}
	for name, n := range services {
		s.Services = append(s.Services, ServiceCount{name, n})
	}
	SortServices(s.Services)
	return s
}
