package cmd

import (
	"fmt"

	"github.com/spf13/pflag"

	"hopbudget/analyze"
	"hopbudget/grammar"
)

// analysisFlags are the flags that shape the analysis, shared by every
// command that analyses traces (analyze, check, suggest, profile, report,
// diff, record --budget; trace takes the ones that apply to one trace), so
// that they analyse alike.
type analysisFlags struct {
	CriticalPath string
	SkewAdjust   bool
	Clocks       []string
	Endpoint     string
	Workers      int
}

func (o *analysisFlags) addFlags(f *pflag.FlagSet) {
	f.StringVar(&o.Endpoint, "endpoint", "", "only traces whose root matches SERVICE:OPERATION (globs; '*' matches '/')")
	o.addTraceFlags(f)
	f.IntVar(&o.Workers, "workers", 0, "goroutines for per-trace analysis (0 = all cores)")
}

// addTraceFlags binds the flags that shape the analysis of each trace.
func (o *analysisFlags) addTraceFlags(f *pflag.FlagSet) {
	f.StringVar(&o.CriticalPath, "critical-path", "default", "critical-path definition: default or jaeger (what the Jaeger UI draws)")
	f.BoolVar(&o.SkewAdjust, "skew-adjust", true, "shift cross-service children that do not fit their parent (clock skew)")
	addClockFlag(f, &o.Clocks)
}

// addClockFlag binds --clock-granularity (analyze.Options.ClockGranularity
// once parsed by grammar.ParseClockGranularity).
func addClockFlag(f *pflag.FlagSet, clocks *[]string) {
	f.StringArrayVar(clocks, "clock-granularity", []string{"auto"},
		"a service's start-clock granularity, SERVICE=DURATION or *=DURATION (e.g. web=1ms; 0 = exact); auto detects it from the data (repeatable)")
}

// options checks the flags and turns them into analyze.Options.
func (o *analysisFlags) options() (analyze.Options, error) {
	mode, err := analyze.ParseMode(o.CriticalPath)
	if err != nil {
		return analyze.Options{}, err
	}
	filter, err := endpointFilter(o.Endpoint)
	if err != nil {
		return analyze.Options{}, err
	}
	clocks, err := grammar.ParseClockGranularity(o.Clocks)
	if err != nil {
		return analyze.Options{}, fmt.Errorf("--clock-granularity: %v", err)
	}
	return analyze.Options{CriticalPath: mode, NoSkewAdjust: !o.SkewAdjust, Endpoint: filter, Workers: o.Workers,
		ClockGranularity: clocks}, nil
}
