package cmd

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"hopbudget/receiver"
)

// RecordOptions are the flags of `hopbudget record`.
type RecordOptions struct {
	Listen  string
	GRPC    string
	HTTP    string
	Out     string
	MaxBody string
	// MaxInFlightBytes and BodyTimeout are the receiver's other limits.
	MaxInFlightBytes string
	BodyTimeout      time.Duration
	Settle           time.Duration
	Duration         time.Duration
	// Check is the evaluation run on the recording when Check.Budget is set.
	Check   CheckOptions
	Command []string

	// StopGrace is how long a command asked to stop (by --duration or an
	// interruption) has before it is killed.
	StopGrace time.Duration
}

func newRecordCmd(s *Streams) *cobra.Command {
	opts := &RecordOptions{StopGrace: 10 * time.Second}
	c := &cobra.Command{
		Use:   "record [flags] [--] [COMMAND [ARGS...]]",
		Short: "Receive OTLP traces from a run, write them to a file, optionally check a budget",
		Long: `record is an OTLP trace receiver for the length of a run: OTLP/HTTP (POST /v1/traces,
protobuf or JSON, gzip or zstd; HTTP/1.1 or HTTP/2) and OTLP/gRPC (TraceService/Export, gzip
or zstd) on one port (--listen, loopback by default); --http and --grpc add ports serving
one transport each. Everything received is written, losslessly, to --out as OTLP JSON Lines
(one export request per line, hex IDs; zstd when the name ends in .zst); a request is
acknowledged once its line is in the file. Every command reads the file back.

With a COMMAND, record runs it with OTEL_TRACES_EXPORTER=otlp, OTEL_EXPORTER_OTLP_ENDPOINT
and OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf (and the traces-only variants) pointing at the
receiver: an SDK configured by these variables exports OTLP/HTTP, and a gRPC exporter chosen
in code reaches the same port. record passes SIGINT, SIGTERM and SIGHUP on to the command
(which is killed if record itself dies, on Linux), waits for it to exit, waits --settle for
late exports and stops. Without one, it records until interrupted or for --duration. With a
COMMAND, --duration stops it (SIGTERM, SIGKILL 10s later); its exit status is then not a
failure.

With --budget, the recording is checked as 'hopbudget check' would check the file, with the
same flags, output and exit codes (without --out, a temporary file is checked and removed).
A command's own non-zero exit status wins: record reports it and exits with it, whatever
the budget says. No spans received with --budget fails (exit 1: nothing was checked), unless
--allow-no-data.

A summary goes to stderr: requests, spans received, spans rejected and why, requests
refused and why, bytes, services.

Limits: a request's body must arrive within --body-timeout and be at most --max-body (before
and after decompression); bodies held at once are bounded by --max-in-flight-bytes, past
which requests get 429 / RESOURCE_EXHAUSTED with a retry delay. If writing --out fails (a
full disk), later requests get 500 / UNAVAILABLE and record says how many spans the file holds.

Exit codes: the command's if it failed; else 0 ok, 1 budget exceeded or nothing checked, 2 bad usage, a busy
port, or an unwritable --out.`,
		Example: `  hopbudget record --out run.otlp.jsonl.zst -- go test ./e2e/...
  hopbudget record --budget budget.yaml -o github -- ./loadtest --rps 50
  hopbudget record --listen :0 --duration 30s --out capture.otlp.jsonl
  hopbudget record --listen none --grpc :4317 --http :4318 --out run.otlp.jsonl -- ./e2e.sh`,
		RunE: func(c *cobra.Command, args []string) error {
			opts.Command = args
			if err := opts.gateFlagsNeedBudget(c.Flags()); err != nil {
				return err
			}
			return recordRun(c.Context(), s, opts)
		},
	}
	f := c.Flags()
	// COMMAND's own flags are its own: `record go test -v` runs `go test -v`.
	f.SetInterspersed(false)
	f.StringVar(&opts.Listen, "listen", "127.0.0.1:4318", "OTLP/HTTP and OTLP/gRPC listen address (no host: loopback; :0 a free port; none: off)")
	f.StringVar(&opts.GRPC, "grpc", "none", "also serve OTLP/gRPC alone on this address")
	f.StringVar(&opts.HTTP, "http", "none", "also serve OTLP/HTTP alone on this address")
	f.StringVar(&opts.Out, "out", "", "write the recording to FILE (OTLP JSON Lines; .zst compresses)")
	f.StringVar(&opts.MaxBody, "max-body", "16MiB", "largest request accepted, compressed or not (413 / RESOURCE_EXHAUSTED beyond)")
	f.StringVar(&opts.MaxInFlightBytes, "max-in-flight-bytes", "", "request bytes held at once, received and decompressed (default 4 × --max-body; 429 / RESOURCE_EXHAUSTED with a retry delay beyond)")
	f.DurationVar(&opts.BodyTimeout, "body-timeout", receiver.DefaultBodyTimeout, "time a request's body may take to arrive (408 / DEADLINE_EXCEEDED beyond)")
	f.DurationVar(&opts.Settle, "settle", 2*time.Second, "after COMMAND exits, keep receiving this long for late exports")
	f.DurationVar(&opts.Duration, "duration", 0, "stop recording after this long (0: when COMMAND exits, or on SIGINT/SIGTERM)")
	f.StringVar(&opts.Check.Budget, "budget", "", "check the recording against this budget file, as check does")
	f.BoolVar(&opts.Check.Input.Strict, "strict", false, "with --budget: warnings (rejected spans, unmatched budget lines) exit 2")
	opts.Check.analysisFlags.addFlags(f)
	opts.Check.addGateFlags(f)
	return c
}

// gateFlagsNeedBudget refuses check's flags without --budget: they would
// silently do nothing.
func (o *RecordOptions) gateFlagsNeedBudget(f *pflag.FlagSet) error {
	if o.Check.Budget != "" {
		return nil
	}
	gate := pflag.NewFlagSet("", pflag.ContinueOnError)
	var co CheckOptions
	co.addGateFlags(gate)
	co.analysisFlags.addFlags(gate)
	gate.Bool("strict", false, "")
	var set []string
	gate.VisitAll(func(fl *pflag.Flag) {
		if f.Changed(fl.Name) {
			set = append(set, "--"+fl.Name)
		}
	})
	if len(set) > 0 {
		return inputError(fmt.Errorf("%s: only with --budget", strings.Join(set, ", ")))
	}
	return nil
}

// recording is what a record run did, for the summary.
type recording struct {
	Stats      receiver.Stats
	ListenAddr string // both transports; "" when off
	HTTPAddr   string // HTTP alone; "" when off
	GRPCAddr   string
	Out        string // "" when not kept
	Elapsed    time.Duration
	Command    *commandResult // nil without a COMMAND
}

// commandResult is how the recorded command ended.
type commandResult struct {
	Name string
	Code int
	// StoppedBy says why record stopped it: "" (it exited by itself),
	// "--duration", or the signal record received and passed on.
	StoppedBy string
}

func recordRun(ctx context.Context, s *Streams, opts *RecordOptions) error {
	maxBody, err := parseSize(opts.MaxBody)
	if err != nil {
		return inputError(fmt.Errorf("--max-body: %v", err))
	}
	var maxInFlight int64
	if opts.MaxInFlightBytes != "" {
		if maxInFlight, err = parseSize(opts.MaxInFlightBytes); err != nil {
			return inputError(fmt.Errorf("--max-in-flight-bytes: %v", err))
		}
		if maxInFlight < 2*maxBody {
			return inputError(fmt.Errorf("--max-in-flight-bytes %s: below twice --max-body (%s), the largest request could never be taken", opts.MaxInFlightBytes, opts.MaxBody))
		}
	}
	if opts.Settle < 0 || opts.Duration < 0 || opts.BodyTimeout < 0 {
		return inputError(errors.New("--settle, --duration and --body-timeout cannot be negative"))
	}
	if opts.Out == "-" {
		// The check reads the file back, and "-" would be read as stdin.
		return inputError(errors.New("--out -: record writes to a file, not to standard output"))
	}
	bothAddr, httpAddr, grpcAddr := listenAddr(opts.Listen), listenAddr(opts.HTTP), listenAddr(opts.GRPC)
	if bothAddr == "" && httpAddr == "" && grpcAddr == "" {
		return inputError(errors.New("--listen, --http and --grpc all none: nothing to receive on"))
	}
	// Every check flag and the budget first: a mistake fails now, not
	// after a long run.
	if opts.Check.Budget != "" {
		if _, _, err := opts.Check.validate(); err != nil {
			return inputError(err)
		}
		if _, err := opts.Check.analysisFlags.options(); err != nil {
			return inputError(err)
		}
		if _, err := loadBudget(opts.Check.Budget); err != nil {
			return err
		}
	}

	// Without --out the recording still goes to a file: the check reads
	// it back like any other input, so both paths are one.
	out := opts.Out
	if out == "" {
		f, err := os.CreateTemp("", "hopbudget-record-*.otlp.jsonl")
		if err != nil {
			return inputError(err)
		}
		out = f.Name()
		f.Close()
		defer os.Remove(out)
	}
	w, err := receiver.Create(out)
	if err != nil {
		return inputError(err)
	}
	r := receiver.New(w, receiver.Config{MaxBody: maxBody, MaxInFlightBytes: maxInFlight, BodyTimeout: opts.BodyTimeout})
	// While recording, the live heap is only the requests in flight, and
	// the collector runs for every few MB that decoding allocates: a higher
	// GOGC costs a few MB and saves a quarter of the receiver's CPU. The
	// analysis after holds every span, so stop gives it the setting back.
	restoreGC := func() {}
	if set := s.SetGCPercent; set != nil {
		gogc := set(400)
		if gogc < 0 || gogc > 400 {
			set(gogc) // the user's GOGC=off or higher stands
		}
		restoreGC = func() { set(gogc) }
	}
	rec := &recording{Out: opts.Out}
	stop := func() error {
		defer restoreGC()
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		r.Shutdown(sctx) // past the timeout, requests are cut off: nothing to add
		if err := w.Close(); err != nil {
			reqs, spans := w.Held()
			return inputError(fmt.Errorf("writing %s failed: %v; it holds the %d spans (%d requests) received before", out, err, spans, reqs))
		}
		return nil
	}
	if bothAddr != "" {
		a, err := r.Listen(bothAddr)
		if err != nil {
			stop()
			return inputError(fmt.Errorf("--listen: %v", err))
		}
		rec.ListenAddr = a.String()
	}
	if httpAddr != "" {
		a, err := r.ListenHTTP(httpAddr)
		if err != nil {
			stop()
			return inputError(fmt.Errorf("--http: %v", err))
		}
		rec.HTTPAddr = a.String()
	}
	if grpcAddr != "" {
		a, err := r.ListenGRPC(grpcAddr)
		if err != nil {
			stop()
			return inputError(fmt.Errorf("--grpc: %v", err))
		}
		rec.GRPCAddr = a.String()
	}
	writeRecordStart(s.Err, rec, out)
	// A failed recording is said at once, not only in the summary: the
	// run may go on for long, every export refused.
	stopWatch, watched := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(watched)
		select {
		case <-w.Failed():
			reqs, spans := w.Held()
			fmt.Fprintf(s.Err, "record: writing %s failed: %v; refusing every export from now on (the file holds %d spans, %d requests)\n", out, w.Err(), spans, reqs)
		case <-stopWatch:
		}
	}()
	unwatch := func() { close(stopWatch); <-watched }

	start := time.Now()
	if len(opts.Command) > 0 {
		rec.Command, err = runCommand(ctx, s, opts, exporterEnv(rec))
		if err != nil {
			unwatch()
			stop()
			return inputError(err)
		}
		writeCommandEnd(s.Err, rec.Command, time.Since(start))
		time.Sleep(opts.Settle)
	} else {
		var timeout <-chan time.Time
		if opts.Duration > 0 {
			t := time.NewTimer(opts.Duration)
			defer t.Stop()
			timeout = t.C
		}
		select {
		case <-ctx.Done():
		case <-timeout:
		}
	}
	unwatch()
	err = stop()
	rec.Elapsed = time.Since(start)
	rec.Stats = r.Stats()
	writeRecordSummary(s.Err, rec)
	if err != nil {
		return err
	}

	var checkErr error
	switch {
	case opts.Check.Budget != "" && rec.Stats.Spans == 0:
		// No evidence, no pass: broken instrumentation must not pass CI.
		fmt.Fprintf(s.Err, "record: received no spans: nothing was checked against %s\n", opts.Check.Budget)
		checkErr = checkNothing(ctx, s, &opts.Check)
	case opts.Check.Budget != "":
		opts.Check.Paths = []string{out}
		// The recording is stopped, often by the very signal that cancelled
		// ctx: the check of what was received runs to the end.
		checkErr = checkRun(context.WithoutCancel(ctx), s, &opts.Check)
	}
	if c := rec.Command; c != nil && c.Code != 0 && c.StoppedBy != "--duration" {
		return &exitError{code: c.Code, err: fmt.Errorf("%s exited with status %d", c.Name, c.Code)}
	}
	return checkErr
}

// listenAddr is the address to listen on: "" for none; without a host,
// loopback, so that a receiver is never exposed by accident.
func listenAddr(a string) string {
	if a == "none" || a == "" {
		return ""
	}
	if strings.HasPrefix(a, ":") {
		return "127.0.0.1" + a
	}
	return a
}

// exporterEnv points an OpenTelemetry SDK at the receiver, preferring the
// port that serves both transports.
func exporterEnv(rec *recording) []string {
	switch {
	case rec.ListenAddr != "":
		return receiver.ExporterEnv(dialable(rec.ListenAddr), receiver.HTTP)
	case rec.HTTPAddr != "":
		return receiver.ExporterEnv(dialable(rec.HTTPAddr), receiver.HTTP)
	}
	return receiver.ExporterEnv(dialable(rec.GRPCAddr), receiver.GRPC)
}

// dialable turns a listening address into one to connect to: a wildcard
// host becomes loopback.
func dialable(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// runCommand runs the command to completion and says how it ended; the
// error is for a command that could not start.
func runCommand(ctx context.Context, s *Streams, opts *RecordOptions, env []string) (*commandResult, error) {
	cmd := exec.Command(opts.Command[0], opts.Command[1:]...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = s.In, unwrap(s.Out), s.Err
	// A command that leaves a child holding its output open must not hang
	// record once it has itself exited.
	cmd.WaitDelay = time.Second
	ownProcessGroup(cmd)

	// Registered before the start, so no signal meant for the command is
	// missed; main's own handler (which cancels ctx) sees them too.
	sigc := make(chan os.Signal, 4)
	signal.Notify(sigc, forwardedSignals...)
	defer signal.Stop(sigc)

	if err := cmd.Start(); err != nil {
		return nil, err
	}
	res := &commandResult{Name: opts.Command[0]}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()

	var timeout, kill <-chan time.Time
	if opts.Duration > 0 {
		t := time.NewTimer(opts.Duration)
		defer t.Stop()
		timeout = t.C
	}
	askToStop := func(sig os.Signal, why string) {
		signalGroup(cmd.Process, sig)
		if res.StoppedBy == "" {
			res.StoppedBy = why
			kill = time.After(opts.StopGrace)
		}
	}
	ctxDone := ctx.Done()
	for {
		select {
		case <-done:
			res.Code = exitStatus(cmd.ProcessState)
			return res, nil
		case sig := <-sigc:
			askToStop(sig, sig.String())
		case <-ctxDone:
			// Cancelled by main's signal handler, the signal itself is
			// forwarded above; otherwise (an embedding program) terminate.
			ctxDone = nil
			if res.StoppedBy == "" {
				select {
				case sig := <-sigc:
					askToStop(sig, sig.String())
				case <-time.After(100 * time.Millisecond):
					askToStop(terminate, "cancelled")
				}
			}
		case <-timeout:
			askToStop(terminate, "--duration")
		case <-kill:
			killGroup(cmd.Process)
			kill = nil
		}
	}
}

// parseSize reads a byte size: a number with an optional unit, B, KiB,
// MiB, GiB (or KB, MB, GB, k, M, G, taken as the binary units).
func parseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := len(t)
	for i > 0 && (t[i-1] < '0' || t[i-1] > '9') {
		i--
	}
	n, err := strconv.ParseInt(t[:i], 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%q: want a positive size such as 16MiB, 512KiB or 1048576", s)
	}
	var shift uint
	switch strings.ToLower(strings.TrimSpace(t[i:])) {
	case "", "b":
	case "k", "kb", "kib":
		shift = 10
	case "m", "mb", "mib":
		shift = 20
	case "g", "gb", "gib":
		shift = 30
	default:
		return 0, fmt.Errorf("%q: unknown unit %q (want B, KiB, MiB or GiB)", s, t[i:])
	}
	if n > (1<<62)>>shift {
		return 0, fmt.Errorf("%q: too large", s)
	}
	return n << shift, nil
}
