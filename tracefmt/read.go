package tracefmt

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"hopbudget/grammar"
)

// Options control Read.
type Options struct {
	// Format forces a decoder; "" detects it per input.
	Format Format
	// Stdin is read for the path "-".
	Stdin io.Reader
	// Progress, when set, receives running totals of compressed bytes and
	// spans read. It is updated from the reading goroutine, often.
	Progress *Progress
	// FIFOWait bounds the wait for a writer to open a named pipe given as
	// an input (0 = DefaultFIFOWait).
	FIFOWait time.Duration
	// MaxDecompressed caps the decompressed size of each compressed input
	// (0 = DefaultMaxDecompressed; negative = no cap), so that a small
	// compression bomb fails with a clear error instead of filling memory
	// or running for hours.
	MaxDecompressed int64
	// MaxMemory, when positive, bounds the memory spans may take: over
	// half of it, spans are spilled to partition files (spill.go) and the
	// Result is read back a partition at a time. 0 = hold everything.
	MaxMemory int64
	// TmpDir is where the partition files go ("" = os.TempDir()), in a
	// private directory removed by Result.Close and on any error.
	TmpDir string
}

// DefaultMaxDecompressed is the default cap on one input's decompressed
// size: 64 GiB.
const DefaultMaxDecompressed = 64 << 30

// capReader fails a decompressed stream that grows past max bytes.
type capReader struct {
	r      io.Reader
	n, max int64
	kind   string
}

func (c *capReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.n > c.max {
		return n - int(c.n-c.max), fmt.Errorf("%s: decompressed size exceeds the limit of %s (--max-decompressed)", c.kind, grammar.FormatBytes(c.max))
	}
	return n, err
}

// DefaultFIFOWait is how long Read waits for a named pipe's writer.
const DefaultFIFOWait = 10 * time.Second

// openInput opens a file; a named pipe without a writer is waited for at
// most wait, then it is an error instead of a hang.
func openInput(name string, wait time.Duration) (*os.File, error) {
	st, err := os.Stat(name)
	if err != nil || st.Mode()&fs.ModeNamedPipe == 0 {
		return os.Open(name)
	}
	if wait <= 0 {
		wait = DefaultFIFOWait
	}
	type opened struct {
		f   *os.File
		err error
	}
	done := make(chan opened, 1)
	go func() {
		f, err := os.Open(name)
		done <- opened{f, err}
	}()
	select {
	case o := <-done:
		return o.f, o.err
	case <-time.After(wait):
	}
	// Release the blocked open by playing the writer, then give up.
	if w, err := os.OpenFile(name, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
		w.Close()
	}
	select {
	case o := <-done:
		if o.f != nil {
			o.f.Close()
		}
	case <-time.After(time.Second):
	}
	return nil, fmt.Errorf("%s: a named pipe (FIFO) with no writer after %v: start the program that writes it first", name, wait)
}

// Progress holds running totals that another goroutine may poll.
type Progress struct {
	Bytes atomic.Int64
	Spans atomic.Int64
}

// FileSummary is what was read from one input.
type FileSummary struct {
	Name          string         `json:"name"`
	Format        Format         `json:"format"`
	Compression   string         `json:"compression"`
	Bytes         int64          `json:"bytes"`
	Traces        int            `json:"traces"`
	Spans         int            `json:"spans"`
	RejectedSpans int            `json:"rejectedSpans"`
	StartUs       int64          `json:"startUs,omitempty"`
	EndUs         int64          `json:"endUs,omitempty"`
	Services      []ServiceCount `json:"services"`
	Warnings      []Warning      `json:"warnings"`

	services map[string]int
	start    int64
	end      int64
	no       int32 // the Sink's file number
}

// ServiceCount is a service and how many spans it has.
type ServiceCount struct {
	Name  string `json:"name"`
	Spans int    `json:"spans"`
}

// Result is everything read from the inputs.
type Result struct {
	Files []FileSummary
	// Traces is nil when the result is spilled (see Spilled).
	Traces []Trace
	Sink   *Sink

	spill     *spiller
	numTraces int
	closeOnce sync.Once
	closeErr  error
}

// Read expands paths (files, directories walked recursively, globs, "-" for
// stdin), detects each input's compression and format by content, decodes
// everything into one sink and groups spans by trace ID across all inputs.
//
// It stops at the first undecodable input with a *DecodeError. Files found
// by walking a directory that are not trace exports at all are skipped with
// a warning; a file named explicitly must decode.
//
// ctx is checked before each input and at every chunk a decoder reads (at
// most 256 KiB of decompressed input): once it is done, Read returns an
// error that wraps ctx.Err().
func Read(ctx context.Context, paths []string, opts Options) (_ *Result, err error) {
	inputs, err := expand(paths)
	if err != nil {
		return nil, err
	}
	k := NewSink()
	k.setSpill(ctx, opts)
	defer k.abortSpill(&err)
	k.startStore()
	defer k.stopStore() // before abortSpill: the stage may be spilling
	res := &Result{Sink: k}
	for _, in := range inputs {
		if err := ctx.Err(); err != nil {
			return nil, interrupted(err)
		}
		fsum, err := readOne(ctx, in, opts, k)
		if err != nil {
			var skip *notTraceError
			if in.walked && errors.As(err, &skip) {
				k.Warn(WarnSkippedFile, Pos{File: in.name, Offset: -1, Record: -1}, skip.Error()+" (file skipped)")
				continue
			}
			return nil, err
		}
		if err := k.spillErr(); err != nil {
			return nil, err
		}
		res.Files = append(res.Files, *fsum)
	}
	k.stopStore()
	if err := noSpans(k, inputs); err != nil {
		return nil, err
	}
	if k.Spilled() {
		if err := k.finishSpill(res); err != nil {
			return nil, err
		}
		return res, nil
	}
	res.Traces = k.Traces()
	return res, nil
}

// noSpans fails a read that kept no span at all: nothing downstream can
// mean anything then (a budget check must not pass on no evidence).
func noSpans(k *Sink, inputs []input) error {
	if k.Kept() > 0 {
		return nil
	}
	if k.Read > 0 {
		w := k.Warnings()
		return fmt.Errorf("no spans kept: all %d spans read were rejected (first: %s)", k.Read, w[0].Example)
	}
	for _, w := range k.Warnings() {
		switch w.Kind {
		case WarnSkippedFile:
			return fmt.Errorf("no spans in the inputs: %d files skipped as not trace exports (first: %s)", w.Count, w.Example)
		case WarnNoSpansInFile:
			return fmt.Errorf("no spans in the inputs: %s", w.Example)
		}
	}
	if len(inputs) == 0 {
		return fmt.Errorf("no input files")
	}
	return fmt.Errorf("no spans in the inputs")
}

type input struct {
	name   string
	walked bool // found by walking a directory
}

func expand(paths []string) ([]input, error) {
	var out []input
	for _, p := range paths {
		if p == "-" {
			out = append(out, input{name: "-"})
			continue
		}
		st, err := os.Stat(p)
		if err != nil {
			if strings.ContainsAny(p, "*?[") {
				matches, gerr := filepath.Glob(p)
				if gerr != nil {
					return nil, fmt.Errorf("bad glob %q: %v", p, gerr)
				}
				if len(matches) == 0 {
					return nil, fmt.Errorf("%s: no files match", p)
				}
				sub, err := expand(matches)
				if err != nil {
					return nil, err
				}
				out = append(out, sub...)
				continue
			}
			return nil, err
		}
		if !st.IsDir() {
			out = append(out, input{name: p})
			continue
		}
		var files []string
		if err := walkDir(p, []fs.FileInfo{st}, &files); err != nil {
			return nil, err
		}
		sort.Strings(files)
		for _, f := range files {
			out = append(out, input{name: f, walked: true})
		}
	}
	return out, nil
}

// walkDir lists the regular files under dir, skipping hidden entries and
// following symbolic links to files and directories; open lists the
// directories being walked, so that a link back to one of them is not
// followed again (a loop).
func walkDir(dir string, open []fs.FileInfo, files *[]string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			continue
		}
		path := filepath.Join(dir, e.Name())
		typ := e.Type()
		if typ&fs.ModeSymlink != 0 {
			st, err := os.Stat(path)
			if err != nil {
				return fmt.Errorf("%s: broken symbolic link: %v", path, err)
			}
			typ = st.Mode().Type()
		}
		switch {
		case typ.IsRegular():
			*files = append(*files, path)
		case typ.IsDir():
			st, err := os.Stat(path)
			if err != nil {
				return err
			}
			loop := false
			for _, o := range open {
				loop = loop || os.SameFile(o, st)
			}
			if loop {
				continue // a link back up the tree: its files are listed already
			}
			if err := walkDir(path, append(open, st), files); err != nil {
				return err
			}
		}
	}
	return nil
}

// capped applies the MaxDecompressed option to a decompressor.
func capped(r io.Reader, max int64, kind string) io.Reader {
	if max < 0 {
		return r
	}
	if max == 0 {
		max = DefaultMaxDecompressed
	}
	return &capReader{r: r, max: max, kind: kind}
}

type notTraceError struct{ msg string }

func (e *notTraceError) Error() string { return e.msg }

// interrupted wraps a context's error so that it names what stopped.
func interrupted(err error) error { return fmt.Errorf("reading stopped: %w", err) }

// countingReader reads the raw (compressed) input a chunk at a time (the
// buffer above it is 256 KiB): it counts the bytes and ends the input once
// ctx is done, which stops the decoder (and a decompressor) reading it. It
// may run on a decompressor's own goroutine (zstd reads ahead), so it
// touches only the atomic count and ctx, never the sink (the sink
// publishes its span count itself).
type countingReader struct {
	ctx context.Context
	r   io.Reader
	p   *Progress
}

func (c *countingReader) Read(b []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := c.r.Read(b)
	c.p.Bytes.Add(int64(n))
	return n, err
}

func readOne(ctx context.Context, in input, opts Options, k *Sink) (*FileSummary, error) {
	var raw io.Reader
	if in.name == "-" {
		if opts.Stdin == nil {
			return nil, fmt.Errorf("-: no standard input")
		}
		raw = opts.Stdin
	} else {
		f, err := openInput(in.name, opts.FIFOWait)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		raw = f
	}
	cr := &countingReader{ctx: ctx, r: raw, p: opts.Progress}
	if cr.p == nil {
		cr.p = new(Progress)
	}
	br := bufio.NewReaderSize(cr, 256<<10)
	fsum := &FileSummary{Name: in.name, Compression: "none", services: map[string]int{}}
	bytes0 := cr.p.Bytes.Load()

	var r io.Reader = br
	zr, compression, closeZ, err := Decompress(br)
	if err != nil {
		return nil, &DecodeError{Pos: Pos{File: in.name, Offset: 0, Record: -1}, Msg: compression + ": " + err.Error()}
	}
	defer closeZ()
	if compression != "none" {
		fsum.Compression = compression
		r = bufio.NewReaderSize(capped(zr, opts.MaxDecompressed, compression), 256<<10)
	}
	dr := r.(*bufio.Reader)
	format := opts.Format
	head, err := dr.Peek(sniffWindow)
	if cerr := ctx.Err(); cerr != nil {
		return nil, interrupted(cerr)
	}
	// A compressed stream cut short is left to the decoder, which keeps
	// what came before the cut where the format allows (JSON Lines).
	cut := err == io.ErrUnexpectedEOF && len(head) > 0
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull && !cut {
		// The offset is where the decompressed stream broke off.
		return nil, &DecodeError{Pos: Pos{File: in.name, Offset: int64(len(head)), Record: -1},
			Msg: fsum.Compression + ": " + err.Error() + " (offset in the decompressed stream)"}
	}
	// One rule for inputs without content: 0 bytes and white space alike
	// hold no spans, whatever the format.
	if len(bytes.TrimLeft(bytes.TrimPrefix(head, []byte("\xef\xbb\xbf")), " \t\r\n")) == 0 {
		k.Warn(WarnNoSpansInFile, Pos{File: in.name, Offset: -1, Record: -1}, errEmpty.Error())
		fsum.Format = format
		fsum.Bytes = cr.p.Bytes.Load() - bytes0
		fsum.Warnings = append(fsum.Warnings, Warning{Kind: WarnNoSpansInFile, Count: 1, Example: in.name + ": " + errEmpty.Error()})
		fsum.finish()
		return fsum, nil
	}
	if format == "" {
		if format, err = Sniff(head); err != nil {
			return nil, &notTraceError{msg: in.name + ": " + err.Error()}
		}
	}
	fsum.Format = format

	k.progress = cr.p
	read0 := k.Read
	switch k.expandCap = opts.MaxDecompressed; {
	case k.expandCap < 0:
		k.expandCap = math.MaxInt64
	case k.expandCap == 0:
		k.expandCap = DefaultMaxDecompressed
	}
	k.expandLeft = k.expandCap
	k.beginFile(fsum)
	err = decoders[format](dr, in.name, k)
	k.endFile()
	fsum.Bytes = cr.p.Bytes.Load() - bytes0
	cr.p.Spans.Store(int64(k.Read))
	if cerr := ctx.Err(); cerr != nil {
		// The decoder saw the cut-off stream; what it made of it is moot.
		return nil, interrupted(cerr)
	}
	if err != nil {
		return nil, wrapDecodeError(err, in.name, fsum.Compression)
	}
	if k.Read == read0 {
		if opts.Format != "" {
			// A forced format that finds nothing is most likely the wrong one.
			return nil, &DecodeError{Pos: Pos{File: in.name, Offset: -1, Record: -1},
				Msg: fmt.Sprintf("read as %s (forced by --format) but no spans found: is it another format?", format)}
		}
		// A recognised export without spans (an empty search result, an
		// empty part of a split export) is a warning; Read fails when no
		// input holds any span.
		k.beginFile(fsum)
		k.Warn(WarnNoSpansInFile, Pos{File: in.name, Offset: -1, Record: -1}, fmt.Sprintf("read as %s but it holds no spans", format))
		k.endFile()
	}
	fsum.finish()
	return fsum, nil
}

// wrapDecodeError makes sure every error names the file; errors from the
// decompressor (a truncated .gz) say so.
func wrapDecodeError(err error, file, compression string) error {
	var de *DecodeError
	if errors.As(err, &de) {
		return err
	}
	if compression != "none" {
		return &DecodeError{Pos: Pos{File: file, Offset: -1, Record: -1}, Msg: compression + ": " + err.Error()}
	}
	return &DecodeError{Pos: Pos{File: file, Offset: -1, Record: -1}, Msg: err.Error()}
}

func (f *FileSummary) finish() {
	if f.Warnings == nil {
		f.Warnings = []Warning{}
	}
	f.Services = []ServiceCount{}
	for name, n := range f.services {
		f.Services = append(f.Services, ServiceCount{Name: name, Spans: n})
	}
	SortServices(f.Services)
	if f.Spans > 0 {
		f.StartUs, f.EndUs = f.start/1000, f.end/1000
	}
}

// SortServices orders by span count descending, then name.
func SortServices(s []ServiceCount) {
	sort.Slice(s, func(i, j int) bool {
		if s[i].Spans != s[j].Spans {
			return s[i].Spans > s[j].Spans
		}
		return s[i].Name < s[j].Name
	})
}

// Decompress reads br through the decompressor its first bytes call for:
// gzip or zstd by their magic numbers, else br itself ("none"). close
// releases the decompressor; on an error, compression still names it.
func Decompress(br *bufio.Reader) (r io.Reader, compression string, close func(), err error) {
	magic, _ := br.Peek(4)
	switch {
	case len(magic) >= 2 && magic[0] == 0x1f && magic[1] == 0x8b:
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, "gzip", nil, err
		}
		return zr, "gzip", func() { zr.Close() }, nil
	case len(magic) == 4 && string(magic) == "\x28\xb5\x2f\xfd":
		zr, err := zstd.NewReader(br)
		if err != nil {
			return nil, "zstd", nil, err
		}
		return zr.IOReadCloser(), "zstd", zr.Close, nil
	}
	return br, "none", func() {}, nil
}
