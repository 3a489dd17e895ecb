// Package analyze rebuilds each trace's span DAG, finds where its time went
// (critical path, fan-in wait, per-hop latency) and aggregates that over all
// traces into a Report. It is pure: no I/O, no printing; it depends only on
// the span model in tracefmt.
//
// # Clean-up order
//
// Each trace goes through small passes, one file each, always in this order
// (see cleanup in trace.go). Each records what it changed in Report.Counts
// and, for decisions about one span, a Warning:
//
//  1. dedupe: identical copies of a span are merged; a span with the same ID
//     but other content is kept as a span of its own (children attach to the
//     first) and warned.
//  2. edges: parent IDs become node indices. The parent is the OTLP parent
//     span ID, or for Jaeger the first CHILD_OF reference (else
//     FOLLOWS_FROM). The edge is asynchronous when it is FOLLOWS_FROM, when a
//     CONSUMER hangs off a PRODUCER, or when the span also links to its
//     parent (OTLP link): asynchronous children are never on the critical
//     path and take no part in fan-in.
//  3. orphans: a span whose parent is not in the trace becomes an extra
//     root, analysed on its own, warned and counted; never dropped.
//  4. cycles: a loop of parent IDs is broken at its earliest-starting span
//     (then smallest ID), which becomes a root; warned.
//  5. skew: a synchronous child of another service that does not fit in its
//     parent is shifted into it (centred in the parent's gap; a child longer
//     than its parent is only moved to not start before it), with its
//     same-service descendants, as Jaeger's clock-skew adjuster does.
//     Same-service children are never shifted on their own. Each shift is
//     warned with its size. Options.NoSkewAdjust turns it off.
//  6. granularity (granularity.go, after the clocks step of clock.go, which
//     gives each span its service's start-clock granularity G, detected
//     from the data or set): with coarse clocks (the OpenTelemetry JS SDK
//     floors starts to the millisecond), each span is moved later by the
//     least amount below its G that makes the trace consistent: calls made
//     one after another do not overlap, a child starts no earlier than its
//     parent and the parent ends no earlier than its child. Siblings are
//     grouped once, from the times as exported, by the rule fan-in and
//     suggest share (groupKids). The skew pass before it leaves overhangs
//     within the clocks' tick alone (counted, not warned). With exact
//     clocks nothing changes.
//  7. clip: for the critical path, each span's interval is cut to its
//     parent's (already cut) interval; children that do not meet it are
//     ignored with their subtree.
//
// Then the children of every span are sorted once (int32 indices in CSR
// form), and everything after is linear and iterative: a 100,000-span chain
// or a 100,000-wide fan-out needs no recursion and no sibling rescans.
//
// # Critical path (default)
//
// Per root, a list of segments that tile [root start, root end] exactly, in
// time order, adjacent segments of one span merged. Start in the root with
// t = its end. In the current span, among its synchronous children not yet
// passed, pick the one with the latest (clipped) end <= t (ties: earliest
// start, then smallest span ID); the time between that end and t is the
// span's own; descend into the child with t = its end. When no child
// qualifies, the time from the span's start to t is its own: return to the
// parent and continue with t = that child's start. A child ending after t is
// passed for good (t only decreases), so a child ending exactly where a
// later sibling starts is on the path, an overlapped earlier sibling is not,
// and zero-length spans cannot loop. Asynchronous children never take part.
// This is exactly tracegen's truth definition. Several roots (orphans, broken
// cycles, several parentless spans) are walked one by one, in start order.
//
// # Critical path (jaeger)
//
// Options.CriticalPath = ModeJaeger reproduces what the Jaeger UI (v2.15 and
// later) draws, section for section; see jaegerCriticalPath for its rules.
// In short: its own tree (first reference present in the trace), a
// CONSUMER under a PRODUCER skipped with its subtree, follows-from children
// otherwise treated like any other, children clipped or dropped against the
// parent ID's span, orphan subtrees dropped, the child with the greatest end
// strictly before the limit (ties: earliest start, then input order),
// zero-length sections not emitted, sections never merged, no clock-skew
// correction. Everything else (hops, fan-in) is computed as in default mode.
//
// # Figures
//
// Percentiles are exact nearest-rank: the value at rank ⌈p/100·n⌉ of the
// ascending sample, with an exemplar trace (the one holding that sample) and
// a warning when the sample is too small for the figure to differ from the
// maximum. Times are integer microseconds: the model's nanoseconds divided
// by 1000 (Go integer division); see Report.
//
// Hops: one sample per CLIENT span (or, for a span without kind, a child in
// another service whose parent is not a CLIENT), keyed by caller service,
// callee (the SERVER child's service, else peer.service, db.system,
// server.address) and operation (the SERVER child's, else the client's).
// Fan-in: per span, its synchronous children in start order cut into
// maximal overlapping runs of two or more (back-to-back is not overlap); wait
// = last end − first end; straggler = the one that ended last. Both follow
// tracegen's truth definitions.
//
// # Suggest and what-if (Options.Suggest, Options.WhatIf)
//
// Per span, its synchronous calls (hops, as above) in start order are cut
// into stages: a call overlapping the stage's latest-ending call joins it,
// unless the overlap is only apparent (up to SerialTolerance, default 1 ms,
// and under half the shorter call: millisecond clocks). Two consecutive
// one-call stages are a serial pair; repeated calls to one callee and
// operation, a batch run; calls sharing a stage overlap. Per parent
// (service, operation), across traces: the pair's order (once per parent
// span), overlaps and gaps give the evidence level (see Candidate and
// judge). Per trace, every occurrence of a pair is replayed with the later
// call started with the earlier one and the change carried to the root
// (whatif.go: exactly tracegen's rule for one change); the general what-if
// replays matched calls made shorter. Linear in the changed spans'
// ancestors and their children.
package analyze
