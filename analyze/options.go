package analyze

import (
	"fmt"
	"runtime"
	"time"
)

// Mode selects the critical-path definition.
type Mode string

const (
	// ModeDefault is hopbudget's definition (see the package doc).
	ModeDefault Mode = "default"
	// ModeJaeger reproduces the critical path the Jaeger UI (v2.15+) draws.
	ModeJaeger Mode = "jaeger"
)

// ParseMode checks a --critical-path value ("" means default).
func ParseMode(s string) (Mode, error) {
	switch Mode(s) {
	case "", ModeDefault:
		return ModeDefault, nil
	case ModeJaeger:
		return ModeJaeger, nil
	}
	return "", fmt.Errorf("unknown critical-path mode %q: want default or jaeger", s)
}

// Options controls Analyze. The zero value is the default analysis (that of
// `hopbudget analyze` without flags): every field turns something on or off
// relative to it.
type Options struct {
	// CriticalPath is the critical-path definition ("" = default).
	CriticalPath Mode
	// NoSkewAdjust turns off the clock-skew pass, which shifts
	// cross-service children that do not fit in their parent. Jaeger mode
	// never corrects skew, whatever this says.
	NoSkewAdjust bool
	// Endpoint restricts the analysis to traces whose primary root matches
	// (service, operation). nil keeps every trace.
	Endpoint func(service, operation string) bool
	// PerTrace fills Report.Traces with every trace's critical path and
	// fan-in groups.
	PerTrace bool
	// Suggest fills Report.Parallelizable: serial sibling calls that could
	// run together, with the what-if saving. Off by default: it costs an
	// extra pass over every trace's calls.
	Suggest bool
	// SuggestDependent also lists pairs whose evidence is only "possibly
	// dependent" (the later call starts right after the earlier one ends).
	SuggestDependent bool
	// SerialTolerance: an apparent overlap of two sibling calls up to this
	// long still counts as serial, and a call starting up to this long
	// after another's end starts "right after" it. 0 means
	// DefaultSerialTolerance; negative means none.
	SerialTolerance time.Duration
	// WhatIf: calls to make faster (or slower); fills Report.WhatIf. At
	// most MaxWhatIfs are used.
	WhatIf []WhatIf
	// ClockGranularity overrides the detected clock granularity of
	// services (key ClockAll: every service); 0 forces an exact clock. See
	// clock.go and grammar.ParseClockGranularity.
	ClockGranularity map[string]time.Duration
	// Workers is the number of goroutines for per-trace work; <= 0 means
	// GOMAXPROCS. Results do not depend on it.
	Workers int
}

// DefaultOptions are the defaults of `hopbudget analyze`: the zero value,
// named for callers that read better with it.
func DefaultOptions() Options {
	return Options{}
}

func (o *Options) workers(traces int) int {
	w := o.Workers
	if w <= 0 {
		w = runtime.GOMAXPROCS(0)
	}
	return max(1, min(w, traces))
}
