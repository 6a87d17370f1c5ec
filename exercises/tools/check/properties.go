package main

// The properties a chat server is checked for, in the order the stages add them,
// and the check of each. engine.go runs them.

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// properties, in the order the stages add them.
var properties = []property{
	{name: "echo", from: 0, until: 3, keyboard: checkKeyboardEcho, network: checkEcho,
		about: "a client sends two lines, one ending in `\\n` as nc sends it and one in `\\r\\n` as telnet does, " +
			"and gets each back as it was. Stage0 instead prints `Connected`, echoes what is typed, and prints " +
			"`Disconnected` at an empty line and at the end of input. Stages 4 and 5 no longer echo: they pass lines on."},
	{name: "refuses a line over 64 KiB", from: 0, until: 5, keyboard: checkKeyboardLong, network: checkLong,
		about: "a client sends 65,536 bytes with no end of line; it gets a line that starts with `error` and the " +
			"server hangs up. Stage0 ends with a message on stderr and a non-zero exit status."},
	{name: "listens on the -addr address", from: 1, until: 5, network: checkListens,
		about: "started with `-addr 127.0.0.1:PORT` (a free port), it accepts a connection there. " +
			"Stage0 has no network, so it fails this and every row below."},
	{name: "Close stops the server", from: 1, until: 5, inProcess: true, network: checkCloseStops,
		about: "in-process (the checker runs a test of its own against the program's `Server`, as the stages' tests do): " +
			"with a client connected, `Close` returns, hangs up on the client, and `Serve` returns nil within 3s."},
	{name: "keeps serving after a client leaves", from: 2, until: 5, network: checkNext,
		about: "client A sends a line and leaves; then clients B and C connect, and B's lines are answered " +
			"(echoed to B, or passed on to C)."},
	{name: "serves clients at the same time", from: 3, until: 5, network: checkTogether,
		about: "A and B are connected at once, and each one's lines are answered (echoed, or passed on to the other)."},
	{name: "Close waits for every client", from: 3, until: 5, inProcess: true, network: checkCloseWaits,
		about: "in-process: two clients are connected; the checker's log holds back the first \"Disconnected\" line " +
			"that a client's goroutine writes after `Close` is called; `Close` must not return while it is held " +
			"(the checker gives it 1s), and must return once it is let go."},
	{name: "broadcasts to the others", from: 4, until: 5, network: checkBroadcast,
		about: "A, B and C join one at a time, and each says hello until one of its hellos has reached another client " +
			"(so the server has all three on its list); then a line from A reaches B and C, and one from B reaches A and C. " +
			"Clients join one at a time in every check but the last, so that stage4's unlocked list does not crash " +
			"(\"concurrent map writes\") in a check about something else."},
	{name: "not back to the sender", from: 4, until: 5, network: checkNotBack,
		about: "as above with A and B; B gets A's line, and A does not get it back within half a second."},
	{name: "removes clients that leave", from: 4, until: 5, network: checkRemoves,
		about: "of five clients, three end their side of the connection one after another (as nc does at the end of its input); " +
			"the server must hang up on each within 3s, the two left must still get all 8 lines of each other's, " +
			"and the server must log no error about the clients that left. It cannot be seen from outside " +
			"whether a server that did close the connection also took it off its list when it ignores the " +
			"write errors to it: the next row checks that in-process."},
	{name: "writes nothing to clients that left", from: 4, until: 5, inProcess: true, network: checkForgets,
		about: "in-process: the checker gives the program's `Server` a listener whose connections count the writes " +
			"made after the server closed them. Of five clients, one ends its input, one sends a line over 64 KiB, " +
			"one resets its connection; once the server has closed all three, A sends two lines, and when B has them " +
			"nothing may have been written to the three."},
	{name: "no data race", from: 5, until: 5, race: true, keyboard: checkKeyboardRace, network: checkRace,
		about: "built with `-race` and run with `GORACE=halt_on_error=1`, the race detector must report nothing while " +
			"clients use the list in turn and all at once: S1's line reaches S2; four quiet clients join and say nothing; " +
			"S1 talks again; the quiet ones leave; then S1 talks all the time while two rounds of four clients join at once, " +
			"talk and leave. The race detector counts a socket write in one goroutine and a later read in another as " +
			"ordering everything before them, so the quiet turns put two uses of the list side by side with no such " +
			"pair between them: a lock left out of any one of join, leave or broadcast is reported every time. " +
			"Stages 1-3 share no variables between goroutines, so they pass without a lock."},
}

// --- the checks. Each returns nil when the property holds. ---

func checkListens(t *trial) error {
	_, _, err := t.start()
	return err
}

func checkEcho(t *trial) error {
	_, a, err := t.start()
	if err != nil {
		return err
	}
	const fix = "write each line back to the client that sent it"
	asNetcat, asTelnet := token("hello"), token("world")
	a.send(asNetcat)
	a.sendRaw(asTelnet + "\r\n")
	for _, tok := range []string{asNetcat, asTelnet} {
		line, err := a.find(tok, answerWait)
		switch {
		case err != nil:
			return fail(fix, "A sent %q and got nothing back: %s", tok, describe(err, answerWait))
		case line == tok+"\r":
			return fail("read lines with bufio.Scanner, which drops the \\r before the \\n",
				"A sent %q ending in \\r\\n, as telnet does, and got it back with the \\r", tok)
		case line != tok:
			return fail("send the line back as it came, and nothing else on that line", "A sent %q and got back %q", tok, shorten(line))
		}
	}
	return nil
}

func checkLong(t *trial) error {
	_, a, err := t.start()
	if err != nil {
		return err
	}
	const fix = "keep stage1's limit: a line longer than that gets a line starting with \"error\", then the server hangs up"
	go a.sendRaw(strings.Repeat("x", maxLine)) // it may block: the check goes on while it writes
	line, err := a.nextLine(answerWait)
	if err != nil {
		return fail(fix, "A sent %d bytes with no end of line (more than the limit of 64 KiB, newline included) and got no answer: %s",
			maxLine, describe(err, answerWait))
	}
	if !strings.HasPrefix(line, "error") {
		return fail(fix, "A sent %d bytes with no end of line; the answer was %q, not a line starting with \"error\"", maxLine, shorten(line))
	}
	if err := a.waitEnd(answerWait); err != nil {
		return fail(fix, "after %q the server did not hang up: %s", shorten(line), describe(err, answerWait))
	}
	return nil
}

func checkNext(t *trial) error {
	p, a, err := t.start()
	if err != nil {
		return err
	}
	const fix = "when a client leaves, go back to Accept and wait for the next one"
	a.send(token("bye"))
	a.leave()
	a.waitEnd(answerWait) // the server hangs up on A: whether it does is another property
	cs, err := join(p, "B", "C")
	if err != nil {
		return fail(fix, "after A left, %v", err)
	}
	if err := served(cs[0], cs[1:]); err != nil {
		return fail(fix, "after A left: %v", err)
	}
	return nil
}

func checkTogether(t *trial) error {
	p, a, err := t.start()
	if err != nil {
		return err
	}
	more, err := join(p, "B")
	if err != nil {
		return fail("", "while A was connected, %v", err)
	}
	b := more[0]
	const fix = "serve each client in a goroutine of its own, so that the server goes back to Accept at once"
	if err := served(b, []*client{a}); err != nil {
		return fail(fix, "with A still connected: %v", err)
	}
	if err := served(a, []*client{b}); err != nil {
		return fail(fix, "with B connected too: %v", err)
	}
	return nil
}

func checkBroadcast(t *trial) error {
	p, a, err := t.start()
	if err != nil {
		return err
	}
	more, err := join(p, "B", "C")
	if err != nil {
		return err
	}
	cs := append([]*client{a}, more...)
	const fix = "keep a list of the connected clients, and write each line to every one of them but its sender"
	if _, err := meet(cs, false); err != nil {
		return fail(fix, "A, B and C said hello: %v", err)
	}
	for i, from := range cs[:2] {
		tok := token("news")
		from.send(tok)
		for j, to := range cs {
			if j == i {
				continue
			}
			if _, err := to.find(tok, answerWait); err != nil {
				return fail(fix, "%s sent %q, and %s did not get it: %s", from.name, tok, to.name, describe(err, answerWait))
			}
		}
	}
	return nil
}

func checkNotBack(t *trial) error {
	p, a, err := t.start()
	if err != nil {
		return err
	}
	more, err := join(p, "B")
	if err != nil {
		return err
	}
	b := more[0]
	const fix = "when you pass a line on, skip the client that sent it"
	self, err := meet([]*client{a, b}, true)
	if self != nil {
		return fail(fix, "%s got its own line back", self.name)
	}
	if err != nil {
		return fail("make \"broadcasts to the others\" pass first", "lines do not reach the other client yet, so this cannot be checked: %v", err)
	}
	tok := token("mine")
	a.send(tok)
	if _, err := b.find(tok, answerWait); err != nil {
		return fail("make \"broadcasts to the others\" pass first", "A sent %q and B did not get it: %s", tok, describe(err, answerWait))
	}
	if line, err := a.find(tok, quietWait); err == nil {
		return fail(fix, "A sent %q and got it back: %q", tok, shorten(line))
	}
	return nil
}

func checkRemoves(t *trial) error {
	p, a, err := t.start()
	if err != nil {
		return err
	}
	more, err := join(p, "B", "D1", "D2", "D3")
	if err != nil {
		return err
	}
	cs := append([]*client{a}, more...)
	if _, err := meet(cs, false); err != nil {
		return fail("make \"broadcasts to the others\" pass first", "lines do not reach the other clients yet, so leaving cannot be checked: %v", err)
	}
	mark := p.out.size() // what the server logs from here on
	b, gone := cs[1], cs[2:]

	// D1, D2 and D3 leave, as nc does at the end of its input: each ends its side
	// and waits for the server to hang up. Only a server that closed the connection
	// hangs up, and the workbook's stages close it after taking it off the list.
	// They leave one after another, for the reason join gives.
	for _, d := range gone {
		d.leave()
		if err := d.waitEnd(answerWait); err != nil {
			return fail("when a client's input ends, take it off the list and close its connection",
				"%s ended its side of the connection, and the server did not hang up: %s", d.name, describe(err, answerWait))
		}
	}

	// The two still there must get every line of each other's, at once.
	const n = 8
	for _, pair := range [][2]*client{{a, b}, {b, a}} {
		from, to := pair[0], pair[1]
		var toks []string
		for range n {
			tok := token("after")
			toks = append(toks, tok)
			from.send(tok)
		}
		deadline := time.Now().Add(answerWait)
		missing := 0
		for _, tok := range toks {
			if _, err := to.find(tok, time.Until(deadline)); err != nil {
				missing++
			}
		}
		if missing > 0 {
			return fail("a client that left must not stop, nor delay, the lines meant for the others",
				"after D1, D2 and D3 left, %s got only %d of the %d lines %s sent within %v", to.name, n-missing, n, from.name, answerWait)
		}
	}

	// Nothing may have been written to the clients that left.
	for _, line := range p.out.lines()[mark:] {
		for _, d := range gone {
			if strings.Contains(line, d.addr()) && looksLikeError(line) {
				return fail("take a client off the list when it leaves, so that nothing writes to it any more",
					"after %s (%s) left, the server logged %q", d.name, d.addr(), shorten(strings.TrimSpace(line)))
			}
		}
	}
	return nil
}

// looksLikeError tells a log line about a failed write or read from a plain
// "Disconnected ADDR".
func looksLikeError(line string) bool {
	l := strings.ToLower(line)
	for _, w := range []string{"error", "closed", "broken pipe", "reset", "fail", "panic", "write"} {
		if strings.Contains(l, w) {
			return true
		}
	}
	return false
}

func checkRace(t *trial) error {
	p, s1, err := t.start()
	if err != nil {
		return err
	}
	s2, err := p.dial("S2")
	if err != nil {
		return fail("", "a second client could not connect: %v", err)
	}

	// The race detector needs no bad luck: it reports two goroutines that use the
	// same variable with nothing ordering them, however far apart in time. But it
	// counts every write to a file or socket as ordered before every later read,
	// in any goroutine: two uses of the client list with a socket write in the one
	// goroutine and a later read in the other between them look ordered, and the
	// race goes unseen. So the scenarios below put uses of the list side by side
	// with no such pair between them: first quietly, then all at once.
	for _, scene := range []func(p *proc, s1, s2 *client){raceQuietly, raceAtOnce} {
		if p.ended() {
			break // the race detector has spoken (or the server crashed): read below
		}
		scene(p, s1, s2)
	}
	if !p.ended() {
		served(s1, []*client{s2}) // a last line after all have left: the server has handled everything above
	}
	p.stop()

	if where := raceReport(p.out.lines()); where != "" {
		return fail("find the variable those goroutines share, and make every use of it hold the same sync.Mutex",
			"the race detector reports a data race: %s", where)
	}
	if why := p.crash(); strings.Contains(why, "concurrent map") {
		return fail("find the map those goroutines share, and make every use of it hold the same sync.Mutex",
			"it crashed before the race detector could speak: %s", why)
	}
	if p.state.ExitCode() == raceExit {
		return fail("run it with go run -race and read the report", "it ended with status %d, the race detector's", raceExit)
	}
	return nil
}

// raceQuietly puts each use of the client list right after another goroutine's,
// with no socket write and later read between them:
//   - S1 talks, so S1's goroutine reads the list to pass the line on; then
//     clients join that say nothing, so their goroutines change the list having
//     read nothing since (a join that is not locked, or a broadcast that is not,
//     races here);
//   - S1 talks again: its goroutine reads the list last, after its last write to
//     a client; then the quiet clients leave, so their goroutines change the list
//     after reading only the end of their own input (a leave that is not locked,
//     or a broadcast that is not, races here).
func raceQuietly(p *proc, s1, s2 *client) {
	if served(s1, []*client{s2}) != nil {
		return
	}
	quiet, err := join(p, "Q1", "Q2", "Q3", "Q4") // each waited for until the server logs it
	if err != nil || p.ended() {
		return
	}
	served(s1, []*client{s2})
	for _, q := range quiet {
		q.leave()
		if p.out.has(q.addr()) { // served: it hangs up (one client at a time serves none of them now)
			q.waitEnd(answerWait)
		}
		if p.ended() {
			return
		}
	}
}

// raceAtOnce has everything happen together: S1 talks all the time while two
// rounds of four clients join at once, talk and leave.
func raceAtOnce(p *proc, s1, s2 *client) {
	stop := make(chan struct{})
	talked := make(chan struct{})
	go func() {
		defer close(talked)
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for range 1000 {
			select {
			case <-stop:
				return
			case <-p.exited:
				return
			case <-tick.C:
			}
			if s1.send(token("chat")) != nil {
				return
			}
		}
	}()
	defer func() {
		close(stop)
		<-talked
	}()

	for round := 0; round < 2 && !p.ended(); round++ {
		var wg sync.WaitGroup
		var waited atomic.Bool
		for i := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c, err := p.dial(fmt.Sprintf("R%d", 4*round+i))
				if err != nil {
					return
				}
				c.send(token("hi"))
				c.send(token("bye"))
				c.leave()
				if c.waitEnd(answerWait) != nil {
					waited.Store(true)
				}
			}()
		}
		wg.Wait()
		if waited.Load() {
			return // it does not serve them now (one client at a time): more rounds would only wait
		}
	}
}

// raceReport sums up the race detector's first report: which code made each of the
// two accesses. It returns "" when there is none.
func raceReport(out []string) string {
	start := -1
	for i, l := range out {
		if strings.Contains(l, "WARNING: DATA RACE") {
			start = i
			break
		}
	}
	if start < 0 {
		return ""
	}
	var parts []string
	for i := start + 1; i < len(out) && len(parts) < 2; i++ {
		head := strings.TrimSpace(out[i])
		kind := ""
		switch {
		case strings.HasPrefix(head, "Write at"), strings.HasPrefix(head, "Read at"):
			kind = "a " + strings.ToLower(strings.Fields(head)[0])
		case strings.HasPrefix(head, "Previous write at"), strings.HasPrefix(head, "Previous read at"):
			kind = "an earlier " + strings.ToLower(strings.Fields(head)[1])
		default:
			continue
		}
		// The first frame in the program's own package says where.
		for j := i + 1; j+1 < len(out) && strings.TrimSpace(out[j]) != ""; j++ {
			fn := strings.TrimSpace(out[j])
			if strings.HasPrefix(fn, "main.") {
				loc := strings.Fields(out[j+1])[0]
				if k := strings.LastIndexAny(loc, `/\`); k >= 0 {
					loc = loc[k+1:]
				}
				kind += fmt.Sprintf(" in %s (%s)", strings.TrimSuffix(fn, "()"), loc)
				break
			}
		}
		parts = append(parts, kind)
	}
	if len(parts) == 0 {
		return "see its report on stderr"
	}
	return strings.Join(parts, " and ") + ", by two goroutines with nothing ordering them"
}

// --- stage0: the keyboard. ---

func checkKeyboardEcho(t *trial) error {
	// First the empty line, then the end of input: both say goodbye.
	for _, ending := range []string{"an empty line", "the end of input"} {
		p, out, in, err := t.keyboard()
		if err != nil {
			return err
		}
		line, err := out.nextLine(answerWait)
		if err != nil {
			return fail("print \"Connected\" as soon as it starts", "it printed nothing at the start: %s", describe(err, answerWait))
		}
		if line != "Connected" {
			return fail("print \"Connected\" first, before it reads anything", "the first line it printed was %q, not \"Connected\"", shorten(line))
		}
		typed, typedCRLF := token("hello"), token("world")
		io.WriteString(in, typed+"\n"+typedCRLF+"\r\n")
		if ending == "an empty line" {
			io.WriteString(in, "\n")
		} else {
			in.Close()
		}
		for _, want := range []string{typed, typedCRLF, "Disconnected"} {
			line, err := out.nextLine(answerWait)
			if err != nil {
				return fail("print each line as it was typed, and \"Disconnected\" at the end",
					"after %q, %q and %s, %q never came: %s", typed, typedCRLF, ending, want, describe(err, answerWait))
			}
			if line != want {
				return fail("print each line as it was typed, and \"Disconnected\" at the end",
					"after %q, %q and %s, it printed %q where %q should come", typed, typedCRLF, ending, shorten(line), want)
			}
		}
		select {
		case <-p.exited:
		case <-time.After(answerWait):
			return fail("end the program after \"Disconnected\"", "it did not end within %v after %s", answerWait, ending)
		}
		if code := p.state.ExitCode(); code != 0 {
			return fail("end normally after \"Disconnected\"", "it ended with exit status %d after %s: %s", code, ending, p.out.tail(2))
		}
	}
	return nil
}

func checkKeyboardLong(t *trial) error {
	p, _, in, err := t.keyboard()
	if err != nil {
		return err
	}
	const fix = "keep the limit on line length, and end with a message on stderr when a line goes over it"
	go io.WriteString(in, strings.Repeat("x", maxLine)) // it fails once the program has ended
	select {
	case <-p.exited:
	case <-time.After(answerWait):
		return fail(fix, "it still ran %v after %d bytes with no end of line", answerWait, maxLine)
	}
	if p.state.ExitCode() == 0 || len(p.out.lines()) == 0 {
		return fail(fix, "after %d bytes with no end of line it ended with status %d and said: %s", maxLine, p.state.ExitCode(), p.out.tail(2))
	}
	return nil
}

func checkKeyboardRace(t *trial) error {
	p, _, in, err := t.keyboard()
	if err != nil {
		return err
	}
	io.WriteString(in, "one\ntwo\n\n")
	in.Close()
	select {
	case <-p.exited:
	case <-time.After(answerWait):
		return fail("end the program at an empty line", "it did not end within %v after an empty line", answerWait)
	}
	if where := raceReport(p.out.lines()); where != "" {
		return fail("make every use of a shared variable hold the same sync.Mutex", "the race detector reports a data race: %s", where)
	}
	return nil
}
