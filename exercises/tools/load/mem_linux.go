//go:build linux

package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// processRSS returns the memory process pid occupies now, in bytes: the VmRSS
// line of /proc/PID/status, which anyone may read.
//
// Why VmRSS, of the file's many figures: it is the resident set, the pages of
// memory the process has in RAM now (its heap, its goroutines' stacks, its
// code); the RES of top and the RSS of ps. The others say less:
//
//   - VmSize counts address space, most of which a Go program reserves and
//     never touches: it would grow with nothing real behind it.
//   - VmHWM is the highest VmRSS so far: a peak while connecting, not what the
//     clients cost once connected.
//   - RssAnon leaves out the file pages (the program's code), which do not
//     change with clients: the difference would be the same, and VmRSS is the
//     figure people know.
//
// The kernel counts it in parts, per CPU or per thread, that it adds up only
// now and then (proc_pid_status(5): "some of these values are inaccurate
// because of a kernel-internal scalability optimization"): it may be a few
// hundred KiB off, nothing with thousands of clients, a KiB or so per client
// with a few hundred. /proc/PID/smaps_rollup would be exact, but it walks all
// the process's memory to tell.
func processRSS(pid int) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	rss, err := parseVmRSS(b)
	if err != nil {
		return 0, fmt.Errorf("/proc/%d/status: %w", pid, err)
	}
	return rss, nil
}

// parseVmRSS returns the VmRSS of the text of /proc/PID/status, in bytes. The
// line looks like this, in kB which are KiB (1024 bytes):
//
//	VmRSS:	    1760 kB
//
// A process that has no memory of its own (a kernel thread, or one that has
// ended but is not yet waited for) has no such line.
func parseVmRSS(b []byte) (int64, error) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:")
		if !ok {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) != 2 || fields[1] != "kB" {
			return 0, fmt.Errorf("unexpected VmRSS line %q", sc.Text())
		}
		kb, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil || kb < 0 {
			return 0, fmt.Errorf("unexpected VmRSS line %q", sc.Text())
		}
		return kb << 10, nil
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, errors.New("no VmRSS line: a kernel thread, or a process that has ended")
}
