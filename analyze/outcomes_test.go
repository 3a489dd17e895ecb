package analyze

import (
	"slices"
	"testing"

	"hopbudget/tracefmt"
)

func TestSLOError(t *testing.T) {
	cases := []struct {
		name   string
		status tracefmt.StatusCode
		http   int32
		want   bool
	}{
		{"ok", tracefmt.StatusUnset, 0, false},
		{"ok 200", tracefmt.StatusOK, 200, false},
		{"error status, no HTTP (transport, gRPC, db)", tracefmt.StatusError, 0, true},
		{"500 without error status", tracefmt.StatusUnset, 500, true},
		{"503 with error status", tracefmt.StatusError, 503, true},
		{"404 marked error on a client span", tracefmt.StatusError, 404, false},
		{"429 not marked", tracefmt.StatusUnset, 429, false},
		{"499 error", tracefmt.StatusError, 499, false},
		{"302", tracefmt.StatusUnset, 302, false},
	}
	for _, c := range cases {
		s := &tracefmt.Span{Status: c.status, Attrs: &tracefmt.Attrs{HTTPStatus: c.http}}
		if got := SLOError(s); got != c.want {
			t.Errorf("%s: SLOError = %v, want %v", c.name, got, c.want)
		}
	}
	if SLOError(&tracefmt.Span{Status: tracefmt.StatusError}) != true {
		t.Error("nil Attrs with error status: want an error")
	}
}

func TestOutcomes(t *testing.T) {
	// Three requests of one endpoint, each calling db once; the second
	// request fails (500) and its db call fails (error status); a third
	// request's db call gets a 404 (not an error by SLOError).
	var traces []tracefmt.Trace
	for i, c := range []struct {
		rootHTTP int32
		dbErr    bool
		dbHTTP   int32
	}{{200, false, 0}, {500, true, 0}, {200, true, 404}} {
		base := int64(i) * 1000
		root := sp{id: 1, start: base, end: base + 100, svc: "api", op: "GET /", kind: tracefmt.KindServer,
			attrs: tracefmt.Attrs{HTTPStatus: c.rootHTTP}}
		db := sp{id: 2, parent: 1, start: base + 10, end: base + 50, svc: "api", op: "SELECT", kind: tracefmt.KindClient,
			err: c.dbErr, attrs: tracefmt.Attrs{DBSystem: "postgresql", HTTPStatus: c.dbHTTP}}
		traces = append(traces, mkTrace(uint64(i+1), root, db))
	}
	r := mustAnalyze(traces, DefaultOptions())
	if len(r.Endpoints) != 1 || len(r.Hops) != 1 {
		t.Fatalf("got %d endpoints, %d hops; want 1, 1", len(r.Endpoints), len(r.Hops))
	}
	ep, hop := r.Endpoints[0].Outcomes.Errors, r.Hops[0].Outcomes.Errors
	// The failures with their ends and trace rows.
	if !slices.Equal(ep.Ns, []int64{1100e3}) || !slices.Equal(ep.Row, []int32{1}) {
		t.Errorf("endpoint failures %v rows %v, want [1100000] [1]", ep.Ns, ep.Row)
	}
	if !slices.Equal(hop.Ns, []int64{1050e3}) || !slices.Equal(hop.Row, []int32{1}) {
		t.Errorf("hop failures %v rows %v, want [1050000] [1]", hop.Ns, hop.Row)
	}
	// (1000µs, 2100µs]: the second and third requests, dated by their ends.
	if n, errs := r.EndpointOutcomesIn(0, 1000e3, 2100e3); n != 2 || errs != 1 {
		t.Errorf("endpoint in (1000µs, 2100µs] = %d, %d; want 2, 1", n, errs)
	}
	if n, errs := r.EndpointOutcomesIn(0, 1100e3, 2100e3); n != 1 || errs != 0 {
		t.Errorf("endpoint in (1100µs, 2100µs] = %d, %d; want 1, 0", n, errs)
	}
	// Calls are dated by their trace's end: the db call of the second
	// trace ended at 1050µs, its trace at 1100µs.
	if n, errs := r.HopOutcomesIn(0, 1060e3, 2100e3); n != 2 || errs != 1 {
		t.Errorf("hop in (1060µs, 2100µs] = %d, %d; want 2, 1", n, errs)
	}
	if n, errs := r.HopOutcomesIn(0, 1100e3, 2100e3); n != 1 || errs != 0 {
		t.Errorf("hop in (1100µs, 2100µs] = %d, %d; want 1, 0", n, errs)
	}
	first, last := r.TimeRange()
	if first != 0 || last != 2100e3 {
		t.Errorf("TimeRange = %d, %d; want 0, 2100000", first, last)
	}
}
