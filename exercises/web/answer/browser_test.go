package main

// The page in a real browser: headless Chromium, driven through chromedriver by
// the few WebDriver commands below (WebDriver is plain JSON over HTTP; see
// https://www.w3.org/TR/webdriver2/). It skips where Chromium or chromedriver is
// missing, or nc is, unless CHATBOOK_REQUIRE_BROWSER=1 (CI sets it), which makes that
// a failure.
//
//	go test -run Browser -v ./answer               # watch it
//	go test -run Browser ./answer -screenshot      # also save testdata/screenshot.png

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var saveScreenshot = flag.Bool("screenshot", false, "save two pages chatting as testdata/screenshot.png")

// xss is a chat line that would run a script if the page ever put it in as HTML.
const xss = "<img src=x onerror=alert(1)>"

func TestBrowsersAndNcChat(t *testing.T) {
	ws := startWeb(t, nil) // first, so that it is stopped (and checked for leaks) last
	ncPath := findNc(t)
	wd := startBrowser(t)
	page := "http://" + ws.web + "/"

	one := wd.firstWindow(t)
	wd.open(t, one, page)
	wd.waitText(t, one, "#me", "you are guest1")
	two := wd.newWindow(t)
	wd.open(t, two, page)
	wd.waitText(t, two, "#me", "you are guest2")
	nc := joinNc(t, ncPath, ws.tcp)
	require.Equal(t, "Welcome guest3 (3 online)", nc.line(t))
	wd.waitLine(t, one, "guest3 joined (3 online)")
	wd.waitText(t, two, "#status", "3 online")

	wd.say(t, one, "/name ada")
	wd.waitText(t, one, "#me", "you are ada")
	require.Equal(t, "guest1 is now ada", nc.line(t))
	wd.say(t, two, "/name grace")
	require.Equal(t, "guest2 is now grace", nc.line(t))
	wd.waitLine(t, one, "guest2 is now grace")

	wd.say(t, one, "Hello from the first tab")
	wd.waitLine(t, two, "ada: Hello from the first tab")
	require.Equal(t, "ada: Hello from the first tab", nc.line(t))
	wd.say(t, two, "And hello from the second")
	wd.waitLine(t, one, "grace: And hello from the second")
	require.Equal(t, "grace: And hello from the second", nc.line(t))
	nc.send(t, "nc here, in a terminal\n")
	wd.waitLine(t, one, "guest3: nc here, in a terminal")
	wd.waitLine(t, two, "guest3: nc here, in a terminal")

	// A stranger's HTML is shown as text, and runs nothing.
	nc.send(t, xss+"\n")
	for _, w := range []string{one, two} {
		wd.waitLine(t, w, "guest3: "+xss)
		require.Equal(t, float64(0), wd.script(t, w, `return document.querySelectorAll("#log *:not(li)").length`),
			"a chat line must not become elements in the page")
		wd.noAlert(t, w)
	}
	wd.say(t, two, "That one showed as text. Good.")
	wd.waitLine(t, one, "grace: That one showed as text. Good.")
	require.Equal(t, "grace: That one showed as text. Good.", nc.line(t))

	if *saveScreenshot {
		sideBySide(t, "testdata/screenshot.png", wd.screenshot(t, one), wd.screenshot(t, two))
	}
}

// webDriver is a chromedriver process and one browser session.
type webDriver struct {
	url     string // of the session: http://127.0.0.1:PORT/session/ID
	client  *http.Client
	current string // the window the commands go to
}

// startBrowser starts a headless Chromium with a fresh profile, and chromedriver
// to drive it, and ends both when the test ends. The test starts Chromium itself,
// rather than letting chromedriver start it, so that both are its own children,
// tied to it (see tie_linux_test.go): if the test binary dies without its cleanups
// (killed, or a panic at -timeout), they die with it, and leave no browser behind.
func startBrowser(t *testing.T) *webDriver {
	t.Helper()
	chromium, driver := findBrowser(t)
	profile := t.TempDir() // removed after Chromium has ended: its cleanup comes later
	devtools, said := startProcess(t, chromium, regexp.MustCompile(`DevTools listening on ws://([^/\s]+)/`),
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+profile, "--hide-scrollbars", "--remote-debugging-port=0",
		"--disable-renderer-backgrounding", "--disable-background-timer-throttling", "about:blank")
	if devtools == "" {
		t.Fatalf("chromium ended without saying where its DevTools listen; it said:\n%s", said)
	}
	var base string
	// chromedriver picks a free port for IPv4 and then wants the same one for
	// IPv6; on a busy machine that one is now and then taken, and it exits at
	// once. That is the machine, not the page: start it again, up to three times.
	for try := 1; base == ""; try++ {
		var port string
		port, said = startProcess(t, driver, regexp.MustCompile(`started successfully on port (\d+)`), "--port=0")
		if port != "" {
			base = "http://127.0.0.1:" + port
		} else if try == 3 {
			t.Fatalf("chromedriver ended three times without saying its port; it said:\n%s", said)
		} else {
			t.Logf("chromedriver ended without saying its port (starting it again); it said:\n%s", said)
		}
	}

	wd := &webDriver{client: &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{}}}
	t.Cleanup(wd.client.CloseIdleConnections)
	var session struct {
		SessionID string `json:"sessionId"`
	}
	wd.call(t, http.MethodPost, base+"/session", map[string]any{
		"capabilities": map[string]any{"alwaysMatch": map[string]any{
			"browserName":        "chrome",
			"goog:chromeOptions": map[string]any{"debuggerAddress": devtools}, // the Chromium above
		}},
	}, &session)
	require.NotEmpty(t, session.SessionID)
	wd.url = base + "/session/" + session.SessionID
	t.Cleanup(func() { wd.call(t, http.MethodDelete, wd.url, nil, nil) })
	return wd
}

// startProcess starts the program at path, tied to the test, and waits until a
// line of its output matches want. It returns the first submatch, or "" and what
// the program said if it ended first. When the test ends, it is stopped (stopTied).
func startProcess(t *testing.T, path string, want *regexp.Regexp, args ...string) (match, said string) {
	t.Helper()
	r, w, err := os.Pipe()
	require.NoError(t, err)
	cmd := exec.Command(path, args...)
	cmd.Stdout, cmd.Stderr = w, w
	exited := make(chan struct{})
	err = startTied(cmd, exited)
	w.Close() // the program has its own copy; ours would keep r from ever ending
	if err != nil {
		r.Close()
		t.Fatalf("starting %s: %v", path, err)
	}
	go func() {
		cmd.Wait()
		close(exited)
	}()
	found := make(chan string, 1)
	read := make(chan struct{})
	var output strings.Builder // what it says; read only after read is closed
	go func() {
		defer close(read)
		s := bufio.NewScanner(r)
		for said := false; s.Scan(); {
			output.WriteString(s.Text() + "\n")
			if m := want.FindStringSubmatch(s.Text()); m != nil && !said {
				found <- m[1]
				said = true
			}
		}
	}()
	t.Cleanup(func() {
		stopTied(cmd, exited, webWait)
		r.Close() // in case something it started, and escaped, still holds the pipe
		<-read
	})
	select {
	case m := <-found:
		return m, ""
	case <-exited:
		select {
		case <-read:
		case <-time.After(webWait):
		}
		select {
		case m := <-found: // it said it, then ended: the next command will fail and say why
			return m, ""
		default:
		}
		r.Close()
		<-read
		return "", output.String()
	case <-time.After(webWait):
		t.Fatalf("%s did not say what we wait for (%s) in time", path, want)
	}
	return "", ""
}

// findBrowser returns the paths of Chromium and chromedriver, or skips the test.
func findBrowser(t *testing.T) (chromium, driver string) {
	t.Helper()
	var missing []string
	for _, names := range [][]string{{"chromium", "chromium-browser", "google-chrome"}, {"chromedriver"}} {
		found := ""
		for _, n := range names {
			if p, err := exec.LookPath(n); err == nil {
				found = p
				break
			}
		}
		if found == "" {
			missing = append(missing, names[0])
		}
		if chromium == "" {
			chromium = found
		} else {
			driver = found
		}
	}
	if len(missing) > 0 {
		need(t, fmt.Sprintf("this test needs %s (on Debian or Ubuntu: apt-get install chromium chromium-driver)",
			strings.Join(missing, " and ")))
	}
	return chromium, driver
}

// findNc returns the path of nc, or skips the test.
func findNc(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("nc")
	if err != nil {
		need(t, "this test needs nc (on Debian or Ubuntu: apt-get install netcat-openbsd)")
	}
	return path
}

// need skips the test with msg, or fails it if CHATBOOK_REQUIRE_BROWSER=1: in CI,
// a browser test that skipped would prove nothing.
func need(t *testing.T, msg string) {
	t.Helper()
	if os.Getenv("CHATBOOK_REQUIRE_BROWSER") == "1" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// ncUser is nc itself, the real program, with pipes where a terminal would be.
type ncUser struct {
	stdin io.Writer
	lines chan string // what nc prints, line by line; closed when it ends
}

// joinNc runs "nc HOST PORT", and kills it when the test ends.
func joinNc(t *testing.T, path, addr string) *ncUser {
	t.Helper()
	host, port, err := net.SplitHostPort(addr)
	require.NoError(t, err)
	cmd := exec.Command(path, host, port)
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr // nc says what went wrong there, if anything does
	require.NoError(t, cmd.Start())
	u := &ncUser{stdin: stdin, lines: make(chan string, 1000)}
	read := make(chan struct{})
	go func() {
		defer close(read)
		defer close(u.lines)
		for s := bufio.NewScanner(stdout); s.Scan(); {
			u.lines <- s.Text()
		}
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-read
		cmd.Wait()
	})
	return u
}

// line returns the next line nc prints, without its "\n".
func (u *ncUser) line(t *testing.T) string {
	t.Helper()
	select {
	case s, ok := <-u.lines:
		require.True(t, ok, "nc ended")
		return s
	case <-time.After(webWait):
		t.Fatal("nc printed no line in time")
	}
	return ""
}

// send types s into nc, as a user would in the terminal.
func (u *ncUser) send(t *testing.T, s string) {
	t.Helper()
	_, err := io.WriteString(u.stdin, s)
	require.NoError(t, err)
}

// call sends one WebDriver command and decodes the "value" of the answer into out.
func (wd *webDriver) call(t *testing.T, method, url string, body, out any) {
	t.Helper()
	value, err := wd.try(method, url, body)
	require.NoError(t, err)
	if out != nil {
		require.NoError(t, json.Unmarshal(value, out))
	}
}

func (wd *webDriver) try(method, url string, body any) (json.RawMessage, error) {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := wd.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var answer struct {
		Value json.RawMessage `json:"value"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&answer); err != nil {
		return nil, fmt.Errorf("%s %s: %s: %v", method, url, resp.Status, err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct{ Error, Message string }
		json.Unmarshal(answer.Value, &e)
		return nil, fmt.Errorf("%s %s: %s: %s: %s", method, url, resp.Status, e.Error, e.Message)
	}
	return answer.Value, nil
}

func (wd *webDriver) firstWindow(t *testing.T) string {
	var handle string
	wd.call(t, http.MethodGet, wd.url+"/window", nil, &handle)
	wd.current = handle
	return handle
}

func (wd *webDriver) newWindow(t *testing.T) string {
	var w struct{ Handle string }
	wd.call(t, http.MethodPost, wd.url+"/window/new", map[string]string{"type": "window"}, &w)
	return w.Handle
}

// to sends the next commands to window w.
func (wd *webDriver) to(t *testing.T, w string) {
	t.Helper()
	if wd.current != w {
		wd.call(t, http.MethodPost, wd.url+"/window", map[string]string{"handle": w}, nil)
		wd.current = w
	}
}

// open shows url in window w, with a page area of 560x417 pixels. (A window's
// size is not its page's: Chromium's first window and the new ones differ by their
// frames. Chromium's DevTools set the page's own size, through chromedriver.)
func (wd *webDriver) open(t *testing.T, w, url string) {
	t.Helper()
	wd.to(t, w)
	wd.call(t, http.MethodPost, wd.url+"/goog/cdp/execute", map[string]any{
		"cmd":    "Emulation.setDeviceMetricsOverride",
		"params": map[string]any{"width": 560, "height": 417, "deviceScaleFactor": 1, "mobile": false},
	}, nil)
	wd.call(t, http.MethodPost, wd.url+"/url", map[string]string{"url": url}, nil)
}

// script runs JavaScript in window w and returns what it returns.
func (wd *webDriver) script(t *testing.T, w, js string) any {
	t.Helper()
	wd.to(t, w)
	var v any
	wd.call(t, http.MethodPost, wd.url+"/execute/sync", map[string]any{"script": js, "args": []any{}}, &v)
	return v
}

// say types line into window w's input and presses Enter, as a user would.
func (wd *webDriver) say(t *testing.T, w, line string) {
	t.Helper()
	wd.to(t, w)
	var el map[string]string
	wd.call(t, http.MethodPost, wd.url+"/element", map[string]string{"using": "css selector", "value": "#line"}, &el)
	require.Len(t, el, 1, "no input #line")
	for _, id := range el { // the one key is WebDriver's element-6066-11e4-a52e-4f735466cecf
		wd.call(t, http.MethodPost, wd.url+"/element/"+id+"/value", map[string]string{"text": line + "\uE007"}, nil)
	}
}

// waitText waits until the text of the element sel in window w is want.
func (wd *webDriver) waitText(t *testing.T, w, sel, want string) {
	t.Helper()
	js := fmt.Sprintf(`return document.querySelector(%q).textContent`, sel)
	var got any
	if !until(func() bool { got = wd.script(t, w, js); return got == want }) {
		t.Fatalf("%s shows %q, not %q", sel, got, want)
	}
}

// waitLine waits until window w shows line in its log, as text. It fails at once
// if the log holds anything but lines of text: a chat line became elements.
func (wd *webDriver) waitLine(t *testing.T, w, line string) {
	t.Helper()
	var lines []string
	if !until(func() bool {
		lines = nil
		got := wd.script(t, w, `return [Array.from(document.querySelectorAll("#log li"), li => li.textContent),
			Array.from(document.querySelectorAll("#log *:not(li)"), e => e.outerHTML)]`).([]any)
		for _, l := range got[0].([]any) {
			lines = append(lines, l.(string))
		}
		if elements := got[1].([]any); len(elements) > 0 {
			t.Fatalf("a chat line became elements in the page (%v), not text: is it put in with innerHTML?", elements)
		}
		return slices.Contains(lines, line)
	}) {
		t.Fatalf("the page shows no line %q; it shows:\n%s", line, strings.Join(lines, "\n"))
	}
}

// until calls cond every 20ms until it returns true, for webWait at most, and
// reports whether it did. It calls cond in the test's goroutine (unlike
// require.Eventually), so that cond may fail the test.
func until(cond func() bool) bool {
	deadline := time.Now().Add(webWait)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		<-tick.C
	}
	return true
}

// noAlert fails the test if window w has an alert open: some script ran.
func (wd *webDriver) noAlert(t *testing.T, w string) {
	t.Helper()
	wd.to(t, w)
	text, err := wd.try(http.MethodGet, wd.url+"/alert/text", nil)
	require.Error(t, err, "the page opened an alert (%s): a chat line ran as a script", text)
	require.Contains(t, err.Error(), "no such alert")
}

func (wd *webDriver) screenshot(t *testing.T, w string) image.Image {
	t.Helper()
	wd.to(t, w)
	var b64 string
	wd.call(t, http.MethodGet, wd.url+"/screenshot", nil, &b64)
	b, err := base64.StdEncoding.DecodeString(b64)
	require.NoError(t, err)
	img, err := png.Decode(bytes.NewReader(b))
	require.NoError(t, err)
	return img
}

// sideBySide saves a and b next to each other, with a grey line between, as a PNG.
func sideBySide(t *testing.T, path string, a, b image.Image) {
	t.Helper()
	const gap = 6
	ra, rb := a.Bounds(), b.Bounds()
	out := image.NewRGBA(image.Rect(0, 0, ra.Dx()+gap+rb.Dx(), max(ra.Dy(), rb.Dy())))
	draw.Draw(out, out.Bounds(), image.NewUniform(color.Gray{Y: 0x99}), image.Point{}, draw.Src)
	draw.Draw(out, ra.Sub(ra.Min), a, ra.Min, draw.Src)
	draw.Draw(out, rb.Sub(rb.Min).Add(image.Pt(ra.Dx()+gap, 0)), b, rb.Min, draw.Src)
	var buf bytes.Buffer
	require.NoError(t, png.Encode(&buf, out))
	require.NoError(t, os.MkdirAll("testdata", 0o755))
	require.NoError(t, os.WriteFile(path, buf.Bytes(), 0o644))
	t.Logf("saved %s", path)
}
