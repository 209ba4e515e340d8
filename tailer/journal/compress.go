package journal

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
	"github.com/ulikunitz/xz"
)

// codecs decompresses DATA payloads. It keeps one zstd decoder, created on
// first use; it is not safe for concurrent use. close releases it.
type codecs struct {
	zstd *zstd.Decoder
	xzr  bytes.Reader
	max  int // largest output; 0 means MaxDataSize
}

func (c *codecs) limit() int {
	if c.max > 0 {
		return c.max
	}
	return MaxDataSize
}

var (
	errCompression = errors.New("several compression flags")
	errTooLarge    = fmt.Errorf("payload larger than %d bytes", MaxDataSize)
	errSizeClaim   = errors.New("decompressed size differs from the stated size")
	errXZLayout    = errors.New("xz stream is not a single LZMA2 block")
)

// decompress appends the decompressed src to dst. flags are the object's
// compression flags; exactly one must be set.
func (c *codecs) decompress(dst, src []byte, flags uint8) ([]byte, error) {
	switch flags & objectCompressedMask {
	case objectCompressedZSTD:
		return c.unzstd(dst, src)
	case objectCompressedLZ4:
		return unlz4(dst, src, c.limit())
	case objectCompressedXZ:
		return c.unxz(dst, src)
	}
	return dst, errCompression
}

// unzstd decodes one zstd frame. systemd writes the content size into the
// frame header and refuses frames without it; so do we, which bounds the
// output before decoding.
func (c *codecs) unzstd(dst, src []byte) ([]byte, error) {
	var h zstd.Header
	if err := h.Decode(src); err != nil {
		return dst, fmt.Errorf("zstd: %w", err)
	}
	if !h.HasFCS {
		return dst, errors.New("zstd: frame without content size")
	}
	if h.FrameContentSize > uint64(c.limit()) {
		return dst, errTooLarge
	}
	if c.zstd == nil {
		d, err := zstd.NewReader(nil,
			zstd.WithDecoderConcurrency(1),
			zstd.WithDecoderLowmem(true),
			zstd.WithDecoderMaxMemory(MaxDataSize),
			zstd.WithDecodeAllCapLimit(true))
		if err != nil {
			return dst, fmt.Errorf("zstd: %w", err)
		}
		c.zstd = d
	}
	n := int(h.FrameContentSize)
	start := len(dst)
	dst = grow(dst, n)
	out, err := c.zstd.DecodeAll(src, dst[start:start:start+n])
	if err != nil {
		return dst[:start], fmt.Errorf("zstd: %w", err)
	}
	if len(out) != n {
		return dst[:start], errSizeClaim
	}
	if &out[0] != &dst[start] { // DecodeAll had to move; keep the result
		copy(dst[start:start+n], out)
	}
	return dst[:start+n], nil
}

// unlz4 decodes systemd's LZ4 framing: the uncompressed size as a 64-bit
// little-endian integer, then one LZ4 block.
func unlz4(dst, src []byte, limit int) ([]byte, error) {
	if len(src) <= 8 {
		return dst, errors.New("lz4: payload too short")
	}
	size := binary.LittleEndian.Uint64(src)
	if size > uint64(limit) {
		return dst, errTooLarge
	}
	n := int(size)
	start := len(dst)
	dst = grow(dst, n)
	got, err := lz4.UncompressBlock(src[8:], dst[start:start+n])
	if err != nil {
		return dst[:start], fmt.Errorf("lz4: %w", err)
	}
	if got != n {
		return dst[:start], errSizeClaim
	}
	return dst[:start+n], nil
}

// unxz decodes one xz stream. systemd writes a single block with a 1 MiB
// LZMA2 dictionary. The xz package allocates the dictionary a block header
// asks for, so the stream's layout is checked first: one block, a
// dictionary no larger than MaxDataSize.
func (c *codecs) unxz(dst, src []byte) ([]byte, error) {
	if err := checkXZ(src, c.limit()); err != nil {
		return dst, err
	}
	c.xzr.Reset(src)
	r, err := xz.ReaderConfig{SingleStream: true}.NewReader(&c.xzr)
	if err != nil {
		return dst, fmt.Errorf("xz: %w", err)
	}
	start := len(dst)
	for empty := 0; ; {
		if len(dst)-start > c.limit() {
			return dst[:start], errTooLarge
		}
		if len(dst) == cap(dst) {
			dst = grow(dst, 4096)[:len(dst)]
		}
		n, err := r.Read(dst[len(dst):cap(dst)])
		dst = dst[:len(dst)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return dst[:start], fmt.Errorf("xz: %w", err)
		}
		if n == 0 {
			if empty++; empty > 100 {
				return dst[:start], fmt.Errorf("xz: %w", io.ErrNoProgress)
			}
		}
	}
	if len(dst)-start > c.limit() {
		return dst[:start], errTooLarge
	}
	return dst, nil
}

// checkXZ reads an xz stream's index and first block header and accepts a
// stream of exactly one block whose LZMA2 dictionary is at most
// MaxDataSize.
func checkXZ(b []byte, limit int) error {
	const headerLen, footerLen = 12, 12
	if len(b) < headerLen+footerLen+8 || string(b[:6]) != "\xfd7zXZ\x00" || string(b[len(b)-2:]) != "YZ" {
		return fmt.Errorf("xz: %w", errXZLayout)
	}
	// Index: the footer's backward size says how long it is; it starts
	// with a zero byte and the number of records.
	backward := (uint64(binary.LittleEndian.Uint32(b[len(b)-8:])) + 1) * 4
	if backward > uint64(len(b)-headerLen-footerLen) {
		return fmt.Errorf("xz: %w", errXZLayout)
	}
	index := b[len(b)-footerLen-int(backward):]
	if index[0] != 0 || index[1] != 1 {
		return fmt.Errorf("xz: %w", errXZLayout)
	}
	// Block header: size, flags, optional sizes, then one filter.
	bh := b[headerLen:]
	size := (int(bh[0]) + 1) * 4
	if bh[0] == 0 || size > len(bh) {
		return fmt.Errorf("xz: %w", errXZLayout)
	}
	bh = bh[:size]
	flags := bh[1]
	p := 2
	if flags&0x03 != 0 { // one filter only
		return fmt.Errorf("xz: %w", errXZLayout)
	}
	for _, present := range []bool{flags&0x40 != 0, flags&0x80 != 0} {
		if present {
			_, n := binary.Uvarint(bh[p:])
			if n <= 0 {
				return fmt.Errorf("xz: %w", errXZLayout)
			}
			p += n
		}
	}
	id, n := binary.Uvarint(bh[p:])
	if n <= 0 || id != 0x21 { // LZMA2
		return fmt.Errorf("xz: %w", errXZLayout)
	}
	p += n
	props, n := binary.Uvarint(bh[p:])
	if n <= 0 || props != 1 || p+n >= len(bh) {
		return fmt.Errorf("xz: %w", errXZLayout)
	}
	bits := uint64(bh[p+n] & 0x3f)
	if bits > 40 {
		return fmt.Errorf("xz: %w", errXZLayout)
	}
	dict := uint64(0xffffffff)
	if bits < 40 {
		dict = (2 | bits&1) << (bits/2 + 11)
	}
	if dict > uint64(limit) {
		return fmt.Errorf("xz: dictionary of %d bytes: %w", dict, errTooLarge)
	}
	return nil
}

// close releases the zstd decoder.
func (c *codecs) close() {
	if c.zstd != nil {
		c.zstd.Close()
		c.zstd = nil
	}
}

// grow returns b with room for n more bytes after len(b).
func grow(b []byte, n int) []byte {
	if cap(b)-len(b) >= n {
		return b[:len(b)+n]
	}
	nb := make([]byte, len(b)+n, 2*cap(b)+n)
	copy(nb, b)
	return nb
}
