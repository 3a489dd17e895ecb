package tracefmt

import (
	"strings"
	"testing"
)

func TestSinkAccountsForEverySpan(t *testing.T) {
	k := NewSink()
	k.beginFile(&FileSummary{Name: "a.json", services: map[string]int{}})
	where := func() Pos { return Pos{File: "a.json", Line: 3, Offset: -1, Record: -1, Path: "spans[0]"} }
	tid := TraceID{1}
	k.Add(&Span{TraceID: tid, SpanID: SpanID{1}, Service: "a", Start: 10, End: 20}, where)
	k.Add(&Span{TraceID: tid, SpanID: SpanID{2}, Parent: SpanID{1}, Start: 30, End: 25}, where) // end < start, no service
	k.Add(&Span{TraceID: TraceID{}, SpanID: SpanID{3}}, where)                                  // zero trace ID
	k.Add(&Span{TraceID: tid, SpanID: SpanID{}}, where)                                         // zero span ID
	k.Reject(WarnInvalidSpanID, where(), `spanId: want 16 hex digits, got "12ab"`)
	k.Add(&Span{TraceID: TraceID{2}, SpanID: SpanID{1}, Service: "b"}, where)
	k.Add(&Span{TraceID: tid, SpanID: SpanID{1}, Service: "a", Start: 10, End: 20}, where) // duplicate
	k.endFile()

	if k.Read != 7 || k.Kept() != 4 || k.RejectedTotal() != 3 {
		t.Fatalf("read %d kept %d rejected %d, want 7 = 4 + 3", k.Read, k.Kept(), k.RejectedTotal())
	}
	traces := k.Traces()
	if len(traces) != 2 || len(traces[0].Spans) != 3 || len(traces[1].Spans) != 1 {
		t.Fatalf("grouping: got %d traces", len(traces))
	}
	if traces[0].ID != tid {
		t.Errorf("traces not in first-appearance order")
	}
	s := traces[0].Spans[1]
	if s.End != s.Start || s.Service != UnknownService || s.Attrs == nil {
		t.Errorf("mended span = %+v", s)
	}
	kinds := map[WarningKind]Warning{}
	for _, w := range k.Warnings() {
		kinds[w.Kind] = w
	}
	for kind, n := range map[WarningKind]int{WarnEndBeforeStart: 1, WarnMissingService: 1, WarnInvalidTraceID: 1,
		WarnInvalidSpanID: 2, WarnDuplicateSpanID: 1} {
		if kinds[kind].Count != n {
			t.Errorf("warning %s count = %d, want %d", kind, kinds[kind].Count, n)
		}
	}
	if ex := kinds[WarnInvalidSpanID].Example; !strings.HasPrefix(ex, "a.json: line 3: spans[0]: span ID is all zeros (span rejected)") {
		t.Errorf("example = %q", ex)
	}
}

func TestSinkGroupsAcrossFilesAndChunks(t *testing.T) {
	k := NewSink()
	n := 3*chunkSpans + 17
	for f := 0; f < 2; f++ {
		k.beginFile(&FileSummary{Name: "f", services: map[string]int{}})
		for i := 0; i < n; i++ {
			sp := Span{TraceID: TraceID{byte(i % 5), 1}, SpanID: SpanID{byte(f) + 1, byte(i >> 8), byte(i)}, Service: "s"}
			k.Add(&sp, nil)
		}
		k.endFile()
	}
	total := 0
	for i, tr := range k.Traces() {
		if tr.ID != (TraceID{byte(i), 1}) {
			t.Fatalf("trace %d has ID %v", i, tr.ID)
		}
		for _, s := range tr.Spans {
			if s.TraceID != tr.ID {
				t.Fatalf("span of %v grouped under %v", s.TraceID, tr.ID)
			}
		}
		total += len(tr.Spans)
	}
	if total != 2*n {
		t.Fatalf("grouped %d spans, want %d", total, 2*n)
	}
}

func TestPosString(t *testing.T) {
	tests := []struct {
		p    Pos
		want string
	}{
		{Pos{File: "spans.json", Line: 3, Offset: 18211, Record: -1, Path: "resourceSpans[0].scopeSpans[1].spans[4]"},
			"spans.json: line 3, offset 18211: resourceSpans[0].scopeSpans[1].spans[4]"},
		{Pos{File: "x.pb", Offset: 12, Record: 4}, "x.pb: record 4, offset 12"},
		{Pos{File: "x", Offset: -1, Record: -1}, "x"},
	}
	for _, tc := range tests {
		if got := tc.p.String(); got != tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
	}
}

// After Traces the grouping is final: Add and Reject change nothing (they
// panicked on the released index before).
func TestSinkAfterTraces(t *testing.T) {
	k := NewSink()
	where := func() Pos { return Pos{File: "x", Offset: -1, Record: -1} }
	k.Add(&Span{TraceID: TraceID{1}, SpanID: SpanID{1}, Service: "a"}, where)
	first := k.Traces()
	k.Add(&Span{TraceID: TraceID{2}, SpanID: SpanID{2}, Service: "a"}, where)
	k.Reject(WarnInvalidTime, where(), "late")
	if got := k.Traces(); len(got) != 1 || len(first) != 1 || k.Read != 1 || k.Kept() != 1 || k.RejectedTotal() != 0 {
		t.Fatalf("after Traces: %d traces, read %d, kept %d, rejected %d; want 1, 1, 1, 0", len(got), k.Read, k.Kept(), k.RejectedTotal())
	}
}
