//go:build linux

package main

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseVmRSS(t *testing.T) {
	status := "Name:\tchat server\nUmask:\t0022\nState:\tS (sleeping)\nVmPeak:\t 1290612 kB\nVmSize:\t 1290612 kB\n" +
		"VmHWM:\t   64012 kB\nVmRSS:\t   62669 kB\nRssAnon:\t   58000 kB\nRssFile:\t    4669 kB\nThreads:\t7\n"
	rss, err := parseVmRSS([]byte(status))
	require.NoError(t, err)
	assert.EqualValues(t, 62669*1024, rss, "kB are KiB")

	// A kernel thread, or a process that has ended, has no memory of its own.
	_, err = parseVmRSS([]byte("Name:\tkthreadd\nState:\tS (sleeping)\nThreads:\t1\n"))
	require.ErrorContains(t, err, "no VmRSS line")
	for _, bad := range []string{"VmRSS:\t62669\n", "VmRSS:\t62669 MB\n", "VmRSS:\tlots kB\n", "VmRSS:\t-5 kB\n"} {
		_, err = parseVmRSS([]byte(bad))
		assert.ErrorContains(t, err, "unexpected VmRSS line", "%q", bad)
	}
}

func TestProcessRSS(t *testing.T) {
	rss, err := processRSS(os.Getpid())
	require.NoError(t, err)
	assert.Greater(t, rss, int64(1<<20), "a Go test program occupies more than a MiB")
	_, err = processRSS(1 << 30) // above any pid_max
	require.ErrorIs(t, err, os.ErrNotExist)
}

// TestIdleClientsMemory: the documented idle run (-senders 1 -msgs 1) against a
// server in a process of its own reports its memory per client, in the
// summary and in the results file.
func TestIdleClientsMemory(t *testing.T) {
	addr, proc := startChildServer(t)
	results := t.TempDir() + "/results.tsv"
	var stdout, stderr bytes.Buffer
	code := cli([]string{"-addr", addr, "-clients", "50", "-senders", "1", "-msgs", "1", "-timeout", "10s",
		"-results", results}, &stdout, &stderr)
	require.Equal(t, 0, code, "stdout:\n%s\nstderr:\n%s", &stdout, &stderr)
	out := stdout.String()
	t.Logf("\n%s", out)
	assert.Contains(t, out, "\nmemory: server ")
	// Every client counts, the one that sends and needs no line too.
	assert.Contains(t, out, " MiB with 50 clients connected, ")
	assert.Contains(t, out, "before they connected")
	assert.NotContains(t, out, "not measured", "process %d", proc.Pid)

	rows, err := readRows(results)
	require.NoError(t, err)
	require.Len(t, rows, 1)
	// How much 50 clients cost depends on the kernel's counting (see
	// processRSS), but it is measured: not negative, and not absurd.
	assert.GreaterOrEqual(t, rows[0].rssPerClient, 0.0)
	assert.Less(t, rows[0].rssPerClient, 1024.0, "a MiB per idle client")
	if strings.Contains(out, " per client (RSS") {
		assert.Positive(t, rows[0].rssPerClient)
	}
}
