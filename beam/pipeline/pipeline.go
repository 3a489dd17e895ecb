// Package pipeline is hopbudget's analysis as an Apache Beam pipeline: read
// trace files (any format hopbudget reads, from any filesystem Beam has
// registered), key every span by its trace ID (a trace's spans from one
// file travel together), group (the runner's shuffle brings each trace's
// spans to one worker whatever files they came from),
// rebuild and analyse each trace with hopbudget's own packages, merge the
// per-batch summaries and write one summary file that `hopbudget check`
// and `report` read.
package pipeline

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem/local" // local paths, always
	"github.com/apache/beam/sdks/v2/go/pkg/beam/log"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"hopbudget/analyze"
	"hopbudget/grammar"
	"hopbudget/summary"
	"hopbudget/tracefmt"
)

// Config is what the pipeline reads, writes and how it analyses.
type Config struct {
	// Inputs are file patterns (globs) in any filesystem Beam has
	// registered: local paths, gs://…, s3://…
	Inputs []string
	// Output is the summary file to write.
	Output string
	// CriticalPath, NoSkewAdjust and Clocks are hopbudget's
	// --critical-path, --skew-adjust=false and --clock-granularity.
	CriticalPath string
	NoSkewAdjust bool
	Clocks       []string
	// Limits say when a summary's figures turn from exact values into
	// sketches (zero: summary.DefaultLimits, as the CLI's summaries).
	Limits summary.Limits
	// BatchSpans bounds the spans of the traces analysed together in one
	// summary (0 = DefaultBatchSpans): a summary per trace would make
	// merging the cost of the job, one per bundle could hold too much.
	BatchSpans int
}

// DefaultBatchSpans is the default Config.BatchSpans.
const DefaultBatchSpans = 1 << 20

// Options checks the analysis settings and turns them into analyze.Options.
func (c *Config) Options() (analyze.Options, error) {
	mode, err := analyze.ParseMode(c.CriticalPath)
	if err != nil {
		return analyze.Options{}, err
	}
	clocks, err := grammar.ParseClockGranularity(c.Clocks)
	if err != nil {
		return analyze.Options{}, err
	}
	return analyze.Options{CriticalPath: mode, NoSkewAdjust: c.NoSkewAdjust, ClockGranularity: clocks}, nil
}

// Build adds the pipeline to s. It fails on settings that are wrong before
// anything runs (bad options, a scheme no filesystem is registered for).
func Build(s beam.Scope, c Config) error {
	if len(c.Inputs) == 0 {
		return errors.New("no input patterns")
	}
	if c.Output == "" {
		return errors.New("no output file")
	}
	if _, err := c.Options(); err != nil {
		return err
	}
	for _, p := range append(slices.Clone(c.Inputs), c.Output) {
		if err := checkScheme(p); err != nil {
			return err
		}
	}
	batch := c.BatchSpans
	if batch <= 0 {
		batch = DefaultBatchSpans
	}
	s = s.Scope("hopbudget")
	files := beam.ParDo(s, &matchFn{Patterns: c.Inputs}, beam.Impulse(s))
	// Matching yields every file from one element; without a reshuffle a
	// runner may fuse the reads with it onto one worker.
	files = beam.Reshuffle(s, files)
	spans := beam.ParDo(s, &readFn{}, files)
	traces := beam.GroupByKey(s, spans)
	limits := c.Limits
	if limits == (summary.Limits{}) {
		limits = summary.DefaultLimits()
	}
	parts := beam.ParDo(s, &summarizeFn{CriticalPath: c.CriticalPath, NoSkewAdjust: c.NoSkewAdjust,
		Clocks: c.Clocks, BatchSpans: batch, Limits: limits}, traces)
	total := beam.Combine(s, &mergeFn{}, parts)
	// The total is a side input of a single impulse so that an input
	// without spans (no element to combine, so none out) still runs the
	// writer, which fails instead of writing nothing.
	beam.ParDo0(s, &writeFn{Output: c.Output}, beam.Impulse(s), beam.SideInput{Input: total})
	return nil
}

// checkScheme fails a path whose filesystem is not registered (the error
// names the import that registers it).
func checkScheme(p string) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	filesystem.ValidateScheme(p)
	return nil
}

var (
	filesRead   = beam.NewCounter("hopbudget", "files")
	spansRead   = beam.NewCounter("hopbudget", "spans")
	spansKept   = beam.NewCounter("hopbudget", "spans_kept")
	tracesSeen  = beam.NewCounter("hopbudget", "traces")
	summaries   = beam.NewCounter("hopbudget", "summaries")
	emptyInputs = beam.NewCounter("hopbudget", "files_without_spans")
)

// FileRef is one matched input and its place in the list of all matches.
type FileRef struct {
	Index int32
	Path  string
}

// matchFn lists the inputs as the CLI expands them: patterns in order, the
// matches of each sorted.
type matchFn struct {
	Patterns []string
}

func (f *matchFn) ProcessElement(ctx context.Context, _ []byte, emit func(FileRef)) error {
	var i int32
	for _, p := range f.Patterns {
		fs, err := filesystem.New(ctx, p)
		if err != nil {
			return err
		}
		names, err := fs.List(ctx, p)
		fs.Close()
		if err != nil {
			return fmt.Errorf("listing %s: %v", p, err)
		}
		if len(names) == 0 {
			return fmt.Errorf("%s: no files match", p)
		}
		slices.Sort(names)
		for _, n := range names {
			emit(FileRef{Index: i, Path: n})
			i++
		}
	}
	return nil
}

// readFn reads one input with tracefmt.Read and emits its spans keyed by
// trace ID, one Fragment per trace.
type readFn struct{}

func (f *readFn) ProcessElement(ctx context.Context, ref FileRef, emit func([]byte, Fragment)) error {
	res, err := readFile(ctx, ref.Path)
	if err != nil {
		if errors.Is(err, errNoSpans) {
			// As the CLI: a file without spans is a warning while
			// another input has some (writeFn fails when none has).
			log.Warnf(ctx, "%v", err)
			emptyInputs.Inc(ctx, 1)
			return nil
		}
		return err
	}
	filesRead.Inc(ctx, 1)
	for _, w := range res.Sink.Warnings() {
		log.Warnf(ctx, "%s: %s: %d× (first: %s)", ref.Path, w.Kind, w.Count, w.Example)
	}
	spansRead.Inc(ctx, int64(res.Sink.Read))
	var seq int64
	for i := range res.Traces {
		tr := &res.Traces[i]
		frag := Fragment{File: ref.Index, Seq: seq, Spans: make([]tracefmt.Span, len(tr.Spans))}
		for j, sp := range tr.Spans {
			frag.Spans[j] = *sp
		}
		emit(bytes.Clone(tr.ID[:]), frag)
		seq += int64(len(tr.Spans))
	}
	spansKept.Inc(ctx, seq)
	return nil
}

// errNoSpans marks an input that decoded but held no span.
var errNoSpans = errors.New("no spans")

// readFile reads one file: local paths directly (errors and warnings name
// the file as the CLI's do), others through Beam's filesystem for their
// scheme, streamed to tracefmt as if from standard input.
func readFile(ctx context.Context, path string) (*tracefmt.Result, error) {
	if !strings.Contains(path, "://") {
		return noSpansAs(tracefmt.Read(ctx, []string{path}, tracefmt.Options{}))
	}
	fs, err := filesystem.New(ctx, path)
	if err != nil {
		return nil, err
	}
	defer fs.Close()
	rc, err := fs.OpenRead(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %v", path, err)
	}
	defer rc.Close()
	res, err := noSpansAs(tracefmt.Read(ctx, []string{"-"}, tracefmt.Options{Stdin: rc}))
	if err != nil {
		var de *tracefmt.DecodeError
		if errors.As(err, &de) && de.Pos.File == "-" {
			de.Pos.File = path
			return nil, err
		}
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return res, nil
}

// noSpansAs tells Read's "nothing kept" failure (whole-input, so final for
// the CLI reading one file, not for a pipeline reading many) from the
// others. Read has no sentinel for it; its messages start "no spans".
func noSpansAs(res *tracefmt.Result, err error) (*tracefmt.Result, error) {
	var de *tracefmt.DecodeError
	if err != nil && !errors.As(err, &de) && strings.HasPrefix(err.Error(), "no spans") {
		return nil, fmt.Errorf("%w: %v", errNoSpans, err)
	}
	return res, err
}

// summarizeFn rebuilds each grouped trace and analyses traces in batches of
// about BatchSpans spans, emitting one summary per batch.
type summarizeFn struct {
	CriticalPath string
	NoSkewAdjust bool
	Clocks       []string
	BatchSpans   int
	Limits       summary.Limits

	opts  analyze.Options
	batch []batched
	spans int
	names map[string]string
	attrs map[tracefmt.Attrs]*tracefmt.Attrs
	frags []Fragment
}

// batched is a rebuilt trace and where its first span was read.
type batched struct {
	trace     tracefmt.Trace
	file      int32
	seq       int64
	spanStore []tracefmt.Span
}

func (f *summarizeFn) Setup() error {
	c := Config{CriticalPath: f.CriticalPath, NoSkewAdjust: f.NoSkewAdjust, Clocks: f.Clocks}
	opts, err := c.Options()
	f.opts = opts
	return err
}

func (f *summarizeFn) ProcessElement(ctx context.Context, key []byte, frags func(*Fragment) bool, emit func(Partial)) error {
	f.frags = f.frags[:0]
	n := 0
	var fr Fragment
	for frags(&fr) {
		f.frags = append(f.frags, fr)
		n += len(fr.Spans)
	}
	if n == 0 {
		return nil
	}
	slices.SortFunc(f.frags, func(a, b Fragment) int {
		return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Seq, b.Seq))
	})
	if f.names == nil {
		f.names, f.attrs = map[string]string{}, map[tracefmt.Attrs]*tracefmt.Attrs{}
	}
	b := batched{file: f.frags[0].File, seq: f.frags[0].Seq, spanStore: make([]tracefmt.Span, 0, n)}
	for _, fr := range f.frags {
		b.spanStore = append(b.spanStore, fr.Spans...)
	}
	clear(f.frags) // the fragments' spans are copied: let them go
	b.trace.ID = b.spanStore[0].TraceID
	b.trace.Spans = make([]*tracefmt.Span, n)
	for i := range b.spanStore {
		sp := &b.spanStore[i]
		// Interned as the readers intern them: analysis keys its caches
		// on string data pointers and shares attribute sets.
		sp.Service, sp.Operation = f.intern(sp.Service), f.intern(sp.Operation)
		if sp.Attrs != nil {
			sp.Attrs = f.internAttrs(sp.Attrs)
		}
		b.trace.Spans[i] = sp
	}
	f.batch = append(f.batch, b)
	f.spans += n
	tracesSeen.Inc(ctx, 1)
	if f.spans >= f.BatchSpans {
		return f.flush(ctx, emit)
	}
	return nil
}

func (f *summarizeFn) FinishBundle(ctx context.Context, emit func(Partial)) error {
	return f.flush(ctx, emit)
}

func (f *summarizeFn) intern(s string) string {
	if v, ok := f.names[s]; ok {
		return v
	}
	f.names[s] = s
	return s
}

func (f *summarizeFn) internAttrs(a *tracefmt.Attrs) *tracefmt.Attrs {
	v := *a
	for _, p := range attrStrings(&v) {
		*p = f.intern(*p)
	}
	if p, ok := f.attrs[v]; ok {
		return p
	}
	f.attrs[v] = &v
	return &v
}

// flush summarises the batch, its traces in the CLI's order of first
// appearance.
func (f *summarizeFn) flush(ctx context.Context, emit func(Partial)) error {
	if len(f.batch) == 0 {
		return nil
	}
	slices.SortFunc(f.batch, func(a, b batched) int {
		return cmp.Or(cmp.Compare(a.file, b.file), cmp.Compare(a.seq, b.seq))
	})
	traces := make([]tracefmt.Trace, len(f.batch))
	for i := range f.batch {
		traces[i] = f.batch[i].trace
	}
	s, err := summary.FromTraces(ctx, traces, f.opts, "", f.Limits)
	if err != nil {
		return err
	}
	emit(Partial{S: s})
	summaries.Inc(ctx, 1)
	clear(f.batch)
	f.batch, f.spans, f.names, f.attrs = f.batch[:0], 0, nil, nil
	return nil
}

// Partial is a summary crossing Beam (coded with summary.Encode).
type Partial struct {
	S *summary.Summary
}

func encodePartial(p Partial) ([]byte, error) {
	if p.S == nil {
		return nil, nil
	}
	var b bytes.Buffer
	err := summary.Encode(&b, p.S)
	return b.Bytes(), err
}

func decodePartial(b []byte) (Partial, error) {
	if len(b) == 0 {
		return Partial{}, nil
	}
	s, err := summary.Decode(bytes.NewReader(b), "summary from the shuffle")
	return Partial{S: s}, err
}

// mergeFn merges summaries (summary.Merge is associative and commutative,
// as a runner's combiner lifting needs).
type mergeFn struct{}

func (f *mergeFn) MergeAccumulators(a, b Partial) (Partial, error) {
	switch {
	case a.S == nil:
		return b, nil
	case b.S == nil:
		return a, nil
	}
	s, err := summary.Merge(a.S, b.S)
	return Partial{S: s}, err
}

// writeFn writes the total summary to Output.
type writeFn struct {
	Output string
}

func (f *writeFn) ProcessElement(ctx context.Context, _ []byte, totals func(*Partial) bool) error {
	var total, p Partial
	for totals(&p) {
		var err error
		if total, err = (&mergeFn{}).MergeAccumulators(total, p); err != nil {
			return err
		}
	}
	if total.S == nil {
		return errors.New("no spans in the inputs")
	}
	fs, err := filesystem.New(ctx, f.Output)
	if err != nil {
		return err
	}
	defer fs.Close()
	w, err := fs.OpenWrite(ctx, f.Output)
	if err != nil {
		return fmt.Errorf("writing %s: %v", f.Output, err)
	}
	if err := summary.Encode(w, total.S); err != nil {
		w.Close()
		return fmt.Errorf("writing %s: %v", f.Output, err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("writing %s: %v", f.Output, err)
	}
	return nil
}

func init() {
	beam.RegisterCoder(reflect.TypeOf(Fragment{}), encodeFragment, decodeFragment)
	beam.RegisterCoder(reflect.TypeOf(Partial{}), encodePartial, decodePartial)
	beam.RegisterType(reflect.TypeOf(FileRef{}))

	register.DoFn3x1[context.Context, []byte, func(FileRef), error](&matchFn{})
	register.Emitter1[FileRef]()
	register.DoFn3x1[context.Context, FileRef, func([]byte, Fragment), error](&readFn{})
	register.Emitter2[[]byte, Fragment]()
	register.DoFn4x1[context.Context, []byte, func(*Fragment) bool, func(Partial), error](&summarizeFn{})
	register.Iter1[Fragment]()
	register.Emitter1[Partial]()
	register.Combiner1[Partial](&mergeFn{})
	register.DoFn3x1[context.Context, []byte, func(*Partial) bool, error](&writeFn{})
	register.Iter1[Partial]()
}

// Stats are the pipeline's counters after a run.
type Stats struct {
	Files, EmptyFiles, Spans, SpansKept, Traces, Summaries int64
}

// StatsOf reads the counters of a finished run (committed values, summed
// over steps; zero where the runner reports none).
func StatsOf(res beam.PipelineResult) Stats {
	var st Stats
	into := map[string]*int64{"files": &st.Files, "files_without_spans": &st.EmptyFiles, "spans": &st.Spans,
		"spans_kept": &st.SpansKept, "traces": &st.Traces, "summaries": &st.Summaries}
	for _, c := range res.Metrics().AllMetrics().Counters() {
		if p := into[c.Name()]; p != nil && c.Namespace() == "hopbudget" {
			*p += c.Result()
		}
	}
	return st
}
