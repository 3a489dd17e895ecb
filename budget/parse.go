package budget

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf16"

	"go.yaml.in/yaml/v4"

	"hopbudget/grammar"
)

// Load reads and parses the budget file at path. A file that cannot be read
// gives the os error; a file that is not a valid budget gives a
// *ValidationError.
func Load(path string) (*Budget, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, data)
}

// Parse parses and validates a budget file; file names it in messages. On
// any problem it returns a nil Budget and a *ValidationError listing every
// problem found (up to MaxErrors), each with its position.
//
// The document is walked node by node, rather than decoded into structs,
// so that every problem — unknown keys and duplicate keys included — has a
// line and column and all of them are reported at once.
func Parse(file string, data []byte) (*Budget, error) {
	p := &parser{file: file, keyPos: map[string]*yaml.Node{}}
	var b *Budget
	if root := p.decode(data); root != nil {
		b = p.budget(root)
		// Only valid lines take part, so these add no echoes of problems
		// already reported.
		p.checkNames(p.checkLayerNames(b))
		p.checkLayerSums(b)
	}
	if len(p.errs) > 0 {
		return nil, p.result()
	}
	b.Notes = p.notes
	return b, nil
}

// The keys of each section, in the order messages list them.
var (
	targetKeys       = []string{"p50", "p90", "p95", "p99", "p999", "max"}
	topKeys          = []string{"version", "endpoints", "hops", "layers", "fanIn"}
	endpointKeys     = slices.Concat([]string{"name", "match"}, targetKeys, []string{"errors", "slowRequests"})
	hopKeys          = slices.Concat([]string{"name", "match", "on"}, targetKeys, []string{"errors"})
	layerKeys        = slices.Concat([]string{"name", "endpoint", "match", "on"}, targetKeys)
	fanInKeys        = slices.Concat([]string{"name", "match"}, targetKeys)
	slowRequestKeys  = []string{"threshold", "allowed"}
	errorRateKeys    = []string{"rate", "objective"}
	endpointMatchers = []string{"service", "operation"}
	hopMatchers      = []string{"from", "to", "operation", "statement"}
)

const (
	endpointMatchExample = `{service: frontend, operation: "GET /checkout"}`
	hopMatchExample      = `{from: frontend, to: auth, operation: Verify}`
)

type parser struct {
	file string
	errs []Error
	// keyPos holds the key node of every target and layer name by path
	// (endpoints[0].p99), so cross-line checks can point at them.
	keyPos map[string]*yaml.Node
	// badTargetKey is set when the current line has a key like p75 or
	// p100: then "no target" would only repeat that problem.
	badTargetKey bool
	// refs are the targets of valid lines in file order, for checkNames;
	// epPaths and layerPaths the paths of valid lines, parallel to
	// Budget.Endpoints and Budget.Layers.
	refs       []ref
	epPaths    []string
	layerPaths []string
	// notes: what a valid file should still change (deprecated keys).
	notes []Error
}

type ref struct{ name, path string }

func (p *parser) errorAt(n *yaml.Node, path, format string, args ...any) {
	p.errs = append(p.errs, Error{File: p.file, Line: n.Line, Column: n.Column, Path: path, Msg: fmt.Sprintf(format, args...)})
}

// result sorts the problems into file order and caps the list.
func (p *parser) result() *ValidationError {
	sort.SliceStable(p.errs, func(i, j int) bool {
		a, b := p.errs[i], p.errs[j]
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
	v := &ValidationError{Errors: p.errs}
	if len(p.errs) > MaxErrors {
		v.Errors, v.Omitted = p.errs[:MaxErrors], len(p.errs)-MaxErrors
	}
	return v
}

// ---- YAML ----

// decode returns the root node of the file's single YAML document, or nil
// after recording why there is none.
func (p *parser) decode(data []byte) *yaml.Node {
	docs, err := decodeDocs(data, 2)
	if err != nil {
		p.yamlError(err, data)
	}
	if len(docs) == 0 {
		if err == nil {
			p.errs = append(p.errs, Error{File: p.file, Msg: `empty file: want a budget starting with "version: 1"`})
		}
		return nil
	}
	if len(docs) > 1 && len(docs[1].Content) > 0 && docs[1].Content[0].ShortTag() != "!!null" {
		p.errorAt(docs[1], "", `a second YAML document starts here: a budget file holds one document`)
	}
	if len(docs[0].Content) == 0 {
		p.errorAt(docs[0], "", `empty document: want a budget starting with "version: 1"`)
		return nil
	}
	return docs[0].Content[0]
}

// decodeDocs decodes up to max YAML documents, stopping at the first error.
func decodeDocs(data []byte, max int) (docs []*yaml.Node, err error) {
	defer func() {
		// The decoder reports errors by panicking internally and recovering
		// them itself; should anything else escape on odd input, Parse
		// still reports instead of crashing the command.
		if r := recover(); r != nil {
			err = fmt.Errorf("the YAML decoder failed: %v", r)
		}
	}()
	// Duplicate keys are left to mapping, whose message names both places.
	l, err := yaml.NewLoader(bytes.NewReader(data), yaml.WithUniqueKeys(false))
	if err != nil {
		return nil, err
	}
	for len(docs) < max {
		var doc yaml.Node
		if err := l.Load(&doc); err != nil {
			if errors.Is(err, io.EOF) {
				return docs, nil
			}
			return docs, err
		}
		docs = append(docs, &doc)
	}
	return docs, nil
}

// yamlError turns a YAML syntax error into an Error at the place the
// decoder found the problem, naming the construct it was reading when that
// started elsewhere, with a hint for the common mistakes. The hints key on
// libyaml's fixed problem texts and on the characters at the marks.
func (p *parser) yamlError(err error, data []byte) {
	var le *yaml.LoadError
	if !errors.As(err, &le) {
		// Not a syntax error (the decoder failed): the file as a whole is
		// the place.
		p.errs = append(p.errs, Error{File: p.file, Line: 1, Msg: "invalid YAML: " + err.Error()})
		return
	}
	mark := le.Mark
	if le.Stage == yaml.ReaderStage && mark.Line <= 0 {
		// Encoding errors (a byte that is not UTF-8, a control character)
		// carry only the byte offset of the bad input.
		mark = walk(decodedText(data[:min(max(mark.Index, 0), len(data))]), nil)
	}
	t := scanText(decodedText(data), mark, le.ContextMark)
	at, msg, hint := mark, le.Message, ""
	ctx := le.ContextMsg != "" && le.ContextMark.Line > 0 && !samePlace(le.ContextMark, mark)
	switch {
	case (t.ctxChar == '*' || t.ctxChar == '&') && le.Message == "did not find expected alphabetic or numeric character":
		// to: * — the value that starts with "*" is the mistake, not the
		// character after it where the scanner stopped.
		at, ctx = le.ContextMark, false
		hint = ` (a value starting with "*" or "&" must be quoted, e.g. to: "*")`
	case t.char == '*' && strings.HasPrefix(le.Message, "unknown anchor "):
		hint = ` (a value starting with "*" is a YAML alias: quote a glob, e.g. to: "*")`
	case t.atEnd:
		// What was left open is the place to look: the construct the
		// decoder was reading, else the last thing written.
		if le.Message != "found unexpected end of stream" {
			msg += " before the end of the file"
		}
		if ctx {
			at = le.ContextMark
		} else if t.last.Line > 0 {
			at = t.last
		}
	case le.Message == "found character that cannot start any token" && t.char == '\t':
		hint = " (indent with spaces: YAML does not allow tabs there)"
	case le.Message == "found character that cannot start any token" && t.char != 0:
		msg += ": " + quote(string(t.char))
		hint = " (quote values that start with @, ` or %)"
	}
	if ctx {
		// "did not find expected ',' or '}'" on the next line is only
		// clear with where the flow mapping that misses its '}' starts.
		c, where := le.ContextMark, fmt.Sprintf("at line %d, column %d", le.ContextMark.Line, le.ContextMark.Column)
		switch {
		case samePlace(c, at):
			where = "here"
		case c.Line == at.Line:
			where = fmt.Sprintf("at column %d", c.Column)
		}
		msg += fmt.Sprintf(" (%s that starts %s)", le.ContextMsg, where)
	}
	p.errs = append(p.errs, Error{File: p.file, Line: max(at.Line, 1), Column: at.Column, Msg: "invalid YAML: " + msg + hint})
}

func samePlace(a, b yaml.Mark) bool { return a.Line == b.Line && a.Column == b.Column }

// decodedText is the file's text as the decoder reads it: without a byte
// order mark, and decoded from UTF-16 when the mark says so.
func decodedText(data []byte) string {
	le, be := bytes.HasPrefix(data, []byte{0xff, 0xfe}), bytes.HasPrefix(data, []byte{0xfe, 0xff})
	if !le && !be {
		return string(bytes.TrimPrefix(data, []byte("\ufeff")))
	}
	u := make([]uint16, 0, len(data)/2)
	for i := 2; i+1 < len(data); i += 2 {
		if le {
			u = append(u, uint16(data[i])|uint16(data[i+1])<<8)
		} else {
			u = append(u, uint16(data[i])<<8|uint16(data[i+1]))
		}
	}
	return string(utf16.Decode(u))
}

// walk calls fn with each character of text and its line and column,
// counting line breaks as YAML does (LF, CRLF, CR, NEL, LS, PS), and
// returns the position just after the text.
func walk(text string, fn func(r rune, at yaml.Mark)) yaml.Mark {
	at := yaml.Mark{Line: 1, Column: 1}
	for i, r := range text {
		if fn != nil {
			fn(r, at)
		}
		switch {
		case r == '\r' && strings.HasPrefix(text[i+1:], "\n"):
			// One break: the \n ends the line.
		case r == '\n' || r == '\r' || r == '\u0085' || r == '\u2028' || r == '\u2029':
			at.Line, at.Column = at.Line+1, 1
		default:
			at.Column++
		}
	}
	return at
}

// marked is what the text holds at a decoder error's marks.
type marked struct {
	char, ctxChar rune      // the characters at the mark and the context mark; 0 if none
	atEnd         bool      // only white space from the mark on
	last          yaml.Mark // the last character that is not white space
}

// scanText finds the characters at two marks by their lines and columns
// (the marks' Index counts differently by stage and is not always set).
func scanText(text string, mark, ctx yaml.Mark) marked {
	m := marked{atEnd: true}
	walk(text, func(r rune, at yaml.Mark) {
		if samePlace(at, mark) {
			m.char = r
		}
		if samePlace(at, ctx) {
			m.ctxChar = r
		}
		if !unicode.IsSpace(r) {
			m.last = at
			if at.Line > mark.Line || at.Line == mark.Line && at.Column >= mark.Column {
				m.atEnd = false
			}
		}
	})
	return m
}

// deref follows aliases (*name) to the anchored node. The decoder lets an
// alias refer to a node that contains it, so nothing here walks
// generically: the schema bounds the depth of every walk.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode; i++ {
		if i == 16 {
			return nil
		}
		n = n.Alias
	}
	return n
}

// describe says what a node is, for "found ..." in messages.
func describe(n *yaml.Node) string {
	n = deref(n)
	if n == nil {
		return "nothing"
	}
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return "nothing"
		case "!!str":
			return quote(n.Value)
		case "!!int", "!!float":
			return "the number " + short(n.Value)
		case "!!bool":
			return n.Value
		}
		return quote(n.Value)
	}
	return "nothing"
}

func isNull(n *yaml.Node) bool {
	n = deref(n)
	return n == nil || n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// ---- structure ----

type field struct{ key, val *yaml.Node }

// mapping checks that n is a mapping whose keys are all in valid, none
// twice, and returns its fields by key. want describes the expected
// mapping for the message when n is something else. Unknown and duplicate
// keys are reported and left out.
func (p *parser) mapping(n *yaml.Node, path string, valid []string, want string) (map[string]field, bool) {
	r := deref(n)
	if r == nil || r.Kind != yaml.MappingNode {
		p.errorAt(n, path, "want %s, found %s", want, describe(n))
		return nil, false
	}
	fields := make(map[string]field, len(r.Content)/2)
	for i := 0; i+1 < len(r.Content); i += 2 {
		k, v := r.Content[i], r.Content[i+1]
		kr := deref(k)
		switch {
		case kr == nil || kr.Kind != yaml.ScalarNode:
			p.errorAt(k, path, "want a key name, found %s", describe(k))
			continue
		case kr.ShortTag() == "!!merge":
			p.errorAt(k, path, `merge keys ("<<") are not supported: write the keys out`)
			continue
		}
		key := kr.Value
		if first, dup := fields[key]; dup {
			where := fmt.Sprintf("line %d", first.key.Line)
			if first.key.Line == k.Line {
				where += fmt.Sprintf(", column %d", first.key.Column)
			}
			p.errorAt(k, join(path, key), "duplicate key %s (first at %s)", quote(key), where)
			continue
		}
		// errorBudget: the deprecated name of slowRequests, read but not
		// offered (see endpoint).
		if !slices.Contains(valid, key) && !(key == "errorBudget" && slices.Contains(valid, "slowRequests")) {
			p.unknownKey(k, path, key, valid)
			continue
		}
		fields[key] = field{k, v}
	}
	return fields, true
}

func (p *parser) unknownKey(k *yaml.Node, path, key string, valid []string) {
	if slices.Contains(valid, "p99") {
		if msg := percentileKeyProblem(key); msg != "" {
			p.badTargetKey = true
			p.errorAt(k, path, "%s", msg)
			return
		}
	}
	p.errorAt(k, path, "unknown key %s%s: valid keys: %s", quote(key), didYouMean(key, valid), strings.Join(valid, ", "))
}

// list returns the items of a section; a null section ("hops:" with
// nothing under it) is an empty one.
func (p *parser) list(n *yaml.Node, path, what string) ([]*yaml.Node, bool) {
	if isNull(n) {
		return nil, true
	}
	r := deref(n)
	if r.Kind != yaml.SequenceNode {
		p.errorAt(n, path, "want a list of %s (\"- match: ...\"), found %s", what, describe(n))
		return nil, false
	}
	return r.Content, true
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func index(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }

// ---- the budget ----

func (p *parser) budget(root *yaml.Node) *Budget {
	b := &Budget{File: p.file}
	f, ok := p.mapping(root, "", topKeys, "a mapping of budget sections (version, endpoints, hops, layers, fanIn)")
	if !ok {
		return b
	}
	if v, ok := f["version"]; ok {
		b.Version = p.version(v.val)
	} else {
		p.errorAt(root, "", `missing version: add "version: 1"`)
	}

	lines, sectionsOK := 0, true
	section := func(key, what string, line func(n *yaml.Node, path string)) {
		e, ok := f[key]
		if !ok {
			return
		}
		items, ok := p.list(e.val, key, what)
		sectionsOK = sectionsOK && ok
		lines += len(items)
		for i, it := range items {
			line(it, index(key, i))
		}
	}
	section("endpoints", "endpoint budgets", func(n *yaml.Node, path string) {
		if e, ok := p.endpoint(n, path); ok {
			b.Endpoints = append(b.Endpoints, e)
			p.epPaths = append(p.epPaths, path)
		}
	})
	section("hops", "hop budgets", func(n *yaml.Node, path string) {
		if h, ok := p.hop(n, path); ok {
			b.Hops = append(b.Hops, h)
		}
	})
	section("layers", "layer budgets", func(n *yaml.Node, path string) {
		if l, ok := p.layer(n, path); ok {
			b.Layers = append(b.Layers, l)
			p.layerPaths = append(p.layerPaths, path)
		}
	})
	section("fanIn", "fan-in budgets", func(n *yaml.Node, path string) {
		if fi, ok := p.fanIn(n, path); ok {
			b.FanIn = append(b.FanIn, fi)
		}
	})
	if lines == 0 && sectionsOK {
		p.errorAt(root, "", "no budget lines: add at least one entry under endpoints, hops, layers or fanIn")
	}
	return b
}

const supportedVersion = 1

func (p *parser) version(n *yaml.Node) int {
	r := deref(n)
	if r != nil && r.Kind == yaml.ScalarNode && r.ShortTag() == "!!int" {
		v, err := strconv.Atoi(r.Value)
		if err == nil && v == supportedVersion {
			return v
		}
		if err == nil {
			p.errorAt(n, "version", "unsupported version %d: this hopbudget reads version %d", v, supportedVersion)
			return 0
		}
	}
	p.errorAt(n, "version", "want version: %d, found %s", supportedVersion, describe(n))
	return 0
}

const wantLine = "a mapping with match: and targets (p50 … max)"

func (p *parser) endpoint(n *yaml.Node, path string) (Endpoint, bool) {
	start := len(p.errs)
	p.badTargetKey = false
	f, ok := p.mapping(n, path, endpointKeys, wantLine)
	if !ok {
		return Endpoint{}, false
	}
	e := Endpoint{Line: n.Line}
	name := p.name(f, path)
	if m, ok := f["match"]; ok {
		e.Match = p.matcher(m.val, join(path, "match"), endpointMatchers, endpointMatchExample)
	} else {
		p.errorAt(n, path, "missing match: add match: %s", endpointMatchExample)
	}
	e.Targets = p.targets(f, path)
	srKey := "slowRequests"
	sr, hasSR := f[srKey]
	if old, ok := f["errorBudget"]; ok {
		if hasSR {
			p.errorAt(old.key, join(path, "errorBudget"), "errorBudget is the old name of slowRequests (line %d): keep one", sr.key.Line)
		} else {
			// The old name counted slow requests, never failed ones: it
			// still reads, with a note, so that existing files keep working.
			srKey, sr, hasSR = "errorBudget", old, true
			p.notes = append(p.notes, Error{File: p.file, Line: old.key.Line, Column: old.key.Column, Path: join(path, "errorBudget"),
				Msg: "errorBudget is deprecated: it limits slow requests, so it is now called slowRequests; failed requests have errors: {rate: 0.1%}"})
		}
	}
	if hasSR {
		e.SlowRequests = p.slowRequests(sr, join(path, srKey))
	}
	er, hasER := f["errors"]
	if hasER {
		e.Errors = p.errorRate(er, join(path, "errors"))
	}
	if !hasSR && !hasER && !hasTargetKey(f) && !p.badTargetKey {
		p.errorAt(n, path, "no target: add at least one of %s, errors or slowRequests", validPercentiles)
	}
	if len(p.errs) > start {
		return Endpoint{}, false
	}

	base := "endpoint " + endpointText(e.Match)
	e.Name = or(name, base)
	p.nameTargets(e.Targets, path, or(name, base), "")
	if e.SlowRequests != nil {
		e.SlowRequests.Name = e.Name + " slow requests"
		p.refs = append(p.refs, ref{e.SlowRequests.Name, join(path, srKey)})
		p.keyPos[join(path, srKey)] = sr.key
	}
	if e.Errors != nil {
		e.Errors.Name = e.Name + " errors"
		p.refs = append(p.refs, ref{e.Errors.Name, join(path, "errors")})
		p.keyPos[join(path, "errors")] = er.key
	}
	return e, true
}

func (p *parser) hop(n *yaml.Node, path string) (Hop, bool) {
	start := len(p.errs)
	p.badTargetKey = false
	f, ok := p.mapping(n, path, hopKeys, wantLine)
	if !ok {
		return Hop{}, false
	}
	h := Hop{Line: n.Line, On: Latency}
	name := p.name(f, path)
	if m, ok := f["match"]; ok {
		h.Match = p.matcher(m.val, join(path, "match"), hopMatchers, hopMatchExample)
	} else {
		p.errorAt(n, path, "missing match: add match: %s", hopMatchExample)
	}
	if on, ok := f["on"]; ok {
		h.On = p.measure(on.val, join(path, "on"))
	}
	h.Targets = p.targets(f, path)
	er, hasER := f["errors"]
	if hasER {
		h.Errors = p.errorRate(er, join(path, "errors"))
	}
	if !hasER && !hasTargetKey(f) && !p.badTargetKey {
		p.errorAt(n, path, "no target: add at least one of %s or errors", validPercentiles)
	}
	if len(p.errs) > start {
		return Hop{}, false
	}

	base := "hop " + hopText(h.Match)
	suffix := " (" + string(h.On) + ")"
	h.Name = or(name, base+suffix)
	if name != "" {
		suffix = ""
	}
	p.nameTargets(h.Targets, path, or(name, base), suffix)
	if h.Errors != nil {
		// Errors are counted per call whatever on: measures.
		h.Errors.Name = or(name, base) + " errors"
		p.refs = append(p.refs, ref{h.Errors.Name, join(path, "errors")})
		p.keyPos[join(path, "errors")] = er.key
	}
	return h, true
}

func (p *parser) layer(n *yaml.Node, path string) (Layer, bool) {
	start := len(p.errs)
	p.badTargetKey = false
	f, ok := p.mapping(n, path, layerKeys, "a mapping with name:, endpoint:, match: and targets (p50 … max)")
	if !ok {
		return Layer{}, false
	}
	l := Layer{Line: n.Line, On: CriticalPath}
	if _, ok := f["name"]; ok {
		l.LayerName = p.name(f, path)
		p.keyPos[join(path, "name")] = f["name"].key
	} else {
		p.errorAt(n, path, "missing name: every layer needs one, e.g. name: data")
	}
	if m, ok := f["endpoint"]; ok {
		l.Endpoint = p.matcher(m.val, join(path, "endpoint"), endpointMatchers, endpointMatchExample)
	} else {
		p.errorAt(n, path, "missing endpoint: add the endpoint this layer is a slice of, e.g. endpoint: %s", endpointMatchExample)
	}
	if m, ok := f["match"]; ok {
		l.Match = p.matcherList(m.val, join(path, "match"))
	} else {
		p.errorAt(n, path, "missing match: add the layer's hops, e.g. match: [{to: postgresql}, {to: redis}]")
	}
	if on, ok := f["on"]; ok {
		l.On = p.measure(on.val, join(path, "on"))
	}
	l.Targets = p.targets(f, path)
	if !hasTargetKey(f) && !p.badTargetKey {
		p.errorAt(n, path, "no target: add at least one of %s", validPercentiles)
	}
	if len(p.errs) > start {
		return Layer{}, false
	}

	// The layer's name alone is ambiguous across endpoints, so the display
	// name always says which endpoint it splits.
	base := "layer " + l.LayerName + " under " + endpointText(l.Endpoint)
	suffix := " (" + string(l.On) + ")"
	l.Name = base + suffix
	p.nameTargets(l.Targets, path, base, suffix)
	return l, true
}

func (p *parser) fanIn(n *yaml.Node, path string) (FanIn, bool) {
	start := len(p.errs)
	p.badTargetKey = false
	f, ok := p.mapping(n, path, fanInKeys, wantLine)
	if !ok {
		return FanIn{}, false
	}
	fi := FanIn{Line: n.Line}
	name := p.name(f, path)
	if m, ok := f["match"]; ok {
		fi.Match = p.matcher(m.val, join(path, "match"), endpointMatchers, `{service: order-service, operation: "POST /orders"}`)
	} else {
		p.errorAt(n, path, `missing match: add the parent operation, e.g. match: {service: order-service, operation: "POST /orders"}`)
	}
	fi.Targets = p.targets(f, path)
	if !hasTargetKey(f) && !p.badTargetKey {
		p.errorAt(n, path, "no target: add at least one of %s", validPercentiles)
	}
	if len(p.errs) > start {
		return FanIn{}, false
	}

	base := "fan-in " + endpointText(fi.Match)
	fi.Name = or(name, base)
	p.nameTargets(fi.Targets, path, or(name, base), "")
	return fi, true
}

func or(s, def string) string {
	if s != "" {
		return s
	}
	return def
}

func hasTargetKey(f map[string]field) bool {
	for _, k := range targetKeys {
		if _, ok := f[k]; ok {
			return true
		}
	}
	return false
}

// targets reads a line's percentile keys, in the fixed percentile order.
func (p *parser) targets(f map[string]field, path string) []Target {
	var ts []Target
	for _, pc := range percentiles {
		e, ok := f[pc.key]
		if !ok {
			continue
		}
		p.keyPos[join(path, pc.key)] = e.key
		if d, ok := p.duration(e.val, join(path, pc.key)); ok {
			ts = append(ts, Target{Percentile: pc.p, Limit: d, Line: e.key.Line})
		}
	}
	return ts
}

// nameTargets names a valid line's targets "BASE p99SUFFIX" and records
// them for checkNames.
func (p *parser) nameTargets(ts []Target, path, base, suffix string) {
	for i := range ts {
		ts[i].Name = base + " " + ts[i].Key() + suffix
		p.refs = append(p.refs, ref{ts[i].Name, join(path, ts[i].Key())})
	}
}

// ---- values ----

// stringValue reads a string scalar; what names the expected value.
func (p *parser) stringValue(n *yaml.Node, path, what string) (string, bool) {
	r := deref(n)
	if r != nil && r.Kind == yaml.ScalarNode && r.ShortTag() == "!!str" {
		return r.Value, true
	}
	if r != nil && r.Kind == yaml.ScalarNode && (r.ShortTag() == "!!int" || r.ShortTag() == "!!float" || r.ShortTag() == "!!bool") {
		p.errorAt(n, path, "want %s (a string), found %s: quote it, e.g. %s", what, describe(n), quote(r.Value))
		return "", false
	}
	p.errorAt(n, path, "want %s, found %s", what, describe(n))
	return "", false
}

// name reads an optional name: key; "" when absent or bad.
func (p *parser) name(f map[string]field, path string) string {
	e, ok := f["name"]
	if !ok {
		return ""
	}
	path = join(path, "name")
	s, ok := p.stringValue(e.val, path, "a name")
	switch {
	case !ok:
		return ""
	case strings.TrimSpace(s) == "":
		p.errorAt(e.val, path, "want a name, found %s", quote(s))
		return ""
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		// Names end up in one-line formats: table rows, ::error annotations.
		p.errorAt(e.val, path, "a name must be one line without control characters, found %s", quote(s))
		return ""
	}
	return s
}

func (p *parser) matcher(n *yaml.Node, path string, keys []string, example string) Matcher {
	start := len(p.errs)
	f, ok := p.mapping(n, path, keys, "a matcher like "+example)
	if !ok {
		return Matcher{}
	}
	var m Matcher
	set := false
	for _, k := range keys {
		e, ok := f[k]
		if !ok {
			continue
		}
		s, ok := p.stringValue(e.val, join(path, k), "a name or glob")
		if !ok {
			continue
		}
		if err := grammar.CheckGlob(s); err != nil {
			p.errorAt(e.val, join(path, k), "%v", err)
			continue
		}
		set = set || s != ""
		switch k {
		case "service":
			m.Service = s
		case "operation":
			m.Operation = s
		case "from":
			m.From = s
		case "to":
			m.To = s
		case "statement":
			m.Statement = s
		}
	}
	if !set && len(p.errs) == start {
		p.errorAt(n, path, `empty matcher: set at least one of %s (use "*" to match anything)`, strings.Join(keys, ", "))
	}
	return m
}

func (p *parser) matcherList(n *yaml.Node, path string) []Matcher {
	const example = "[{to: postgresql}, {to: redis}]"
	r := deref(n)
	if r == nil || r.Kind != yaml.SequenceNode {
		p.errorAt(n, path, "want a list of hop matchers, e.g. %s, found %s", example, describe(n))
		return nil
	}
	if len(r.Content) == 0 {
		p.errorAt(n, path, "empty list: add at least one hop matcher, e.g. %s", example)
		return nil
	}
	ms := make([]Matcher, 0, len(r.Content))
	for i, it := range r.Content {
		ms = append(ms, p.matcher(it, index(path, i), hopMatchers, hopMatchExample))
	}
	return ms
}

func (p *parser) measure(n *yaml.Node, path string) Measure {
	valid := strings.Join(measures, ", ")
	r := deref(n)
	if r == nil || r.Kind != yaml.ScalarNode || r.ShortTag() != "!!str" {
		p.errorAt(n, path, "want one of %s, found %s", valid, describe(n))
		return ""
	}
	if !slices.Contains(measures, r.Value) {
		p.errorAt(n, path, "unknown value %s%s: valid values: %s", quote(r.Value), didYouMean(r.Value, measures), valid)
		return ""
	}
	return Measure(r.Value)
}

// scalarText is the text of a scalar that may be meant as a duration or
// percentage: strings and numbers (so "40" gets "add a unit"), not null,
// booleans or collections.
func scalarText(n *yaml.Node) (string, bool) {
	r := deref(n)
	if r == nil || r.Kind != yaml.ScalarNode {
		return "", false
	}
	switch r.ShortTag() {
	case "!!null", "!!bool":
		return "", false
	}
	return r.Value, true
}

func (p *parser) duration(n *yaml.Node, path string) (time.Duration, bool) {
	s, ok := scalarText(n)
	if !ok {
		p.errorAt(n, path, "want a duration like 200ms, found %s", describe(n))
		return 0, false
	}
	d, err := parseDuration(s)
	if err != nil {
		p.errorAt(n, path, "%v", err)
		return 0, false
	}
	return d, true
}

func (p *parser) percent(n *yaml.Node, path string) (float64, bool) {
	s, ok := scalarText(n)
	if !ok {
		p.errorAt(n, path, "want a percentage like 5%%, found %s", describe(n))
		return 0, false
	}
	v, err := parsePercent(s)
	if err != nil {
		p.errorAt(n, path, "%v", err)
		return 0, false
	}
	return v, true
}

// errorRate reads errors: {rate: PERCENT} or {objective: PERCENT}, one of
// the two.
func (p *parser) errorRate(e field, path string) *ErrorRate {
	const want = "{rate: PERCENT} or {objective: PERCENT}, e.g. {rate: 0.1%} (the same as {objective: 99.9%})"
	f, ok := p.mapping(e.val, path, errorRateKeys, want)
	if !ok {
		return nil
	}
	er := &ErrorRate{Line: e.key.Line}
	rate, hasRate := f["rate"]
	obj, hasObj := f["objective"]
	switch {
	case hasRate && hasObj:
		p.errorAt(obj.key, join(path, "objective"), "set rate or objective, not both: objective %s is rate 100%% minus it", describe(obj.val))
	case hasRate:
		if v, ok := p.percent(rate.val, join(path, "rate")); ok {
			if v >= 1 {
				p.errorAt(rate.val, join(path, "rate"), "an error rate of 100%% allows every request to fail: want less, e.g. 0.1%%")
			}
			er.Allowed = v
		}
	case hasObj:
		if v, ok := p.percent(obj.val, join(path, "objective")); ok {
			if v >= 1 {
				p.errorAt(obj.val, join(path, "objective"), "an objective of 100%% leaves no error budget: want less, e.g. 99.9%%")
			}
			// In billionths, so that 99.9% allows exactly the 0.1% that
			// rate: 0.1% does (1 − 0.999 is not 0.001 in floating point).
			er.Allowed = float64(1_000_000_000-int64(math.Round(v*1e9))) / 1e9
		}
	default:
		p.errorAt(e.val, path, "missing rate: want %s", want)
	}
	return er
}

func (p *parser) slowRequests(e field, path string) *SlowRequests {
	f, ok := p.mapping(e.val, path, slowRequestKeys, "{threshold: DURATION, allowed: PERCENT}, e.g. {threshold: 120ms, allowed: 5%}")
	if !ok {
		return nil
	}
	eb := &SlowRequests{Line: e.key.Line}
	if t, ok := f["threshold"]; ok {
		eb.Threshold, _ = p.duration(t.val, join(path, "threshold"))
	} else {
		p.errorAt(e.val, path, "missing threshold: add the latency requests may exceed, e.g. threshold: 120ms")
	}
	if a, ok := f["allowed"]; ok {
		eb.Allowed, _ = p.percent(a.val, join(path, "allowed"))
	} else {
		p.errorAt(e.val, path, "missing allowed: add the share of requests that may exceed the threshold, e.g. allowed: 5%%")
	}
	return eb
}
