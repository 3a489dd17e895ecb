package grammar

import "strings"

// Endpoint is an --endpoint selector: requests whose root span's service
// and operation match.
//
//	endpoint = [ service ] [ ":" [ operation ] ]   globs; an empty one is "*"
//
// The first ':' ends the service, so operations may contain colons: e.g.
// "frontend", "frontend:GET /*", ":POST /checkout".
type Endpoint struct{ Service, Operation string }

// Match reports whether a root span of service and operation is selected.
func (e Endpoint) Match(service, operation string) bool {
	return MatchGlob(e.Service, service) && MatchGlob(e.Operation, operation)
}

// String is the selector in the form ParseEndpoint reads back.
func (e Endpoint) String() string { return e.Service + ":" + e.Operation }

// ParseEndpoint reads an --endpoint selector (see Endpoint).
func ParseEndpoint(spec string) (Endpoint, error) {
	svc, op, _ := strings.Cut(spec, ":")
	e := Endpoint{Service: svc, Operation: op}
	for _, p := range []struct {
		glob *string
		off  int
	}{{&e.Service, 0}, {&e.Operation, len(svc) + 1}} {
		if *p.glob == "" {
			*p.glob = "*"
			continue
		}
		if err := CheckGlob(*p.glob); err != nil {
			return Endpoint{}, err.(*SyntaxError).within("endpoint", spec, p.off)
		}
	}
	return e, nil
}
