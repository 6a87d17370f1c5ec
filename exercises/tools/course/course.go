// Package course is the workbook's teaching order, kept as data in one place: the
// sheets that follow the stages, then the extension exercises. begin -list, the
// lists of the READMEs and the checker all read it from here, so adding an
// exercise is one entry below (and a folder in the shape of the others).
package course

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// A Sheet is one of exercises 0 to 5: it follows a stage, and the checker grades it.
type Sheet struct {
	Stage int    // the stage the learner's answer should match
	From  string // the folder the learner copies the program from
	Build string // what the learner builds, for the tables
}

// Sheets are exercises 0 to 5, in order.
var Sheets = []Sheet{
	{0, "stage0", "nothing yet: find where a server waits, reads and writes"},
	{1, "stage1", "nothing yet: find its weaknesses with `nc` and `telnet`"},
	{2, "stage1", "a server that keeps serving after a client leaves"},
	{3, "stage2", "many clients at once"},
	{4, "stage3", "a chat: each line to every other client"},
	{5, "stage4", "first find its data race with `go test -race`, then fix it"},
}

// Path is the sheet's file, from the workbook's root.
func (s Sheet) Path() string { return fmt.Sprintf("exercises/ex%d.md", s.Stage) }

// Mine is the folder begin sets the sheet up in, by default.
func (s Sheet) Mine() string { return fmt.Sprintf("mine/ex%d", s.Stage) }

// An Extension is an exercise after stage 5, in the one shape every extension has:
//
//	exercises/NAME/README.md   the sheet
//	exercises/NAME/START       where it begins: folders and files, one a line
//	exercises/NAME/_start/     the stub files, where it has any
//	exercises/NAME/answer/     the reference solution, with the tests
//	exercises/NAME/mistakes/   its classic mistakes, kept as mutants of the answer
type Extension struct {
	Name    string
	After   string // what it starts from, in words, for the tables
	Teaches string // what the learner builds, and what it teaches
	// Answer is the folder of the reference solution and its tests, from the root.
	// Empty means exercises/NAME/answer; the client exercise's answer is the
	// workbook's Go client, a tool that learners without nc use from stage 1 on.
	Answer string
}

// Extensions are the exercises after stage 5, in teaching order.
var Extensions = []Extension{
	{Name: "names", After: "stage5", Teaches: "a unique name for each client, `Welcome NAME`, `NAME: text` lines and `/name NEW` renames: state per client under the lock, checking and taking a name in one locked step, validating input"},
	{Name: "presence", After: "names", Teaches: "`NAME joined (N online)` and `NAME left (N online)`: a count is only true inside the lock, so announce a change in the same step that makes it"},
	{Name: "shutdown", After: "presence", Teaches: "`/quit`, and stopping on Ctrl+C or SIGTERM: tell everyone, hang up, exit 0 in bounded time even with a stuck client: `signal.NotifyContext`, `errgroup`, write deadlines, a `Shutdown(ctx)` that goleak checks"},
	{Name: "client", After: "a stub", Answer: "exercises/tools/client", Teaches: "a Go chat client, for learners without `nc`: keyboard and socket read at once by two goroutines, a clean exit (Ctrl+D, Ctrl+C, server gone), a `[You]` prompt and coloured names on a terminal (respecting `NO_COLOR`), plain lines in a pipe"},
	{Name: "hub", After: "stage5", Teaches: "no mutex: one goroutine, the hub, owns the client list, and the others talk to it over channels, in one `select`; a channel and a writer goroutine for each client; a client that stops reading is hung up on; when a hub is the better design, and when a lock or slow's queue is"},
	{Name: "slow", After: "stage5", Teaches: "a queue bounded in bytes and a writer goroutine for each client, with a write deadline: a client that stops reading is dropped instead of stalling everybody"},
	{Name: "limits", After: "slow", Teaches: "a line-length limit that tells the sender and carries on, a client limit that refuses newcomers with a reason, and `Accept` errors that back off instead of ending the server"},
	{Name: "framing", After: "stage5 and a stub", Teaches: "messages with a 4-byte big-endian length in front: any bytes, a 1 MiB limit checked before allocating, a fuzzed decoder, port 10000"},
	{Name: "tls", After: "stage5 and a stub", Teaches: "the chat over TLS 1.3, with a certificate the workbook makes in Go (`-gen-cert`) and a client that trusts only that certificate: no `InsecureSkipVerify`"},
	{Name: "complete", After: "limits and stubs", Teaches: "the capstone: names, presence and shutdown merged onto the queue of slow and limits, hardened for strangers: one shared queue (constant work under the lock, memory bounded for all clients together), lines cleaned of terminal control, idle and write timeouts, a cap per address, a shutdown bounded with many stuck clients"},
	{Name: "cluster", After: "slow and a stub", Teaches: "several servers, one room: each publishes its clients' lines on NATS (a broker inside the program, a real `nats-server` or a cluster) and passes on everyone else's: publish/subscribe, at-most-once delivery, order per publisher, no echo, reconnecting, back-pressure; a Go module of its own"},
	{Name: "web", After: "complete", Teaches: "the chat in a browser: a page embedded in the binary and a WebSocket endpoint (`github.com/coder/websocket`, in a module of its own) that puts browsers in the same room as `nc`, behind one interface; the HTTP upgrade, the `Origin` check, the same limits for a slow tab, strangers' lines shown with `textContent`; tested in headless Chromium"},
}

// Dir is the exercise's folder, from the root.
func (e Extension) Dir() string { return "exercises/" + e.Name }

// AnswerDir is the folder of its reference solution and tests, from the root.
func (e Extension) AnswerDir() string {
	if e.Answer != "" {
		return e.Answer
	}
	return e.Dir() + "/answer"
}

// Find returns the extension called name.
func Find(name string) (Extension, error) {
	for _, e := range Extensions {
		if e.Name == name {
			return e, nil
		}
	}
	return Extension{}, fmt.Errorf("no exercise called %q; there are: %s", name, strings.Join(Names(), ", "))
}

// Names lists the extensions in teaching order.
func Names() []string {
	var names []string
	for _, e := range Extensions {
		names = append(names, e.Name)
	}
	return names
}

// Start reads the extension's START file under root: the folders and files its
// starting point is made of, the first one whole, each next one laid over it.
func (e Extension) Start(root string) ([]string, error) {
	b, err := os.ReadFile(filepath.Join(root, e.Dir(), "START"))
	if err != nil {
		return nil, err
	}
	start := strings.Fields(string(b))
	if len(start) == 0 {
		return nil, fmt.Errorf("%s/START is empty", e.Dir())
	}
	return start, nil
}

// Table renders the extensions as the Markdown table of the READMEs; link is the
// path from the README to the exercises folder ("exercises/" or "").
func Table(link string) string {
	var b strings.Builder
	b.WriteString("| exercise | starts from | what you build, and what it teaches |\n|---|---|---|\n")
	for _, e := range Extensions {
		fmt.Fprintf(&b, "| [%s](%s%s/README.md) | %s | %s |\n", e.Name, link, e.Name, e.After, e.Teaches)
	}
	return b.String()
}

// SheetTable renders the sheets as the Markdown table of exercises/README.md.
func SheetTable() string {
	var b strings.Builder
	b.WriteString("| sheet | you start from | you build | check it with |\n|---|---|---|---|\n")
	for _, s := range Sheets {
		from, dir := s.From, s.From
		if s.From != fmt.Sprintf("stage%d", s.Stage) {
			from, dir = "a copy of "+s.From, s.Mine()
		}
		fmt.Fprintf(&b, "| [Exercise %d](ex%d.md) | %s | %s | `go run ./exercises/tools/check -stage %d %s` |\n",
			s.Stage, s.Stage, from, s.Build, s.Stage, dir)
	}
	return b.String()
}

// List is the extensions in teaching order, one link each, for the front page.
func List(link string) string {
	var links []string
	for _, e := range Extensions {
		links = append(links, fmt.Sprintf("[%s](%s%s/README.md)", e.Name, link, e.Name))
	}
	return strings.Join(links, ", ") + ".\n"
}
