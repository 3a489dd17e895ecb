package budget

import (
	"strings"
	"time"

	"go.yaml.in/yaml/v4"
)

// Checks across lines, run after every line is parsed, over the valid
// lines only.

// checkNames rejects two targets with one display name: reports and CI
// history key on it, and it only repeats when two lines set the same
// percentile for the same thing — one of them is a mistake. Lines under
// skip (paths of lines already reported) are left out.
func (p *parser) checkNames(skip map[string]bool) {
	first := make(map[string]ref, len(p.refs))
	for _, r := range p.refs {
		if skip[r.path[:strings.LastIndexByte(r.path, '.')]] {
			continue
		}
		if f, dup := first[r.name]; dup {
			p.errorAt(p.at(r.path), r.path, "duplicate budget line %s: already set at line %d (%s)", quote(r.name), p.at(f.path).Line, f.path)
			continue
		}
		first[r.name] = r
	}
}

// checkLayerNames rejects two layers of one name under one endpoint, and
// returns the paths of the repeats.
func (p *parser) checkLayerNames(b *Budget) map[string]bool {
	type key struct {
		ep   Matcher
		name string
	}
	seen := map[key]int{}
	dups := map[string]bool{}
	for i, l := range b.Layers {
		k := key{l.Endpoint, l.LayerName}
		if j, dup := seen[k]; dup {
			path := join(p.layerPaths[i], "name")
			p.errorAt(p.at(path), path, "duplicate layer %s under %s (first at line %d)", quote(l.LayerName), endpointQuoted(l.Endpoint), b.Layers[j].Line)
			dups[p.layerPaths[i]] = true
			continue
		}
		seen[k] = i
	}
	return dups
}

// checkLayerSums checks that the allowances of an endpoint's layers at a
// percentile add up to no more than the target of an endpoints line with
// the identical matcher at that percentile.
func (p *parser) checkLayerSums(b *Budget) {
	byEndpoint := map[Matcher][]Layer{}
	for _, l := range b.Layers {
		byEndpoint[l.Endpoint] = append(byEndpoint[l.Endpoint], l)
	}
	for i, e := range b.Endpoints {
		for _, t := range e.Targets {
			var sum time.Duration
			var parts []string
			for _, l := range byEndpoint[e.Match] {
				for _, lt := range l.Targets {
					if lt.Percentile == t.Percentile {
						sum = addSat(sum, lt.Limit)
						parts = append(parts, l.LayerName+" "+lt.Limit.String())
					}
				}
			}
			if sum > t.Limit {
				path := join(p.epPaths[i], t.Key())
				p.errorAt(p.at(path), path, "layers under %s add up to %s at %s, over the endpoint's %s target: %s",
					endpointQuoted(e.Match), sum, t.Key(), t.Limit, strings.Join(parts, " + "))
			}
		}
	}
}

// at is the key node recorded for path; the fallback only guards against a
// bug here turning into a crash.
func (p *parser) at(path string) *yaml.Node {
	if n := p.keyPos[path]; n != nil {
		return n
	}
	return &yaml.Node{Line: 1, Column: 1}
}

func addSat(a, b time.Duration) time.Duration {
	if a > time.Duration(1<<63-1)-b {
		return time.Duration(1<<63 - 1)
	}
	return a + b
}

// endpointQuoted shows an endpoint matcher as frontend "GET /dispatch".
func endpointQuoted(m Matcher) string {
	s := orStar(m.Service)
	if m.Operation != "" {
		s += " " + quote(m.Operation)
	}
	return s
}
