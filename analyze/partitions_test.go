package analyze

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"

	"hopbudget/tracefmt"
)

// fakeParts splits traces into n partitions at random, each in a random
// order (as a spilled Result's partitions are: by hash, in input order).
type fakeParts struct {
	parts [][]tracefmt.Trace
	loads int
	fail  int // LoadPartition(fail) fails once loads reach it (-1: never)
}

func splitTraces(traces []tracefmt.Trace, n int, seed uint64) *fakeParts {
	rng := rand.New(rand.NewPCG(seed, 1))
	f := &fakeParts{parts: make([][]tracefmt.Trace, n), fail: -1}
	for _, tr := range traces {
		p := rng.IntN(n)
		f.parts[p] = append(f.parts[p], tr)
	}
	for _, p := range f.parts {
		rng.Shuffle(len(p), func(i, j int) { p[i], p[j] = p[j], p[i] })
	}
	return f
}

func (f *fakeParts) Partitions() int { return len(f.parts) }

func (f *fakeParts) LoadPartition(i int) ([]tracefmt.Trace, error) {
	f.loads++
	if f.fail >= 0 && f.loads > f.fail {
		return nil, errors.New("disk gone")
	}
	return f.parts[i], nil
}

// AnalyzePartitions gives Analyze's report over the sorted traces, every
// field (the JSON and what only renderers and budgets read: samples, trace
// rows), whatever the partitioning and the worker count.
func TestAnalyzePartitionsSameAsAnalyze(t *testing.T) {
	perTrace := DefaultOptions()
	perTrace.PerTrace = true
	for _, tc := range []struct {
		name string
		args []string
		opts Options
	}{
		{"mixed", []string{"-scenario", "mixed", "-traces", "400", "-seed", "2", "-dup", "0.01", "-orphans", "0.05", "-skew-ms", "20"}, perTrace},
		{"shop ms-clock suggest", []string{"-scenario", "shop", "-traces", "400", "-seed", "3", "-ms-clock", "web"}, suggestOpts()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			traces, _ := generate(t, tc.args...)
			SortTraces(traces)
			want := mustAnalyze(traces, tc.opts)
			wantJSON, _ := json.Marshal(want)
			for _, n := range []int{1, 7, 64} {
				for _, workers := range []int{1, 3} {
					opts := tc.opts
					opts.Workers = workers
					src := splitTraces(traces, n, uint64(n*10+workers))
					got, err := AnalyzePartitions(context.Background(), src, opts)
					if err != nil {
						t.Fatal(err)
					}
					gotJSON, _ := json.Marshal(got)
					if string(gotJSON) != string(wantJSON) {
						t.Fatalf("%d partitions, %d workers: JSON differs", n, workers)
					}
					if !reflect.DeepEqual(got, want) {
						t.Fatalf("%d partitions, %d workers: report differs (outside the JSON)", n, workers)
					}
					if src.loads != 2*n {
						t.Errorf("%d partitions loaded %d times", n, src.loads)
					}
				}
			}
		})
	}
}

func TestAnalyzePartitionsErrors(t *testing.T) {
	traces, _ := generate(t, "-scenario", "checkout", "-traces", "50", "-seed", "1")
	for _, fail := range []int{0, 3, 5} {
		src := splitTraces(traces, 4, 1)
		src.fail = fail
		if _, err := AnalyzePartitions(context.Background(), src, DefaultOptions()); err == nil || err.Error() != "disk gone" {
			t.Errorf("fail at load %d: err = %v", fail, err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := AnalyzePartitions(ctx, splitTraces(traces, 4, 1), DefaultOptions()); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: err = %v", err)
	}
}

func TestClockStatsMergeable(t *testing.T) {
	traces, _ := generate(t, "-scenario", "shop", "-traces", "200", "-seed", "3", "-ms-clock", "web")
	want := DetectClocks(traces, nil)
	coarse := 0
	for _, c := range want {
		if c.GranularityNs > 0 {
			coarse++
		}
	}
	if coarse == 0 {
		t.Fatalf("no millisecond clock detected in %v: the test tests nothing", want)
	}
	src := splitTraces(traces, 5, 9)
	got, err := DetectClocksPartitions(context.Background(), src, nil)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("clocks over partitions %v, over all %v", got, want)
	}
}

// BuildProfilesPartitions gives BuildProfiles' profiles over the sorted
// traces, for every band (bands rank requests over all partitions), whatever
// the partitioning and the worker count.
func TestBuildProfilesPartitionsSameAsBuildProfiles(t *testing.T) {
	traces, _ := generate(t, "-scenario", "mixed", "-traces", "400", "-seed", "4", "-dup", "0.01", "-ms-clock", "frontend")
	SortTraces(traces)
	bands := []Band{{}, {Lo: 90, Hi: 100}, {Lo: 0, Hi: 50}, {Lo: 99.5, Hi: 100}}
	for _, opts := range []Options{DefaultOptions(), {CriticalPath: ModeJaeger}} {
		want := mustBuildProfiles(traces, opts, bands)
		for _, n := range []int{1, 7, 64} {
			for _, workers := range []int{1, 3} {
				o := opts
				o.Workers = workers
				got, err := BuildProfilesPartitions(context.Background(), splitTraces(traces, n, uint64(n+workers)), o, bands)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("mode %s, %d partitions, %d workers: profiles differ", opts.CriticalPath, n, workers)
				}
			}
		}
	}
}
