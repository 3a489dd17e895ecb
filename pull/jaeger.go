package pull

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Jaeger has two query APIs on the query port (16686):
//
//   - api_v3, GET /api/v3/traces: OTLP JSON wrapped as {"result": …}
//     (Jaeger v2 sends one object; v1's gRPC gateway streams one per
//     chunk). No match is a 404 with {"error":{"message":"No traces found"}}.
//   - the internal API the UI uses, GET /api/traces: {"data":[traces],
//     "errors":[{"code","msg"}]} in Jaeger UI JSON, µs times.
//
// Both responses are saved as they come; tracefmt reads both.

func (c *client) pullJaeger(ctx context.Context, q Query, s *saver) error {
	api := c.opts.JaegerAPI
	switch api {
	case "", "auto":
		if len(q.Tags) > 0 {
			// api_v3's HTTP gateway (Jaeger v1.75 / v2.12 checked) drops
			// attributes: the internal API filters by tags.
			s.m.API = "internal"
			return c.jaegerInternal(ctx, q, s)
		}
		s.m.API = "api_v3"
		err := c.jaegerV3(ctx, q, s)
		var na *noAPIError
		if !errors.As(err, &na) {
			return err
		}
		s.warn("%s has no api_v3 (%v); using the internal API /api/traces", c.display(c.src.URL), na.err)
		fallthrough
	case "internal":
		s.m.API = "internal"
		return c.jaegerInternal(ctx, q, s)
	case "v3":
		s.m.API = "api_v3"
		if len(q.Tags) > 0 {
			s.warn("--tag with --api v3: Jaeger's api_v3 HTTP gateway may ignore query.attributes (v1.75 / v2.12 does); --api internal filters by tags")
		}
		return c.jaegerV3(ctx, q, s)
	}
	return fmt.Errorf("--api %q: want v3, internal or auto", api)
}

// noAPIError says the server does not serve an API at all (as opposed to
// answering a query with an error).
type noAPIError struct{ err error }

func (e *noAPIError) Error() string { return e.err.Error() }

func (c *client) jaegerV3(ctx context.Context, q Query, s *saver) error {
	v := url.Values{}
	v.Set("query.service_name", q.Service)
	if q.Operation != "" {
		v.Set("query.operation_name", q.Operation)
	}
	v.Set("query.start_time_min", q.Start.UTC().Format(time.RFC3339Nano))
	v.Set("query.start_time_max", q.End.UTC().Format(time.RFC3339Nano))
	if q.MinDuration > 0 {
		// Seconds with an "s": both protobuf JSON's Duration (gRPC
		// gateway) and time.ParseDuration (Jaeger's own gateway) read it.
		v.Set("query.duration_min", strconv.FormatFloat(q.MinDuration.Seconds(), 'f', -1, 64)+"s")
	}
	if q.Limit > 0 {
		// The gateway reads num_traces (into the query's SearchDepth, as
		// of v1.75); search_depth is the field's newer name. Unknown
		// parameters are ignored, so both are sent.
		v.Set("query.num_traces", strconv.Itoa(q.Limit))
		v.Set("query.search_depth", strconv.Itoa(q.Limit))
	}
	if len(q.Tags) > 0 {
		attrs, err := tagMap(q.Tags)
		if err != nil {
			return err
		}
		b, _ := json.Marshal(attrs)
		v.Set("query.attributes", string(b))
	}
	u := c.endpoint("/api/v3/traces", v)
	resp, err := c.get(ctx, u, "application/json", ok2xx)
	if err != nil {
		var se *statusError
		if errors.As(err, &se) {
			switch {
			case se.Status == http.StatusNotFound && se.JSON:
				return nil // the API answered: nothing matched
			case se.Status == http.StatusNotFound || se.Status == http.StatusMethodNotAllowed || se.Status == http.StatusNotImplemented:
				return &noAPIError{err: err}
			}
		}
		s.missing("api_v3 search", c.display(u), err)
		return err
	}
	n, streamErr, err := countV3(resp.Body)
	if err != nil {
		err = jsonError(resp.URL, resp.Body, `OTLP JSON in {"result": …} (Jaeger api_v3)`, err)
		s.missing("api_v3 search", resp.URL, err)
		return err
	}
	if err := s.save("jaeger-api_v3.json", resp, n, ""); err != nil {
		return err
	}
	if streamErr != "" {
		err := fmt.Errorf("GET %s: the server ended the stream with an error after %d traces: %s", resp.URL, n, c.scrub(streamErr))
		s.missing("rest of the api_v3 stream", resp.URL, err)
		return err
	}
	return nil
}

// countV3 counts the distinct trace IDs in an api_v3 response, one or more
// {"result": TracesData} objects in a row; a stream may end in {"error"}.
func countV3(body []byte) (traces int, streamErr string, err error) {
	type doc struct {
		Result *struct {
			ResourceSpans []struct {
				ScopeSpans []struct {
					Spans []struct {
						TraceID string `json:"traceId"`
					} `json:"spans"`
				} `json:"scopeSpans"`
			} `json:"resourceSpans"`
		} `json:"result"`
		Error *struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	seen := map[string]bool{}
	d := json.NewDecoder(bytes.NewReader(body))
	objects := 0
	for {
		var x doc
		if err := d.Decode(&x); err == io.EOF {
			break
		} else if err != nil {
			return 0, "", err
		}
		objects++
		if x.Error != nil {
			return len(seen), x.Error.Message, nil
		}
		if x.Result == nil {
			return 0, "", errors.New(`no "result" member`)
		}
		for _, rs := range x.Result.ResourceSpans {
			for _, ss := range rs.ScopeSpans {
				for _, sp := range ss.Spans {
					seen[sp.TraceID] = true
				}
			}
		}
	}
	if objects == 0 {
		return 0, "", errors.New("no JSON object")
	}
	return len(seen), "", nil
}

func (c *client) jaegerInternal(ctx context.Context, q Query, s *saver) error {
	v := url.Values{}
	v.Set("service", q.Service)
	if q.Operation != "" {
		v.Set("operation", q.Operation)
	}
	if len(q.Tags) > 0 {
		tags, err := tagMap(q.Tags)
		if err != nil {
			return err
		}
		b, _ := json.Marshal(tags)
		v.Set("tags", string(b))
	}
	v.Set("start", strconv.FormatInt(q.Start.UnixMicro(), 10))
	v.Set("end", strconv.FormatInt(q.End.UnixMicro(), 10))
	if q.Lookback > 0 {
		v.Set("lookback", shortDuration(q.Lookback))
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	if q.MinDuration > 0 {
		v.Set("minDuration", q.MinDuration.String())
	}
	u := c.endpoint("/api/traces", v)
	resp, err := c.get(ctx, u, "application/json", ok2xx)
	if err != nil {
		s.missing("/api/traces search", c.display(u), err)
		return err
	}
	var doc struct {
		Data   *[]json.RawMessage `json:"data"`
		Errors []struct {
			Code int    `json:"code"`
			Msg  string `json:"msg"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(resp.Body, &doc); err != nil || doc.Data == nil && len(doc.Errors) == 0 {
		if err == nil {
			err = errors.New(`no "data" member`)
		}
		err = jsonError(resp.URL, resp.Body, `Jaeger UI JSON {"data": [traces]} (Jaeger /api/traces)`, err)
		s.missing("/api/traces search", resp.URL, err)
		return err
	}
	var n int
	if doc.Data != nil {
		n = len(*doc.Data)
	}
	// A 200 may carry errors beside data: traces the query service could
	// not load. Keep what came and say what did not.
	for _, e := range doc.Errors {
		s.warn("%s: the server reported: %s (code %d)", resp.URL, c.scrub(e.Msg), e.Code)
	}
	if n == 0 && len(doc.Errors) > 0 {
		err := fmt.Errorf("GET %s: no traces, and the server reported: %s", resp.URL, c.scrub(doc.Errors[0].Msg))
		s.missing("/api/traces search", resp.URL, err)
		return err
	}
	return s.save("jaeger-api-traces.json", resp, n, "")
}

// tagMap reads key=value tags; Jaeger takes them as a JSON object.
func tagMap(tags []string) (map[string]string, error) {
	m := make(map[string]string, len(tags))
	for _, t := range tags {
		k, v, ok := strings.Cut(t, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("--tag %q: want key=value", t)
		}
		m[k] = v
	}
	return m, nil
}
