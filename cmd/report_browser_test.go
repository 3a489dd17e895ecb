//go:build unix

package cmd

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"hopbudget/internal/tracegentest"
)

// TestReportInBrowser opens reports in headless Chromium, driven over the
// DevTools protocol on a pipe (--remote-debugging-pipe; no library, no
// port): it fails on any console error, uncaught exception or network
// request, checks through the DOM that every section rendered, and saves
// light and dark screenshots under $TEST_OUTPUT_DIR (else the test's
// artifact directory: go test -artifacts keeps it).
func TestReportInBrowser(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium not installed: run apt-get install chromium")
	}
	outDir := os.Getenv("TEST_OUTPUT_DIR")
	if outDir == "" {
		outDir = t.ArtifactDir()
	} else if outDir, err = filepath.Abs(filepath.Join(outDir, "report-browser")); err == nil {
		err = os.MkdirAll(outDir, 0o755)
	}
	if err != nil {
		t.Fatal(err)
	}
	mixed := tracegentest.Generate(t, "-scenario", "mixed", "-traces", "300", "-seed", "1", "-format", "otlp-json")
	big := filepath.Join(t.TempDir(), "big.otlp.json")
	writeOTLPJSON(t, bigTrace(12_000), big)
	pages := []struct {
		name string
		args []string
	}{
		{"tracegen-mixed", []string{filepath.Join(mixed, "traces.otlp.json")}},
		{"hotrod", []string{"--budget", "testdata/budget/demo.yaml", "testdata/corpus/hotrod-local/jaeger-ui-json",
			"testdata/corpus/jaeger-ui/fixtures/stats-spanLongerAsParent.json"}},
		// A 12,000-span trace: its waterfall collapses; the page stays quick.
		{"large-trace", []string{big, "testdata/demo"}},
	}
	html := map[string]string{}
	for _, p := range pages {
		file := filepath.Join(t.TempDir(), p.name+".html")
		_, stderr, code := run(t, "", append([]string{"report", "-o", file}, p.args...)...)
		if code != ExitOK {
			t.Fatalf("%s: report exit %d: %s", p.name, code, stderr)
		}
		html[p.name] = file
	}

	b := startBrowser(t, chromium)
	defer b.close(t)
	// The harness itself: a page with a console error, an exception and
	// requests must be caught.
	t.Run("catches-problems", func(t *testing.T) {
		bad := filepath.Join(t.TempDir(), "bad.html")
		os.WriteFile(bad, []byte(`<!DOCTYPE html><title>bad</title><img src="missing.png"><img src="http://example.invalid/x.png">`+
			`<script>console.error("boom"); setTimeout(() => { throw new Error("uncaught") }, 0)</script>`), 0o644)
		r := b.open(t, bad, "", "bad")
		for _, want := range []string{"console error", "uncaught exception", "network request: http://example.invalid/x.png", "missing.png"} {
			if !strings.Contains(strings.Join(r.problems, "\n"), want) {
				t.Errorf("not caught: %s (caught: %q)", want, r.problems)
			}
		}
	})
	var summary strings.Builder
	for _, p := range pages {
		t.Run(p.name, func(t *testing.T) {
			r := b.open(t, html[p.name], outDir, p.name)
			for _, problem := range r.problems {
				t.Errorf("%s: %s", p.name, problem)
			}
			checkDOM(t, &r.dom)
			fcp := "n/a"
			if r.fcpMs >= 0 {
				fcp = fmt.Sprintf("%.0f ms", r.fcpMs)
			}
			fmt.Fprintf(&summary, "%s: load event %.0f ms after navigation start (in the page), first contentful paint %s; navigate → painted %v (wall)\n",
				p.name, r.loadMs, fcp, r.painted.Round(time.Millisecond))
			// Load time is measured and logged here (the target is 2 s on
			// a quiet machine); the test fails only far past it, where a
			// page is broken (e.g. quadratic work), not merely on a busy
			// machine: speed is not checked by timed tests.
			if r.loadMs > 15000 {
				t.Errorf("the page took %.0f ms to load: far over its 2 s target", r.loadMs)
			}
		})
	}
	t.Log("\n" + summary.String())
	if err := os.WriteFile(filepath.Join(outDir, "render-times.txt"), []byte(summary.String()), 0o644); err != nil {
		t.Error(err)
	}
	t.Logf("screenshots in %s", outDir)
}

// pageResult is what open measured.
type pageResult struct {
	loadMs, fcpMs float64
	painted       time.Duration
	dom           domReport
	problems      []string // console errors, exceptions, requests
}

// domReport is what the page says about itself once its script ran.
type domReport struct {
	Ready    string `json:"ready"`
	Sections []struct {
		ID     string `json:"id"`
		SVGs   int    `json:"svgs"`
		Rows   int    `json:"rows"`
		Tables int    `json:"tables"`
		Text   int    `json:"text"`
	} `json:"sections"`
	SVGsWithoutTitle int      `json:"svgsWithoutTitle"`
	Waterfalls       int      `json:"waterfalls"`
	WaterfallRows    int      `json:"waterfallRows"`
	CriticalRows     int      `json:"criticalRows"`
	IcicleBoxes      int      `json:"icicleBoxes"`
	HeatRows         int      `json:"heatRows"`
	External         []string `json:"external"`
	FoldHid          int      `json:"foldHid"`
	UnfoldShown      bool     `json:"unfoldShown"`
	Sorted           bool     `json:"sorted"`
}

const domProbe = `(() => {
  const ids = ["summary", "hops", "tail", "exemplars", "parallel"];
  const out = {ready: document.documentElement.dataset.ready || ""};
  out.sections = ids.map(id => {
    const s = document.getElementById(id);
    return s ? {id, svgs: s.querySelectorAll("svg").length, rows: s.querySelectorAll("tbody tr").length,
      tables: s.querySelectorAll("table").length, text: s.innerText.length} : {id: ""};
  });
  out.svgsWithoutTitle = [...document.querySelectorAll("svg")].filter(s => !s.querySelector(":scope > title") || !s.getAttribute("aria-label")).length;
  out.waterfalls = document.querySelectorAll("table.wf").length;
  out.waterfallRows = document.querySelectorAll("table.wf tbody tr").length;
  out.criticalRows = document.querySelectorAll("table.wf tbody tr.p").length;
  out.icicleBoxes = document.querySelectorAll("svg.icicle rect").length;
  out.heatRows = document.querySelectorAll("table.heat tbody tr").length;
  out.external = [...document.querySelectorAll("[src], [href]")].map(e => e.getAttribute("src") || e.getAttribute("href")).filter(u => !u.startsWith("#"));
  // Fold the first foldable span, then unfold it.
  const btn = document.querySelector("table.wf button.tg");
  if (btn) {
    btn.click();
    out.foldHid = [...btn.closest("tbody").rows].filter(r => r.hidden).length;
    btn.click();
    out.unfoldShown = [...btn.closest("tbody").rows].every(r => !r.hidden);
  }
  // Sort the endpoint table by p99, descending (two clicks).
  const th = document.querySelector("#summary table.stats thead th:nth-child(5)");
  th.click(); th.click();
  const v = [...th.closest("table").tBodies[0].rows].map(r => +r.cells[4].dataset.v);
  out.sorted = v.every((x, i) => i === 0 || v[i - 1] >= x);
  return JSON.stringify(out);
})()`

// open loads a page, measures it, probes its DOM and, when outDir is set,
// saves screenshots.
func (b *browser) open(t *testing.T, file, outDir, name string) pageResult {
	t.Helper()
	var res pageResult
	target := b.call(t, "", "Target.createTarget", map[string]any{"url": "about:blank"})
	var tg struct {
		TargetID string `json:"targetId"`
	}
	mustJSON(t, target, &tg)
	att := b.call(t, "", "Target.attachToTarget", map[string]any{"targetId": tg.TargetID, "flatten": true})
	var at struct {
		SessionID string `json:"sessionId"`
	}
	mustJSON(t, att, &at)
	s := at.SessionID
	for _, m := range []string{"Page.enable", "Runtime.enable", "Log.enable", "Network.enable"} {
		b.call(t, s, m, nil)
	}
	b.call(t, s, "Emulation.setDeviceMetricsOverride", map[string]any{"width": 1400, "height": 900, "deviceScaleFactor": 1, "mobile": false})
	url := "file://" + file
	b.drain() // events of the blank page
	start := time.Now()
	b.call(t, s, "Page.navigate", map[string]any{"url": url})
	events := b.waitEvent(t, s, "Page.loadEventFired", 30*time.Second)
	// Two animation frames after load: the page has been laid out and painted.
	b.eval(t, s, `new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(1))))`)
	res.painted = time.Since(start)
	var perf struct{ Load, FCP float64 }
	mustJSON(t, b.eval(t, s, `JSON.stringify({load: performance.getEntriesByType("navigation")[0].loadEventEnd,
		fcp: (performance.getEntriesByName("first-contentful-paint")[0] || {startTime: -1}).startTime})`), &perf)
	res.loadMs, res.fcpMs = perf.Load, perf.FCP

	if outDir == "" {
		time.Sleep(100 * time.Millisecond) // let the page's timers fire
	} else {
		mustJSON(t, b.eval(t, s, domProbe), &res.dom)
		b.screenshots(t, s, outDir, name)
	}
	events = append(events, b.drain()...)
	for _, e := range events {
		if problem := pageProblem(e, url); problem != "" {
			res.problems = append(res.problems, problem)
		}
	}
	b.call(t, "", "Target.closeTarget", map[string]any{"targetId": tg.TargetID})
	return res
}

// screenshots saves the top of the page and its exemplars in light
// colours, and the top in dark. (A whole long page takes seconds to
// raster.)
func (b *browser) screenshots(t *testing.T, s, outDir, name string) {
	t.Helper()
	b.call(t, s, "Emulation.setDeviceMetricsOverride", map[string]any{"width": 1400, "height": 2000, "deviceScaleFactor": 1, "mobile": false})
	b.screenshot(t, s, filepath.Join(outDir, name+".png"))
	b.eval(t, s, `window.scrollTo(0, document.getElementById("exemplars").offsetTop); new Promise(r => requestAnimationFrame(() => r(1)))`)
	b.screenshot(t, s, filepath.Join(outDir, name+"-exemplars.png"))
	b.eval(t, s, `window.scrollTo(0, 0); 1`)
	b.call(t, s, "Emulation.setEmulatedMedia", map[string]any{"features": []map[string]string{{"name": "prefers-color-scheme", "value": "dark"}}})
	b.screenshot(t, s, filepath.Join(outDir, name+"-dark.png"))
}

func checkDOM(t *testing.T, d *domReport) {
	t.Helper()
	if d.Ready != "1" {
		t.Error("the page's script did not finish")
	}
	want := map[string]func(id string, svgs, rows, tables int) string{
		"summary": func(id string, svgs, rows, tables int) string {
			if rows == 0 || svgs == 0 {
				return "no endpoint rows or charts"
			}
			return ""
		},
		"hops": func(id string, svgs, rows, tables int) string {
			if rows == 0 || svgs < 2 {
				return "no hop rows or charts"
			}
			return ""
		},
		"tail":      func(string, int, int, int) string { return "" },
		"exemplars": func(string, int, int, int) string { return "" },
		"parallel":  func(string, int, int, int) string { return "" },
	}
	for i, s := range d.Sections {
		if s.ID == "" {
			t.Errorf("section %d missing", i+1)
			continue
		}
		if s.Text < 200 {
			t.Errorf("section %s: only %d characters of text", s.ID, s.Text)
		}
		if msg := want[s.ID](s.ID, s.SVGs, s.Rows, s.Tables); msg != "" {
			t.Errorf("section %s: %s", s.ID, msg)
		}
	}
	switch {
	case d.IcicleBoxes < 3:
		t.Errorf("icicle has %d boxes", d.IcicleBoxes)
	case d.HeatRows == 0:
		t.Error("heatmap has no rows")
	case d.Waterfalls == 0 || d.WaterfallRows == 0 || d.CriticalRows == 0:
		t.Errorf("waterfalls: %d tables, %d rows, %d on the critical path", d.Waterfalls, d.WaterfallRows, d.CriticalRows)
	case d.SVGsWithoutTitle > 0:
		t.Errorf("%d charts without a title", d.SVGsWithoutTitle)
	case len(d.External) > 0:
		t.Errorf("links or sources outside the page: %v", d.External)
	case d.FoldHid == 0 || !d.UnfoldShown:
		t.Errorf("folding a waterfall row hid %d rows, unfolding showed them: %v", d.FoldHid, d.UnfoldShown)
	case !d.Sorted:
		t.Error("sorting the endpoint table by p99 did not sort it")
	}
}

// pageProblem says what is wrong with a DevTools event, if anything: a
// console error, an uncaught exception, a request other than the page.
func pageProblem(e cdpMsg, pageURL string) string {
	switch e.Method {
	case "Runtime.exceptionThrown":
		return "uncaught exception: " + string(e.Params)
	case "Runtime.consoleAPICalled":
		var p struct {
			Type string `json:"type"`
		}
		json.Unmarshal(e.Params, &p)
		if p.Type == "error" || p.Type == "assert" {
			return "console error: " + string(e.Params)
		}
	case "Log.entryAdded":
		var p struct {
			Entry struct {
				Level, Text, URL string
			} `json:"entry"`
		}
		json.Unmarshal(e.Params, &p)
		if p.Entry.Level == "error" {
			return "console error: " + p.Entry.Text + " " + p.Entry.URL
		}
	case "Network.requestWillBeSent":
		var p struct {
			Request struct{ URL string } `json:"request"`
		}
		json.Unmarshal(e.Params, &p)
		if p.Request.URL != pageURL {
			return "network request: " + p.Request.URL
		}
	case "Network.loadingFailed":
		return "failed request: " + string(e.Params)
	}
	return ""
}

// ---- a minimal DevTools-protocol client over --remote-debugging-pipe ----

type cdpMsg struct {
	ID        int             `json:"id,omitempty"`
	Method    string          `json:"method,omitempty"`
	Params    json.RawMessage `json:"params,omitempty"`
	Result    json.RawMessage `json:"result,omitempty"`
	SessionID string          `json:"sessionId,omitempty"`
	Error     *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error,omitempty"`
}

type browser struct {
	cmd    *exec.Cmd
	stderr bytes.Buffer
	w      io.WriteCloser
	mu     sync.Mutex
	id     int
	reply  map[int]chan cdpMsg
	events chan cdpMsg
	dead   chan struct{}
}

func startBrowser(t *testing.T, chromium string) *browser {
	t.Helper()
	toR, toW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	fromR, fromW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	// The flags Chromium needs on this kind of machine: no sandbox (root),
	// no GPU, and no background networking (refused connections otherwise).
	b := &browser{reply: map[int]chan cdpMsg{}, events: make(chan cdpMsg, 1<<14), dead: make(chan struct{}), w: toW}
	b.cmd = exec.Command(chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
		"--user-data-dir="+t.TempDir(), "--remote-debugging-pipe", "about:blank")
	b.cmd.ExtraFiles = []*os.File{toR, fromW} // fds 3 and 4: commands in, replies out
	b.cmd.Stderr = &b.stderr
	b.cmd.Env = append(os.Environ(), "DBUS_SESSION_BUS_ADDRESS=disabled:")
	if err := b.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	toR.Close()
	fromW.Close()
	go func() {
		defer close(b.dead)
		r := bufio.NewReader(fromR)
		for {
			line, err := r.ReadBytes(0)
			if err != nil {
				return
			}
			var m cdpMsg
			if json.Unmarshal(line[:len(line)-1], &m) != nil {
				continue
			}
			if m.ID != 0 {
				b.mu.Lock()
				ch := b.reply[m.ID]
				delete(b.reply, m.ID)
				b.mu.Unlock()
				if ch != nil {
					ch <- m
				}
				continue
			}
			select {
			case b.events <- m:
			default: // a flood of events: the test reads what it needs
			}
		}
	}()
	return b
}

// call sends a command and waits for its result.
func (b *browser) call(t *testing.T, session, method string, params any) json.RawMessage {
	t.Helper()
	b.mu.Lock()
	b.id++
	id := b.id
	ch := make(chan cdpMsg, 1)
	b.reply[id] = ch
	b.mu.Unlock()
	msg, err := json.Marshal(cdpMsg{ID: id, Method: method, SessionID: session, Params: mustMarshal(params)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.w.Write(append(msg, 0)); err != nil {
		t.Fatalf("%s: %v\nchromium: %s", method, err, b.stderr.String())
	}
	select {
	case m := <-ch:
		if m.Error != nil {
			t.Fatalf("%s: %s", method, m.Error.Message)
		}
		return m.Result
	case <-b.dead:
		t.Fatalf("%s: chromium exited\n%s", method, b.stderr.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("%s: no answer in 60 s", method)
	}
	return nil
}

func mustMarshal(v any) json.RawMessage {
	if v == nil {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func mustJSON(t *testing.T, raw json.RawMessage, v any) {
	t.Helper()
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("%v in %s", err, raw)
	}
}

// eval runs a JavaScript expression in the page (awaiting a promise) and
// returns its value: a string result as JSON bytes to decode.
func (b *browser) eval(t *testing.T, session, expr string) json.RawMessage {
	t.Helper()
	var r struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		ExceptionDetails json.RawMessage `json:"exceptionDetails"`
	}
	mustJSON(t, b.call(t, session, "Runtime.evaluate", map[string]any{"expression": expr, "awaitPromise": true, "returnByValue": true}), &r)
	if r.ExceptionDetails != nil {
		t.Fatalf("evaluating %.60q: %s", expr, r.ExceptionDetails)
	}
	var s string
	if json.Unmarshal(r.Result.Value, &s) == nil {
		return json.RawMessage(s)
	}
	return r.Result.Value
}

// waitEvent returns the events up to and including the first method on
// session.
func (b *browser) waitEvent(t *testing.T, session, method string, timeout time.Duration) []cdpMsg {
	t.Helper()
	var seen []cdpMsg
	deadline := time.After(timeout)
	for {
		select {
		case e := <-b.events:
			seen = append(seen, e)
			if e.Method == method && e.SessionID == session {
				return seen
			}
		case <-deadline:
			t.Fatalf("no %s in %v", method, timeout)
		case <-b.dead:
			t.Fatalf("chromium exited waiting for %s\n%s", method, b.stderr.String())
		}
	}
}

// drain returns the events received so far.
func (b *browser) drain() []cdpMsg {
	var out []cdpMsg
	for {
		select {
		case e := <-b.events:
			out = append(out, e)
		default:
			return out
		}
	}
}

// screenshot saves the viewport as PNG.
func (b *browser) screenshot(t *testing.T, session, path string) {
	t.Helper()
	var r struct {
		Data string `json:"data"`
	}
	mustJSON(t, b.call(t, session, "Page.captureScreenshot", map[string]any{"format": "png"}), &r)
	png, err := base64.StdEncoding.DecodeString(r.Data)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
}

func (b *browser) close(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- b.cmd.Wait() }()
	b.mu.Lock()
	b.id++
	msg, _ := json.Marshal(cdpMsg{ID: b.id, Method: "Browser.close"})
	b.mu.Unlock()
	b.w.Write(append(msg, 0))
	b.w.Close()
	select {
	case <-done:
	case <-ctx.Done():
		b.cmd.Process.Kill()
		<-done
		t.Log("chromium did not exit on Browser.close: killed")
	}
	if err := ctx.Err(); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		t.Log(err)
	}
}
