package cmd

import (
	"fmt"
	"sync"
	"time"

	"github.com/spf13/pflag"

	"hopbudget/analyze"
	"hopbudget/tracefmt"
)

// inputOptions are the flags every command that reads traces shares.
type inputOptions struct {
	Format string
	Strict bool
}

func (o *inputOptions) addFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Format, "format", "auto", "input format: auto or one of "+fmt.Sprint(tracefmt.Formats()))
	fs.BoolVar(&o.Strict, "strict", false, "treat warnings (rejected spans, skipped files, …) as errors: exit code 2")
}

// readInputs reads every path, drawing progress on stderr when it is a
// terminal. Decode errors come back as input errors (exit code 2).
func readInputs(s *Streams, paths []string, o inputOptions) (*tracefmt.Result, error) {
	format, err := tracefmt.ParseFormat(o.Format)
	if err != nil {
		return nil, inputError(err)
	}
	opts := tracefmt.Options{Format: format, Stdin: s.In}
	if s.ErrIsTerminal {
		opts.Progress = new(tracefmt.Progress)
		stop := drawProgress(s, opts.Progress)
		defer stop()
	}
	res, err := tracefmt.Read(paths, opts)
	if err != nil {
		return nil, inputError(err)
	}
	// One trace order whatever the order of the files (issue 17 item 9).
	analyze.SortTraces(res.Traces)
	return res, nil
}

// strictCheck fails a --strict run that produced warnings.
func strictCheck(o inputOptions, sum tracefmt.Summary) error {
	if o.Strict && len(sum.Warnings) > 0 {
		n := 0
		for _, w := range sum.Warnings {
			n += w.Count
		}
		return inputError(fmt.Errorf("--strict: %d warnings (first: %s)", n, sum.Warnings[0].Example))
	}
	return nil
}

// drawProgress redraws one status line on stderr until stop is called.
func drawProgress(s *Streams, p *tracefmt.Progress) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		start := time.Now()
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		drawn := false
		for {
			select {
			case <-done:
				if drawn {
					fmt.Fprint(s.Err, "\r\033[K")
				}
				return
			case <-t.C:
				sec := time.Since(start).Seconds()
				b, n := p.Bytes.Load(), p.Spans.Load()
				fmt.Fprintf(s.Err, "\r\033[Kreading: %s (%s/s), %d spans (%.0f spans/s)",
					humanBytes(b), humanBytes(int64(float64(b)/sec)), n, float64(n)/sec)
				drawn = true
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
