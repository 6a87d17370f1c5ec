package main

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"time"
)

// The outgoing queue. In exercises/slow every client had a queue of its own, and
// broadcast copied each line into every one of them, under the lock everybody
// needs: a line cost work for every client online, and twenty clients that had
// stopped reading held twenty copies of everything.
//
// Here there is one queue, a log that everybody shares. broadcast adds a line to
// it once, in constant time, whatever the number of clients. Each client's writer
// goroutine walks the log at its own pace and sends what is for its client: a
// fast client is near the end, a slow one further back. Lines that every writer
// has passed are garbage, and the collector takes them back. A line meant for one
// client only (its welcome, an error) goes in the log too, so that everything
// reaches each client in the order it happened.

// entry is one thing to send, in the log. Once added it never changes, so the
// writers read it without a lock. Only next is set later, under Server.mu, and
// before the next entry becomes the head: a writer that has loaded the head
// sees the next of every entry before it.
type entry struct {
	data  []byte
	from  *client // not sent to from: its own lines; nil for the server's notices
	to    *client // if not nil, sent to this client only
	final bool    // the shutdown notice: the last entry, after which writers hang up
	end   int64   // bytes in the log up to the end of this entry
	next  *entry
}

// maxBatch is about the most one Write sends. A client far behind catches up in
// big writes, but its writer never gathers its whole backlog at once.
const maxBatch = 64 << 10

// batches lends writers the buffer they gather a batch in, for the time of one
// Write. A writer with nothing to send holds no buffer: with 10,000 quiet
// clients that is the difference between a few buffers in all and one each.
// (Handing the lines to one writev, as net.Buffers does, copies nothing, but
// each connection then keeps a vector as long as its biggest batch ever was:
// 60 KiB a client after 10,000 joins, in exercises/tools/load/RESULTS.md.)
var batches = sync.Pool{New: func() any { return new([]byte) }}

// appendLocked adds e at the end of the log and makes sure its writers hear of it.
// The caller holds s.mu. It does a constant amount of work, plus, now and then, a
// sweep (see sweepLocked). Once the shutdown notice is in, nothing more is added:
// it is the last line every client gets.
func (s *Server) appendLocked(e *entry) {
	if s.closing && !e.final {
		return
	}
	prev := s.head.Load()
	e.end = prev.end + int64(len(e.data))
	prev.next = e
	s.head.Store(e) // after next: see entry
	if e.to != nil {
		e.to.ring()
	} else if s.wakeAll == nil {
		// Every idle writer waits on s.changed. s.unlock closes it after
		// releasing the lock: waking them is work for each of them, so it must
		// not happen while everybody else waits for the lock. It is replaced
		// after the head is stored, and the writers load it before the head:
		// a writer either sees the new entry or waits on the channel closed for it.
		s.wakeAll = s.changed.Load().(chan struct{})
		s.changed.Store(make(chan struct{}))
	}
	if e.end-s.floor > int64(s.MaxQueue) {
		s.sweepLocked()
	}
}

// unlock releases s.mu, then wakes the writers if anything was added for all.
func (s *Server) unlock() {
	wake := s.wakeAll
	s.wakeAll = nil
	s.mu.Unlock()
	if wake != nil {
		close(wake)
	}
}

// sweepLocked keeps the log within MaxQueue bytes: it drops every client more
// than half of MaxQueue behind whose writer is waiting for the network, and
// notes how far back the rest are. The log holds what lies between the client
// furthest behind and its end, so that is the memory all the queues take
// together, however many clients there are.
//
// A sweep looks at every client, under the lock; but it only happens when the
// log has grown by half of MaxQueue since the last one, so its cost per byte
// passed on stays tiny. A client is never dropped while it is less than half of
// MaxQueue behind, and always before it is MaxQueue behind. A writer that is
// behind only because it has not had the CPU yet (it is not in a Write) is
// not the client's fault, and catches up as soon as it runs: it is spared.
func (s *Server) sweepLocked() {
	end := s.head.Load().end
	s.floor = end
	for c := range s.clients {
		if c.dropped != nil || !c.writing.Load() {
			continue
		}
		pos := c.pos.Load()
		if behind := end - pos; behind > int64(s.MaxQueue/2) {
			c.dropped = fmt.Errorf("not reading: %d KiB behind", behind>>10)
			c.conn.Close() // its writer's Write and its reader's Read end at once
			continue
		}
		s.floor = min(s.floor, pos)
	}
}

// ring tells c's writer there is something for it alone.
func (c *client) ring() {
	select {
	case c.wake <- struct{}{}:
	default: // it has been rung already: it will find this too
	}
}

// write is c's writer goroutine, the only one that writes to c.conn. It starts
// after at, the end of the log when c joined. Each time it wakes up it takes
// everything new, picks out what is for c, and sends it in one Write. It returns
// after the client has left (leave sets stopAt), after the shutdown notice, or
// when a write fails.
//
// It writes at most once every Coalesce (2ms). Nearly all the server's time
// goes into its writes, one system call each, whatever they carry: a profile
// of 100 clients sending 20 lines a second each shows 80% of it in writev. A line
// that comes after a quiet spell goes out at once; the lines that follow it
// within 2ms wait for the rest and go out together. In that busy room, that
// took a third off the server's time per delivery (exercises/tools/load/RESULTS.md).
func (s *Server) write(c *client, at *entry) {
	var pause *time.Timer
	for {
		// No lock here: a client's writer never waits for the one lock that
		// everybody needs, however many writers one line wakes up.
		c.pos.Store(at.end) // what the sweep sees: how far this writer has really got
		changed := s.changed.Load().(chan struct{})
		last, stop := s.head.Load(), c.stopAt.Load()
		if stop != nil {
			last = stop
		}

		if at == last {
			if stop != nil {
				return
			}
			select { // one wake-up, however many lines came meanwhile
			case <-changed:
			case <-c.wake:
			}
			continue
		}

		if wait := time.Until(c.lastWrite.Add(s.Coalesce)); wait > 0 {
			if pause == nil {
				pause = time.NewTimer(wait)
			} else {
				pause.Reset(wait)
			}
			<-pause.C // then take all that came meanwhile
			continue
		}

		buf := batches.Get().(*[]byte)
		batch, final := (*buf)[:0], false
		for at != last && len(batch) < maxBatch {
			at = at.next
			if at.from != c && (at.to == nil || at.to == c) {
				batch = append(batch, at.data...)
			}
			final = at.final
		}
		var err error
		if len(batch) > 0 {
			s.setWriteDeadline(c)
			c.writing.Store(true)
			_, err = c.conn.Write(batch) // one system call for them all
			c.writing.Store(false)
			c.lastWrite = time.Now()
		}
		*buf = batch
		batches.Put(buf)
		if err != nil {
			s.writeFailed(c, err)
			return
		}
		if final {
			s.hangUp(c) // the goodbye is out
			return
		}
	}
}

// setWriteDeadline gives the next write WriteTimeout, or until Shutdown's last
// moment if that comes sooner. Moving a deadline is not free, so a busy writer
// does not move it before every write: only when less than three quarters of
// WriteTimeout is left. A write may take between 3/4 and all of WriteTimeout.
func (s *Server) setWriteDeadline(c *client) {
	now := time.Now()
	if last := s.final.Load(); last != 0 {
		c.conn.SetWriteDeadline(earlier(now.Add(s.WriteTimeout), time.Unix(0, last)))
		return
	}
	if c.deadline.Sub(now) < s.WriteTimeout*3/4 {
		c.deadline = now.Add(s.WriteTimeout)
		c.conn.SetWriteDeadline(c.deadline)
	}
	// Shutdown may have begun meanwhile. It stores its moment before it hurries
	// the writers, so either we see it here, or its hurry comes after our deadline.
	if last := s.final.Load(); last != 0 {
		c.conn.SetWriteDeadline(earlier(c.deadline, time.Unix(0, last)))
	}
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// writeFailed hangs up on c after a failed write, and records why if the client
// was too slow; its reader then leaves, and tells the others.
func (s *Server) writeFailed(c *client, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	// Close and Shutdown move the deadlines themselves: then it is not the client's fault.
	if errors.Is(err, os.ErrDeadlineExceeded) && c.dropped == nil && !s.closing && s.ctx.Err() == nil {
		c.dropped = fmt.Errorf("not reading: a write took over %v", s.WriteTimeout*3/4)
	}
	c.conn.Close()
}

// linger is how long a hang-up waits for what the client is still sending.
const linger = 250 * time.Millisecond

// hangUp ends the conversation with c politely. Closing outright while c's lines
// are still coming in would make the kernel answer them with a reset, and a
// reset can destroy the last lines in the client's buffers (the goodbye!) before
// the client reads them. So it only sends the end of the stream (a FIN) after
// what was sent, and gives the reader a moment (linger) to take in what is still
// on the way; the reader then ends and handle closes the connection.
func (s *Server) hangUp(c *client) {
	if c.linger.Load() != 0 {
		return // hanging up already
	}
	until := time.Now().Add(linger)
	if last := s.final.Load(); last != 0 {
		until = earlier(until, time.Unix(0, last))
	}
	c.linger.Store(until.UnixNano()) // first: read sees it, or our deadline comes after its own
	if cw, ok := c.conn.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	}
	c.conn.SetReadDeadline(until)
}
