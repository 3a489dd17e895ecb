// Package pull fetches traces from a running tracing backend (Jaeger, Tempo,
// Zipkin) over its HTTP query API and saves every response verbatim, in the
// backend's native format, as files in a directory that every hopbudget
// command reads. A manifest beside them records the query, the times, what
// was fetched and what is missing.
//
// The clients are plain net/http: nothing is imported from the backends
// (Tempo's code is AGPL).
package pull

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Backend names a tracing backend's query API.
type Backend string

const (
	Jaeger Backend = "jaeger"
	Tempo  Backend = "tempo"
	Zipkin Backend = "zipkin"
)

// Backends lists the supported backends.
func Backends() []Backend { return []Backend{Jaeger, Tempo, Zipkin} }

// Source is where traces are pulled from.
type Source struct {
	Backend Backend
	// URL is the base HTTP(S) URL of the query API, without credentials.
	URL *url.URL
	// user holds credentials given in the source URL (basic auth).
	user *url.Userinfo
}

// String is the source as given, credentials redacted.
func (s Source) String() string {
	u := *s.URL
	u.User = s.user
	scheme := string(s.Backend)
	if u.Scheme == "https" {
		scheme += "+https"
	}
	u.Scheme = scheme
	return u.Redacted()
}

// ParseSource reads a source URL:
//
//	BACKEND://host:port[/path]          plain HTTP
//	BACKEND+https://host:port[/path]    HTTPS (BACKEND+http:// is plain HTTP)
//	http(s)://host:port[/path]          with backend set (--backend)
//
// BACKEND is jaeger, tempo or zipkin. A path prefix (a reverse proxy's) is
// kept; user:password@ becomes basic authentication.
func ParseSource(raw string, backend string) (Source, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return Source{}, fmt.Errorf("source %q: want a URL like jaeger://host:16686, tempo+https://host, or http://host:port with --backend", redactRaw(raw))
	}
	name, transport, _ := strings.Cut(u.Scheme, "+")
	switch {
	case name == "http" || name == "https":
		if transport != "" {
			return Source{}, fmt.Errorf("source %s: unknown scheme %q", u.Redacted(), u.Scheme)
		}
		transport = name
		if backend == "" {
			return Source{}, fmt.Errorf("source %s: an http(s) URL needs --backend (one of %v), or write it as jaeger://…, tempo://…, zipkin://…", u.Redacted(), Backends())
		}
		name = backend
	default:
		if transport == "" {
			transport = "http"
		}
		if backend != "" && backend != name {
			return Source{}, fmt.Errorf("source %s is %s, but --backend says %s", u.Redacted(), name, backend)
		}
	}
	if !validBackend(Backend(name)) {
		return Source{}, fmt.Errorf("source %s: unknown backend %q, want one of %v", u.Redacted(), name, Backends())
	}
	if transport != "http" && transport != "https" {
		return Source{}, fmt.Errorf("source %s: unknown transport %q, want http or https", u.Redacted(), transport)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return Source{}, fmt.Errorf("source %s: give the query as flags (--service, --since, …), not in the URL", u.Redacted())
	}
	s := Source{Backend: Backend(name), user: u.User}
	u.Scheme = transport
	u.User = nil
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawPath = ""
	s.URL = u
	return s, nil
}

func validBackend(b Backend) bool {
	for _, k := range Backends() {
		if b == k {
			return true
		}
	}
	return false
}

// redactRaw hides credentials in a string that did not parse as a URL.
var userinfoRE = regexp.MustCompile(`//[^/@]*@`)

func redactRaw(s string) string { return userinfoRE.ReplaceAllString(s, "//xxxxx@") }

// Query selects the traces to pull. Backends that cannot express a field
// ignore it (documented per backend).
type Query struct {
	Service   string
	Operation string
	// Tags are key=value span attributes every trace must have.
	Tags        []string
	Start, End  time.Time
	Limit       int
	MinDuration time.Duration
	// TraceQL replaces the query Tempo would build from the fields above.
	TraceQL string
	// Lookback is how the window was given (--since), for Jaeger's and
	// Zipkin's lookback parameters; Start and End are authoritative.
	Lookback time.Duration
}

// Options tune the HTTP clients.
type Options struct {
	// Headers are sent with every request (Authorization, X-Scope-OrgID…).
	// Their values are secrets: never printed, scrubbed from errors.
	Headers http.Header
	// CAFile adds a PEM CA bundle to the system roots.
	CAFile             string
	InsecureSkipVerify bool
	// Timeout bounds each request, body included.
	Timeout time.Duration
	// Concurrency bounds Tempo's per-trace fetches.
	Concurrency int
	// Retries is how many times a request is retried on 429, 5xx, timeouts
	// and cut-off bodies.
	Retries int
	// Backoff is the first retry's delay, doubled per retry (with jitter),
	// unless the server sends Retry-After.
	Backoff time.Duration
	// JaegerAPI is v3, internal or auto (v3, then internal if the server
	// has no api_v3).
	JaegerAPI string
	// Progress, when set, receives running totals.
	Progress *Progress
	// Warn receives warnings as they happen (they are in the manifest too).
	Warn func(string)
	// Now is the clock for the manifest's times.
	Now func() time.Time
}

// Progress holds running totals another goroutine may poll.
type Progress struct {
	Requests atomic.Int64
	Bytes    atomic.Int64
	Traces   atomic.Int64
	// Want is the number of traces to fetch, once known (Tempo); 0 unknown.
	Want atomic.Int64
}

// client is the shared HTTP side: base URL, headers, TLS, retries, and
// turning bad responses into errors that say what was expected.
type client struct {
	src      Source
	hc       *http.Client
	opts     Options
	secrets  []string
	progress *Progress
}

func newClient(src Source, opts Options) (*client, error) {
	if opts.Retries < 0 {
		opts.Retries = 0
	}
	if opts.Backoff <= 0 {
		opts.Backoff = 500 * time.Millisecond
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = 4
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if opts.CAFile != "" || opts.InsecureSkipVerify {
		cfg := &tls.Config{InsecureSkipVerify: opts.InsecureSkipVerify}
		if opts.CAFile != "" {
			pem, err := os.ReadFile(opts.CAFile)
			if err != nil {
				return nil, fmt.Errorf("--ca-file: %v", err)
			}
			pool, err := x509.SystemCertPool()
			if err != nil || pool == nil {
				pool = x509.NewCertPool()
			}
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("--ca-file %s: no PEM certificates in it", opts.CAFile)
			}
			cfg.RootCAs = pool
		}
		tr.TLSClientConfig = cfg
	}
	c := &client{
		src:      src,
		hc:       &http.Client{Transport: tr, Timeout: opts.Timeout},
		opts:     opts,
		progress: opts.Progress,
	}
	if c.progress == nil {
		c.progress = new(Progress)
	}
	for _, vs := range opts.Headers {
		for _, v := range vs {
			c.addSecret(v)
		}
	}
	if p, ok := src.user.Password(); ok {
		c.addSecret(p)
	}
	return c, nil
}

// addSecret remembers a value to scrub from error text: the whole value and,
// for "Bearer xyz"-style values, the credential alone.
func (c *client) addSecret(v string) {
	v = strings.TrimSpace(v)
	if len(v) < 4 {
		return
	}
	c.secrets = append(c.secrets, v)
	if _, cred, ok := strings.Cut(v, " "); ok && len(strings.TrimSpace(cred)) >= 4 {
		c.secrets = append(c.secrets, strings.TrimSpace(cred))
	}
	// Longest first, so a value is scrubbed whole before its parts.
	sort.Slice(c.secrets, func(i, j int) bool { return len(c.secrets[i]) > len(c.secrets[j]) })
}

// scrub removes header values and passwords from text shown to the user:
// a server may echo a request's headers in its error page.
func (c *client) scrub(s string) string {
	for _, v := range c.secrets {
		s = strings.ReplaceAll(s, v, "REDACTED")
	}
	return s
}

// endpoint is the absolute URL of path under the source's base, with query.
func (c *client) endpoint(path string, q url.Values) *url.URL {
	u := *c.src.URL
	u.Path = c.src.URL.Path + path
	u.RawQuery = q.Encode()
	return &u
}

// display is a URL for messages and the manifest: never credentials.
func (c *client) display(u *url.URL) string { return c.scrub(u.Redacted()) }

// response is a fully read 2xx (or tolerated) response.
type response struct {
	URL    string // as displayed
	Status int
	Header http.Header
	Body   []byte
}

// statusError is a response the server refused, with its own message.
type statusError struct {
	URL     string
	Status  int
	Message string
	// JSON says the body was a JSON error document (the API answered, as
	// opposed to a proxy's or router's page).
	JSON bool
}

func (e *statusError) Error() string {
	return fmt.Sprintf("GET %s: HTTP %d %s: %s", e.URL, e.Status, http.StatusText(e.Status), e.Message)
}

// get fetches u, retrying on 429, 5xx, timeouts and cut-off bodies with
// exponential backoff (Retry-After wins when the server sends it). ok
// decides which statuses are answers; any other is a *statusError.
func (c *client) get(ctx context.Context, u *url.URL, accept string, ok func(int) bool) (*response, error) {
	shown := c.display(u)
	var last error
	for attempt := 0; ; attempt++ {
		resp, retryAfter, err := c.once(ctx, u, shown, accept, ok)
		if err == nil {
			return resp, nil
		}
		last = err
		if ctx.Err() != nil {
			return nil, fmt.Errorf("GET %s: %w", shown, context.Cause(ctx))
		}
		if !retryable(err) || attempt >= c.opts.Retries {
			break
		}
		wait := c.opts.Backoff << attempt
		wait = wait/2 + rand.N(wait/2+1) // jitter: several clients do not retry in step
		if retryAfter > 0 {
			wait = retryAfter
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("GET %s: %w", shown, context.Cause(ctx))
		case <-t.C:
		}
	}
	if c.opts.Retries > 0 && retryable(last) {
		return nil, fmt.Errorf("%w (gave up after %d attempts)", last, c.opts.Retries+1)
	}
	return nil, last
}

// retryAfterMax bounds a server's Retry-After: a pull is interactive.
const retryAfterMax = time.Minute

func (c *client) once(ctx context.Context, u *url.URL, shown, accept string, ok func(int) bool) (*response, time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, 0, fmt.Errorf("GET %s: %v", shown, err)
	}
	for k, vs := range c.opts.Headers {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if c.src.user != nil && req.Header.Get("Authorization") == "" { // an explicit header wins
		p, _ := c.src.user.Password()
		req.SetBasicAuth(c.src.user.Username(), p)
	}
	req.Header.Set("Accept", accept)
	req.Header.Set("User-Agent", "hopbudget-pull")
	c.progress.Requests.Add(1)
	resp, err := c.hc.Do(req)
	if err != nil {
		if isTimeout(err) && ctx.Err() == nil && c.opts.Timeout > 0 {
			return nil, 0, &transportError{url: shown, err: fmt.Errorf("no complete response within %v (--timeout)", c.opts.Timeout), timeout: true}
		}
		return nil, 0, &transportError{url: shown, err: errors.New(c.scrub(unwrapURLError(err).Error())), timeout: isTimeout(err)}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(&countingReader{r: resp.Body, n: &c.progress.Bytes})
	if err != nil {
		what := "reading the body"
		if resp.ContentLength >= 0 {
			what = fmt.Sprintf("reading the body (%d of %d bytes)", len(body), resp.ContentLength)
		}
		return nil, 0, &transportError{url: shown, err: fmt.Errorf("%s: %v: the download was cut off", what, c.scrub(unwrapURLError(err).Error())), timeout: true}
	}
	if !ok(resp.StatusCode) {
		msg, isJSON := serverMessage(resp.Header.Get("Content-Type"), body)
		se := &statusError{URL: shown, Status: resp.StatusCode, Message: c.scrub(msg), JSON: isJSON}
		return nil, retryAfter(resp.Header.Get("Retry-After")), se
	}
	if isHTML(resp.Header.Get("Content-Type"), body) {
		// A login page or a proxy's error page served with 200.
		msg, _ := serverMessage("text/html", body)
		return nil, 0, fmt.Errorf("GET %s: HTTP %d but %s, want JSON from the %s API (wrong URL or port, or a proxy login?)", shown, resp.StatusCode, c.scrub(msg), c.src.Backend)
	}
	return &response{URL: shown, Status: resp.StatusCode, Header: resp.Header, Body: body}, 0, nil
}

type transportError struct {
	url     string
	err     error
	timeout bool
}

func (e *transportError) Error() string { return fmt.Sprintf("GET %s: %v", e.url, e.err) }

func retryable(err error) bool {
	var te *transportError
	if errors.As(err, &te) {
		return true // refused, reset, timed out, cut off: all may pass
	}
	var se *statusError
	if errors.As(err, &se) {
		return se.Status == http.StatusTooManyRequests || se.Status >= 500
	}
	return false
}

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// retryAfter reads Retry-After as seconds or an HTTP date.
func retryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	var d time.Duration
	if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
		d = time.Duration(n) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = time.Until(t)
	}
	if d < 0 {
		return 0
	}
	return min(d, retryAfterMax)
}

type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

func isHTML(contentType string, body []byte) bool {
	if strings.HasPrefix(strings.ToLower(strings.TrimSpace(contentType)), "text/html") {
		return true
	}
	head := bytes.ToLower(bytes.TrimSpace(body[:min(len(body), 512)]))
	return bytes.HasPrefix(head, []byte("<!doctype html")) || bytes.HasPrefix(head, []byte("<html"))
}

var titleRE = regexp.MustCompile(`(?is)<title[^>]*>(.*?)</title>`)

// serverMessage finds the server's own words in an error body: Jaeger
// api_v3's {"error":{"message"}}, Jaeger's internal {"errors":[{"code",
// "msg"}]}, gRPC-gateway's {"code","message"}, an HTML page's title, or the
// start of a text body. isJSON says the body was one of the JSON shapes.
func serverMessage(contentType string, body []byte) (msg string, isJSON bool) {
	if isHTML(contentType, body) {
		if m := titleRE.FindSubmatch(body); m != nil {
			return fmt.Sprintf("an HTML page titled %q", oneLine(string(m[1]), 100)), false
		}
		return "an HTML page", false
	}
	var doc struct {
		Error *struct {
			Message string `json:"message"`
		} `json:"error"`
		Errors []struct {
			Code int    `json:"code"`
			Msg  string `json:"msg"`
		} `json:"errors"`
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &doc) == nil {
		switch {
		case doc.Error != nil && doc.Error.Message != "":
			return oneLine(doc.Error.Message, 300), true
		case len(doc.Errors) > 0:
			var parts []string
			for _, e := range doc.Errors {
				parts = append(parts, oneLine(e.Msg, 300))
			}
			return strings.Join(parts, "; "), true
		case doc.Message != "":
			return oneLine(doc.Message, 300), true
		}
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return "empty body", false
	}
	return strconv.Quote(oneLine(string(body), 200)), false
}

func oneLine(s string, max int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > max {
		s = s[:max] + "…"
	}
	return s
}

// ok2xx accepts success statuses only.
func ok2xx(code int) bool { return code >= 200 && code < 300 }

// jsonError says a 2xx body is not what the API returns.
func jsonError(shown string, body []byte, want string, err error) error {
	head := oneLine(string(body[:min(len(body), 80)]), 80)
	if len(bytes.TrimSpace(body)) == 0 {
		return fmt.Errorf("GET %s: empty body, want %s", shown, want)
	}
	return fmt.Errorf("GET %s: %v (%d bytes starting %q), want %s (a truncated download, or not that API?)", shown, err, len(body), head, want)
}

// ParseHeader reads a --header value, "Name: value".
func ParseHeader(h string) (name, value string, err error) {
	name, value, ok := strings.Cut(h, ":")
	name = strings.TrimSpace(name)
	if !ok || name == "" || strings.ContainsAny(name, " \t") {
		// Never echo the value: it is likely a credential.
		return "", "", fmt.Errorf("--header: want 'Name: value', got a value without a name before ':' (%d characters)", len(h))
	}
	return http.CanonicalHeaderKey(name), strings.TrimSpace(value), nil
}

// EnvHeaders reads HOPBUDGET_PULL_HEADERS, in the format of
// OTEL_EXPORTER_OTLP_HEADERS (comma-separated name=value, values
// URL-encoded), and HOPBUDGET_PULL_TOKEN (sent as "Authorization: Bearer
// TOKEN"). Errors never quote values.
func EnvHeaders(headers, token string) (http.Header, error) {
	h := http.Header{}
	for i, kv := range strings.Split(headers, ",") {
		if strings.TrimSpace(kv) == "" {
			continue
		}
		k, v, ok := strings.Cut(kv, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, fmt.Errorf("HOPBUDGET_PULL_HEADERS: entry %d is not name=value", i+1)
		}
		dv, err := url.PathUnescape(strings.TrimSpace(v))
		if err != nil {
			return nil, fmt.Errorf("HOPBUDGET_PULL_HEADERS: the value of %s is not URL-encoded text", k)
		}
		h.Add(k, dv)
	}
	if t := strings.TrimSpace(token); t != "" {
		h.Set("Authorization", "Bearer "+t)
	}
	return h, nil
}
