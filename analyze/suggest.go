package analyze

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"hopbudget/tracefmt"
)

// Candidate is a pair of sibling calls made one after another that could be
// made together (Kind "parallel"), or a run of repeated calls to one callee
// and operation that could be one batched call (Kind "batch"), under one
// parent operation, with what starting them together would save.
//
// Detection is aggregated over every trace of the parent (service,
// operation): Serial, Overlapping, OrderFractions, the gaps and so the
// Evidence are the parent's, whatever the endpoint. The what-if is per
// endpoint: in every trace of Endpoint where the calls ran serially, each
// later call is moved to start with the first one (all occurrences in the
// trace at once) and the change is propagated to the root by tracegen's
// rule; Saving* are over those Traces. P99BeforeUs and P99AfterUs are the
// endpoint's p99 over all its traces, before and with the savings taken off.
type Candidate struct {
	Service   string    `json:"service"`   // the parent span's service
	Operation string    `json:"operation"` // and operation
	Calls     []CallRef `json:"calls"`     // in their usual order; one entry for a batch
	// Traces of the endpoint in which the calls ran serially.
	Traces       int    `json:"traces"`
	Evidence     string `json:"evidence"` // one of the Evidence* constants
	SavingMeanUs int64  `json:"savingMeanUs"`
	SavingP50Us  int64  `json:"savingP50Us"`
	SavingP99Us  int64  `json:"savingP99Us"`
	P99BeforeUs  int64  `json:"p99BeforeUs"`
	P99AfterUs   int64  `json:"p99AfterUs"`
	// Exemplars are the traces holding the saving's p50, p99 and maximum
	// (distinct, in that order).
	Exemplars []string    `json:"exemplars"`
	Endpoint  EndpointRef `json:"endpoint"`
	Kind      string      `json:"kind"` // "parallel" or "batch"
	// Why explains the evidence in one line.
	Why string `json:"why"`
	// Serial counts the serial pairs (or batch runs) seen under the parent,
	// Overlapping the times the two calls were seen overlapping there.
	Serial      int `json:"serial"`
	Overlapping int `json:"overlapping"`
	// OrderFractions: per call of Calls, the fraction of parent spans with
	// the pair serial in which it came first (pairs only; a parent span
	// counts its first occurrence).
	OrderFractions []float64 `json:"orderFractions,omitempty"`
	// Gaps from one call's end to the next call's start (negative: an
	// apparent overlap); ImmediateFraction of them are within the serial
	// tolerance ("starts right after").
	GapP50Us          int64   `json:"gapP50Us"`
	GapP99Us          int64   `json:"gapP99Us"`
	ImmediateFraction float64 `json:"immediateFraction"`
	// Batch runs: calls per run.
	RunLengthP50 int `json:"runLengthP50,omitempty"`
	RunLengthMax int `json:"runLengthMax,omitempty"`
	// RunLengths: how many runs had each length, shortest first.
	RunLengths []RunLength `json:"runLengths,omitempty"`
	// OnPathFraction of Traces in which starting the calls together
	// shortens the endpoint at all; 0 means the calls are never on the
	// critical path and the candidate saves nothing.
	OnPathFraction float64  `json:"onPathFraction"`
	Warnings       []string `json:"warnings,omitempty"`
}

// EndpointRef names an endpoint (root service and operation).
type EndpointRef struct {
	Service   string `json:"service"`
	Operation string `json:"operation"`
}

// CallRef names a call as the hop table does: callee, operation and
// normalised statement (database calls).
type CallRef struct {
	To        string `json:"to"`
	Operation string `json:"operation"`
	Statement string `json:"statement,omitempty"`
}

// Candidate kinds.
const (
	KindParallel = "parallel"
	KindBatch    = "batch"
)

// pairAcc is the evidence about one pairKey.
type pairAcc struct {
	serial    int     // serial pairs or batch runs
	first     [2]int  // parent spans where a (0) or b (1) came first
	overlap   int     // times seen overlapping
	immediate int     // gaps within the tolerance
	rw        int     // serial pairs that write back what the first read (same key)
	helper    int     // serial pairs where the first prepares the second on its callee
	gaps      []int64 // ns, every consecutive serial call
	runs      []int64 // batch run lengths
}

type candKey struct {
	ep key2
	pk pairKey
}

type whatIfAcc struct {
	calls, traces int
	eps           map[key2]*series // per endpoint: saving per root (ns)
}

// suggestAcc is a worker's sibling and what-if samples.
type suggestAcc struct {
	pairs   map[pairKey]*pairAcc
	cands   map[candKey]*series // savings (ns) per endpoint root
	whatifs []*whatIfAcc
}

func (a *accum) suggest() *suggestAcc {
	if a.sug == nil {
		a.sug = &suggestAcc{pairs: map[pairKey]*pairAcc{}, cands: map[candKey]*series{}}
	}
	return a.sug
}

func (s *suggestAcc) pair(k pairKey) *pairAcc {
	p := s.pairs[k]
	if p == nil {
		p = &pairAcc{}
		s.pairs[k] = p
	}
	return p
}

func (s *suggestAcc) cand(k candKey) *series {
	c := s.cands[k]
	if c == nil {
		c = &series{}
		s.cands[k] = c
	}
	return c
}

func (s *suggestAcc) whatIf(w int) *whatIfAcc {
	for len(s.whatifs) <= w {
		s.whatifs = append(s.whatifs, &whatIfAcc{eps: map[key2]*series{}})
	}
	return s.whatifs[w]
}

func (w *whatIfAcc) endpoint(k key2) *series {
	e := w.eps[k]
	if e == nil {
		e = &series{}
		w.eps[k] = e
	}
	return e
}

// mergeSuggest folds b's sibling and what-if samples into a.
func (a *accum) mergeSuggest(b *accum) {
	if b.sug == nil {
		return
	}
	s := a.suggest()
	for k, p := range b.sug.pairs {
		x := s.pair(k)
		x.serial += p.serial
		x.first[0] += p.first[0]
		x.first[1] += p.first[1]
		x.overlap += p.overlap
		x.immediate += p.immediate
		x.rw += p.rw
		x.helper += p.helper
		x.gaps = append(x.gaps, p.gaps...)
		x.runs = append(x.runs, p.runs...)
	}
	for k, c := range b.sug.cands {
		s.cand(k).merge(c)
	}
	for w, wb := range b.sug.whatifs {
		x := s.whatIf(w)
		x.calls += wb.calls
		x.traces += wb.traces
		for k, e := range wb.eps {
			x.endpoint(k).merge(e)
		}
	}
}

// fillSuggest writes Report.Parallelizable and Report.WhatIf.
func (a *accum) fillSuggest(r *Report, id func(int32) tracefmt.TraceID, opts *Options) {
	a.fillWhatIf(r, opts)
	if !opts.Suggest {
		return
	}
	r.Parallelizable = []Candidate{}
	if a.sug == nil {
		return
	}
	tol := opts.tolerance()
	keys := make([]candKey, 0, len(a.sug.cands))
	for k := range a.sug.cands {
		keys = append(keys, k)
	}
	for _, k := range keys {
		pa := a.sug.pairs[k.pk]
		c := judge(k.pk, pa, tol)
		// Only calls seen in both orders or truly together are listed,
		// with batch runs; a fixed order may be a dependency.
		if c.Evidence != EvidenceIndependent && c.Evidence != EvidenceBatching && !opts.SuggestDependent {
			continue
		}
		// Calls that nearly always run together already (a fan-out seen
		// serial now and then) are not a finding.
		if c.Kind == KindParallel && pa.overlap > 9*pa.serial {
			continue
		}
		c.Endpoint = EndpointRef{k.ep.a, k.ep.b}
		sav := a.sug.cands[k]
		xs := sav.sorted()
		var sum int64
		on := 0
		for _, v := range xs {
			sum += v
			if v > 0 {
				on++
			}
		}
		c.Traces = len(xs)
		c.SavingMeanUs = us(sum / int64(max(1, len(xs))))
		c.SavingP50Us, c.SavingP99Us = us(pct(xs, 50)), us(pct(xs, 99))
		c.OnPathFraction = ratio(on, len(xs))
		c.Exemplars = []string{}
		for _, i := range []int{rankIndex(50, len(xs)), rankIndex(99, len(xs)), len(xs) - 1} {
			if id := id(sav.exemplar(xs, i)).String(); !slices.Contains(c.Exemplars, id) {
				c.Exemplars = append(c.Exemplars, id)
			}
		}
		if ep := a.eps[k.ep]; ep != nil {
			// Seen in under 1% of the endpoint's requests: a rare timing
			// accident (a fan-out member that seemed to run alone), not a
			// pattern of the code.
			if 100*len(xs) < ep.durs.len() && !opts.SuggestDependent {
				continue
			}
			c.P99BeforeUs = us(pct(ep.durs.sorted(), 99))
			c.P99AfterUs = us(pct(afterSamples(&ep.durs, sav), 99))
		}
		if on == 0 {
			c.Why += "; never on the critical path: starting them together saves nothing"
		}
		c.Warnings = appendNonEmpty(nil, fewSamples("saving", len(xs), 50, 99))
		r.Parallelizable = append(r.Parallelizable, c)
	}
	slices.SortFunc(r.Parallelizable, func(x, y Candidate) int {
		if c := cmp.Compare(y.SavingP99Us, x.SavingP99Us); c != 0 {
			return c
		}
		if c := cmp.Compare(y.SavingMeanUs, x.SavingMeanUs); c != 0 {
			return c
		}
		if c := cmp.Compare(x.Endpoint.Service, y.Endpoint.Service); c != 0 {
			return c
		}
		if c := cmp.Compare(x.Endpoint.Operation, y.Endpoint.Operation); c != 0 {
			return c
		}
		return cmpPair(candPair(&x), candPair(&y))
	})
}

// candPair rebuilds a candidate's key for ordering.
func candPair(c *Candidate) pairKey {
	a := callKey{c.Calls[0].To, c.Calls[0].Operation, c.Calls[0].Statement}
	b := callKey{c.Calls[len(c.Calls)-1].To, c.Calls[len(c.Calls)-1].Operation, c.Calls[len(c.Calls)-1].Statement}
	if cmpCall(a, b) > 0 {
		a, b = b, a
	}
	return pairKey{c.Service, c.Operation, a, b}
}

// Judging: a pair that overlapped or ran in both orders cannot depend on
// either call's result. Otherwise, when the later call starts within the
// tolerance of the earlier one's end in at least half the serial pairs, it
// looks like it waits for it (possibly dependent); when mostly not, it is
// likely independent. Repeated calls to one callee are a batching case.
// Attributes (which would show data flow) are not in the span model.
const dependentShare = 0.5

// RunLength counts the batch runs of one length.
type RunLength struct {
	Length int `json:"length"`
	Runs   int `json:"runs"`
}

// runLengths counts runs by length, shortest first.
func runLengths(runs []int64) []RunLength {
	var out []RunLength
	for _, n := range slices.Sorted(slices.Values(runs)) {
		if len(out) == 0 || out[len(out)-1].Length != int(n) {
			out = append(out, RunLength{Length: int(n)})
		}
		out[len(out)-1].Runs++
	}
	return out
}

// judge fills a candidate's detection fields from the parent's evidence.
func judge(k pairKey, pa *pairAcc, tol int64) Candidate {
	c := Candidate{Service: k.svc, Operation: k.op, Overlapping: pa.overlap}
	name := func(x callKey) string { // the callee may be unknown
		n := strings.TrimSpace(x.to + " " + x.op)
		if x.stmt != "" {
			n += " (" + x.stmt + ")"
		}
		return n
	}
	gaps := pcts(pa.gaps, 50, 99)
	c.GapP50Us, c.GapP99Us = us(gaps[0]), us(gaps[1])
	c.ImmediateFraction = ratio(pa.immediate, len(pa.gaps))
	if k.a == k.b {
		c.Kind, c.Evidence = KindBatch, EvidenceBatching
		c.Calls = []CallRef{{k.a.to, k.a.op, k.a.stmt}}
		c.Serial = pa.serial
		rs := pcts(slices.Clone(pa.runs), 50, 100)
		c.RunLengthP50, c.RunLengthMax = int(rs[0]), int(rs[1])
		c.RunLengths = runLengths(pa.runs)
		var dist []string
		for i, r := range c.RunLengths {
			of := " of "
			if i == 0 {
				of = " runs of "
			}
			dist = append(dist, fmt.Sprint(r.Runs, of, r.Length))
		}
		c.Why = fmt.Sprintf("%s called up to %d times in a row (median %d; %s) in %d parent spans: one batched call, or concurrent calls, would do if they do not need each other's results",
			name(k.a), c.RunLengthMax, c.RunLengthP50, strings.Join(dist, ", "), c.Serial)
		return c
	}
	c.Kind = KindParallel
	c.Serial = pa.serial
	spans := pa.first[0] + pa.first[1]
	x, y, nx, ny := k.a, k.b, pa.first[0], pa.first[1]
	if ny > nx {
		x, y, nx, ny = y, x, ny, nx
	}
	fx := ratio(nx, spans)
	c.Calls = []CallRef{{x.to, x.op, x.stmt}, {y.to, y.op, y.stmt}}
	c.OrderFractions = []float64{fx, ratio(ny, spans)}
	both := pa.first[0] > 0 && pa.first[1] > 0
	switch {
	case both || pa.overlap > 0:
		c.Evidence = EvidenceIndependent
		var why []string
		if both {
			why = append(why, fmt.Sprintf("ran in both orders (%s first in %s of %d)", name(x), percent(fx), spans))
		}
		if pa.overlap > 0 {
			why = append(why, fmt.Sprintf("overlapped %d times (serial %d)", pa.overlap, pa.serial))
		}
		c.Why = joinAnd(why) + ": neither waits for the other's result"
	case 2*pa.rw >= pa.serial:
		c.Evidence = EvidenceDependent
		c.Why = fmt.Sprintf("always in this order, and %s writes back the key %s read (in %d of %d): it needs its result",
			name(y), name(x), pa.rw, pa.serial)
	case 2*pa.helper >= pa.serial:
		c.Evidence = EvidenceDependent
		c.Why = fmt.Sprintf("always in this order, and %s prepares %s on the same callee, right before it (in %d of %d): a connection or session helper",
			name(x), name(y), pa.helper, pa.serial)
	case float64(pa.immediate) >= dependentShare*float64(len(pa.gaps)):
		c.Evidence = EvidencePossiblyDependent
		c.Why = fmt.Sprintf("always in this order, and %s starts right after %s ends (within %s) in %s of %d: it may need its result",
			name(y), name(x), fmtNs(tol), percent(c.ImmediateFraction), len(pa.gaps))
	default:
		c.Evidence = EvidenceLikelyIndependent
		c.Why = fmt.Sprintf("always in this order, but %s starts %s (median) after %s ends, right after it in only %s of %d: it may not wait for it, but a fixed order is no proof",
			name(y), fmtNs(gaps[0]), name(x), percent(c.ImmediateFraction), len(pa.gaps))
	}
	return c
}

func joinAnd(s []string) string {
	if len(s) == 2 {
		return s[0] + " and " + s[1]
	}
	return s[0]
}

func percent(f float64) string { return fmt.Sprintf("%.1f%%", 100*f) }

// fmtNs prints a duration with about three significant digits.
func fmtNs(ns int64) string {
	d := time.Duration(ns)
	switch a := max(d, -d); {
	case a >= time.Second:
		d = d.Round(10 * time.Millisecond)
	case a >= 100*time.Millisecond:
		d = d.Round(time.Millisecond)
	case a >= 10*time.Millisecond:
		d = d.Round(100 * time.Microsecond)
	case a >= time.Millisecond:
		d = d.Round(10 * time.Microsecond)
	default:
		d = d.Round(time.Microsecond)
	}
	return d.String()
}

// readThenWrite says whether call y writes the key or table call x read on
// the same callee (a cache fill: GET k then SET k; SELECT … FROM t then
// UPDATE t), from their normalised statements.
func readThenWrite(x, y callKey) bool {
	if x.to != y.to || x.stmt == "" || y.stmt == "" {
		return false
	}
	xv, xt := stmtVerbTarget(x.stmt)
	yv, yt := stmtVerbTarget(y.stmt)
	return xt != "" && xt == yt && readVerbs[xv] && writeVerbs[yv]
}

var readVerbs = map[string]bool{"GET": true, "MGET": true, "HGET": true, "HGETALL": true, "HMGET": true, "EXISTS": true,
	"SMEMBERS": true, "LRANGE": true, "ZRANGE": true, "SELECT": true, "FIND": true}
var writeVerbs = map[string]bool{"SET": true, "SETEX": true, "SETNX": true, "PSETEX": true, "MSET": true, "HSET": true,
	"HMSET": true, "DEL": true, "EXPIRE": true, "INCR": true, "LPUSH": true, "RPUSH": true, "SADD": true, "ZADD": true,
	"INSERT": true, "UPDATE": true, "DELETE": true, "UPSERT": true, "REPLACE": true, "MERGE": true}

// stmtVerbTarget returns a statement's verb (upper case) and what it acts
// on: a key-value command's first argument, or the table after FROM, INTO
// or UPDATE.
func stmtVerbTarget(stmt string) (verb, target string) {
	f := strings.Fields(stmt)
	if len(f) == 0 {
		return "", ""
	}
	verb = strings.ToUpper(f[0])
	if verb == "SELECT" || verb == "INSERT" || verb == "UPDATE" || verb == "DELETE" || verb == "REPLACE" || verb == "MERGE" || verb == "UPSERT" {
		if verb == "UPDATE" && len(f) > 1 {
			return verb, strings.ToLower(f[1])
		}
		for i := 1; i+1 < len(f); i++ {
			if w := strings.ToUpper(f[i]); w == "FROM" || w == "INTO" {
				return verb, strings.ToLower(strings.Trim(f[i+1], "`\"();"))
			}
		}
		return verb, ""
	}
	if len(f) > 1 {
		return verb, f[1]
	}
	return verb, ""
}
