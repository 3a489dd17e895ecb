package tracefmt

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
)

// WarningKind names a class of span-level problem. Kinds are stable strings:
// they appear in JSON output.
type WarningKind string

const (
	WarnInvalidTraceID   WarningKind = "invalid-trace-id"  // unparsable or zero trace ID (span rejected)
	WarnInvalidSpanID    WarningKind = "invalid-span-id"   // unparsable or zero span ID (span rejected)
	WarnInvalidParentID  WarningKind = "invalid-parent-id" // unparsable parent ID (treated as no parent)
	WarnInvalidRef       WarningKind = "invalid-reference" // unparsable reference or link (dropped)
	WarnInvalidTime      WarningKind = "invalid-time"      // unparsable or missing start/end (span rejected)
	WarnEndBeforeStart   WarningKind = "end-before-start"  // end < start (kept with end = start)
	WarnMissingService   WarningKind = "missing-service"   // no service name (kept as unknown_service)
	WarnDuplicateSpanID  WarningKind = "duplicate-span-id" // same trace and span ID seen again (kept)
	WarnInvalidValue     WarningKind = "invalid-value"     // an unparsable field value that was ignored
	WarnUnknownReference WarningKind = "unknown-ref-type"  // Jaeger reference type not CHILD_OF/FOLLOWS_FROM

	// WarnNonHexID: an ID that is neither hex nor base64 (some hand-written
	// Jaeger fixtures use "span-1"); it is kept, hashed to a fixed-size ID,
	// and the text is remembered in Sink.Aliases.
	WarnNonHexID WarningKind = "non-hex-id"
	// WarnLongString: string values longer than JSONMaxString, cut to it.
	WarnLongString WarningKind = "long-string"
	// WarnCutLastLine: the last line of a JSON Lines input ends early, as a
	// recording interrupted while writing leaves it; the lines before it
	// are kept, spans read from the cut line but not yet kept are rejected.
	WarnCutLastLine WarningKind = "cut-last-line"
	// WarnPartialTrace: the backend said the trace it returned is
	// incomplete (Tempo's "status": "PARTIAL").
	WarnPartialTrace WarningKind = "partial-trace"
	// WarnServerError: a backend's response held traces and an error.
	WarnServerError WarningKind = "server-error"
	// WarnSkippedFile: a file inside a directory argument that is not a
	// trace export.
	WarnSkippedFile WarningKind = "skipped-file"
	// WarnNoSpansInFile: an input that is empty (0 bytes or white space),
	// or a recognised export holding no spans. Read fails when every input
	// is so.
	WarnNoSpansInFile WarningKind = "no-spans-in-file"
)

// UnknownService is the service name given to spans without one, as the
// OpenTelemetry SDKs do.
const UnknownService = "unknown_service"

// Pos says where in an input something was found. Zero fields are omitted
// when printed: Line and Offset for text formats, Record for binary streams,
// Path is a JSON path or protobuf field path such as
// "resourceSpans[0].scopeSpans[1].spans[4].spanId".
type Pos struct {
	File   string
	Line   int   // 1-based; 0 = not applicable
	Offset int64 // byte offset in the (decompressed) stream; -1 = not applicable
	Record int   // 0-based message index in a stream; -1 = not applicable
	Path   string
}

func (p Pos) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	sep := ": "
	if p.Line > 0 {
		fmt.Fprintf(&b, "%sline %d", sep, p.Line)
		sep = ", "
	}
	if p.Record >= 0 {
		fmt.Fprintf(&b, "%srecord %d", sep, p.Record)
		sep = ", "
	}
	if p.Offset >= 0 {
		fmt.Fprintf(&b, "%soffset %d", sep, p.Offset)
	}
	if p.Path != "" {
		b.WriteString(": ")
		b.WriteString(p.Path)
	}
	return b.String()
}

// DecodeError is an undecodable input: it names the file, the position and
// what was expected.
type DecodeError struct {
	Pos
	Msg string
}

func (e *DecodeError) Error() string { return "reading " + e.Pos.String() + ": " + e.Msg }

// Warning is one class of problem with its count and first example.
type Warning struct {
	Kind    WarningKind `json:"kind"`
	Count   int         `json:"count"`
	Example string      `json:"example"`
}

// Encoding bits: which ID and enum encodings a JSON input used.
type Encoding uint8

const (
	EncHexIDs Encoding = 1 << iota
	EncBase64IDs
	EncEnumNumbers
	EncEnumNames
)

// Names lists the encodings seen, e.g. ["hex-ids", "enum-numbers"].
func (e Encoding) Names() []string {
	var out []string
	for _, n := range []struct {
		bit  Encoding
		name string
	}{{EncHexIDs, "hex-ids"}, {EncBase64IDs, "base64-ids"}, {EncEnumNumbers, "enum-numbers"}, {EncEnumNames, "enum-names"}} {
		if e&n.bit != 0 {
			out = append(out, n.name)
		}
	}
	return out
}

const chunkSpans = 4096

// Sink receives what decoders read: spans, rejected spans and warnings. It
// stores spans in fixed-size chunks (so pointers stay valid and growth never
// copies), interns strings and attribute sets, and groups spans by trace ID
// across every input. A Sink is not safe for concurrent use.
type Sink struct {
	chunks  [][]Span
	n       int // spans stored
	strs    map[string]string
	attrs   map[Attrs]*Attrs
	traceIx map[TraceID]int32
	traceOf [][]int32 // per chunk, per stored span, its trace index (first-appearance order)
	grouped []Trace   // Traces' result, once computed
	traces  []TraceID
	counts  []int32

	// File is the current input's name, used in positions.
	File string

	Read     int // spans read (kept + rejected)
	Rejected map[WarningKind]int
	Encoding Encoding
	warnings map[WarningKind]*Warning
	order    []WarningKind

	// Aliases maps string(ID bytes) of IDs hashed from non-hex text back to
	// that text (see AliasSpanID); nil when there were none.
	Aliases map[string]string

	emptyAttrs *Attrs

	// progress, when set, receives the count of spans read at every chunk
	// stored (Add runs on the decoder's goroutine; the count is atomic).
	progress *Progress

	// expandLeft is how many more bytes the current input's compressed
	// records may expand to (0 = not set: the default cap); expandCap is
	// the cap it started from, for messages.
	expandLeft, expandCap int64

	// Spilling (spill.go): spill is nil unless Options.MaxMemory is set;
	// spillAt is the number of spans held that triggers a spill, spilled
	// the spans written so far, fileRuns the input file of the spans held.
	spill    *spiller
	spillAt  int
	spilled  int
	fileRuns []fileRun

	// stage, when set, stores spans on a goroutine of its own (store.go).
	stage *storeStage

	// Per-input statistics of the file being read.
	cur       *FileSummary
	fileNo    int32
	lastFile  []int32 // per trace, the last file number that had a span of it
	rejected0 int
}

func (k *Sink) beginFile(f *FileSummary) {
	k.stage.sync() // what it stores next is counted in f
	k.cur = f
	k.fileNo++
	k.File = f.Name
	f.no = k.fileNo
	k.noteFile()
	k.rejected0 = k.RejectedTotal()
}

func (k *Sink) endFile() {
	k.stage.sync() // f's statistics are complete
	k.cur.RejectedSpans = k.RejectedTotal() - k.rejected0
	k.cur = nil
}

// NewSink returns an empty sink.
func NewSink() *Sink {
	k := &Sink{
		strs:     map[string]string{},
		attrs:    map[Attrs]*Attrs{},
		traceIx:  map[TraceID]int32{},
		Rejected: map[WarningKind]int{},
		warnings: map[WarningKind]*Warning{},
	}
	k.emptyAttrs = k.InternAttrs(&Attrs{})
	return k
}

// Intern returns a string equal to b, shared by every equal string. It does
// not allocate when the string was seen before.
func (k *Sink) Intern(b []byte) string {
	if s, ok := k.strs[string(b)]; ok {
		return s
	}
	s := string(b)
	k.strs[s] = s
	return s
}

// InternString is Intern for a string.
func (k *Sink) InternString(s string) string {
	if t, ok := k.strs[s]; ok {
		return t
	}
	s = strings.Clone(s)
	k.strs[s] = s
	return s
}

// InternAttrs returns the shared copy of a (whose strings must already be
// interned or otherwise immutable).
func (k *Sink) InternAttrs(a *Attrs) *Attrs {
	if p, ok := k.attrs[*a]; ok {
		return p
	}
	p := new(Attrs)
	*p = *a
	k.attrs[*p] = p
	return p
}

// Add stores a copy of s (which the decoder may reuse) after the checks every
// format shares: zero IDs reject the span; a missing service or an end
// before start are warned and mended. where is called only when a warning
// needs the span's position. After Traces the grouping is final and Add
// does nothing (it neither stores nor counts the span).
func (k *Sink) Add(s *Span, where func() Pos) {
	if k.grouped != nil {
		return
	}
	k.Read++
	if s.TraceID.IsZero() {
		k.reject(WarnInvalidTraceID, where(), "trace ID is all zeros")
		return
	}
	if s.SpanID.IsZero() {
		k.reject(WarnInvalidSpanID, where(), "span ID is all zeros")
		return
	}
	if s.Service == "" {
		k.Warn(WarnMissingService, where(), "no service name; using "+UnknownService)
		s.Service = k.InternString(UnknownService)
	}
	if s.End < s.Start {
		k.Warn(WarnEndBeforeStart, where(), fmt.Sprintf("end is %dns before start; using end = start", s.Start-s.End))
		s.End = s.Start
	}
	if s.Attrs == nil {
		s.Attrs = k.emptyAttrs
	}
	if k.progress != nil && k.Read%chunkSpans == 0 {
		k.progress.Spans.Store(int64(k.Read))
	}
	if k.stage != nil {
		k.stage.add(s)
		return
	}
	k.store(s)
}

// store keeps s: in the current chunk, counted in its trace and in the
// current file's statistics; the spans held are spilled when they reach the
// memory budget. It runs on the decoder's goroutine, or on the store stage's
// (store.go): it touches only what the stage owns.
func (k *Sink) store(s *Span) {
	if k.spillAt > 0 && k.n >= k.spillAt {
		k.flushSpill()
	}
	if k.n%chunkSpans == 0 {
		k.chunks = append(k.chunks, make([]Span, 0, chunkSpans))
		k.traceOf = append(k.traceOf, make([]int32, 0, chunkSpans))
	}
	c := &k.chunks[len(k.chunks)-1]
	*c = append(*c, *s)
	k.n++
	ix, ok := k.traceIx[s.TraceID]
	if !ok {
		ix = int32(len(k.traces))
		k.traceIx[s.TraceID] = ix
		k.traces = append(k.traces, s.TraceID)
		k.counts = append(k.counts, 0)
	}
	k.counts[ix]++
	to := &k.traceOf[len(k.traceOf)-1]
	*to = append(*to, ix)
	if f := k.cur; f != nil {
		if f.Spans == 0 || s.Start < f.start {
			f.start = s.Start
		}
		if f.Spans == 0 || s.End > f.end {
			f.end = s.End
		}
		f.Spans++
		f.services[s.Service]++
		if int(ix) == len(k.lastFile) {
			k.lastFile = append(k.lastFile, 0)
		}
		if k.lastFile[ix] != k.fileNo {
			k.lastFile[ix] = k.fileNo
			f.Traces++
		}
	}
}

// Reject counts a span read but not kept, for the given reason. After
// Traces it does nothing, as Add.
func (k *Sink) Reject(kind WarningKind, where Pos, detail string) {
	if k.grouped != nil {
		return
	}
	k.Read++
	k.reject(kind, where, detail)
}

func (k *Sink) reject(kind WarningKind, where Pos, detail string) {
	k.Rejected[kind]++
	k.Warn(kind, where, detail+" (span rejected)")
}

// Warn records a problem; the first example of each kind is kept.
func (k *Sink) Warn(kind WarningKind, where Pos, detail string) {
	w := k.warnings[kind]
	if w == nil {
		w = &Warning{Kind: kind, Example: where.String() + ": " + detail}
		k.warnings[kind] = w
		k.order = append(k.order, kind)
	}
	w.Count++
	if f := k.cur; f != nil {
		for i := range f.Warnings {
			if f.Warnings[i].Kind == kind {
				f.Warnings[i].Count++
				return
			}
		}
		f.Warnings = append(f.Warnings, Warning{Kind: kind, Count: 1, Example: where.String() + ": " + detail})
	}
}

// Kept is the number of spans stored (held or spilled).
func (k *Sink) Kept() int { return k.n + k.spilled }

// RejectedTotal is the number of spans read but not kept.
func (k *Sink) RejectedTotal() int {
	n := 0
	for _, c := range k.Rejected {
		n += c
	}
	return n
}

// Warnings lists the warnings in order of first occurrence.
func (k *Sink) Warnings() []Warning {
	out := make([]Warning, 0, len(k.order))
	for _, kind := range k.order {
		out = append(out, *k.warnings[kind])
	}
	return out
}

// Traces groups the stored spans by trace ID, traces in order of first
// appearance, spans in input order. It also warns about duplicate span IDs
// within a trace (the spans are kept; analysis decides what to do). The
// grouping state is released afterwards (it is a few bytes per span that
// analysis would otherwise carry); later calls return the same result and
// the sink takes no more spans.
func (k *Sink) Traces() []Trace {
	if k.grouped != nil {
		return k.grouped
	}
	all := make([]*Span, k.n)
	start := make([]int32, len(k.counts)+1)
	for i, c := range k.counts {
		start[i+1] = start[i] + c
	}
	next := append([]int32(nil), start[:len(k.counts)]...)
	for ci, c := range k.chunks {
		for j, t := range k.traceOf[ci] {
			all[next[t]] = &c[j]
			next[t]++
		}
	}
	out := make([]Trace, len(k.traces))
	for t, id := range k.traces {
		out[t] = Trace{ID: id, Spans: all[start[t]:start[t+1]:start[t+1]]}
	}
	k.warnDuplicates(out)
	k.traceOf, k.traceIx, k.lastFile, k.counts, k.traces = nil, nil, nil, nil, nil
	k.grouped = out
	return out
}

func (k *Sink) warnDuplicates(traces []Trace) {
	var ids []SpanID
	for _, t := range traces {
		if len(t.Spans) < 2 {
			continue
		}
		ids = ids[:0]
		for _, s := range t.Spans {
			ids = append(ids, s.SpanID)
		}
		slices.SortFunc(ids, func(a, b SpanID) int { return bytes.Compare(a[:], b[:]) })
		for i := 1; i < len(ids); i++ {
			if ids[i] == ids[i-1] {
				k.Warn(WarnDuplicateSpanID, Pos{File: "trace " + t.ID.String(), Offset: -1, Record: -1},
					"span "+ids[i].String()+" appears more than once (kept; analysis merges identical copies)")
			}
		}
	}
}

// AliasTraceID hashes a non-hex trace ID text to a TraceID and remembers the
// text, so renderers can show what the input said.
func (k *Sink) AliasTraceID(text []byte) TraceID {
	var id TraceID
	binary.BigEndian.PutUint64(id[:8], fnv64(text, 0))
	binary.BigEndian.PutUint64(id[8:], fnv64(text, 1))
	k.alias(id[:], text)
	return id
}

// AliasSpanID is AliasTraceID for span IDs.
func (k *Sink) AliasSpanID(text []byte) SpanID {
	var id SpanID
	binary.BigEndian.PutUint64(id[:], fnv64(text, 2))
	k.alias(id[:], text)
	return id
}

func (k *Sink) alias(id []byte, text []byte) {
	if k.Aliases == nil {
		k.Aliases = map[string]string{}
	}
	k.Aliases[string(id)] = string(text)
}

// fnv64 is FNV-1a of salt followed by b, never 0 (a zero ID is invalid).
func fnv64(b []byte, salt byte) uint64 {
	h := fnv.New64a()
	h.Write([]byte{salt})
	h.Write(b)
	return max(h.Sum64(), 1)
}
