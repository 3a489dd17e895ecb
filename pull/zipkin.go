package pull

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"strconv"
	"strings"
)

// Zipkin (port 9411) answers GET /api/v2/traces with a JSON array of
// traces, each an array of Zipkin v2 spans. endTs and lookback are
// milliseconds, minDuration microseconds; annotationQuery is
// "key=value and key2=value2". Errors are plain text.

func (c *client) pullZipkin(ctx context.Context, q Query, s *saver) error {
	s.m.API = "v2"
	v := url.Values{}
	if q.Service != "" {
		v.Set("serviceName", q.Service)
	}
	if q.Operation != "" {
		v.Set("spanName", q.Operation)
	}
	if len(q.Tags) > 0 {
		v.Set("annotationQuery", strings.Join(q.Tags, " and "))
	}
	v.Set("endTs", strconv.FormatInt(q.End.UnixMilli(), 10))
	// Round the lookback up so the window starts no later than asked.
	lb := q.End.Sub(q.Start)
	lbMs := lb.Milliseconds()
	if lb%1e6 != 0 {
		lbMs++
	}
	v.Set("lookback", strconv.FormatInt(lbMs, 10))
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	if q.MinDuration > 0 {
		v.Set("minDuration", strconv.FormatInt(q.MinDuration.Microseconds(), 10))
	}
	u := c.endpoint("/api/v2/traces", v)
	resp, err := c.get(ctx, u, "application/json", ok2xx)
	if err != nil {
		s.missing("/api/v2/traces search", c.display(u), err)
		return err
	}
	var traces []json.RawMessage
	err = json.Unmarshal(resp.Body, &traces)
	if err == nil {
		for i, t := range traces {
			var spans []json.RawMessage
			if json.Unmarshal(t, &spans) != nil {
				err = errors.New("element " + strconv.Itoa(i) + " is not an array of spans")
				break
			}
		}
	}
	if err != nil {
		err = jsonError(resp.URL, resp.Body, "Zipkin v2 JSON [[spans of a trace], …]", err)
		s.missing("/api/v2/traces search", resp.URL, err)
		return err
	}
	return s.save("zipkin-api-v2-traces.json", resp, len(traces), "")
}
