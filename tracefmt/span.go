// Package tracefmt reads trace exports (OTLP JSON / JSON Lines / protobuf,
// Tempo and Grafana JSON, Jaeger UI JSON, Jaeger model protobuf and
// protojson, Zipkin v1 and v2 JSON; plain, gzip or zstd)
// into one neutral, compact span model. It knows nothing of analysis.
//
// The model is a leaf: it imports nothing from the rest of hopbudget.
package tracefmt

import (
	"bytes"
	"encoding/hex"
	"fmt"
)

// TraceID is a 128-bit trace ID. 64-bit Jaeger IDs are stored right-aligned
// (high 8 bytes zero), as Jaeger itself does.
type TraceID [16]byte

// SpanID is a 64-bit span ID.
type SpanID [8]byte

// IsZero reports whether the ID is all zeros (invalid in OTLP and Jaeger).
func (t TraceID) IsZero() bool { return t == TraceID{} }

// IsZero reports whether the ID is all zeros (invalid, or "no parent").
func (s SpanID) IsZero() bool { return s == SpanID{} }

// String is the lowercase hex form, 32 digits.
func (t TraceID) String() string { return hex.EncodeToString(t[:]) }

// String is the lowercase hex form, 16 digits.
func (s SpanID) String() string { return hex.EncodeToString(s[:]) }

// Less orders trace IDs bytewise.
func (t TraceID) Less(u TraceID) bool { return bytes.Compare(t[:], u[:]) < 0 }

// Kind is the span kind, numbered as in OTLP.
type Kind uint8

const (
	KindUnspecified Kind = iota
	KindInternal
	KindServer
	KindClient
	KindProducer
	KindConsumer
)

var kindNames = [...]string{"unspecified", "internal", "server", "client", "producer", "consumer"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// StatusCode is the span status, numbered as in OTLP.
type StatusCode uint8

const (
	StatusUnset StatusCode = iota
	StatusOK
	StatusError
)

func (s StatusCode) String() string {
	switch s {
	case StatusUnset:
		return "unset"
	case StatusOK:
		return "ok"
	case StatusError:
		return "error"
	}
	return fmt.Sprintf("status(%d)", uint8(s))
}

// RefType is the type of a span reference.
type RefType uint8

const (
	// ChildOf is a synchronous parent reference (Jaeger CHILD_OF).
	ChildOf RefType = iota
	// FollowsFrom is an asynchronous reference (Jaeger FOLLOWS_FROM, OTLP link).
	FollowsFrom
)

func (r RefType) String() string {
	if r == FollowsFrom {
		return "follows-from"
	}
	return "child-of"
}

// Ref is a reference from one span to another, possibly in another trace.
type Ref struct {
	TraceID TraceID
	SpanID  SpanID
	Type    RefType
}

// Attrs holds the few attributes analysis needs (keys in semconv.go, the new
// name first below). Values are interned and the
// whole set is interned too, so spans with the same attributes share one
// *Attrs: memory is per distinct combination, not per span. Both the old and
// new OpenTelemetry semantic-convention names fill the same field (the new
// name wins when both are present).
type Attrs struct {
	PeerService   string // service.peer.name, peer.service
	ServerAddress string // server.address, net.peer.name
	DBSystem      string // db.system.name, db.system
	HTTPMethod    string // http.request.method, http.method
	HTTPRoute     string // http.route
	HTTPStatus    int32  // http.response.status_code, http.status_code
	RPCSystem     string // rpc.system.name, rpc.system
	RPCService    string // rpc.service
	RPCMethod     string // rpc.method
	Messaging     string // messaging.system
	// DBStatement is db.query.text (db.statement) normalised by
	// NormalizeStatement: literals become ?, so calls that do the same
	// thing share one value (and one interned Attrs).
	DBStatement string
}

// Span is one span in the neutral model. Times are Unix nanoseconds.
//
// Parent is the OTLP parentSpanId, or for Jaeger the first CHILD_OF
// reference to the same trace (else the first FOLLOWS_FROM one). Refs holds
// every other edge as read: OTLP links (as FollowsFrom) and Jaeger
// references (all of them, in input order, including the parent's).
type Span struct {
	TraceID   TraceID
	SpanID    SpanID
	Parent    SpanID
	Start     int64
	End       int64
	Service   string // interned
	Operation string // interned
	Attrs     *Attrs // interned; never nil after reading
	Refs      []Ref
	Kind      Kind
	Status    StatusCode
	// ParentFollowsFrom is set when the parent edge is a FOLLOWS_FROM
	// reference (Jaeger), i.e. asynchronous by declaration.
	ParentFollowsFrom bool
}

// Duration is End - Start in nanoseconds.
func (s *Span) Duration() int64 { return s.End - s.Start }

// Trace is the spans of one trace ID, in input order.
type Trace struct {
	ID    TraceID
	Spans []*Span
}
