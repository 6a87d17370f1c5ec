package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The summary's memory line, from fixed numbers.

// mem is a server of 3.1 MiB that grew to 61.2 MiB with 10,000 clients.
func mem() memUse {
	return memUse{measured: true, pid: 4242, clients: 10_000, settle: memSettle,
		before: 3_250_586, after: 64_172_851} // 3.1 MiB, 61.2 MiB
}

func TestMemLine(t *testing.T) {
	u := mem()
	// (64,172,851 − 3,250,586) / 10,000 = 6,092.2 bytes = 5.95 KiB
	assert.Equal(t, "memory: server 61.2 MiB with 10,000 clients connected, 5.9 KiB per client (RSS, from 3.1 MiB before they connected)", u.line())
	per, ok := u.perClient()
	require.True(t, ok)
	assert.InDelta(t, 6092.2265, per, 1e-3)
	assert.InDelta(t, 5.9494, u.perClientKiB(), 1e-3)

	u.growing = true // the wait for it to stop growing ran out
	assert.Equal(t, "memory: server 61.2 MiB with 10,000 clients connected, 5.9 KiB per client "+
		"(RSS, from 3.1 MiB before they connected; still growing after 1s)", u.line())

	// One client, 300 KiB: from 100 KiB on, whole KiB, with commas.
	u = memUse{measured: true, pid: 4242, clients: 1, settle: memSettle, before: 2 << 20, after: 2<<20 + 300<<10}
	assert.Equal(t, "memory: server 2.3 MiB with 1 client connected, 300 KiB per client (RSS, from 2.0 MiB before they connected)", u.line())
	u.after += 1000 << 10
	assert.Contains(t, u.line(), ", 1,300 KiB per client (")

	u = mem()
	u.after = u.before - 8192 // the collector gave back more than the clients took
	assert.Equal(t, "memory: server 3.1 MiB with 10,000 clients connected, no more than before they connected: "+
		"nothing to tell per client (RSS, from 3.1 MiB before they connected)", u.line())
	assert.Zero(t, u.perClientKiB(), "measured: it did not grow")

	u = mem()
	u.pid, u.why = 0, "no process of yours listens on port 8888; give -pid"
	assert.Empty(t, u.line())
	assert.Equal(t, -1.0, u.perClientKiB())
}

func TestMemSaysWhy(t *testing.T) {
	u := mem()
	var out bytes.Buffer
	u.print(&out)
	assert.Equal(t, u.line()+"\n", out.String())

	u.pid, u.why = 0, "process 4242's memory could not be read during the run (has it ended?): no such file"
	out.Reset()
	u.print(&out)
	assert.Equal(t, "server memory: not measured (process 4242's memory could not be read during the run (has it ended?): no such file)\n", out.String())

	u.quiet = true // said already: by an earlier run, or by the CPU line for both
	out.Reset()
	u.print(&out)
	assert.Empty(t, out.String())

	out.Reset()
	(&memUse{}).print(&out) // the run never got as far as sending: nothing to say
	assert.Empty(t, out.String())

	// The CPU line says it for both when the reason is the same.
	c := use()
	c.tool, c.why, c.memoryToo = 500*time.Millisecond, "no process of yours listens on port 8888; give -pid", true
	out.Reset()
	c.print(&out)
	assert.Equal(t, "CPU: this tool 0.50 s (0.40 cores)\n"+
		"server CPU and memory: not measured (no process of yours listens on port 8888; give -pid)\n", out.String())
}

// readings returns a memUse whose readings of the server's memory are rss, one
// after the other, then the last one again and again; and how many were taken.
func readings(rss ...int64) (*memUse, *int) {
	n := 0
	u := &memUse{pid: 4242, settle: memSettle, read: func(int) (int64, error) {
		v := rss[min(n, len(rss)-1)]
		n++
		return v, nil
	}}
	return u, &n
}

// TestMemWaitsUntilItStopsGrowing: the second reading is the first that is no
// higher than the one before; the wait ends at the deadline if none is.
func TestMemWaitsUntilItStopsGrowing(t *testing.T) {
	u, n := readings(10<<20, 12<<20, 13<<20, 13<<20, 99<<20)
	u.readAfter(context.Background(), 100)
	assert.True(t, u.measured)
	assert.Equal(t, 100, u.clients)
	assert.EqualValues(t, 13<<20, u.after)
	assert.False(t, u.growing)
	assert.Equal(t, 4, *n, "it stops at the first reading that is not higher")

	u, n = readings(10<<20, 9<<20) // it shrank at once: the collector ran
	u.readAfter(context.Background(), 100)
	assert.EqualValues(t, 9<<20, u.after)
	assert.Equal(t, 2, *n)

	// Always growing: the deadline ends the wait, and the line says so.
	var grow int64 = 10 << 20
	u = &memUse{pid: 4242, settle: 3 * memEvery, read: func(int) (int64, error) { grow += 4096; return grow, nil }}
	begin := time.Now()
	u.readAfter(context.Background(), 100)
	assert.True(t, u.growing)
	assert.Equal(t, grow, u.after)
	assert.Less(t, time.Since(begin), 3*memEvery+time.Second, "bounded by settle")
	assert.Contains(t, u.line(), "; still growing after 150ms)")

	// The run's time is up: no more waiting.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	u = &memUse{pid: 4242, settle: time.Hour, read: func(int) (int64, error) { grow += 4096; return grow, nil }}
	u.readAfter(ctx, 100)
	assert.True(t, u.measured)
	assert.Equal(t, grow, u.after)

	// The server ended: one line says why, and the run goes on.
	u = &memUse{pid: 4242, settle: time.Hour, read: func(int) (int64, error) { return 0, os.ErrNotExist }}
	u.readAfter(context.Background(), 100)
	assert.True(t, u.measured)
	assert.Zero(t, u.pid)
	assert.Contains(t, u.why, "process 4242's memory could not be read during the run")
	assert.Empty(t, u.line())

	// Nothing to read: nothing read.
	u = &memUse{why: "no process of yours listens on port 8888; give -pid",
		read: func(int) (int64, error) { return 0, errors.New("not to be called") }}
	u.readAfter(context.Background(), 100)
	assert.True(t, u.measured)
	assert.Empty(t, u.line())
}

// --- The results file's memory column ---

// cpuResults is a results file from before the memory column, with the CPU times.
const cpuResults = "label\tmode\tclients\tsenders\tmsgs\trate\texpected\tdelivered\tseconds\tper_second\tp50_ns\tp99_ns\tmax_ns\tok\t" +
	"server_cpu_s\ttool_cpu_s\tserver_ns_per_delivery\n" +
	"slow\tchat\t10\t10\t1000\t0\t90000\t90000\t0.0180\t5000000\t11000000\t18000000\t18000000\ttrue\t0.023\t0.015\t260.0\n"

func TestResultsMemoryColumn(t *testing.T) {
	// A file with an old line from before the CPU times, one from before the
	// memory, then new ones.
	path := filepath.Join(t.TempDir(), "results.tsv")
	old := strings.SplitAfter(oldResults, "\n")[1]
	require.NoError(t, os.WriteFile(path, []byte(cpuResults+old), 0o644))
	base := row{label: "slow", mode: "chat", clients: 10, senders: 10, msgs: 1000, expected: 90000, delivered: 90000,
		seconds: 0.02, perSecond: 4.5e6, ok: true, serverCPU: -1, toolCPU: -1, nsPerDelivery: -1}
	measured, unmeasured := base, base
	measured.rssPerClient = 5.9494
	unmeasured.rssPerClient = -1
	require.NoError(t, appendRow(path, measured))
	require.NoError(t, appendRow(path, unmeasured))
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	require.Len(t, lines, 5, "no second header")
	assert.True(t, strings.HasSuffix(lines[3], "\ttrue\t\t\t\t5.95"), "%q", lines[3])
	assert.True(t, strings.HasSuffix(lines[4], "\ttrue\t\t\t\t"), "%q", lines[4])

	rows, err := readRows(path)
	require.NoError(t, err)
	require.Len(t, rows, 4)
	assert.Equal(t, []float64{-1, -1, 5.95, -1}, []float64{rows[0].rssPerClient, rows[1].rssPerClient, rows[2].rssPerClient, rows[3].rssPerClient})
	assert.Equal(t, 260.0, rows[0].nsPerDelivery, "a line from before the memory keeps its CPU times")

	// One configuration, four runs: the memory's median is that of the one that knows it.
	m := medians(rows)
	require.Len(t, m, 1)
	assert.Equal(t, 5.95, m[0].rssPerClient)
	assert.Equal(t, 260.0, m[0].nsPerDelivery)

	// The table has a column for each measured figure, empty where not known.
	var out bytes.Buffer
	writeTable(&out, append(m, row{label: "other", mode: "chat", clients: 2, nsPerDelivery: -1, rssPerClient: -1, ok: true}), "")
	table := tableLines(out.String())
	require.Len(t, table, 2+2)
	assert.Contains(t, table[0], "| max | server ns/delivery | server KiB/client | every line delivered |")
	assert.Equal(t, "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|", table[1])
	assert.True(t, strings.HasSuffix(table[2], "| 260 | 6.0 | yes |"), table[2])
	assert.True(t, strings.HasSuffix(table[3], "| 0ns | | | yes |"), table[3])

	// The memory without the CPU: only its column.
	out.Reset()
	writeTable(&out, []row{measured}, "")
	assert.Contains(t, out.String(), "| max | server KiB/client | every line delivered |")
	assert.Contains(t, out.String(), "| 5.9 | yes |")

	// Neither: the table is as it always was.
	out.Reset()
	writeTable(&out, rows[1:2], "")
	assert.NotContains(t, out.String(), "KiB/client")
	assert.NotContains(t, out.String(), "ns/delivery")
}
