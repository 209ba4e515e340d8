package journal

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"strconv"
	"testing"
)

// exportEntry is one entry of the Journal Export Format, as journalctl -o
// export writes it: the "__" metadata and the fields in order.
type exportEntry struct {
	cursor    string
	realtime  uint64
	monotonic uint64
	bootID    string
	fields    []exportField
}

type exportField struct {
	name  string
	value []byte
}

// parseExport reads the Journal Export Format: "FIELD=value" lines, or for
// binary values "FIELD\n" then a 64-bit little-endian length, the bytes
// and "\n"; a blank line ends an entry.
func parseExport(data []byte) ([]exportEntry, error) {
	r := bufio.NewReader(bytes.NewReader(data))
	var out []exportEntry
	var cur *exportEntry
	for {
		line, err := r.ReadBytes('\n')
		if err == io.EOF && len(line) == 0 {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("export: %w", err)
		}
		line = line[:len(line)-1]
		if len(line) == 0 {
			if cur != nil {
				out = append(out, *cur)
				cur = nil
			}
			continue
		}
		if cur == nil {
			cur = &exportEntry{}
		}
		name, value, ok := bytes.Cut(line, []byte("="))
		if !ok {
			var n [8]byte
			if _, err := io.ReadFull(r, n[:]); err != nil {
				return nil, fmt.Errorf("export: binary field %s: %w", line, err)
			}
			value = make([]byte, binary.LittleEndian.Uint64(n[:])+1)
			if _, err := io.ReadFull(r, value); err != nil {
				return nil, fmt.Errorf("export: binary field %s: %w", line, err)
			}
			value = value[:len(value)-1]
			name = line
		}
		switch string(name) {
		case "__CURSOR":
			cur.cursor = string(value)
		case "__REALTIME_TIMESTAMP":
			cur.realtime, _ = strconv.ParseUint(string(value), 10, 64)
		case "__MONOTONIC_TIMESTAMP":
			cur.monotonic, _ = strconv.ParseUint(string(value), 10, 64)
		case "_BOOT_ID":
			// journalctl prints the entry's boot ID here, and leaves the
			// _BOOT_ID field out of the list.
			cur.bootID = string(value)
		default:
			if bytes.HasPrefix(name, []byte("__")) {
				continue // __SEQNUM and friends, newer journalctl
			}
			cur.fields = append(cur.fields, exportField{string(name), bytes.Clone(value)})
		}
	}
	if cur != nil {
		out = append(out, *cur)
	}
	return out, nil
}

// compareEntry reports how e differs from what journalctl exported.
func compareEntry(t *testing.T, i int, e *Entry, want *exportEntry) {
	t.Helper()
	if got := e.Cursor().String(); got != want.cursor {
		t.Errorf("entry %d: cursor %s; journalctl says %s", i, got, want.cursor)
	}
	if e.Realtime != want.realtime || e.Monotonic != want.monotonic {
		t.Errorf("entry %d: realtime %d monotonic %d; want %d %d", i, e.Realtime, e.Monotonic, want.realtime, want.monotonic)
	}
	if e.BootID.String() != want.bootID {
		t.Errorf("entry %d: boot ID %s; want %s", i, e.BootID, want.bootID)
	}
	var got []exportField
	for j := range e.Len() {
		name, value := e.Field(j)
		if string(name) == "_BOOT_ID" {
			if string(value) != want.bootID {
				t.Errorf("entry %d: _BOOT_ID=%s; the entry's boot ID is %s", i, value, want.bootID)
			}
			continue
		}
		got = append(got, exportField{string(name), value})
	}
	if len(got) != len(want.fields) {
		t.Errorf("entry %d: %d fields; journalctl shows %d", i, len(got), len(want.fields))
	}
	for j := range min(len(got), len(want.fields)) {
		g, w := got[j], want.fields[j]
		if g.name != w.name || !bytes.Equal(g.value, w.value) {
			t.Errorf("entry %d field %d: %s=%.60q; journalctl shows %s=%.60q", i, j, g.name, g.value, w.name, w.value)
		}
	}
}
