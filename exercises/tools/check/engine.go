package main

// The engine: what a property is, and how the checker runs the checks of
// properties.go, each on a fresh run of the program.

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

const (
	answerWait = 3 * time.Second          // how long a client waits for a line that should come
	quietWait  = 500 * time.Millisecond   // how long a sender listens for its own line, to be sure it does not come
	resend     = 200 * time.Millisecond   // how often a client says hello again while nobody hears it
	trialLimit = 60 * time.Second         // no check may take longer: then its program is killed
	maxLine    = 64 * 1024                // the workbook's limit on a line, its newline included
	raceExit   = 66                       // the race detector's exit status
	raceEnv    = "GORACE=halt_on_error=1" // stop at the first race: its report is the one to read
)

// property is one thing a chat server can do, checked from the outside.
type property struct {
	name        string
	from, until int                // the stages that require it
	about       string             // how it is checked, for the README
	race        bool               // checked on the build with the race detector
	inProcess   bool               // checked by a test of the checker's, run inside the program (probe.go)
	keyboard    func(*trial) error // how to check it on stage0, which has no network (nil: it needs the network)
	network     func(*trial) error // how to check it on a server
}

// propertyNamed finds a property by its name in the table; ok is false when there is none.
func propertyNamed(name string) (property, bool) {
	for _, p := range properties {
		if p.name == name {
			return p, true
		}
	}
	return property{}, false
}

// requires says what a stage asks of p: "required", "not yet" or "no longer".
func (p property) requires(stage int) string {
	switch {
	case stage < p.from:
		return "not yet"
	case stage > p.until:
		return "no longer"
	default:
		return "required"
	}
}

// span says which stages require p, for the README.
func (p property) span() string {
	if p.from == p.until {
		return fmt.Sprintf("%d", p.from)
	}
	return fmt.Sprintf("%d–%d", p.from, p.until)
}

// result is one property of one program: passed, or how it failed.
type result struct {
	pass    bool
	skipped bool // not checked: -only named another property
	*failure
}

// checker runs checks, and keeps what many checks share: the built programs, the
// ports handed out, and a limit on how many programs run at once.
type checker struct {
	ctx      context.Context
	tmp      string        // the built programs go here
	startup  time.Duration // how long a program may take to accept its first client
	sem      chan struct{} // one token per check running (a check runs one program at a time)
	buildSem chan struct{} // one token per build running
	onLaunch func(*proc)   // when set (by a test), hears of every server started
	only     string        // when set (-only), the one property to check: the others are skipped

	mu     sync.Mutex
	builds map[string]*build
	ports  map[string]bool
}

func newChecker(ctx context.Context, tmp string, startup time.Duration) *checker {
	return &checker{ctx: ctx, tmp: tmp, startup: startup,
		sem: make(chan struct{}, 16), buildSem: make(chan struct{}, 3),
		builds: map[string]*build{}, ports: map[string]bool{}}
}

// measure checks every property of the program in dir as stage N, all at once:
// each check runs the program afresh, so the checks cannot disturb each other.
func (c *checker) measure(dir string, stage int) []result {
	results := make([]result, len(properties))
	var wg sync.WaitGroup
	for i, p := range properties {
		if c.only != "" && p.name != c.only {
			results[i] = result{skipped: true}
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = c.try(p, dir, stage)
		}()
	}
	wg.Wait()
	return results
}

// trial is one check of one property: it owns the programs it starts.
type trial struct {
	ctx   context.Context
	c     *checker
	dir   string // the program's folder
	bin   string
	env   []string
	procs []*proc
}

// try checks one property and cleans up after it, whatever happened.
func (c *checker) try(p property, dir string, stage int) result {
	var bin string
	if !p.inProcess { // an in-process check builds the program with its own test instead
		var err error
		if bin, err = c.binary(dir, p.race); err != nil {
			return result{failure: errFailure(err)}
		}
	}
	c.sem <- struct{}{}
	defer func() { <-c.sem }()
	ctx, cancel := context.WithTimeout(c.ctx, trialLimit)
	defer cancel()
	t := &trial{ctx: ctx, c: c, dir: dir, bin: bin}
	if p.race {
		t.env = []string{raceEnv}
	}
	check := p.network
	if stage == 0 && p.keyboard != nil {
		check = p.keyboard
	}
	err := check(t)

	// A server that ended by itself during a failed check has usually crashed: say
	// so. A crash takes a moment to end the process, so give it that moment.
	var note string
	for _, pr := range t.procs {
		if pr.addr == "" || err == nil || note != "" {
			continue
		}
		select {
		case <-pr.exited:
		case <-time.After(quietWait):
		}
		note = pr.endNote()
	}
	for _, pr := range t.procs {
		pr.stop()
	}
	if err == nil {
		return result{pass: true}
	}
	f := *errFailure(err)
	if note != "" {
		f.saw += "; " + note
		if strings.Contains(note, "panic:") || strings.Contains(note, "fatal error:") {
			f.fix = "it crashed: run it by hand, do what the checker did, and read the first lines of the panic"
		}
	}
	return result{failure: &f}
}

// start starts the program as a server and returns its first client, A, once the
// server has logged it (or half a second has passed: see join).
func (t *trial) start() (*proc, *client, error) {
	p, a, err := t.c.startServer(t.ctx, t.bin, t.env)
	if err != nil {
		return nil, nil, err
	}
	t.procs = append(t.procs, p)
	p.out.find(a.addr(), quietWait)
	return p, a, nil
}

// keyboard starts the program with its standard input and output in the checker's hands.
func (t *trial) keyboard() (*proc, *transcript, io.WriteCloser, error) {
	stdout := newTranscript()
	p, stdin, err := launch(t.ctx, t.bin, nil, t.env, stdout, true)
	if err != nil {
		return nil, nil, nil, err
	}
	t.procs = append(t.procs, p)
	return p, stdout, stdin, nil
}

// join connects a new client, and waits (a little, at most) until the server logs
// its address, as the workbook's stages do in "Connected ADDR". Clients that join one
// at a time keep stage4's unlocked client list from crashing with "concurrent map
// writes" in the middle of a check about something else: provoking that race is
// the job of the race check alone.
func join(p *proc, names ...string) ([]*client, error) {
	var cs []*client
	logs := true
	for _, n := range names {
		c, err := p.dial(n)
		if err != nil {
			return nil, fail("", "client %s could not connect: %v", n, err)
		}
		if logs {
			// A server that does not log this client (or serves one client at a
			// time) costs the wait once: the next clients are not waited for.
			_, err := p.out.find(c.addr(), quietWait)
			logs = err == nil
		}
		cs = append(cs, c)
	}
	return cs, nil
}

// served has from send lines until one is answered: it comes back to from (an echo
// server) or reaches one of others (a chat server). Lines are sent again and again
// because a chat server passes a line on only to the clients already on its list.
func served(from *client, others []*client) error {
	deadline := time.Now().Add(answerWait)
	var sent []string
	for {
		tok := token("ping")
		from.send(tok)
		sent = append(sent, tok)
		_, err := from.find(tok, resend)
		if err == nil {
			return nil
		}
		for _, o := range others {
			for _, s := range sent {
				if o.has(s) {
					return nil
				}
			}
		}
		if from.ended() {
			return fail("", "the server hung up on %s", from.name)
		}
		if time.Now().After(deadline) {
			return fail("", "%s's lines got no answer within %v: neither echoed nor passed on", from.name, answerWait)
		}
	}
}

// meet has every client say hello until a hello of each has reached another client.
// A chat server puts a client on its list before it reads the client's first line,
// so from then on every line passed on reaches that client too. With self set, a
// client that gets its own hello back ends the wait, and is returned.
func meet(cs []*client, self bool) (*client, error) {
	deadline := time.Now().Add(answerWait)
	sent := make([][]string, len(cs))
	heard := make([]bool, len(cs)) // heard[i]: a hello of cs[i] reached another client
	tick := time.NewTicker(25 * time.Millisecond)
	defer tick.Stop()
	var last time.Time
	for {
		if time.Since(last) >= resend {
			for i, c := range cs {
				if !heard[i] {
					tok := token("hello")
					sent[i] = append(sent[i], tok)
					c.send(tok)
				}
			}
			last = time.Now()
		}
		done := true
		for i, c := range cs {
			for _, tok := range sent[i] {
				if self && c.has(tok) {
					return c, nil
				}
				for j, o := range cs {
					if j != i && o.has(tok) {
						heard[i] = true
					}
				}
			}
			done = done && heard[i]
		}
		if done {
			// Let every hello sent so far arrive everywhere: then no line is still
			// being passed on when a client leaves next (on stage4, a goroutine that
			// walks the map while another deletes from it can crash the server).
			for i := range cs {
				for _, tok := range sent[i] {
					for j, o := range cs {
						if j != i {
							o.find(tok, time.Until(deadline))
						}
					}
				}
			}
			return nil, nil
		}
		var deaf []string
		for i, c := range cs {
			if !heard[i] {
				deaf = append(deaf, c.name)
			}
		}
		if time.Now().After(deadline) || cs[0].ended() {
			return nil, fail("", "no line of %s reached another client within %v", strings.Join(deaf, ", "), answerWait)
		}
		<-tick.C
	}
}

// propertyNames lists the table's properties, quoted, for a usage message.
func propertyNames() string {
	var ns []string
	for _, p := range properties {
		ns = append(ns, fmt.Sprintf("%q", p.name))
	}
	return strings.Join(ns, ", ")
}
