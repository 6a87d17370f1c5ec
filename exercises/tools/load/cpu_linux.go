//go:build linux

package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// findServer returns the server's process, or 0 and why it cannot tell, in a
// few words. With pid not 0 (-pid), that is the process, if it can be read.
// Otherwise it is the one that listens on addr's port:
//
//  1. /proc/net/tcp and /proc/net/tcp6 list this machine's TCP sockets, one a
//     line: the local address and port (in hex), the state (0A is LISTEN) and
//     the socket's inode, the number the kernel knows it by.
//  2. Each open file of a process is a link in /proc/PID/fd; a socket's reads
//     "socket:[INODE]". The process that holds the listening socket's inode is
//     the server. Another user's processes do not let us read their links.
func findServer(addr string, pid int) (int, string) {
	if pid != 0 {
		if _, err := processCPU(pid); err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return 0, fmt.Sprintf("-pid %d: there is no such process", pid)
			}
			return 0, fmt.Sprintf("-pid %d: %v", pid, err)
		}
		return pid, ""
	}
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return 0, fmt.Sprintf("cannot tell the port of %s; give -pid", addr)
	}
	if !isThisMachine(host) {
		return 0, fmt.Sprintf("%s is another machine: its processes are not ours to see", host)
	}
	port, err := net.LookupPort("tcp", p)
	if err != nil {
		return 0, fmt.Sprintf("cannot tell the port of %s; give -pid", addr)
	}
	inodes := listeningInodes(port)
	if len(inodes) == 0 {
		return 0, fmt.Sprintf("nothing on this machine listens on port %d: is the server on another one?", port)
	}
	pids := socketOwners(inodes)
	switch len(pids) {
	case 0:
		return 0, fmt.Sprintf("no process of yours listens on port %d; give -pid", port)
	case 1:
		return pids[0], ""
	default:
		return 0, fmt.Sprintf("processes %s all listen on port %d; give -pid", strings.Trim(fmt.Sprint(pids), "[]"), port)
	}
}

// isThisMachine reports whether host names this machine: a loopback address
// (localhost), no address at all (":8888"), or one of its network interfaces'.
// If the name does not resolve, the run will say so: we answer yes.
func isThisMachine(host string) bool {
	if host == "" {
		return true
	}
	ips, err := net.LookupIP(host)
	if err != nil {
		return true
	}
	addrs, _ := net.InterfaceAddrs()
	for _, ip := range ips {
		if ip.IsLoopback() || ip.IsUnspecified() {
			return true
		}
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && n.IP.Equal(ip) {
				return true
			}
		}
	}
	return false
}

// listeningInodes returns the inodes of the TCP sockets, IPv4 and IPv6, that
// listen on port. A line of /proc/net/tcp looks like this (an IPv6 address is
// 32 hex digits):
//
//	sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
//	0: 0100007F:22B8 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 123456 ...
func listeningInodes(port int) []string {
	var inodes []string
	for _, path := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		f, err := os.Open(path)
		if err != nil {
			continue // no IPv6, for one
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) < 10 || fields[3] != "0A" {
				continue // the header, or not listening
			}
			_, hexPort, _ := strings.Cut(fields[1], ":")
			if p, err := strconv.ParseUint(hexPort, 16, 16); err == nil && int(p) == port && fields[9] != "0" {
				inodes = append(inodes, fields[9])
			}
		}
		f.Close()
	}
	return inodes
}

// socketOwners returns the processes, of those whose open files we may see,
// that hold one of the sockets.
func socketOwners(inodes []string) []int {
	links := map[string]bool{}
	for _, inode := range inodes {
		links["socket:["+inode+"]"] = true
	}
	procs, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil {
			continue // not a process: /proc/net, /proc/self...
		}
		dir := "/proc/" + p.Name() + "/fd/"
		f, err := os.Open(dir)
		if err != nil {
			continue // another user's, or gone already
		}
		fds, _ := f.Readdirnames(-1)
		f.Close()
		if slices.ContainsFunc(fds, func(fd string) bool {
			link, err := os.Readlink(dir + fd)
			return err == nil && links[link]
		}) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// processCPU returns the CPU time process pid has used so far, in user mode and
// in the kernel on its behalf: fields 14 and 15 (utime, stime) of
// /proc/PID/stat, in clock ticks. Anyone may read that file.
func processCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	ticks, err := parseStat(b)
	if err != nil {
		return 0, fmt.Errorf("/proc/%d/stat: %w", pid, err)
	}
	return time.Duration(ticks) * time.Second / time.Duration(clockTicks()), nil
}

// parseStat returns utime+stime from the text of /proc/PID/stat:
//
//	1234 (chat server) S 1 1234 ... utime stime ...
//
// The second field is the program's name in parentheses, which may itself hold
// spaces and parentheses: so the fields are counted from the last ')', which is
// followed by field 3.
func parseStat(b []byte) (int64, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, errors.New("no ')' after the name")
	}
	fields := strings.Fields(string(b[i+1:]))
	const first = 3 // fields[0] is field 3
	if len(fields) < 15-first+1 {
		return 0, fmt.Errorf("%d fields, want at least 15", len(fields)+first-1)
	}
	utime, err1 := strconv.ParseInt(fields[14-first], 10, 64)
	stime, err2 := strconv.ParseInt(fields[15-first], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	return utime + stime, nil
}

// machineCPU returns the CPU time all the cores of this machine have spent
// busy so far, whoever for: the first line of /proc/stat, in clock ticks,
//
//	cpu  user nice system idle iowait irq softirq steal guest guest_nice
//
// less idle and iowait (a core waiting for a disk is free for work). Steal is
// time the machine's host gave to others: busy, for us. Guest time is counted
// in user and nice already.
func machineCPU() (time.Duration, error) {
	f, err := os.Open("/proc/stat")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	line, err := bufio.NewReader(f).ReadString('\n')
	fields := strings.Fields(line)
	if err != nil || len(fields) < 9 || fields[0] != "cpu" {
		return 0, fmt.Errorf("/proc/stat: unexpected first line %q", line)
	}
	var busy int64
	for i, name := range []string{"user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal"} {
		v, err := strconv.ParseInt(fields[1+i], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/stat: %s: %w", name, err)
		}
		if name != "idle" && name != "iowait" {
			busy += v
		}
	}
	return time.Duration(busy) * time.Second / time.Duration(clockTicks()), nil
}

// serverTick is the step in which processCPU counts: one clock tick.
func serverTick() time.Duration { return time.Second / time.Duration(clockTicks()) }

// clockTicks is how many clock ticks make a second in /proc/PID/stat: the
// kernel's USER_HZ, which C programs get from sysconf(_SC_CLK_TCK). The C
// library gets it from the auxiliary vector that the kernel gives every program
// when it starts (the entry AT_CLKTCK), which /proc/self/auxv shows: we read it
// there, cheaply, once. It is 100 on every Linux in use; if the file cannot be
// read, we assume that.
var clockTicks = sync.OnceValue(func() int64 {
	const atNull, atClkTck = 0, 17 // from <elf.h>
	b, err := os.ReadFile("/proc/self/auxv")
	if err != nil {
		return 100
	}
	// Pairs of words (key, value), in this machine's size and byte order.
	word := strconv.IntSize / 8
	get := func(b []byte) uint64 {
		if word == 8 {
			return binary.NativeEndian.Uint64(b)
		}
		return uint64(binary.NativeEndian.Uint32(b))
	}
	for ; len(b) >= 2*word; b = b[2*word:] {
		switch key, value := get(b), get(b[word:]); {
		case key == atNull:
			return 100
		case key == atClkTck && value > 0 && value < 1e6:
			return int64(value)
		}
	}
	return 100
})
