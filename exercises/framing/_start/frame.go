package main

import (
	"errors"
	"io"
)

// A frame is one message on the wire: four bytes that hold the length of the
// payload, most significant byte first ("big-endian"), then the payload itself.
//
//	00 00 00 05  h e l l o
//
// TCP delivers a stream of bytes, not messages: one Read may return half a
// message, or two and a bit. The length in front tells the reader where each
// message ends, so the payload may hold anything, newlines and NUL bytes too.

// maxFrame is the largest payload this chat accepts: 1 MiB.
const maxFrame = 1 << 20

// ErrFrameTooLarge is what ReadFrame returns, wrapped, when a frame's length is
// over the limit.
var ErrFrameTooLarge = errors.New("frame too large")

// ReadFrame reads one frame from r and returns its payload. It never reads past
// the end of that frame, so the next call reads the next one.
//
// It returns io.EOF if r ends before the frame begins (the peer left between
// messages), io.ErrUnexpectedEOF if r ends partway through the frame, and an
// error wrapping ErrFrameTooLarge, without reading or allocating the payload,
// if the length is over max.
func ReadFrame(r io.Reader, max int) ([]byte, error) {
	return nil, errors.New("ReadFrame: not written yet")
}

// WriteFrame writes p to w as one frame.
func WriteFrame(w io.Writer, p []byte) error {
	return errors.New("WriteFrame: not written yet")
}
