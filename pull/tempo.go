package pull

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// Tempo (HTTP port 3200) is searched, then read trace by trace:
//
//   - GET /api/search?q=<TraceQL>&start=&end=&limit= (unix seconds) returns
//     {"traces":[{"traceID", "rootServiceName", …}], "metrics":{…}}: IDs only.
//   - GET /api/v2/traces/<id> returns {"trace": OTLP JSON (base64 IDs),
//     "status": "COMPLETE"|"PARTIAL", "message": …}. PARTIAL means Tempo
//     cut the trace (a size limit): it is saved and warned about.
//
// The search response is kept as .tempo-search.json (hidden: it holds no
// spans); each trace is saved as tempo-<traceID>.json.

func (c *client) pullTempo(ctx context.Context, q Query, s *saver) error {
	s.m.API = "search+v2"
	traceQL := q.TraceQL
	if traceQL == "" {
		traceQL = buildTraceQL(q)
		s.m.Query.TraceQL = traceQL
	} else if q.Service != "" || q.Operation != "" || len(q.Tags) > 0 || q.MinDuration > 0 {
		s.warn("--query is given: --service, --operation, --tag and --min-duration are ignored")
	}
	v := url.Values{}
	v.Set("q", traceQL)
	v.Set("start", strconv.FormatInt(q.Start.Unix(), 10))
	// Whole seconds: round the end up so the window is never shorter.
	end := q.End.Unix()
	if q.End.Nanosecond() > 0 {
		end++
	}
	v.Set("end", strconv.FormatInt(end, 10))
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	u := c.endpoint("/api/search", v)
	resp, err := c.get(ctx, u, "application/json", ok2xx)
	if err != nil {
		s.missing("search", c.display(u), err)
		return err
	}
	var res struct {
		Traces *[]struct {
			TraceID string `json:"traceID"`
		} `json:"traces"`
	}
	if err := json.Unmarshal(resp.Body, &res); err != nil || res.Traces == nil {
		if err == nil {
			err = errors.New(`no "traces" member`)
		}
		err = jsonError(resp.URL, resp.Body, `Tempo search results {"traces": [{"traceID": …}]}`, err)
		s.missing("search", resp.URL, err)
		return err
	}
	if err := s.saveHidden("tempo-search.json", resp.Body); err != nil {
		return err
	}
	var ids []string
	seen := map[string]bool{}
	for _, t := range *res.Traces {
		id := strings.ToLower(t.TraceID)
		if !traceIDRE.MatchString(id) {
			// It becomes a file name: never trust it as a path.
			s.warn("%s: skipped a trace ID that is not hex: %q", resp.URL, oneLine(t.TraceID, 40))
			continue
		}
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	if c.progress != nil {
		c.progress.Want.Store(int64(len(ids)))
	}
	return c.tempoTraces(ctx, ids, s)
}

var traceIDRE = regexp.MustCompile(`^[0-9a-f]{1,32}$`)

// tempoTraces fetches traces with at most Concurrency requests in flight.
// The first failure stops new fetches (a down server would otherwise be
// retried once per trace); every trace not saved is listed as missing.
func (c *client) tempoTraces(ctx context.Context, ids []string, s *saver) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
		sem      = make(chan struct{}, c.opts.Concurrency)
	)
	for _, id := range ids {
		u := c.endpoint("/api/v2/traces/"+id, nil)
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			s.missing("trace "+id, c.display(u), errors.New("not fetched: the pull stopped early"))
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := c.tempoTrace(ctx, id, u, s); err != nil {
				mu.Lock()
				first := firstErr == nil && ctx.Err() == nil
				if first {
					firstErr = err
					cancel(err)
				}
				mu.Unlock()
				if !first {
					err = errors.New("not fetched: the pull stopped early")
				}
				s.missing("trace "+id, c.display(u), err)
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	if err := context.Cause(ctx); err != nil { // the caller's cancellation
		return fmt.Errorf("%s: %w", c.display(c.src.URL), err)
	}
	return nil
}

func (c *client) tempoTrace(ctx context.Context, id string, u *url.URL, s *saver) error {
	resp, err := c.get(ctx, u, "application/json", ok2xx)
	if err != nil {
		var se *statusError
		if errors.As(err, &se) && se.Status == http.StatusNotFound {
			return fmt.Errorf("%w (trace %s was in the search results but is gone: retention?)", err, id)
		}
		return err
	}
	var doc struct {
		Trace   *json.RawMessage `json:"trace"`
		Status  string           `json:"status"`
		Message string           `json:"message"`
	}
	if err := json.Unmarshal(resp.Body, &doc); err != nil || doc.Trace == nil {
		if err == nil {
			err = errors.New(`no "trace" member`)
		}
		return jsonError(resp.URL, resp.Body, `a Tempo v2 trace {"trace": {"resourceSpans": …}, "status": …}`, err)
	}
	if doc.Status == "PARTIAL" {
		msg := ""
		if doc.Message != "" {
			msg = ": " + oneLine(doc.Message, 200)
		}
		s.warn("trace %s is PARTIAL (Tempo cut it short%s); saved as is, its analysis may miss spans", id, c.scrub(msg))
	}
	return s.save("tempo-"+id+".json", resp, 1, doc.Status)
}

// buildTraceQL turns the query's fields into one TraceQL spanset filter:
// all conditions on the same span. Tag values that read as numbers or
// booleans are compared as such (http.status_code=500); quote them in a
// --query to compare strings.
func buildTraceQL(q Query) string {
	var conds []string
	if q.Service != "" {
		conds = append(conds, "resource.service.name = "+strconv.Quote(q.Service))
	}
	if q.Operation != "" {
		conds = append(conds, "name = "+strconv.Quote(q.Operation))
	}
	for _, t := range q.Tags {
		k, v, _ := strings.Cut(t, "=")
		conds = append(conds, "."+k+" = "+traceQLValue(v))
	}
	if q.MinDuration > 0 {
		conds = append(conds, "duration >= "+q.MinDuration.String())
	}
	if len(conds) == 0 {
		return "{}"
	}
	return "{ " + strings.Join(conds, " && ") + " }"
}

func traceQLValue(v string) string {
	if v == "true" || v == "false" {
		return v
	}
	if _, err := strconv.ParseInt(v, 10, 64); err == nil {
		return v
	}
	if _, err := strconv.ParseFloat(v, 64); err == nil && !strings.ContainsAny(v, "xXpPnN") {
		return v
	}
	return strconv.Quote(v)
}
