package pipeline

import (
	"reflect"
	"testing"

	"hopbudget/tracefmt"
)

func TestFragmentRoundTrip(t *testing.T) {
	trace := tracefmt.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	full := tracefmt.Span{
		TraceID: trace, SpanID: tracefmt.SpanID{0xff, 0, 1, 2, 3, 4, 5, 6}, Parent: tracefmt.SpanID{9, 9, 9, 9, 9, 9, 9, 9},
		Start: 1767225600123456789, End: 1767225600223456789, Service: "checkout", Operation: "GET /cart",
		Attrs: &tracefmt.Attrs{PeerService: "a", ServerAddress: "b", DBSystem: "c", HTTPMethod: "d", HTTPRoute: "e",
			HTTPStatus: 504, RPCSystem: "f", RPCService: "g", RPCMethod: "h", Messaging: "i", DBStatement: "SELECT ?"},
		Refs: []tracefmt.Ref{{TraceID: tracefmt.TraceID{1}, SpanID: tracefmt.SpanID{2}, Type: tracefmt.FollowsFrom},
			{SpanID: tracefmt.SpanID{3}}},
		Kind: tracefmt.KindClient, Status: tracefmt.StatusError, ParentFollowsFrom: true,
	}
	bare := tracefmt.Span{TraceID: trace, Service: "s", Start: -5, End: -10}
	other := bare
	other.TraceID = tracefmt.TraceID{7}
	cases := []struct {
		name string
		f    Fragment
	}{
		{"no spans", Fragment{File: 3, Seq: 9}},
		{"one span, every field", Fragment{File: 7, Seq: 1 << 40, Spans: []tracefmt.Span{full}}},
		{"several", Fragment{Seq: 3, Spans: []tracefmt.Span{bare, full, {TraceID: trace, Attrs: &tracefmt.Attrs{}}}}},
		{"a span of another trace", Fragment{Spans: []tracefmt.Span{bare, other}}},
		{"zero span", Fragment{Spans: []tracefmt.Span{{}}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := encodeFragment(c.f)
			got, err := decodeFragment(b)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, c.f) {
				t.Errorf("round trip:\n got %+v\nwant %+v", got, c.f)
			}
			// Every strict prefix is an error, never a panic or a
			// silently shorter fragment.
			for n := range len(b) {
				if _, err := decodeFragment(b[:n]); err == nil {
					t.Errorf("prefix of %d of %d bytes decoded without error", n, len(b))
				}
			}
			if _, err := decodeFragment(append(b, 0)); err == nil {
				t.Error("a trailing byte decoded without error")
			}
		})
	}
}

func TestFragmentWrongVersion(t *testing.T) {
	b := encodeFragment(Fragment{})
	b[0] = wireVersion + 1
	if _, err := decodeFragment(b); err == nil {
		t.Fatal("another version decoded without error")
	}
}
