// Command hopbudget-beam runs hopbudget's analysis as an Apache Beam
// pipeline and writes one summary file that `hopbudget check` and
// `hopbudget report` read. Beam's own flags (--runner, --endpoint,
// --project, --region, --staging_location, ...) select and configure the
// runner; without --runner it runs on Prism, in this process.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem/gcs" // gs://
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem/s3"  // s3://
	"github.com/apache/beam/sdks/v2/go/pkg/beam/x/beamx"

	"hopbudget/beam/pipeline"
)

// repeated is a flag that may be given several times.
type repeated []string

func (r *repeated) String() string     { return strings.Join(*r, ",") }
func (r *repeated) Set(v string) error { *r = append(*r, v); return nil }

func main() {
	var c pipeline.Config
	var clocks repeated
	skew := true
	flag.Var((*repeated)(&c.Inputs), "input", "trace files: a path or glob, local or in any filesystem Beam has (gs://, s3://); repeatable")
	flag.StringVar(&c.Output, "output", "", "the summary file to write (local, gs:// or s3://)")
	flag.StringVar(&c.CriticalPath, "critical-path", "default", "critical-path definition: default or jaeger (as hopbudget's)")
	flag.BoolVar(&skew, "skew-adjust", true, "shift cross-service children that do not fit their parent (clock skew)")
	flag.Var(&clocks, "clock-granularity", "a service's start-clock granularity, SERVICE=DURATION or *=DURATION (0 = exact; default: detected); repeatable")
	flag.IntVar(&c.BatchSpans, "batch-spans", pipeline.DefaultBatchSpans, "spans of the traces analysed together in one partial summary")
	flag.Parse()
	// On a worker, Init runs the SDK harness and never returns.
	beam.Init()
	c.NoSkewAdjust, c.Clocks = !skew, clocks
	if err := run(context.Background(), c, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "hopbudget-beam:", err)
		os.Exit(2)
	}
}

func run(ctx context.Context, c pipeline.Config, out io.Writer) error {
	if len(c.Inputs) == 0 || c.Output == "" {
		return fmt.Errorf("--input and --output are required")
	}
	p, s := beam.NewPipelineWithRoot()
	if err := pipeline.Build(s, c); err != nil {
		return err
	}
	res, err := beamx.RunWithMetrics(ctx, p)
	if err != nil {
		return err
	}
	if res != nil { // an asynchronous submission returns before any figure
		st := pipeline.StatsOf(res)
		fmt.Fprintf(out, "%d files (%d without spans), %d spans, %d traces, %d partial summaries: wrote %s\n",
			st.Files, st.EmptyFiles, st.Spans, st.Traces, st.Summaries, c.Output)
	}
	return nil
}
