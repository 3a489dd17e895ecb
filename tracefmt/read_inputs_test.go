package tracefmt

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

const oneSpanOTLP = `{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"s"}}]},` +
	`"scopeSpans":[{"spans":[{"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"01020304050607%s","name":"op","startTimeUnixNano":"1","endTimeUnixNano":"2"}]}]}]}`

func oneSpan(n string) string { return strings.Replace(oneSpanOTLP, "%s", n, 1) }

// Symbolic links in a walked directory are followed, files and
// directories alike; a link back up the tree is not followed twice.
func TestReadWalkFollowsSymlinks(t *testing.T) {
	root := t.TempDir()
	elsewhere := t.TempDir()
	os.WriteFile(filepath.Join(elsewhere, "linked.json"), []byte(oneSpan("01")), 0o644)
	os.MkdirAll(filepath.Join(elsewhere, "sub"), 0o755)
	os.WriteFile(filepath.Join(elsewhere, "sub", "deep.json"), []byte(oneSpan("02")), 0o644)
	os.WriteFile(filepath.Join(root, "plain.json"), []byte(oneSpan("03")), 0o644)
	for _, l := range [][2]string{
		{filepath.Join(elsewhere, "linked.json"), filepath.Join(root, "file-link.json")},
		{filepath.Join(elsewhere, "sub"), filepath.Join(root, "dir-link")},
		{root, filepath.Join(root, "loop")}, // a loop back to the root
	} {
		if err := os.Symlink(l[0], l[1]); err != nil {
			t.Skip("symbolic links unavailable:", err)
		}
	}
	res, err := readAll([]string{root}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range res.Files {
		names = append(names, filepath.Base(f.Name))
	}
	if got := strings.Join(names, " "); got != "deep.json file-link.json plain.json" {
		t.Errorf("read %q, want deep.json file-link.json plain.json (links followed, the loop once)", got)
	}
	if res.Sink.Kept() != 3 {
		t.Errorf("%d spans, want 3", res.Sink.Kept())
	}
}

// An error inside a compressed stream is placed at the decompressed offset
// where the stream broke, not at 0. (The stream breaks inside a document:
// cut between whole lines, it is an interrupted recording, see below.)
func TestReadCompressedErrorOffset(t *testing.T) {
	one := oneSpan("01")
	doc := []byte(one[:len(one)-2] + strings.Repeat(" ", 300000) + one[len(one)-2:] + "\n" + oneSpan("02"))
	var gz bytes.Buffer
	w, _ := gzip.NewWriterLevel(&gz, gzip.NoCompression) // stored blocks: bytes map 1:1
	w.Write(doc)
	w.Close()
	zs, _ := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest))
	z := zs.EncodeAll(doc, nil)
	dir := t.TempDir()
	for name, data := range map[string][]byte{"cut.gz": gz.Bytes()[:2000], "cut.zst": z[:len(z)-10]} {
		p := filepath.Join(dir, name)
		os.WriteFile(p, data, 0o644)
		_, err := readAll([]string{p}, Options{})
		var de *DecodeError
		if !errors.As(err, &de) || de.Offset <= 0 {
			t.Errorf("%s: error %v, want a *DecodeError at the decompressed offset", name, err)
		}
	}
}

// A JSON Lines recording whose last line is cut (interrupted while
// writing) keeps every complete line, warns, and counts the spans read from
// the cut line as rejected; a single cut document is still an error.
func TestReadCutLastLine(t *testing.T) {
	two := `{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"s"}}]},"scopeSpans":[{"spans":[` +
		`{"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0102030405060731","startTimeUnixNano":"1","endTimeUnixNano":"2"},` +
		`{"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0102030405060732","startTimeUnixNano":"1","endTimeUnixNano":"2"}]}]}]}`
	// Spans before the resource are held until it arrives: cut there, they
	// were read and are rejected.
	late := `{"resourceSpans":[{"scopeSpans":[{"spans":[` +
		`{"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0102030405060741","startTimeUnixNano":"1","endTimeUnixNano":"2"},` +
		`{"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0102030405060742","startTimeUnixNano":"1","endTimeUnixNano":"2"}]}],"resource":{"attributes":[]}}]}`
	lines := oneSpan("01") + "\n" + oneSpan("02") + "\n"
	dir := t.TempDir()
	for _, tc := range []struct {
		name     string
		data     string
		gz       bool
		zst      bool // zstd, flushed and not closed: cut at a block's end
		kept     int
		rejected int
		fail     bool
	}{
		{"cut inside a span", lines + two[:len(two)-40], false, false, 3, 1, false},
		{"cut inside a held span", lines + late[:200], false, false, 2, 2, false},
		{"cut gzip stream", lines + late[:200], true, false, 2, 2, false},
		{"zstd stream cut between lines", lines, false, true, 2, 0, false},
		{"zstd stream cut inside a line", lines + late[:200], false, true, 2, 2, false},
		{"cut right after a key", lines + `{"resourceSpans"`, false, false, 2, 0, false},
		{"one cut document", two[:len(two)-40], false, false, 0, 0, true},
		{"a bad last line is not a cut", lines + `{"resourceSpans":]}`, false, false, 0, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := []byte(tc.data)
			if tc.gz {
				var b bytes.Buffer
				w, _ := gzip.NewWriterLevel(&b, gzip.NoCompression)
				w.Write(data)
				w.Close()
				data = b.Bytes()[:b.Len()-12] // cut inside the stream
			}
			if tc.zst {
				// As record writes: a flush after every line; killed
				// before the frame was closed.
				var b bytes.Buffer
				w, _ := zstd.NewWriter(&b)
				for _, line := range strings.SplitAfter(tc.data, "\n") {
					w.Write([]byte(line))
					w.Flush()
				}
				data = b.Bytes()
			}
			p := filepath.Join(dir, "rec.jsonl")
			os.WriteFile(p, data, 0o644)
			res, err := readAll([]string{p}, Options{})
			if tc.fail {
				if err == nil {
					t.Fatal("no error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			k := res.Sink
			if k.Kept() != tc.kept || k.RejectedTotal() != tc.rejected || k.Read != k.Kept()+k.RejectedTotal() {
				t.Errorf("kept %d, rejected %d of %d; want %d, %d", k.Kept(), k.RejectedTotal(), k.Read, tc.kept, tc.rejected)
			}
			if n, ex := pbtWarn(k, WarnCutLastLine); n == 0 || !strings.Contains(ex, "line 3") {
				t.Errorf("cut-last-line warning %d %q", n, ex)
			}
		})
	}
}

// Skipped values are never held, however long; kept strings are cut to
// JSONMaxString with a warning; a compressed input expanding past
// MaxDecompressed fails with a clear error. Inputs are generated small.
func TestReadLongTokensAndBombs(t *testing.T) {
	huge := strings.Repeat("a", 8<<20)
	t.Run("skipped string is not held", func(t *testing.T) {
		s := newJSONScanner(strings.NewReader(`{"ignored":"`+huge+`","also":["`+huge+`"]}`), "in.json")
		s.beginObject()
		for {
			if _, ok := s.nextKey(); !ok {
				break
			}
			s.skipValue()
		}
		if s.err != nil || cap(s.buf) > 2*jsonBufSize {
			t.Errorf("err %v, buffer grew to %d bytes", s.err, cap(s.buf))
		}
	})
	t.Run("kept string is cut", func(t *testing.T) {
		doc := strings.Replace(oneSpan("01"), `"name":"op"`, `"name":"`+huge+`"`, 1)
		k := NewSink()
		if err := decodeOTLPJSON(strings.NewReader(doc), "in.json", k); err != nil {
			t.Fatal(err)
		}
		tr := k.Traces()
		if len(tr) != 1 || len(tr[0].Spans[0].Operation) != JSONMaxString {
			t.Fatalf("name not cut to %d bytes", JSONMaxString)
		}
		if n, ex := pbtWarn(k, WarnLongString); n != 1 || !strings.Contains(ex, "1 string(s) longer than 1048576 bytes") {
			t.Errorf("warning %d %q", n, ex)
		}
	})
	t.Run("escaped kept string is cut", func(t *testing.T) {
		doc := strings.Replace(oneSpan("01"), `"name":"op"`, `"name":"\n`+huge+`"`, 1)
		k := NewSink()
		if err := decodeOTLPJSON(strings.NewReader(doc), "in.json", k); err != nil {
			t.Fatal(err)
		}
		if op := k.Traces()[0].Spans[0].Operation; len(op) != JSONMaxString || op[0] != '\n' {
			t.Fatalf("name of %d bytes, want %d", len(op), JSONMaxString)
		}
	})
	t.Run("decompression cap", func(t *testing.T) {
		var b bytes.Buffer
		w := gzip.NewWriter(&b)
		w.Write([]byte(oneSpan("01") + "\n" + strings.Replace(oneSpan("02"), `"name":"op"`, `"x":"`+huge+`"`, 1)))
		w.Close()
		p := filepath.Join(t.TempDir(), "bomb.json.gz")
		os.WriteFile(p, b.Bytes(), 0o644)
		_, err := readAll([]string{p}, Options{MaxDecompressed: 1 << 20})
		if err == nil || !strings.Contains(err.Error(), "decompressed size exceeds the limit of 1 MiB") || !strings.Contains(err.Error(), "bomb.json.gz") {
			t.Errorf("error %v", err)
		}
		if _, err := readAll([]string{p}, Options{}); err != nil {
			t.Errorf("under the default cap: %v", err)
		}
	})
}
