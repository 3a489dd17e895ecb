package cmd

import (
	"fmt"
	"sync"
	"time"

	"hopbudget/tracefmt"
)

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
