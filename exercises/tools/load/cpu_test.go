package main

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The summary's CPU lines, from fixed numbers.

// use is a run of 1.255 s that made 2,009,804 deliveries on 2 cores, the
// server's time counted in hundredths of a second. Nothing else is measured.
func use() cpuUse {
	return cpuUse{measured: true, wall: 1255 * time.Millisecond, server: -1, tool: -1, machine: -1,
		tick: 10 * time.Millisecond, deliveries: 2_009_804, cpus: 2}
}

func TestCPULine(t *testing.T) {
	u := use()
	u.server, u.tool = 1230*time.Millisecond, 800*time.Millisecond
	// 1.23/1.255 = 0.980 cores; 0.80/1.255 = 0.637; 1.23e9 ns / 2,009,804 = 612.0
	assert.Equal(t, "CPU: server 1.23 s (0.98 cores, 612 ns/delivery), this tool 0.80 s (0.64 cores)", u.line())
	assert.InDelta(t, 612.0, u.nsPerDelivery(), 0.05)

	u.server = 24_600 * time.Millisecond // 12,240 ns each: commas
	assert.Contains(t, u.line(), "(19.60 cores, 12,240 ns/delivery)")

	u.server, u.deliveries = 246*time.Millisecond, 100_000_000 // 2.46 ns each: a decimal
	assert.Contains(t, u.line(), ", 2.5 ns/delivery)")

	u.server = 90 * time.Millisecond // under 10 ticks: within 10% is not sure
	assert.Equal(t, -1.0, u.nsPerDelivery())
	assert.Equal(t, "CPU: server 0.09 s (0.07 cores; too little to tell ns/delivery: it is counted in 10ms steps), "+
		"this tool 0.80 s (0.64 cores)", u.line())

	u.server = -1 // not measured: only the tool
	assert.Equal(t, "CPU: this tool 0.80 s (0.64 cores)", u.line())
	assert.Equal(t, -1.0, u.nsPerDelivery())

	u.tool = -1 // nothing measured: no line
	assert.Empty(t, u.line())

	u = use()
	u.server, u.deliveries = 2*time.Second, 0 // nothing delivered: no cost per delivery
	assert.Equal(t, "CPU: server 2.00 s (1.59 cores)", u.line())
}

func TestCPUSaysWhyOnce(t *testing.T) {
	u := use()
	u.tool, u.why = 500*time.Millisecond, "no process of yours listens on port 8888; give -pid"
	var out bytes.Buffer
	u.print(&out)
	assert.Equal(t, "CPU: this tool 0.50 s (0.40 cores)\n"+
		"server CPU: not measured (no process of yours listens on port 8888; give -pid)\n", out.String())

	out.Reset()
	u.quiet = true // said for an earlier run already
	u.print(&out)
	assert.Equal(t, "CPU: this tool 0.50 s (0.40 cores)\n", out.String())

	out.Reset()
	(&cpuUse{}).print(&out) // the run never sent: nothing to say
	assert.Empty(t, out.String())
}

func TestBottleneck(t *testing.T) {
	for _, c := range []struct {
		name                  string
		server, tool, machine float64 // cores over the 1.255 s; negative: not measured
		want                  string  // in the sentence; "": none
	}{
		{"the two fill the machine, the tool with 2/5 of it", 1.2, 0.8, 2.0,
			"this machine's 2 cores were 100% busy, 0.80 of them with this tool;"},
		{"others fill the machine", 0.15, 0.85, 2.0,
			"100% busy, 0.85 of them with this tool and 1.00 with other programs;"},
		{"the machine is full, but of the server", 1.9, 0.1, 2.0, ""},
		{"the tool is busy, but the machine is not full", 0.5, 0.7, 1.3, ""},
		{"a quiet run", 0.1, 0.05, 0.2, ""},
		{"no machine figure: the two fill it", 1.1, 0.76, -1, "93% busy, 0.76 of them with this tool;"},
		{"server not measured, the tool takes a third", -1, 0.7, 1.9, "95% busy, 0.70 of them with this tool;"},
		{"server not measured, the tool takes little", -1, 0.3, 1.9, ""},
		{"server not measured, nor the machine, the tool takes all", -1, 1.88, -1, "94% busy, 1.88 of them"},
	} {
		t.Run(c.name, func(t *testing.T) {
			u := use()
			cores := func(v float64) time.Duration {
				if v < 0 {
					return -1
				}
				return time.Duration(v * float64(u.wall))
			}
			u.server, u.tool, u.machine = cores(c.server), cores(c.tool), cores(c.machine)
			got := u.bottleneck()
			if c.want == "" {
				assert.Empty(t, got)
				return
			}
			assert.Contains(t, got, c.want)
			assert.True(t, strings.HasPrefix(got, "this tool may have been the bottleneck: "), got)
			assert.True(t, strings.HasSuffix(got, "; the figures say as much about this machine as about the server"), got)
		})
	}
}

// TestRunMeasuresCPU: a real run against a server in this process measures the
// tool's CPU, and says in one line why not the server's.
func TestRunMeasuresCPU(t *testing.T) {
	s := startTestServer(t, chat)
	res, err := run(testConfig(s.addr, 4, 100))
	require.NoError(t, err)
	u := res.cpu
	require.True(t, u.measured)
	assert.Positive(t, u.wall)
	assert.Equal(t, -1*time.Nanosecond, u.server)
	assert.Zero(t, u.pid)
	assert.NotEmpty(t, u.why)
	assert.NotContains(t, u.why, "\n")
	assert.EqualValues(t, 4*100*3, u.deliveries)
	assert.Equal(t, runtime.NumCPU(), u.cpus)
	if runtime.GOOS != "windows" {
		assert.GreaterOrEqual(t, u.tool, time.Duration(0), "getrusage")
	}
	var out bytes.Buffer
	res.print(&out)
	// The server's memory is not measured either, for the same reason: one line says it for both.
	assert.Equal(t, 1, strings.Count(out.String(), "not measured ("), out.String())
	assert.Contains(t, out.String(), "\nserver CPU and memory: not measured (the server runs in this very process")

	// A run that never sends measures nothing, and says nothing of CPU.
	quiet := startTestServer(t, silent)
	cfg := testConfig(quiet.addr, 2, 1)
	cfg.mode, cfg.timeout = "chat", 300*time.Millisecond
	res, err = run(cfg)
	require.NoError(t, err)
	require.True(t, res.greetFailed)
	assert.False(t, res.cpu.measured)
}

// --- The results file's CPU columns ---

// oldResults is a results file from before the CPU columns.
const oldResults = "label\tmode\tclients\tsenders\tmsgs\trate\texpected\tdelivered\tseconds\tper_second\tp50_ns\tp99_ns\tmax_ns\tok\n" +
	"slow\tchat\t10\t10\t1000\t0\t90000\t90000\t0.0180\t5000000\t11000000\t18000000\t18000000\ttrue\n"

func TestResultsCPUColumns(t *testing.T) {
	path := filepath.Join(t.TempDir(), "results.tsv")
	require.NoError(t, os.WriteFile(path, []byte(oldResults), 0o644))

	// Appending to an old file: new lines have the three CPU columns, the
	// server's empty when not measured (and the memory's, here never measured:
	// see TestResultsMemoryColumn).
	base := row{label: "slow", mode: "chat", clients: 10, senders: 10, msgs: 1000, expected: 90000, delivered: 90000,
		seconds: 0.02, perSecond: 4.5e6, ok: true, rssPerClient: -1}
	measured, unmeasured := base, base
	measured.serverCPU, measured.toolCPU, measured.nsPerDelivery = 0.0234, 0.0154, 260.04
	unmeasured.serverCPU, unmeasured.toolCPU, unmeasured.nsPerDelivery = -1, 0.016, -1
	require.NoError(t, appendRow(path, measured))
	require.NoError(t, appendRow(path, unmeasured))
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	require.Len(t, lines, 4, "no second header")
	assert.True(t, strings.HasSuffix(lines[2], "\ttrue\t0.023\t0.015\t260.0\t"), "%q", lines[2])
	assert.True(t, strings.HasSuffix(lines[3], "\ttrue\t\t0.016\t\t"), "%q", lines[3])

	rows, err := readRows(path)
	require.NoError(t, err)
	require.Len(t, rows, 3)
	assert.Equal(t, []float64{-1, -1, -1}, []float64{rows[0].serverCPU, rows[0].toolCPU, rows[0].nsPerDelivery}, "an old line")
	assert.Equal(t, []float64{0.023, 0.015, 260}, []float64{rows[1].serverCPU, rows[1].toolCPU, rows[1].nsPerDelivery})
	assert.Equal(t, []float64{-1, 0.016, -1}, []float64{rows[2].serverCPU, rows[2].toolCPU, rows[2].nsPerDelivery})

	// Three runs of one configuration: the median of those that know it.
	m := medians(rows)
	require.Len(t, m, 1)
	assert.Equal(t, 260.0, m[0].nsPerDelivery)
	assert.InDelta(t, 0.0155, m[0].toolCPU, 1e-9, "two known: their mean")

	// The table gains the column, empty where not known.
	var out bytes.Buffer
	writeTable(&out, append(m, row{label: "other", mode: "chat", clients: 2, nsPerDelivery: -1, rssPerClient: -1, ok: true}), "")
	table := tableLines(out.String())
	require.Len(t, table, 2+2)
	assert.Contains(t, table[0], "| max | server ns/delivery | every line delivered |")
	assert.Equal(t, "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|", table[1])
	assert.True(t, strings.HasSuffix(table[2], "| 260 | yes |"), table[2])
	assert.True(t, strings.HasSuffix(table[3], "| 0ns | | yes |"), table[3])

	// Without any, the table is as it was.
	out.Reset()
	writeTable(&out, rows[:1], "")
	assert.NotContains(t, out.String(), "ns/delivery")

	// A line with a wrong number of fields is still an error.
	require.NoError(t, os.WriteFile(path, []byte(oldResults+"slow\tchat\t10\n"), 0o644))
	_, err = readRows(path)
	require.ErrorContains(t, err, ":3: 3 fields, want 18 (or 17, without the memory, or 14,")
}

// TestReadOldResults: the results RESULTS.md had before the CPU columns (kept in
// testdata) still make the same report.
func TestReadOldResults(t *testing.T) {
	rows, err := readRows("testdata/results-before-cpu.tsv")
	require.NoError(t, err)
	require.NotEmpty(t, rows)
	for _, r := range rows {
		require.Equal(t, -1.0, r.nsPerDelivery)
	}
	var out bytes.Buffer
	writeTable(&out, medians(rows), "")
	assert.Contains(t, out.String(), "| stage5 | chat | 100 | 100 | unpaced | 3 | 120,369 (117k–135k) |")
	assert.NotContains(t, out.String(), "ns/delivery")
}
