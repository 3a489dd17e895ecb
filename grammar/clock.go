package grammar

import (
	"strings"
	"time"
)

// ClockAll is the ClockGranularity key that applies to every service.
const ClockAll = "*"

// ParseClockGranularity reads --clock-granularity values, one per flag:
//
//	value    = "auto"                 detect from the data (no override)
//	         | service "=" duration   spaces allowed around service and duration
//	service  = name | "*"             "*": every service
//	duration = "0" | Go duration ≥ 0  e.g. 1ms, 100us; 0 forces an exact clock
//
// A later value for the same service wins. The result is nil when no value
// overrides anything.
func ParseClockGranularity(vals []string) (map[string]time.Duration, error) {
	const g = "clock granularity"
	var m map[string]time.Duration
	for _, v := range vals {
		if v == "auto" {
			continue
		}
		eq := strings.IndexByte(v, '=')
		if eq < 0 {
			return nil, errAt(g, v, 0, `no "="`, v, "auto, SERVICE=DURATION or *=DURATION (e.g. web=1ms)")
		}
		svc, _ := field(v, 0, eq)
		if svc == "" {
			return nil, errAt(g, v, 0, "no service", v[:eq+1], `a service name or "*" before "=" (e.g. web=1ms)`)
		}
		d, dOff := field(v, eq+1, len(v))
		dur, err := time.ParseDuration(d)
		if err != nil && d == "0" {
			dur, err = 0, nil
		}
		if err != nil || dur < 0 {
			return nil, errAt(g, v, dOff, "bad duration", d, "a duration of 0 or more, e.g. 1ms")
		}
		if m == nil {
			m = map[string]time.Duration{}
		}
		m[svc] = dur
	}
	return m, nil
}
