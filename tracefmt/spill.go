package tracefmt

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
)

// Spilling: bounded memory on any input.
//
// Spans must be held until grouping by trace is complete, so a large input
// does not fit in memory. When the spans held would exceed half of
// Options.MaxMemory (the other half is left to the analysis' aggregates
// and the runtime), the sink writes them to P partition files by a hash of
// the trace ID (every span of a trace lands in the same file), drops them,
// and goes on reading. After the last input, partitions that would not fit
// are split again, and one pass over them counts traces, the traces of each
// input file and duplicate span IDs, so that the Result's counts and
// warnings are exactly those of the in-memory path. Analysis then loads one
// partition at a time (Result.LoadPartition).

// SpanBytes is what one span costs held in memory through analysis: the
// Sink's chunked Span (~120 B), its share of the grouping, the interned
// strings and attributes, and the analysis' per-span state (issue 15
// measured ~165 B/span after reading and ~244 B/span at analysis' peak).
const SpanBytes = 250

// spillParts is the number of partitions first written; partitions that
// turn out too big are split again when reading ends.
const spillParts = 64

// spillBufBytes is each partition writer's buffer.
const spillBufBytes = 64 << 10

// spiller owns the temporary directory and the partition files.
type spiller struct {
	ctx     context.Context
	base    string // Options.TmpDir or os.TempDir()
	dir     string // private directory, "" until the first spill
	parts   []*spillPart
	maxPart int // spans a partition may hold when loaded
	err     error
	seq     int64 // kept spans written so far
	nfile   int   // names handed out
}

type spillPart struct {
	name  string
	f     *os.File
	w     *bufio.Writer
	enc   *spillEncoder
	spans int
	level uint64 // hash salt of the split that made it
}

// fileRun says that stored spans from index from on came from input file no.
type fileRun struct {
	from int
	no   int32
}

// setSpill arms spilling for a Read with opts (no-op without MaxMemory).
func (k *Sink) setSpill(ctx context.Context, opts Options) {
	if opts.MaxMemory <= 0 {
		return
	}
	base := opts.TmpDir
	if base == "" {
		base = os.TempDir()
	}
	held := int(max(opts.MaxMemory/2/SpanBytes, 1))
	k.spill = &spiller{ctx: ctx, base: base, maxPart: held}
	k.spillAt = held
}

// Spilled reports whether the sink wrote its spans to partition files.
func (k *Sink) Spilled() bool { return k.spill != nil && k.spill.dir != "" }

// spillErr is the first error writing partitions.
func (k *Sink) spillErr() error {
	if k.spill == nil {
		return nil
	}
	return k.spill.err
}

// flushSpill writes the spans held to the partitions and drops them.
func (k *Sink) flushSpill() {
	sp := k.spill
	if sp.err == nil && sp.dir == "" {
		sp.err = sp.create()
	}
	if sp.err == nil {
		run := 0
		i := 0
		for _, c := range k.chunks {
			for j := range c {
				for run+1 < len(k.fileRuns) && k.fileRuns[run+1].from <= i {
					run++
				}
				no := int32(0)
				if run < len(k.fileRuns) && k.fileRuns[run].from <= i {
					no = k.fileRuns[run].no
				}
				if err := sp.write(&c[j], spillMeta{file: no, seq: sp.seq}); err != nil {
					sp.err = err
					break
				}
				sp.seq++
				i++
			}
		}
	}
	// What was held is gone either way: on an error Read fails.
	k.spilled += k.n
	k.n = 0
	k.chunks, k.traceOf = nil, nil
	k.traceIx = map[TraceID]int32{}
	k.traces, k.counts, k.lastFile = nil, nil, nil
	k.fileRuns = k.fileRuns[:0]
	if k.cur != nil {
		k.fileRuns = append(k.fileRuns, fileRun{0, k.fileNo})
	}
}

// noteFile records that the spans stored from now on come from file no.
func (k *Sink) noteFile() {
	if k.spill != nil {
		k.fileRuns = append(k.fileRuns, fileRun{k.n, k.fileNo})
	}
}

func (sp *spiller) create() error {
	if err := os.MkdirAll(sp.base, 0o700); err != nil {
		return sp.wrap(err)
	}
	dir, err := os.MkdirTemp(sp.base, "hopbudget-spill-")
	if err != nil {
		return sp.wrap(err)
	}
	sp.dir = dir
	sp.parts = make([]*spillPart, spillParts)
	for i := range sp.parts {
		if sp.parts[i], err = sp.newPart(0); err != nil {
			return err
		}
	}
	return nil
}

// wrap makes a temporary-file error say where and what to do.
func (sp *spiller) wrap(err error) error {
	return fmt.Errorf("spilling to temporary files in %s (input over --max-memory): %w; free space there or choose another --tmp-dir", sp.base, err)
}

func (sp *spiller) newPart(level uint64) (*spillPart, error) {
	sp.nfile++
	name := filepath.Join(sp.dir, fmt.Sprintf("part-%05d", sp.nfile))
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, sp.wrap(err)
	}
	w := bufio.NewWriterSize(f, spillBufBytes)
	return &spillPart{name: name, f: f, w: w, enc: newSpillEncoder(w), level: level}, nil
}

// partHash spreads trace IDs over partitions; level salts each split.
func partHash(id TraceID, level uint64) uint64 {
	x := binary.LittleEndian.Uint64(id[:8]) ^ binary.LittleEndian.Uint64(id[8:])*0x9e3779b97f4a7c15 ^ level*0xbf58476d1ce4e5b9
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

func (sp *spiller) write(s *Span, m spillMeta) error {
	p := sp.parts[partHash(s.TraceID, 0)%uint64(len(sp.parts))]
	p.spans++
	if err := p.enc.encode(s, m); err != nil {
		return sp.wrap(err)
	}
	return nil
}

// endWrite flushes and closes a partition's writer.
func (p *spillPart) endWrite(sp *spiller) error {
	err := p.w.Flush()
	if cerr := p.f.Close(); err == nil {
		err = cerr
	}
	p.f, p.w, p.enc = nil, nil, nil
	if err != nil {
		return sp.wrap(err)
	}
	return nil
}

// remove deletes the temporary directory and everything in it.
func (sp *spiller) remove() error {
	for _, p := range sp.parts {
		if p.f != nil {
			p.f.Close()
		}
	}
	if sp.dir == "" {
		return nil
	}
	err := os.RemoveAll(sp.dir)
	sp.dir = ""
	sp.parts = nil
	return err
}

// abortSpill removes the temporary files of a Read that failed.
func (k *Sink) abortSpill(err *error) {
	if *err != nil && k.spill != nil {
		k.spill.remove()
	}
}

// spillReader opens partition p for decoding.
func (p *spillPart) open() (*os.File, *spillDecoder, error) {
	f, err := os.Open(p.name)
	if err != nil {
		return nil, nil, err
	}
	return f, newSpillDecoder(bufio.NewReaderSize(f, 256<<10)), nil
}

// split rewrites partition p into n partitions by a hash salted with the
// next level, streaming (p may be far bigger than memory).
func (sp *spiller) split(p *spillPart, n int) ([]*spillPart, error) {
	f, dec, err := p.open()
	if err != nil {
		return nil, sp.wrap(err)
	}
	defer f.Close()
	out := make([]*spillPart, n)
	for i := range out {
		if out[i], err = sp.newPart(p.level + 1); err != nil {
			return nil, err
		}
		sp.parts = append(sp.parts, out[i]) // so that remove closes it on an error
	}
	var s Span
	var m spillMeta
	for {
		if err := sp.ctx.Err(); err != nil {
			return nil, interrupted(err)
		}
		if err := dec.decode(&s, &m); err == io.EOF {
			break
		} else if err != nil {
			return nil, fmt.Errorf("reading back %s: %v", p.name, err)
		}
		q := out[partHash(s.TraceID, p.level+1)%uint64(n)]
		q.spans++
		if err := q.enc.encode(&s, m); err != nil {
			return nil, sp.wrap(err)
		}
		dec.refs = dec.refs[:0] // s is written; its references may be reused
	}
	for _, q := range out {
		if err := q.endWrite(sp); err != nil {
			return nil, err
		}
	}
	os.Remove(p.name)
	return out, nil
}

// finishSpill ends a spilled Read: it writes what is held, closes the
// files, splits those too big to load, and counts what the in-memory path
// counts while grouping (traces, each file's traces, duplicate span IDs).
func (k *Sink) finishSpill(res *Result) error {
	sp := k.spill
	if k.n > 0 {
		k.flushSpill()
	}
	if sp.err != nil {
		return sp.err
	}
	for _, p := range sp.parts {
		if err := p.endWrite(sp); err != nil {
			return err
		}
	}
	// Split until every partition fits (a single trace bigger than the
	// budget cannot be split: after a few levels it is loaded as it is).
	var parts []*spillPart
	todo := sp.parts
	for len(todo) > 0 {
		p := todo[0]
		todo = todo[1:]
		switch {
		case p.spans == 0:
			os.Remove(p.name)
		case p.spans <= sp.maxPart || p.level >= 3:
			parts = append(parts, p)
		default:
			sub, err := sp.split(p, (p.spans+sp.maxPart-1)/sp.maxPart+1)
			if err != nil {
				return err
			}
			todo = append(sub, todo...)
		}
	}
	sp.parts = parts
	res.spill = sp

	fileTraces := map[int32]int{}
	type dup struct {
		first int64
		trace TraceID
		span  SpanID
	}
	var firstDup *dup
	dups := 0
	var ids []SpanID
	var files []int32
	for i := range sp.parts {
		if err := sp.ctx.Err(); err != nil {
			return interrupted(err)
		}
		pl, err := sp.load(i)
		if err != nil {
			return err
		}
		res.numTraces += len(pl.traces)
		for t, tr := range pl.traces {
			files = files[:0]
			ids = ids[:0]
			for j, s := range tr.Spans {
				m := pl.meta[pl.start[t]+int32(j)]
				if !slices.Contains(files, m.file) {
					files = append(files, m.file)
				}
				ids = append(ids, s.SpanID)
			}
			for _, f := range files {
				fileTraces[f]++
			}
			if len(ids) < 2 {
				continue
			}
			slices.SortFunc(ids, func(a, b SpanID) int { return bytes.Compare(a[:], b[:]) })
			for j := 1; j < len(ids); j++ {
				if ids[j] != ids[j-1] {
					continue
				}
				// The example is the first duplicate (by ID) of the first
				// trace (by first appearance) that has one, as in memory.
				if dups++; firstDup == nil || pl.meta[pl.start[t]].seq < firstDup.first {
					firstDup = &dup{pl.meta[pl.start[t]].seq, tr.ID, ids[j]}
				}
			}
		}
	}
	for i := range res.Files {
		if n, ok := fileTraces[res.Files[i].no]; ok && res.Files[i].Spans > 0 {
			res.Files[i].Traces = n
		}
	}
	if firstDup != nil {
		k.Warn(WarnDuplicateSpanID, Pos{File: "trace " + firstDup.trace.String(), Offset: -1, Record: -1},
			"span "+firstDup.span.String()+" appears more than once (kept; analysis merges identical copies)")
		k.warnings[WarnDuplicateSpanID].Count += dups - 1
	}
	k.grouped = []Trace{} // the sink takes no more spans
	return nil
}

// partLoad is one partition read back: traces in order of first
// appearance, spans in input order; meta[start[t]+j] is span j of trace t's.
type partLoad struct {
	traces []Trace
	meta   []spillMeta
	start  []int32
}

func (sp *spiller) load(i int) (*partLoad, error) {
	p := sp.parts[i]
	f, dec, err := p.open()
	if err != nil {
		return nil, err
	}
	defer f.Close()
	spans := make([]Span, p.spans)
	meta := make([]spillMeta, p.spans)
	traceOf := make([]int32, p.spans)
	ix := map[TraceID]int32{}
	var order []TraceID
	var counts []int32
	for j := range spans {
		if err := dec.decode(&spans[j], &meta[j]); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, fmt.Errorf("reading back %s: %v", p.name, err)
		}
		t, ok := ix[spans[j].TraceID]
		if !ok {
			t = int32(len(order))
			ix[spans[j].TraceID] = t
			order = append(order, spans[j].TraceID)
			counts = append(counts, 0)
		}
		counts[t]++
		traceOf[j] = t
	}
	var s Span
	var m spillMeta
	if err := dec.decode(&s, &m); err != io.EOF {
		return nil, fmt.Errorf("reading back %s: more records than written", p.name)
	}
	start := make([]int32, len(order)+1)
	for t, c := range counts {
		start[t+1] = start[t] + c
	}
	next := slices.Clone(start[:len(order)])
	all := make([]*Span, len(spans))
	metaOut := make([]spillMeta, len(spans))
	for j := range spans {
		t := traceOf[j]
		all[next[t]] = &spans[j]
		metaOut[next[t]] = meta[j]
		next[t]++
	}
	pl := &partLoad{traces: make([]Trace, len(order)), meta: metaOut, start: start}
	for t, id := range order {
		pl.traces[t] = Trace{ID: id, Spans: all[start[t]:start[t+1]:start[t+1]]}
	}
	return pl, nil
}

// Spilled reports whether the spans were written to partition files
// (Options.MaxMemory exceeded): Traces is then nil and the traces are read
// back one partition at a time.
func (r *Result) Spilled() bool { return r.spill != nil }

// NumTraces is the number of traces read.
func (r *Result) NumTraces() int {
	if r.spill != nil {
		return r.numTraces
	}
	return len(r.Traces)
}

// Partitions is the number of partitions: 1 when not spilled (Traces).
func (r *Result) Partitions() int {
	if r.spill == nil {
		return 1
	}
	return len(r.spill.parts)
}

// LoadPartition reads partition i: every span of its traces, grouped by
// trace (traces in order of first appearance, spans in input order, as
// Sink.Traces groups them). Partitions hold disjoint sets of traces. Not
// spilled, partition 0 is Traces. It may be called from several goroutines.
func (r *Result) LoadPartition(i int) ([]Trace, error) {
	if r.spill == nil {
		if i != 0 {
			return nil, fmt.Errorf("partition %d of 1", i)
		}
		return r.Traces, nil
	}
	if i < 0 || i >= len(r.spill.parts) {
		return nil, fmt.Errorf("partition %d of %d", i, len(r.spill.parts))
	}
	pl, err := r.spill.load(i)
	if err != nil {
		return nil, err
	}
	return pl.traces, nil
}

// FindTraces returns the traces with the given IDs that the result holds,
// in the order of ids. Spilled, it reads every partition and copies those
// traces' spans out, so that no partition stays in memory.
func (r *Result) FindTraces(ids []TraceID) ([]Trace, error) {
	want := make(map[TraceID]int, len(ids))
	for i, id := range ids {
		want[id] = i
	}
	found := make([]Trace, len(ids))
	for p := range r.Partitions() {
		traces, err := r.LoadPartition(p)
		if err != nil {
			return nil, err
		}
		for _, tr := range traces {
			i, ok := want[tr.ID]
			if !ok {
				continue
			}
			if r.spill == nil {
				found[i] = tr
				continue
			}
			spans := make([]Span, len(tr.Spans))
			ptrs := make([]*Span, len(tr.Spans))
			for j, s := range tr.Spans {
				spans[j] = *s
				ptrs[j] = &spans[j]
			}
			found[i] = Trace{ID: tr.ID, Spans: ptrs}
		}
	}
	out := found[:0]
	for _, tr := range found {
		if tr.Spans != nil {
			out = append(out, tr)
		}
	}
	return out, nil
}

// Close removes the temporary files of a spilled result; it is a no-op
// otherwise, and may be called more than once.
func (r *Result) Close() error {
	if r.spill == nil {
		return nil
	}
	r.closeOnce.Do(func() { r.closeErr = r.spill.remove() })
	return r.closeErr
}

// SpillDir is the temporary directory of a spilled result ("" otherwise).
func (r *Result) SpillDir() string {
	if r.spill == nil {
		return ""
	}
	return r.spill.dir
}
