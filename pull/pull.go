package pull

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// ManifestName is the manifest's file name in the save directory. The dot
// makes every command that reads the directory skip it, as it skips all
// hidden files, so it never shows up as a "not a trace export" warning.
const ManifestName = ".manifest.json"

// Manifest records a pull: where from, what was asked, what was saved and
// what is missing. It is written even when the pull fails.
type Manifest struct {
	Tool    string        `json:"tool"`
	Source  string        `json:"source"`
	Backend Backend       `json:"backend"`
	API     string        `json:"api"`
	Query   manifestQuery `json:"query"`
	// Headers are the names of the headers sent; values are secrets.
	Headers  []string  `json:"headers,omitempty"`
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	// Complete is true when everything the query matched was saved.
	Complete bool `json:"complete"`
	// Traces counts the traces in the saved files.
	Traces   int       `json:"traces"`
	Files    []File    `json:"files"`
	Missing  []Missing `json:"missing"`
	Warnings []string  `json:"warnings"`
	Error    string    `json:"error,omitempty"`
}

type manifestQuery struct {
	Service     string   `json:"service,omitempty"`
	Operation   string   `json:"operation,omitempty"`
	Tags        []string `json:"tags,omitempty"`
	Start       string   `json:"start"`
	End         string   `json:"end"`
	Lookback    string   `json:"lookback,omitempty"`
	Limit       int      `json:"limit"`
	MinDuration string   `json:"min_duration,omitempty"`
	TraceQL     string   `json:"traceql,omitempty"`
}

// File is one saved response.
type File struct {
	Name  string `json:"name"`
	URL   string `json:"url"`
	Bytes int    `json:"bytes"`
	// Traces in this response.
	Traces int `json:"traces"`
	// Status is Tempo's trace status (COMPLETE, PARTIAL) when it sent one.
	Status string `json:"status,omitempty"`
}

// Missing is something the query matched that was not saved.
type Missing struct {
	What  string `json:"what"`
	URL   string `json:"url,omitempty"`
	Error string `json:"error"`
}

// Pull runs q against src and saves every response under dir (created; it
// must not exist or be empty). The manifest is written whatever happens, so
// files saved before an error stay usable and the manifest says what is
// missing. The error, if any, names the source URL and what was expected.
func Pull(ctx context.Context, src Source, q Query, opts Options, dir string) (*Manifest, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if err := q.validate(src); err != nil {
		return nil, err
	}
	c, err := newClient(src, opts)
	if err != nil {
		return nil, err
	}
	s, err := newSaver(dir, opts)
	if err != nil {
		return nil, err
	}
	m := s.m
	m.Tool = "hopbudget pull"
	m.Source = c.scrub(src.String())
	m.Backend = src.Backend
	m.Query = manifestQuery{
		Service: q.Service, Operation: q.Operation, Tags: q.Tags,
		Start: q.Start.UTC().Format(time.RFC3339Nano), End: q.End.UTC().Format(time.RFC3339Nano),
		Limit: q.Limit, TraceQL: q.TraceQL,
	}
	if q.Lookback > 0 {
		m.Query.Lookback = shortDuration(q.Lookback)
	}
	if q.MinDuration > 0 {
		m.Query.MinDuration = q.MinDuration.String()
	}
	for k := range opts.Headers {
		m.Headers = append(m.Headers, k)
	}
	if src.user != nil && opts.Headers.Get("Authorization") == "" {
		m.Headers = append(m.Headers, "Authorization")
	}
	sort.Strings(m.Headers)
	m.Started = opts.Now().UTC()

	switch src.Backend {
	case Jaeger:
		err = c.pullJaeger(ctx, q, s)
	case Tempo:
		err = c.pullTempo(ctx, q, s)
	case Zipkin:
		err = c.pullZipkin(ctx, q, s)
	default:
		err = fmt.Errorf("unknown backend %q", src.Backend)
	}
	if err == nil && m.Traces == 0 && len(m.Missing) == 0 {
		err = fmt.Errorf("%s: no traces match the query between %s and %s; nothing to analyze", m.Source, m.Query.Start, m.Query.End)
	}
	m.Finished = opts.Now().UTC()
	m.Complete = err == nil && len(m.Missing) == 0
	if err != nil {
		m.Error = err.Error()
	}
	if werr := s.writeManifest(); werr != nil && err == nil {
		err = werr
	}
	return m, err
}

// saver writes responses into the directory and keeps the manifest; safe
// for concurrent use.
type saver struct {
	dir  string
	opts Options
	mu   sync.Mutex
	m    *Manifest
}

func newSaver(dir string, opts Options) (*saver, error) {
	if dir == "" {
		return nil, errors.New("no directory to save into")
	}
	entries, err := os.ReadDir(dir)
	switch {
	case err == nil && len(entries) > 0:
		return nil, fmt.Errorf("--save %s: not empty (%d entries); pull into a new directory so runs do not mix", dir, len(entries))
	case err != nil && !errors.Is(err, os.ErrNotExist):
		return nil, fmt.Errorf("--save %s: %v", dir, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("--save %s: %v", dir, err)
	}
	return &saver{dir: dir, opts: opts, m: &Manifest{Files: []File{}, Missing: []Missing{}, Warnings: []string{}}}, nil
}

// save writes one response under name: to a hidden temporary file first,
// so an interrupted pull never leaves half a file that reads as traces.
//
// An answer with no traces is not saved: it would only make every command
// reading the directory fail with "no spans".
func (s *saver) save(name string, r *response, traces int, status string) error {
	if traces == 0 {
		return nil
	}
	tmp := filepath.Join(s.dir, "."+name+".tmp")
	if err := os.WriteFile(tmp, r.Body, 0o644); err != nil {
		return fmt.Errorf("saving %s: %v", r.URL, err)
	}
	if err := os.Rename(tmp, filepath.Join(s.dir, name)); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("saving %s: %v", r.URL, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m.Files = append(s.m.Files, File{Name: name, URL: r.URL, Bytes: len(r.Body), Traces: traces, Status: status})
	s.m.Traces += traces
	if s.opts.Progress != nil {
		s.opts.Progress.Traces.Add(int64(traces))
	}
	return nil
}

// saveHidden keeps a response that is not trace data (Tempo's search
// result) for the record, where readers do not look.
func (s *saver) saveHidden(name string, body []byte) error {
	return os.WriteFile(filepath.Join(s.dir, "."+name), body, 0o644)
}

func (s *saver) missing(what, url string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m.Missing = append(s.m.Missing, Missing{What: what, URL: url, Error: err.Error()})
}

func (s *saver) warn(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	s.mu.Lock()
	s.m.Warnings = append(s.m.Warnings, msg)
	s.mu.Unlock()
	if s.opts.Warn != nil {
		s.opts.Warn(msg)
	}
}

func (s *saver) writeManifest() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	// Concurrent fetches finish in any order; the manifest does not.
	sort.Slice(s.m.Files, func(i, j int) bool { return s.m.Files[i].Name < s.m.Files[j].Name })
	sort.Slice(s.m.Missing, func(i, j int) bool { return s.m.Missing[i].What < s.m.Missing[j].What })
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // URLs keep their '&'
	enc.SetIndent("", "  ")
	if err := enc.Encode(s.m); err != nil {
		return err
	}
	path := filepath.Join(s.dir, ManifestName)
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		return fmt.Errorf("writing %s: %v", path, err)
	}
	return nil
}

// shortDuration prints 1h rather than 1h0m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// validate refuses queries a backend cannot run, before anything is created.
func (q Query) validate(src Source) error {
	for _, t := range q.Tags {
		if k, _, ok := strings.Cut(t, "="); !ok || k == "" {
			return fmt.Errorf("--tag %q: want key=value", t)
		}
	}
	if !q.End.After(q.Start) {
		return fmt.Errorf("the time window is empty: start %s is not before end %s", q.Start.UTC().Format(time.RFC3339), q.End.UTC().Format(time.RFC3339))
	}
	if q.Limit < 0 {
		return fmt.Errorf("--limit %d: want a positive number", q.Limit)
	}
	if src.Backend == Jaeger && q.Service == "" {
		return fmt.Errorf("%s: Jaeger needs --service (its APIs search one service at a time)", src)
	}
	if src.Backend != Tempo && q.TraceQL != "" {
		return fmt.Errorf("--query is TraceQL, for Tempo only; %s is %s", src, src.Backend)
	}
	return nil
}
