package main

// Some properties cannot be seen on the wire: what Close does, for one. For those
// the checker runs an in-process test (probe/probe_test.go) against the program:
// go test -overlay lays the test next to the program's files without writing into
// the learner's folder, and leaves the program's own tests out.

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

//go:embed probe/probe_test.go
var probeSource string

// probeFile is the name the in-process test takes in the program's folder.
const probeFile = "zz_checker_probe_test.go"

// probeBinary builds the program in dir with the in-process tests, once per checker,
// and returns the test executable.
func (c *checker) probeBinary(dir string) (string, error) {
	key := dir + "|probe"
	c.mu.Lock()
	b := c.builds[key]
	if b == nil {
		b = &build{}
		c.builds[key] = b
	}
	n := len(c.builds)
	c.mu.Unlock()

	b.once.Do(func() {
		c.buildSem <- struct{}{}
		defer func() { <-c.buildSem }()
		b.err = c.buildProbe(dir, n, b)
	})
	return b.path, b.err
}

func (c *checker) buildProbe(dir string, n int, b *build) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	src := filepath.Join(c.tmp, fmt.Sprintf("probe%d_test.go", n))
	// The file is kept out of the checker's own build by a constraint; here it is meant.
	body := strings.Replace(probeSource, "//go:build ignore\n", "", 1)
	if err := os.WriteFile(src, []byte(body), 0o644); err != nil {
		return err
	}
	replace := map[string]string{filepath.Join(abs, probeFile): src}
	own, _ := filepath.Glob(filepath.Join(abs, "*_test.go"))
	for _, f := range own {
		replace[f] = "" // the program's own tests are not ours to run, and may not even build
	}
	overlay := filepath.Join(c.tmp, fmt.Sprintf("probe%d.json", n))
	data, err := json.Marshal(map[string]any{"Replace": replace})
	if err != nil {
		return err
	}
	if err := os.WriteFile(overlay, data, 0o644); err != nil {
		return err
	}
	b.path = filepath.Join(c.tmp, fmt.Sprintf("probe%d.test", n))
	if runtime.GOOS == "windows" {
		b.path += ".exe"
	}
	cmd := exec.CommandContext(c.ctx, "go", "test", "-c", "-vet=off", "-overlay", overlay, "-o", b.path, ".")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		if len(lines) > 6 {
			lines = append(lines[:6], "...")
		}
		return fail("give the Server the methods stage1's has, NewServer(*log.Logger) *Server, Serve(net.Listener) error "+
			"and Close(): the checker calls them directly for this",
			"the checker's in-process test does not build with it (go test):\n    %s", strings.Join(lines, "\n    "))
	}
	return nil
}

// probe runs one in-process test against the program and turns its verdict into
// the checker's words.
func (t *trial) probe(test string) error {
	bin, err := t.c.probeBinary(t.dir)
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(t.ctx, bin, "-test.run", "^"+test+"$", "-test.count", "1", "-test.timeout", "30s")
	cmd.Dir = t.dir
	out, err := cmd.CombinedOutput()
	if err == nil {
		return nil
	}
	var saw, fix string
	for _, l := range strings.Split(string(out), "\n") {
		switch {
		case strings.HasPrefix(l, "CHECKER-SAW: ") && saw == "":
			saw = strings.TrimPrefix(l, "CHECKER-SAW: ")
		case strings.HasPrefix(l, "CHECKER-FIX: ") && fix == "":
			fix = strings.TrimPrefix(l, "CHECKER-FIX: ")
		case saw == "" && (strings.HasPrefix(l, "panic:") || strings.HasPrefix(l, "fatal error:")):
			saw = "in the in-process test it crashed: " + l
			fix = "it crashed: read the first lines of the panic"
		}
	}
	if saw == "" {
		out := strings.TrimSpace(string(out))
		if len(out) > 300 {
			out = "..." + out[len(out)-300:]
		}
		saw = fmt.Sprintf("the in-process test failed (%v): %s", err, out)
	}
	return fail(fix, "%s", saw)
}

func checkCloseStops(t *trial) error { return t.probe("TestCheckerCloseStops") }
func checkCloseWaits(t *trial) error { return t.probe("TestCheckerCloseWaits") }
func checkForgets(t *trial) error    { return t.probe("TestCheckerForgetsClients") }
