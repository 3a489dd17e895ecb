package pipeline

import (
	"reflect"
	"testing"

	"hopbudget/tracefmt"
)

func TestKeyedRoundTrip(t *testing.T) {
	full := tracefmt.Span{
		TraceID: tracefmt.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16},
		SpanID:  tracefmt.SpanID{0xff, 0, 1, 2, 3, 4, 5, 6}, Parent: tracefmt.SpanID{9, 9, 9, 9, 9, 9, 9, 9},
		Start: 1767225600123456789, End: 1767225600223456789, Service: "checkout", Operation: "GET /cart",
		Attrs: &tracefmt.Attrs{PeerService: "a", ServerAddress: "b", DBSystem: "c", HTTPMethod: "d", HTTPRoute: "e",
			HTTPStatus: 504, RPCSystem: "f", RPCService: "g", RPCMethod: "h", Messaging: "i", DBStatement: "SELECT ?"},
		Refs: []tracefmt.Ref{{TraceID: tracefmt.TraceID{1}, SpanID: tracefmt.SpanID{2}, Type: tracefmt.FollowsFrom},
			{SpanID: tracefmt.SpanID{3}}},
		Kind: tracefmt.KindClient, Status: tracefmt.StatusError, ParentFollowsFrom: true,
	}
	cases := []struct {
		name string
		k    Keyed
	}{
		{"zero", Keyed{}},
		{"every field", Keyed{File: 7, Seq: 1 << 40, Span: full}},
		{"no attrs, no refs", Keyed{File: 0, Seq: 3, Span: tracefmt.Span{Service: "s", Start: -5, End: -10}}},
		{"empty attrs", Keyed{Span: tracefmt.Span{Attrs: &tracefmt.Attrs{}}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := encodeKeyed(c.k)
			got, err := decodeKeyed(b)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, c.k) {
				t.Errorf("round trip:\n got %+v\nwant %+v", got, c.k)
			}
			// Every strict prefix is an error, never a panic or a
			// silently shorter span.
			for n := range len(b) {
				if _, err := decodeKeyed(b[:n]); err == nil {
					t.Errorf("prefix of %d of %d bytes decoded without error", n, len(b))
				}
			}
			if _, err := decodeKeyed(append(b, 0)); err == nil {
				t.Error("a trailing byte decoded without error")
			}
		})
	}
}

func TestKeyedWrongVersion(t *testing.T) {
	b := encodeKeyed(Keyed{})
	b[0] = wireVersion + 1
	if _, err := decodeKeyed(b); err == nil {
		t.Fatal("another version decoded without error")
	}
}
