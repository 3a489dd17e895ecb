package analyze

// Keys name a Report row by its identity, for consumers (budget results,
// renderers) that must find the row again: compare keys, never display
// text rebuilt from the names. Keys are comparable (map keys); a row's
// identity may gain fields, and a key gains them with it.

// EndpointKey identifies an endpoint (its root span's service and
// operation), or a fan-in parent.
type EndpointKey struct {
	Service   string `json:"service"`
	Operation string `json:"operation"`
}

// HopKey identifies a hop: the calling service, the callee, the callee's
// operation and the calls' normalised statement (see Hop.Statement).
type HopKey struct {
	From      string `json:"from"`
	To        string `json:"to"`
	Operation string `json:"operation"`
	Statement string `json:"statement,omitempty"`
}

// Key is the endpoint's identity.
func (e *Endpoint) Key() EndpointKey { return EndpointKey{e.Service, e.Operation} }

// Key is the hop's identity.
func (h *Hop) Key() HopKey { return HopKey{h.From, h.To, h.Operation, h.Statement} }

// Key is the fan-in parent's identity.
func (f *FanIn) Key() EndpointKey { return EndpointKey{f.Service, f.Operation} }
