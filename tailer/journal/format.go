package journal

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
)

// The on-disk layout, from systemd's journal-def.h and the Journal File
// Format document. Every integer is little-endian; objects are 8-byte
// aligned.

// Object types.
const (
	objectUnused         = 0
	objectData           = 1
	objectField          = 2
	objectEntry          = 3
	objectDataHashTable  = 4
	objectFieldHashTable = 5
	objectEntryArray     = 6
	objectTag            = 7
	objectTypeMax        = 8
)

// Object flags: how a DATA payload is compressed. At most one is set.
const (
	objectCompressedXZ   = 1 << 0
	objectCompressedLZ4  = 1 << 1
	objectCompressedZSTD = 1 << 2
	objectCompressedMask = objectCompressedXZ | objectCompressedLZ4 | objectCompressedZSTD
)

// Header incompatible flags: a reader must understand every one set.
const (
	// IncompatibleCompressedXZ: some DATA objects are XZ-compressed.
	IncompatibleCompressedXZ = 1 << 0
	// IncompatibleCompressedLZ4: some DATA objects are LZ4-compressed.
	IncompatibleCompressedLZ4 = 1 << 1
	// IncompatibleKeyedHash: hashes are siphash24 keyed by the file ID.
	IncompatibleKeyedHash = 1 << 2
	// IncompatibleCompressedZSTD: some DATA objects are ZSTD-compressed.
	IncompatibleCompressedZSTD = 1 << 3
	// IncompatibleCompact: 32-bit offsets in entries and entry arrays.
	IncompatibleCompact = 1 << 4

	// incompatibleSupported is every incompatible flag this package reads.
	incompatibleSupported = IncompatibleCompressedXZ | IncompatibleCompressedLZ4 |
		IncompatibleKeyedHash | IncompatibleCompressedZSTD | IncompatibleCompact
)

// Header compatible flags. Unknown ones are ignored, as the format asks.
const (
	// CompatibleSealed: the file holds Forward Secure Sealing tags.
	CompatibleSealed = 1 << 0
	// CompatibleTailEntryBootID: TailEntryBootID is the last entry's.
	CompatibleTailEntryBootID = 1 << 1
	// CompatibleSealedContinuous: sealing continues from the previous file.
	CompatibleSealedContinuous = 1 << 2
)

// State is a journal file's state byte.
type State uint8

// File states.
const (
	// StateOffline: closed cleanly by its writer; it may be opened again
	// and appended to.
	StateOffline State = 0
	// StateOnline: open for writing, or its writer died.
	StateOnline State = 1
	// StateArchived: rotated; it never changes again.
	StateArchived State = 2
)

// String returns "offline", "online", "archived" or "state(N)".
func (s State) String() string {
	switch s {
	case StateOffline:
		return "offline"
	case StateOnline:
		return "online"
	case StateArchived:
		return "archived"
	}
	return fmt.Sprintf("state(%d)", uint8(s))
}

// Sizes and offsets of the structures.
const (
	signature = "LPKSHHRH"
	// headerMinSize is the header up to and including tail_entry_monotonic:
	// the fields every revision of the format has.
	headerMinSize = 208
	// headerMaxRead is the largest header this package knows (systemd 254).
	headerMaxRead = 272

	objectHeaderSize     = 16
	entryObjectSize      = 64 // up to the items
	dataObjectSize       = 64 // up to the payload, regular files
	dataObjectSizeCom    = 72 // up to the payload, compact files
	entryArrayObjectSize = 24 // up to the items
	entryItemSize        = 16 // regular: offset and hash
	entryItemSizeCom     = 4  // compact: 32-bit offset
)

// Limits that keep a corrupt or hostile file from costing unbounded memory
// or time.
const (
	// MaxDataSize is the largest DATA payload read, compressed or not; an
	// entry with a larger field is skipped as corrupt.
	MaxDataSize = 64 << 20
	// MaxEntryItems is the largest number of fields in one entry.
	MaxEntryItems = 1 << 16
	// maxObjectSize bounds any object read whole.
	maxObjectSize = MaxDataSize + dataObjectSizeCom
)

// ID128 is a 128-bit systemd ID: file, machine, boot or seqnum ID.
type ID128 [16]byte

// String returns the ID as 32 lower-case hex digits, as journalctl prints
// it.
func (id ID128) String() string { return hex.EncodeToString(id[:]) }

// IsZero reports whether id is all zeros.
func (id ID128) IsZero() bool { return id == ID128{} }

// ParseID128 parses 32 hex digits, with or without the dashes of the UUID
// form.
func ParseID128(s string) (ID128, error) {
	var id ID128
	if len(s) == 36 && s[8] == '-' && s[13] == '-' && s[18] == '-' && s[23] == '-' {
		s = s[:8] + s[9:13] + s[14:18] + s[19:23] + s[24:]
	}
	if len(s) != 32 {
		return id, fmt.Errorf("id128 %q: want 32 hex digits", s)
	}
	if _, err := hex.Decode(id[:], []byte(s)); err != nil {
		return id, fmt.Errorf("id128 %q: %w", s, err)
	}
	return id, nil
}

// Header is a journal file's header.
type Header struct {
	// CompatibleFlags and IncompatibleFlags are the Compatible* and
	// Incompatible* bits.
	CompatibleFlags   uint32
	IncompatibleFlags uint32
	State             State
	FileID            ID128
	MachineID         ID128
	TailEntryBootID   ID128
	// SeqnumID names the sequence the file's seqnums count in; a file
	// rotated from another keeps its SeqnumID.
	SeqnumID   ID128
	HeaderSize uint64
	ArenaSize  uint64
	// The hash tables' payloads (not used by this package).
	DataHashTableOffset  uint64
	DataHashTableSize    uint64
	FieldHashTableOffset uint64
	FieldHashTableSize   uint64
	TailObjectOffset     uint64
	NObjects             uint64
	NEntries             uint64
	TailEntrySeqnum      uint64
	HeadEntrySeqnum      uint64
	// EntryArrayOffset is the first array of the chain listing every entry.
	EntryArrayOffset   uint64
	HeadEntryRealtime  uint64
	TailEntryRealtime  uint64
	TailEntryMonotonic uint64
	// Counters added in later versions; zero when the header is too short
	// to hold them.
	NData        uint64
	NFields      uint64
	NTags        uint64
	NEntryArrays uint64
	// TailEntryArrayOffset and TailEntryArrayNEntries (systemd 252) locate
	// the last array of the chain.
	TailEntryArrayOffset   uint32
	TailEntryArrayNEntries uint32
	// TailEntryOffset (systemd 254) is the last entry's offset.
	TailEntryOffset uint64
}

// Compact reports whether the file uses the compact layout: 32-bit offsets
// in entry items and entry arrays.
func (h *Header) Compact() bool { return h.IncompatibleFlags&IncompatibleCompact != 0 }

// parseHeader decodes and checks a header from the first bytes of a file.
// b may be longer than the header.
func parseHeader(b []byte) (Header, error) {
	var h Header
	if len(b) < headerMinSize {
		return h, errShortHeader
	}
	if string(b[:8]) != signature {
		if string(b[:8]) == "\x00\x00\x00\x00\x00\x00\x00\x00" {
			return h, errUnwritten
		}
		return h, errSignature
	}
	le := binary.LittleEndian
	h.CompatibleFlags = le.Uint32(b[8:])
	h.IncompatibleFlags = le.Uint32(b[12:])
	h.State = State(b[16])
	copy(h.FileID[:], b[24:40])
	copy(h.MachineID[:], b[40:56])
	copy(h.TailEntryBootID[:], b[56:72])
	copy(h.SeqnumID[:], b[72:88])
	h.HeaderSize = le.Uint64(b[88:])
	h.ArenaSize = le.Uint64(b[96:])
	h.DataHashTableOffset = le.Uint64(b[104:])
	h.DataHashTableSize = le.Uint64(b[112:])
	h.FieldHashTableOffset = le.Uint64(b[120:])
	h.FieldHashTableSize = le.Uint64(b[128:])
	h.TailObjectOffset = le.Uint64(b[136:])
	h.NObjects = le.Uint64(b[144:])
	h.NEntries = le.Uint64(b[152:])
	h.TailEntrySeqnum = le.Uint64(b[160:])
	h.HeadEntrySeqnum = le.Uint64(b[168:])
	h.EntryArrayOffset = le.Uint64(b[176:])
	h.HeadEntryRealtime = le.Uint64(b[184:])
	h.TailEntryRealtime = le.Uint64(b[192:])
	h.TailEntryMonotonic = le.Uint64(b[200:])
	if h.HeaderSize < headerMinSize || h.HeaderSize%8 != 0 || h.HeaderSize > 1<<16 {
		return h, fmt.Errorf("%w: header size %d", ErrCorrupt, h.HeaderSize)
	}
	has := func(end uint64) bool { return h.HeaderSize >= end && uint64(len(b)) >= end }
	if has(224) {
		h.NData = le.Uint64(b[208:])
		h.NFields = le.Uint64(b[216:])
	}
	if has(240) {
		h.NTags = le.Uint64(b[224:])
		h.NEntryArrays = le.Uint64(b[232:])
	}
	if has(264) {
		h.TailEntryArrayOffset = le.Uint32(b[256:])
		h.TailEntryArrayNEntries = le.Uint32(b[260:])
	}
	if has(272) {
		h.TailEntryOffset = le.Uint64(b[264:])
	}
	if unknown := h.IncompatibleFlags &^ incompatibleSupported; unknown != 0 {
		return h, fmt.Errorf("%w: incompatible flags %#x", ErrUnsupported, unknown)
	}
	if h.State > StateArchived {
		return h, fmt.Errorf("%w: state %d", ErrCorrupt, h.State)
	}
	return h, nil
}

// objectHeader is the common head of every object.
type objectHeader struct {
	typ   uint8
	flags uint8
	size  uint64
}

func parseObjectHeader(b []byte) objectHeader {
	return objectHeader{typ: b[0], flags: b[1], size: binary.LittleEndian.Uint64(b[8:])}
}

// minObjectSize is the smallest valid size of an object of type typ in a
// file of the given layout.
func minObjectSize(typ uint8, compact bool) uint64 {
	switch typ {
	case objectData:
		if compact {
			return dataObjectSizeCom
		}
		return dataObjectSize
	case objectField:
		return objectHeaderSize + 24
	case objectEntry:
		return entryObjectSize
	case objectDataHashTable, objectFieldHashTable:
		return objectHeaderSize
	case objectEntryArray:
		return entryArrayObjectSize
	case objectTag:
		return objectHeaderSize + 16 + 32
	}
	return objectHeaderSize
}

func align8(n uint64) uint64 { return (n + 7) &^ 7 }

// Errors. A *CorruptError wraps ErrCorrupt.
var (
	// ErrCorrupt is wrapped by every error about a malformed file.
	ErrCorrupt = errors.New("corrupt journal file")
	// ErrUnsupported: the file uses a feature this package cannot read.
	ErrUnsupported = errors.New("unsupported journal file")
	// ErrNotJournal: the file does not start with the journal signature.
	ErrNotJournal = errors.New("not a journal file")
	// ErrBadCursor is wrapped by ParseCursor's errors.
	ErrBadCursor = errors.New("bad journal cursor")
	// ErrConfig is wrapped by every error Config.Validate returns.
	ErrConfig = errors.New("invalid journal config")

	errShortHeader = fmt.Errorf("%w: header shorter than %d bytes", ErrNotJournal, headerMinSize)
	errSignature   = fmt.Errorf("%w: bad signature", ErrNotJournal)
	errUnwritten   = fmt.Errorf("%w: header not written yet", ErrNotJournal)
	// errIncomplete: an object lies (partly) beyond what is written yet.
	// In a file being written this means "later"; elsewhere, corruption.
	errIncomplete = errors.New("object beyond the end of the written file")
)

// CorruptError describes a malformed part of a file. The File moved past
// it: reading goes on with what follows, when anything can.
type CorruptError struct {
	// Path is the file's path.
	Path string
	// Offset is where the bad object is.
	Offset uint64
	// Reason says what is wrong.
	Reason string
	// Err is the underlying error, if any.
	Err error
}

func (e *CorruptError) Error() string {
	s := fmt.Sprintf("%s: corrupt journal file at offset %d: %s", e.Path, e.Offset, e.Reason)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns ErrCorrupt and the underlying error.
func (e *CorruptError) Unwrap() []error {
	if e.Err != nil {
		return []error{ErrCorrupt, e.Err}
	}
	return []error{ErrCorrupt}
}

// IsJournalFile reports whether the file at path starts with a journal
// file's signature.
func IsJournalFile(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	b := make([]byte, len(signature))
	_, err = io.ReadFull(f, b)
	return err == nil && string(b) == signature
}
