package tracefmt

import "runtime"

// The store stage. Storing a span (Sink.store: copying it into chunk
// memory touched for the first time, finding its trace, counting it) is
// half of decoding's time. With a second core, Read runs it on a goroutine
// of its own, fed batches of spans in order, while the decoder goes on: a
// pipeline of two stages, not pieces decoded apart, so nothing is split,
// pre-scanned or merged, and the result is the one store gives in sequence,
// by construction (the same calls in the same order).
//
// What each side owns: the decoder's goroutine keeps reading, rejecting,
// warning and interning (Sink.Add's checks); the stage keeps the stored
// spans, their grouping, the current file's span statistics and spilling.
// The decoder's side waits for the stage (sync) before it reads or changes
// what the stage owns: at the start and end of every input and when
// reading stops.

// storeBatch is the number of spans handed to the stage at once: large
// enough that handing over costs nothing, small enough to stay in cache.
const storeBatch = 1024

type storeStage struct {
	k     *Sink
	cur   []Span // the batch being filled
	work  chan storeMsg
	free  chan []Span
	ended chan struct{}
}

// storeMsg is a batch to store, then (when done is set) a signal that
// everything sent before is stored.
type storeMsg struct {
	spans []Span
	done  chan struct{}
}

// startStore runs k's store stage when there is a core to run it on; stop
// ends it.
func (k *Sink) startStore() {
	if runtime.GOMAXPROCS(0) < 2 {
		return
	}
	st := &storeStage{k: k, work: make(chan storeMsg, 4), free: make(chan []Span, 6), ended: make(chan struct{})}
	st.cur = make([]Span, 0, storeBatch)
	k.stage = st
	go st.run()
}

func (st *storeStage) run() {
	defer close(st.ended)
	for m := range st.work {
		for i := range m.spans {
			st.k.store(&m.spans[i])
		}
		if m.spans != nil {
			select {
			case st.free <- m.spans[:0]:
			default:
			}
		}
		if m.done != nil {
			close(m.done)
		}
	}
}

// add queues a copy of s.
func (st *storeStage) add(s *Span) {
	st.cur = append(st.cur, *s)
	if len(st.cur) == storeBatch {
		st.send(nil)
	}
}

// send hands over the batch being filled (if any) and starts a new one.
func (st *storeStage) send(done chan struct{}) {
	var spans []Span
	if len(st.cur) > 0 {
		spans = st.cur
		select {
		case st.cur = <-st.free:
		default:
			st.cur = make([]Span, 0, storeBatch)
		}
	}
	if spans != nil || done != nil {
		st.work <- storeMsg{spans: spans, done: done}
	}
}

// sync returns once every span added so far is stored. A nil stage has
// nothing pending.
func (st *storeStage) sync() {
	if st == nil {
		return
	}
	done := make(chan struct{})
	st.send(done)
	<-done
}

// stopStore stores what is pending and ends k's stage: k then stores on
// the caller's goroutine again.
func (k *Sink) stopStore() {
	st := k.stage
	if st == nil {
		return
	}
	st.sync()
	close(st.work)
	<-st.ended
	k.stage = nil
}
