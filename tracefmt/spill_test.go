package tracefmt

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"hopbudget/internal/tracegentest"
)

func codecSpans() []Span {
	a := &Attrs{PeerService: "db", DBSystem: "postgresql", HTTPStatus: 503, DBStatement: "SELECT ? FROM t"}
	b := &Attrs{}
	return []Span{
		{TraceID: TraceID{1}, SpanID: SpanID{2}, Start: 1_700_000_000_000_000_000, End: 1_700_000_000_000_500_000,
			Service: "web", Operation: "GET /", Attrs: b, Kind: KindServer},
		{TraceID: TraceID{1}, SpanID: SpanID{3}, Parent: SpanID{2}, Start: 1_700_000_000_000_100_000, End: 1_700_000_000_000_100_000,
			Service: "web", Operation: "query", Attrs: a, Kind: KindClient, Status: StatusError, ParentFollowsFrom: true,
			Refs: []Ref{{TraceID{1}, SpanID{2}, FollowsFrom}, {TraceID{9, 9}, SpanID{7}, ChildOf}}},
		// Times before the previous span's, negative times, an empty and a long string.
		{TraceID: TraceID{15: 4}, SpanID: SpanID{7: 5}, Start: -5, End: 10, Service: "", Operation: strings.Repeat("x", 300), Attrs: a},
		{TraceID: TraceID{1}, SpanID: SpanID{2}, Start: 3, End: 3, Service: "web", Operation: "GET /", Attrs: b},
	}
}

func encodeSpans(t testing.TB, spans []Span, metas []spillMeta) []byte {
	var buf bytes.Buffer
	w := bufio.NewWriter(&buf)
	e := newSpillEncoder(w)
	for i := range spans {
		if err := e.encode(&spans[i], metas[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func decodeAll(b []byte) ([]Span, []spillMeta, error) {
	d := newSpillDecoder(bufio.NewReader(bytes.NewReader(b)))
	var spans []Span
	var metas []spillMeta
	for {
		var s Span
		var m spillMeta
		err := d.decode(&s, &m)
		if err == io.EOF {
			return spans, metas, nil
		}
		if err != nil {
			return spans, metas, err
		}
		spans = append(spans, s)
		metas = append(metas, m)
	}
}

func TestSpillCodecRoundTrip(t *testing.T) {
	for _, tableMax := range []bool{false, true} {
		spans := codecSpans()
		metas := []spillMeta{{1, 0}, {1, 5}, {2, 6}, {1 << 20, 1 << 40}}
		var b []byte
		if tableMax {
			// Past the table cap strings and attributes are written inline.
			var buf bytes.Buffer
			w := bufio.NewWriter(&buf)
			e := newSpillEncoder(w)
			for i := range spillTableMax {
				e.strs[string(rune(i))+"fill"] = uint64(i)
				e.attrs[&Attrs{HTTPStatus: int32(i)}] = uint64(i)
			}
			for i := range spans {
				if err := e.encode(&spans[i], metas[i]); err != nil {
					t.Fatal(err)
				}
			}
			w.Flush()
			b = buf.Bytes()
		} else {
			b = encodeSpans(t, spans, metas)
		}
		got, gotMeta, err := decodeAll(b)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, spans) || !reflect.DeepEqual(gotMeta, metas) {
			t.Fatalf("round trip (inline %v):\n got %+v %v\nwant %+v %v", tableMax, got, gotMeta, spans, metas)
		}
		if !tableMax && got[0].Attrs != got[3].Attrs {
			t.Error("equal attribute sets decode to one *Attrs")
		}
	}
	// Compact: far below the ~250 bytes a span takes in memory.
	b := encodeSpans(t, codecSpans()[:2], []spillMeta{{1, 0}, {1, 1}})
	if len(b) > 260 {
		t.Errorf("two spans take %d bytes", len(b))
	}
}

func TestSpillCodecTruncated(t *testing.T) {
	spans := codecSpans()
	metas := []spillMeta{{1, 0}, {1, 1}, {1, 2}, {1, 3}}
	b := encodeSpans(t, spans, metas)
	ends := map[int]bool{}
	for i := range spans {
		ends[len(encodeSpans(t, spans[:i+1], metas[:i+1]))] = true
	}
	// Only a cut between records decodes without an error.
	for n := 1; n < len(b); n++ {
		if _, _, err := decodeAll(b[:n]); (err == nil) != ends[n] {
			t.Errorf("cut at %d: err = %v, record end %v", n, err, ends[n])
		}
	}
}

func FuzzSpillCodec(f *testing.F) {
	f.Add(encodeSpans(f, codecSpans(), []spillMeta{{1, 0}, {1, 1}, {1, 2}, {1, 3}}))
	f.Add([]byte{})
	f.Add([]byte{5, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		spans, metas, err := decodeAll(b)
		if err != nil {
			return
		}
		// What decodes encodes to a stream that decodes the same.
		again, againMeta, err := decodeAll(encodeSpans(t, spans, metas))
		if err != nil {
			t.Fatal(err)
		}
		if len(spans) == 0 {
			return
		}
		if !reflect.DeepEqual(again, spans) || !reflect.DeepEqual(againMeta, metas) {
			t.Fatalf("re-encoded differs:\n got %+v\nwant %+v", again, spans)
		}
	})
}

// spillInput is tracegen data with what makes grouping hard: duplicates,
// traces spread over several files, orphans, a millisecond clock.
func spillInput(t *testing.T) []string {
	dir := tracegentest.Generate(t, "-scenario", "mixed", "-traces", "300", "-seed", "5", "-format", "otlp-jsonl",
		"-split", "3", "-dup", "0.02", "-orphans", "0.05", "-ms-clock", "frontend")
	files, err := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	if err != nil || len(files) < 2 {
		t.Fatalf("want several files, got %v %v", files, err)
	}
	return files
}

// allTraces reads every partition into a map by trace ID.
func allTraces(t *testing.T, r *Result) map[TraceID][]Span {
	out := map[TraceID][]Span{}
	for i := range r.Partitions() {
		ts, err := r.LoadPartition(i)
		if err != nil {
			t.Fatal(err)
		}
		for _, tr := range ts {
			if _, dup := out[tr.ID]; dup {
				t.Fatalf("trace %s in two partitions", tr.ID)
			}
			var spans []Span
			for _, s := range tr.Spans {
				c := *s
				if len(c.Refs) == 0 {
					c.Refs = nil
				}
				spans = append(spans, c)
			}
			out[tr.ID] = spans
		}
	}
	return out
}

func TestSpillSameAsInMemory(t *testing.T) {
	files := spillInput(t)
	mem, err := Read(context.Background(), files, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if mem.Spilled() {
		t.Fatal("spilled without MaxMemory")
	}
	tmp := t.TempDir()
	for _, budget := range []int64{8 << 10, 200 << 10, 1 << 30} {
		sp, err := Read(context.Background(), files, Options{MaxMemory: budget, TmpDir: tmp})
		if err != nil {
			t.Fatal(err)
		}
		if want := budget < 1<<30; sp.Spilled() != want {
			t.Fatalf("budget %d: spilled %v, want %v", budget, sp.Spilled(), want)
		}
		if budget == 8<<10 && sp.Partitions() < 50 {
			t.Errorf("budget %d: %d partitions, want many (split)", budget, sp.Partitions())
		}
		a, _ := json.Marshal(Summarize(mem))
		b, _ := json.Marshal(Summarize(sp))
		if !bytes.Equal(a, b) {
			t.Errorf("budget %d: summaries differ:\n mem %s\nspill %s", budget, a, b)
		}
		if !strings.Contains(string(a), `"duplicate-span-id"`) {
			t.Error("the input has no duplicates: the test does not test their warning")
		}
		if got, want := allTraces(t, sp), allTraces(t, mem); !reflect.DeepEqual(got, want) {
			t.Errorf("budget %d: traces differ", budget)
		}
		dir := sp.SpillDir()
		if err := sp.Close(); err != nil {
			t.Fatal(err)
		}
		if dir != "" {
			if _, err := os.Stat(dir); !os.IsNotExist(err) {
				t.Errorf("%s left behind after Close: %v", dir, err)
			}
		}
	}
	assertEmpty(t, tmp)
}

func assertEmpty(t *testing.T, dir string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		t.Errorf("left in %s: %s", dir, e.Name())
	}
}

func TestSpillCancelledRemovesFiles(t *testing.T) {
	files := spillInput(t)
	tmp := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	k := 0
	// Cancel once the spill directory exists, while reading goes on.
	opts := Options{MaxMemory: 8 << 10, TmpDir: tmp, Progress: new(Progress)}
	go func() {
		for {
			if ents, _ := os.ReadDir(tmp); len(ents) > 0 {
				cancel()
				return
			}
			k++
		}
	}()
	_, err := Read(ctx, append(files, files...), opts)
	cancel()
	if err == nil {
		t.Skip("reading ended before the cancellation") // the files are then a Result's, closed by the caller
	}
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want cancelled", err)
	}
	assertEmpty(t, tmp)
}

func TestSpillWriteErrors(t *testing.T) {
	files := spillInput(t)
	file := filepath.Join(t.TempDir(), "f")
	os.WriteFile(file, nil, 0o600)
	for name, dir := range map[string]string{"a file": file, "below a file": filepath.Join(file, "sub")} {
		_, err := Read(context.Background(), files, Options{MaxMemory: 8 << 10, TmpDir: dir})
		if err == nil || !strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), "--tmp-dir") {
			t.Errorf("%s: err = %v, want one naming %s and --tmp-dir", name, err, dir)
		}
	}
	// A disk that fills while writing: /dev/full fails every write.
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full")
	}
	tmp := t.TempDir()
	k := NewSink()
	k.setSpill(context.Background(), Options{MaxMemory: 8 << 10, TmpDir: tmp})
	full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Skip(err)
	}
	defer full.Close()
	k.spill.create()
	for _, p := range k.spill.parts {
		p.f.Close()
		p.f = full
		p.w.Reset(full)
	}
	for i := range 100_000 {
		s := codecSpans()[0]
		s.TraceID[0] = byte(i)
		s.SpanID[1] = byte(i >> 8)
		k.Add(&s, func() Pos { return Pos{} })
		if k.spillErr() != nil {
			break
		}
	}
	err = k.finishSpill(&Result{Sink: k})
	if err == nil || !strings.Contains(err.Error(), "no space left") || !strings.Contains(err.Error(), tmp) {
		t.Errorf("err = %v, want no space left naming %s", err, tmp)
	}
	for _, p := range k.spill.parts {
		p.f = nil
	}
	k.spill.remove()
	assertEmpty(t, tmp)
}
