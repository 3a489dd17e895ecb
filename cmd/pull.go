package cmd

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"hopbudget/pull"
)

// PullOptions are the flags of `hopbudget pull`.
type PullOptions struct {
	Source      string
	Backend     string
	Save        string
	Service     string
	Operation   string
	Tags        []string
	Since       time.Duration
	Start, End  string
	Limit       int
	MinDuration time.Duration
	Query       string
	API         string
	Headers     []string
	CAFile      string
	Insecure    bool
	Timeout     time.Duration
	Concurrency int
	Retries     int

	// Now and Getenv are the clock and environment, swapped in tests.
	Now    func() time.Time
	Getenv func(string) string
	// Backoff is the first retry's delay (tests shorten it).
	Backoff time.Duration
}

func newPullCmd(s *Streams) *cobra.Command {
	opts := &PullOptions{Now: time.Now, Getenv: os.Getenv}
	c := &cobra.Command{
		Use:   "pull SOURCE [flags]",
		Short: "Fetch traces from Jaeger, Tempo or Zipkin into a directory every command reads",
		Long: `pull queries a running tracing backend over its HTTP API and saves every response
verbatim, in the backend's own format, under --save DIR (default: a new directory named
after the source and the time). Every command reads the directory ('hopbudget analyze DIR'),
so a postmortem can be re-run offline and attached. DIR/.manifest.json records the source,
the query, the times, the files and anything that could not be fetched.

SOURCE is the backend's query address:
  jaeger://host:16686      Jaeger query (api_v3, or the internal /api/traces; --api)
  tempo://host:3200        Tempo (/api/search with TraceQL, then /api/v2/traces/ID)
  zipkin://host:9411       Zipkin (/api/v2/traces)
BACKEND+https://… uses TLS; http(s)://… works with --backend. A path after the port is
kept (a reverse proxy's prefix); user:password@ is sent as basic authentication.

Headers (--header 'Name: value', HOPBUDGET_PULL_HEADERS='name=value,…' as in
OTEL_EXPORTER_OTLP_HEADERS, HOPBUDGET_PULL_TOKEN as a bearer token) are never printed,
and are scrubbed from error messages and the manifest.

Requests are retried on 429, 5xx, timeouts and cut-off bodies, with exponential backoff
(Retry-After wins). Exit codes: 0 ok; 2 bad usage, an unreachable or failing source, an
unexpected response (an HTML page, a truncated body), or no trace matched. Files saved
before an error stay, and the manifest lists what is missing.`,
		Example: `  hopbudget pull jaeger://localhost:16686 --service frontend --since 1h --limit 200
  hopbudget pull tempo+https://tempo.example.com --query '{ span.http.status_code >= 500 }' \
      --header 'X-Scope-OrgID: team-a' --save incident-42
  hopbudget pull zipkin://localhost:9411 --service checkout --min-duration 250ms
  hopbudget analyze incident-42`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			opts.Source = args[0]
			if (c.Flags().Changed("since") || c.Flags().Changed("lookback")) && c.Flags().Changed("start") {
				return inputError(fmt.Errorf("--since (--lookback) and --start: give one"))
			}
			return pullRun(c.Context(), s, opts)
		},
	}
	f := c.Flags()
	f.StringVar(&opts.Backend, "backend", "", "backend of an http(s):// SOURCE: jaeger, tempo or zipkin")
	f.StringVar(&opts.Save, "save", "", "directory to save into: new or empty (default: BACKEND-HOST-PORT-TIME)")
	f.StringVar(&opts.Service, "service", "", "service name (required by Jaeger)")
	f.StringVar(&opts.Operation, "operation", "", "operation (span) name")
	f.StringArrayVar(&opts.Tags, "tag", nil, "key=value a span must carry (repeatable)")
	f.DurationVar(&opts.Since, "since", time.Hour, "time window: the last DURATION before --end")
	f.DurationVar(&opts.Since, "lookback", time.Hour, "same as --since")
	f.StringVar(&opts.Start, "start", "", "window start, RFC 3339 (instead of --since)")
	f.StringVar(&opts.End, "end", "", "window end, RFC 3339 (default: now)")
	f.IntVar(&opts.Limit, "limit", 100, "most traces to fetch")
	f.DurationVar(&opts.MinDuration, "min-duration", 0, "only traces with a span at least this long")
	f.StringVar(&opts.Query, "query", "", "TraceQL search for Tempo (replaces --service, --operation, --tag, --min-duration)")
	f.StringVar(&opts.API, "api", "auto", "Jaeger API: v3, internal, or auto (v3, else internal)")
	f.StringArrayVar(&opts.Headers, "header", nil, "'Name: value' sent with every request (repeatable; never printed)")
	f.StringVar(&opts.CAFile, "ca-file", "", "PEM CA bundle to trust besides the system's")
	f.BoolVar(&opts.Insecure, "insecure-skip-verify", false, "do not verify the server's TLS certificate")
	f.DurationVar(&opts.Timeout, "timeout", 30*time.Second, "limit per request, body included")
	f.IntVar(&opts.Concurrency, "concurrency", 4, "Tempo: traces fetched at once")
	f.IntVar(&opts.Retries, "retries", 3, "retries per request on 429, 5xx, timeouts, cut-off bodies")
	return c
}

func pullRun(ctx context.Context, s *Streams, opts *PullOptions) error {
	src, err := pull.ParseSource(opts.Source, opts.Backend)
	if err != nil {
		return inputError(err)
	}
	q, err := opts.query()
	if err != nil {
		return inputError(err)
	}
	headers, err := pull.EnvHeaders(opts.Getenv("HOPBUDGET_PULL_HEADERS"), opts.Getenv("HOPBUDGET_PULL_TOKEN"))
	if err != nil {
		return inputError(err)
	}
	flagHeaders := http.Header{}
	for _, h := range opts.Headers {
		k, v, err := pull.ParseHeader(h)
		if err != nil {
			return inputError(err)
		}
		flagHeaders.Add(k, v)
	}
	for k, vs := range flagHeaders { // a flag wins over the environment
		headers[k] = vs
	}
	if opts.Concurrency < 1 {
		return inputError(fmt.Errorf("--concurrency %d: want at least 1", opts.Concurrency))
	}
	dir := opts.Save
	if dir == "" {
		dir = defaultPullDir(src, opts.Now())
	}
	po := pull.Options{
		Headers:            headers,
		CAFile:             opts.CAFile,
		InsecureSkipVerify: opts.Insecure,
		Timeout:            opts.Timeout,
		Concurrency:        opts.Concurrency,
		Retries:            opts.Retries,
		Backoff:            opts.Backoff,
		JaegerAPI:          opts.API,
		Now:                opts.Now,
	}
	var mu sync.Mutex // warnings may come from several fetches at once
	var stop func()
	po.Warn = func(msg string) {
		mu.Lock()
		defer mu.Unlock()
		if s.ErrIsTerminal {
			fmt.Fprint(s.Err, "\r\033[K")
		}
		fmt.Fprintln(s.Err, "hopbudget: warning:", msg)
	}
	if s.ErrIsTerminal {
		po.Progress = new(pull.Progress)
		stop = drawPullProgress(s, po.Progress, &mu)
	}
	m, err := pull.Pull(ctx, src, q, po, dir)
	if stop != nil {
		stop()
	}
	// Stopped by a signal: exit 130/143 whatever the fetch then said (a
	// cancelled request's error need not wrap the context's).
	interrupted := err != nil && ctx.Err() != nil
	if interrupted {
		err = fmt.Errorf("%w: %v", ctx.Err(), err)
	}
	if m == nil { // refused (or stopped) before anything was created
		if interrupted {
			return err
		}
		return inputError(err)
	}
	if rerr := renderPull(s, m, dir, err); rerr != nil {
		return rerr
	}
	if err != nil && !interrupted {
		return inputError(err)
	}
	return err
}

// query turns the flags into the pull's query, resolving the time window.
func (o *PullOptions) query() (pull.Query, error) {
	q := pull.Query{
		Service: o.Service, Operation: o.Operation, Tags: o.Tags,
		Limit: o.Limit, MinDuration: o.MinDuration, TraceQL: o.Query,
	}
	// Whole seconds, rounded up: readable in the manifest, and Tempo
	// takes seconds anyway.
	end := o.Now()
	if t := end.Truncate(time.Second); !t.Equal(end) {
		end = t.Add(time.Second)
	}
	if o.End != "" {
		t, err := time.Parse(time.RFC3339Nano, o.End)
		if err != nil {
			return q, fmt.Errorf("--end %q: want RFC 3339, like 2026-01-02T15:04:05Z", o.End)
		}
		end = t
	}
	q.End = end
	if o.Start != "" {
		t, err := time.Parse(time.RFC3339Nano, o.Start)
		if err != nil {
			return q, fmt.Errorf("--start %q: want RFC 3339, like 2026-01-02T15:04:05Z", o.Start)
		}
		q.Start = t
	} else {
		if o.Since <= 0 {
			return q, fmt.Errorf("--since %v: want a positive duration", o.Since)
		}
		q.Start = end.Add(-o.Since)
		q.Lookback = o.Since
	}
	if o.Limit < 1 {
		return q, fmt.Errorf("--limit %d: want at least 1", o.Limit)
	}
	return q, nil
}

// defaultPullDir names a fresh directory after the source and the time.
func defaultPullDir(src pull.Source, now time.Time) string {
	host := strings.NewReplacer(":", "-", "[", "", "]", "").Replace(src.URL.Host)
	return fmt.Sprintf("%s-%s-%s", src.Backend, host, now.UTC().Format("20060102T150405Z"))
}

// renderPull says what was saved where; after an error, on stderr, so the
// user knows what survived.
func renderPull(s *Streams, m *pull.Manifest, dir string, pullErr error) error {
	w := s.Out
	if pullErr != nil {
		w = s.Err
	}
	verb := "Pulled"
	if pullErr != nil {
		verb = "Saved before the error:"
	}
	fmt.Fprintf(w, "%s %d traces from %s (%s) into %s in %s\n", verb, m.Traces, m.Source, m.API, dir,
		m.Finished.Sub(m.Started).Round(time.Millisecond))
	if len(m.Files) > 0 {
		status := false // Tempo's COMPLETE / PARTIAL; the others send none
		for _, f := range m.Files {
			status = status || f.Status != ""
		}
		t := &table{header: []string{"FILE", "TRACES", "BYTES"}, right: map[int]bool{1: true, 2: true}}
		if status {
			t.header = append(t.header, "STATUS")
		}
		for _, f := range m.Files {
			row := []string{f.Name, strconv.Itoa(f.Traces), strconv.Itoa(f.Bytes)}
			if status {
				row = append(row, f.Status)
			}
			t.add(row...)
		}
		if err := t.render(w, false); err != nil {
			return err
		}
	}
	if len(m.Missing) > 0 {
		fmt.Fprintf(w, "Missing: %d (listed in the manifest)\n", len(m.Missing))
	}
	fmt.Fprintf(w, "Manifest: %s\n", filepath.Join(dir, pull.ManifestName))
	if m.Traces > 0 {
		fmt.Fprintf(w, "Next: hopbudget analyze %s\n", dir)
	}
	return nil
}

// drawPullProgress redraws one status line on stderr until stop is called;
// mu keeps warnings and the line from interleaving.
func drawPullProgress(s *Streams, p *pull.Progress, mu *sync.Mutex) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		drawn := false
		for {
			select {
			case <-done:
				if drawn {
					mu.Lock()
					fmt.Fprint(s.Err, "\r\033[K")
					mu.Unlock()
				}
				return
			case <-t.C:
				traces := strconv.FormatInt(p.Traces.Load(), 10)
				if want := p.Want.Load(); want > 0 {
					traces += "/" + strconv.FormatInt(want, 10)
				}
				mu.Lock()
				fmt.Fprintf(s.Err, "\r\033[Kpulling: %s traces, %d requests, %s", traces, p.Requests.Load(), humanBytes(p.Bytes.Load()))
				mu.Unlock()
				drawn = true
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}
