package main

// These tests check the codec, frame.go, on its own: no sockets, just readers and
// writers in memory. server_test.go checks the server over real connections.

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/stretchr/testify/require"
)

// header returns the four bytes that announce a payload of n bytes. The tests
// build frames by hand, with encoding/binary, so that they check the bytes on
// the wire and not only that ReadFrame understands what WriteFrame wrote.
func header(n uint32) []byte {
	return binary.BigEndian.AppendUint32(nil, n)
}

// The bytes on the wire: the length first, big-endian, then the payload.
func TestWireFormat(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, WriteFrame(&buf, []byte("hello")))
	require.Equal(t, "\x00\x00\x00\x05hello", buf.String())

	buf.Reset()
	payload := bytes.Repeat([]byte("ab"), 150) // 300 bytes: 0x012c, so byte order matters
	require.NoError(t, WriteFrame(&buf, payload))
	require.Equal(t, append([]byte{0x00, 0x00, 0x01, 0x2c}, payload...), buf.Bytes())

	got, err := ReadFrame(bytes.NewReader(append(header(300), payload...)), maxFrame)
	require.NoError(t, err)
	require.Equal(t, payload, got)
}

// countingWriter counts the Write calls made to it.
type countingWriter struct {
	bytes.Buffer
	writes int
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.writes++
	return w.Buffer.Write(p)
}

// WriteFrame hands each frame to its writer in ONE Write. The server needs that:
// two goroutines may write to the same client at once (a broadcast, and an error
// for that client), and a net.Conn keeps each Write whole but may slip another
// goroutine's Write between two of yours: a header, then somebody else's frame.
func TestWriteFrameWritesOnce(t *testing.T) {
	for _, p := range [][]byte{{}, []byte("hello"), make([]byte, maxFrame)} {
		var w countingWriter
		require.NoError(t, WriteFrame(&w, p))
		require.Equal(t, 1, w.writes, "Write calls for a frame of %d bytes", len(p))
		require.Equal(t, 4+len(p), w.Len())
	}
}

// Whatever WriteFrame writes, ReadFrame gives back, one frame at a time, however
// the reader cuts the stream into pieces.
func TestRoundTrip(t *testing.T) {
	payloads := [][]byte{
		{}, []byte("a"), []byte("hi"), []byte("two\nlines\n"), []byte("telnet\r\n"),
		[]byte("\x00"), []byte("nul\x00inside\x00"), []byte("\xff\xfe not UTF-8"),
		[]byte("\x00\x00\x00\x05hello"), // a payload that looks like a frame
	}
	small := len(payloads)
	for _, n := range []int{3, 4, 5, 255, 256, 65535, 65536, maxFrame - 1, maxFrame} {
		p := make([]byte, n)
		for i := range p {
			p[i] = byte(i % 251) // every byte value, \n and NUL among them
		}
		payloads = append(payloads, p)
	}

	readers := []struct {
		name     string
		wrap     func(io.Reader) io.Reader
		payloads [][]byte
	}{
		{"whole", func(r io.Reader) io.Reader { return r }, payloads},
		{"half at a time", iotest.HalfReader, payloads},
		{"EOF with the last bytes", iotest.DataErrReader, payloads},
		{"one byte at a time", iotest.OneByteReader, payloads[:small]}, // the big ones would be slow
	}
	for _, rd := range readers {
		t.Run(rd.name, func(t *testing.T) {
			var stream bytes.Buffer
			for _, p := range rd.payloads {
				require.NoError(t, WriteFrame(&stream, p))
			}
			r := rd.wrap(&stream)
			for i, want := range rd.payloads {
				got, err := ReadFrame(r, maxFrame)
				require.NoError(t, err, "frame %d (%d bytes)", i, len(want))
				require.True(t, bytes.Equal(want, got), "frame %d: sent %d bytes, got %d different ones", i, len(want), len(got))
			}
			_, err := ReadFrame(r, maxFrame)
			require.ErrorIs(t, err, io.EOF, "after the last frame, the stream ends cleanly")
		})
	}
}

// A frame of exactly max bytes is fine; one byte more is refused.
func TestLimit(t *testing.T) {
	for _, max := range []int{0, 10, maxFrame} {
		atLimit := append(header(uint32(max)), make([]byte, max)...)
		got, err := ReadFrame(bytes.NewReader(atLimit), max)
		require.NoError(t, err, "a frame of %d bytes with a limit of %d", max, max)
		require.Len(t, got, max)

		over := append(header(uint32(max+1)), make([]byte, max+1)...)
		_, err = ReadFrame(bytes.NewReader(over), max)
		require.ErrorIs(t, err, ErrFrameTooLarge, "a frame of %d bytes with a limit of %d", max+1, max)
	}
}

// stingyReader hands out a header and then acts like a peer that sends nothing
// more: a Read after the header waits until the test ends.
type stingyReader struct {
	header   []byte
	waiting  chan struct{} // closed when somebody reads past the header
	released chan struct{} // closed by the test at its end
}

func (r *stingyReader) Read(p []byte) (int, error) {
	if len(r.header) > 0 {
		n := copy(p, r.header)
		r.header = r.header[n:]
		return n, nil
	}
	close(r.waiting)
	<-r.released
	return 0, errors.New("stingyReader: the test is over")
}

// A length over the limit is refused as soon as it is read: ReadFrame neither
// waits for the payload nor makes room for it.
func TestRefusesBeforeReadingOrAllocating(t *testing.T) {
	// First, memory: claim one byte over the limit and count what ReadFrame allocates.
	ok := t.Run("allocates nothing for the payload", func(t *testing.T) {
		r := bytes.NewReader(header(maxFrame + 1))
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err := ReadFrame(r, maxFrame)
		runtime.ReadMemStats(&after)
		require.ErrorIs(t, err, ErrFrameTooLarge)
		allocated := after.TotalAlloc - before.TotalAlloc
		require.Less(t, allocated, uint64(64<<10),
			"ReadFrame allocated %d bytes to refuse a frame: check the length before make", allocated)
	})
	if !ok {
		t.Skip("not trying the 4 GiB claim while a small one already allocates")
	}

	// Then, time: claim 4 GiB from a peer that will send no more. ReadFrame must
	// answer at once, not wait for bytes that it would refuse anyway.
	r := &stingyReader{header: header(0xffffffff), waiting: make(chan struct{}), released: make(chan struct{})}
	t.Cleanup(func() { close(r.released) })
	done := make(chan error, 1)
	go func() {
		_, err := ReadFrame(r, maxFrame)
		done <- err
	}()
	select {
	case err := <-done:
		require.ErrorIs(t, err, ErrFrameTooLarge)
		require.Contains(t, err.Error(), "4294967295", "the error says how long the frame claimed to be")
	case <-r.waiting:
		t.Fatal("ReadFrame tried to read the payload of a frame over the limit")
	case <-time.After(5 * time.Second):
		t.Fatal("ReadFrame did not return")
	}
}

// A stream that ends between frames ends cleanly (io.EOF); one that ends inside a
// frame does not (io.ErrUnexpectedEOF). A server needs the difference: the first
// is a client that left, the second a client that vanished mid-message.
func TestTruncated(t *testing.T) {
	cases := []struct {
		name, stream string
		want         error
	}{
		{"nothing at all", "", io.EOF},
		{"one byte of header", "\x00", io.ErrUnexpectedEOF},
		{"three bytes of header", "\x00\x00\x00", io.ErrUnexpectedEOF},
		{"a header and no payload", "\x00\x00\x00\x05", io.ErrUnexpectedEOF},
		{"half a payload", "\x00\x00\x00\x05hel", io.ErrUnexpectedEOF},
	}
	for _, c := range cases {
		_, err := ReadFrame(strings.NewReader(c.stream), maxFrame)
		require.ErrorIs(t, err, c.want, c.name)
		if c.want == io.ErrUnexpectedEOF {
			require.NotErrorIs(t, err, io.EOF, "%s: this is not a clean end", c.name)
		}
	}

	// Other errors from the reader come through, so the caller can log them.
	broken := errors.New("connection reset")
	_, err := ReadFrame(io.MultiReader(strings.NewReader("\x00\x00\x00\x05he"), iotest.ErrReader(broken)), maxFrame)
	require.ErrorIs(t, err, broken)
}

// FuzzReadFrame feeds ReadFrame random bytes and checks its answer against what
// the format says those bytes mean. `go test` runs it on the seeds in
// testdata/fuzz/FuzzReadFrame; `go test -fuzz FuzzReadFrame` makes up new inputs.
func FuzzReadFrame(f *testing.F) {
	const max = 64 // small, so that random lengths are often over it and often not
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bytes.NewReader(data)
		got, err := ReadFrame(r, max)

		if len(data) == 0 {
			require.ErrorIs(t, err, io.EOF)
			return
		}
		if len(data) < 4 {
			require.ErrorIs(t, err, io.ErrUnexpectedEOF, "a short header")
			return
		}
		n := int64(binary.BigEndian.Uint32(data))
		rest := int64(len(data) - 4)
		switch {
		case n > max:
			require.ErrorIs(t, err, ErrFrameTooLarge, "length %d, limit %d", n, max)
			require.Equal(t, rest, int64(r.Len()), "ReadFrame read the payload of a frame it refused")
		case n > rest:
			require.ErrorIs(t, err, io.ErrUnexpectedEOF, "length %d, only %d bytes follow", n, rest)
		default:
			require.NoError(t, err)
			require.Equal(t, data[4:4+n], got)
			require.Equal(t, rest-n, int64(r.Len()), "ReadFrame read past the end of the frame")

			var again bytes.Buffer // and writing the payload gives the same bytes back
			require.NoError(t, WriteFrame(&again, got))
			require.Equal(t, data[:4+n], again.Bytes())
		}
	})
}
